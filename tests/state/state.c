/* The LMDB state store: records, serial, lock, journal, runs, and secrets as fingerprints. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/value.h"
#include "state/state.h"
#include "util/error.h"

static char dir[256];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/plumb-state-test-%d/state/stage", (int)getpid());
    mkdir(strndupa(dir, strlen(dir) - strlen("/state/stage")), 0700);
}

static void teardown(void)
{
    char cmd[300];

    snprintf(cmd, sizeof(cmd), "rm -rf '/tmp/plumb-state-test-%d'", (int)getpid());
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup failed\n");
}

TestSuite(state, .init = setup, .fini = teardown);

Test(state, missing_state_opens_empty_and_writes_nothing)
{
    struct plumb_state *s;
    json_t *all = NULL;
    struct stat st;

    cr_assert_eq(plumb_state_open(&s, dir, 0), 0, "%s", plumb_error_message());
    cr_expect(plumb_state_is_empty(s));
    cr_expect_null(plumb_state_lineage(s));
    cr_assert_eq(plumb_state_all(s, &all), 0);
    cr_expect_eq(json_object_size(all), 0);
    cr_expect_neq(stat(dir, &st), 0, "nothing created on disk");
    json_decref(all);
    plumb_state_close(s);
}

Test(state, records_serial_and_private_files)
{
    struct plumb_state *s;
    json_t *rec =
        json_pack("{s:s, s:{s:s}}", "type", "AWS::ECR::Repository", "id", "RepositoryName", "api");
    json_t *got = NULL, *all = NULL;
    char path[512], lineage[64];
    struct stat st;

    cr_assert_eq(plumb_state_open(&s, dir, 1), 0, "%s", plumb_error_message());
    cr_assert_not_null(plumb_state_lineage(s));
    snprintf(lineage, sizeof(lineage), "%s", plumb_state_lineage(s));
    cr_expect_eq(plumb_state_serial(s), 0);
    cr_expect_neq(plumb_state_put(s, "repo", rec), 0, "writing needs the lock");
    cr_assert_eq(plumb_state_lock(s, "test"), 0);
    cr_assert_eq(plumb_state_put(s, "repo", rec), 0, "%s", plumb_error_message());
    cr_assert_eq(plumb_state_put(s, "other", rec), 0);
    cr_expect_eq(plumb_state_serial(s), 2);
    cr_assert_eq(plumb_state_get(s, "repo", &got), 0);
    cr_expect(json_equal(got, rec));
    cr_assert_eq(plumb_state_remove(s, "other"), 0);
    cr_assert_eq(plumb_state_all(s, &all), 0);
    cr_expect_eq(json_object_size(all), 1);
    plumb_state_close(s);

    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    cr_assert_eq(stat(path, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0600, "data is private: %o", st.st_mode & 0777);
    snprintf(path, sizeof(path), "%s/fingerprint.key", dir);
    cr_assert_eq(stat(path, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0600);
    cr_assert_eq(stat(dir, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0700);

    /* reopened: same lineage, serial kept */
    cr_assert_eq(plumb_state_open(&s, dir, 0), 0);
    cr_expect_str_eq(plumb_state_lineage(s), lineage);
    cr_expect_eq(plumb_state_serial(s), 3);
    plumb_state_close(s);
    json_decref(rec);
    json_decref(got);
    json_decref(all);
}

Test(state, second_writer_is_refused_with_the_holder_named)
{
    struct plumb_state *s;
    int fds[2];
    pid_t child;
    char c;

    cr_assert_eq(plumb_state_open(&s, dir, 1), 0);
    plumb_state_close(s);
    cr_assert_eq(pipe(fds), 0);
    child = fork();
    if (child == 0) {
        struct plumb_state *mine;
        if (plumb_state_open(&mine, dir, 1) < 0 || plumb_state_lock(mine, "apply") < 0)
            _exit(1);
        if (write(fds[1], "x", 1) != 1)
            _exit(1);
        pause(); /* hold the lock until killed */
        _exit(0);
    }
    cr_assert_eq(read(fds[0], &c, 1), 1);
    cr_assert_eq(plumb_state_open(&s, dir, 1), 0);
    cr_expect_eq(plumb_state_lock(s, "apply"), PLUMB_ELOCKED);
    {
        char want[64];
        snprintf(want, sizeof(want), "locked by pid %d on host ", (int)child);
        cr_expect(strstr(plumb_error_message(), want) != NULL, "%s", plumb_error_message());
        cr_expect(strstr(plumb_error_message(), "running 'apply' since ") != NULL, "%s",
                  plumb_error_message());
    }
    /* a killed holder never leaves the lock behind */
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    cr_expect_eq(plumb_state_lock(s, "apply"), 0, "%s", plumb_error_message());
    plumb_state_close(s);
}

/* A refusal that comes between the holder's flock and the record it writes then still names
 * the holder (it named "pid 0 on host unknown": seen in test_concurrency). */
Test(state, a_holder_not_yet_written_is_waited_for)
{
    struct plumb_state *s;
    char path[300], c;
    int fds[2];
    pid_t child;

    cr_assert_eq(plumb_state_open(&s, dir, 1), 0);
    plumb_state_close(s);
    snprintf(path, sizeof(path), "%s/writer.lock", dir);
    cr_assert_eq(pipe(fds), 0);
    child = fork();
    if (child == 0) {
        char rec[128];
        int fd = open(path, O_RDWR | O_CREAT, 0600), n;
        if (fd < 0 || flock(fd, LOCK_EX) < 0 || ftruncate(fd, 0) < 0)
            _exit(1);
        if (write(fds[1], "x", 1) != 1)
            _exit(1);
        usleep(200 * 1000); /* the lock is held, the record not written yet */
        n = snprintf(rec, sizeof(rec),
                     "{\"pid\": %d, \"host\": \"h\", \"operation\": \"apply\", "
                     "\"since\": \"now\"}",
                     (int)getpid());
        if (pwrite(fd, rec, (size_t)n, 0) != n)
            _exit(1);
        pause();
        _exit(0);
    }
    cr_assert_eq(read(fds[0], &c, 1), 1);
    cr_assert_eq(plumb_state_open(&s, dir, 1), 0);
    cr_expect_eq(plumb_state_lock(s, "apply"), PLUMB_ELOCKED);
    {
        char want[64];
        snprintf(want, sizeof(want), "locked by pid %d on host h", (int)child);
        cr_expect(strstr(plumb_error_message(), want) != NULL, "%s", plumb_error_message());
    }
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    plumb_state_close(s);
}

Test(state, journal_and_runs_in_order)
{
    struct plumb_state *s;
    json_t *j = NULL, *runs = NULL, *e;
    char run[32], run2[32];
    unsigned seq = 99;
    int i;

    cr_assert_eq(plumb_state_open(&s, dir, 1), 0);
    cr_assert_eq(plumb_state_lock(s, "apply"), 0);
    plumb_state_new_run_id(run);
    snprintf(run2, sizeof(run2), "%s", run);
    run2[strlen(run2) - 1] = run2[strlen(run2) - 1] == 'f' ? 'e' : 'f';
    for (i = 0; i < 12; i++) {
        e = json_pack("{s:i}", "n", i);
        cr_assert_eq(plumb_state_journal_append(s, run, e, &seq), 0, "%s", plumb_error_message());
        cr_expect_eq(seq, (unsigned)i);
        json_decref(e);
    }
    e = json_pack("{s:s}", "other", "run");
    cr_assert_eq(plumb_state_journal_append(s, run2, e, &seq), 0);
    cr_expect_eq(seq, 0);
    json_decref(e);
    cr_assert_eq(plumb_state_journal(s, run, &j), 0);
    cr_assert_eq(json_array_size(j), 12);
    for (i = 0; i < 12; i++)
        cr_expect_eq(json_integer_value(json_object_get(json_array_get(j, (size_t)i), "n")), i);
    e = json_pack("{s:s}", "outcome", "success");
    cr_assert_eq(plumb_state_run_put(s, run, e), 0);
    cr_assert_eq(plumb_state_runs(s, &runs), 0);
    cr_assert_eq(json_array_size(runs), 1);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(runs, 0), "id")), run);
    json_decref(e);
    json_decref(j);
    json_decref(runs);
    plumb_state_close(s);
}

Test(state, secrets_are_stored_as_fingerprints)
{
    struct plumb_state *s;
    json_t *props, *safe, *again;
    char path[512], cmd[700];
    const char *fp, *fp2;

    cr_assert_eq(plumb_state_open(&s, dir, 1), 0);
    cr_assert_eq(plumb_state_lock(s, "apply"), 0);
    props = json_pack("{s:s, s:o}", "MasterUsername", "shop", "MasterUserPassword",
                      plumb_value_sensitive(json_string("correct-horse-battery-staple")));
    safe = plumb_state_protect(s, props);
    fp = json_string_value(
        json_object_get(json_object_get(safe, "MasterUserPassword"), PLUMB_STATE_FINGERPRINT_KEY));
    cr_assert_not_null(fp);
    cr_expect(strncmp(fp, "hmac-sha256:", 12) == 0);
    cr_expect_eq(strlen(fp), 12 + 64);
    again = plumb_state_protect(s, props);
    fp2 = json_string_value(
        json_object_get(json_object_get(again, "MasterUserPassword"), PLUMB_STATE_FINGERPRINT_KEY));
    cr_expect_str_eq(fp, fp2, "the same secret, the same fingerprint");
    cr_assert_eq(plumb_state_put(s, "db", safe), 0);
    plumb_state_close(s);
    snprintf(path, sizeof(path), "%s", dir);
    snprintf(cmd, sizeof(cmd), "grep -rq correct-horse '%s'", path);
    cr_expect_neq(system(cmd), 0, "the secret is nowhere in the state directory");
    json_decref(props);
    json_decref(safe);
    json_decref(again);
}

/* A snapshot (the s3 backend's object) carries everything to another machine: records, runs,
 * journal, lineage, serial, and the fingerprint key, so a secret fingerprints the same. */
Test(state, a_snapshot_moves_the_whole_state)
{
    struct plumb_state *a, *b;
    char other[300], fa[80], fb[80];
    json_t *snap = NULL, *again = NULL, *all = NULL, *runs = NULL, *journal = NULL;
    json_t *secret = json_string("hunter2");
    json_t *rec =
        json_pack("{s:s, s:{s:s}}", "type", "AWS::Logs::LogGroup", "id", "LogGroupName", "/app");
    json_t *run = json_pack("{s:s}", "kind", "apply"), *entry = json_pack("{s:s}", "phase", "done");
    unsigned seq;

    snprintf(other, sizeof(other), "%s-b", dir);
    cr_assert_eq(plumb_state_open(&a, dir, 1), 0, "%s", plumb_error_message());
    cr_assert_eq(plumb_state_lock(a, "test"), 0);
    cr_assert_eq(plumb_state_put(a, "app", rec), 0);
    cr_assert_eq(plumb_state_run_put(a, "20261204T000000Z-0001", run), 0);
    cr_assert_eq(plumb_state_journal_append(a, "20261204T000000Z-0001", entry, &seq), 0);
    cr_assert_eq(plumb_state_meta_put(a, "aws_account_id", "123456789012"), 0);
    cr_assert_eq(plumb_state_export(a, &snap), 0, "%s", plumb_error_message());

    cr_assert_eq(plumb_state_open(&b, other, 1), 0, "%s", plumb_error_message());
    cr_expect_eq(plumb_state_import(b, snap), PLUMB_ERROR, "importing needs the lock");
    cr_assert_eq(plumb_state_lock(b, "test"), 0);
    cr_assert_eq(plumb_state_import(b, snap), 0, "%s", plumb_error_message());
    cr_expect_str_eq(plumb_state_lineage(b), plumb_state_lineage(a));
    cr_expect_eq(plumb_state_serial(b), plumb_state_serial(a));
    cr_assert_eq(plumb_state_all(b, &all), 0);
    cr_expect_eq(json_object_size(all), 1);
    cr_assert_eq(plumb_state_runs(b, &runs), 0);
    cr_expect_eq(json_array_size(runs), 1);
    cr_assert_eq(plumb_state_journal(b, "20261204T000000Z-0001", &journal), 0);
    cr_expect_eq(json_array_size(journal), 1);
    cr_assert_eq(plumb_state_fingerprint(a, secret, fa), 0);
    cr_assert_eq(plumb_state_fingerprint(b, secret, fb), 0);
    cr_expect_str_eq(fa, fb, "the same key: the same fingerprints");
    cr_assert_eq(plumb_state_export(b, &again), 0);
    cr_expect(json_equal(snap, again), "the round trip changes nothing");

    json_object_set_new(snap, "fingerprint_key", json_string("short"));
    cr_expect_eq(plumb_state_import(b, snap), PLUMB_EINVALID, "a damaged snapshot is refused");

    json_decref(snap);
    json_decref(again);
    json_decref(all);
    json_decref(runs);
    json_decref(journal);
    json_decref(secret);
    json_decref(rec);
    json_decref(run);
    json_decref(entry);
    plumb_state_close(a);
    plumb_state_close(b);
}
