#include "helpers/server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int test_server_start(struct test_server *s, const char *script, const char *const *args)
{
    char path[512], line[64];
    const char *argv[32];
    int fds[2], n = 0;
    ssize_t got;
    size_t len = 0;

    memset(s, 0, sizeof(*s));
    snprintf(path, sizeof(path), "%s/%s", TESTS_TOOLS_DIR, script);
    argv[n++] = "python3";
    argv[n++] = path;
    for (; args && *args && n < 30; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    if (pipe(fds) < 0)
        return -1;
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execvp("python3", (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    while (len < sizeof(line) - 1 && (got = read(fds[0], line + len, 1)) == 1 && line[len] != '\n')
        len++;
    close(fds[0]);
    line[len] = '\0';
    s->port = atoi(line);
    if (s->port <= 0) {
        test_server_stop(s);
        return -1;
    }
    snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", s->port);
    return 0;
}

void test_server_stop(struct test_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
}
