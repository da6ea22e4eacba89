/* Internal to src/aws/: what the credential chain needs from the client. */
#ifndef PLUMB_AWS_CLIENT_H
#define PLUMB_AWS_CLIENT_H

#include "aws/aws.h"

/*
 * plumb_aws_call with explicit credentials (`creds` NULL: an unsigned request, as STS
 * AssumeRoleWithWebIdentity is sent). Same retries, errors and stats as plumb_aws_call.
 */
int plumb_aws__call_with(struct plumb_aws *aws, const struct plumb_aws_credentials *creds,
                         const char *service, const char *operation, const json_t *input,
                         json_t **out);

#endif
