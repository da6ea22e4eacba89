/*
 * AWS::EC2::Subnet against moto with signature checking on; every outcome checked with the
 * aws CLI as well as the driver's own read. moto deletes a subnet that still holds network
 * interfaces (AWS refuses with DependencyViolation), so the retry of that error is tested
 * against a scripted EC2 endpoint in this file instead.
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helpers/driver.h"
#include "helpers/moto.h"
#include "provider/provider.h"
#include "util/error.h"
#include "util/sys.h"

static struct test_moto moto;
static char *vpc_id;

static void setup(void)
{
    json_t *out = NULL;

    cr_assert_eq(test_moto_start(&moto, 1), 0);
    cr_assert_eq(test_aws_cli(&out, "ec2 create-vpc --cidr-block 10.40.0.0/16"), 0);
    vpc_id = strdup(json_string_value(json_object_get(json_object_get(out, "Vpc"), "VpcId")));
    json_decref(out);
}

static void teardown(void)
{
    free(vpc_id);
    vpc_id = NULL;
    test_moto_stop(&moto);
}

TestSuite(driver_ec2_subnet, .init = setup, .fini = teardown, .timeout = 120);

static const struct plumb_resource_type *driver(void)
{
    const struct plumb_resource_type *t = plumb_provider_find("AWS::EC2::Subnet");
    cr_assert_not_null(t);
    return t;
}

/* The subnet as the aws CLI sees it, or NULL. */
static json_t *cli_subnet(const char *subnet_id)
{
    json_t *out = NULL, *found;

    cr_assert_eq(
        test_aws_cli(&out, "ec2 describe-subnets --filters Name=subnet-id,Values=%s", subnet_id),
        0);
    found = json_incref(json_array_get(json_object_get(out, "Subnets"), 0));
    json_decref(out);
    return found;
}

static const char *tag_of(const json_t *item, const char *key)
{
    const json_t *t;
    size_t i;

    json_array_foreach(json_object_get(item, "Tags"), i, t)
    {
        if (strcmp(json_string_value(json_object_get(t, "Key")), key) == 0)
            return json_string_value(json_object_get(t, "Value"));
    }
    return NULL;
}

static char *cli_create_subnet(const char *cidr)
{
    json_t *out = NULL;
    char *id;

    cr_assert_eq(test_aws_cli(&out, "ec2 create-subnet --vpc-id %s --cidr-block %s", vpc_id, cidr),
                 0);
    id = strdup(json_string_value(json_object_get(json_object_get(out, "Subnet"), "SubnetId")));
    json_decref(out);
    return id;
}

Test(driver_ec2_subnet, lifecycle)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *after, *observed = NULL, *again = NULL, *id, *s;
    char *subnet_id;

    props = json_pack("{s:s, s:s, s:s, s:b, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}",
                      "VpcId", vpc_id, "CidrBlock", "10.40.1.0/24", "AvailabilityZone",
                      "us-east-1a", "MapPublicIpOnLaunch", 1, "Tags", "Key", "plumb:address",
                      "Value", "public_a", "Key", "plumb:env", "Value", "stage", "Key",
                      "plumb:project", "Value", "shop", "Key", "tier", "Value", "public");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    test_expect_props(props, observed);
    cr_assert(json_is_string(json_object_get(observed, "SubnetId")));
    subnet_id = strdup(json_string_value(json_object_get(observed, "SubnetId")));
    cr_expect(json_is_string(json_object_get(observed, "AvailabilityZoneId")));

    s = cli_subnet(subnet_id);
    cr_assert_not_null(s, "the aws CLI sees the subnet");
    cr_expect_str_eq(json_string_value(json_object_get(s, "VpcId")), vpc_id);
    cr_expect_str_eq(json_string_value(json_object_get(s, "CidrBlock")), "10.40.1.0/24");
    cr_expect_str_eq(json_string_value(json_object_get(s, "AvailabilityZone")), "us-east-1a");
    cr_expect(json_is_true(json_object_get(s, "MapPublicIpOnLaunch")));
    cr_expect_str_eq(tag_of(s, "plumb:address"), "public_a");
    cr_expect_str_eq(tag_of(s, "tier"), "public");
    json_decref(s);

    id = json_pack("{s:s}", "SubnetId", subnet_id);
    cr_assert_eq(t->read(aws, id, &again), 0);
    test_expect_props(props, again);
    json_decref(again);

    /* update: public addresses off, tags by difference */
    after = json_pack("{s:s, s:s, s:s, s:b, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}",
                      "VpcId", vpc_id, "CidrBlock", "10.40.1.0/24", "AvailabilityZone",
                      "us-east-1a", "MapPublicIpOnLaunch", 0, "Tags", "Key", "plumb:address",
                      "Value", "public_a", "Key", "plumb:env", "Value", "stage", "Key",
                      "plumb:project", "Value", "shop", "Key", "tier", "Value", "private");
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, props, after, &observed), 0, "%s", plumb_error_message());
    test_expect_props(after, observed);
    s = cli_subnet(subnet_id);
    cr_expect(json_is_false(json_object_get(s, "MapPublicIpOnLaunch")));
    cr_expect_str_eq(tag_of(s, "tier"), "private");
    json_decref(s);

    /* drift: public addresses turned on outside plumb are turned off again, though before
     * and after agree (the executor passes what was last applied as before) */
    {
        json_t *out = NULL;
        cr_assert_eq(test_aws_cli(&out,
                                  "ec2 modify-subnet-attribute --subnet-id %s "
                                  "--map-public-ip-on-launch",
                                  subnet_id),
                     0);
        json_decref(out);
        s = cli_subnet(subnet_id);
        cr_assert(json_is_true(json_object_get(s, "MapPublicIpOnLaunch")));
        json_decref(s);
        json_decref(observed);
        cr_assert_eq(t->update(aws, id, after, after, &observed), 0, "%s", plumb_error_message());
        s = cli_subnet(subnet_id);
        cr_expect(json_is_false(json_object_get(s, "MapPublicIpOnLaunch")), "drift repaired");
        json_decref(s);
    }

    /* lookup: by plumb tags, VPC and block; another block is another subnet */
    {
        json_t *found = NULL, *other = json_deep_copy(after);
        cr_assert_eq(t->lookup(aws, after, &found), 0, "%s", plumb_error_message());
        cr_expect(json_equal(found, id));
        json_decref(found);
        found = NULL;
        json_object_set_new(other, "CidrBlock", json_string("10.40.9.0/24"));
        cr_assert_eq(t->lookup(aws, other, &found), 0);
        cr_expect_null(found, "a replacement's predecessor is not adopted");
        json_decref(other);
    }

    /* remove, then gone for the driver and the CLI; removing again is fine */
    cr_assert_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    again = NULL;
    cr_assert_eq(t->read(aws, id, &again), 0);
    cr_expect_null(again);
    cr_expect_null(cli_subnet(subnet_id));
    cr_expect_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());

    json_decref(props);
    json_decref(after);
    json_decref(observed);
    json_decref(id);
    free(subnet_id);
    plumb_aws_free(aws);
}

Test(driver_ec2_subnet, read_many_in_one_call)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    char *a = cli_create_subnet("10.40.11.0/24"), *b = cli_create_subnet("10.40.12.0/24");
    char *c = cli_create_subnet("10.40.13.0/24");
    json_t *ids, *observed = NULL;
    unsigned long before;

    ids = json_pack("[{s:s}, {s:s}, {s:s}, {s:s}]", "SubnetId", a, "SubnetId",
                    "subnet-0123456789abcdef0", "SubnetId", b, "SubnetId", c);
    before = plumb_aws_stats_calls(aws, "ec2");
    cr_assert_eq(t->read_many(aws, ids, NULL, &observed), 0, "%s", plumb_error_message());
    cr_assert_eq(json_array_size(observed), 4);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(observed, 0), "SubnetId")),
                     a);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(observed, 0), "CidrBlock")),
                     "10.40.11.0/24");
    cr_expect(json_is_false(json_object_get(json_array_get(observed, 0), "MapPublicIpOnLaunch")));
    cr_expect(json_is_null(json_array_get(observed, 1)), "a missing subnet reads as null");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(observed, 2), "SubnetId")),
                     b);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(observed, 3), "SubnetId")),
                     c);
    cr_expect_eq(plumb_aws_stats_calls(aws, "ec2") - before, 1, "one DescribeSubnets for all");
    json_decref(ids);
    json_decref(observed);
    free(a);
    free(b);
    free(c);
    plumb_aws_free(aws);
}

Test(driver_ec2_subnet, aws_errors_keep_their_code)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    char *taken = cli_create_subnet("10.40.20.0/24");
    json_t *props, *observed = NULL;

    props = json_pack("{s:s, s:s}", "VpcId", vpc_id, "CidrBlock", "10.40.20.0/24");
    cr_expect_eq(t->create(aws, props, &observed), PLUMB_ECONFLICT);
    cr_expect(strstr(plumb_error_message(), "InvalidSubnet.Conflict") != NULL, "%s",
              plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "request id") != NULL, "%s", plumb_error_message());
    cr_expect_null(observed);
    json_decref(props);
    free(taken);
    plumb_aws_free(aws);
}

/*
 * A scripted EC2 endpoint: answers each request with the next of `answers` (the last one
 * repeats), a DependencyViolation error or DeleteSubnet's success, and counts the requests.
 */
struct fake_ec2 {
    int fd, port, requests;
    const char *const *answers;
    size_t nanswers;
    char last_body[2048];
    pthread_t thread;
};

static const char violation[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error>"
    "<Code>DependencyViolation</Code><Message>The subnet 'subnet-1' has dependencies and "
    "cannot be deleted.</Message></Error></Errors><RequestID>req-dv</RequestID></Response>";
static const char deleted[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DeleteSubnetResponse "
    "xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>req-ok</requestId>"
    "<return>true</return></DeleteSubnetResponse>";

static void *fake_serve(void *arg)
{
    struct fake_ec2 *f = arg;
    char buf[8192], head[256];
    int c;

    while ((c = accept(f->fd, NULL, NULL)) >= 0) {
        size_t n = 0, want = 0;
        ssize_t r;
        char *end = NULL, *cl;
        const char *answer;
        int ok;

        while (n < sizeof(buf) - 1 && (r = read(c, buf + n, sizeof(buf) - 1 - n)) > 0) {
            n += (size_t)r;
            buf[n] = 0;
            if (!end && (end = strstr(buf, "\r\n\r\n"))) {
                cl = strcasestr(buf, "content-length:");
                want = (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
                if (strcasestr(buf, "expect: 100-continue") &&
                    write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0)
                    break;
            }
            if (end && n >= want)
                break;
        }
        if (end)
            snprintf(f->last_body, sizeof(f->last_body), "%s", end + 4);
        answer =
            f->answers[(size_t)f->requests < f->nanswers ? (size_t)f->requests : f->nanswers - 1];
        f->requests++;
        ok = strcmp(answer, "ok") == 0;
        snprintf(head, sizeof(head),
                 "HTTP/1.1 %s\r\nContent-Type: text/xml\r\nContent-Length: %zu\r\n"
                 "Connection: close\r\n\r\n",
                 ok ? "200 OK" : "400 Bad Request", ok ? strlen(deleted) : strlen(violation));
        if (write(c, head, strlen(head)) < 0 ||
            write(c, ok ? deleted : violation, ok ? strlen(deleted) : strlen(violation)) < 0)
            fprintf(stderr, "fake ec2: write failed\n");
        close(c);
    }
    return NULL;
}

static void fake_start(struct fake_ec2 *f, const char *const *answers, size_t n)
{
    struct sockaddr_in a = {0};
    socklen_t len = sizeof(a);
    char url[64];

    memset(f, 0, sizeof(*f));
    f->answers = answers;
    f->nanswers = n;
    f->fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(f->fd >= 0);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(f->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(listen(f->fd, 8), 0);
    cr_assert_eq(getsockname(f->fd, (struct sockaddr *)&a, &len), 0);
    f->port = ntohs(a.sin_port);
    cr_assert_eq(pthread_create(&f->thread, NULL, fake_serve, f), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", f->port);
    setenv("AWS_ENDPOINT_URL_EC2", url, 1);
}

static void fake_stop(struct fake_ec2 *f)
{
    unsetenv("AWS_ENDPOINT_URL_EC2");
    shutdown(f->fd, SHUT_RDWR);
    close(f->fd);
    pthread_join(f->thread, NULL);
}

static int slept;
static void count_sleep(long ms)
{
    (void)ms;
    slept++;
}

Test(driver_ec2_subnet, remove_waits_out_lingering_interfaces)
{
    static const char *const answers[] = {"violation", "violation", "ok"};
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws;
    struct fake_ec2 f;
    json_t *id = json_pack("{s:s}", "SubnetId", "subnet-1");

    fake_start(&f, answers, 3);
    aws = test_moto_client();
    slept = 0;
    plumb_sleep_set(count_sleep);
    cr_expect_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    plumb_sleep_set(NULL);
    cr_expect_eq(f.requests, 3, "DeleteSubnet again after each DependencyViolation");
    cr_expect_eq(slept, 2, "a pause before each retry");
    cr_expect(strstr(f.last_body, "Action=DeleteSubnet") != NULL, "%s", f.last_body);
    cr_expect(strstr(f.last_body, "SubnetId=subnet-1") != NULL, "%s", f.last_body);
    plumb_aws_free(aws);
    fake_stop(&f);
    json_decref(id);
}

Test(driver_ec2_subnet, remove_gives_up_on_a_lasting_dependency)
{
    static const char *const answers[] = {"violation"};
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws;
    struct fake_ec2 f;
    json_t *id = json_pack("{s:s}", "SubnetId", "subnet-1");

    fake_start(&f, answers, 1);
    aws = test_moto_client();
    plumb_sleep_set(count_sleep);
    cr_expect_eq(t->remove(aws, id, 0), PLUMB_ECONFLICT);
    plumb_sleep_set(NULL);
    cr_expect(strstr(plumb_error_message(), "DependencyViolation") != NULL, "%s",
              plumb_error_message());
    cr_expect(f.requests > 3 && f.requests <= 20, "bounded retries, %d requests", f.requests);
    plumb_aws_free(aws);
    fake_stop(&f);
    json_decref(id);
}
