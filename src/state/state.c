#include "state/state.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "config/value.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/sys.h"

/* Virtual address space only: LMDB grows the file as data arrives. */
#define MAP_SIZE ((size_t)1 << 32)

struct plumb_state {
    char *dir;
    MDB_env *env; /* NULL for a state that does not exist on disk */
    MDB_dbi meta, resources, runs, journal;
    int lock_fd;
    char *lineage;
    long serial;
    unsigned char key[32];
    int have_key;
};

static int mdb_err(int rc, const char *what, const char *dir)
{
    if (rc == MDB_MAP_FULL)
        return plumb_error_set(PLUMB_ERROR, "state in '%s' is full while %s", dir, what);
    return plumb_error_set(PLUMB_ERROR, "state in '%s': %s: %s", dir, what, mdb_strerror(rc));
}

static int read_meta_value(struct plumb_state *s, MDB_txn *txn, const char *key, char **out)
{
    MDB_val k = {strlen(key), (void *)key}, v;
    int rc = mdb_get(txn, s->meta, &k, &v);

    *out = NULL;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return mdb_err(rc, "reading meta", s->dir);
    *out = plumb_strndup(v.mv_data, v.mv_size);
    return *out ? 0 : plumb_error_oom();
}

static int put_str(MDB_txn *txn, MDB_dbi dbi, const char *key, const char *value)
{
    MDB_val k = {strlen(key), (void *)key}, v = {strlen(value), (void *)value};

    return mdb_put(txn, dbi, &k, &v, 0);
}

static void new_uuid(char out[37])
{
    unsigned char b[16];

    if (RAND_bytes(b, sizeof(b)) != 1) {
        uint64_t x = plumb_random_u64(), y = plumb_random_u64();
        memcpy(b, &x, 8);
        memcpy(b + 8, &y, 8);
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

/* The fingerprint key: made once per state, never leaves the state directory. */
static int load_key(struct plumb_state *s, int create)
{
    struct plumb_buf path = PLUMB_BUF_INIT;
    int fd = -1, error = 0;
    ssize_t n;

    plumb_buf_printf(&path, "%s/fingerprint.key", s->dir);
    fd = open(path.ptr, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        if (RAND_bytes(s->key, sizeof(s->key)) != 1) {
            error = plumb_error_set(PLUMB_ERROR, "no randomness for the state key");
            goto done;
        }
        fd = open(path.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, s->key, sizeof(s->key)) != (ssize_t)sizeof(s->key)) {
            error =
                plumb_error_set(PLUMB_ERROR, "unable to write '%s': %s", path.ptr, strerror(errno));
            goto done;
        }
        s->have_key = 1;
        goto done;
    }
    if (fd < 0) {
        if (errno != ENOENT)
            error =
                plumb_error_set(PLUMB_ERROR, "unable to read '%s': %s", path.ptr, strerror(errno));
        goto done;
    }
    n = read(fd, s->key, sizeof(s->key));
    if (n != (ssize_t)sizeof(s->key)) {
        error = plumb_error_set(PLUMB_ERROR, "'%s' is damaged", path.ptr);
        goto done;
    }
    s->have_key = 1;
done:
    if (fd >= 0)
        close(fd);
    plumb_buf_release(&path);
    return error;
}

static int init_env(struct plumb_state *s, int create)
{
    MDB_txn *txn = NULL;
    char *version = NULL, *serial = NULL, uuid[37];
    int rc, error = 0;

    if ((rc = mdb_env_create(&s->env)) || (rc = mdb_env_set_maxdbs(s->env, 8)) ||
        (rc = mdb_env_set_mapsize(s->env, MAP_SIZE)))
        return mdb_err(rc, "opening", s->dir);
    /* MDB_NOTLS: read transactions are not tied to a thread (refresh workers read). */
    if ((rc = mdb_env_open(s->env, s->dir, MDB_NOTLS, 0600)))
        return mdb_err(rc, "opening", s->dir);
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)))
        return mdb_err(rc, "opening", s->dir);
    if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta)) ||
        (rc = mdb_dbi_open(txn, "resources", MDB_CREATE, &s->resources)) ||
        (rc = mdb_dbi_open(txn, "runs", MDB_CREATE, &s->runs)) ||
        (rc = mdb_dbi_open(txn, "journal", MDB_CREATE, &s->journal))) {
        error = mdb_err(rc, "opening databases", s->dir);
        goto done;
    }
    PLUMB_TRY(read_meta_value(s, txn, "format_version", &version));
    if (!version) {
        char num[32];
        new_uuid(uuid);
        snprintf(num, sizeof(num), "%d", PLUMB_STATE_FORMAT_VERSION);
        if ((rc = put_str(txn, s->meta, "format_version", num)) ||
            (rc = put_str(txn, s->meta, "lineage", uuid)) ||
            (rc = put_str(txn, s->meta, "serial", "0"))) {
            error = mdb_err(rc, "initialising", s->dir);
            goto done;
        }
    } else if (atoi(version) > PLUMB_STATE_FORMAT_VERSION) {
        error = plumb_error_set(PLUMB_ERROR,
                                "state in '%s' has format %s, newer than this plumb knows (%d): "
                                "upgrade plumb",
                                s->dir, version, PLUMB_STATE_FORMAT_VERSION);
        goto done;
    }
    /* (Older formats would be migrated here, one version step at a time.) */
    PLUMB_TRY(read_meta_value(s, txn, "lineage", &s->lineage));
    PLUMB_TRY(read_meta_value(s, txn, "serial", &serial));
    s->serial = serial ? atol(serial) : 0;
    if ((rc = mdb_txn_commit(txn))) {
        txn = NULL;
        error = mdb_err(rc, "initialising", s->dir);
        goto done;
    }
    txn = NULL;
    error = load_key(s, create);
done:
    if (txn)
        mdb_txn_abort(txn);
    free(version);
    free(serial);
    return error;
}

int plumb_state_open(struct plumb_state **out, const char *dir, int create)
{
    struct plumb_state *s;
    struct stat st;
    char data[4096];
    int error = 0;

    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return plumb_error_oom();
    s->lock_fd = -1;
    s->dir = strdup(dir);
    PLUMB_ALLOC_CHECK(s->dir);
    snprintf(data, sizeof(data), "%s/data.mdb", dir);
    if (stat(data, &st) < 0) {
        if (!create)
            goto done; /* an empty state: nothing on disk, nothing written */
        {
            /* make state/ and state/<env>/, private to the user */
            char parent[4096], *slash;
            snprintf(parent, sizeof(parent), "%s", dir);
            slash = strrchr(parent, '/');
            if (slash && slash != parent) {
                *slash = '\0';
                mkdir(parent, 0700);
            }
            if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                error =
                    plumb_error_set(PLUMB_ERROR, "unable to create '%s': %s", dir, strerror(errno));
                goto done;
            }
        }
    }
    PLUMB_TRY(init_env(s, create));
done:
    if (error < 0) {
        plumb_state_close(s);
        return error;
    }
    *out = s;
    return 0;
}

void plumb_state_close(struct plumb_state *s)
{
    if (!s)
        return;
    plumb_state_unlock(s);
    if (s->env)
        mdb_env_close(s->env);
    OPENSSL_cleanse(s->key, sizeof(s->key));
    free(s->lineage);
    free(s->dir);
    free(s);
}

int plumb_state_is_locked(const struct plumb_state *s)
{
    return s->lock_fd >= 0;
}

const char *plumb_state_dir(const struct plumb_state *s)
{
    return s->dir;
}

int plumb_state_is_empty(const struct plumb_state *s)
{
    return s->env == NULL;
}

const char *plumb_state_lineage(const struct plumb_state *s)
{
    return s->lineage;
}

long plumb_state_serial(const struct plumb_state *s)
{
    return s->serial;
}

/* ---- the writer lock ------------------------------------------------------------------ */

/*
 * The lock holder's record ({pid, host, operation, since}), or NULL. The holder writes it just
 * after taking the lock, so a refusal in between would find it empty and name nobody (pid 0):
 * it is read again for up to a second before giving up on it.
 */
static json_t *read_holder(int fd)
{
    char held[1024];
    json_t *h;
    ssize_t n;
    int i;

    for (i = 0; i < 100; i++) {
        n = pread(fd, held, sizeof(held) - 1, 0);
        held[n > 0 ? n : 0] = '\0';
        h = json_loads(held, 0, NULL);
        if (json_integer_value(json_object_get(h, "pid")) > 0)
            return h;
        json_decref(h);
        plumb_sleep_ms(10);
    }
    return NULL;
}

static const char *or_unknown(const json_t *h, const char *member)
{
    const char *v = json_string_value(json_object_get(h, member));

    return v ? v : "unknown";
}

int plumb_state_lock(struct plumb_state *s, const char *operation)
{
    struct plumb_buf path = PLUMB_BUF_INIT, info = PLUMB_BUF_INIT;
    char host[256] = "unknown", when[21];
    int fd, error = 0;

    if (s->lock_fd >= 0)
        return 0;
    plumb_buf_printf(&path, "%s/writer.lock", s->dir);
    fd = open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        error = plumb_error_set(PLUMB_ERROR, "unable to open '%s': %s", path.ptr, strerror(errno));
        goto done;
    }
    /* flock dies with its holder: a killed apply never leaves the state locked */
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        json_t *h = read_holder(fd);
        if (h)
            error = plumb_error_set(
                PLUMB_ELOCKED, "state '%s' is locked by pid %lld on host %s, running '%s' since %s",
                s->dir, (long long)json_integer_value(json_object_get(h, "pid")),
                or_unknown(h, "host"), or_unknown(h, "operation"), or_unknown(h, "since"));
        else
            error = plumb_error_set(PLUMB_ELOCKED,
                                    "state '%s' is locked by another plumb process, which has not "
                                    "written who it is",
                                    s->dir);
        json_decref(h);
        close(fd);
        goto done;
    }
    gethostname(host, sizeof(host) - 1);
    plumb_time_iso8601(when, plumb_clock_now());
    plumb_buf_printf(&info,
                     "{\"pid\": %d, \"host\": \"%s\", \"operation\": \"%s\", \"since\": \"%s\"}",
                     (int)getpid(), host, operation, when);
    if (ftruncate(fd, 0) < 0 || pwrite(fd, info.ptr, info.len, 0) != (ssize_t)info.len) {
        error = plumb_error_set(PLUMB_ERROR, "unable to write '%s': %s", path.ptr, strerror(errno));
        close(fd);
        goto done;
    }
    s->lock_fd = fd;
done:
    plumb_buf_release(&path);
    plumb_buf_release(&info);
    return error;
}

void plumb_state_unlock(struct plumb_state *s)
{
    if (s->lock_fd < 0)
        return;
    if (ftruncate(s->lock_fd, 0) < 0) {
        /* the lock is released by close all the same; the holder text is only advice */
    }
    flock(s->lock_fd, LOCK_UN);
    close(s->lock_fd);
    s->lock_fd = -1;
}

/* ---- records ---------------------------------------------------------------------------- */

static int get_json(struct plumb_state *s, MDB_dbi dbi, const char *key, json_t **out)
{
    MDB_txn *txn = NULL;
    MDB_val k = {strlen(key), (void *)key}, v;
    json_error_t jerr;
    int rc, error = 0;

    *out = NULL;
    if (!s->env)
        return 0;
    if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)))
        return mdb_err(rc, "reading", s->dir);
    rc = mdb_get(txn, dbi, &k, &v);
    if (rc == MDB_NOTFOUND)
        goto done;
    if (rc) {
        error = mdb_err(rc, "reading", s->dir);
        goto done;
    }
    *out = json_loadb(v.mv_data, v.mv_size, 0, &jerr);
    if (!*out)
        error = plumb_error_set(PLUMB_ERROR, "state in '%s': record '%s' is damaged: %s", s->dir,
                                key, jerr.text);
done:
    mdb_txn_abort(txn);
    return error;
}

int plumb_state_get(struct plumb_state *s, const char *address, json_t **out)
{
    return get_json(s, s->resources, address, out);
}

/* Every entry of `dbi` whose key starts with `prefix`, in key order: as an object (keyed)
 * or, with as_array, an array of values. */
static int scan(struct plumb_state *s, MDB_dbi dbi, const char *prefix, int as_array, json_t **out)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k = {prefix ? strlen(prefix) : 0, (void *)prefix}, v;
    size_t plen = prefix ? strlen(prefix) : 0;
    int rc, error = 0;
    MDB_cursor_op op;

    *out = as_array ? json_array() : json_object();
    if (!*out)
        return plumb_error_oom();
    if (!s->env)
        return 0;
    if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) ||
        (rc = mdb_cursor_open(txn, dbi, &cur))) {
        error = mdb_err(rc, "reading", s->dir);
        goto done;
    }
    op = plen ? MDB_SET_RANGE : MDB_FIRST;
    for (rc = mdb_cursor_get(cur, &k, &v, op); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        json_t *value;
        char *key;
        if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
            break;
        value = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        if (!value) {
            error = plumb_error_set(PLUMB_ERROR, "state in '%s' has a damaged record", s->dir);
            goto done;
        }
        if (as_array) {
            json_array_append_new(*out, value);
        } else {
            key = plumb_strndup(k.mv_data, k.mv_size);
            json_object_set_new(*out, key, value);
            free(key);
        }
    }
    if (rc != MDB_NOTFOUND && rc != 0)
        error = mdb_err(rc, "reading", s->dir);
done:
    if (cur)
        mdb_cursor_close(cur);
    if (txn)
        mdb_txn_abort(txn);
    if (error < 0) {
        json_decref(*out);
        *out = NULL;
    }
    return error;
}

int plumb_state_all(struct plumb_state *s, json_t **out)
{
    return scan(s, s->resources, NULL, 0, out);
}

static int need_writable(struct plumb_state *s)
{
    if (!s->env)
        return plumb_error_set(PLUMB_ERROR, "state '%s' was opened read-only", s->dir);
    if (s->lock_fd < 0)
        return plumb_error_set(PLUMB_ERROR, "state '%s' is written without its lock", s->dir);
    return 0;
}

static int put_json(MDB_txn *txn, MDB_dbi dbi, const char *key, const json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS);
    MDB_val k = {strlen(key), (void *)key}, v;
    int rc;

    if (!text)
        return ENOMEM;
    v.mv_size = strlen(text);
    v.mv_data = text;
    rc = mdb_put(txn, dbi, &k, &v, 0);
    free(text);
    return rc;
}

/* Commits *txn (gone either way). */
static int commit(struct plumb_state *s, MDB_txn **txn)
{
    int rc = mdb_txn_commit(*txn);

    *txn = NULL;
    return rc ? mdb_err(rc, "committing", s->dir) : 0;
}

int plumb_state_write(struct plumb_state *s, const json_t *puts, const json_t *removes)
{
    MDB_txn *txn = NULL;
    const char *addr;
    json_t *rec;
    char num[32];
    size_t i;
    int rc, error = 0;

    PLUMB_TRY(need_writable(s));
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)))
        return mdb_err(rc, "writing", s->dir);
    json_object_foreach((json_t *)puts, addr, rec)
    {
        if ((rc = put_json(txn, s->resources, addr, rec))) {
            error = mdb_err(rc, "writing", s->dir);
            goto done;
        }
    }
    json_array_foreach(removes, i, rec)
    {
        MDB_val k = {json_string_length(rec), (void *)json_string_value(rec)};
        rc = mdb_del(txn, s->resources, &k, NULL);
        if (rc && rc != MDB_NOTFOUND) {
            error = mdb_err(rc, "writing", s->dir);
            goto done;
        }
    }
    snprintf(num, sizeof(num), "%ld", s->serial + 1);
    if ((rc = put_str(txn, s->meta, "serial", num))) {
        error = mdb_err(rc, "writing", s->dir);
        goto done;
    }
    PLUMB_TRY(commit(s, &txn));
    s->serial++;
done:
    if (txn)
        mdb_txn_abort(txn);
    return error;
}

int plumb_state_put(struct plumb_state *s, const char *address, const json_t *record)
{
    json_t *puts = json_object();
    int error;

    json_object_set(puts, address, (json_t *)record);
    error = plumb_state_write(s, puts, NULL);
    json_decref(puts);
    return error;
}

int plumb_state_remove(struct plumb_state *s, const char *address)
{
    json_t *removes = json_pack("[s]", address);
    int error = plumb_state_write(s, NULL, removes);

    json_decref(removes);
    return error;
}

int plumb_state_meta_get(struct plumb_state *s, const char *key, char **out)
{
    MDB_txn *txn = NULL;
    int rc, error;

    *out = NULL;
    if (!s->env)
        return 0;
    if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)))
        return mdb_err(rc, "reading", s->dir);
    error = read_meta_value(s, txn, key, out);
    mdb_txn_abort(txn);
    return error;
}

int plumb_state_meta_put(struct plumb_state *s, const char *key, const char *value)
{
    MDB_txn *txn = NULL;
    int rc, error = 0;

    PLUMB_TRY(need_writable(s));
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)))
        return mdb_err(rc, "writing", s->dir);
    if ((rc = put_str(txn, s->meta, key, value))) {
        mdb_txn_abort(txn);
        return mdb_err(rc, "writing", s->dir);
    }
    PLUMB_TRY(commit(s, &txn));
done:
    return error;
}

/* ---- runs and the journal ---------------------------------------------------------------- */

int plumb_state_new_run_id(char out[32])
{
    time_t now = plumb_clock_now();
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(out + 16, 16, "-%04x", (unsigned)(plumb_random_u64() & 0xffff));
    return 0;
}

int plumb_state_run_put(struct plumb_state *s, const char *run_id, const json_t *run)
{
    MDB_txn *txn = NULL;
    int rc, error = 0;

    PLUMB_TRY(need_writable(s));
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)))
        return mdb_err(rc, "writing", s->dir);
    if ((rc = put_json(txn, s->runs, run_id, run))) {
        mdb_txn_abort(txn);
        return mdb_err(rc, "writing", s->dir);
    }
    PLUMB_TRY(commit(s, &txn));
done:
    return error;
}

int plumb_state_runs(struct plumb_state *s, json_t **out)
{
    json_t *all = NULL, *arr, *v, *copy;
    const char *k;
    int error;

    *out = NULL;
    if ((error = scan(s, s->runs, NULL, 0, &all)) < 0)
        return error;
    arr = json_array();
    json_object_foreach(all, k, v)
    {
        copy = json_deep_copy(v);
        json_object_set_new(copy, "id", json_string(k));
        json_array_append_new(arr, copy);
    }
    json_decref(all);
    *out = arr;
    return 0;
}

int plumb_state_journal_append(struct plumb_state *s, const char *run_id, const json_t *entry,
                               unsigned *seq)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    char key[96], prefix[64];
    unsigned next = 0;
    int rc, error = 0;

    PLUMB_TRY(need_writable(s));
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)))
        return mdb_err(rc, "writing", s->dir);
    /* the next sequence number: after the run's last entry (keys sort: seq is zero-padded) */
    snprintf(prefix, sizeof(prefix), "%s/", run_id);
    snprintf(key, sizeof(key), "%s/~", run_id);
    k.mv_size = strlen(key);
    k.mv_data = key;
    if ((rc = mdb_cursor_open(txn, s->journal, &cur)) == 0) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        rc =
            rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV) : mdb_cursor_get(cur, &k, &v, MDB_LAST);
        if (rc == 0 && k.mv_size > strlen(prefix) && memcmp(k.mv_data, prefix, strlen(prefix)) == 0)
            next = (unsigned)strtoul((char *)k.mv_data + strlen(prefix), NULL, 10) + 1;
        mdb_cursor_close(cur);
    }
    snprintf(key, sizeof(key), "%s/%08u", run_id, next);
    if ((rc = put_json(txn, s->journal, key, entry))) {
        error = mdb_err(rc, "writing", s->dir);
        goto done;
    }
    PLUMB_TRY(commit(s, &txn));
    if (seq)
        *seq = next;
done:
    if (txn)
        mdb_txn_abort(txn);
    return error;
}

int plumb_state_journal(struct plumb_state *s, const char *run_id, json_t **out)
{
    char prefix[64];

    snprintf(prefix, sizeof(prefix), "%s/", run_id);
    return scan(s, s->journal, prefix, 1, out);
}

/* ---- secrets --------------------------------------------------------------------------- */

int plumb_state_fingerprint(struct plumb_state *s, const json_t *value, char out[80])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0, i;
    char *text;

    if (!s->have_key) {
        /* a state not yet on disk: a key for this process only; nothing is stored with it */
        if (RAND_bytes(s->key, sizeof(s->key)) != 1)
            return plumb_error_set(PLUMB_ERROR, "no randomness for the state key");
        s->have_key = 1;
    }
    text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!text)
        return plumb_error_oom();
    HMAC(EVP_sha256(), s->key, sizeof(s->key), (unsigned char *)text, strlen(text), mac, &len);
    OPENSSL_cleanse(text, strlen(text));
    free(text);
    strcpy(out, "hmac-sha256:");
    for (i = 0; i < len && 12 + 2 * i + 2 < 80; i++)
        snprintf(out + 12 + 2 * i, 3, "%02x", mac[i]);
    return 0;
}

json_t *plumb_state_protect(struct plumb_state *s, const json_t *value)
{
    char fp[80];
    const char *k;
    json_t *v, *out;
    size_t i;

    if (plumb_value_is_sensitive(value)) {
        const json_t *inner = plumb_value_unwrap(value);
        if (plumb_value_is_unknown(inner))
            return json_deep_copy(inner);
        if (plumb_state_fingerprint(s, inner, fp) < 0)
            return NULL;
        return json_pack("{s:s}", PLUMB_STATE_FINGERPRINT_KEY, fp);
    }
    if (json_is_object(value)) {
        out = json_object();
        json_object_foreach((json_t *)value, k, v)
            json_object_set_new(out, k, plumb_state_protect(s, v));
        return out;
    }
    if (json_is_array(value)) {
        out = json_array();
        json_array_foreach(value, i, v) json_array_append_new(out, plumb_state_protect(s, v));
        return out;
    }
    return json_deep_copy(value);
}

static void collect_fingerprints(const json_t *v, json_t *set)
{
    const char *k;
    json_t *x;
    size_t i;

    if (json_is_object(v)) {
        const json_t *fp = json_object_get(v, PLUMB_STATE_FINGERPRINT_KEY);
        if (json_is_string(fp)) {
            json_object_set_new(set, json_string_value(fp), json_true());
            return;
        }
        json_object_foreach((json_t *)v, k, x) collect_fingerprints(x, set);
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x) collect_fingerprints(x, set);
    }
}

static json_t *mask(struct plumb_state *s, const json_t *v, const json_t *set)
{
    const char *k;
    json_t *out, *x;
    char fp[80];
    size_t i;

    if (json_is_string(v)) {
        if (plumb_state_fingerprint(s, v, fp) == 0 && json_object_get(set, fp))
            return json_pack("{s:s}", PLUMB_STATE_FINGERPRINT_KEY, fp);
        return json_deep_copy(v);
    }
    if (json_is_object(v)) {
        out = json_object();
        json_object_foreach((json_t *)v, k, x) json_object_set_new(out, k, mask(s, x, set));
        return out;
    }
    if (json_is_array(v)) {
        out = json_array();
        json_array_foreach(v, i, x) json_array_append_new(out, mask(s, x, set));
        return out;
    }
    return json_deep_copy(v);
}

json_t *plumb_state_mask(struct plumb_state *s, const json_t *observed, const json_t *stored)
{
    json_t *set = json_object(), *out;

    collect_fingerprints(stored, set);
    out = json_object_size(set) ? mask(s, observed, set) : json_deep_copy(observed);
    json_decref(set);
    return out;
}

/* ---- snapshots (the remote backend) ------------------------------------------------------- */

/* Every key of `dbi` into `out`: values parsed as JSON, or kept as strings when `raw`. */
static int dump_db(struct plumb_state *s, MDB_txn *txn, MDB_dbi dbi, int raw, json_t *out)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc;

    if ((rc = mdb_cursor_open(txn, dbi, &cur)))
        return mdb_err(rc, "reading", s->dir);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        char *key = plumb_strndup(k.mv_data, k.mv_size);
        json_t *value =
            raw ? json_stringn(v.mv_data, v.mv_size) : json_loadb(v.mv_data, v.mv_size, 0, NULL);
        if (!key || !value) {
            free(key);
            json_decref(value);
            mdb_cursor_close(cur);
            return plumb_error_set(PLUMB_ERROR, "state in '%s' has a damaged record", s->dir);
        }
        json_object_set_new(out, key, value);
        free(key);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : mdb_err(rc, "reading", s->dir);
}

int plumb_state_export(struct plumb_state *s, json_t **out)
{
    MDB_txn *txn = NULL;
    json_t *doc = NULL, *meta, *resources, *runs, *journal;
    char hex[65];
    size_t i;
    int rc, error = 0;

    *out = NULL;
    if (!s->env)
        return plumb_error_set(PLUMB_ERROR, "state '%s' does not exist yet", s->dir);
    for (i = 0; i < sizeof(s->key); i++)
        snprintf(hex + 2 * i, 3, "%02x", s->key[i]);
    doc = json_pack("{s:i, s:s, s:I, s:s, s:{}, s:{}, s:{}, s:{}}", "format_version",
                    PLUMB_STATE_FORMAT_VERSION, "lineage", s->lineage ? s->lineage : "", "serial",
                    (json_int_t)s->serial, "fingerprint_key", hex, "meta", "resources", "runs",
                    "journal");
    OPENSSL_cleanse(hex, sizeof(hex));
    PLUMB_ALLOC_CHECK(doc);
    meta = json_object_get(doc, "meta");
    resources = json_object_get(doc, "resources");
    runs = json_object_get(doc, "runs");
    journal = json_object_get(doc, "journal");
    if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)))
        return mdb_err(rc, "reading", s->dir);
    PLUMB_TRY(dump_db(s, txn, s->meta, 1, meta));
    PLUMB_TRY(dump_db(s, txn, s->resources, 0, resources));
    PLUMB_TRY(dump_db(s, txn, s->runs, 0, runs));
    PLUMB_TRY(dump_db(s, txn, s->journal, 0, journal));
    *out = doc;
    doc = NULL;
done:
    if (txn)
        mdb_txn_abort(txn);
    json_decref(doc);
    return error;
}

static int load_db(MDB_txn *txn, MDB_dbi dbi, int raw, const json_t *from)
{
    const char *k;
    json_t *v;
    int rc;

    if ((rc = mdb_drop(txn, dbi, 0)))
        return rc;
    json_object_foreach((json_t *)from, k, v)
    {
        if (raw && !json_is_string(v))
            return EINVAL;
        rc = raw ? put_str(txn, dbi, k, json_string_value(v)) : put_json(txn, dbi, k, v);
        if (rc)
            return rc;
    }
    return 0;
}

int plumb_state_import(struct plumb_state *s, const json_t *snapshot)
{
    const char *hex = json_string_value(json_object_get(snapshot, "fingerprint_key"));
    const char *lineage = json_string_value(json_object_get(snapshot, "lineage"));
    json_t *serial = json_object_get(snapshot, "serial");
    struct plumb_buf path = PLUMB_BUF_INIT;
    unsigned char key[32];
    MDB_txn *txn = NULL;
    char num[32];
    size_t i;
    int rc, fd = -1, error = 0;

    PLUMB_TRY(need_writable(s));
    if (json_integer_value(json_object_get(snapshot, "format_version")) >
            PLUMB_STATE_FORMAT_VERSION ||
        !lineage || !*lineage || !json_is_integer(serial) || !hex || strlen(hex) != 64)
        return plumb_error_set(PLUMB_EINVALID, "the state snapshot is not one this plumb reads");
    for (i = 0; i < sizeof(key); i++) {
        unsigned int byte;
        if (sscanf(hex + 2 * i, "%2x", &byte) != 1)
            return plumb_error_set(PLUMB_EINVALID, "the state snapshot's key is damaged");
        key[i] = (unsigned char)byte;
    }
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)))
        return mdb_err(rc, "writing", s->dir);
    snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(serial));
    if ((rc = load_db(txn, s->meta, 1, json_object_get(snapshot, "meta"))) ||
        (rc = put_str(txn, s->meta, "lineage", lineage)) ||
        (rc = put_str(txn, s->meta, "serial", num)) ||
        (rc = load_db(txn, s->resources, 0, json_object_get(snapshot, "resources"))) ||
        (rc = load_db(txn, s->runs, 0, json_object_get(snapshot, "runs"))) ||
        (rc = load_db(txn, s->journal, 0, json_object_get(snapshot, "journal")))) {
        error = mdb_err(rc, "importing the snapshot", s->dir);
        goto done;
    }
    /* the key first: a state whose fingerprints do not match its key would see every secret
     * as changed */
    plumb_buf_printf(&path, "%s/fingerprint.key.new", s->dir);
    fd = open(path.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) || fsync(fd) < 0) {
        error = plumb_error_set(PLUMB_ERROR, "unable to write '%s': %s", path.ptr, strerror(errno));
        goto done;
    }
    close(fd);
    fd = -1;
    {
        char final[4096];
        snprintf(final, sizeof(final), "%s/fingerprint.key", s->dir);
        if (rename(path.ptr, final) < 0) {
            error =
                plumb_error_set(PLUMB_ERROR, "unable to replace '%s': %s", final, strerror(errno));
            goto done;
        }
    }
    PLUMB_TRY(commit(s, &txn));
    memcpy(s->key, key, sizeof(key));
    s->have_key = 1;
    free(s->lineage);
    s->lineage = strdup(lineage);
    s->serial = (long)json_integer_value(serial);
done:
    OPENSSL_cleanse(key, sizeof(key));
    if (fd >= 0)
        close(fd);
    if (txn)
        mdb_txn_abort(txn);
    plumb_buf_release(&path);
    return error;
}
