/*
 * AWS::ECS::Service against moto with signature checking on; every outcome checked with the
 * aws CLI as well as the driver's own read. Each test makes its cluster, task definitions,
 * VPC, subnets, security group and target group with boto3 first.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "helpers/driver.h"
#include "helpers/moto.h"
#include "provider/provider.h"
#include "util/buf.h"
#include "util/error.h"

static struct test_moto moto;
/* what setup made: {"subnets": [a, b], "sg": id, "td1": arn, "td2": arn, "tg": arn} */
static json_t *world;

static void setup(void)
{
    cr_assert_eq(test_moto_start(&moto, 1), 0);
    cr_assert_eq(
        test_boto3(
            &world,
            "e, ec2, elb = c('ecs'), c('ec2'), c('elbv2')\n"
            "e.create_cluster(clusterName='web-cluster')\n"
            "vpc = ec2.create_vpc(CidrBlock='10.0.0.0/16')['Vpc']['VpcId']\n"
            "sn = [ec2.create_subnet(VpcId=vpc, CidrBlock=cidr)['Subnet']['SubnetId'] "
            "for cidr in ('10.0.1.0/24', '10.0.2.0/24')]\n"
            "sg = ec2.create_security_group(VpcId=vpc, GroupName='web', "
            "Description='web')['GroupId']\n"
            "tg = elb.create_target_group(Name='web', Protocol='HTTP', Port=8000, VpcId=vpc, "
            "TargetType='ip')['TargetGroups'][0]['TargetGroupArn']\n"
            "td = [e.register_task_definition(family='web', networkMode='awsvpc', "
            "requiresCompatibilities=['FARGATE'], cpu='256', memory='512', "
            "containerDefinitions=[{'name': 'app', 'image': img, "
            "'portMappings': [{'containerPort': 8000}]}])['taskDefinition']"
            "['taskDefinitionArn'] for img in ('web:1', 'web:2')]\n"
            "print(json.dumps({'subnets': sn, 'sg': sg, 'tg': tg, 'td1': td[0], "
            "'td2': td[1]}))\n"),
        0);
    cr_assert_not_null(world);
}

static void teardown(void)
{
    json_decref(world);
    world = NULL;
    test_moto_stop(&moto);
}

TestSuite(driver_ecs_service, .init = setup, .fini = teardown, .timeout = 180);

static const struct plumb_resource_type *driver(void)
{
    const struct plumb_resource_type *t = plumb_provider_find("AWS::ECS::Service");
    cr_assert_not_null(t);
    return t;
}

static const char *w(const char *key)
{
    return json_string_value(json_object_get(world, key));
}

static const char *subnet(size_t i)
{
    return json_string_value(json_array_get(json_object_get(world, "subnets"), i));
}

/* The service as the aws CLI sees it (tags included), or NULL when missing. */
static json_t *cli_service(const char *cluster, const char *service)
{
    json_t *out = NULL, *s;

    cr_assert_eq(test_aws_cli(&out,
                              "ecs describe-services --cluster '%s' --services '%s' "
                              "--include TAGS",
                              cluster, service),
                 0);
    s = json_incref(json_array_get(json_object_get(out, "services"), 0));
    json_decref(out);
    return s;
}

/* The value of tag `key` of a DescribeServices entry, or NULL. */
static const char *tag(const json_t *s, const char *key)
{
    const json_t *t;
    size_t i;

    json_array_foreach(json_object_get(s, "tags"), i, t)
    {
        if (strcmp(json_string_value(json_object_get(t, "key")), key) == 0)
            return json_string_value(json_object_get(t, "value"));
    }
    return NULL;
}

/* Runs boto3 code (printf-style) that prints JSON; returns it. */
static json_t *boto3(const char *fmt, ...)
{
    struct plumb_buf code = PLUMB_BUF_INIT;
    json_t *out = NULL;
    va_list ap;

    va_start(ap, fmt);
    plumb_buf_vprintf(&code, fmt, ap);
    va_end(ap);
    cr_assert_eq(test_boto3(&out, code.ptr), 0, "boto3 failed:\n%s", code.ptr);
    plumb_buf_release(&code);
    cr_assert_not_null(out);
    return out;
}

Test(driver_ecs_service, lifecycle)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *after, *after2, *observed = NULL, *again = NULL, *id, *s, *found = NULL, *x;
    json_t *expected;
    struct plumb_progress p = {NULL, NULL, 30, 50};

    props = json_pack(
        "{s:s, s:s, s:s, s:i, s:s, s:{s:{s:[s], s:[s], s:s}}, s:{s:i, s:i, s:{s:b, s:b}}, "
        "s:{s:s}, s:b, s:s, s:b, s:s, s:[{s:s, s:s}, {s:s, s:s}]}",
        "ServiceName", "stage-backend", "Cluster", "web-cluster", "TaskDefinition", w("td1"),
        "DesiredCount", 1, "LaunchType", "FARGATE", "NetworkConfiguration", "AwsvpcConfiguration",
        "Subnets", subnet(0), "SecurityGroups", w("sg"), "AssignPublicIp", "DISABLED",
        "DeploymentConfiguration", "MaximumPercent", 200, "MinimumHealthyPercent", 50,
        "DeploymentCircuitBreaker", "Enable", 1, "Rollback", 1, "DeploymentController", "Type",
        "ECS", "EnableExecuteCommand", 1, "PropagateTags", "SERVICE", "EnableECSManagedTags", 1,
        "PlatformVersion", "1.4.0", "Tags", "Key", "plumb:env", "Value", "stage", "Key", "team",
        "Value", "shop");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    /* moto 5.2.1 does not keep DeploymentConfiguration, EnableExecuteCommand or
     * EnableECSManagedTags at creation (only after UpdateService): the driver leaves out what
     * the API does not return; where it is returned it must be what was declared */
    expected = json_deep_copy(props);
    json_object_del(expected, "DeploymentConfiguration");
    json_object_del(expected, "EnableExecuteCommand");
    json_object_del(expected, "EnableECSManagedTags");
    test_expect_props(expected, observed);
    if ((x = json_object_get(observed, "DeploymentConfiguration")))
        cr_expect(json_equal(x, json_object_get(props, "DeploymentConfiguration")));
    if ((x = json_object_get(observed, "EnableExecuteCommand")))
        cr_expect(json_is_true(x));
    json_decref(expected);
    cr_expect_str_eq(json_string_value(json_object_get(observed, "Name")), "stage-backend");
    cr_expect_str_eq(json_string_value(json_object_get(observed, "ServiceArn")),
                     "arn:aws:ecs:us-east-1:123456789012:service/web-cluster/stage-backend");
    id = json_pack("{s:O, s:s}", "ServiceArn", json_object_get(observed, "ServiceArn"), "Cluster",
                   "web-cluster");
    cr_expect_eq(t->wait_stable(aws, id, &p), 0, "%s", plumb_error_message());

    s = cli_service("web-cluster", "stage-backend");
    cr_assert_not_null(s, "the aws CLI sees the service");
    cr_expect_str_eq(json_string_value(json_object_get(s, "status")), "ACTIVE");
    cr_expect_str_eq(json_string_value(json_object_get(s, "taskDefinition")), w("td1"));
    cr_expect_eq(json_integer_value(json_object_get(s, "desiredCount")), 1);
    cr_expect_str_eq(json_string_value(json_object_get(s, "launchType")), "FARGATE");
    cr_expect_str_eq(json_string_value(json_object_get(s, "platformVersion")), "1.4.0");
    cr_expect_str_eq(json_string_value(json_object_get(s, "propagateTags")), "SERVICE");
    cr_expect_str_eq(tag(s, "team"), "shop");
    json_decref(s);

    again = NULL;
    cr_assert_eq(t->read(aws, id, &again), 0);
    cr_expect(json_equal(again, observed), "read gives what create returned");
    json_decref(again);

    /* update: every property UpdateService takes, and tags */
    after = json_deep_copy(props);
    json_object_set_new(after, "TaskDefinition", json_string(w("td2")));
    json_object_set_new(after, "DesiredCount", json_integer(3));
    json_object_set_new(after, "NetworkConfiguration",
                        json_pack("{s:{s:[s, s], s:[s], s:s}}", "AwsvpcConfiguration", "Subnets",
                                  subnet(0), subnet(1), "SecurityGroups", w("sg"), "AssignPublicIp",
                                  "ENABLED"));
    json_object_set_new(after, "DeploymentConfiguration",
                        json_pack("{s:i, s:i, s:{s:b, s:b}}", "MaximumPercent", 150,
                                  "MinimumHealthyPercent", 100, "DeploymentCircuitBreaker",
                                  "Enable", 1, "Rollback", 0));
    json_object_set_new(after, "LoadBalancers",
                        json_pack("[{s:s, s:s, s:i}]", "TargetGroupArn", w("tg"), "ContainerName",
                                  "app", "ContainerPort", 8000));
    json_object_set_new(after, "HealthCheckGracePeriodSeconds", json_integer(60));
    json_object_set_new(after, "EnableExecuteCommand", json_false());
    json_object_set_new(after, "EnableECSManagedTags", json_false());
    json_object_set_new(after, "PropagateTags", json_string("TASK_DEFINITION"));
    json_object_set_new(after, "PlatformVersion", json_string("LATEST"));
    json_object_set_new(after, "Tags", json_pack("[{s:s, s:s}]", "Key", "team", "Value", "ops"));
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, props, after, &observed), 0, "%s", plumb_error_message());
    test_expect_props(after, observed);
    cr_expect_eq(t->wait_stable(aws, id, &p), 0, "%s", plumb_error_message());
    s = cli_service("web-cluster", "stage-backend");
    cr_expect_str_eq(json_string_value(json_object_get(s, "taskDefinition")), w("td2"));
    cr_expect_eq(json_integer_value(json_object_get(s, "desiredCount")), 3);
    cr_expect_eq(json_integer_value(json_object_get(s, "runningCount")), 3);
    cr_expect_eq(
        json_array_size(json_object_get(
            json_object_get(json_object_get(s, "networkConfiguration"), "awsvpcConfiguration"),
            "subnets")),
        2);
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(s, "deploymentConfiguration"),
                                                    "maximumPercent")),
                 150);
    cr_expect_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(s, "loadBalancers"), 0), "targetGroupArn")),
                     w("tg"));
    cr_expect_eq(json_integer_value(json_object_get(s, "healthCheckGracePeriodSeconds")), 60);
    cr_expect(json_is_false(json_object_get(s, "enableExecuteCommand")));
    cr_expect_str_eq(json_string_value(json_object_get(s, "propagateTags")), "TASK_DEFINITION");
    cr_expect_str_eq(json_string_value(json_object_get(s, "platformVersion")), "LATEST");
    cr_expect_str_eq(tag(s, "team"), "ops");
    cr_expect_null(tag(s, "plumb:env"), "the removed tag is gone");
    json_decref(s);

    /* no longer declared: back to ECS's defaults where there is one */
    after2 = json_deep_copy(after);
    json_object_del(after2, "DeploymentConfiguration");
    json_object_del(after2, "LoadBalancers");
    json_object_del(after2, "PropagateTags");
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, after, after2, &observed), 0, "%s", plumb_error_message());
    s = cli_service("web-cluster", "stage-backend");
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(s, "deploymentConfiguration"),
                                                    "maximumPercent")),
                 200);
    cr_expect_eq(json_array_size(json_object_get(s, "loadBalancers")), 0);
    cr_expect_str_eq(json_string_value(json_object_get(s, "propagateTags")), "NONE");
    json_decref(s);

    /* the launch type cannot change in place: refused before any call */
    {
        json_t *ec2 = json_deep_copy(after2), *o = NULL;
        unsigned long calls = plumb_aws_stats_calls(aws, "ecs");
        json_object_set_new(ec2, "LaunchType", json_string("EC2"));
        cr_expect_eq(t->update(aws, id, after2, ec2, &o), PLUMB_EINVALID);
        cr_expect(strstr(plumb_error_message(), "launch type") != NULL, "%s",
                  plumb_error_message());
        cr_expect_eq(plumb_aws_stats_calls(aws, "ecs"), calls);
        json_decref(ec2);
    }

    /* lookup finds it by name in its cluster (moto would replace it on a second create) */
    cr_assert_eq(t->lookup(aws, after2, &found), 0, "%s", plumb_error_message());
    cr_expect(json_equal(found, id));
    json_decref(found);

    /* remove: scaled to 0, deleted; gone for the driver and the CLI; removing again is fine */
    cr_assert_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    cr_expect_eq(t->wait_deleted(aws, id, &p), 0, "%s", plumb_error_message());
    s = cli_service("web-cluster", "stage-backend");
    cr_expect(!s || strcmp(json_string_value(json_object_get(s, "status")), "INACTIVE") == 0,
              "the CLI sees it deleted");
    if (s)
        cr_expect_eq(json_integer_value(json_object_get(s, "desiredCount")), 0,
                     "scaled to zero first");
    json_decref(s);
    again = NULL;
    cr_assert_eq(t->read(aws, id, &again), 0);
    cr_expect_null(again);
    cr_expect_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    cr_assert_eq(t->lookup(aws, after2, &found), 0);
    cr_expect_null(found, "a deleted service is not adopted");

    json_decref(props);
    json_decref(after);
    json_decref(after2);
    json_decref(observed);
    json_decref(id);
    plumb_aws_free(aws);
}

Test(driver_ecs_service, read_many_groups_by_cluster_in_tens)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *arns, *ids, *observed = NULL;
    unsigned long before;
    size_t i;

    /* 12 services in web-cluster (one of them deleted), 1 in other */
    arns = boto3("e = c('ecs')\n"
                 "e.create_cluster(clusterName='other')\n"
                 "a = [e.create_service(cluster='web-cluster', serviceName='s%%d' %% i, "
                 "taskDefinition='%s', desiredCount=0)['service']['serviceArn'] "
                 "for i in range(12)]\n"
                 "b = e.create_service(cluster='other', serviceName='b', taskDefinition='%s', "
                 "desiredCount=0)['service']['serviceArn']\n"
                 "e.delete_service(cluster='web-cluster', service='s5')\n"
                 "print(json.dumps(a + [b]))\n",
                 w("td1"), w("td1"));
    ids = json_array();
    for (i = 0; i < 12; i++)
        json_array_append_new(ids, json_pack("{s:O, s:s}", "ServiceArn", json_array_get(arns, i),
                                             "Cluster", "web-cluster"));
    json_array_append_new(
        ids, json_pack("{s:O, s:s}", "ServiceArn", json_array_get(arns, 12), "Cluster", "other"));
    json_array_append_new(ids, json_pack("{s:s, s:s}", "ServiceArn",
                                         "arn:aws:ecs:us-east-1:123456789012:service/web-cluster/"
                                         "missing",
                                         "Cluster", "web-cluster"));
    json_array_append_new(ids, json_pack("{s:s, s:s}", "ServiceArn",
                                         "arn:aws:ecs:us-east-1:123456789012:service/nowhere/x",
                                         "Cluster", "nowhere"));
    before = plumb_aws_stats_calls(aws, "ecs");
    cr_assert_eq(t->read_many(aws, ids, NULL, &observed), 0, "%s", plumb_error_message());
    /* web-cluster: 13 ids in 2 calls; other: 1; nowhere: 1 — 4 calls for 15 services */
    cr_expect_eq(plumb_aws_stats_calls(aws, "ecs") - before, 4);
    cr_assert_eq(json_array_size(observed), 15);
    for (i = 0; i < 12; i++) {
        char name[8];
        snprintf(name, sizeof(name), "s%zu", i);
        if (i == 5) {
            cr_expect(json_is_null(json_array_get(observed, i)), "a deleted service is null");
            continue;
        }
        cr_expect_str_eq(
            json_string_value(json_object_get(json_array_get(observed, i), "ServiceName")), name);
        cr_expect_str_eq(json_string_value(json_object_get(json_array_get(observed, i), "Cluster")),
                         "web-cluster");
    }
    cr_expect_str_eq(
        json_string_value(json_object_get(json_array_get(observed, 12), "ServiceName")), "b");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(observed, 12), "Cluster")),
                     "other");
    cr_expect(json_is_null(json_array_get(observed, 13)), "a missing service is null");
    cr_expect(json_is_null(json_array_get(observed, 14)), "a missing cluster's service is null");
    json_decref(arns);
    json_decref(ids);
    json_decref(observed);
    plumb_aws_free(aws);
}

Test(driver_ecs_service, wait_stable_needs_every_task_running)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL, *id, *out = NULL;
    struct plumb_progress p = {NULL, NULL, 1, 50};

    /* moto reports MOTO_ECS_SERVICE_RUNNING=1 task running at creation: 1 of 2 is not steady */
    props = json_pack("{s:s, s:s, s:s, s:i, s:s}", "ServiceName", "two", "Cluster", "web-cluster",
                      "TaskDefinition", w("td1"), "DesiredCount", 2, "LaunchType", "EC2");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    id = json_pack("{s:O, s:O}", "ServiceArn", json_object_get(observed, "ServiceArn"), "Cluster",
                   json_object_get(observed, "Cluster"));
    cr_expect_eq(t->wait_stable(aws, id, &p), PLUMB_ERROR);
    cr_expect(strstr(plumb_error_message(), "timed out") != NULL, "%s", plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "1/2 tasks running") != NULL, "%s",
              plumb_error_message());

    /* once the CLI sets the count (moto runs them at once), it is steady */
    cr_assert_eq(test_aws_cli(&out, "ecs update-service --cluster web-cluster --service two "
                                    "--desired-count 2"),
                 0);
    json_decref(out);
    p.timeout_seconds = 30;
    cr_expect_eq(t->wait_stable(aws, id, &p), 0, "%s", plumb_error_message());

    /* a deleted service never gets steady: an error at once, not a timeout */
    cr_assert_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    cr_expect_eq(t->wait_stable(aws, id, &p), PLUMB_ENOTFOUND);
    json_decref(props);
    json_decref(observed);
    json_decref(id);
    plumb_aws_free(aws);
}

Test(driver_ecs_service, aws_errors_keep_their_code)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL, *found = NULL;

    props = json_pack("{s:s, s:s, s:s, s:i}", "ServiceName", "lost", "Cluster", "no-such-cluster",
                      "TaskDefinition", w("td1"), "DesiredCount", 1);
    /* no cluster: nothing to adopt, and creating names AWS's error */
    cr_assert_eq(t->lookup(aws, props, &found), 0, "%s", plumb_error_message());
    cr_expect_null(found);
    cr_expect_eq(t->create(aws, props, &observed), PLUMB_ENOTFOUND);
    cr_expect(strstr(plumb_error_message(), "ClusterNotFoundException") != NULL, "%s",
              plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "request id") != NULL, "%s", plumb_error_message());
    cr_expect_null(observed);
    json_decref(props);
    plumb_aws_free(aws);
}

Test(driver_ecs_service, desired_count_defaults_to_one)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL, *s;

    /* CloudFormation starts a replica service with one task when DesiredCount is left out */
    props = json_pack("{s:s, s:s, s:s}", "ServiceName", "one", "Cluster", "web-cluster",
                      "TaskDefinition", w("td1"));
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    cr_expect_eq(json_integer_value(json_object_get(observed, "DesiredCount")), 1);
    s = cli_service("web-cluster", "one");
    cr_expect_eq(json_integer_value(json_object_get(s, "desiredCount")), 1);
    json_decref(s);
    json_decref(props);
    json_decref(observed);
    plumb_aws_free(aws);
}
