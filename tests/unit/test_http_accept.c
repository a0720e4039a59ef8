/*
 * test_http_accept.c: http_accept_q(), which decides who gets the cluster
 * page and who keeps getting JSON. The Accept values are what real clients
 * send: browsers must get HTML, curl, fetch's default, scripts and anything
 * unsure must get JSON.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "node/http/server.h"

/* The route's rule (node/routes.c): text/html named, wanted, and above JSON. */
static bool wants_html(const char *accept)
{
    bool html_named, json_named;
    int html = http_accept_q(accept, "text/html", &html_named);
    int json = http_accept_q(accept, "application/json", &json_named);
    return html_named && html > 0 && html > json;
}

static void test_clients(void **state)
{
    static const struct {
        const char *accept;
        bool html;
    } cases[] = {
        /* chromium 156, Firefox 128, Safari 17 */
        {"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
         "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
         true},
        {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
        {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
        {"TEXT/HTML", true},
        {"text/html", true},
        {" text/html ; q=0.5 , application/json;q=0.4", true},
        /* curl, wget, no Accept, fetch()'s default, scripts */
        {"*/*", false},
        {"", false},
        {"   ", false},
        {"application/json", false},
        {"application/json, text/html", false},
        {"text/html;q=0.5, application/json", false},
        {"text/html;q=0.5, */*;q=0.5", false},
        {"text/*", false},
        {"text/plain", false},
        {"text/html;q=0", false},
        {"text/html;q=0.000", false},
        {"text/htmlx", false},
        {"text/html;q=2", false},   /* malformed q: the range is ignored */
        {"text/html;q=1.5", false}, /* ... */
        {"text/html;q=abc", false},
        {"text/html;q=0.1234", false},
        {",,,", false},
        {";;;q=1", false},
        {"text/html;level=1;q=0.9, */*;q=0.1", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (wants_html(cases[i].accept) != cases[i].html)
            fail_msg("Accept \"%s\": want %s", cases[i].accept, cases[i].html ? "HTML" : "JSON");
    }
}

static void test_q_values(void **state)
{
    bool exact;
    assert_int_equal(http_accept_q("", "text/html", &exact), 1000);
    assert_false(exact);
    assert_int_equal(http_accept_q("*/*;q=0.8", "application/json", &exact), 800);
    assert_false(exact);
    /* the most specific range decides, whatever the order */
    assert_int_equal(http_accept_q("text/html;q=0.2, text/*;q=0.9, */*", "text/html", &exact), 200);
    assert_true(exact);
    assert_int_equal(http_accept_q("*/*;q=0.1, text/*;q=0.7", "text/html", &exact), 700);
    assert_false(exact);
    assert_int_equal(http_accept_q("image/png", "text/html", &exact), 0);
    assert_int_equal(http_accept_q("text/html;Q=0.25", "text/html", &exact), 250);
    assert_int_equal(http_accept_q("text/html;q=1.000", "text/html", &exact), 1000);
    assert_int_equal(http_accept_q("text/html;q=0.", "text/html", &exact), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clients),
        cmocka_unit_test(test_q_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
