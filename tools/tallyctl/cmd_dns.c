/*
 * cmd_dns.c: `tallyctl dns [NAME]`, discovery as tallyd sees it. Resolves the
 * headless service's A and AAAA records and SRV _gossip._udp.NAME (and the
 * SRV targets' addresses) through the pod's resolver, then sends a gossip
 * PING to every address found, so "DNS is right but the port is blocked" and
 * "DNS is stale" look different. Exit 1 when nothing resolves or nothing
 * answers.
 */
#include "tools/tallyctl/tallyctl.h"

#include <stdlib.h>
#include <string.h>

#include "tools/tallyctl/fmt.h"
#include "tools/tallyctl/ping.h"
#include "tools/tallyctl/resolve.h"
#include "tools/tallyctl/table.h"

#define DNS_MAX_QUERIES 64
#define DNS_MAX_TARGETS 128

struct dns_query {
    enum resolve_type type;
    char name[RESOLVE_NAME_MAX + 16];
    struct resolve_result res;
};

struct dns_probe {
    struct ping_target t;
    char ip[RESOLVE_NAME_MAX]; /* the address alone, to merge A and SRV findings */
    int port;
    char found_by[32]; /* "SRV", "A", "SRV, A" */
};

struct dns_run {
    char name[RESOLVE_NAME_MAX];
    struct dns_query q[DNS_MAX_QUERIES];
    size_t nq;
    struct dns_probe p[DNS_MAX_TARGETS];
    size_t np;
    int answering;
};

/* DNS answers come in rotating order; sorted, two runs can be compared. */
static int dns_answer_cmp(const void *a, const void *b)
{
    return strcmp(((const struct resolve_answer *)a)->text,
                  ((const struct resolve_answer *)b)->text);
}

static int dns_probe_cmp(const void *a, const void *b)
{
    return strcmp(((const struct dns_probe *)a)->t.label, ((const struct dns_probe *)b)->t.label);
}

static struct dns_query *dns_query_add(struct resolve_ctx *ctx, struct dns_run *r, const char *name,
                                       enum resolve_type type)
{
    if (r->nq == DNS_MAX_QUERIES)
        return NULL;
    struct dns_query *q = &r->q[r->nq++];
    q->type = type;
    size_t n = strnlen(name, sizeof(q->name) - 1);
    memcpy(q->name, name, n);
    q->name[n] = '\0';
    resolve_query(ctx, name, type, &q->res);
    if (q->res.n > 1)
        qsort(q->res.answers, q->res.n, sizeof(q->res.answers[0]), dns_answer_cmp);
    return q;
}

/* Add the address to the probes, or note one more way it was found. port < 0:
 * an A/AAAA record, which has no port: it joins a probe the SRV records gave
 * for the same address, else uses the default gossip port. */
static void dns_probe_add(struct dns_run *r, const struct resolve_answer *a, int port,
                          int default_port, const char *how)
{
    for (size_t i = 0; i < r->np; i++) {
        struct dns_probe *p = &r->p[i];
        if (strcmp(p->ip, a->text) != 0)
            continue;
        if (port >= 0 && p->port != port)
            continue; /* same address, another SRV port: probe both */
        if (!strstr(p->found_by, how)) {
            size_t n = strlen(p->found_by);
            snprintf(p->found_by + n, sizeof(p->found_by) - n, ", %s", how);
        }
        return;
    }
    if (r->np == DNS_MAX_TARGETS)
        return;
    struct dns_probe *p = &r->p[r->np++];
    p->port = port >= 0 ? port : default_port;
    ping_target_set(&p->t, (const struct sockaddr *)&a->addr, p->port);
    snprintf(p->ip, sizeof(p->ip), "%s", a->text);
    snprintf(p->found_by, sizeof(p->found_by), "%s", how);
}

static void dns_resolve_all(struct resolve_ctx *ctx, struct dns_run *r, int gossip_port)
{
    char srv_name[RESOLVE_NAME_MAX + 16];
    struct dns_query *a = dns_query_add(ctx, r, r->name, RESOLVE_A);
    struct dns_query *aaaa = dns_query_add(ctx, r, r->name, RESOLVE_AAAA);
    snprintf(srv_name, sizeof(srv_name), "_gossip._udp.%s", r->name);
    struct dns_query *srv = dns_query_add(ctx, r, srv_name, RESOLVE_SRV);

    /* SRV first: its port is the one tallyd itself would use. */
    for (size_t i = 0; i < srv->res.n; i++) {
        const struct resolve_answer *s = &srv->res.answers[i];
        for (int k = 0; k < 2; k++) {
            struct dns_query *t = dns_query_add(ctx, r, s->text, k ? RESOLVE_AAAA : RESOLVE_A);
            for (size_t j = 0; t && j < t->res.n; j++)
                dns_probe_add(r, &t->res.answers[j], s->port, gossip_port, "SRV");
        }
    }
    for (size_t j = 0; j < a->res.n; j++)
        dns_probe_add(r, &a->res.answers[j], -1, gossip_port, "A");
    for (size_t j = 0; j < aaaa->res.n; j++)
        dns_probe_add(r, &aaaa->res.answers[j], -1, gossip_port, "AAAA");
}

static void dns_text_print(const struct ctl_opts *o, const struct dns_run *r, FILE *out)
{
    static const char *const qh[] = {"RECORD", "NAME", "ANSWER"};
    static const char *const ph[] = {"GOSSIP ADDRESS", "FOUND BY", "PING", ">RTT", "POD",
                                     "STATE",          ">VISITS"};
    struct table t;
    fprintf(out, "name      %s\nresolver  %s\n\n", r->name,
            o->dns_server ? o->dns_server : "/etc/resolv.conf");
    table_init(&t, 3, qh);
    for (size_t i = 0; i < r->nq; i++) {
        const struct dns_query *q = &r->q[i];
        char ans[RESOLVE_NAME_MAX + 64];
        if (q->res.status) {
            snprintf(ans, sizeof(ans), "(%s)", q->res.error);
            const char *row[] = {resolve_type_str(q->type), q->name, ans};
            table_row_add(&t, row);
        }
        for (size_t j = 0; j < q->res.n; j++) {
            const struct resolve_answer *a = &q->res.answers[j];
            if (q->type == RESOLVE_SRV)
                snprintf(ans, sizeof(ans), "%s port %d (priority %d, weight %d)", a->text, a->port,
                         a->priority, a->weight);
            else
                snprintf(ans, sizeof(ans), "%s", a->text);
            const char *row[] = {resolve_type_str(q->type), q->name, ans};
            table_row_add(&t, row);
        }
    }
    table_print(&t, out);
    table_free(&t);
    if (r->np == 0) {
        fprintf(out, "\nno address found for %s: tallyd could not find its peers either\n",
                r->name);
        return;
    }
    fputc('\n', out);
    table_init(&t, 7, ph);
    for (size_t i = 0; i < r->np; i++) {
        const struct ping_target *p = &r->p[i].t;
        char rtt[32] = "-", visits[24] = "-";
        const char *pod = NULL, *state = NULL;
        if (p->answered) {
            fmt_rtt(p->rtt_us, rtt, sizeof(rtt));
            snprintf(visits, sizeof(visits), "%llu",
                     (unsigned long long)proto_entry_visits(&p->entry));
            pod = p->entry.name;
            state = proto_state_str(p->entry.state);
        }
        const char *row[] = {p->label,
                             r->p[i].found_by,
                             p->answered ? "ACK" : (p->err ? "send failed" : "no answer"),
                             rtt,
                             pod,
                             state,
                             visits};
        table_row_add(&t, row);
    }
    table_print(&t, out);
    table_free(&t);
    if (!table_headers())
        return;
    fprintf(out, "\n%d of %zu address%s answer%s gossip PINGs (within %d ms)\n", r->answering,
            r->np, r->np == 1 ? "" : "es", r->np == 1 ? "s" : "", o->timeout_ms);
}

static void dns_json_print(const struct ctl_opts *o, const struct dns_run *r, FILE *out)
{
    fprintf(out, "{\"name\": ");
    json_write_str(out, r->name);
    fprintf(out, ", \"resolver\": ");
    json_write_str(out, o->dns_server ? o->dns_server : "/etc/resolv.conf");
    fprintf(out, ", \"records\": [");
    const char *sep = "";
    for (size_t i = 0; i < r->nq; i++) {
        const struct dns_query *q = &r->q[i];
        for (size_t j = 0; j < q->res.n; j++) {
            const struct resolve_answer *a = &q->res.answers[j];
            fprintf(out, "%s\n  {\"type\": \"%s\", \"name\": ", sep, resolve_type_str(q->type));
            json_write_str(out, q->name);
            if (q->type == RESOLVE_SRV) {
                fprintf(out, ", \"target\": ");
                json_write_str(out, a->text);
                fprintf(out, ", \"port\": %d, \"priority\": %d, \"weight\": %d}", a->port,
                        a->priority, a->weight);
            } else {
                fprintf(out, ", \"address\": ");
                json_write_str(out, a->text);
                fputc('}', out);
            }
            sep = ",";
        }
    }
    fprintf(out, "],\n \"failed\": [");
    sep = "";
    for (size_t i = 0; i < r->nq; i++) {
        const struct dns_query *q = &r->q[i];
        if (!q->res.status)
            continue;
        fprintf(out, "%s\n  {\"type\": \"%s\", \"name\": ", sep, resolve_type_str(q->type));
        json_write_str(out, q->name);
        fprintf(out, ", \"error\": ");
        json_write_str(out, q->res.error);
        fputc('}', out);
        sep = ",";
    }
    fprintf(out, "],\n \"addresses\": [");
    for (size_t i = 0; i < r->np; i++) {
        const struct ping_target *p = &r->p[i].t;
        fprintf(out, "%s\n  {\"address\": ", i ? "," : "");
        json_write_str(out, p->label);
        fprintf(out, ", \"found_by\": ");
        json_write_str(out, r->p[i].found_by);
        fprintf(out, ", \"answers\": %s", p->answered ? "true" : "false");
        if (p->answered) {
            fprintf(out, ", \"rtt_us\": %llu, \"pod\": ", (unsigned long long)p->rtt_us);
            json_write_str(out, p->entry.name);
            fprintf(out, ", \"state\": \"%s\", \"visits\": %llu, \"incarnation\": %llu",
                    proto_state_str(p->entry.state),
                    (unsigned long long)proto_entry_visits(&p->entry),
                    (unsigned long long)p->entry.incarnation);
        }
        fputc('}', out);
    }
    fprintf(out, "],\n \"answering\": %d}\n", r->answering);
}

/* NAME: the argument, else $TALLY_SERVICE, else what tallyd was started with. */
static int dns_name_pick(const struct ctl_opts *o, char *name, size_t cap, FILE *errout)
{
    if (o->arg || o->service_env) {
        snprintf(name, cap, "%s", o->arg ? o->arg : o->service_env);
        return 0;
    }
    struct json *st;
    char err[512];
    if (ctl_fetch_json(o, "/status", &st, NULL, err, sizeof(err))) {
        fprintf(errout,
                "tallyctl: no NAME given and TALLY_SERVICE is unset, so I asked tallyd: %s\n", err);
        return -1;
    }
    const char *svc = json_get_str(st, "service", "");
    if (!svc[0]) {
        fprintf(
            errout,
            "tallyctl: no NAME given, TALLY_SERVICE is unset and tallyd runs without --service\n");
        json_free(st);
        return -1;
    }
    snprintf(name, cap, "%s", svc);
    json_free(st);
    return 0;
}

int cmd_dns(const struct ctl_opts *o, FILE *out, FILE *errout)
{
    struct resolve_ctx *ctx;
    char why[256];
    struct dns_run *r = calloc(1, sizeof(*r));
    int rc = CTL_EXIT_FAIL;

    if (!r) {
        fprintf(errout, "tallyctl: out of memory\n");
        return CTL_EXIT_FAIL;
    }
    if (dns_name_pick(o, r->name, sizeof(r->name), errout))
        goto out;
    if (resolve_open(&ctx, o->dns_server, o->timeout_ms, why, sizeof(why))) {
        fprintf(errout, "tallyctl: %s\n", why);
        goto out;
    }
    dns_resolve_all(ctx, r, o->gossip_port);
    resolve_close(ctx);
    qsort(r->p, r->np, sizeof(r->p[0]), dns_probe_cmp);

    struct ping_target *targets = calloc(r->np ? r->np : 1, sizeof(*targets));
    if (!targets) {
        fprintf(errout, "tallyctl: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < r->np; i++)
        targets[i] = r->p[i].t;
    int n = r->np ? ping_run(targets, r->np, o->timeout_ms) : 0;
    for (size_t i = 0; i < r->np; i++)
        r->p[i].t = targets[i];
    free(targets);
    r->answering = n > 0 ? n : 0;

    if (o->json)
        dns_json_print(o, r, out);
    else
        dns_text_print(o, r, out);
    if (r->np == 0)
        fprintf(errout, "tallyctl: %s does not resolve to any address\n", r->name);
    else if (r->answering == 0)
        fprintf(errout, "tallyctl: no address of %s answers a gossip PING\n", r->name);
    else
        rc = CTL_EXIT_OK;
out:
    for (size_t i = 0; i < r->nq; i++)
        resolve_result_free(&r->q[i].res);
    free(r);
    return rc;
}
