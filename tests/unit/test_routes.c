/*
 * test_routes.c: what each URL answers (node/routes.c), over a hand-built
 * daemon (fake_daemon.h): no socket, a real commit layer and gossip core.
 * What users and tools rely on: GET / counts and HEAD does not, /count and
 * /cluster report the counts, /cluster negotiates JSON or the page, /status
 * carries what `tallyctl status` shows, /readyz says why it is not ready
 * for every reason (and the readiness texts themselves), unknown paths and
 * methods get 404 and 405.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "node/readiness.h"
#include "tests/unit/fake_daemon.h"

#define OTHER_VOL 0x1111222233334444ull

static int setup_always(void **state)
{
    *state = fake_new("always", 0);
    return 0;
}

static int teardown(void **state)
{
    fake_free(*state);
    return 0;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("\"%s\" not in:\n%s", needle, hay);
}

static void test_visit_counts_and_head_does_not(void **state)
{
    struct fake *f = *state;
    char h[128];
    const struct fake_answer *a = fake_get(f, "/count");
    assert_int_equal(a->status, 200);
    assert_string_equal(a->body, "{\"pod\": \"pod-0\", \"visits\": 0}\n");
    assert_string_equal(fake_header(a, "Content-Type", h, sizeof(h)), "application/json");

    a = fake_request(f, "HEAD", "/", NULL);
    assert_int_equal(a->status, 200);
    a = fake_get(f, "/");
    assert_int_equal(a->status, 200);
    assert_contains(a->body, "served <b>1</b> visit.");
    /* the page that counts must never come from a cache */
    assert_string_equal(fake_header(a, "Cache-Control", h, sizeof(h)), "no-store");
    a = fake_get(f, "/");
    assert_contains(a->body, "served <b>2</b> visits.");
    a = fake_get(f, "/count");
    assert_string_equal(a->body, "{\"pod\": \"pod-0\", \"visits\": 2}\n");
    /* acknowledged under --sync always means on disk */
    assert_int_equal(commit_durable_count(f->d.commit), 2);
}

static void test_cluster_json_and_page(void **state)
{
    struct fake *f = *state;
    struct gossip *g = f->d.gossip;
    uint64_t now = uv_now(&f->loop);
    char h[128];
    fake_get(f, "/");
    assert_int_equal(gossip_member_load(g, now, "pod-1", "127.0.46.11:7946", 3, 9, GOSSIP_ALIVE),
                     0);
    assert_int_equal(gossip_slot_load(g, now, "pod-1", OTHER_VOL, 5), 0);
    /* a name with a quote and a newline must not break the JSON */
    assert_int_equal(gossip_member_load(g, now, "odd\"\n", "", 1, 1, GOSSIP_LEFT), 0);

    const struct fake_answer *a = fake_get(f, "/cluster");
    assert_int_equal(a->status, 200);
    assert_string_equal(fake_header(a, "Content-Type", h, sizeof(h)), "application/json");
    assert_string_equal(fake_header(a, "Vary", h, sizeof(h)), "Accept");
    assert_contains(a->body, "{\"pod\": \"pod-0\", \"total\": 6, \"pods\": [");
    assert_contains(a->body, "{\"name\": \"pod-0\", \"visits\": 1, \"state\": \"alive\", "
                             "\"address\": \"127.0.46.10:7946\", \"last_seen_ms\": 0, "
                             "\"incarnation\": 1, \"slots\": [{\"volume\": \"49cd05a5a6c10741\", "
                             "\"visits\": 1, \"current\": true}], \"self\": true}");
    /* loaded from the saved table, not heard yet: suspect */
    assert_contains(a->body, "{\"name\": \"pod-1\", \"visits\": 5, \"state\": \"suspect\", "
                             "\"address\": \"127.0.46.11:7946\"");
    assert_contains(a->body, "\"incarnation\": 3, \"slots\": [{\"volume\": \"1111222233334444\", "
                             "\"visits\": 5}]}");
    assert_contains(a->body, "{\"name\": \"odd\\\"\\u000a\", \"visits\": 0, \"state\": \"left\"");
    assert_true(a->body[a->body_len - 1] == '\n');

    /* a browser gets the page; curl's wildcard keeps getting JSON */
    a = fake_request(f, "GET", "/cluster", "Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n");
    assert_int_equal(a->status, 200);
    assert_string_equal(fake_header(a, "Content-Type", h, sizeof(h)), "text/html; charset=utf-8");
    assert_contains(a->body, "<html");
    a = fake_request(f, "GET", "/cluster", "Accept: */*\r\n");
    assert_string_equal(fake_header(a, "Content-Type", h, sizeof(h)), "application/json");
}

static void test_status(void **state)
{
    struct fake *f = *state;
    struct gossip *g = f->d.gossip;
    uint64_t now = uv_now(&f->loop);
    fake_get(f, "/");
    assert_int_equal(gossip_member_load(g, now, "pod-1", "127.0.46.11:7946", 2, 1, GOSSIP_ALIVE),
                     0);
    assert_int_equal(gossip_member_load(g, now, "pod-2", "127.0.46.12:7946", 2, 1, GOSSIP_LEFT), 0);
    assert_int_equal(gossip_slot_load(g, now, "pod-2", OTHER_VOL, 40), 0);

    const struct fake_answer *a = fake_get(f, "/status");
    assert_int_equal(a->status, 200);
    assert_contains(a->body, "{\"pod\": \"pod-0\", \"version\": \"" TALLY_VERSION "\", "
                             "\"incarnation\": 1, ");
    assert_contains(a->body, "\"volume\": \"49cd05a5a6c10741\", \"base\": 0, "
                             "\"duplicate_name\": false, ");
    assert_contains(a->body, "\"visits\": 1, \"durable\": 1, \"file\": {\"visits\": 1, "
                             "\"durable\": 1}, \"sync\": \"always\", \"data_dir\": ");
    assert_contains(a->body, "\"ready\": true, \"reason\": \"\", \"gossip\": "
                             "\"127.0.46.10:7946\", \"service\": \"\", ");
    /* peers: ourselves not among them */
    assert_contains(a->body, "\"peers\": {\"alive\": 0, \"suspect\": 1, \"dead\": 0, \"left\": "
                             "1}, \"total\": 41}\n");
}

static void assert_not_ready(struct fake *f, enum readiness want, const char *readyz)
{
    const struct fake_answer *a;
    char reason[700];
    assert_int_equal(tallyd_not_ready(&f->d), want);
    a = fake_get(f, "/readyz");
    assert_int_equal(a->status, 503);
    assert_string_equal(a->body, readyz);
    snprintf(reason, sizeof(reason), "\"ready\": false, \"reason\": \"%s", readiness_str(want));
    if (want == READINESS_DATA_DIR)
        return; /* /status is refused too: checked by the caller */
    assert_contains(fake_get(f, "/status")->body, reason);
}

static void test_readyz_every_reason(void **state)
{
    struct fake *f = *state;
    const struct fake_answer *a = fake_get(f, "/readyz");
    assert_int_equal(tallyd_not_ready(&f->d), READINESS_READY);
    assert_int_equal(a->status, 200);
    assert_string_equal(a->body, "ready\n");

    f->d.draining = true;
    assert_not_ready(f, READINESS_DRAINING, "not ready: draining (shutting down)\n");
    f->d.draining = false;

    /* the store is not up yet (a start in progress) */
    struct commit *c = f->d.commit;
    f->d.commit = NULL;
    assert_int_equal(tallyd_not_ready(&f->d), READINESS_STARTING);
    assert_string_equal(fake_get(f, "/readyz")->body, "not ready: starting\n");
    f->d.commit = c;

    /* the count file cannot be written: the disk's error is named */
    char moved[96];
    snprintf(moved, sizeof(moved), "%s.gone", f->dir);
    assert_int_equal(rename(f->dir, moved), 0);
    a = fake_get(f, "/");
    assert_int_equal(a->status, 503);
    assert_contains(a->body, "visit not counted: the count file could not be written (");
    assert_not_ready(f, READINESS_STORE_FAILING,
                     "not ready: the count file cannot be written (No such file or directory)\n");
    assert_int_equal(rename(moved, f->dir), 0);

    /* a data dir that could not be written at start: HTTP only */
    snprintf(f->d.degraded, sizeof(f->d.degraded), "%s/visits.txt: Read-only file system", f->dir);
    char want[300];
    snprintf(want, sizeof(want),
             "not ready: the data dir cannot be written: %s/visits.txt: Read-only file system\n",
             f->dir);
    assert_not_ready(f, READINESS_DATA_DIR, want);
    a = fake_get(f, "/count");
    assert_int_equal(a->status, 503);
    assert_string_equal(a->body, want);
    assert_int_equal(fake_get(f, "/healthz")->status, 200);
    f->d.degraded[0] = '\0';
}

/* Waiting for a peer's whole table (--recovery-wait), then ready once it has
 * passed with no peer answering. */
static void test_readyz_syncing(void **state)
{
    (void)state;
    struct fake *f = fake_new("interval", 60000);
    assert_not_ready(f, READINESS_SYNCING,
                     "not ready: syncing: waiting for a peer's whole table\n");
    fake_free(f);
    f = fake_new("interval", 0);
    assert_int_equal(fake_get(f, "/readyz")->status, 200);
    fake_free(f);
}

static void test_readiness_texts(void **state)
{
    (void)state;
    assert_string_equal(readiness_str(READINESS_READY), "");
    for (int r = READINESS_READY + 1; r < READINESS__COUNT; r++) {
        const char *text = readiness_str((enum readiness)r);
        assert_non_null(text);
        assert_true(text[0] != '\0');
        assert_null(strchr(text, '\n'));
        for (int o = READINESS_READY + 1; o < r; o++)
            assert_string_not_equal(text, readiness_str((enum readiness)o));
    }
    assert_string_equal(readiness_str(READINESS__COUNT), "?");
}

static void test_unknown_path_and_method(void **state)
{
    struct fake *f = *state;
    char h[64];
    const struct fake_answer *a = fake_get(f, "/nope");
    assert_int_equal(a->status, 404);
    a = fake_request(f, "DELETE", "/count", NULL);
    assert_int_equal(a->status, 405);
    assert_string_equal(fake_header(a, "Allow", h, sizeof(h)), "GET, HEAD");
    /* no side effect on a refused method */
    assert_int_equal(commit_count(f->d.commit), 0);
    assert_string_equal(fake_get(f, "/livez")->body, "ok\n");
    /* the answers are counted per route and code */
    assert_int_equal(f->d.requests[ROUTE_OTHER][CODE_404], 1);
    assert_int_equal(f->d.requests[ROUTE_COUNT][CODE_405], 1);
    assert_int_equal(f->d.requests[ROUTE_HEALTHZ][CODE_200], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_visit_counts_and_head_does_not, setup_always,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cluster_json_and_page, setup_always, teardown),
        cmocka_unit_test_setup_teardown(test_status, setup_always, teardown),
        cmocka_unit_test_setup_teardown(test_readyz_every_reason, setup_always, teardown),
        cmocka_unit_test(test_readyz_syncing),
        cmocka_unit_test(test_readiness_texts),
        cmocka_unit_test_setup_teardown(test_unknown_path_and_method, setup_always, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
