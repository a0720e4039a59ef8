/*
 * test_buf.c: the JSON strings tallyd writes for names that came off the
 * wire (/cluster, /status): ASCII names byte for byte as always, valid UTF-8
 * one \u escape per character (not one per byte, which read back as
 * mojibake), bytes that are not UTF-8 as U+FFFD, and the output always ASCII.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node/buf.h"

static void check(const char *in, const char *want)
{
    struct buf b;
    buf_init(&b, 4096);
    buf_json_str(&b, in);
    buf_append(&b, "", 1);
    assert_false(b.failed);
    assert_string_equal(b.data, want);
    for (const char *p = b.data; *p; p++)
        assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
    buf_free(&b);
}

static void test_ascii_unchanged(void **state)
{
    (void)state;
    check("myapp-stateful-0", "\"myapp-stateful-0\"");
    check("10.244.0.12:7946", "\"10.244.0.12:7946\"");
    check("a\"b\\c", "\"a\\\"b\\\\c\"");
    check("\x1b[2J\n\x7f", "\"\\u001b[2J\\u000a\\u007f\"");
    check("", "\"\"");
}

static void test_utf8_one_escape_per_character(void **state)
{
    (void)state;
    check("caf\xc3\xa9", "\"caf\\u00e9\"");
    check("\xe2\x82\xac", "\"\\u20ac\"");
    check("\xf0\x9f\x98\x80", "\"\\ud83d\\ude00\"");
    check("\xc2\x9b", "\"\\u009b\"");
}

static void test_invalid_bytes_replaced(void **state)
{
    (void)state;
    check("a\xff"
          "b",
          "\"a\\ufffdb\"");
    check("\xc3(", "\"\\ufffd(\"");
    check("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* a surrogate is not UTF-8 */
    check("\xc0\xaf", "\"\\ufffd\\ufffd\"");            /* nor an overlong '/' */
    check("\xe2\x82", "\"\\ufffd\\ufffd\"");            /* nor a cut sequence */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii_unchanged),
        cmocka_unit_test(test_utf8_one_escape_per_character),
        cmocka_unit_test(test_invalid_bytes_replaced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
