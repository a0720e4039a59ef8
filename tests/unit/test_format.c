/*
 * test_format.c: the files tallyd keeps beside visits.txt (format/volume.h,
 * format/table.h). What an operator and a restart rely on: a written file
 * reads back the same; a file that is not exactly right is refused with a
 * reason, never half-read, because these files hold which slot a volume
 * counts on and every departed pod's visits.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "format/table.h"
#include "format/volume.h"

static void test_volume_roundtrip(void **state)
{
    (void)state;
    struct volume_info v = {.id = 0x5f2c9a0e41d7b3c8ull, .base = 120, .incarnation = 4}, w;
    char text[VOLUME_TEXT_MAX], why[160];
    int n = volume_format(&v, text, sizeof(text));
    assert_true(n > 0);
    assert_non_null(strstr(text, "id=5f2c9a0e41d7b3c8\nbase=120\nincarnation=4\n"));
    assert_int_equal(volume_parse(text, (size_t)n, &w, why, sizeof(why)), 0);
    assert_true(w.id == v.id && w.base == 120 && w.incarnation == 4);
    /* the largest values still fit the buffer a reader uses */
    v.id = UINT64_MAX;
    v.base = v.incarnation = 1ull << 53;
    assert_true(volume_format(&v, text, sizeof(text)) > 0);
    assert_int_equal(volume_format(&v, text, 20), -ENOSPC);
}

static void test_volume_lenient_where_safe(void **state)
{
    (void)state;
    struct volume_info w;
    char why[160];
    /* comments, CRLF, a later version's key, base and incarnation absent */
    const char *t = "# note\r\nid=00000000000000AB\r\nfuture=1\n";
    assert_int_equal(volume_parse(t, strlen(t), &w, why, sizeof(why)), 0);
    assert_true(w.id == 0xab && w.base == 0 && w.incarnation == 0);
}

static void test_volume_refuses(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",                                             /* no id */
        "base=3\n",                                     /* no id */
        "id=0000000000000000\n",                        /* id 0 is no slot */
        "id=5f2c9a0e41d7b3c\n",                         /* 15 digits */
        "id=5f2c9a0e41d7b3c8a\n",                       /* 17 digits */
        "id=5f2c9a0e41d7b3cg\n",                        /* not hex */
        "id=5f2c9a0e41d7b3c8\nid=5f2c9a0e41d7b3c8\n",   /* twice */
        "id=5f2c9a0e41d7b3c8\nbase=-1\n",               /* sign */
        "id=5f2c9a0e41d7b3c8\nbase=9007199254740993\n", /* past 2^53 */
        "id=5f2c9a0e41d7b3c8\nincarnation=\n",          /* empty */
        "id=5f2c9a0e41d7b3c8\ngarbage\n",               /* not key=value */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct volume_info w;
        char why[160] = "";
        assert_int_equal(volume_parse(bad[i], strlen(bad[i]), &w, why, sizeof(why)), -EINVAL);
        assert_true(why[0] != '\0');
    }
    struct volume_info w;
    char why[160];
    const char nul[] = "id=5f2c9a0e41d7b3c8\n\0";
    assert_int_equal(volume_parse(nul, sizeof(nul) - 1, &w, why, sizeof(why)), -EINVAL);
}

struct rows {
    struct table_row r[8];
    size_t n;
};

static int collect(void *ctx, const struct table_row *row)
{
    struct rows *c = ctx;
    if (c->n == 8)
        return -ENOSPC;
    c->r[c->n++] = *row;
    return 0;
}

static void test_table_roundtrip(void **state)
{
    (void)state;
    struct table_row a = {.name = "myapp-stateful-2",
                          .addr = "10.244.0.7:7946",
                          .incarnation = 3,
                          .heartbeat = 1520,
                          .state = PROTO_STATE_LEFT,
                          .n_slots = 2,
                          .slots = {{0x5f2c9a0e41d7b3c8ull, 132}, {0xa1, 15}}};
    struct table_row b = {.name = "p", .incarnation = 1, .state = PROTO_STATE_ALIVE};
    char text[2 * TABLE_LINE_MAX + 64], why[160];
    size_t used = (size_t)snprintf(text, sizeof(text), "%s", TABLE_HEADER);
    int n = table_row_format(&a, text + used, sizeof(text) - used);
    assert_true(n > 0);
    assert_memory_equal(text + used,
                        "m myapp-stateful-2 10.244.0.7:7946 3 1520 left "
                        "5f2c9a0e41d7b3c8:132 00000000000000a1:15\n",
                        (size_t)n);
    used += (size_t)n;
    n = table_row_format(&b, text + used, sizeof(text) - used);
    assert_true(n > 0);
    used += (size_t)n;
    struct rows c = {.n = 0};
    assert_int_equal(table_parse(text, used, collect, &c, why, sizeof(why)), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.r[0].name, "myapp-stateful-2");
    assert_string_equal(c.r[0].addr, "10.244.0.7:7946");
    assert_int_equal(c.r[0].state, PROTO_STATE_LEFT);
    assert_int_equal(c.r[0].n_slots, 2);
    assert_true(c.r[0].slots[0].vol == 0x5f2c9a0e41d7b3c8ull && c.r[0].slots[0].count == 132);
    assert_string_equal(c.r[1].addr, ""); /* "-" reads back as unknown */
    assert_int_equal(c.r[1].n_slots, 0);
    /* the longest row fits TABLE_LINE_MAX */
    struct table_row big = {.incarnation = 1ull << 53, .heartbeat = 1ull << 53, .n_slots = 16};
    memset(big.name, 'n', PROTO_NAME_MAX);
    memset(big.addr, 'a', PROTO_ADDR_MAX);
    for (int k = 0; k < 16; k++)
        big.slots[k] = (struct proto_slot){UINT64_MAX - (uint64_t)k, 1ull << 53};
    char line[TABLE_LINE_MAX + 2];
    assert_true(table_row_format(&big, line, sizeof(line)) > 0);
}

static void test_table_refuses_with_the_line(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "x p - 1 1 alive\n",                                       /* not a member line */
        "m p - 1 1 resting\n",                                     /* unknown state */
        "m p - 1 1 alive 00000000000000a1\n",                      /* slot without count */
        "m p - 1 1 alive 00000000000000a1:-1\n",                   /* signed count */
        "m p - 1 1 alive 0000000000000000:5\n",                    /* volume 0 */
        "m p - 1 1 alive 00000000000000a1:5 00000000000000a1:6\n", /* twice */
        "m p - 1 1 alive 00000000000000a1:9007199254740993\n",     /* past 2^53 */
        "m p - 1 1 alive  \n",                                     /* doubled space */
        "m p - 1\n",                                               /* short */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct rows c = {.n = 0};
        char text[256], why[160] = "";
        int n = snprintf(text, sizeof(text), "%sm ok - 1 1 alive\n%s", TABLE_HEADER, bad[i]);
        assert_int_equal(table_parse(text, (size_t)n, collect, &c, why, sizeof(why)), -EINVAL);
        assert_non_null(strstr(why, "line 3"));
    }
    /* a callback's error stops the parse and is returned */
    char many[9 * 24 + 1] = "";
    for (int i = 0; i < 9; i++)
        strcat(many, "m p - 1 1 alive\n");
    struct rows c = {.n = 0};
    assert_int_equal(table_parse(many, strlen(many), collect, &c, NULL, 0), -ENOSPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_volume_roundtrip),
        cmocka_unit_test(test_volume_lenient_where_safe),
        cmocka_unit_test(test_volume_refuses),
        cmocka_unit_test(test_table_roundtrip),
        cmocka_unit_test(test_table_refuses_with_the_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
