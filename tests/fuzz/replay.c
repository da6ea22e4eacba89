/*
 * Replays fuzz corpora without libFuzzer or clang: linked with one tests/fuzz/fuzz_*.c, it
 * calls LLVMFuzzerTestOneInput on every file of the directories (or files) given, so ctest
 * runs each seed and every input fuzzing kept through the gcc sanitizer build. A crash ends
 * the run through the sanitizer or abort(), naming the input; a directory without inputs
 * fails too, since a replay of nothing would pass whatever the code does.
 *
 *   fuzz_xml_replay tests/fuzz/corpus/xml [MORE...]
 */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"

#ifndef FUZZ_NAME
#define FUZZ_NAME "fuzz"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Present in sanitizer builds only: called as the sanitizer ends the process. */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static char current[4096];

static void say_which(void)
{
    /* write(2) only: this runs inside a crash. */
    static const char prefix[] = FUZZ_NAME ": died ";

    if (write(2, prefix, sizeof(prefix) - 1) < 0 || write(2, current, strlen(current)) < 0 ||
        write(2, "\n", 1) < 0)
        return;
}

static void on_abort(int sig)
{
    say_which();
    signal(sig, SIG_DFL);
    raise(sig);
}

static int replay_file(const char *path)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    uint8_t *data = NULL;
    char chunk[65536];
    FILE *f;
    size_t got;
    int error = -1;

    snprintf(current, sizeof(current), "replaying '%s'", path);
    if (!(f = fopen(path, "rb"))) {
        fprintf(stderr, "%s: unable to open '%s'\n", FUZZ_NAME, path);
        goto done;
    }
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (plumb_buf_put(&b, chunk, got) < 0)
            goto done;
    if (ferror(f)) {
        fprintf(stderr, "%s: unable to read '%s'\n", FUZZ_NAME, path);
        goto done;
    }
    /* A buffer of exactly the input's size, as libFuzzer gives, so reads past it are caught. */
    if (!(data = malloc(b.len ? b.len : 1)))
        goto done;
    if (b.len)
        memcpy(data, b.ptr, b.len);
    LLVMFuzzerTestOneInput(data, b.len);
    error = 0;
done:
    if (f)
        fclose(f);
    free(data);
    plumb_buf_release(&b);
    return error;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file in `dir`, in name order; the number replayed, or -1. */
static long replay_dir(const char *dir)
{
    struct plumb_buf path = PLUMB_BUF_INIT;
    struct dirent *e;
    struct stat st;
    char **names = NULL, **grown;
    size_t n = 0, cap = 0, i;
    long count = 0;
    DIR *d;

    if (!(d = opendir(dir))) {
        fprintf(stderr, "%s: unable to open directory '%s'\n", FUZZ_NAME, dir);
        return -1;
    }
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            if (!(grown = realloc(names, cap * sizeof(*names)))) {
                count = -1;
                break;
            }
            names = grown;
        }
        if (!(names[n] = strdup(e->d_name))) {
            count = -1;
            break;
        }
        n++;
    }
    closedir(d);
    if (names)
        qsort(names, n, sizeof(*names), by_name);
    for (i = 0; i < n && count >= 0; i++) {
        plumb_buf_clear(&path);
        plumb_buf_printf(&path, "%s/%s", dir, names[i]);
        if (stat(path.ptr, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (replay_file(path.ptr) < 0)
            count = -1;
        else
            count++;
    }
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    plumb_buf_release(&path);
    return count;
}

int main(int argc, char **argv)
{
    struct stat st;
    long total = 0, n;
    int i;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
        return 2;
    }
    signal(SIGABRT, on_abort);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(say_which);
    for (i = 1; i < argc; i++) {
        if (stat(argv[i], &st) == 0 && S_ISREG(st.st_mode))
            n = replay_file(argv[i]) < 0 ? -1 : 1;
        else
            n = replay_dir(argv[i]);
        if (n < 0)
            return 1;
        if (n == 0) {
            fprintf(stderr, "%s: no inputs in '%s'\n", FUZZ_NAME, argv[i]);
            return 1;
        }
        total += n;
    }
    printf("%s: replayed %ld inputs, 0 crashes\n", FUZZ_NAME, total);
    /* What LeakSanitizer may still find at exit belongs to no one input. */
    snprintf(current, sizeof(current), "at exit, after every input (a leak: see its report)");
    return 0;
}
