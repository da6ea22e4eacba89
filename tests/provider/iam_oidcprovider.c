/*
 * AWS::IAM::OIDCProvider against moto with signature checking on, with GitHub Actions' issuer;
 * every outcome checked with the aws CLI as well as the driver's own read.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "helpers/driver.h"
#include "helpers/moto.h"
#include "provider/provider.h"
#include "provider/util.h"
#include "util/error.h"

#define GITHUB  "https://token.actions.githubusercontent.com"
#define THUMB_A "6938fd4d98bab03faadb97b34396831e3780aea1"
#define THUMB_B "1c58a3a8518e8759bf075b76b750d4f2df264fcd"
#define ARN     "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"

static struct test_moto moto;

static void setup(void)
{
    cr_assert_eq(test_moto_start(&moto, 1), 0);
}

static void teardown(void)
{
    test_moto_stop(&moto);
}

TestSuite(driver_iam_oidcprovider, .init = setup, .fini = teardown, .timeout = 180);

static const struct plumb_resource_type *driver(void)
{
    const struct plumb_resource_type *t = plumb_provider_find("AWS::IAM::OIDCProvider");
    cr_assert_not_null(t);
    return t;
}

/* The provider as the aws CLI sees it, or NULL. */
static json_t *cli_provider(const char *arn)
{
    json_t *out = NULL;

    if (test_aws_cli(&out,
                     "iam get-open-id-connect-provider --open-id-connect-provider-arn '%s' "
                     "2>/dev/null",
                     arn) != 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static int has_string(const json_t *list, const char *s)
{
    const json_t *v;
    size_t i;

    json_array_foreach(list, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return 1;
    }
    return 0;
}

Test(driver_iam_oidcprovider, lifecycle)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *after, *ids, *observed = NULL, *again = NULL, *id, *p, *found = NULL, *tags;
    int rc;

    props = json_pack("{s:s, s:[s], s:[s], s:[{s:s, s:s}, {s:s, s:s}]}", "Url", GITHUB,
                      "ClientIdList", "sts.amazonaws.com", "ThumbprintList", THUMB_A, "Tags", "Key",
                      "plumb:env", "Value", "stage", "Key", "team", "Value", "shop");
    cr_assert_eq(t->create(aws, props, &observed), 0, "%s", plumb_error_message());
    test_expect_props(props, observed);
    cr_expect_str_eq(json_string_value(json_object_get(observed, "Arn")), ARN);

    p = cli_provider(ARN);
    cr_assert_not_null(p, "the aws CLI sees the provider");
    cr_expect_str_eq(json_string_value(json_object_get(p, "Url")),
                     "token.actions.githubusercontent.com");
    cr_expect(has_string(json_object_get(p, "ClientIDList"), "sts.amazonaws.com"));
    cr_expect(has_string(json_object_get(p, "ThumbprintList"), THUMB_A));
    json_decref(p);

    id = json_pack("{s:s}", "Arn", ARN);
    cr_assert_eq(t->read(aws, id, &again), 0, "%s", plumb_error_message());
    cr_expect(json_equal(again, observed));
    json_decref(again);

    /* thumbprints as a whole, tags by difference */
    after = json_pack("{s:s, s:[s], s:[s, s], s:[{s:s, s:s}, {s:s, s:s}]}", "Url", GITHUB,
                      "ClientIdList", "sts.amazonaws.com", "ThumbprintList", THUMB_B, THUMB_A,
                      "Tags", "Key", "owner", "Value", "ci", "Key", "plumb:env", "Value", "stage");
    cr_assert_eq(t->update(aws, id, observed, after, &again), 0, "%s", plumb_error_message());
    cr_expect_eq(json_array_size(json_object_get(again, "ThumbprintList")), 2);
    cr_expect(has_string(json_object_get(again, "ThumbprintList"), THUMB_B));
    p = cli_provider(ARN);
    cr_expect_eq(json_array_size(json_object_get(p, "ThumbprintList")), 2);
    cr_expect(has_string(json_object_get(p, "ThumbprintList"), THUMB_B));
    json_decref(p);
    cr_assert_eq(test_aws_cli(&p,
                              "iam list-open-id-connect-provider-tags "
                              "--open-id-connect-provider-arn '%s'",
                              ARN),
                 0);
    tags = plumb_provider_tags_to_map(json_object_get(p, "Tags"));
    cr_expect_str_eq(json_string_value(json_object_get(tags, "owner")), "ci");
    cr_expect_null(json_object_get(tags, "team"), "the removed tag is gone");
    json_decref(tags);
    json_decref(p);
    json_decref(observed);
    observed = again;
    again = NULL;

    /* client ids one by one */
    json_array_append_new(json_object_get(after, "ClientIdList"),
                          json_string("https://github.com/cloudshop"));
    setenv("AWS_MAX_ATTEMPTS", "1", 1); /* moto's answer below is a 500: no retries */
    {
        struct plumb_aws *once = test_moto_client();
        rc = t->update(once, id, observed, after, &again);
        plumb_aws_free(once);
    }
    if (rc == 0) {
        p = cli_provider(ARN);
        cr_expect(has_string(json_object_get(p, "ClientIDList"), "https://github.com/cloudshop"));
        json_decref(p);
    } else {
        /* moto 5.2.1 gap: AddClientIDToOpenIDConnectProvider is not implemented (HTTP 500,
         * NotImplementedError); the driver calls it as AWS documents */
        cr_expect(strstr(plumb_error_message(), "AddClientIDToOpenIDConnectProvider") &&
                      strstr(plumb_error_message(), "500"),
                  "%s", plumb_error_message());
    }
    json_decref(again);
    again = NULL;

    /* lookup finds it by Url */
    cr_assert_eq(t->lookup(aws, props, &found), 0, "%s", plumb_error_message());
    cr_expect(json_equal(found, id));
    json_decref(found);
    found = json_pack("{s:s}", "Url", "https://oidc.example.com");
    cr_assert_eq(t->lookup(aws, found, &again), 0);
    cr_expect_null(again, "no provider for another issuer");
    json_decref(found);

    /* remove; gone for the driver and the CLI; again is fine */
    cr_assert_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());
    cr_assert_eq(t->read(aws, id, &again), 0);
    cr_expect_null(again);
    cr_expect_null(cli_provider(ARN), "the CLI agrees it is gone");
    cr_expect_eq(t->remove(aws, id, 0), 0, "%s", plumb_error_message());

    /* a provider that never existed reads as gone too */
    ids = json_pack("{s:s}", "Arn", "arn:aws:iam::123456789012:oidc-provider/nowhere.example.com");
    cr_assert_eq(t->read(aws, ids, &again), 0, "%s", plumb_error_message());
    cr_expect_null(again);
    json_decref(ids);

    json_decref(props);
    json_decref(after);
    json_decref(observed);
    json_decref(id);
    plumb_aws_free(aws);
}

Test(driver_iam_oidcprovider, aws_errors_keep_their_code)
{
    const struct plumb_resource_type *t = driver();
    struct plumb_aws *aws = test_moto_client();
    json_t *props, *observed = NULL, *made = NULL;

    cr_assert_eq(test_aws_cli(&made,
                              "iam create-open-id-connect-provider --url '%s' --client-id-list "
                              "sts.amazonaws.com --thumbprint-list %s",
                              GITHUB, THUMB_A),
                 0);
    json_decref(made);
    props = json_pack("{s:s, s:[s]}", "Url", GITHUB, "ClientIdList", "sts.amazonaws.com");
    cr_expect_eq(t->create(aws, props, &observed), PLUMB_ECONFLICT);
    cr_expect(strstr(plumb_error_message(), "EntityAlreadyExists") != NULL, "%s",
              plumb_error_message());
    cr_expect(strstr(plumb_error_message(), "request id") != NULL, "%s", plumb_error_message());
    cr_expect_null(observed);
    json_decref(props);
    plumb_aws_free(aws);
}
