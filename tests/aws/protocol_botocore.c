/*
 * plumb's wire protocols against the reference: each fixture in tests/resources/protocol/
 * holds an input with the request botocore's serializer makes of it, and a response moto
 * really sent with the output (or error) botocore's parser makes of it
 * (tests/tools/gen_protocol_fixtures.py). plumb must build the same request and read the
 * same output.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "aws/protocol.h"
#include "util/buf.h"
#include "util/error.h"

#define FIXTURES(X)                                                                                \
    X(sts_GetCallerIdentity, "sts-GetCallerIdentity")                                              \
    X(sts_AssumeRole, "sts-AssumeRole")                                                            \
    X(iam_CreateRole, "iam-CreateRole")                                                            \
    X(iam_CreateRole_empty_tags, "iam-CreateRole-empty-tags")                                      \
    X(iam_CreatePolicy, "iam-CreatePolicy")                                                        \
    X(iam_AttachRolePolicy, "iam-AttachRolePolicy")                                                \
    X(iam_ListRoles, "iam-ListRoles")                                                              \
    X(iam_GetAccountSummary, "iam-GetAccountSummary")                                              \
    X(iam_GetRole_error, "iam-GetRole-error")                                                      \
    X(ec2_CreateSecurityGroup, "ec2-CreateSecurityGroup")                                          \
    X(ec2_AuthorizeSecurityGroupIngress, "ec2-AuthorizeSecurityGroupIngress")                      \
    X(ec2_DescribeSecurityGroups, "ec2-DescribeSecurityGroups")                                    \
    X(ec2_DescribeSecurityGroups_error, "ec2-DescribeSecurityGroups-error")                        \
    X(ec2_DescribeSecurityGroups_request, "ec2-DescribeSecurityGroups-request")                    \
    X(elbv2_CreateTargetGroup, "elbv2-CreateTargetGroup")                                          \
    X(elbv2_CreateTargetGroup_error, "elbv2-CreateTargetGroup-error")                              \
    X(elbv2_CreateLoadBalancer, "elbv2-CreateLoadBalancer")                                        \
    X(elbv2_DescribeLoadBalancers, "elbv2-DescribeLoadBalancers")                                  \
    X(elbv2_SetSecurityGroups_request, "elbv2-SetSecurityGroups-request")                          \
    X(rds_CreateDBInstance, "rds-CreateDBInstance")                                                \
    X(rds_DescribeDBInstances, "rds-DescribeDBInstances")                                          \
    X(rds_DescribeDBInstances_error, "rds-DescribeDBInstances-error")                              \
    X(rds_DescribeEvents_request, "rds-DescribeEvents-request")                                    \
    X(rds_CreateIntegration_request, "rds-CreateIntegration-request")                              \
    X(ecs_CreateCluster, "ecs-CreateCluster")                                                      \
    X(ecs_RegisterTaskDefinition, "ecs-RegisterTaskDefinition")                                    \
    X(ecs_CreateService, "ecs-CreateService")                                                      \
    X(ecs_DescribeServices, "ecs-DescribeServices")                                                \
    X(ecs_CreateService_error, "ecs-CreateService-error")                                          \
    X(dynamodb_CreateTable, "dynamodb-CreateTable")                                                \
    X(dynamodb_PutItem, "dynamodb-PutItem")                                                        \
    X(dynamodb_GetItem, "dynamodb-GetItem")                                                        \
    X(dynamodb_PutItem_error, "dynamodb-PutItem-error")                                            \
    X(dynamodb_ListBackups_request, "dynamodb-ListBackups-request")                                \
    X(resourcegroupstaggingapi_TagResources_request,                                               \
      "resourcegroupstaggingapi-TagResources-request")                                             \
    X(s3_CreateBucket, "s3-CreateBucket")                                                          \
    X(s3_PutBucketTagging, "s3-PutBucketTagging")                                                  \
    X(s3_GetBucketTagging, "s3-GetBucketTagging")                                                  \
    X(s3_GetBucketTagging_error, "s3-GetBucketTagging-error")                                      \
    X(s3_PutBucketPolicy, "s3-PutBucketPolicy")                                                    \
    X(s3_GetBucketPolicy, "s3-GetBucketPolicy")                                                    \
    X(s3_PutObject, "s3-PutObject")                                                                \
    X(s3_PutObject_request, "s3-PutObject-request")                                                \
    X(s3_HeadObject, "s3-HeadObject")                                                              \
    X(s3_GetObject, "s3-GetObject")                                                                \
    X(s3_GetObject_request, "s3-GetObject-request")                                                \
    X(s3_ListObjectsV2, "s3-ListObjectsV2")                                                        \
    X(s3_ListObjectsV2_delimiter, "s3-ListObjectsV2-delimiter")                                    \
    X(s3_HeadBucket, "s3-HeadBucket")                                                              \
    X(s3_HeadBucket_error, "s3-HeadBucket-error")                                                  \
    X(s3_PutBucketLifecycleConfiguration_request, "s3-PutBucketLifecycleConfiguration-request")

static json_t *load_fixture(const char *name)
{
    struct plumb_buf path = PLUMB_BUF_INIT;
    json_error_t jerr;
    json_t *fx;

    plumb_buf_printf(&path, "%s/protocol/%s.json", TESTS_RESOURCES_DIR, name);
    fx = json_load_file(path.ptr, 0, &jerr);
    cr_assert_not_null(fx, "fixture '%s': %s", path.ptr, jerr.text);
    plumb_buf_release(&path);
    return fx;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* "a=b&c=%20+" → [["a","b"],["c","  "]], checking that only unreserved characters are bare
 * and that a space is sent as '+', as botocore sends it (and moto's verifier requires). */
static json_t *decode_form(const char *body)
{
    struct plumb_buf name = PLUMB_BUF_INIT, value = PLUMB_BUF_INIT, *cur = &name;
    json_t *pairs = json_array();
    const char *p;

    for (p = body;; p++) {
        if (*p == '&' || *p == '\0') {
            json_array_append_new(
                pairs, json_pack("[s,s]", plumb_buf_cstr(&name), plumb_buf_cstr(&value)));
            plumb_buf_clear(&name);
            plumb_buf_clear(&value);
            cur = &name;
            if (!*p)
                break;
        } else if (*p == '=' && cur == &name) {
            cur = &value;
        } else if (*p == '+') {
            plumb_buf_putc(cur, ' ');
        } else if (*p == '%') {
            cr_assert(hexval(p[1]) >= 0 && hexval(p[2]) >= 0, "bad escape in form body: %s", p);
            cr_assert(!(p[1] == '2' && p[2] == '0'), "a space sent as %%20, not '+': %s", p);
            plumb_buf_putc(cur, (char)(hexval(p[1]) * 16 + hexval(p[2])));
            p += 2;
        } else {
            cr_assert(strchr("-_.~", *p) || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                          (*p >= '0' && *p <= '9'),
                      "character '%c' sent unencoded in form body", *p);
            plumb_buf_putc(cur, *p);
        }
    }
    plumb_buf_release(&name);
    plumb_buf_release(&value);
    return pairs;
}

static int pair_cmp(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int c =
        strcmp(json_string_value(json_array_get(x, 0)), json_string_value(json_array_get(y, 0)));

    return c ? c
             : strcmp(json_string_value(json_array_get(x, 1)),
                      json_string_value(json_array_get(y, 1)));
}

/* The pairs sorted, as one string, so a mismatch prints readably. */
static char *pairs_text(const json_t *pairs)
{
    size_t n = json_array_size(pairs), i;
    json_t **v = calloc(n ? n : 1, sizeof(*v)), *sorted = json_array();
    char *s;

    for (i = 0; i < n; i++)
        v[i] = json_array_get(pairs, i);
    qsort(v, n, sizeof(*v), pair_cmp);
    for (i = 0; i < n; i++)
        json_array_append(sorted, v[i]);
    s = json_dumps(sorted, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(sorted);
    free(v);
    return s;
}

static json_t *kvlist_pairs(const struct plumb_kvlist *l)
{
    json_t *pairs = json_array();
    size_t i;

    for (i = 0; i < l->n; i++)
        json_array_append_new(pairs, json_pack("[s,s]", l->v[i].name, l->v[i].value));
    return pairs;
}

static void assert_same_pairs(const json_t *want, const json_t *got, const char *what)
{
    char *w = pairs_text(want), *g = pairs_text(got);

    cr_assert_str_eq(g, w, "%s differ:\nplumb:    %s\nbotocore: %s", what, g, w);
    free(w);
    free(g);
}

static void assert_json_eq(const json_t *got, const json_t *want, const char *what)
{
    char *g = json_dumps(got, JSON_SORT_KEYS | JSON_INDENT(1));
    char *w = json_dumps(want, JSON_SORT_KEYS | JSON_INDENT(1));

    cr_assert(json_equal(got, want), "%s differs:\nplumb:\n%s\nbotocore:\n%s", what, g, w);
    free(g);
    free(w);
}

static void check_request(const struct plumb_aws_service *svc, const json_t *fx)
{
    const json_t *want = json_object_get(fx, "request"), *hv;
    const char *kind = json_string_value(json_object_get(want, "body_kind")), *hn;
    struct plumb_http_request req;
    json_t *got_headers, *want_headers, *got;

    plumb_http_request_init(&req);
    cr_assert_eq(plumb_aws_protocol_build(&req, svc,
                                          json_string_value(json_object_get(fx, "operation")),
                                          json_object_get(fx, "input")),
                 0, "build: %s", plumb_error_message());
    cr_assert_str_eq(req.method, json_string_value(json_object_get(want, "method")));
    cr_assert_str_eq(req.path, json_string_value(json_object_get(want, "path")));

    got = kvlist_pairs(&req.query);
    assert_same_pairs(json_object_get(want, "query"), got, "query parameters");
    json_decref(got);

    /* Header names compare case-insensitively: lower-case both sides. */
    got_headers = json_array();
    want_headers = json_array();
    for (size_t i = 0; i < req.headers.n; i++) {
        char *n = strdup(req.headers.v[i].name);
        for (char *c = n; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        json_array_append_new(got_headers, json_pack("[s,s]", n, req.headers.v[i].value));
        free(n);
    }
    json_object_foreach((json_t *)json_object_get(want, "headers"), hn, hv)
    {
        char *n = strdup(hn);
        for (char *c = n; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        json_array_append_new(want_headers, json_pack("[s,O]", n, hv));
        free(n);
    }
    assert_same_pairs(want_headers, got_headers, "headers");
    json_decref(got_headers);
    json_decref(want_headers);

    if (strcmp(kind, "form") == 0) {
        got = decode_form(plumb_buf_cstr(&req.body));
        assert_same_pairs(json_object_get(want, "body"), got, "form bodies");
        json_decref(got);
    } else if (strcmp(kind, "json") == 0) {
        json_error_t jerr;
        got = json_loadb(plumb_buf_cstr(&req.body), req.body.len, 0, &jerr);
        cr_assert_not_null(got, "body is not JSON (%s): %s", jerr.text, plumb_buf_cstr(&req.body));
        assert_json_eq(got, json_object_get(want, "body"), "JSON body");
        json_decref(got);
    } else {
        /* xml, raw and empty bodies compare byte for byte. */
        cr_assert_str_eq(plumb_buf_cstr(&req.body),
                         json_string_value(json_object_get(want, "body")), "%s body differs", kind);
    }
    plumb_http_request_release(&req);
}

static void fixture_response(struct plumb_http_response *resp, const json_t *fx)
{
    const json_t *r = json_object_get(fx, "response"), *h;
    const char *body = json_string_value(json_object_get(r, "body"));
    size_t i;

    plumb_http_response_init(resp);
    resp->status = (long)json_integer_value(json_object_get(r, "status"));
    json_array_foreach(json_object_get(r, "headers"), i, h)
        plumb_kvlist_add(&resp->headers, json_string_value(json_array_get(h, 0)),
                         json_string_value(json_array_get(h, 1)));
    plumb_buf_put(&resp->body, body, strlen(body));
}

static void check_response(const struct plumb_aws_service *svc, const json_t *fx)
{
    const char *op = json_string_value(json_object_get(fx, "operation"));
    const json_t *want_err = json_object_get(fx, "error");
    struct plumb_http_response resp;
    struct plumb_aws_error_info info;
    json_t *out = NULL;

    fixture_response(&resp, fx);
    if (want_err) {
        plumb_aws_protocol_parse_error(&info, svc, &resp);
        cr_assert_eq(info.status, json_integer_value(json_object_get(want_err, "status")));
        cr_assert_str_eq(info.code, json_string_value(json_object_get(want_err, "code")));
        cr_assert_str_eq(info.message, json_string_value(json_object_get(want_err, "message")));
        cr_assert_str_eq(info.request_id,
                         json_string_value(json_object_get(want_err, "request_id")));
    } else {
        cr_assert_eq(plumb_aws_protocol_parse(&out, svc, op, &resp), 0, "parse: %s",
                     plumb_error_message());
        assert_json_eq(out, json_object_get(fx, "output"), "output");
        json_decref(out);
    }
    plumb_http_response_release(&resp);
}

static void run_fixture(const char *name)
{
    json_t *fx = load_fixture(name);
    const struct plumb_aws_service *svc;

    cr_assert_eq(plumb_aws_model_service(&svc, json_string_value(json_object_get(fx, "service"))),
                 0, "%s", plumb_error_message());
    check_request(svc, fx);
    if (json_object_get(fx, "response"))
        check_response(svc, fx);
    json_decref(fx);
}

#define AS_TEST(id, file)                                                                          \
    Test(protocol_botocore, id)                                                                    \
    {                                                                                              \
        run_fixture(file);                                                                         \
    }
FIXTURES(AS_TEST)

#define AS_NAME(id, file) file,
static const char *const fixture_names[] = {FIXTURES(AS_NAME) NULL};

/* A fixture the generator wrote but no test reads would pass for coverage it does not give. */
Test(protocol_botocore, every_fixture_has_a_test)
{
    DIR *d = opendir(TESTS_RESOURCES_DIR "/protocol");
    struct dirent *e;
    size_t found = 0, i;

    cr_assert_not_null(d);
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        int listed = 0;
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        for (i = 0; fixture_names[i]; i++)
            if (strlen(fixture_names[i]) == len - 5 &&
                strncmp(fixture_names[i], e->d_name, len - 5) == 0)
                listed = 1;
        cr_assert(listed, "fixture '%s' has no test in FIXTURES", e->d_name);
        found++;
    }
    closedir(d);
    cr_assert_eq(found, sizeof(fixture_names) / sizeof(fixture_names[0]) - 1);
}
