/*
 * routes.c: tallyd's HTTP routes.
 *
 *   GET /          count one visit, answer once it is acknowledged (see commit.h)
 *   GET /count     this pod's count as JSON
 *   GET /cluster   every pod ever seen, with the total; to a browser
 *                  (Accept naming text/html above JSON) the live page of it
 *   GET /healthz   liveness (also /livez); GET /readyz readiness
 *   GET /metrics   Prometheus text
 *   GET /status    this pod's state in one JSON object (for tallyctl status)
 *
 * HEAD works wherever GET does and never counts. Only GET / has a side
 * effect, so probes and scrapers can never inflate the count.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/buf.h"
#include "node/cluster_page.h"
#include "node/log.h"
#include "node/tallyd.h"

#define JSON     "application/json"
#define TEXT     "text/plain; charset=utf-8"
#define HTML     "text/html; charset=utf-8"
#define BODY_MAX (4u << 20) /* /cluster of a few thousand pods fits well inside */

/* A visit waiting for its commit. */
struct visit {
    struct tallyd *d;
    struct http_exchange *ex;
    uint64_t start_ns; /* for the duration histogram: the fsync wait counts */
};

const double tallyd_req_dur_bounds[REQ_DUR_BOUNDS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
};

static void route_observe(struct tallyd *d, enum route_id route)
{
    double s = (double)(uv_hrtime() - d->req_start_ns) / 1e9;
    size_t i = 0;
    while (i < REQ_DUR_BOUNDS && s > tallyd_req_dur_bounds[i])
        i++;
    d->req_dur_buckets[route][i]++;
    d->req_dur_sum[route] += s;
}

static int code_slot(int status)
{
    switch (status) {
    case 200:
        return CODE_200;
    case 404:
        return CODE_404;
    case 405:
        return CODE_405;
    case 503:
        return CODE_503;
    default:
        return CODE_OTHER;
    }
}

static void route_respond_hdr(struct tallyd *d, struct http_exchange *ex, enum route_id route,
                              int status, const char *ctype, const char *extra, const char *body,
                              size_t len)
{
    d->requests[route][code_slot(status)]++;
    route_observe(d, route);
    http_exchange_respond(ex, status, ctype, extra, body, len);
}

static void route_respond(struct tallyd *d, struct http_exchange *ex, enum route_id route,
                          int status, const char *ctype, const char *body, size_t len)
{
    /* the page that counts must never come from a cache: each GET / is a visit */
    const char *extra = status == 405         ? "Allow: GET, HEAD\r\n"
                        : route == ROUTE_ROOT ? "Cache-Control: no-store\r\n"
                                              : "";
    route_respond_hdr(d, ex, route, status, ctype, extra, body, len);
}

static void route_respond_str(struct tallyd *d, struct http_exchange *ex, enum route_id route,
                              int status, const char *ctype, const char *body)
{
    route_respond(d, ex, route, status, ctype, body, strlen(body));
}

static void route_respond_buf(struct tallyd *d, struct http_exchange *ex, enum route_id route,
                              const char *ctype, struct buf *b)
{
    if (b->failed)
        route_respond_str(d, ex, route, 500, TEXT, "response too large\n");
    else
        route_respond(d, ex, route, 200, ctype, b->data, b->len);
    buf_free(b);
}

static int page_format(const struct tallyd *d, uint64_t count, char *out, size_t cap)
{
    return snprintf(out, cap,
                    "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>tally: %s</title>"
                    "</head>\n<body><h1>%s</h1><p>This pod has served <b>%llu</b> visit%s.</p>"
                    "<p><a href=\"/cluster\">The whole StatefulSet, live</a></p></body></html>\n",
                    d->cfg.name, d->cfg.name, (unsigned long long)count, count == 1 ? "" : "s");
}

/* Why the pod is not ready, with what the reason alone cannot hold: the
 * store's message for a data dir that cannot be written, and (disk_error,
 * for /readyz) the disk's error when the count file fails (full, read-only,
 * gone), so the operator sees the cause in one request. */
static void route_reason(const struct tallyd *d, enum readiness r, bool disk_error, char *out,
                         size_t cap)
{
    int err;
    switch (r) {
    case READINESS_DATA_DIR:
        snprintf(out, cap, "%s: %s", readiness_str(r), d->degraded);
        return;
    case READINESS_STORE_FAILING:
        err = d->commit ? commit_last_error(d->commit) : 0;
        if (disk_error && err != 0) {
            snprintf(out, cap, "%s (%s)", readiness_str(r), strerror(-err));
            return;
        }
        break;
    case READINESS_READY:
    case READINESS_DRAINING:
    case READINESS_STARTING:
    case READINESS_SYNCING:
    case READINESS__COUNT:
        break;
    }
    snprintf(out, cap, "%s", readiness_str(r));
}

static void visit_done(void *arg, int status, uint64_t value)
{
    struct visit *v = arg;
    struct tallyd *d = v->d;
    d->req_start_ns = v->start_ns;
    if (status == 0) {
        char page[512];
        int n = page_format(d, tallyd_visits(d, value), page, sizeof(page));
        route_respond(d, v->ex, ROUTE_ROOT, 200, HTML, page, (size_t)n);
    } else {
        char msg[160];
        d->visit_errors++;
        snprintf(msg, sizeof(msg), "visit not counted: the count file could not be written (%s)\n",
                 strerror(-status));
        route_respond_str(d, v->ex, ROUTE_ROOT, 503, TEXT, msg);
    }
    free(v);
}

static void route_root(struct tallyd *d, struct http_exchange *ex)
{
    /* A visit is counted on our own slot, which no peer can move: it needs
     * no readiness, only a count file that can be written. */
    if (http_exchange_is_head(ex)) {
        char page[512];
        int n = page_format(d, tallyd_visits(d, commit_count(d->commit)), page, sizeof(page));
        route_respond(d, ex, ROUTE_ROOT, 200, HTML, page, (size_t)n);
        return;
    }
    int err = commit_last_error(d->commit);
    if (err != 0 && d->cfg.sync == COMMIT_SYNC_ALWAYS) {
        /* The disk is failing: refuse rather than queue visits we may never
         * make durable; the store retries by itself. */
        char msg[160];
        d->visit_errors++;
        snprintf(msg, sizeof(msg), "visit not counted: the count file cannot be written (%s)\n",
                 strerror(-err));
        route_respond_str(d, ex, ROUTE_ROOT, 503, TEXT, msg);
        return;
    }
    struct visit *v = malloc(sizeof(*v));
    if (!v) {
        route_respond_str(d, ex, ROUTE_ROOT, 503, TEXT, "out of memory\n");
        return;
    }
    v->d = d;
    v->ex = ex;
    v->start_ns = d->req_start_ns;
    int rc = commit_visit(d->commit, visit_done, v);
    if (rc != 0)
        visit_done(v, rc, 0);
}

static void route_count(struct tallyd *d, struct http_exchange *ex)
{
    char body[160];
    int n = snprintf(body, sizeof(body), "{\"pod\": \"%s\", \"visits\": %llu}\n", d->cfg.name,
                     (unsigned long long)tallyd_visits(d, commit_count(d->commit)));
    route_respond(d, ex, ROUTE_COUNT, 200, JSON, body, (size_t)n);
}

static void cluster_slots(struct buf *b, const struct gossip_member *m)
{
    buf_append(b, ", \"slots\": [", 12);
    for (unsigned k = 0; k < m->n_slots; k++) {
        char id[VOLUME_ID_HEXLEN + 1];
        volume_id_hex(m->slots[k].vol, id);
        buf_printf(b, "%s{\"volume\": \"%s\", \"visits\": %llu%s}", k ? ", " : "", id,
                   (unsigned long long)m->slots[k].count,
                   m->slots[k].vol == m->vol ? ", \"current\": true" : "");
    }
    buf_append(b, "]", 1);
}

/* A browser asks for text/html by name and above JSON; curl's wildcard, no
 * Accept, or a client that names JSON as high keeps getting JSON. */
static bool route_wants_html(const struct http_request_view *req)
{
    bool html_named, json_named;
    int html = http_accept_q(req->accept, "text/html", &html_named);
    int json = http_accept_q(req->accept, "application/json", &json_named);
    return html_named && html > 0 && html > json;
}

static void route_cluster(struct tallyd *d, struct http_exchange *ex,
                          const struct http_request_view *req)
{
    if (route_wants_html(req)) {
        route_respond_hdr(d, ex, ROUTE_CLUSTER, 200, HTML, cluster_page_headers(),
                          (const char *)cluster_page_html, cluster_page_html_len);
        return;
    }
    struct buf b;
    uint64_t now = tallyd_now_ms(d);
    buf_init(&b, BODY_MAX);
    buf_printf(&b, "{\"pod\": \"%s\", \"total\": %llu, \"pods\": [", d->cfg.name,
               (unsigned long long)gossip_total(d->gossip));
    size_t n = gossip_member_count(d->gossip);
    for (size_t i = 0; i < n; i++) {
        const struct gossip_member *m = gossip_member_at(d->gossip, i);
        uint64_t ago = m->self ? 0 : (now > m->last_seen_ms ? now - m->last_seen_ms : 0);
        buf_append(&b, i ? ",\n  {\"name\": " : "\n  {\"name\": ", i ? 13 : 12);
        buf_json_str(&b, m->name);
        buf_printf(&b, ", \"visits\": %llu, \"state\": \"%s\", \"address\": ",
                   (unsigned long long)m->count, gossip_state_str(m->state));
        buf_json_str(&b, m->addr);
        buf_printf(&b, ", \"last_seen_ms\": %llu, \"incarnation\": %llu", (unsigned long long)ago,
                   (unsigned long long)m->incarnation);
        cluster_slots(&b, m);
        buf_printf(&b, "%s}", m->self ? ", \"self\": true" : "");
    }
    buf_append(&b, "\n]}\n", 4);
    /* Vary: the same URL answers HTML to browsers, so a cache must not mix them. */
    if (b.failed)
        route_respond_hdr(d, ex, ROUTE_CLUSTER, 500, TEXT, "Vary: Accept\r\n",
                          "response too large\n", 19);
    else
        route_respond_hdr(d, ex, ROUTE_CLUSTER, 200, JSON, "Vary: Accept\r\n", b.data, b.len);
    buf_free(&b);
}

/* GET /status: what tallyctl status shows, in one request. */
static void route_status(struct tallyd *d, struct http_exchange *ex)
{
    struct buf b;
    uint64_t by_state[TALLYD_MEMBER_STATES];
    char vol[VOLUME_ID_HEXLEN + 1], why[sizeof(d->degraded) + 64];
    volume_id_hex(d->vol.id, vol);
    /* peers: every member but ourselves */
    metrics_members_by_state(d->gossip, by_state);
    const struct gossip_member *self = gossip_member_at(d->gossip, 0);
    if ((unsigned)self->state < TALLYD_MEMBER_STATES)
        by_state[self->state]--;
    enum readiness ready = tallyd_not_ready(d);
    route_reason(d, ready, false, why, sizeof(why));
    buf_init(&b, 4096);
    buf_printf(&b, "{\"pod\": \"%s\", \"version\": \"%s\", \"incarnation\": %llu, ", d->cfg.name,
               TALLY_VERSION, (unsigned long long)gossip_incarnation(d->gossip));
    buf_printf(&b, "\"protocol\": {\"min\": %d, \"max\": %d}, ", TALLYD_PROTO_MIN,
               TALLYD_PROTO_MAX);
    buf_printf(&b, "\"volume\": \"%s\", \"base\": %llu, \"duplicate_name\": %s, ", vol,
               (unsigned long long)d->vol.base, tallyd_duplicate_active(d) ? "true" : "false");
    buf_printf(&b, "\"uptime_ms\": %llu, \"visits\": %llu, \"durable\": %llu, ",
               (unsigned long long)(tallyd_now_ms(d) - d->start_ms),
               (unsigned long long)tallyd_visits(d, commit_count(d->commit)),
               (unsigned long long)tallyd_visits(d, commit_durable_count(d->commit)));
    /* visits.txt itself, for tallyctl file: what this volume counted */
    buf_printf(&b, "\"file\": {\"visits\": %llu, \"durable\": %llu}, ",
               (unsigned long long)commit_count(d->commit),
               (unsigned long long)commit_durable_count(d->commit));
    buf_printf(&b, "\"sync\": \"%s\", \"data_dir\": ", config_sync_str(d->cfg.sync));
    buf_json_str(&b, d->cfg.data_dir);
    buf_printf(&b, ", \"ready\": %s, \"reason\": ", ready == READINESS_READY ? "true" : "false");
    buf_json_str(&b, why);
    buf_printf(&b, ", \"gossip\": \"%s\", \"service\": ", d->self_addr);
    buf_json_str(&b, d->cfg.service);
    buf_printf(
        &b, ", \"peers\": {\"alive\": %llu, \"suspect\": %llu, \"dead\": %llu, \"left\": %llu}, ",
        (unsigned long long)by_state[0], (unsigned long long)by_state[1],
        (unsigned long long)by_state[2], (unsigned long long)by_state[3]);
    buf_printf(&b, "\"total\": %llu}\n", (unsigned long long)gossip_total(d->gossip));
    route_respond_buf(d, ex, ROUTE_STATUS, JSON, &b);
}

static void route_readyz(struct tallyd *d, struct http_exchange *ex)
{
    enum readiness ready = tallyd_not_ready(d);
    if (ready == READINESS_READY) {
        route_respond_str(d, ex, ROUTE_READYZ, 200, TEXT, "ready\n");
        return;
    }
    char why[sizeof(d->degraded) + 64], msg[sizeof(why) + 16];
    route_reason(d, ready, true, why, sizeof(why));
    snprintf(msg, sizeof(msg), "not ready: %s\n", why);
    route_respond_str(d, ex, ROUTE_READYZ, 503, TEXT, msg);
}

static void route_metrics(struct tallyd *d, struct http_exchange *ex)
{
    struct buf b;
    buf_init(&b, BODY_MAX);
    metrics_render(d, &b);
    route_respond_buf(d, ex, ROUTE_METRICS, "text/plain; version=0.0.4; charset=utf-8", &b);
}

static enum route_id route_find(const char *path)
{
    static const struct {
        const char *path;
        enum route_id id;
    } table[] = {
        {"/", ROUTE_ROOT},           {"/count", ROUTE_COUNT},   {"/cluster", ROUTE_CLUSTER},
        {"/healthz", ROUTE_HEALTHZ}, {"/livez", ROUTE_HEALTHZ}, {"/readyz", ROUTE_READYZ},
        {"/metrics", ROUTE_METRICS}, {"/status", ROUTE_STATUS},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (!strcmp(path, table[i].path))
            return table[i].id;
    return ROUTE_OTHER;
}

void routes_handle(void *ctx, struct http_exchange *ex, const struct http_request_view *req)
{
    struct tallyd *d = ctx;
    d->req_start_ns = uv_hrtime();
    enum route_id route = route_find(req->path);
    if (route == ROUTE_OTHER) {
        route_respond_str(d, ex, route, 404, TEXT, "not found\n");
        return;
    }
    if (req->method == HTTP_M_OTHER) {
        route_respond_str(d, ex, route, 405, TEXT, "method not allowed\n");
        return;
    }
    if (d->degraded[0] && route != ROUTE_HEALTHZ && route != ROUTE_READYZ) {
        /* no store, no gossip: only the probes answer, and they say why */
        char why[sizeof(d->degraded) + 64], msg[sizeof(why) + 16];
        route_reason(d, READINESS_DATA_DIR, false, why, sizeof(why));
        snprintf(msg, sizeof(msg), "not ready: %s\n", why);
        route_respond_str(d, ex, route, 503, TEXT, msg);
        return;
    }
    switch (route) {
    case ROUTE_ROOT:
        route_root(d, ex);
        break;
    case ROUTE_COUNT:
        route_count(d, ex);
        break;
    case ROUTE_CLUSTER:
        route_cluster(d, ex, req);
        break;
    case ROUTE_HEALTHZ:
        route_respond_str(d, ex, route, 200, TEXT, "ok\n");
        break;
    case ROUTE_READYZ:
        route_readyz(d, ex);
        break;
    case ROUTE_METRICS:
        route_metrics(d, ex);
        break;
    case ROUTE_STATUS:
        route_status(d, ex);
        break;
    default:
        route_respond_str(d, ex, ROUTE_OTHER, 404, TEXT, "not found\n");
    }
}
