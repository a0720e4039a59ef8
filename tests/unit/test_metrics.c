/*
 * test_metrics.c: GET /metrics (node/metrics.c) over a hand-built daemon
 * (fake_daemon.h). Two things a scraper relies on: the text is valid
 * exposition format 0.0.4 (checked line by line here, and by promtool,
 * which tools/install-deps.sh installs), and the figures are the daemon's
 * own: visits, readiness, requests by route and code, members by state,
 * the cluster total, the store's histograms agreeing with its counters.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/fake_daemon.h"

#define MAX_SERIES 1024

static int setup(void **state)
{
    *state = fake_new("always", 0);
    return 0;
}

static int teardown(void **state)
{
    fake_free(*state);
    return 0;
}

/* ---- the exposition format, line by line ---------------------------------- */

static bool name_ok(const char *s, size_t n)
{
    if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
            return false;
    return true;
}

/* Labels from just after '{' to the '}' (returned), each k="v" with \\, \"
 * and \n the only escapes; NULL when malformed. le receives the le label. */
static const char *labels_check(const char *p, char *le, size_t le_cap)
{
    le[0] = '\0';
    while (*p != '}') {
        size_t kn = strcspn(p, "=");
        if (!name_ok(p, kn) || p[kn] != '=' || p[kn + 1] != '"')
            return NULL;
        bool is_le = kn == 2 && !strncmp(p, "le", 2);
        p += kn + 2;
        size_t vn = 0;
        while (*p != '"') {
            if (*p == '\0' || *p == '\n')
                return NULL;
            if (*p == '\\') {
                if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
                    return NULL;
                p++;
            }
            if (is_le && vn + 1 < le_cap)
                le[vn++] = *p;
            p++;
        }
        if (is_le)
            le[vn] = '\0';
        p++;
        if (*p == ',')
            p++;
        else if (*p != '}')
            return NULL;
    }
    return p;
}

struct family {
    char name[128];
    char type[16];
    double last_bucket; /* histogram: the cumulative count so far, per series */
    char series[256];   /* histogram: the labels but le of the bucket run */
};

/* Checks text as Prometheus text format 0.0.4; fails the test with the line. */
static void exposition_check(const char *text)
{
    static char seen[MAX_SERIES][256];
    size_t n_seen = 0;
    struct family fam = {0};
    char declared[256][128];
    size_t n_declared = 0;
    double inf_count = -1;
    assert_true(text[0] != '\0' && text[strlen(text) - 1] == '\n');
    for (const char *l = text; *l; l += strcspn(l, "\n") + 1) {
        size_t len = strcspn(l, "\n");
        char line[1024];
        assert_true(len < sizeof(line));
        memcpy(line, l, len);
        line[len] = '\0';
        if (!strncmp(line, "# HELP ", 7)) {
            size_t nn = strcspn(line + 7, " ");
            if (!name_ok(line + 7, nn) || line[7 + nn] != ' ')
                fail_msg("bad HELP: %s", line);
            for (size_t i = 0; i < n_declared; i++)
                if (strlen(declared[i]) == nn && !strncmp(declared[i], line + 7, nn))
                    fail_msg("family declared twice: %s", line);
            assert_true(n_declared < 256 && nn < sizeof(declared[0]));
            memcpy(declared[n_declared], line + 7, nn);
            declared[n_declared++][nn] = '\0';
            memset(&fam, 0, sizeof(fam));
            memcpy(fam.name, line + 7, nn);
            continue;
        }
        if (!strncmp(line, "# TYPE ", 7)) {
            size_t nn = strlen(fam.name);
            if (strncmp(line + 7, fam.name, nn) || line[7 + nn] != ' ')
                fail_msg("TYPE not after its HELP: %s", line);
            snprintf(fam.type, sizeof(fam.type), "%s", line + 8 + nn);
            if (strcmp(fam.type, "counter") && strcmp(fam.type, "gauge") &&
                strcmp(fam.type, "histogram"))
                fail_msg("unknown type: %s", line);
            if (!strcmp(fam.type, "counter") && (nn < 6 || strcmp(fam.name + nn - 6, "_total")))
                fail_msg("a counter's name ends in _total: %s", line);
            continue;
        }
        if (line[0] == '#' || !fam.type[0])
            fail_msg("sample or comment outside a family: %s", line);
        /* a sample: name[{labels}] value */
        size_t nn = strcspn(line, "{ ");
        char le[32] = "";
        const char *p = line + nn;
        if (!name_ok(line, nn))
            fail_msg("bad name: %s", line);
        char suffix[32] = "";
        size_t fn = strlen(fam.name);
        if (nn < fn || strncmp(line, fam.name, fn))
            fail_msg("sample not of family %s: %s", fam.name, line);
        snprintf(suffix, sizeof(suffix), "%.*s", (int)(nn - fn), line + fn);
        bool hist = !strcmp(fam.type, "histogram");
        if (suffix[0] && !(hist && (!strcmp(suffix, "_bucket") || !strcmp(suffix, "_sum") ||
                                    !strcmp(suffix, "_count"))))
            fail_msg("sample not of family %s: %s", fam.name, line);
        if (*p == '{') {
            p = labels_check(p + 1, le, sizeof(le));
            if (!p)
                fail_msg("bad labels: %s", line);
            p++;
        }
        if (*p != ' ')
            fail_msg("no value: %s", line);
        char *end;
        double v = strtod(p + 1, &end);
        if (end == p + 1 || *end != '\0')
            fail_msg("bad value: %s", line);
        /* no series twice */
        char key[256];
        snprintf(key, sizeof(key), "%.*s", (int)(p - line), line);
        for (size_t i = 0; i < n_seen; i++)
            if (!strcmp(seen[i], key))
                fail_msg("series twice: %s", line);
        assert_true(n_seen < MAX_SERIES);
        snprintf(seen[n_seen++], sizeof(seen[0]), "%s", key);
        if (!hist)
            continue;
        /* buckets rise to +Inf, which equals _count */
        if (!strcmp(suffix, "_bucket")) {
            if (!le[0])
                fail_msg("bucket without le: %s", line);
            if (v < fam.last_bucket)
                fail_msg("buckets not cumulative: %s", line);
            fam.last_bucket = v;
            if (!strcmp(le, "+Inf")) {
                inf_count = v;
                fam.last_bucket = 0;
            }
        } else if (!strcmp(suffix, "_count")) {
            if (inf_count != v)
                fail_msg("_count is not the +Inf bucket: %s", line);
            inf_count = -1;
        }
    }
}

/* promtool, the Prometheus project's own checker. */
static void promtool_check(const char *text)
{
    FILE *p = popen("promtool check metrics >/dev/null 2>&1", "w");
    assert_non_null(p);
    fputs(text, p);
    int rc = pclose(p);
    if (rc != 0)
        fail_msg("promtool check metrics failed (%d; is it installed? tools/install-deps.sh)", rc);
}

/* The value of the sample whose line starts with series + " ". */
static double sample(const char *text, const char *series)
{
    char want[256];
    snprintf(want, sizeof(want), "\n%s ", series);
    const char *p = strstr(text, want);
    if (!p)
        fail_msg("no sample %s", series);
    return strtod(p + strlen(want), NULL);
}

/* ---- the tests -------------------------------------------------------------- */

static void test_format_is_valid(void **state)
{
    struct fake *f = *state;
    fake_get(f, "/");
    fake_get(f, "/nope");
    const struct fake_answer *a = fake_get(f, "/metrics");
    char h[128];
    assert_int_equal(a->status, 200);
    assert_string_equal(fake_header(a, "Content-Type", h, sizeof(h)),
                        "text/plain; version=0.0.4; charset=utf-8");
    exposition_check(a->body);
    promtool_check(a->body);
}

static void test_figures_are_the_daemons(void **state)
{
    struct fake *f = *state;
    struct gossip *g = f->d.gossip;
    uint64_t now = uv_now(&f->loop);
    fake_get(f, "/");
    fake_get(f, "/");
    fake_get(f, "/count");
    fake_request(f, "POST", "/", NULL);
    assert_int_equal(gossip_member_load(g, now, "pod-1", "127.0.46.11:7946", 2, 1, GOSSIP_ALIVE),
                     0);
    assert_int_equal(gossip_slot_load(g, now, "pod-1", 0x77ull, 5), 0);
    assert_int_equal(gossip_member_load(g, now, "pod-2", "127.0.46.12:7946", 2, 1, GOSSIP_LEFT), 0);

    const char *m = fake_get(f, "/metrics")->body;
    exposition_check(m);
    assert_true(sample(m, "tally_visits_total") == 2);
    assert_true(sample(m, "tally_ready") == 1);
    assert_true(sample(m, "tally_store_durable_visits") == 2);
    assert_true(sample(m, "tally_store_healthy") == 1);
    assert_true(sample(m, "tally_sync_mode{mode=\"always\"}") == 1);
    assert_true(sample(m, "tally_sync_mode{mode=\"interval\"}") == 0);
    assert_true(sample(m, "tally_sync_mode{mode=\"none\"}") == 0);
    assert_true(sample(m, "tally_build_info{version=\"" TALLY_VERSION "\",protocol_min=\"2\","
                          "protocol_max=\"4\"}") == 1);
    assert_true(sample(m, "tally_http_requests_total{route=\"/\",code=\"200\"}") == 2);
    assert_true(sample(m, "tally_http_requests_total{route=\"/\",code=\"405\"}") == 1);
    assert_true(sample(m, "tally_http_requests_total{route=\"/count\",code=\"200\"}") == 1);
    /* /metrics is counted after it renders */
    assert_null(strstr(m, "route=\"/metrics\",code=\"200\""));
    assert_true(sample(m, "tally_http_request_duration_seconds_count{route=\"/\"}") == 3);
    /* members by state, ourselves included */
    assert_true(sample(m, "tally_gossip_members{state=\"alive\"}") == 1);
    assert_true(sample(m, "tally_gossip_members{state=\"suspect\"}") == 1);
    assert_true(sample(m, "tally_gossip_members{state=\"dead\"}") == 0);
    assert_true(sample(m, "tally_gossip_members{state=\"left\"}") == 1);
    assert_true(sample(m, "tally_cluster_visits") == 7);
    /* each write is observed once in the latency histogram */
    assert_true(sample(m, "tally_store_write_seconds_count") ==
                sample(m, "tally_store_writes_total") +
                    sample(m, "tally_store_write_errors_total"));
    assert_true(sample(m, "tally_store_batch_visits_sum") == 2);
    /* no discovery configured: no DNS figures */
    assert_null(strstr(m, "tally_dns_lookups_total"));

    f->d.draining = true;
    m = fake_get(f, "/metrics")->body;
    assert_true(sample(m, "tally_ready") == 0);
    f->d.draining = false;
    assert_true(sample(m, "tally_http_requests_total{route=\"/metrics\",code=\"200\"}") == 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_format_is_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_figures_are_the_daemons, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
