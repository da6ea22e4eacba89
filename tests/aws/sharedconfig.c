/*
 * The shared AWS files, ~/.aws/config and ~/.aws/credentials: section names, comments,
 * nested sub-sections, which file wins, where a value came from, and the one-line errors for
 * files that cannot be read or have a line that is not INI.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aws/sharedconfig.h"
#include "util/error.h"

extern char **environ;

static char dir[256];

static void unset_aws_env(void)
{
    char name[256];
    char **e;
    int again = 1;

    while (again) {
        again = 0;
        for (e = environ; *e; e++) {
            if (strncmp(*e, "AWS_", 4) == 0) {
                snprintf(name, sizeof(name), "%.*s", (int)strcspn(*e, "="), *e);
                unsetenv(name);
                again = 1;
                break;
            }
        }
    }
}

/* A fresh HOME per test, no AWS_* variables from the developer's shell. */
static void setup(void)
{
    unset_aws_env();
    snprintf(dir, sizeof(dir), "/tmp/plumb-sharedconfig-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    setenv("HOME", dir, 1);
}

static void teardown(void)
{
    char cmd[700];

    snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", dir, dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* Writes `text` to `name` under the test's directory; the path is static until next call. */
static const char *put(const char *name, const char *text)
{
    static char paths[4][512];
    static int next;
    char *path = paths[next++ % 4];
    FILE *fp;

    snprintf(path, 512, "%s/%s", dir, name);
    fp = fopen(path, "w");
    cr_assert_not_null(fp, "cannot write %s", path);
    fputs(text, fp);
    fclose(fp);
    return path;
}

static struct plumb_aws_shared_config *load(const char *config, const char *credentials)
{
    struct plumb_aws_shared_config *cfg = NULL;
    int rc = plumb_aws_shared_config_load_files(&cfg, config, credentials);

    cr_assert_eq(rc, 0, "load failed: %s", plumb_error_message());
    cr_assert_not_null(cfg);
    return cfg;
}

/* Loading must fail with PLUMB_EINVALID and the message must start with `prefix`. */
static void expect_invalid(const char *config, const char *credentials, const char *prefix)
{
    struct plumb_aws_shared_config *cfg = (void *)1;
    int rc = plumb_aws_shared_config_load_files(&cfg, config, credentials);

    cr_assert_eq(rc, PLUMB_EINVALID, "expected PLUMB_EINVALID, got %d", rc);
    cr_assert_null(cfg);
    cr_assert_eq(strncmp(plumb_error_message(), prefix, strlen(prefix)), 0,
                 "message '%s' does not start with '%s'", plumb_error_message(), prefix);
    cr_assert_null(strchr(plumb_error_message(), '\n'), "message is not one line");
}

TestSuite(sharedconfig, .init = setup, .fini = teardown);

Test(sharedconfig, config_profiles_comments_and_trimming)
{
    const char *path = put("config", "# a comment\n"
                                     "; another\n"
                                     "[default]\n"
                                     "region = eu-west-1   \n"
                                     "Output=json\n"
                                     "\n"
                                     "[profile   dev  ]   # trailing comment\n"
                                     "  region =  us-east-1\n"
                                     "role_arn=arn:aws:iam::123456789012:role/dev\n"
                                     "[sso-session corp]\n"
                                     "sso_region = us-west-2\n"
                                     "[services local]\n"
                                     "region = ap-south-1\n"
                                     "[ignored]\n"
                                     "region = sa-east-1\n");
    struct plumb_aws_shared_config *cfg = load(path, NULL);

    cr_expect(plumb_aws_shared_config_has_profile(cfg, "default"));
    cr_expect(plumb_aws_shared_config_has_profile(cfg, "dev"));
    cr_expect_str_eq(plumb_aws_shared_config_get(cfg, "default", "region"), "eu-west-1");
    cr_expect_str_eq(plumb_aws_shared_config_get(cfg, "default", "OUTPUT"), "json");
    cr_expect_str_eq(plumb_aws_shared_config_get(cfg, "dev", "region"), "us-east-1");
    cr_expect_str_eq(plumb_aws_shared_config_get(cfg, "dev", "role_arn"),
                     "arn:aws:iam::123456789012:role/dev");
    /* Sections that are not profiles hold nothing a profile sees. */
    cr_expect_not(plumb_aws_shared_config_has_profile(cfg, "corp"));
    cr_expect_not(plumb_aws_shared_config_has_profile(cfg, "sso-session corp"));
    cr_expect_not(plumb_aws_shared_config_has_profile(cfg, "local"));
    cr_expect_not(plumb_aws_shared_config_has_profile(cfg, "ignored"));
    cr_expect_null(plumb_aws_shared_config_get(cfg, "dev", "sso_region"));
    cr_expect_str_eq(plumb_aws_shared_config_path(cfg), path);
    cr_expect_null(plumb_aws_shared_config_credentials_path(cfg));
    plumb_aws_shared_config_free(cfg);
}

Test(sharedconfig, nested_subsections_stay_out_of_top_level)
{
    const char *path = put("config", "[default]\n"
                                     "s3 =\n"
                                     "  max_concurrent_requests = 20\n"
                                     "  region = should-not-leak\n"
                                     "region = us-west-1\n"
                                     "[profile x]\n"
                                     "s3 =\n"
                                     "    addressing_style = path\n");
    struct plumb_aws_shared_config *cfg = load(path, NULL);

    cr_expect_str_eq(plumb_aws_shared_config_get(cfg, "default", "region"), "us-west-1");
    cr_expect_null(plumb_aws_shared_config_get(cfg, "default", "max_concurrent_requests"));
    cr_expect_str_eq(plumb_aws_shared_config_get(cfg, "default", "s3.max_concurrent_requests"),
                     "20");
    cr_expect_str_eq(plumb_aws_shared_config_get(cfg, "default", "s3.region"), "should-not-leak");
    cr_expect_str_eq(plumb_aws_shared_config_get(cfg, "default", "s3"), "");
    cr_expect_str_eq(plumb_aws_shared_config_get(cfg, "x", "s3.addressing_style"), "path");
    cr_expect_null(plumb_aws_shared_config_get(cfg, "x", "addressing_style"));
    plumb_aws_shared_config_free(cfg);
}

Test(sharedconfig, credentials_file_wins_and_where_names_file_and_line)
{
    const char *config = put("config", "[profile dev]\n"
                                       "region = us-east-2\n"
                                       "aws_access_key_id = AKIDCONFIG\n");
    const char *creds = put("credentials", "[dev]\n"
                                           "aws_access_key_id = AKIDCREDS\n"
                                           "aws_secret_access_key = s3cr3t\n");
    struct plumb_aws_shared_config *cfg = load(config, creds);
    char want[600];

    cr_expect_str_eq(plumb_aws_shared_config_get(cfg, "dev", "aws_access_key_id"), "AKIDCREDS");
    cr_expect_str_eq(plumb_aws_shared_config_get(cfg, "dev", "region"), "us-east-2");
    snprintf(want, sizeof(want), "%s:2", creds);
    cr_expect_str_eq(plumb_aws_shared_config_where(cfg, "dev", "aws_access_key_id"), want);
    snprintf(want, sizeof(want), "%s:2", config);
    cr_expect_str_eq(plumb_aws_shared_config_where(cfg, "dev", "region"), want);
    cr_expect_null(plumb_aws_shared_config_where(cfg, "dev", "role_arn"));
    cr_expect_null(plumb_aws_shared_config_get(cfg, "nope", "region"));
    cr_expect_str_eq(plumb_aws_shared_config_credentials_path(cfg), creds);
    plumb_aws_shared_config_free(cfg);
}

Test(sharedconfig, section_names_differ_between_the_files)
{
    /* "[dev]" is a profile in the credentials file only; "[profile dev]" only in config. */
    const char *config = put("config", "[dev]\nregion = a\n[profile prod]\nregion = b\n");
    const char *creds = put("credentials", "[profile other]\nregion = c\n[ci]\nregion = d\n");
    struct plumb_aws_shared_config *cfg = load(config, creds);

    cr_expect_not(plumb_aws_shared_config_has_profile(cfg, "dev"));
    cr_expect(plumb_aws_shared_config_has_profile(cfg, "prod"));
    cr_expect(plumb_aws_shared_config_has_profile(cfg, "ci"));
    cr_expect_not(plumb_aws_shared_config_has_profile(cfg, "other"));
    cr_expect(plumb_aws_shared_config_has_profile(cfg, "profile other"));
    plumb_aws_shared_config_free(cfg);
}

Test(sharedconfig, later_values_win_and_split_sections_merge)
{
    const char *config = put("config", "[default]\n"
                                       "region = first\n"
                                       "output = text\n"
                                       "[profile dev]\n"
                                       "region = dev\n"
                                       "[default]\n"
                                       "region = second\n");
    struct plumb_aws_shared_config *cfg = load(config, NULL);

    cr_expect_str_eq(plumb_aws_shared_config_get(cfg, "default", "region"), "second");
    cr_expect_str_eq(plumb_aws_shared_config_get(cfg, "default", "output"), "text");
    plumb_aws_shared_config_free(cfg);
}

Test(sharedconfig, crlf_bom_and_continued_values)
{
    const char *config = put("config", "\xEF\xBB\xBF[default]\r\n"
                                       "region = eu-north-1\r\n"
                                       "ca_bundle = first\r\n"
                                       "    second\r\n");
    struct plumb_aws_shared_config *cfg = load(config, NULL);

    cr_expect_str_eq(plumb_aws_shared_config_get(cfg, "default", "region"), "eu-north-1");
    cr_expect_str_eq(plumb_aws_shared_config_get(cfg, "default", "ca_bundle"), "first\nsecond");
    plumb_aws_shared_config_free(cfg);
}

Test(sharedconfig, missing_files_are_fine)
{
    char config[512], creds[512];
    struct plumb_aws_shared_config *cfg;

    snprintf(config, sizeof(config), "%s/nope/config", dir);
    snprintf(creds, sizeof(creds), "%s/credentials", dir);
    cfg = load(config, creds);
    cr_expect_not(plumb_aws_shared_config_has_profile(cfg, "default"));
    cr_expect_null(plumb_aws_shared_config_get(cfg, "default", "region"));
    cr_expect_str_eq(plumb_aws_shared_config_path(cfg), config);
    cr_expect_str_eq(plumb_aws_shared_config_credentials_path(cfg), creds);
    plumb_aws_shared_config_free(cfg);
}

Test(sharedconfig, paths_from_environment_and_home)
{
    struct plumb_aws_shared_config *cfg;
    char want[600];

    snprintf(want, sizeof(want), "%s/.aws", dir);
    cr_assert_eq(mkdir(want, 0700), 0);
    put(".aws/config", "[default]\nregion = in-dot-aws\n");
    put("config", "[default]\nregion = from-home\n");
    cr_assert_eq(plumb_aws_shared_config_load(&cfg), 0, "%s", plumb_error_message());
    snprintf(want, sizeof(want), "%s/.aws/config", dir);
    cr_expect_str_eq(plumb_aws_shared_config_path(cfg), want);
    snprintf(want, sizeof(want), "%s/.aws/credentials", dir);
    cr_expect_str_eq(plumb_aws_shared_config_credentials_path(cfg), want);
    cr_expect_str_eq(plumb_aws_shared_config_get(cfg, "default", "region"), "in-dot-aws");
    plumb_aws_shared_config_free(cfg);

    setenv("AWS_CONFIG_FILE", "~/config", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", put("creds", "[default]\nregion = from-creds\n"), 1);
    cr_assert_eq(plumb_aws_shared_config_load(&cfg), 0, "%s", plumb_error_message());
    snprintf(want, sizeof(want), "%s/config", dir);
    cr_expect_str_eq(plumb_aws_shared_config_path(cfg), want);
    cr_expect_str_eq(plumb_aws_shared_config_get(cfg, "default", "region"), "from-creds");
    plumb_aws_shared_config_free(cfg);

    /* An empty variable counts as unset, as in the SDKs. */
    setenv("AWS_SHARED_CREDENTIALS_FILE", "", 1);
    cr_assert_eq(plumb_aws_shared_config_load(&cfg), 0, "%s", plumb_error_message());
    snprintf(want, sizeof(want), "%s/.aws/credentials", dir);
    cr_expect_str_eq(plumb_aws_shared_config_credentials_path(cfg), want);
    cr_expect_str_eq(plumb_aws_shared_config_get(cfg, "default", "region"), "from-home");
    plumb_aws_shared_config_free(cfg);
}

Test(sharedconfig, directory_is_unreadable)
{
    char want[600];

    snprintf(want, sizeof(want), "unable to read '%s': Is a directory", dir);
    expect_invalid(NULL, dir, want);
}

Test(sharedconfig, permission_denied_is_unreadable)
{
    const char *path = put("config", "[default]\nregion = x\n");
    char want[600];

    /* root reads whatever the mode says: there is nothing to test there. */
    if (geteuid() == 0)
        cr_skip_test("running as root: file modes do not deny reads");
    chmod(path, 0);
    snprintf(want, sizeof(want), "unable to read '%s': Permission denied", path);
    expect_invalid(path, NULL, want);
}

Test(sharedconfig, malformed_line_names_file_and_line_without_the_secret)
{
    const char *path = put("credentials", "[default]\n"
                                          "aws_access_key_id = AKIDEXAMPLE\n"
                                          "aws_secret_access_key wJalrXUtnFEMIK7MDENG\n");
    char want[600];

    snprintf(want, sizeof(want), "%s:3: expected 'name = value'", path);
    expect_invalid(NULL, path, want);
    cr_expect_null(strstr(plumb_error_message(), "wJalrXUtnFEMIK7MDENG"), "secret in '%s'",
                   plumb_error_message());
}

Test(sharedconfig, malformed_headers_and_orphans)
{
    char want[600];
    const char *path;

    path = put("config", "[default]\nregion = x\n[profile dev\n");
    snprintf(want, sizeof(want), "%s:3: expected ']'", path);
    expect_invalid(path, NULL, want);

    path = put("config", "region = x\n[default]\n");
    snprintf(want, sizeof(want), "%s:1: property outside any [section]", path);
    expect_invalid(path, NULL, want);

    path = put("config", "[default]\n = x\n");
    snprintf(want, sizeof(want), "%s:2: empty property name", path);
    expect_invalid(path, NULL, want);

    path = put("config", "# c\n[ ]\n");
    snprintf(want, sizeof(want), "%s:2: empty section name", path);
    expect_invalid(path, NULL, want);

    path = put("config", "[profile  ]\n");
    snprintf(want, sizeof(want), "%s:1: empty profile name", path);
    expect_invalid(path, NULL, want);

    path = put("config", "[default] region = x\n");
    snprintf(want, sizeof(want), "%s:1: unexpected text after the section header", path);
    expect_invalid(path, NULL, want);

    path = put("config", "[default]\ns3 =\n  no-equals-here\n");
    snprintf(want, sizeof(want), "%s:3: expected 'name = value'", path);
    expect_invalid(path, NULL, want);
}

Test(sharedconfig, load_reports_the_environment_file)
{
    char want[600];
    const char *path = put("cfg", "[default]\nregion\n");
    struct plumb_aws_shared_config *cfg = (void *)1;

    setenv("AWS_CONFIG_FILE", path, 1);
    cr_assert_eq(plumb_aws_shared_config_load(&cfg), PLUMB_EINVALID);
    cr_assert_null(cfg);
    snprintf(want, sizeof(want), "%s:2: ", path);
    cr_expect_eq(strncmp(plumb_error_message(), want, strlen(want)), 0, "%s",
                 plumb_error_message());
}
