/*
 * cmd_ping.c: `tallyctl ping POD|ADDR`. ADDR is an address literal (port
 * defaults to the gossip port); POD is a pod name, found in tallyd's /cluster
 * (the address the cluster gossips with), else resolved as a DNS name. Each
 * PING carries a fresh random nonce; the ACK's entry is what the pod says
 * about itself. Exit 1 when no PING is answered.
 */
#include "tools/tallyctl/tallyctl.h"

#include <stdlib.h>
#include <string.h>

#include "tools/tallyctl/fmt.h"
#include "tools/tallyctl/ping.h"
#include "tools/tallyctl/resolve.h"

struct ping_reply {
    bool answered;
    uint64_t rtt_us;
    struct proto_entry entry;
};

/* POD as a member of tallyd's cluster: its gossip address. */
static int ping_find_in_cluster(const struct ctl_opts *o, const char *pod, struct ping_target *t,
                                char *note, size_t note_len)
{
    struct json *cl;
    char err[512];
    int rc = -1;
    if (ctl_fetch_json(o, "/cluster", &cl, NULL, err, sizeof(err))) {
        snprintf(note, note_len, "%s", err);
        return -1;
    }
    const struct json *pods = json_get(cl, "pods");
    for (size_t i = 0; i < json_len(pods); i++) {
        const struct json *p = json_at(pods, i);
        if (strcmp(json_get_str(p, "name", ""), pod) != 0)
            continue;
        const char *addr = json_get_str(p, "address", "");
        if (ping_target_parse(addr, o->gossip_port, t) == 0)
            rc = 0;
        else
            snprintf(note, note_len, "tallyd knows %s but not its address ('%s')", pod, addr);
        break;
    }
    if (rc && !note[0])
        snprintf(note, note_len, "%s is not a member tallyd on %s knows", pod, o->url);
    json_free(cl);
    return rc;
}

/* The headless service's name: $TALLY_SERVICE, else tallyd's --service. */
static void ping_service_find(const struct ctl_opts *o, char *out, size_t cap)
{
    struct json *st;
    char err[512];
    if (o->service_env) {
        snprintf(out, cap, "%s", o->service_env);
        return;
    }
    if (ctl_fetch_json(o, "/status", &st, NULL, err, sizeof(err)) == 0) {
        snprintf(out, cap, "%s", json_get_str(st, "service", ""));
        json_free(st);
    }
}

/* host[:port] as a DNS name, first A then AAAA record. */
static int ping_find_in_dns(const struct ctl_opts *o, const char *arg, const char *service,
                            struct ping_target *t, char *note, size_t note_len)
{
    char host[RESOLVE_NAME_MAX];
    int port = o->gossip_port;
    const char *colon = strrchr(arg, ':');
    size_t n = strlen(arg);
    if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
        long v = strtol(colon + 1, NULL, 10);
        if (v < 1 || v > 65535) {
            snprintf(note, note_len, "bad port in '%s'", arg);
            return -1;
        }
        port = (int)v;
        n = (size_t)(colon - arg);
    }
    if (n == 0 || n >= sizeof(host)) {
        snprintf(note, note_len, "bad name '%s'", arg);
        return -1;
    }
    memcpy(host, arg, n);
    host[n] = '\0';

    /* A bare pod name has a DNS name under the headless service:
     * myapp-stateful-1.myapp-headless.default.svc.cluster.local. */
    char full[2 * RESOLVE_NAME_MAX + 2];
    const char *names[2] = {host, NULL};
    if (!strchr(host, '.') && service && service[0]) {
        snprintf(full, sizeof(full), "%s.%s", host, service);
        names[1] = full;
    }
    struct resolve_ctx *ctx;
    if (resolve_open(&ctx, o->dns_server, o->timeout_ms, note, note_len))
        return -1;
    int rc = -1;
    size_t used = 0;
    note[0] = '\0';
    for (int i = 0; i < 2 && names[i] && rc; i++) {
        for (int k = 0; k < 2 && rc; k++) {
            struct resolve_result res;
            resolve_query(ctx, names[i], k ? RESOLVE_AAAA : RESOLVE_A, &res);
            if (res.n > 0) {
                ping_target_set(t, (const struct sockaddr *)&res.answers[0].addr, port);
                rc = 0;
            } else if (!k && used < note_len) {
                used += (size_t)snprintf(note + used, note_len - used, "%s%s: %s", i ? ", " : "",
                                         names[i], res.error);
            }
            resolve_result_free(&res);
        }
    }
    resolve_close(ctx);
    return rc;
}

static void ping_json_print(const struct ctl_opts *o, const char *via, const struct ping_target *t,
                            const struct ping_reply *rep, int answered, FILE *out)
{
    fprintf(out, "{\"target\": ");
    json_write_str(out, o->arg);
    fprintf(out, ", \"address\": ");
    json_write_str(out, t->label);
    fprintf(out, ", \"found_by\": \"%s\", \"sent\": %d, \"answered\": %d, \"replies\": [", via,
            o->count, answered);
    for (int i = 0; i < o->count; i++) {
        fprintf(out, "%s\n  {\"seq\": %d, \"answered\": %s", i ? "," : "", i + 1,
                rep[i].answered ? "true" : "false");
        if (rep[i].answered) {
            fprintf(out, ", \"rtt_us\": %llu, \"pod\": ", (unsigned long long)rep[i].rtt_us);
            json_write_str(out, rep[i].entry.name);
            fprintf(out, ", \"state\": \"%s\", \"visits\": %llu, \"incarnation\": %llu",
                    proto_state_str(rep[i].entry.state),
                    (unsigned long long)proto_entry_visits(&rep[i].entry),
                    (unsigned long long)rep[i].entry.incarnation);
        }
        fputc('}', out);
    }
    fprintf(out, "]}\n");
}

int cmd_ping(const struct ctl_opts *o, FILE *out, FILE *errout)
{
    struct ping_target t;
    char note[600] = "", dns_note[300] = "";
    const char *via = "address";

    if (ping_target_parse(o->arg, o->gossip_port, &t) != 0) {
        via = "cluster";
        if (ping_find_in_cluster(o, o->arg, &t, note, sizeof(note)) != 0) {
            via = "dns";
            char service[RESOLVE_NAME_MAX] = "";
            ping_service_find(o, service, sizeof(service));
            if (ping_find_in_dns(o, o->arg, service, &t, dns_note, sizeof(dns_note)) != 0) {
                fprintf(errout, "tallyctl: cannot find %s: %s; and as a DNS name: %s\n", o->arg,
                        note, dns_note);
                return CTL_EXIT_FAIL;
            }
        }
    }
    struct ping_reply *rep = calloc((size_t)o->count, sizeof(*rep));
    if (!rep) {
        fprintf(errout, "tallyctl: out of memory\n");
        return CTL_EXIT_FAIL;
    }
    if (!o->json)
        fprintf(out, "PING %s (%s, found by %s): %d PING%s, %d ms timeout each\n", o->arg, t.label,
                via, o->count, o->count == 1 ? "" : "s", o->timeout_ms);
    int answered = 0;
    uint64_t min = UINT64_MAX, max = 0, sum = 0;
    for (int i = 0; i < o->count; i++) {
        int rc = ping_run(&t, 1, o->timeout_ms);
        if (rc < 0) {
            fprintf(errout, "tallyctl: cannot send to %s: %s\n", t.label, strerror(-rc));
            break;
        }
        if (t.err && !o->json)
            fprintf(out, "seq=%d send to %s failed: %s\n", i + 1, t.label, strerror(-t.err));
        if (!t.answered) {
            if (!t.err && !o->json)
                fprintf(out, "seq=%d no answer from %s within %d ms\n", i + 1, t.label,
                        o->timeout_ms);
            continue;
        }
        rep[i].answered = true;
        rep[i].rtt_us = t.rtt_us;
        rep[i].entry = t.entry;
        answered++;
        sum += t.rtt_us;
        min = t.rtt_us < min ? t.rtt_us : min;
        max = t.rtt_us > max ? t.rtt_us : max;
        if (!o->json) {
            char rtt[32], name[sizeof(t.entry.name) * FMT_SAFE_GROWTH];
            fmt_rtt(t.rtt_us, rtt, sizeof(rtt));
            fmt_safe(t.entry.name, name, sizeof(name)); /* the pod's word: escape it */
            fprintf(out, "seq=%d ACK from %s: time=%s state=%s visits=%llu incarnation=%llu\n",
                    i + 1, name, rtt, proto_state_str(t.entry.state),
                    (unsigned long long)proto_entry_visits(&t.entry),
                    (unsigned long long)t.entry.incarnation);
        }
    }
    if (o->json) {
        ping_json_print(o, via, &t, rep, answered, out);
    } else {
        fprintf(out, "--- %d sent, %d answered, %d lost", o->count, answered, o->count - answered);
        if (answered) {
            char a[32], b[32], c[32];
            fmt_rtt(min, a, sizeof(a));
            fmt_rtt(sum / (uint64_t)answered, b, sizeof(b));
            fmt_rtt(max, c, sizeof(c));
            fprintf(out, "; rtt min %s, avg %s, max %s", a, b, c);
        }
        fputc('\n', out);
    }
    free(rep);
    if (answered == 0) {
        fprintf(
            errout, "tallyctl: %s (%s) did not answer any gossip PING%s\n", o->arg, t.label,
            " (is tallyd running there, and does its cluster key require authenticated gossip?)");
        return CTL_EXIT_FAIL;
    }
    return CTL_EXIT_OK;
}
