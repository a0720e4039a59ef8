/*
 * test_log.c: log lines stay one valid logfmt or JSON line per event, whatever
 * the call site's values hold (spaces, quotes, newlines, invalid UTF-8,
 * free-text remarks, reserved field names). <syslog.h> is included first so
 * the build fails if our level names ever collide with its LOG_INFO & co.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <syslog.h>

#include <cmocka.h>

#include "node/log.h"

#define TS "2026-12-01T16:03:18.123Z"

static const char *render(enum log_format f, const char *body)
{
    static char buf[8192];
    size_t n = log_render(buf, sizeof(buf), f, TS, "info", body);
    assert_int_equal(n, strlen(buf));
    assert_null(strchr(buf, '\n'));
    return buf;
}

static void test_plain_fields_stay_as_written(void **state)
{
    (void)state;
    assert_string_equal(render(LOG_FORMAT_LOGFMT, "store_loaded dir=/data count=0 sync=always"),
                        "ts=" TS " level=info msg=store_loaded dir=/data count=0 sync=always");
    assert_string_equal(render(LOG_FORMAT_JSON, "store_loaded dir=/data count=0 sync=always"),
                        "{\"ts\":\"" TS "\",\"level\":\"info\",\"msg\":\"store_loaded\","
                        "\"dir\":\"/data\",\"count\":\"0\",\"sync\":\"always\"}");
}

static void test_quoted_values_and_remarks(void **state)
{
    (void)state;
    /* A quoted value keeps its spaces; a remark in parentheses becomes detail. */
    assert_string_equal(
        render(LOG_FORMAT_LOGFMT,
               "store_file_missing dir=/data count=3 error=\"No such file\" (writing it again)"),
        "ts=" TS " level=info msg=store_file_missing dir=/data count=3 error=\"No such file\" "
        "detail=\"writing it again\"");
    /* A whole message with no fields: all of it is the detail, quotes escaped. */
    assert_string_equal(
        render(LOG_FORMAT_JSON, "store_load_failed /d/visits.txt: found \"12a\\n\" (byte 3)"),
        "{\"ts\":\"" TS "\",\"level\":\"info\",\"msg\":\"store_load_failed\","
        "\"detail\":\"/d/visits.txt: found \\\"12a\\\\n\\\" (byte 3)\"}");
}

static void test_hostile_values_cannot_break_the_line(void **state)
{
    (void)state;
    /* A newline, an escape sequence, a bare quote and invalid UTF-8 in values. */
    const char *body = "dns_found name=evil\nts=1 level=error addr=\x1b[2J\xff\xfe end=\"a\"b\"";
    assert_string_equal(render(LOG_FORMAT_LOGFMT, body),
                        "ts=" TS " level=info msg=dns_found name=\"evil\\nts=1\" level_=error "
                        "addr=\"\\u001b[2J\\ufffd\\ufffd\" end=\"a\\\"b\"");
    assert_string_equal(render(LOG_FORMAT_JSON, body),
                        "{\"ts\":\"" TS "\",\"level\":\"info\",\"msg\":\"dns_found\","
                        "\"name\":\"evil\\nts=1\",\"level_\":\"error\","
                        "\"addr\":\"\\u001b[2J\\ufffd\\ufffd\",\"end\":\"a\\\"b\"}");
    /* Valid UTF-8 is kept as itself. */
    assert_string_equal(render(LOG_FORMAT_LOGFMT, "x name=caf\xc3\xa9"),
                        "ts=" TS " level=info msg=x name=\"caf\xc3\xa9\"");
}

static void test_empty_and_odd_bodies(void **state)
{
    (void)state;
    assert_string_equal(render(LOG_FORMAT_LOGFMT, ""), "ts=" TS " level=info msg=\"\"");
    assert_string_equal(render(LOG_FORMAT_LOGFMT, "ev key= other=\"unterminated"),
                        "ts=" TS " level=info msg=ev key=\"\" other=unterminated");
    assert_string_equal(render(LOG_FORMAT_JSON, "ev msg=m =x"),
                        "{\"ts\":\"" TS "\",\"level\":\"info\",\"msg\":\"ev\",\"msg_\":\"m\","
                        "\"detail\":\"=x\"}");
}

static void test_small_buffer_is_cut_not_overrun(void **state)
{
    (void)state;
    char buf[16];
    memset(buf, 'z', sizeof(buf));
    size_t n = log_render(buf, 10, LOG_FORMAT_LOGFMT, TS, "info", "ev a=b");
    assert_int_equal(n, 9);
    assert_int_equal(buf[9], '\0');
    assert_int_equal(buf[10], 'z');
}

/* The names --log-level takes are the names log lines carry, both ways. */
static void test_level_names_round_trip(void **state)
{
    (void)state;
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++) {
        enum log_level l;
        assert_int_equal(log_level_parse(names[i], &l), 0);
        assert_int_equal(l, i);
        assert_string_equal(log_level_str(l), names[i]);
    }
    enum log_level l = LOG_LEVEL_WARN;
    assert_int_equal(log_level_parse("INFO", &l), -EINVAL);
    assert_int_equal(log_level_parse("", &l), -EINVAL);
    assert_int_equal(l, LOG_LEVEL_WARN);
    assert_string_equal(log_level_str((enum log_level)7), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_fields_stay_as_written),
        cmocka_unit_test(test_quoted_values_and_remarks),
        cmocka_unit_test(test_hostile_values_cannot_break_the_line),
        cmocka_unit_test(test_empty_and_odd_bodies),
        cmocka_unit_test(test_small_buffer_is_cut_not_overrun),
        cmocka_unit_test(test_level_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
