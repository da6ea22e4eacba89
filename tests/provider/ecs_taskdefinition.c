/*
 * AWS::ECS::TaskDefinition against moto with signature checking on; every outcome checked
 * with the aws CLI as well as the driver's own read.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "helpers/driver.h"
#include "helpers/moto.h"
#include "provider/provider.h"
#include "util/error.h"

static struct test_moto moto;

static void setup(void)
{
    cr_assert_eq(test_moto_start(&moto, 1), 0);
}

static void teardown(void)
{
    test_moto_stop(&moto);
}

TestSuite(driver_ecs_taskdefinition, .init = setup, .fini = teardown, .timeout = 120);

static const struct plumb_resource_type *driver(void)
{
    const struct plumb_resource_type *t = plumb_provider_find("AWS::ECS::TaskDefinition");
    cr_assert_not_null(t);
    return t;
}

/* The revision as the aws CLI sees it, {"taskDefinition": ..., "tags": [...]}, or NULL when
 * ECS does not know it. */
static json_t *cli_taskdef(const char *which)
{
    json_t *out = NULL;

    test_aws_cli(&out, "ecs describe-task-definition --task-definition '%s' --include TAGS", which);
    return out;
}

/* The value of tag `key` of a DescribeTaskDefinition answer, or NULL. */
static const char *tag(const json_t *d, const char *key)
{
    const json_t *t;
    size_t i;

    json_array_foreach(json_object_get(d, "tags"), i, t)
    {
        if (strcmp(json_string_value(json_object_get(t, "key")), key) == 0)
            return json_string_value(json_object_get(t, "value"));
    }
    return NULL;
}

/* The CloudShop backend: Fargate, awsvpc, logs, secrets, a health check and an EFS volume. */
static json_t *backend(const char *family, const char *image, const char *address)
{
    return json_pack(
        "{s:s, s:s, s:[s], s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:{s:i}, "
        "s:[{s:s, s:s, s:b, s:[{s:i, s:s}], s:[{s:s, s:s}, {s:s, s:s}], s:[{s:s, s:s}], "
        "s:{s:s, s:{s:s, s:s, s:s}}, s:{s:[s, s], s:i, s:i, s:i, s:i}, s:{s:s}, "
        "s:[{s:s, s:s}]}], "
        "s:[{s:s, s:{s:s, s:s, s:{s:s}}}], s:[{s:s, s:s}, {s:s, s:s}]}",
        "Family", family, "NetworkMode", "awsvpc", "RequiresCompatibilities", "FARGATE", "Cpu",
        "256", "Memory", "512", "ExecutionRoleArn",
        "arn:aws:iam::123456789012:role/ecsTaskExecutionRole", "TaskRoleArn",
        "arn:aws:iam::123456789012:role/backend", "RuntimePlatform", "CpuArchitecture", "X86_64",
        "OperatingSystemFamily", "LINUX", "EphemeralStorage", "SizeInGiB", 30,
        "ContainerDefinitions", "Name", "app", "Image", image, "Essential", 1, "PortMappings",
        "ContainerPort", 8000, "Protocol", "tcp", "Environment", "Name", "ENV", "Value", "stage",
        "Name", "PORT", "Value", "8000", "Secrets", "Name", "DB_PASSWORD", "ValueFrom",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:db", "LogConfiguration", "LogDriver",
        "awslogs", "Options", "awslogs-group", "/ecs/stage/backend", "awslogs-region", "us-east-1",
        "awslogs-stream-prefix", "app", "HealthCheck", "Command", "CMD-SHELL",
        "curl -f http://localhost:8000/health || exit 1", "Interval", 30, "Timeout", 5, "Retries",
        3, "StartPeriod", 10, "DockerLabels", "team", "shop", "MountPoints", "SourceVolume", "data",
        "ContainerPath", "/data", "Volumes", "Name", "data", "EFSVolumeConfiguration",
        "FilesystemId", "fs-12345678", "TransitEncryption", "ENABLED", "AuthorizationConfig", "IAM",
        "ENABLED", "Tags", "Key", "plumb:address", "Value", address, "Key", "team", "Value",
        "shop");
}

Test(driver_ecs_taskdefinition, lifecycle)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *after, *observed = NULL, *again = NULL, *id, *d, *found = NULL, *other;
    json_t *expected, *ec, *epm;
    const char *arn;

    props = backend("stage-backend", "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1", "task");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    /* read reports the declaration plus what ECS fills in: a container's Cpu 0 and empty
     * VolumesFrom, an EFS volume's RootDirectory "/", and in awsvpc mode HostPort =
     * ContainerPort — the last one whether or not the API echoes it (moto 5.2.1 does not;
     * AWS does) */
    expected = json_deep_copy(props);
    ec = json_array_get(json_object_get(expected, "ContainerDefinitions"), 0);
    json_object_set_new(ec, "Cpu", json_integer(0));
    json_object_set_new(ec, "VolumesFrom", json_array());
    epm = json_array_get(json_object_get(ec, "PortMappings"), 0);
    json_object_set_new(epm, "HostPort", json_integer(8000));
    json_object_set_new(json_object_get(json_array_get(json_object_get(expected, "Volumes"), 0),
                                        "EFSVolumeConfiguration"),
                        "RootDirectory", json_string("/"));
    test_expect_props(expected, observed);
    arn = json_string_value(json_object_get(observed, "TaskDefinitionArn"));
    cr_assert_str_eq(arn, "arn:aws:ecs:us-east-1:123456789012:task-definition/stage-backend:1");
    arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/stage-backend:1";
    id = json_pack("{s:s}", "TaskDefinitionArn", arn);

    d = cli_taskdef(arn);
    cr_assert_not_null(d, "the aws CLI sees the revision");
    {
        const json_t *td = json_object_get(d, "taskDefinition");
        const json_t *cd = json_array_get(json_object_get(td, "containerDefinitions"), 0);
        const json_t *vol = json_array_get(json_object_get(td, "volumes"), 0);
        cr_expect_str_eq(json_string_value(json_object_get(td, "status")), "ACTIVE");
        cr_expect_str_eq(json_string_value(json_object_get(td, "family")), "stage-backend");
        cr_expect_str_eq(json_string_value(json_object_get(td, "cpu")), "256");
        cr_expect_str_eq(json_string_value(json_object_get(td, "networkMode")), "awsvpc");
        cr_expect_str_eq(json_string_value(json_object_get(cd, "image")),
                         "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1");
        cr_expect_str_eq(json_string_value(json_object_get(
                             json_array_get(json_object_get(cd, "secrets"), 0), "valueFrom")),
                         "arn:aws:secretsmanager:us-east-1:123456789012:secret:db");
        cr_expect_str_eq(json_string_value(json_object_get(
                             json_object_get(json_object_get(cd, "logConfiguration"), "options"),
                             "awslogs-group")),
                         "/ecs/stage/backend");
        cr_expect_eq(
            json_integer_value(json_object_get(json_object_get(cd, "healthCheck"), "interval")),
            30);
        cr_expect_str_eq(json_string_value(json_object_get(
                             json_object_get(vol, "efsVolumeConfiguration"), "fileSystemId")),
                         "fs-12345678");
        cr_expect_str_eq(tag(d, "team"), "shop");
    }
    json_decref(d);

    cr_assert_eq(t->read(aws, id, &again), 0, "%s", plumb_error_message());
    cr_expect(json_equal(again, observed), "read gives what create returned");
    json_decref(again);

    /* update: only tags change in place */
    after = json_deep_copy(props);
    json_object_set_new(after, "Tags",
                        json_pack("[{s:s, s:s}, {s:s, s:s}]", "Key", "owner", "Value", "ops", "Key",
                                  "plumb:address", "Value", "task"));
    json_decref(observed);
    cr_assert_eq(t->update(aws, id, props, after, &observed), 0, "%s", plumb_error_message());
    json_object_set(expected, "Tags", json_object_get(after, "Tags"));
    test_expect_props(expected, observed);
    d = cli_taskdef(arn);
    cr_expect_str_eq(tag(d, "owner"), "ops");
    cr_expect_null(tag(d, "team"), "the removed tag is gone");
    json_decref(d);

    /* lookup adopts the revision registered for this address with this content, only that */
    cr_assert_eq(t->lookup(aws, after, &found), 0, "%s", plumb_error_message());
    cr_expect(json_equal(found, id));
    json_decref(found);
    other = backend("stage-backend", "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:2", "task");
    cr_assert_eq(t->lookup(aws, other, &found), 0);
    cr_expect_null(found, "a changed image is a new revision, not this one");
    json_decref(other);
    other = backend("stage-backend", "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1",
                    "someone-else");
    cr_assert_eq(t->lookup(aws, other, &found), 0);
    cr_expect_null(found, "another address's revision is not adopted");
    json_decref(other);

    /* remove: deregistered (and deleted); gone for the driver and the CLI; again is fine */
    cr_assert_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    again = NULL;
    cr_assert_eq(t->read(aws, id, &again), 0, "%s", plumb_error_message());
    cr_expect_null(again);
    d = cli_taskdef(arn);
    {
        const char *status =
            json_string_value(json_object_get(json_object_get(d, "taskDefinition"), "status"));
        cr_expect(!d || (status && (strcmp(status, "INACTIVE") == 0 ||
                                    strcmp(status, "DELETE_IN_PROGRESS") == 0)),
                  "the CLI sees it deregistered: %s", status ? status : "(none)");
    }
    json_decref(d);
    cr_expect_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    /* moto answers the bare family with this deregistered revision: not adopted */
    cr_assert_eq(t->lookup(aws, after, &found), 0, "%s", plumb_error_message());
    cr_expect_null(found);

    json_decref(props);
    json_decref(expected);
    json_decref(after);
    json_decref(observed);
    json_decref(id);
    plumb_aws_free(aws);
}

Test(driver_ecs_taskdefinition, lookup_takes_the_latest_active_revision)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *one = NULL, *two = NULL, *found = NULL, *out = NULL;

    props = backend("web", "nginx:1", "task");
    cr_assert_eq(t->create(aws, props, &one), 0, "%s", plumb_error_message());
    cr_assert_eq(t->create(aws, props, &two), 0, "%s", plumb_error_message());
    cr_assert_eq(t->lookup(aws, props, &found), 0, "%s", plumb_error_message());
    cr_expect(json_equal(json_object_get(found, "TaskDefinitionArn"),
                         json_object_get(two, "TaskDefinitionArn")),
              "the latest revision");
    json_decref(found);

    /* the latest deregistered by hand: the one before it is the latest ACTIVE */
    cr_assert_eq(test_aws_cli(&out, "ecs deregister-task-definition --task-definition web:2"), 0);
    json_decref(out);
    cr_assert_eq(t->lookup(aws, props, &found), 0, "%s", plumb_error_message());
    cr_expect(json_equal(json_object_get(found, "TaskDefinitionArn"),
                         json_object_get(one, "TaskDefinitionArn")),
              "the latest ACTIVE revision");
    json_decref(found);

    /* no revision of a family: nothing */
    json_object_set_new(props, "Family", json_string("never-registered"));
    cr_assert_eq(t->lookup(aws, props, &found), 0, "%s", plumb_error_message());
    cr_expect_null(found);

    json_decref(props);
    json_decref(one);
    json_decref(two);
    plumb_aws_free(aws);
}

Test(driver_ecs_taskdefinition, reads_one_by_one)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *made = NULL, *id, *observed = NULL;
    const char *arns[] = {"arn:aws:ecs:us-east-1:123456789012:task-definition/a:1",
                          "arn:aws:ecs:us-east-1:123456789012:task-definition/a:9",
                          "arn:aws:ecs:us-east-1:123456789012:task-definition/missing:1"};
    unsigned long before;
    size_t i;

    /* DescribeTaskDefinition takes one revision: no batched read to offer */
    cr_expect_null(t->read_many);
    cr_assert_eq(test_aws_cli(&made,
                              "ecs register-task-definition --family a "
                              "--container-definitions "
                              "'[{\"name\": \"x\", \"image\": \"busybox\", \"memory\": 64}]'"),
                 0);
    json_decref(made);
    before = plumb_aws_stats_calls(aws, "ecs");
    for (i = 0; i < 3; i++) {
        id = json_pack("{s:s}", "TaskDefinitionArn", arns[i]);
        cr_assert_eq(t->read(aws, id, &observed), 0, "%s", plumb_error_message());
        if (i == 0) {
            cr_assert_not_null(observed);
            cr_expect_str_eq(json_string_value(json_object_get(observed, "Family")), "a");
            /* no network mode given: bridge, ECS's default, and no HostPort invented */
            cr_expect_str_eq(json_string_value(json_object_get(observed, "NetworkMode")), "bridge");
            cr_expect(json_is_true(json_object_get(
                json_array_get(json_object_get(observed, "ContainerDefinitions"), 0),
                "Essential")));
        } else {
            cr_expect_null(observed, "%s reads as gone", arns[i]);
        }
        json_decref(observed);
        json_decref(id);
    }
    cr_expect_eq(plumb_aws_stats_calls(aws, "ecs") - before, 3);
    plumb_aws_free(aws);
}

Test(driver_ecs_taskdefinition, normalize_units)
{
    const struct plumb_resource_type *t = driver();
    json_t *props, *n;

    cr_assert_not_null(t->normalize);
    props = json_pack("{s:s, s:s, s:s}", "Family", "x", "Cpu", "0.25 vCPU", "Memory", "0.5GB");
    n = t->normalize(props);
    cr_expect_str_eq(json_string_value(json_object_get(n, "Cpu")), "256");
    cr_expect_str_eq(json_string_value(json_object_get(n, "Memory")), "512");
    json_decref(n);
    json_object_set_new(props, "Cpu", json_string("1 vcpu"));
    json_object_set_new(props, "Memory", json_string("2048"));
    n = t->normalize(props);
    cr_expect_str_eq(json_string_value(json_object_get(n, "Cpu")), "1024");
    cr_expect_str_eq(json_string_value(json_object_get(n, "Memory")), "2048");
    json_decref(n);
    /* an unknown value stays as it is */
    json_object_set_new(props, "Cpu", json_pack("{s:s}", "$plumb:unknown", "var.cpu"));
    n = t->normalize(props);
    cr_expect(json_equal(json_object_get(n, "Cpu"), json_object_get(props, "Cpu")));
    json_decref(n);
    json_decref(props);
}

Test(driver_ecs_taskdefinition, aws_errors_keep_their_code)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL, *list = NULL;

    /* EC2 tasks need a memory limit somewhere: ECS refuses */
    props = json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "Family", "nomem", "RequiresCompatibilities",
                      "EC2", "ContainerDefinitions", "Name", "app", "Image", "nginx");
    cr_expect_eq(t->create(aws, props, &observed), PLUMB_EAWS);
    cr_expect(strstr(plumb_error_message(), "ClientException") != NULL, "%s",
              plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "memory") != NULL, "%s", plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "request id") != NULL, "%s", plumb_error_message());
    cr_expect_null(observed);
    cr_assert_eq(test_aws_cli(&list, "ecs list-task-definitions --family-prefix nomem"), 0);
    cr_expect_eq(json_array_size(json_object_get(list, "taskDefinitionArns")), 0,
                 "nothing registered");
    json_decref(list);
    json_decref(props);
    plumb_aws_free(aws);
}
