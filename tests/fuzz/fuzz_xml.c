/*
 * libFuzzer target for the XML the AWS client reads (tests/fuzz/run.sh xml): any body must
 * parse into the generic tree of aws/xml.h or be refused, and a tree must convert to the
 * output of an operation or be refused; what converts must follow aws/protocol.h's JSON
 * conventions for the operation's shapes (timestamps "2015-08-30T12:36:00Z", integers as
 * integers...). All without crashing, leaking or taking long.
 *
 * The corpus is plain response bodies; the operation is the one the root element names, as
 * AWS names them: <OpResponse> for the query and ec2 protocols (the service the namespace
 * names, else the first that has the operation), the S3 root elements below for rest-xml.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/protocol.h"
#include "aws/xml.h"
#include "util/error.h"

/* The query and ec2 services, in the order an operation name is looked up. */
static const char *const query_services[] = {"ec2", "elbv2", "iam", "rds", "sts"};

/* S3 responses name their root after the document, not the operation. */
static const struct {
    const char *root;
    const char *operation;
} s3_roots[] = {
    {"ListAllMyBucketsResult", "ListBuckets"},
    {"ListBucketResult", "ListObjectsV2"},
    {"ListVersionsResult", "ListObjectVersions"},
    {"DeleteResult", "DeleteObjects"},
    {"Tagging", "GetBucketTagging"},
    {"VersioningConfiguration", "GetBucketVersioning"},
    {"ServerSideEncryptionConfiguration", "GetBucketEncryption"},
    {"PublicAccessBlockConfiguration", "GetPublicAccessBlock"},
    {"LifecycleConfiguration", "GetBucketLifecycleConfiguration"},
    {"CORSConfiguration", "GetBucketCors"},
    {"OwnershipControls", "GetBucketOwnershipControls"},
    {"BucketLoggingStatus", "GetBucketLogging"},
    {"WebsiteConfiguration", "GetBucketWebsite"},
    {"LocationConstraint", "GetBucketLocation"},
    {"PolicyStatus", "GetBucketPolicyStatus"},
};

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "broken promise: %s\n", what);
        abort();
    }
}

/* The promises of aws/xml.h, element by element; returns the depth below `elem`. */
static size_t check_tree(const json_t *elem)
{
    const json_t *children = json_object_get(elem, "children"), *attrs, *child, *v;
    const char *name = json_string_value(json_object_get(elem, "name")), *key;
    size_t i, depth = 0, d;

    check(json_is_object(elem), "an element is an object");
    check(name && !strchr(name, ':'), "a name, without its namespace prefix");
    check(json_is_string(json_object_get(elem, "text")), "every element has its text");
    check(json_is_array(children), "every element has its children");
    attrs = json_object_get(elem, "attrs");
    check(!attrs || json_object_size(attrs) > 0, "attrs only when there are attributes");
    json_object_foreach((json_t *)attrs, key, v)
    {
        check(json_is_string(v), "attribute values are strings");
    }
    json_array_foreach(children, i, child)
    {
        d = check_tree(child) + 1;
        depth = d > depth ? d : depth;
        /* Quadratic, so only the first children. */
        if (i < 64) {
            const char *cname = json_string_value(json_object_get(child, "name"));
            const json_t *found = plumb_xml_child(elem, cname);
            check(found && strcmp(json_string_value(json_object_get(found, "name")), cname) == 0,
                  "child finds a child of that name");
            check(i > 0 || found == child, "child finds the first of that name");
        }
    }
    return depth;
}

/* "2015-08-30T12:36:00Z" and nothing else. */
static int is_iso8601(const char *s)
{
    static const char form[] = "dddd-dd-ddTdd:dd:ddZ";
    size_t i;

    for (i = 0; i < sizeof(form) - 1; i++)
        if (form[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != form[i])
            return 0;
    return s[i] == '\0';
}

/* The JSON conventions of aws/protocol.h: the output has the operation's shapes. */
static void check_value(const struct plumb_aws_service *svc, const json_t *shape, const json_t *v)
{
    const char *type = json_string_value(json_object_get(shape, "type")), *key;
    const json_t *members = json_object_get(shape, "members"), *m;
    size_t i;

    if (!type) /* a shape the trimmed model lacks: anything goes */
        return;
    if (strcmp(type, "structure") == 0) {
        check(json_is_object(v), "structures are objects");
        json_object_foreach((json_t *)v, key, m)
        {
            check(json_object_get(members, key) != NULL, "members are the shape's");
            check_value(svc, plumb_aws_model_ref_shape(svc, json_object_get(members, key)), m);
        }
    } else if (strcmp(type, "list") == 0) {
        check(json_is_array(v), "lists are arrays");
        json_array_foreach(v, i, m)
        {
            check_value(svc, plumb_aws_model_ref_shape(svc, json_object_get(shape, "member")), m);
        }
    } else if (strcmp(type, "map") == 0) {
        check(json_is_object(v), "maps are objects");
        json_object_foreach((json_t *)v, key, m)
        {
            check_value(svc, plumb_aws_model_ref_shape(svc, json_object_get(shape, "value")), m);
        }
    } else if (strcmp(type, "integer") == 0 || strcmp(type, "long") == 0) {
        check(json_is_integer(v), "integers are JSON integers");
    } else if (strcmp(type, "float") == 0 || strcmp(type, "double") == 0) {
        check(json_is_real(v), "floats are JSON reals");
    } else if (strcmp(type, "boolean") == 0) {
        check(json_is_boolean(v), "booleans are true or false");
    } else if (strcmp(type, "timestamp") == 0) {
        check(json_is_string(v) && is_iso8601(json_string_value(v)),
              "timestamps are \"2015-08-30T12:36:00Z\"");
    } else {
        check(json_is_string(v), "strings and blobs are strings");
    }
}

/* The service and operation the root element names; 0 when it names none. */
static int operation_of(const struct plumb_aws_service **svc, const char **operation, char op[256],
                        const json_t *root)
{
    const char *name = json_string_value(json_object_get(root, "name"));
    const char *xmlns = json_string_value(json_object_get(json_object_get(root, "attrs"), "xmlns"));
    const struct plumb_aws_service *s, *first = NULL;
    size_t n = strlen(name), i;

    for (i = 0; i < sizeof(s3_roots) / sizeof(s3_roots[0]); i++)
        if (strcmp(name, s3_roots[i].root) == 0) {
            *operation = s3_roots[i].operation;
            return plumb_aws_model_service(svc, "s3") == 0;
        }
    if (n <= strlen("Response") || n >= 256 || strcmp(name + n - 8, "Response") != 0)
        return 0;
    memcpy(op, name, n - 8);
    op[n - 8] = '\0';
    for (i = 0; i < sizeof(query_services) / sizeof(query_services[0]); i++) {
        if (plumb_aws_model_service(&s, query_services[i]) < 0 || !plumb_aws_model_operation(s, op))
            continue;
        if (!first || (xmlns && strstr(xmlns, s->endpoint_prefix)))
            first = s;
    }
    *svc = first;
    *operation = op;
    return first != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct plumb_http_response resp;
    const struct plumb_aws_service *svc;
    const char *operation;
    char op[256];
    json_t *root = NULL, *out = NULL;
    char *text;
    int rc;

    rc = plumb_xml_parse(&root, (const char *)data, size);
    check(rc == 0 || rc == PLUMB_ERROR, "malformed XML is PLUMB_ERROR");
    check((rc == 0) == (root != NULL), "a tree exactly on success");
    if (rc < 0) {
        check(plumb_error_message()[0] != '\0', "a refusal says why");
        goto done;
    }
    check(check_tree(root) < PLUMB_XML_MAX_DEPTH, "no deeper than PLUMB_XML_MAX_DEPTH");
    if (!operation_of(&svc, &operation, op, root))
        goto done;
    plumb_http_response_init(&resp);
    resp.status = 200;
    plumb_buf_put(&resp.body, (const char *)data, size);
    rc = plumb_aws_protocol_parse(&out, svc, operation, &resp);
    check(rc == 0 || rc == PLUMB_ERROR, "a body that does not fit is PLUMB_ERROR");
    check((rc == 0) == json_is_object(out), "an object exactly on success");
    if (rc == 0) {
        check_value(svc,
                    plumb_aws_model_ref_shape(
                        svc, json_object_get(plumb_aws_model_operation(svc, operation), "output")),
                    out);
        text = json_dumps(out, JSON_COMPACT);
        check(text != NULL, "the output is JSON");
        free(text);
    }
    plumb_http_response_release(&resp);
done:
    json_decref(out);
    json_decref(root);
    return 0;
}
