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

#include <jansson.h>

#include "aws/http.h"
#include "aws/model.h"

/*
 * Builds the request for `operation` of `svc` from `input` (an object, or NULL for none):
 * method, path (raw, as the model's requestUri with labels filled in), query, protocol
 * headers (Content-Type, X-Amz-Target, Content-MD5 where the model requires a checksum,
 * rest-xml header members) and body. Leaves url_base and Host to the caller.
 * Missing required members and values of the wrong JSON type are PLUMB_EINVALID, naming the
 * member path ("DescribeServices: services[0] must be a string").
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

#endif
