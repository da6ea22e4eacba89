/*
 * Hand-written protocol tests: validation, idempotency tokens, the edges botocore's fixtures
 * (protocol_botocore.c) do not reach, malformed responses and error parsing per protocol.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <string.h>

#include <jansson.h>

#include "aws/protocol.h"
#include "aws/xml.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/sys.h"

static const struct plumb_aws_service *service(const char *key)
{
    const struct plumb_aws_service *svc = NULL;

    cr_assert_eq(plumb_aws_model_service(&svc, key), 0, "%s", plumb_error_message());
    return svc;
}

/* Builds `operation` of `key` from the JSON text `input` (NULL for none) into `req`. */
static int build(struct plumb_http_request *req, const char *key, const char *operation,
                 const char *input)
{
    json_t *in = NULL;
    json_error_t jerr;
    int rc;

    if (input) {
        in = json_loads(input, 0, &jerr);
        cr_assert_not_null(in, "test input: %s", jerr.text);
    }
    plumb_http_request_init(req);
    rc = plumb_aws_protocol_build(req, service(key), operation, in);
    json_decref(in);
    return rc;
}

/* Expects `input` to be refused as invalid with exactly `message`. */
static void assert_invalid(const char *key, const char *operation, const char *input,
                           const char *message)
{
    struct plumb_http_request req;

    cr_assert_eq(build(&req, key, operation, input), PLUMB_EINVALID, "built: %s",
                 plumb_buf_cstr(&req.body));
    cr_assert_eq(plumb_error_last()->code, PLUMB_EINVALID);
    cr_assert_str_eq(plumb_error_message(), message);
    plumb_http_request_release(&req);
}

/* A response with `status`, `body` and NULL-terminated header name/value pairs. */
static void response(struct plumb_http_response *resp, long status, const char *body, ...)
{
    const char *name, *value;
    va_list ap;

    plumb_http_response_init(resp);
    resp->status = status;
    plumb_buf_puts(&resp->body, body);
    va_start(ap, body);
    while ((name = va_arg(ap, const char *))) {
        value = va_arg(ap, const char *);
        plumb_kvlist_add(&resp->headers, name, value);
    }
    va_end(ap);
}

static json_t *parse_ok(const char *key, const char *operation, long status, const char *body)
{
    struct plumb_http_response resp;
    json_t *out = NULL;

    response(&resp, status, body, NULL);
    cr_assert_eq(plumb_aws_protocol_parse(&out, service(key), operation, &resp), 0, "%s",
                 plumb_error_message());
    plumb_http_response_release(&resp);
    return out;
}

static const char *parse_fails(const char *key, const char *operation, const char *body)
{
    struct plumb_http_response resp;
    json_t *out = NULL;

    response(&resp, 200, body, NULL);
    cr_assert_eq(plumb_aws_protocol_parse(&out, service(key), operation, &resp), PLUMB_ERROR,
                 "parsed: %s", out ? json_dumps(out, 0) : "");
    cr_assert_null(out);
    plumb_http_response_release(&resp);
    return plumb_error_message();
}

static void assert_json(const json_t *got, const char *want_text)
{
    json_t *want = json_loads(want_text, 0, NULL);
    char *g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);

    cr_assert_not_null(want, "test expectation is not JSON");
    cr_assert(json_equal(got, want), "got %s\nwant %s", g, want_text);
    free(g);
    json_decref(want);
}

/* ---- validation ------------------------------------------------------------------------ */

Test(protocol_validation, missing_required_members_are_named)
{
    assert_invalid("iam", "CreateRole", "{}",
                   "CreateRole: missing required member 'RoleName'; "
                   "missing required member 'AssumeRolePolicyDocument'");
    assert_invalid("elbv2", "AddTags",
                   "{\"ResourceArns\": [\"a\"], \"Tags\": [{\"Value\": \"v\"}]}",
                   "AddTags: missing required member 'Tags[0].Key'");
}

Test(protocol_validation, wrong_types_name_the_member_path)
{
    assert_invalid("ecs", "DescribeServices", "{\"services\": [\"a\", 1]}",
                   "DescribeServices: services[1] must be a string");
    assert_invalid("elbv2", "CreateTargetGroup", "{\"Name\": \"t\", \"Port\": \"80\"}",
                   "CreateTargetGroup: Port must be an integer");
    assert_invalid("ec2", "DescribeSecurityGroups", "{\"DryRun\": \"false\"}",
                   "DescribeSecurityGroups: DryRun must be a boolean");
    assert_invalid("ec2", "DescribeSecurityGroups", "{\"GroupIds\": \"sg-1\"}",
                   "DescribeSecurityGroups: GroupIds must be an array");
    assert_invalid("elbv2", "CreateTargetGroup", "{\"Name\": \"t\", \"Matcher\": \"200\"}",
                   "CreateTargetGroup: Matcher must be an object");
    assert_invalid("resourcegroupstaggingapi", "TagResources",
                   "{\"ResourceARNList\": [\"a\"], \"Tags\": {\"env\": 1}}",
                   "TagResources: Tags.env must be a string");
    assert_invalid("rds", "DescribeEvents", "{\"StartTime\": \"yesterday\"}",
                   "DescribeEvents: StartTime must be a timestamp (ISO 8601 or epoch seconds)");
    assert_invalid("dynamodb", "PutItem",
                   "{\"TableName\": \"t\", \"Item\": {\"k\": {\"B\": \"not base64!\"}}}",
                   "PutItem: Item.k.B must be a base64 string");
    assert_invalid("ecs", "DescribeServices", "{\"services\": [null]}",
                   "DescribeServices: services[0] must not be null");
}

Test(protocol_validation, unknown_members_are_errors)
{
    assert_invalid("sts", "GetCallerIdentity", "{\"Foo\": 1}",
                   "GetCallerIdentity: unknown member 'Foo'");
    assert_invalid("iam", "CreateRole",
                   "{\"RoleName\": \"r\", \"AssumeRolePolicyDocument\": \"{}\", "
                   "\"Tags\": [{\"Key\": \"k\", \"Value\": \"v\", \"Colour\": \"red\"}]}",
                   "CreateRole: unknown member 'Tags[0].Colour'");
    /* An operation without input takes none. */
    assert_invalid("iam", "GetAccountSummary", "{\"X\": 1}",
                   "GetAccountSummary: unknown member 'X'");
}

Test(protocol_validation, every_problem_is_reported_at_once)
{
    assert_invalid("iam", "CreateRole", "{\"RoleName\": 5, \"Nope\": true}",
                   "CreateRole: RoleName must be a string; unknown member 'Nope'; "
                   "missing required member 'AssumeRolePolicyDocument'");
}

Test(protocol_validation, null_counts_as_absent)
{
    struct plumb_http_request req;

    cr_assert_eq(build(&req, "iam", "CreateRole",
                       "{\"RoleName\": \"r\", \"AssumeRolePolicyDocument\": \"{}\", "
                       "\"Description\": null}"),
                 0, "%s", plumb_error_message());
    cr_assert_null(strstr(plumb_buf_cstr(&req.body), "Description"));
    plumb_http_request_release(&req);
    assert_invalid("iam", "CreateRole",
                   "{\"RoleName\": null, \"AssumeRolePolicyDocument\": \"{}\"}",
                   "CreateRole: missing required member 'RoleName'");
}

Test(protocol_validation, unknown_operation_and_non_object_input)
{
    assert_invalid("sts", "GetCallerIdentities", NULL,
                   "unknown operation 'GetCallerIdentities' of sts");
    assert_invalid("sts", "GetCallerIdentity", "[]", "GetCallerIdentity: input must be an object");
}

/* ---- idempotency tokens ---------------------------------------------------------------- */

static int random_calls;

static uint64_t fixed_random(void)
{
    return random_calls++ % 2 ? UINT64_C(0xfedcba9876543210) : UINT64_C(0x0123456789abcdef);
}

static void restore_random(void)
{
    plumb_random_set(NULL);
}

Test(protocol_idempotency, absent_token_is_a_uuid_v4, .fini = restore_random)
{
    struct plumb_http_request req;
    json_t *body;

    random_calls = 0;
    plumb_random_set(fixed_random);
    cr_assert_eq(build(&req, "secretsmanager", "CreateSecret", "{\"Name\": \"db\"}"), 0, "%s",
                 plumb_error_message());
    body = json_loads(plumb_buf_cstr(&req.body), 0, NULL);
    /* Version nibble 4, variant bits 10: 0x0123456789abcdef / 0xfedcba9876543210 become... */
    cr_assert_str_eq(json_string_value(json_object_get(body, "ClientRequestToken")),
                     "01234567-89ab-4def-bedc-ba9876543210");
    json_decref(body);
    plumb_http_request_release(&req);
}

Test(protocol_idempotency, given_token_is_kept, .fini = restore_random)
{
    struct plumb_http_request req;
    json_t *body;

    cr_assert_eq(build(&req, "secretsmanager", "CreateSecret",
                       "{\"Name\": \"db\", \"ClientRequestToken\": \"mine\"}"),
                 0);
    body = json_loads(plumb_buf_cstr(&req.body), 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(body, "ClientRequestToken")), "mine");
    json_decref(body);
    plumb_http_request_release(&req);
}

/* ---- building -------------------------------------------------------------------------- */

Test(protocol_build, json_without_input_sends_braces)
{
    struct plumb_http_request req;

    cr_assert_eq(build(&req, "ecs", "ListClusters", NULL), 0);
    cr_assert_str_eq(req.method, "POST");
    cr_assert_str_eq(req.path, "/");
    cr_assert_str_eq(plumb_buf_cstr(&req.body), "{}");
    cr_assert_str_eq(plumb_kvlist_get(&req.headers, "X-Amz-Target"),
                     "AmazonEC2ContainerServiceV20141113.ListClusters");
    cr_assert_str_eq(plumb_kvlist_get(&req.headers, "Content-Type"), "application/x-amz-json-1.1");
    plumb_http_request_release(&req);
}

Test(protocol_build, form_bodies_leave_only_unreserved_characters_bare)
{
    struct plumb_http_request req;

    cr_assert_eq(build(&req, "iam", "CreateRole",
                       "{\"RoleName\": \"r\", \"AssumeRolePolicyDocument\": \"{}\", "
                       "\"Description\": \"a b+c/d~e*\\u00e9=&\"}"),
                 0, "%s", plumb_error_message());
    cr_assert_str_eq(plumb_buf_cstr(&req.body), "Action=CreateRole&Version=2010-05-08&RoleName=r&"
                                                "AssumeRolePolicyDocument=%7B%7D&"
                                                "Description=a+b%2Bc%2Fd~e%2A%C3%A9%3D%26");
    plumb_http_request_release(&req);
}

Test(protocol_build, timestamps_accept_iso8601_and_epoch_seconds)
{
    struct plumb_http_request req;

    cr_assert_eq(build(&req, "rds", "DescribeEvents",
                       "{\"StartTime\": \"2024-02-29T14:34:56+02:00\", \"EndTime\": 1709210096.9}"),
                 0, "%s", plumb_error_message());
    cr_assert_str_eq(plumb_buf_cstr(&req.body),
                     "Action=DescribeEvents&Version=2014-10-31&"
                     "StartTime=2024-02-29T12%3A34%3A56Z&EndTime=2024-02-29T12%3A34%3A56Z");
    plumb_http_request_release(&req);
}

Test(protocol_build, rest_xml_labels_must_be_usable)
{
    assert_invalid("s3", "GetBucketTagging", "{\"Bucket\": \"a/b\"}",
                   "GetBucketTagging: Bucket must not contain '/'");
    assert_invalid("s3", "GetObject", "{\"Bucket\": \"b\", \"Key\": \"\"}",
                   "GetObject: Key must not be empty");
}

Test(protocol_build, rest_xml_headers_refuse_line_breaks)
{
    assert_invalid("s3", "PutObject",
                   "{\"Bucket\": \"b\", \"Key\": \"k\", \"ContentType\": \"a\\r\\nX-Evil: 1\"}",
                   "PutObject: header 'Content-Type' must not contain line breaks");
    assert_invalid("s3", "PutObject",
                   "{\"Bucket\": \"b\", \"Key\": \"k\", \"Metadata\": {\"m\": \"a\\nb\"}}",
                   "PutObject: header 'x-amz-meta-m' must not contain line breaks");
}

Test(protocol_build, rest_xml_keeps_a_given_content_md5)
{
    struct plumb_http_request req;

    cr_assert_eq(build(&req, "s3", "PutBucketTagging",
                       "{\"Bucket\": \"b\", \"ContentMD5\": \"given\", "
                       "\"Tagging\": {\"TagSet\": []}}"),
                 0, "%s", plumb_error_message());
    cr_assert_str_eq(plumb_kvlist_get(&req.headers, "Content-MD5"), "given");
    cr_assert_str_eq(
        plumb_buf_cstr(&req.body),
        "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet /></Tagging>");
    cr_assert_eq(req.query.n, 1);
    cr_assert_str_eq(req.query.v[0].name, "tagging");
    cr_assert_str_eq(req.query.v[0].value, "");
    plumb_http_request_release(&req);
}

Test(protocol_build, rest_xml_blob_payload_is_decoded)
{
    struct plumb_http_request req;

    cr_assert_eq(
        build(&req, "s3", "PutObject", "{\"Bucket\": \"b\", \"Key\": \"k\", \"Body\": \"AAH/\"}"),
        0, "%s", plumb_error_message());
    cr_assert_eq(req.body.len, 3);
    cr_assert_eq(memcmp(req.body.ptr, "\x00\x01\xff", 3), 0);
    plumb_http_request_release(&req);
}

/* ---- parsing --------------------------------------------------------------------------- */

Test(protocol_parse, json_numbers_and_timestamps_follow_the_shapes)
{
    json_t *out = parse_ok("dynamodb", "DescribeTable", 200,
                           "{\"Table\": {\"CreationDateTime\": 1709210096.75, \"ItemCount\": 3.0,"
                           " \"TableSizeBytes\": 10, \"TableName\": \"t\", \"Unmodelled\": 1}}");

    assert_json(out, "{\"Table\": {\"CreationDateTime\": \"2024-02-29T12:34:56Z\","
                     " \"ItemCount\": 3, \"TableSizeBytes\": 10, \"TableName\": \"t\"}}");
    cr_assert(json_is_integer(json_object_get(json_object_get(out, "Table"), "ItemCount")));
    json_decref(out);
    out = parse_ok("dynamodb", "PutItem", 200, "{\"ConsumedCapacity\": {\"CapacityUnits\": 1}}");
    cr_assert(
        json_is_real(json_object_get(json_object_get(out, "ConsumedCapacity"), "CapacityUnits")));
    json_decref(out);
}

Test(protocol_parse, json_empty_body_is_empty_output)
{
    json_t *out = parse_ok("ecs", "ListClusters", 200, "");

    assert_json(out, "{}");
    json_decref(out);
}

Test(protocol_parse, json_malformed_bodies_name_the_operation)
{
    cr_assert_str_eq(parse_fails("ecs", "ListClusters", "{\"clusterArns\": ["),
                     "ecs ListClusters: malformed JSON at line 1, column 17: "
                     "']' expected near end of file");
    cr_assert_str_eq(parse_fails("ecs", "ListClusters", "{\"clusterArns\": [\"a\", 2]}"),
                     "ecs ListClusters: response value 'clusterArns[1]' is not a string");
    cr_assert_str_eq(parse_fails("ecs", "ListClusters", "[]"),
                     "ecs ListClusters: response value '(body)' is not an object");
}

Test(protocol_parse, query_empty_list_element_is_an_empty_array)
{
    json_t *out = parse_ok("iam", "ListRoles", 200,
                           "<ListRolesResponse><ListRolesResult><Roles/>"
                           "<IsTruncated>false</IsTruncated></ListRolesResult>"
                           "</ListRolesResponse>");

    assert_json(out, "{\"Roles\": [], \"IsTruncated\": false}");
    json_decref(out);
}

Test(protocol_parse, query_timestamps_with_offsets_become_utc)
{
    json_t *out = parse_ok("sts", "GetSessionToken", 200,
                           "<GetSessionTokenResponse><GetSessionTokenResult><Credentials>"
                           "<AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
                           "<SessionToken>T</SessionToken>"
                           "<Expiration>2024-02-29T14:34:56.123+0200</Expiration>"
                           "</Credentials></GetSessionTokenResult></GetSessionTokenResponse>");

    assert_json(out, "{\"Credentials\": {\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\","
                     " \"SessionToken\": \"T\", \"Expiration\": \"2024-02-29T12:34:56Z\"}}");
    json_decref(out);
}

/* strftime writes years past 9999 cut off and years before 1000 short: epoch seconds
 * 99999999999999 in a response came out as "3170843-11-07T09:46:", read from a buffer
 * strftime had given up on. Such a time is refused as a wrong value; the ends still fit. */
Test(protocol_parse, timestamps_outside_years_1000_to_9999_are_refused)
{
    json_t *out;

    cr_assert_str_eq(parse_fails("iam", "GetRole",
                                 "<GetRoleResponse><GetRoleResult><Role><RoleName>r</RoleName>"
                                 "<CreateDate>99999999999999</CreateDate></Role></GetRoleResult>"
                                 "</GetRoleResponse>"),
                     "iam GetRole: response value 'Role.CreateDate' is not a timestamp: "
                     "'99999999999999'");
    cr_assert_str_eq(parse_fails("iam", "GetRole",
                                 "<GetRoleResponse><GetRoleResult><Role><RoleName>r</RoleName>"
                                 "<CreateDate>Mon, 01 Jan 0999 00:00:00 GMT</CreateDate></Role>"
                                 "</GetRoleResult></GetRoleResponse>"),
                     "iam GetRole: response value 'Role.CreateDate' is not a timestamp: "
                     "'Mon, 01 Jan 0999 00:00:00 GMT'");
    cr_assert_str_eq(
        parse_fails("dynamodb", "DescribeTable", "{\"Table\": {\"CreationDateTime\": -1e12}}"),
        "dynamodb DescribeTable: response value 'Table.CreationDateTime' is not a "
        "timestamp");
    assert_invalid("rds", "DescribeEvents", "{\"StartTime\": 1e15}",
                   "DescribeEvents: StartTime must be a timestamp (ISO 8601 or epoch seconds)");
    out = parse_ok("dynamodb", "DescribeTable", 200,
                   "{\"Table\": {\"CreationDateTime\": 253402300799.5, "
                   "\"ArchivalSummary\": {\"ArchivalDateTime\": -30610224000}}}");
    assert_json(out, "{\"Table\": {\"CreationDateTime\": \"9999-12-31T23:59:59Z\", "
                     "\"ArchivalSummary\": {\"ArchivalDateTime\": \"1000-01-01T00:00:00Z\"}}}");
    json_decref(out);
}

Test(protocol_parse, xml_bad_values_name_the_member_path)
{
    cr_assert_str_eq(parse_fails("iam", "ListRoles",
                                 "<ListRolesResponse><ListRolesResult><Roles><member>"
                                 "<MaxSessionDuration>1h</MaxSessionDuration></member></Roles>"
                                 "</ListRolesResult></ListRolesResponse>"),
                     "iam ListRoles: response value 'Roles[0].MaxSessionDuration' is not an "
                     "integer: '1h'");
    cr_assert_str_eq(parse_fails("iam", "GetAccountSummary",
                                 "<R><GetAccountSummaryResult><SummaryMap><entry><key>Users</key>"
                                 "</entry></SummaryMap></GetAccountSummaryResult></R>"),
                     "iam GetAccountSummary: response map 'SummaryMap' has an entry without a "
                     "value");
}

Test(protocol_parse, xml_malformed_bodies_name_the_operation_and_position)
{
    cr_assert_str_eq(parse_fails("sts", "GetCallerIdentity",
                                 "<GetCallerIdentityResponse>\n<GetCallerIdentityResult>\n"
                                 "</GetCallerIdentityResponse>"),
                     "sts GetCallerIdentity: malformed XML at line 3, column 3: mismatched tag");
    cr_assert_str_eq(parse_fails("sts", "GetCallerIdentity", ""),
                     "sts GetCallerIdentity: malformed XML at line 1, column 1: no element found");
}

Test(protocol_parse, xml_limits_hold_in_responses)
{
    struct plumb_buf doc = PLUMB_BUF_INIT;
    int i;

    for (i = 0; i <= PLUMB_XML_MAX_DEPTH; i++)
        plumb_buf_puts(&doc, "<Tagging>");
    for (i = 0; i <= PLUMB_XML_MAX_DEPTH; i++)
        plumb_buf_puts(&doc, "</Tagging>");
    cr_assert(strstr(parse_fails("s3", "GetBucketTagging", doc.ptr),
                     "s3 GetBucketTagging: XML nested deeper than 128 levels"));
    plumb_buf_release(&doc);
    cr_assert(strstr(parse_fails("s3", "GetBucketTagging",
                                 "<!DOCTYPE t [<!ENTITY a \"b\">]><Tagging>&a;</Tagging>"),
                     "XML entity declarations are not allowed"));
}

Test(protocol_parse, rest_xml_headers_and_document_payloads)
{
    struct plumb_http_response resp;
    json_t *out = NULL;

    response(&resp, 200, "", "Content-Length", "5", "last-modified",
             "Thu, 29 Feb 2024 12:34:56 GMT", "X-Amz-Meta-Owner", "plumb",
             "x-amz-server-side-encryption-bucket-key-enabled", "true", NULL);
    cr_assert_eq(plumb_aws_protocol_parse(&out, service("s3"), "HeadObject", &resp), 0, "%s",
                 plumb_error_message());
    assert_json(out, "{\"ContentLength\": 5, \"LastModified\": \"2024-02-29T12:34:56Z\","
                     " \"Metadata\": {\"Owner\": \"plumb\"}, \"BucketKeyEnabled\": true}");
    json_decref(out);
    plumb_http_response_release(&resp);
    /* A document payload without a body is {} (botocore). */
    out = parse_ok("s3", "GetBucketEncryption", 200, "");
    assert_json(out, "{\"ServerSideEncryptionConfiguration\": {}}");
    json_decref(out);
}

/* ---- errors ---------------------------------------------------------------------------- */

static void parse_error(struct plumb_aws_error_info *info, const char *key,
                        struct plumb_http_response *resp)
{
    plumb_aws_protocol_parse_error(info, service(key), resp);
    plumb_http_response_release(resp);
}

Test(protocol_errors, json_type_is_cut_to_the_code)
{
    struct plumb_http_response resp;
    struct plumb_aws_error_info info;

    response(&resp, 400,
             "{\"__type\": \"com.amazonaws.ecs#ClusterNotFoundException:http://internal/\","
             " \"message\": \"Cluster not found.\"}",
             "x-amzn-RequestId", "rid-1", NULL);
    parse_error(&info, "ecs", &resp);
    cr_assert_eq(info.status, 400);
    cr_assert_str_eq(info.code, "ClusterNotFoundException");
    cr_assert_str_eq(info.message, "Cluster not found.");
    cr_assert_str_eq(info.request_id, "rid-1");
}

Test(protocol_errors, json_code_from_header_and_capitalised_message)
{
    struct plumb_http_response resp;
    struct plumb_aws_error_info info;

    response(&resp, 400, "{\"Message\": \"Rate exceeded\"}", "X-Amzn-ErrorType",
             "ThrottlingException:http://internal.amazon.com/coral/", NULL);
    parse_error(&info, "logs", &resp);
    cr_assert_str_eq(info.code, "ThrottlingException");
    cr_assert_str_eq(info.message, "Rate exceeded");
    cr_assert_str_eq(info.request_id, "");
}

Test(protocol_errors, json_body_that_is_not_json_is_the_message)
{
    struct plumb_http_response resp;
    struct plumb_aws_error_info info;

    response(&resp, 502, "<html>Bad Gateway</html>", NULL);
    parse_error(&info, "dynamodb", &resp);
    cr_assert_str_eq(info.code, "BadGateway");
    cr_assert_str_eq(info.message, "<html>Bad Gateway</html>");
    response(&resp, 418, "", NULL);
    parse_error(&info, "dynamodb", &resp);
    cr_assert_str_eq(info.code, "HTTP 418");
    cr_assert_str_eq(info.message, "");
}

Test(protocol_errors, query_error_response)
{
    struct plumb_http_response resp;
    struct plumb_aws_error_info info;

    response(&resp, 400,
             "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
             "<Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>"
             "</Error><RequestId>body-rid</RequestId></ErrorResponse>",
             "x-amzn-RequestId", "header-rid", NULL);
    parse_error(&info, "sts", &resp);
    cr_assert_str_eq(info.code, "Throttling");
    cr_assert_str_eq(info.message, "Rate exceeded");
    cr_assert_str_eq(info.request_id, "body-rid");
}

Test(protocol_errors, ec2_errors_response)
{
    struct plumb_http_response resp;
    struct plumb_aws_error_info info;

    response(&resp, 400,
             "<Response><Errors><Error><Code>InvalidGroup.NotFound</Code>"
             "<Message>The security group 'sg-1' does not exist</Message></Error></Errors>"
             "<RequestID>ec2-rid</RequestID></Response>",
             NULL);
    parse_error(&info, "ec2", &resp);
    cr_assert_str_eq(info.code, "InvalidGroup.NotFound");
    cr_assert_str_eq(info.message, "The security group 'sg-1' does not exist");
    cr_assert_str_eq(info.request_id, "ec2-rid");
}

Test(protocol_errors, s3_error_document)
{
    struct plumb_http_response resp;
    struct plumb_aws_error_info info;

    response(&resp, 403,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
             "<Message>Access Denied</Message><RequestId>4442587FB7D0A2F9</RequestId>"
             "<HostId>host</HostId></Error>",
             "x-amz-id-2", "host", NULL);
    parse_error(&info, "s3", &resp);
    cr_assert_eq(info.status, 403);
    cr_assert_str_eq(info.code, "AccessDenied");
    cr_assert_str_eq(info.message, "Access Denied");
    cr_assert_str_eq(info.request_id, "4442587FB7D0A2F9");
}

Test(protocol_errors, s3_head_errors_take_their_code_from_the_status)
{
    struct plumb_http_response resp;
    struct plumb_aws_error_info info;

    response(&resp, 404, "", "x-amz-request-id", "s3-rid", "x-amz-id-2", "host", NULL);
    parse_error(&info, "s3", &resp);
    cr_assert_str_eq(info.code, "NotFound");
    cr_assert_str_eq(info.message, "");
    cr_assert_str_eq(info.request_id, "s3-rid");
    response(&resp, 403, "", "x-amz-id-2", "host-only", NULL);
    parse_error(&info, "s3", &resp);
    cr_assert_str_eq(info.code, "Forbidden");
    cr_assert_str_eq(info.request_id, "host-only");
    response(&resp, 301, "", "x-amz-bucket-region", "eu-west-1", NULL);
    parse_error(&info, "s3", &resp);
    cr_assert_str_eq(info.code, "PermanentRedirect");
    cr_assert_str_eq(info.request_id, "");
}

Test(protocol_errors, long_messages_are_truncated)
{
    struct plumb_http_response resp;
    struct plumb_aws_error_info info;
    struct plumb_buf body = PLUMB_BUF_INIT;
    int i;

    plumb_buf_puts(&body, "{\"__type\": \"X\", \"message\": \"");
    for (i = 0; i < 3000; i++)
        plumb_buf_putc(&body, 'm');
    plumb_buf_puts(&body, "\"}");
    response(&resp, 400, body.ptr, NULL);
    parse_error(&info, "ecs", &resp);
    cr_assert_eq(strlen(info.message), sizeof(info.message) - 1);
    cr_assert_str_eq(info.code, "X");
    plumb_buf_release(&body);
}
