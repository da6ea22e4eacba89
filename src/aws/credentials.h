/*
 * The credential chain, in the AWS SDKs' order (DESIGN.md §7):
 *   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
 *   2. web identity: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE (AWS_ROLE_SESSION_NAME),
 *      STS AssumeRoleWithWebIdentity, unsigned — the GitHub Actions OIDC path;
 *   3. shared files for the active profile: static keys; role_arn with source_profile (chains
 *      followed, loops refused) or credential_source, STS AssumeRole; web_identity_token_file;
 *   4. ECS container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (169.254.170.2) or
 *      AWS_CONTAINER_CREDENTIALS_FULL_URI with AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE);
 *   5. EC2 instance metadata, IMDSv2 (token PUT, then the role's credentials);
 *      AWS_EC2_METADATA_SERVICE_ENDPOINT moves it, AWS_EC2_METADATA_DISABLED=true skips it.
 * Temporary credentials are refreshed when less than five minutes of validity remain.
 */
#ifndef PLUMB_AWS_CREDENTIALS_H
#define PLUMB_AWS_CREDENTIALS_H

#include <jansson.h>

#include "aws/aws.h"
#include "aws/sharedconfig.h"

struct plumb_aws_credentials_chain;

/*
 * The chain for `profile` (from the shared config `cfg`, which must outlive the chain).
 * `aws` is the client used for STS calls (plumb_aws__call_with, unsigned or signed with
 * explicit credentials), so STS endpoints follow AWS_ENDPOINT_URL_STS like every call; it may
 * be NULL when no source needs STS. `profile` NULL means AWS_PROFILE, else "default". A
 * profile other than "default" that neither file has is PLUMB_EINVALID here; "default" may
 * be missing (keys in the environment, an instance role).
 */
int plumb_aws_credentials_chain_new(struct plumb_aws_credentials_chain **out, struct plumb_aws *aws,
                                    const struct plumb_aws_shared_config *cfg, const char *profile);
void plumb_aws_credentials_chain_free(struct plumb_aws_credentials_chain *chain);

/*
 * Current credentials: resolved on first call, cached, refreshed ahead of expiry. Thread-safe.
 * When no source has credentials: PLUMB_EAUTH, naming each source tried and why it was
 * passed over. A source that is configured but broken (an unreadable token file, a profile
 * whose source_profile does not exist, STS refusing the role) is an error at once, not a
 * fall-through: the user asked for that source.
 */
int plumb_aws_credentials_chain_get(struct plumb_aws_credentials *out,
                                    struct plumb_aws_credentials_chain *chain);

/*
 * For tests: the ECS agent's address that AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is relative
 * to ("http://127.0.0.1:PORT"; NULL restores http://169.254.170.2). Not thread-safe: set it
 * before any chain is used.
 */
void plumb_aws__credentials_set_ecs_host(const char *url_base);

#endif
