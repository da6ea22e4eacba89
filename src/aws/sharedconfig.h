/*
 * The shared AWS configuration files: ~/.aws/config (AWS_CONFIG_FILE), where profiles are
 * "[profile NAME]" and "[default]", and ~/.aws/credentials (AWS_SHARED_CREDENTIALS_FILE),
 * where they are "[NAME]". Values in the credentials file win over the config file's for the
 * same profile, as in the SDKs. Missing files are fine; unreadable or malformed ones are
 * PLUMB_EINVALID naming file and line.
 */
#ifndef PLUMB_AWS_SHAREDCONFIG_H
#define PLUMB_AWS_SHAREDCONFIG_H

struct plumb_aws_shared_config;

/* Reads both files (paths from the environment, else under $HOME/.aws/). */
int plumb_aws_shared_config_load(struct plumb_aws_shared_config **out);
/* Reads the two given files (either may be NULL), for tests. */
int plumb_aws_shared_config_load_files(struct plumb_aws_shared_config **out,
                                       const char *config_path, const char *credentials_path);
void plumb_aws_shared_config_free(struct plumb_aws_shared_config *cfg);

/* 1 when either file has a section for `profile`. */
int plumb_aws_shared_config_has_profile(const struct plumb_aws_shared_config *cfg,
                                        const char *profile);
/* The value of `key` in `profile` (credentials file first), or NULL. Keys are matched
 * case-insensitively; values are trimmed. The sub-properties of a nested property ("s3 ="
 * followed by indented "name = value" lines) are keyed "s3.name", never "name". */
const char *plumb_aws_shared_config_get(const struct plumb_aws_shared_config *cfg,
                                        const char *profile, const char *key);
/* "file:line" of where `key` of `profile` was set, for error messages; NULL if unset. */
const char *plumb_aws_shared_config_where(const struct plumb_aws_shared_config *cfg,
                                          const char *profile, const char *key);
/* The paths read (whether or not the file existed), for messages; NULL when there was none. */
const char *plumb_aws_shared_config_path(const struct plumb_aws_shared_config *cfg);
const char *plumb_aws_shared_config_credentials_path(const struct plumb_aws_shared_config *cfg);

#endif
