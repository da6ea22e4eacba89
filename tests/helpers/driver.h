/* Assertions shared by the driver tests (tests/provider/). */
#ifndef TESTS_HELPERS_DRIVER_H
#define TESTS_HELPERS_DRIVER_H

#include <jansson.h>

/* 1 when every member of `declared` is in `observed` with an equal value (recursively for
 * objects; lists compare whole). On a difference, `why` (may be NULL) gets a description. */
int test_props_match(const json_t *declared, const json_t *observed, char *why, size_t n);

/* cr_expect that test_props_match holds, printing both on failure. */
#define test_expect_props(declared, observed)                                                      \
    do {                                                                                           \
        char why_[512] = "";                                                                       \
        char *d_ = json_dumps((declared), JSON_SORT_KEYS);                                         \
        char *o_ = json_dumps((observed), JSON_SORT_KEYS);                                         \
        cr_expect(test_props_match((declared), (observed), why_, sizeof(why_)),                    \
                  "%s\ndeclared: %s\nobserved: %s", why_, d_, o_);                                 \
        free(d_);                                                                                  \
        free(o_);                                                                                  \
    } while (0)

#endif
