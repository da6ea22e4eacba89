/*
 * Local test servers: a Python script from tests/tools/ started as a child process on a free
 * loopback port. The script prints its port on the first line of stdout once it listens.
 */
#ifndef TESTS_HELPERS_SERVER_H
#define TESTS_HELPERS_SERVER_H

#include <sys/types.h>

struct test_server {
    pid_t pid;
    int port;
    char url[64]; /* "http://127.0.0.1:PORT" */
};

/* Starts tests/tools/<script> with extra arguments (NULL-terminated); 0 or -1. */
int test_server_start(struct test_server *s, const char *script, const char *const *args);
void test_server_stop(struct test_server *s);

#endif
