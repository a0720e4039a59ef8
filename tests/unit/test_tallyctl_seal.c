/*
 * test_tallyctl_seal.c: tallyctl's copy of the gossip envelope
 * (tools/tallyctl/seal_ctl.c) seals the golden vector to the same bytes as
 * tallyd's node/seal.c (tests/unit/seal_golden.h, also checked by
 * test_seal.c), opens only what one of its keys sealed, and reads the key
 * file by tallyd's rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/seal_golden.h"
#include "tools/tallyctl/seal_ctl.h"

#define KEY_A "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA="

static char key_path[64];

static int write_keys(const char *text)
{
    FILE *f = fopen(key_path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static int setup(void **state)
{
    snprintf(key_path, sizeof(key_path), "/tmp/test_tallyctl_seal.XXXXXX");
    int fd = mkstemp(key_path);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static int teardown(void **state)
{
    unlink(key_path);
    return 0;
}

static void test_golden(void **state)
{
    struct ctl_seal s;
    char err[256];
    uint8_t out[128];
    assert_int_equal(write_keys("# test\n" GOLDEN_KEY_LINE "\n" KEY_A "\n"), 0);
    assert_int_equal(ctl_seal_load(key_path, &s, err, sizeof(err)), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(
        ctl_seal_seal_nonce(&s, golden_nonce, golden_plain, sizeof(golden_plain), out, sizeof(out)),
        (int)sizeof(golden_sealed));
    assert_memory_equal(out, golden_sealed, sizeof(golden_sealed));
    assert_int_equal(ctl_seal_open(&s, golden_sealed, sizeof(golden_sealed), out, sizeof(out)),
                     (int)sizeof(golden_plain));
    assert_memory_equal(out, golden_plain, sizeof(golden_plain));
    ctl_seal_clear(&s);
}

static void test_open_rejects(void **state)
{
    struct ctl_seal s, other;
    char err[256];
    uint8_t sealed[sizeof(golden_sealed)], out[128];
    assert_int_equal(write_keys(GOLDEN_KEY_LINE "\n"), 0);
    assert_int_equal(ctl_seal_load(key_path, &s, err, sizeof(err)), 0);
    assert_int_equal(write_keys(KEY_A "\n"), 0);
    assert_int_equal(ctl_seal_load(key_path, &other, err, sizeof(err)), 0);
    /* Any flipped byte, any cut, an unknown key, a plain datagram. */
    memcpy(sealed, golden_sealed, sizeof(sealed));
    for (size_t i = 0; i < sizeof(sealed); i++) {
        sealed[i] ^= 0x10;
        assert_int_equal(ctl_seal_open(&s, sealed, sizeof(sealed), out, sizeof(out)), -1);
        sealed[i] ^= 0x10;
    }
    for (size_t len = 0; len < sizeof(sealed); len++)
        assert_int_equal(ctl_seal_open(&s, sealed, len, out, sizeof(out)), -1);
    assert_int_equal(ctl_seal_open(&other, sealed, sizeof(sealed), out, sizeof(out)), -1);
    assert_int_equal(ctl_seal_open(&s, golden_plain, sizeof(golden_plain), out, sizeof(out)), -1);
    /* A random nonce still round-trips. */
    int n = ctl_seal_seal(&other, golden_plain, sizeof(golden_plain), sealed, sizeof(sealed));
    assert_int_equal(n, (int)sizeof(sealed));
    assert_int_equal(ctl_seal_open(&other, sealed, (size_t)n, out, sizeof(out)),
                     (int)sizeof(golden_plain));
    ctl_seal_clear(&s);
    ctl_seal_clear(&other);
}

static void test_bad_files(void **state)
{
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"", "holds no key"},
        {"# nothing\n", "holds no key"},
        {KEY_A "\nAAECAwQFBgcICQoLDA0ODw==\n", "line 2: not the base64 of a 32-byte key"},
        {"\nnot base64\n", "line 2:"},
        {KEY_A "\n" KEY_A "\n", "line 2: the same key"},
    };
    struct ctl_seal s;
    char err[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(write_keys(cases[i].text), 0);
        assert_int_equal(ctl_seal_load(key_path, &s, err, sizeof(err)), -1);
        if (!strstr(err, key_path) || !strstr(err, cases[i].msg))
            fail_msg("case %zu: '%s' should name the file and say '%s'", i, err, cases[i].msg);
        assert_int_equal(s.n, 0);
    }
    unlink(key_path);
    assert_int_equal(ctl_seal_load(key_path, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_golden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
