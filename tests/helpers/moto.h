/*
 * moto for driver tests: a server of the test's own, with signature and IAM checking on,
 * and an independent client (the aws CLI, boto3) to check what a driver did.
 *
 *   static struct test_moto moto;
 *   TestSuite(ecr, .init = setup, .fini = teardown);   setup: test_moto_start(&moto, 1)
 *   json_t *out; test_aws_cli(&out, "ecr describe-repositories --repository-names %s", name);
 */
#ifndef TESTS_HELPERS_MOTO_H
#define TESTS_HELPERS_MOTO_H

#include <jansson.h>

#include "aws/aws.h"
#include "helpers/server.h"

struct test_moto {
    struct test_server server;
    char home[256];
};

/*
 * Starts moto on a free port with a clean AWS environment (HOME in a temporary directory,
 * no AWS_* from outside) pointing at it. With `auth`, creates an IAM user with an allow-all
 * policy and an access key, exports that key, and turns on moto's SigV4 and IAM checks.
 * Returns 0 or -1 (with a message on stderr).
 */
int test_moto_start(struct test_moto *m, int auth);
void test_moto_stop(struct test_moto *m);

/* A new client for the running moto (asserts on failure). */
struct plumb_aws *test_moto_client(void);

/*
 * Runs `aws <args> --output json` (args formatted like printf; quote values yourself) and
 * parses its stdout: *out is the JSON (NULL when the command printed nothing or failed).
 * Returns the command's exit status. stderr of a failing command is printed.
 */
int test_aws_cli(json_t **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Runs Python `code` with `c = lambda name: boto3.client(name)` already pointed at moto;
 * the code prints JSON (json.dumps(..., default=str)) to stdout, parsed into *out.
 * Returns the exit status.
 */
int test_boto3(json_t **out, const char *code);

#endif
