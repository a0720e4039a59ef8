/*
 * test_seal.c: the gossip key file and envelope (format/seal.c). What users
 * rely on: a bad key file is refused with its name and line (never a silent
 * run without authentication); only datagrams sealed with one of our keys
 * open, and any changed, cut or foreign byte makes them fail; the first key
 * seals and every key opens, so the three-step rotation works; a changed file
 * is picked up by seal_reload_if_changed() while a bad new version keeps the
 * old keys; and the bytes match the golden vector tallyctl also checks.
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

#include "format/seal.h"
#include "proto/proto.h"
#include "tests/unit/seal_golden.h"

/* Two distinct keys, as `head -c 32 /dev/urandom | base64` writes them. */
#define KEY_A "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA="
#define KEY_B "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="

struct fx {
    char dir[64];
    char path[128];
    char msg[512];
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_seal.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/key", f->dir);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    char tmp[160];
    unlink(f->path);
    snprintf(tmp, sizeof(tmp), "%s.new", f->path);
    unlink(tmp);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Write text at path in place (truncate and write). */
static void file_put(const char *path, const char *text, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    chmod(path, 0600);
}

/* Replace path by a new file (rename), as the kubelet does with a Secret. */
static void file_swap(const char *path, const char *text)
{
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    file_put(tmp, text, strlen(text));
    assert_int_equal(rename(tmp, path), 0);
}

static struct seal *load_ok(struct fx *f, const char *text)
{
    struct seal *s = NULL;
    file_put(f->path, text, strlen(text));
    int rc = seal_load(f->path, &s, f->msg, sizeof(f->msg));
    if (rc != 0)
        fail_msg("%s", f->msg);
    assert_non_null(s);
    return s;
}

static void test_key_file_table(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *text;
        size_t len; /* 0: strlen */
        int rc;
        size_t keys;
        const char *msg; /* expected in the message after "key file PATH" */
    } cases[] = {
        {KEY_A "\n", 0, 0, 1, NULL},
        {KEY_A, 0, 0, 1, NULL}, /* no final newline */
        {"# cluster key, rotated 2025-01\n\n  " KEY_A "  \r\n\t\n# old:\n" KEY_B "\n", 0, 0, 2,
         NULL},
        {"", 0, -EINVAL, 0, "holds no key"},
        {"# only a comment\n\n", 0, -EINVAL, 0, "holds no key"},
        {"\n" KEY_A "\nnot-base64!!\n", 0, -EINVAL, 0, "line 3: not base64"},
        {"AAECAwQFBgcICQoLDA0ODw==\n", 0, -EINVAL, 0,
         "line 1: a key is 32 bytes, this line decodes to 16"},
        {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIQ==\n", 0, -EINVAL, 0, "decodes to 34"},
        /* the same key without padding is not accepted: one spelling only */
        {"q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA\n", 0, -EINVAL, 0, "line 1: not base64"},
        /* url-safe alphabet is not what base64(1) writes */
        {"q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA-\n", 0, -EINVAL, 0, "not base64"},
        {KEY_A " " KEY_B "\n", 0, -EINVAL, 0, "line 1: not a key: 89 characters"},
        {KEY_A "\n" KEY_A "\n", 0, -EINVAL, 0, "line 2: the same key as line 1"},
        {KEY_A "\0\n", sizeof(KEY_A "\0\n") - 1, -EINVAL, 0, "line 1: holds a NUL byte"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct seal *s = NULL;
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
        f->msg[0] = '\0';
        file_put(f->path, cases[i].text, len);
        int rc = seal_load(f->path, &s, f->msg, sizeof(f->msg));
        if (rc != cases[i].rc)
            fail_msg("case %zu: rc %d, want %d (%s)", i, rc, cases[i].rc, f->msg);
        if (rc == 0) {
            assert_int_equal(seal_key_count(s), cases[i].keys);
            seal_free(s);
            continue;
        }
        assert_null(s);
        if (!strstr(f->msg, f->path) || !strstr(f->msg, cases[i].msg))
            fail_msg("case %zu: message '%s' should name %s and say '%s'", i, f->msg, f->path,
                     cases[i].msg);
    }
}

static void test_key_file_limits(void **state)
{
    struct fx *f = *state;
    char text[1024] = "";
    size_t used = 0;
    struct seal *s = NULL;
    /* SEAL_MAX_KEYS distinct keys load; one more is refused on its line. */
    for (int i = 0; i <= SEAL_MAX_KEYS; i++) {
        /* 32 bytes of value i: base64 differs in the first characters. */
        static const char *const lines[] = {
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
            "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=",
            "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=",
            "BAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ=",
            "BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU=",
            "BgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgY=",
            "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=",
            "CAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg=",
        };
        used += (size_t)snprintf(text + used, sizeof(text) - used, "%s\n", lines[i]);
        if (i == SEAL_MAX_KEYS - 1) {
            s = load_ok(f, text);
            assert_int_equal(seal_key_count(s), SEAL_MAX_KEYS);
            seal_free(s);
            s = NULL;
        }
    }
    file_put(f->path, text, used);
    assert_int_equal(seal_load(f->path, &s, f->msg, sizeof(f->msg)), -EINVAL);
    assert_non_null(strstr(f->msg, "line 9: more than 8 keys"));

    /* A missing file, a directory and a huge file are refused, named. */
    unlink(f->path);
    assert_int_equal(seal_load(f->path, &s, f->msg, sizeof(f->msg)), -ENOENT);
    assert_non_null(strstr(f->msg, f->path));
    assert_int_equal(seal_load(f->dir, &s, f->msg, sizeof(f->msg)), -EINVAL);
    assert_non_null(strstr(f->msg, "not a regular file"));
    char *big = malloc(SEAL_FILE_MAX + 2);
    memset(big, '#', SEAL_FILE_MAX + 1);
    file_put(f->path, big, SEAL_FILE_MAX + 1);
    free(big);
    assert_int_equal(seal_load(f->path, &s, f->msg, sizeof(f->msg)), -EINVAL);
    assert_null(s);
}

static void test_world_readable(void **state)
{
    struct fx *f = *state;
    struct seal *s = load_ok(f, KEY_A "\n");
    assert_false(seal_world_readable(s));
    seal_free(s);
    chmod(f->path, 0644);
    assert_int_equal(seal_load(f->path, &s, f->msg, sizeof(f->msg)), 0);
    assert_true(seal_world_readable(s));
    seal_free(s);
}

static void test_round_trip(void **state)
{
    struct fx *f = *state;
    struct seal *s = load_ok(f, KEY_A "\n");
    uint8_t in[PROTO_MAX_DATAGRAM], sealed[sizeof(in) + SEAL_OVERHEAD], out[sizeof(in)];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i * 7 + 3);
    size_t sizes[] = {0, 1, 21, 1400};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        int n = seal_seal(s, in, sizes[k], sealed, sizeof(sealed));
        assert_int_equal(n, (int)(sizes[k] + SEAL_OVERHEAD));
        assert_int_equal(sealed[0], SEAL_VERSION);
        assert_int_equal(seal_open(s, sealed, (size_t)n, out, sizeof(out)), (int)sizes[k]);
        if (sizes[k])
            assert_memory_equal(out, in, sizes[k]);
    }
    /* Two seals of the same bytes differ (random nonce). */
    uint8_t again[sizeof(sealed)];
    int n1 = seal_seal(s, in, 21, sealed, sizeof(sealed));
    int n2 = seal_seal(s, in, 21, again, sizeof(again));
    assert_int_equal(n1, n2);
    assert_memory_not_equal(sealed, again, (size_t)n1);
    /* Room is checked both ways. */
    assert_int_equal(seal_seal(s, in, 100, sealed, 100 + SEAL_OVERHEAD - 1), -ENOSPC);
    assert_int_equal(seal_open(s, sealed, (size_t)n1, out, 20), -ENOSPC);
    seal_free(s);
}

static void test_tampered_and_truncated(void **state)
{
    struct fx *f = *state;
    struct seal *s = load_ok(f, KEY_A "\n");
    uint8_t in[64], sealed[64 + SEAL_OVERHEAD], out[128];
    memset(in, 'x', sizeof(in));
    int n = seal_seal(s, in, sizeof(in), sealed, sizeof(sealed));
    assert_int_equal(n, (int)sizeof(sealed));
    /* Any one bit changed anywhere: header, id, nonce, ciphertext or tag. */
    for (int i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            sealed[i] ^= (uint8_t)(1u << bit);
            int rc = seal_open(s, sealed, (size_t)n, out, sizeof(out));
            if (rc != -EBADMSG && rc != -ENOKEY)
                fail_msg("byte %d bit %d flipped: opened (%d)", i, bit, rc);
            sealed[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* Cut short anywhere, or one byte added. */
    for (int len = 0; len < n; len++)
        assert_true(seal_open(s, sealed, (size_t)len, out, sizeof(out)) < 0);
    uint8_t longer[sizeof(sealed) + 1];
    memcpy(longer, sealed, sizeof(sealed));
    longer[sizeof(sealed)] = 0;
    assert_int_equal(seal_open(s, longer, sizeof(longer), out, sizeof(out)), -EBADMSG);
    /* A plain msgpack datagram (what a forger without the key sends). */
    assert_int_equal(seal_open(s, golden_plain, sizeof(golden_plain), out, sizeof(out)), -EBADMSG);
    /* Still intact after all that. */
    assert_int_equal(seal_open(s, sealed, (size_t)n, out, sizeof(out)), (int)sizeof(in));
    seal_free(s);
}

static void test_keys_and_rotation_order(void **state)
{
    struct fx *f = *state;
    uint8_t in[32] = "count me", sealed[32 + SEAL_OVERHEAD], out[64];
    struct seal *a = load_ok(f, KEY_A "\n");
    struct seal *b = load_ok(f, KEY_B "\n");
    struct seal *ab = load_ok(f, KEY_A "\n" KEY_B "\n");
    struct seal *ba = load_ok(f, KEY_B "\n" KEY_A "\n");
    char ida[9], idb[9], idab0[9], idba0[9];
    seal_key_id_hex(a, 0, ida);
    seal_key_id_hex(b, 0, idb);
    seal_key_id_hex(ab, 0, idab0);
    seal_key_id_hex(ba, 0, idba0);
    assert_string_not_equal(ida, idb);
    assert_string_equal(idab0, ida); /* the first line sends */
    assert_string_equal(idba0, idb);

    /* Only B: A's pods do not know its key id. */
    int n = seal_seal(b, in, sizeof(in), sealed, sizeof(sealed));
    assert_int_equal(seal_open(a, sealed, (size_t)n, out, sizeof(out)), -ENOKEY);
    /* Step 1 (A then B) accepts B already; step 2 (B then A) still accepts A. */
    assert_int_equal(seal_open(ab, sealed, (size_t)n, out, sizeof(out)), (int)sizeof(in));
    n = seal_seal(a, in, sizeof(in), sealed, sizeof(sealed));
    assert_int_equal(seal_open(ba, sealed, (size_t)n, out, sizeof(out)), (int)sizeof(in));
    /* What step-2 pods send opens on step-1 pods: the order is safe. */
    n = seal_seal(ba, in, sizeof(in), sealed, sizeof(sealed));
    assert_int_equal(seal_open(ab, sealed, (size_t)n, out, sizeof(out)), (int)sizeof(in));
    /* After step 3 (only B), an A-only pod is cut off both ways. */
    assert_int_equal(seal_open(a, sealed, (size_t)n, out, sizeof(out)), -ENOKEY);
    n = seal_seal(a, in, sizeof(in), sealed, sizeof(sealed));
    assert_int_equal(seal_open(b, sealed, (size_t)n, out, sizeof(out)), -ENOKEY);
    seal_free(a);
    seal_free(b);
    seal_free(ab);
    seal_free(ba);
}

static void test_reload(void **state)
{
    struct fx *f = *state;
    uint8_t in[16] = "visit", sealed[16 + SEAL_OVERHEAD], out[64];
    struct seal *s = load_ok(f, KEY_A "\n");
    struct seal *b = load_ok(f, KEY_B "\n");
    file_swap(f->path, KEY_A "\n");
    assert_int_equal(seal_reload_if_changed(s, f->msg, sizeof(f->msg)), 1); /* new inode */
    assert_int_equal(seal_reload_if_changed(s, f->msg, sizeof(f->msg)), 0); /* unchanged */
    int nb = seal_seal(b, in, sizeof(in), sealed, sizeof(sealed));
    assert_int_equal(seal_open(s, sealed, (size_t)nb, out, sizeof(out)), -ENOKEY);

    /* Step 1, the way a Secret volume changes: a new file swapped in. */
    file_swap(f->path, KEY_A "\n" KEY_B "\n");
    assert_int_equal(seal_reload_if_changed(s, f->msg, sizeof(f->msg)), 1);
    assert_int_equal(seal_key_count(s), 2);
    assert_int_equal(seal_open(s, sealed, (size_t)nb, out, sizeof(out)), (int)sizeof(in));

    /* A bad version (e.g. half written) keeps the keys in use, and is
     * reported once, not on every check. */
    file_put(f->path, "B0rk3n\n", 7);
    int rc = seal_reload_if_changed(s, f->msg, sizeof(f->msg));
    assert_int_equal(rc, -EINVAL);
    assert_non_null(strstr(f->msg, "line 1"));
    assert_non_null(strstr(f->msg, "still using the keys read before"));
    assert_int_equal(seal_reload_if_changed(s, f->msg, sizeof(f->msg)), 0);
    assert_int_equal(seal_open(s, sealed, (size_t)nb, out, sizeof(out)), (int)sizeof(in));
    /* A file gone for a moment: the same. */
    unlink(f->path);
    assert_int_equal(seal_reload_if_changed(s, f->msg, sizeof(f->msg)), -ENOENT);
    assert_int_equal(seal_reload_if_changed(s, f->msg, sizeof(f->msg)), 0);
    assert_int_equal(seal_key_count(s), 2);

    /* Steps 2 and 3, rewritten in place (an operator's editor). */
    file_put(f->path, KEY_B "\n" KEY_A "\n", strlen(KEY_B "\n" KEY_A "\n"));
    assert_int_equal(seal_reload_if_changed(s, f->msg, sizeof(f->msg)), 1);
    char id[9], idb[9];
    seal_key_id_hex(s, 0, id);
    seal_key_id_hex(b, 0, idb);
    assert_string_equal(id, idb); /* sends with B now */
    file_put(f->path, KEY_B "\n", strlen(KEY_B "\n"));
    assert_int_equal(seal_reload_if_changed(s, f->msg, sizeof(f->msg)), 1);
    assert_int_equal(seal_key_count(s), 1);
    struct seal *a = load_ok(f, KEY_A "\n");
    int na = seal_seal(a, in, sizeof(in), sealed, sizeof(sealed));
    assert_int_equal(seal_open(s, sealed, (size_t)na, out, sizeof(out)), -ENOKEY);
    seal_free(a);
    seal_free(b);
    seal_free(s);
}

static void test_golden(void **state)
{
    struct fx *f = *state;
    struct seal *s = load_ok(f, "# golden\n" GOLDEN_KEY_LINE "\n");
    uint8_t sealed[sizeof(golden_plain) + SEAL_OVERHEAD], out[64];
    char id[9];
    seal_key_id_hex(s, 0, id);
    assert_string_equal(id, "cb2f5160");
    assert_int_equal(seal_seal_nonce(s, golden_nonce, golden_plain, sizeof(golden_plain), sealed,
                                     sizeof(sealed)),
                     (int)sizeof(golden_sealed));
    assert_memory_equal(sealed, golden_sealed, sizeof(golden_sealed));
    assert_int_equal(seal_open(s, golden_sealed, sizeof(golden_sealed), out, sizeof(out)),
                     (int)sizeof(golden_plain));
    assert_memory_equal(out, golden_plain, sizeof(golden_plain));
    seal_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_key_file_table, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_key_file_limits, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_world_readable, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_round_trip, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_tampered_and_truncated, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_keys_and_rotation_order, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_reload, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_golden, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
