/*
 * libFuzzer target for AWS error responses (tests/fuzz/run.sh awserror): whatever a service,
 * a proxy or an attacker sends with a failing status, plumb_aws_protocol_parse_error must
 * give a code, a message and a request id that fit their fields, without crashing, leaking or
 * taking long.
 *
 * An input is three bytes of set-up, then the body:
 *   byte 0   the service, which gives the protocol: json (ecs, dynamodb, logs), query (iam,
 *            elbv2), ec2, rest-xml (s3)
 *   byte 1   the HTTP status
 *   byte 2   the headers sent: bit 0 x-amzn-RequestId, bit 1 x-amz-request-id, bit 2
 *            x-amz-id-2, bit 3 X-Amzn-ErrorType, whose value is then the text up to the
 *            first newline of what follows (json services read the code from it)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/protocol.h"
#include "util/error.h"

static const char *const services[] = {"ecs", "dynamodb", "logs", "iam", "elbv2", "ec2", "s3"};
static const long statuses[] = {400, 403, 404, 409, 429, 500, 503, 301, 307, 412, 0, 599};

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "broken promise: %s\n", what);
        abort();
    }
}

/* A field is NUL-terminated inside its size. */
static int fits(const char *field, size_t size)
{
    return memchr(field, '\0', size) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct plumb_http_response resp;
    struct plumb_aws_error_info info;
    const struct plumb_aws_service *svc;
    const char *body, *nl;
    size_t len, skip;
    uint8_t headers;

    if (size < 3)
        return 0;
    body = (const char *)data + 3;
    len = size - 3;
    check(plumb_aws_model_service(&svc,
                                  services[data[0] % (sizeof(services) / sizeof(*services))]) == 0,
          "the model loads");
    headers = data[2];
    plumb_http_response_init(&resp);
    resp.status = statuses[data[1] % (sizeof(statuses) / sizeof(*statuses))];
    if (headers & 1)
        plumb_kvlist_add(&resp.headers, "x-amzn-RequestId", "header-request-id");
    if (headers & 2)
        plumb_kvlist_add(&resp.headers, "x-amz-request-id", "header-s3-request-id");
    if (headers & 4)
        plumb_kvlist_add(&resp.headers, "x-amz-id-2", "header-host-id");
    if (headers & 8) {
        nl = memchr(body, '\n', len);
        skip = nl ? (size_t)(nl - body) + 1 : len;
        plumb_kvlist_addn(&resp.headers, "X-Amzn-ErrorType", 16, body, nl ? skip - 1 : len);
        body += skip;
        len -= skip;
    }
    plumb_buf_put(&resp.body, body, len);

    plumb_aws_protocol_parse_error(&info, svc, &resp);
    check(info.status == resp.status, "the status is the response's");
    check(fits(info.code, sizeof(info.code)) && fits(info.message, sizeof(info.message)) &&
              fits(info.request_id, sizeof(info.request_id)),
          "every field is NUL-terminated inside it");
    check(info.code[0] != '\0', "there is always a code");
    check(!(headers & 7) || info.request_id[0] != '\0', "a request id header is a request id");
    plumb_http_response_release(&resp);
    return 0;
}
