/* Pagination against moto: every page is followed and the result lists concatenated. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "helpers/server.h"
#include "util/error.h"

static struct test_server moto;

static void start_moto(void)
{
    cr_assert_eq(test_server_start(&moto, "moto_server.py", NULL), 0, "moto_server failed");
    setenv("AWS_ENDPOINT_URL", moto.url, 1);
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    unsetenv("AWS_PROFILE");
    setenv("AWS_CONFIG_FILE", "/nonexistent/plumb-test-config", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/plumb-test-credentials", 1);
}

static void stop_moto(void)
{
    test_server_stop(&moto);
}

TestSuite(paginate, .init = start_moto, .fini = stop_moto, .timeout = 60);

Test(paginate, follows_marker_across_pages)
{
    struct plumb_aws *aws;
    json_t *out = NULL, *in;
    unsigned long before;
    char name[32];
    int i;

    cr_assert_eq(plumb_aws_new(&aws, NULL), 0, "%s", plumb_error_message());
    for (i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "role-%d", i);
        in = json_pack("{s:s, s:s}", "RoleName", name, "AssumeRolePolicyDocument",
                       "{\"Version\":\"2012-10-17\",\"Statement\":[]}");
        cr_assert_eq(plumb_aws_call(aws, "iam", "CreateRole", in, &out), 0, "%s",
                     plumb_error_message());
        json_decref(in);
        json_decref(out);
    }
    before = plumb_aws_stats_calls(aws, "iam");
    in = json_pack("{s:i}", "MaxItems", 2);
    cr_assert_eq(plumb_aws_paginate(aws, "iam", "ListRoles", in, &out), 0, "%s",
                 plumb_error_message());
    cr_expect_eq(json_array_size(json_object_get(out, "Roles")), 5);
    cr_expect_eq(plumb_aws_stats_calls(aws, "iam") - before, 3, "three pages of two");
    cr_expect_null(json_object_get(out, "Marker"), "the last page's token is not kept");
    json_decref(in);
    json_decref(out);
    plumb_aws_free(aws);
}

Test(paginate, next_token_in_json_protocol)
{
    struct plumb_aws *aws;
    json_t *out = NULL, *in;
    char name[32];
    int i;

    cr_assert_eq(plumb_aws_new(&aws, NULL), 0, "%s", plumb_error_message());
    for (i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "/plumb/test-%d", i);
        in = json_pack("{s:s}", "logGroupName", name);
        cr_assert_eq(plumb_aws_call(aws, "logs", "CreateLogGroup", in, &out), 0, "%s",
                     plumb_error_message());
        json_decref(in);
        json_decref(out);
    }
    in = json_pack("{s:i}", "limit", 1);
    cr_assert_eq(plumb_aws_paginate(aws, "logs", "DescribeLogGroups", in, &out), 0, "%s",
                 plumb_error_message());
    cr_expect_eq(json_array_size(json_object_get(out, "logGroups")), 3);
    json_decref(in);
    json_decref(out);
    plumb_aws_free(aws);
}
