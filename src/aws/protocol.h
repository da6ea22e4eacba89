/*
 * The four AWS wire protocols plumb speaks (json 1.0/1.1, query, ec2, rest-xml), driven by the
 * embedded models (aws/model.h) the way the AWS SDKs are: one JSON value in, one JSON value
 * out, whatever the protocol.
 *
 * JSON conventions on both sides, for every protocol:
 *   - structures are objects keyed by the model's member names (never locationName);
 *   - lists are arrays, maps are objects;
 *   - integer/long → JSON integer, float/double → JSON real, boolean → true/false;
 *   - timestamps → ISO 8601 UTC strings "2015-08-30T12:36:00Z" in output; input accepts that
 *     form or a number of epoch seconds;
 *   - blobs are base64 strings;
 *   - members the response does not carry are absent (not null); an empty XML list element
 *     of a list shape is [].
 */
#ifndef PLUMB_AWS_PROTOCOL_H
#define PLUMB_AWS_PROTOCOL_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "aws/http.h"
#include "aws/model.h"
#include "util/buf.h"

/*
 * Builds the request for `operation` of `svc` from `input` (an object, or NULL for none):
 * method, path (raw, as the model's requestUri with labels filled in), query, protocol
 * headers (Content-Type, X-Amz-Target, Content-MD5 where the model requires a checksum,
 * rest-xml header members) and body. Leaves url_base and Host to the caller.
 * Missing required members, unknown members and values of the wrong JSON type are
 * PLUMB_EINVALID, naming the member path ("DescribeServices: services[0] must be a string");
 * one message lists every problem found, separated by "; ". JSON null counts as absent.
 * Idempotency-token members left out are filled with a random UUID.
 */
int plumb_aws_protocol_build(struct plumb_http_request *req, const struct plumb_aws_service *svc,
                             const char *operation, const json_t *input);

/*
 * Parses a successful response into `*out` (an object shaped as the operation's output,
 * {} when the operation has none). For rest-xml, header and status-code members are read
 * too. Malformed bodies are PLUMB_ERROR naming the operation.
 */
int plumb_aws_protocol_parse(json_t **out, const struct plumb_aws_service *svc,
                             const char *operation, const struct plumb_http_response *resp);

struct plumb_aws_error_info {
    long status;          /* HTTP status */
    char code[128];       /* "ThrottlingException", "NoSuchBucket"; "HTTP 404" when unknown */
    char message[1024];   /* may be empty */
    char request_id[128]; /* x-amzn-RequestId / x-amz-request-id / body; may be empty */
};

/* Parses an error response of `svc`'s protocol. Never fails: what is missing stays empty,
 * and the code falls back to a name for the status (S3 HEAD errors have no body). */
void plumb_aws_protocol_parse_error(struct plumb_aws_error_info *out,
                                    const struct plumb_aws_service *svc,
                                    const struct plumb_http_response *resp);

/*
 * Internal to src/aws/protocol*.c, which hold one wire format each and share what follows;
 * nothing outside those files calls these.
 */

/* What each wire format implements; the public functions above validate and dispatch. */
struct plumb_aws_protocol__impl {
    /* `input` is validated, idempotency tokens filled; `input_shape` NULL when none. */
    int (*build)(struct plumb_http_request *req, const struct plumb_aws_service *svc,
                 const json_t *op, const json_t *input_shape, const json_t *input);
    /* `output_shape` NULL when the operation has none. */
    int (*parse)(json_t **out, const struct plumb_aws_service *svc, const json_t *op,
                 const json_t *output_shape, const struct plumb_http_response *resp);
    /* Fills code, message and request id from the body; the caller fills the rest. */
    void (*parse_error)(struct plumb_aws_error_info *out, const struct plumb_aws_service *svc,
                        const struct plumb_http_response *resp);
};

extern const struct plumb_aws_protocol__impl plumb_aws_protocol__json;
extern const struct plumb_aws_protocol__impl plumb_aws_protocol__query; /* query and ec2 */
extern const struct plumb_aws_protocol__impl plumb_aws_protocol__rest_xml;

/*
 * A serialization trait of a member ("locationName", "flattened", "timestampFormat", ...):
 * the member reference's own value wins over the shape's, as botocore merges them.
 * `ref` or `shape` may be NULL.
 */
const json_t *plumb_aws_protocol__trait(const json_t *ref, const json_t *shape, const char *key);
const char *plumb_aws_protocol__trait_str(const json_t *ref, const json_t *shape, const char *key);
int plumb_aws_protocol__trait_true(const json_t *ref, const json_t *shape, const char *key);
/* The shape's "type" ("structure", "list", ...), "" when absent. */
const char *plumb_aws_protocol__type(const json_t *shape);

/* An input timestamp (ISO 8601 string or epoch seconds, already validated) as time_t. */
time_t plumb_aws_protocol__input_time(const json_t *value);
/* Appends `t` in a model timestampFormat: "iso8601", "rfc822" or "unixTimestamp". */
int plumb_aws_protocol__put_time(struct plumb_buf *out, time_t t, const char *format);
/* A timestamp as sent by a service (ISO 8601, RFC 822 or epoch seconds, as text or number)
 * as the output string "2015-08-30T12:36:00Z"; NULL when it is none of these. */
json_t *plumb_aws_protocol__output_time(const json_t *value);
json_t *plumb_aws_protocol__output_time_text(const char *text);

/* Appends a scalar input value as text (query/ec2 form values, rest-xml URI labels, query
 * strings, headers, XML text): booleans "true"/"false", numbers as botocore prints them,
 * timestamps in the member's timestampFormat or `default_time_format`. */
int plumb_aws_protocol__put_scalar(struct plumb_buf *out, const json_t *ref, const json_t *shape,
                                   const json_t *value, const char *default_time_format);
/* A scalar sent as text (an XML element's, a header's) as a JSON value of `shape`. */
int plumb_aws_protocol__scalar_from_text(json_t **out, const json_t *shape, const char *text,
                                         const struct plumb_buf *path);

/*
 * Converts the XML element `elem` (aws/xml.h) to a JSON value of `shape`, for the query, ec2
 * and rest-xml formats. `path` names the value in messages ("SecurityGroups[0].GroupId").
 */
int plumb_aws_protocol__from_xml(json_t **out, const struct plumb_aws_service *svc,
                                 const json_t *shape, const json_t *elem, struct plumb_buf *path);
/* Code, message and request id from an XML error body (ErrorResponse/Error, Response/Errors/
 * Error or S3's Error); leaves them empty when the body is not such a document. */
void plumb_aws_protocol__xml_error(struct plumb_aws_error_info *out,
                                   const struct plumb_http_response *resp);
/* Member paths for messages: push appends ".name" (or "name" first), pop cuts back to `len`. */
void plumb_aws_protocol__path_push(struct plumb_buf *path, const char *name);
void plumb_aws_protocol__path_pop(struct plumb_buf *path, size_t len);
/* Copies `s` (NULL is "") into a fixed-size field, truncating. */
void plumb_aws_protocol__copy(char *dst, size_t size, const char *s, size_t len);

#endif
