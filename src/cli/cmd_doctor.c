/*
 * plumb doctor: who am I, where, and through which endpoints — the first thing to run when
 * anything AWS-related looks wrong. Prints everything it can even when identity fails, since
 * the region and endpoints are what the user needs to see then. Never prints a secret.
 */
#include <stdio.h>
#include <string.h>

#include "aws/aws.h"
#include "aws/model.h"
#include "cli/cli.h"
#include "util/error.h"

static void print_endpoints(struct plumb_aws *aws)
{
    const char *const *key;
    struct plumb_buf url = PLUMB_BUF_INIT;
    const char *source;

    printf("endpoints:\n");
    for (key = plumb_aws_model_service_keys(); *key; key++) {
        plumb_buf_clear(&url);
        if (plumb_aws_endpoint(&url, &source, aws, *key) < 0)
            printf("  %-26s (unresolved: %s)\n", *key, plumb_error_message());
        else
            printf("  %-26s %s (%s)\n", *key, plumb_buf_cstr(&url), source);
    }
    plumb_buf_release(&url);
}

static void print_setting(struct plumb_aws *aws, const struct plumb_aws_credentials *creds)
{
    size_t n;

    if (creds) {
        /* The key id is not secret, but a masked one is enough to tell two keys apart. */
        n = strlen(creds->access_key_id);
        printf("credentials: %s, key ****%s%s\n", creds->source,
               n > 4 ? creds->access_key_id + n - 4 : "",
               creds->session_token ? ", temporary" : "");
    } else {
        printf("credentials: (none)\n");
    }
    printf("region:      %s (%s)\n", plumb_aws_region(aws) ? plumb_aws_region(aws) : "(none)",
           plumb_aws_region_source(aws) ? plumb_aws_region_source(aws) : "not set");
    printf("profile:     %s\n", plumb_aws_profile(aws));
    print_endpoints(aws);
}

int plumb_cmd_doctor(struct plumb_cli *cli)
{
    struct plumb_aws_credentials creds;
    struct plumb_aws *aws;
    json_t *identity = NULL;
    int code = PLUMB_EXIT_ERROR;

    memset(&creds, 0, sizeof(creds));
    aws = plumb_cli_aws(cli);
    if (!aws)
        return PLUMB_EXIT_ERROR;

    if (plumb_aws_get_credentials(&creds, aws) < 0) {
        print_setting(aws, NULL);
        plumb_cli_error(cli, "credentials");
        goto done;
    }
    if (plumb_aws_call(aws, "sts", "GetCallerIdentity", NULL, &identity) < 0) {
        print_setting(aws, &creds);
        plumb_cli_error(cli, "identity check failed");
        goto done;
    }
    printf("account:     %s\n", json_string_value(json_object_get(identity, "Account")));
    printf("identity:    %s\n", json_string_value(json_object_get(identity, "Arn")));
    print_setting(aws, &creds);
    code = PLUMB_EXIT_OK;
done:
    json_decref(identity);
    plumb_aws_credentials_release(&creds);
    return code;
}
