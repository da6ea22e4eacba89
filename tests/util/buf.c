#include <criterion/criterion.h>
#include <string.h>

#include "util/buf.h"
#include "util/kv.h"
#include "util/sys.h"

Test(util_buf, printf_and_detach)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    char *s;

    cr_assert_str_eq(plumb_buf_cstr(&b), "");
    cr_assert_eq(plumb_buf_printf(&b, "%s-%d", "a", 42), 0);
    cr_assert_eq(plumb_buf_puts(&b, "!"), 0);
    cr_assert_str_eq(b.ptr, "a-42!");
    cr_assert_eq(b.len, 5);
    s = plumb_buf_detach(&b);
    cr_assert_str_eq(s, "a-42!");
    cr_assert_null(b.ptr);
    free(s);
}

Test(util_buf, grows_past_initial_capacity)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    int i;

    for (i = 0; i < 10000; i++)
        cr_assert_eq(plumb_buf_putc(&b, (char)('a' + i % 26)), 0);
    cr_assert_eq(b.len, 10000);
    cr_assert_eq(b.ptr[9999], 'a' + 9999 % 26);
    cr_assert_eq(b.ptr[10000], '\0');
    plumb_buf_release(&b);
}

/* printf writes in place when the text fits and grows (a second pass) when it does not: both
 * leave the same text, whatever the room left. */
Test(util_buf, printf_fits_or_grows)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    char want[200];
    int i;

    cr_assert_eq(plumb_buf_puts(&b, "x"), 0); /* 64 bytes of room */
    for (i = 0; i < 40; i++)
        cr_assert_eq(plumb_buf_printf(&b, "%d,", i), 0);
    cr_assert_eq(strncmp(b.ptr, "x0,1,2,3,", 9), 0);
    cr_assert_eq(b.len, 1 + 10 * 2 + 30 * 3);
    cr_assert_eq(b.ptr[b.len], '\0');
    memset(want, 'q', 150);
    want[150] = '\0';
    cr_assert_eq(plumb_buf_printf(&b, "[%s]", want), 0); /* far past the room left */
    cr_assert_eq(b.len, 111 + 152);
    cr_assert_eq(b.ptr[111], '[');
    cr_assert_eq(b.ptr[262], ']');
    cr_assert_eq(b.ptr[263], '\0');
    plumb_buf_release(&b);
}

Test(util_buf, uri_encoding)
{
    struct plumb_buf b = PLUMB_BUF_INIT;

    plumb_buf_put_uri_encoded(&b, "a b/c~d=é", strlen("a b/c~d=é"), 0);
    cr_assert_str_eq(b.ptr, "a%20b%2Fc~d%3D%C3%A9");
    plumb_buf_clear(&b);
    plumb_buf_put_uri_encoded(&b, "/x y/z", 6, 1);
    cr_assert_str_eq(b.ptr, "/x%20y/z");
    plumb_buf_release(&b);
}

Test(util_kv, set_get_remove_case_insensitive)
{
    struct plumb_kvlist l = PLUMB_KVLIST_INIT;

    plumb_kvlist_add(&l, "Host", "a");
    plumb_kvlist_add(&l, "X-Amz-Date", "b");
    plumb_kvlist_add(&l, "host", "c");
    cr_assert_str_eq(plumb_kvlist_get(&l, "HOST"), "a");
    plumb_kvlist_set(&l, "Host", "d");
    cr_assert_eq(l.n, 2);
    cr_assert_str_eq(plumb_kvlist_get(&l, "host"), "d");
    plumb_kvlist_remove(&l, "x-amz-date");
    cr_assert_null(plumb_kvlist_get(&l, "X-Amz-Date"));
    plumb_kvlist_release(&l);
}

Test(util_sys, iso8601_round_trip)
{
    char s[21];

    plumb_time_iso8601(s, 1440938160);
    cr_assert_str_eq(s, "2015-08-30T12:36:00Z");
    cr_assert_eq(plumb_time_parse_iso8601("2015-08-30T12:36:00Z"), 1440938160);
    cr_assert_eq(plumb_time_parse_iso8601("2015-08-30T12:36:00.123Z"), 1440938160);
    cr_assert_eq(plumb_time_parse_iso8601("2015-08-30T14:36:00+02:00"), 1440938160);
    cr_assert_eq(plumb_time_parse_iso8601("yesterday"), -1);
}

/* "+0:00" passed for an offset and parsing read past the end of the string (found by
 * tests/fuzz/fuzz_xml.c, tests/fuzz/corpus/xml/crash-offset-too-short.xml). */
Test(util_sys, iso8601_offsets_are_exactly_hh_mm)
{
    cr_assert_eq(plumb_time_parse_iso8601("2015-08-30T10:06:00-02:30"), 1440938160);
    cr_assert_eq(plumb_time_parse_iso8601("2015-08-30T12:36:00+0:00"), -1);
    cr_assert_eq(plumb_time_parse_iso8601("2015-08-30T12:36:00+00:0"), -1);
    cr_assert_eq(plumb_time_parse_iso8601("2015-08-30T12:36:00+ 1:00"), -1);
    cr_assert_eq(plumb_time_parse_iso8601("2015-08-30T12:36:00+01:-1"), -1);
    cr_assert_eq(plumb_time_parse_iso8601("2015-08-30T12:36:00+0100"), -1);
    cr_assert_eq(plumb_time_parse_iso8601("2015-08-30T12:36:00+"), -1);
}
