/*
 * test_tallyctl_countfile.c: `tallyctl file` must judge a count file exactly
 * as tallyd does: the same table of good and corrupt files as tallyd's store
 * test, plus reading from a real directory (missing file, missing directory,
 * too large, not a regular file) and the verdict against tallyd's counts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tools/tallyctl/countfile.h"

static void test_parse_table(void **state)
{
    static const struct {
        const char *bytes;
        size_t len;
        int ok;
        uint64_t count;
        const char *why;
    } cases[] = {
        {"0", 1, 1, 0, NULL},
        {"0\n", 2, 1, 0, NULL},
        {"132\n", 4, 1, 132, NULL},
        {"132", 3, 1, 132, NULL},
        {"18446744073709551615\n", 21, 1, UINT64_MAX, NULL},
        {"", 0, 0, 0, "empty file"},
        {"\n", 1, 0, 0, "no digits"},
        {"18446744073709551616\n", 21, 0, 0, "value above 18446744073709551615"},
        {"012\n", 4, 0, 0, "leading zero"},
        {"00", 2, 0, 0, "leading zero"},
        {"12a\n", 4, 0, 0, "found \"12a\\n\" (byte 3 is not a digit)"},
        {"-1\n", 3, 0, 0, "byte 1 is not a digit"},
        {" 1\n", 3, 0, 0, "byte 1 is not a digit"},
        {"1\n\n", 3, 0, 0, "byte 2 is not a digit"},
        {"1\r\n", 3, 0, 0, "byte 2 is not a digit"},
        {"+5", 2, 0, 0, "byte 1 is not a digit"},
        {"1\0", 2, 0, 0, "found \"1\\x00\" (byte 2 is not a digit)"},
        {"1 ", 2, 0, 0, "byte 2 is not a digit"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t v = 77;
        char why[160] = "";
        int rc = count_text_parse(cases[i].bytes, cases[i].len, &v, why, sizeof(why));
        if (cases[i].ok) {
            if (rc != 0 || v != cases[i].count)
                fail_msg("case %zu: rc %d v %llu why '%s'", i, rc, (unsigned long long)v, why);
        } else if (rc != -EINVAL || v != 77 || !strstr(why, cases[i].why)) {
            fail_msg("case %zu: rc %d why '%s', want '%s'", i, rc, why, cases[i].why);
        }
    }
}

static void test_parse_too_large(void **state)
{
    char big[80];
    uint64_t v;
    char why[160];
    memset(big, '1', sizeof(big));
    assert_int_equal(count_text_parse(big, 65, &v, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "more than 64 bytes"));
    /* The quote is cut so a big file does not flood the message. */
    assert_non_null(strstr(why, "...\""));
}

struct dir {
    char path[64];
};

static int dir_setup(void **state)
{
    struct dir *d = calloc(1, sizeof(*d));
    snprintf(d->path, sizeof(d->path), "/tmp/test-tallyctl-XXXXXX");
    if (!mkdtemp(d->path))
        return -1;
    *state = d;
    return 0;
}

static int dir_teardown(void **state)
{
    struct dir *d = *state;
    char p[128];
    snprintf(p, sizeof(p), "%s/visits.txt", d->path);
    unlink(p);
    rmdir(p);
    rmdir(d->path);
    free(d);
    return 0;
}

static void file_write(const struct dir *d, const char *bytes, size_t len)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/visits.txt", d->path);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    fclose(f);
}

static void test_read_states(void **state)
{
    struct dir *d = *state;
    struct countfile *cf = malloc(sizeof(*cf));
    char p[128];

    countfile_read(d->path, cf);
    assert_int_equal(cf->state, COUNTFILE_MISSING); /* a fresh volume */

    file_write(d, "41\n", 3);
    countfile_read(d->path, cf);
    assert_int_equal(cf->state, COUNTFILE_OK);
    assert_int_equal(cf->count, 41);
    assert_int_equal(cf->size, 3);
    assert_true(cf->mtime > 0);
    snprintf(p, sizeof(p), "%s/visits.txt", d->path);
    assert_string_equal(cf->path, p);

    file_write(d, "", 0);
    countfile_read(d->path, cf);
    assert_int_equal(cf->state, COUNTFILE_CORRUPT);
    assert_string_equal(cf->why, "empty file");

    char big[100];
    memset(big, '7', sizeof(big));
    file_write(d, big, sizeof(big));
    countfile_read(d->path, cf);
    assert_int_equal(cf->state, COUNTFILE_CORRUPT);
    assert_non_null(strstr(cf->why, "more than 64 bytes"));
    assert_int_equal(cf->size, 100);

    unlink(p);
    assert_int_equal(mkdir(p, 0755), 0);
    countfile_read(d->path, cf);
    assert_int_equal(cf->state, COUNTFILE_CORRUPT);
    assert_string_equal(cf->why, "not a regular file");
    rmdir(p);

    snprintf(p, sizeof(p), "%s/not-mounted", d->path);
    countfile_read(p, cf);
    assert_int_equal(cf->state, COUNTFILE_NO_DIR);
    assert_non_null(strstr(cf->why, "does not exist (is the volume mounted?)"));
    free(cf);
}

static void test_compare(void **state)
{
    uint64_t behind = 99;
    assert_int_equal(countfile_compare(10, 10, 10, &behind), COUNTFILE_MATCHES);
    assert_int_equal(behind, 0);
    assert_int_equal(countfile_compare(8, 10, 8, &behind), COUNTFILE_BEHIND);
    assert_int_equal(behind, 2);
    assert_int_equal(countfile_compare(0, 3, 0, &behind), COUNTFILE_BEHIND); /* fresh volume */
    assert_int_equal(behind, 3);
    assert_int_equal(countfile_compare(11, 10, 10, &behind), COUNTFILE_AHEAD);
    assert_int_equal(countfile_compare(10, 12, 9, &behind), COUNTFILE_AHEAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_too_large),
        cmocka_unit_test_setup_teardown(test_read_states, dir_setup, dir_teardown),
        cmocka_unit_test(test_compare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
