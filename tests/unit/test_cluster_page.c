/*
 * test_cluster_page.c: the cluster page as built into tallyd. Small, one
 * script and one style, nothing loaded from anywhere, no HTML built from
 * strings in its script, and a policy that allows exactly its own script and
 * style (checked here against hashes computed independently of
 * node/cluster_page.c's search for the tags).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "node/cluster_page.h"

static const char *page(void)
{
    return (const char *)cluster_page_html;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_page_shape(void **state)
{
    assert_int_equal(strlen(page()), cluster_page_html_len);
    assert_true(cluster_page_html_len < 16 * 1024); /* "a few KB" */
    assert_memory_equal(page(), "<!doctype html>", 15);
    assert_int_equal(count(page(), "<script"), 1);
    assert_int_equal(count(page(), "<style"), 1);
    /* nothing from elsewhere, and no markup built from strings */
    assert_int_equal(count(page(), "http://"), 0);
    assert_int_equal(count(page(), "https://"), 0);
    assert_int_equal(count(page(), "src="), 0);
    assert_int_equal(count(page(), "innerHTML"), 0);
    assert_int_equal(count(page(), "outerHTML"), 0);
    assert_int_equal(count(page(), "insertAdjacentHTML"), 0);
    assert_int_equal(count(page(), "document.write"), 0);
    assert_int_equal(count(page(), "eval("), 0);
}

/* "'sha256-...'" of from[0..to), as a CSP source expression. */
static void hash_between(const char *from, const char *to, char *out, size_t cap)
{
    unsigned char d[crypto_hash_sha256_BYTES];
    char b64[sodium_base64_ENCODED_LEN(sizeof(d), sodium_base64_VARIANT_ORIGINAL)];
    crypto_hash_sha256(d, (const unsigned char *)from, (unsigned long long)(to - from));
    sodium_bin2base64(b64, sizeof(b64), d, sizeof(d), sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, cap, "'sha256-%s'", b64);
}

static void test_policy(void **state)
{
    assert_int_not_equal(sodium_init(), -1);
    const char *h = cluster_page_headers();
    assert_ptr_equal(h, cluster_page_headers()); /* computed once */
    assert_non_null(strstr(h, "Vary: Accept\r\n"));
    assert_non_null(strstr(h, "Content-Security-Policy: default-src 'none'; "));
    assert_null(strstr(h, "unsafe"));
    assert_non_null(strstr(h, "X-Content-Type-Options: nosniff\r\n"));

    const char *s = strchr(strstr(page(), "<script"), '>') + 1;
    const char *e = strstr(s, "</script>");
    const char *t = strchr(strstr(page(), "<style"), '>') + 1;
    const char *u = strstr(t, "</style>");
    char script[80], style[80], want[256];
    hash_between(s, e, script, sizeof(script));
    hash_between(t, u, style, sizeof(style));
    snprintf(want, sizeof(want), "script-src %s; style-src %s; connect-src 'self';", script, style);
    assert_non_null(strstr(h, want));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_shape),
        cmocka_unit_test(test_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
