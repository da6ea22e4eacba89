#include "aws/sharedconfig.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/sys.h"

struct entry {
    char *key;
    char *value;
    char *where; /* "file:line" */
};

struct section {
    char *name; /* the profile name, "default" for [default] */
    struct entry *v;
    size_t n, cap;
};

struct file {
    char *path; /* NULL when there is no path at all (no HOME) */
    struct section *v;
    size_t n, cap;
};

struct plumb_aws_shared_config {
    struct file config;
    struct file credentials;
};

/* What the parser knows about the line before: continuation lines attach to it. */
struct parse_state {
    const char *path;
    unsigned line;
    int in_section;        /* a header was seen: properties are legal */
    struct section *cur;   /* NULL inside a section we ignore ([sso-session x], [services x]) */
    int have_prop;         /* a property line came before in this section */
    int nested;            /* ... and its value was empty: indented lines are sub-properties */
    size_t prop;           /* index of that property in cur */
    struct plumb_buf name; /* of that property, for sub-property keys */
};

static void file_release(struct file *f)
{
    size_t i, j;

    for (i = 0; i < f->n; i++) {
        for (j = 0; j < f->v[i].n; j++) {
            free(f->v[i].v[j].key);
            /* Values include secret keys: do not leave them in freed memory. */
            explicit_bzero(f->v[i].v[j].value, strlen(f->v[i].v[j].value));
            free(f->v[i].v[j].value);
            free(f->v[i].v[j].where);
        }
        free(f->v[i].v);
        free(f->v[i].name);
    }
    free(f->v);
    free(f->path);
    memset(f, 0, sizeof(*f));
}

static struct section *find_section(const struct file *f, const char *name)
{
    size_t i;

    for (i = 0; i < f->n; i++)
        if (strcmp(f->v[i].name, name) == 0)
            return &f->v[i];
    return NULL;
}

static struct entry *find_entry(const struct section *s, const char *key)
{
    size_t i;

    if (!s)
        return NULL;
    for (i = 0; i < s->n; i++)
        if (strcasecmp(s->v[i].key, key) == 0)
            return &s->v[i];
    return NULL;
}

/* The section named `name`, added when new: a profile may be split over several headers. */
static int get_section(struct section **out, struct file *f, const char *name, size_t len)
{
    struct section *s;
    char *copy = NULL;
    size_t i;
    int error = 0;

    copy = strndup(name, len);
    PLUMB_ALLOC_CHECK(copy);
    for (i = 0; i < f->n; i++) {
        if (strcmp(f->v[i].name, copy) == 0) {
            *out = &f->v[i];
            goto done;
        }
    }
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        s = realloc(f->v, cap * sizeof(*s));
        PLUMB_ALLOC_CHECK(s);
        f->v = s;
        f->cap = cap;
    }
    s = &f->v[f->n++];
    memset(s, 0, sizeof(*s));
    s->name = copy;
    copy = NULL;
    *out = s;

done:
    free(copy);
    return error;
}

/* Sets `key` in `s`; a key given twice keeps the later value, as the SDKs do. */
static int set_entry(size_t *out, struct section *s, const char *key, size_t key_len,
                     const char *value, size_t value_len, const char *path, unsigned line)
{
    struct entry e = {NULL, NULL, NULL};
    struct plumb_buf where = PLUMB_BUF_INIT;
    size_t i;
    int error = 0;

    e.key = strndup(key, key_len);
    e.value = strndup(value, value_len);
    PLUMB_ALLOC_CHECK(e.key);
    PLUMB_ALLOC_CHECK(e.value);
    PLUMB_TRY(plumb_buf_printf(&where, "%s:%u", path, line));
    e.where = plumb_buf_detach(&where);
    PLUMB_ALLOC_CHECK(e.where);

    for (i = 0; i < s->n; i++)
        if (strcasecmp(s->v[i].key, e.key) == 0)
            break;
    if (i < s->n) {
        free(s->v[i].key);
        explicit_bzero(s->v[i].value, strlen(s->v[i].value));
        free(s->v[i].value);
        free(s->v[i].where);
    } else {
        if (s->n == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 8;
            struct entry *v = realloc(s->v, cap * sizeof(*v));
            PLUMB_ALLOC_CHECK(v);
            s->v = v;
            s->cap = cap;
        }
        s->n++;
    }
    s->v[i] = e;
    memset(&e, 0, sizeof(e));
    *out = i;

done:
    free(e.key);
    free(e.value);
    free(e.where);
    plumb_buf_release(&where);
    return error;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Trims [*s, *s + *len) of blanks at both ends. */
static void trim(const char **s, size_t *len)
{
    while (*len && is_blank(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && is_blank((*s)[*len - 1]))
        (*len)--;
}

static int parse_header(struct parse_state *st, struct file *f, const char *p, int is_config)
{
    const char *close, *name, *rest;
    size_t len;
    int error = 0;

    close = strchr(p, ']');
    if (!close) {
        error = plumb_error_set(PLUMB_EINVALID, "%s:%u: expected ']' to close the section header",
                                st->path, st->line);
        goto done;
    }
    for (rest = close + 1; is_blank(*rest); rest++)
        ;
    if (*rest && *rest != '#' && *rest != ';') {
        error = plumb_error_set(PLUMB_EINVALID, "%s:%u: unexpected text after the section header",
                                st->path, st->line);
        goto done;
    }
    name = p + 1;
    len = (size_t)(close - name);
    trim(&name, &len);
    if (!len) {
        error = plumb_error_set(PLUMB_EINVALID, "%s:%u: empty section name", st->path, st->line);
        goto done;
    }

    st->in_section = 1;
    st->have_prop = 0;
    st->cur = NULL;
    /*
     * The config file names profiles "[profile NAME]" (and "[default]"); its other sections
     * ([sso-session x], [services x], ...) are legal but none of ours. The credentials file
     * names them "[NAME]".
     */
    if (is_config && !(len == 7 && strncmp(name, "default", 7) == 0)) {
        /* name[7] may be the blank the trim stopped at: "[profile ]" is a typo, not a section. */
        if (strncmp(name, "profile", 7) != 0 || !is_blank(name[7]))
            goto done;
        name += 7;
        len -= 7;
        trim(&name, &len);
        if (!len) {
            error =
                plumb_error_set(PLUMB_EINVALID, "%s:%u: empty profile name", st->path, st->line);
            goto done;
        }
    }
    PLUMB_TRY(get_section(&st->cur, f, name, len));

done:
    return error;
}

/* "name = value", either a property or, under a nested one, a sub-property. */
static int split_property(const char **key, size_t *key_len, const char **value, size_t *value_len,
                          const struct parse_state *st, const char *p)
{
    const char *eq = strchr(p, '=');

    if (!eq)
        return plumb_error_set(PLUMB_EINVALID,
                               "%s:%u: expected 'name = value', a [section] header or a comment",
                               st->path, st->line);
    *key = p;
    *key_len = (size_t)(eq - p);
    trim(key, key_len);
    if (!*key_len)
        return plumb_error_set(PLUMB_EINVALID, "%s:%u: empty property name", st->path, st->line);
    *value = eq + 1;
    *value_len = strlen(*value);
    trim(value, value_len);
    return 0;
}

/*
 * An indented line after a property. After "s3 =" (an empty value) it is a sub-property,
 * kept as "s3.name" so it never shadows a top-level key; after a value it continues that
 * value on a new line, as in Python's configparser, which the AWS CLI uses.
 */
static int parse_continuation(struct parse_state *st, const char *p)
{
    struct plumb_buf key = PLUMB_BUF_INIT;
    struct plumb_buf value = PLUMB_BUF_INIT;
    const char *k, *v;
    size_t klen, vlen, idx;
    int error = 0;

    if (st->nested) {
        PLUMB_TRY(split_property(&k, &klen, &v, &vlen, st, p));
        if (!st->cur)
            goto done;
        PLUMB_TRY(plumb_buf_printf(&key, "%s.", plumb_buf_cstr(&st->name)));
        PLUMB_TRY(plumb_buf_put(&key, k, klen));
        PLUMB_TRY(set_entry(&idx, st->cur, key.ptr, key.len, v, vlen, st->path, st->line));
        goto done;
    }
    if (!st->cur)
        goto done;
    v = p;
    vlen = strlen(p);
    trim(&v, &vlen);
    PLUMB_TRY(plumb_buf_printf(&value, "%s\n", st->cur->v[st->prop].value));
    PLUMB_TRY(plumb_buf_put(&value, v, vlen));
    explicit_bzero(st->cur->v[st->prop].value, strlen(st->cur->v[st->prop].value));
    free(st->cur->v[st->prop].value);
    st->cur->v[st->prop].value = plumb_buf_detach(&value);
    PLUMB_ALLOC_CHECK(st->cur->v[st->prop].value);

done:
    plumb_buf_release(&key);
    if (value.ptr)
        explicit_bzero(value.ptr, value.len);
    plumb_buf_release(&value);
    return error;
}

static int parse_line(struct parse_state *st, struct file *f, char *line, int is_config)
{
    const char *p = line, *k, *v;
    size_t klen, vlen;
    int error = 0;

    while (is_blank(*p))
        p++;
    if (!*p || *p == '#' || *p == ';')
        goto done;
    if (p != line && st->have_prop) {
        PLUMB_TRY(parse_continuation(st, p));
        goto done;
    }
    if (*p == '[') {
        PLUMB_TRY(parse_header(st, f, p, is_config));
        goto done;
    }
    PLUMB_TRY(split_property(&k, &klen, &v, &vlen, st, p));
    if (!st->in_section) {
        error = plumb_error_set(PLUMB_EINVALID, "%s:%u: property outside any [section]", st->path,
                                st->line);
        goto done;
    }
    st->have_prop = 1;
    st->nested = vlen == 0;
    plumb_buf_clear(&st->name);
    PLUMB_TRY(plumb_buf_put(&st->name, k, klen));
    if (st->cur)
        PLUMB_TRY(set_entry(&st->prop, st->cur, k, klen, v, vlen, st->path, st->line));

done:
    return error;
}

static int read_file(struct file *f, const char *path, int is_config)
{
    struct parse_state st;
    struct stat sb;
    FILE *fp = NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int error = 0;

    memset(&st, 0, sizeof(st));
    if (!path)
        goto done;
    f->path = strdup(path);
    PLUMB_ALLOC_CHECK(f->path);
    fp = fopen(path, "r");
    if (!fp) {
        /* No file is the usual case: most machines have only one of the two, or neither. */
        if (errno != ENOENT && errno != ENOTDIR)
            error =
                plumb_error_set(PLUMB_EINVALID, "unable to read '%s': %s", path, strerror(errno));
        goto done;
    }
    /* fopen succeeds on a directory; reading it would fail with a less clear message. */
    if (fstat(fileno(fp), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        error = plumb_error_set(PLUMB_EINVALID, "unable to read '%s': %s", path, strerror(EISDIR));
        goto done;
    }

    st.path = path;
    while ((n = getline(&line, &cap, fp)) >= 0) {
        char *p = line;
        st.line++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        /* Editors on Windows start files with a byte-order mark. */
        if (st.line == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
            memmove(p, p + 3, strlen(p + 3) + 1);
        PLUMB_TRY(parse_line(&st, f, p, is_config));
    }
    if (ferror(fp))
        error = plumb_error_set(PLUMB_EINVALID, "unable to read '%s': %s", path, strerror(errno));

done:
    if (line) {
        explicit_bzero(line, cap);
        free(line);
    }
    plumb_buf_release(&st.name);
    if (fp)
        fclose(fp);
    return error;
}

int plumb_aws_shared_config_load_files(struct plumb_aws_shared_config **out,
                                       const char *config_path, const char *credentials_path)
{
    struct plumb_aws_shared_config *cfg = NULL;
    int error = 0;

    *out = NULL;
    cfg = calloc(1, sizeof(*cfg));
    PLUMB_ALLOC_CHECK(cfg);
    PLUMB_TRY(read_file(&cfg->config, config_path, 1));
    PLUMB_TRY(read_file(&cfg->credentials, credentials_path, 0));
    *out = cfg;
    cfg = NULL;

done:
    plumb_aws_shared_config_free(cfg);
    return error;
}

/* $HOME, else the password database's home, as the SDKs' expanduser("~") does. */
static int home_dir(struct plumb_buf *out)
{
    const char *home = plumb_env_get("HOME");
    struct passwd pw, *res = NULL;
    char tmp[4096];

    if (home)
        return plumb_buf_puts(out, home);
    if (getpwuid_r(getuid(), &pw, tmp, sizeof(tmp), &res) == 0 && res && res->pw_dir)
        return plumb_buf_puts(out, res->pw_dir);
    return 0;
}

/* The path from `env` ("~/" expanded), else $HOME/.aws/`name`; empty when there is none. */
static int file_path(struct plumb_buf *out, const char *env, const char *name)
{
    const char *p = plumb_env_get(env);
    struct plumb_buf home = PLUMB_BUF_INIT;
    int error = 0;

    if (p && strncmp(p, "~/", 2) != 0) {
        PLUMB_TRY(plumb_buf_puts(out, p));
        goto done;
    }
    PLUMB_TRY(home_dir(&home));
    if (!home.len)
        goto done;
    if (p)
        PLUMB_TRY(plumb_buf_printf(out, "%s/%s", home.ptr, p + 2));
    else
        PLUMB_TRY(plumb_buf_printf(out, "%s/.aws/%s", home.ptr, name));

done:
    plumb_buf_release(&home);
    return error;
}

int plumb_aws_shared_config_load(struct plumb_aws_shared_config **out)
{
    struct plumb_buf config = PLUMB_BUF_INIT;
    struct plumb_buf credentials = PLUMB_BUF_INIT;
    int error = 0;

    *out = NULL;
    PLUMB_TRY(file_path(&config, "AWS_CONFIG_FILE", "config"));
    PLUMB_TRY(file_path(&credentials, "AWS_SHARED_CREDENTIALS_FILE", "credentials"));
    PLUMB_TRY(plumb_aws_shared_config_load_files(out, config.ptr, credentials.ptr));

done:
    plumb_buf_release(&config);
    plumb_buf_release(&credentials);
    return error;
}

void plumb_aws_shared_config_free(struct plumb_aws_shared_config *cfg)
{
    if (!cfg)
        return;
    file_release(&cfg->config);
    file_release(&cfg->credentials);
    free(cfg);
}

int plumb_aws_shared_config_has_profile(const struct plumb_aws_shared_config *cfg,
                                        const char *profile)
{
    return find_section(&cfg->credentials, profile) || find_section(&cfg->config, profile);
}

static const struct entry *lookup(const struct plumb_aws_shared_config *cfg, const char *profile,
                                  const char *key)
{
    const struct entry *e = find_entry(find_section(&cfg->credentials, profile), key);

    return e ? e : find_entry(find_section(&cfg->config, profile), key);
}

const char *plumb_aws_shared_config_get(const struct plumb_aws_shared_config *cfg,
                                        const char *profile, const char *key)
{
    const struct entry *e = lookup(cfg, profile, key);

    return e ? e->value : NULL;
}

const char *plumb_aws_shared_config_where(const struct plumb_aws_shared_config *cfg,
                                          const char *profile, const char *key)
{
    const struct entry *e = lookup(cfg, profile, key);

    return e ? e->where : NULL;
}

const char *plumb_aws_shared_config_path(const struct plumb_aws_shared_config *cfg)
{
    return cfg->config.path;
}

const char *plumb_aws_shared_config_credentials_path(const struct plumb_aws_shared_config *cfg)
{
    return cfg->credentials.path;
}
