/*
 * cmd_status.c: `tallyctl status`, one pod at a glance from GET /status.
 * Exits 1 when the pod is not ready, so a script can wait on it; the reason
 * tallyd gives is printed either way.
 */
#include "tools/tallyctl/tallyctl.h"

#include <stdlib.h>

#include "tools/tallyctl/fmt.h"

/* One "key  value" line; the value came from tallyd, so it is escaped. */
static void status_line(FILE *out, const char *key, const char *fmt_prefix, const char *value)
{
    char safe[1024];
    fmt_safe(value, safe, sizeof(safe));
    fprintf(out, "%-11s %s%s\n", key, fmt_prefix, safe);
}

int ctl_status_render(const struct json *st, FILE *out)
{
    uint64_t visits, durable, gen, up;
    bool ready;
    const char *pod = json_get_str(st, "pod", NULL);
    if (!pod || json_u64(json_get(st, "visits"), &visits) ||
        json_bool(json_get(st, "ready"), &ready)) {
        fprintf(out, "tallyd's /status lacks pod, visits or ready: is this tallyd?\n");
        return CTL_EXIT_FAIL;
    }
    durable = json_get_u64(st, "durable", visits);
    gen = json_get_u64(st, "incarnation", json_get_u64(st, "generation", 0));
    up = json_get_u64(st, "uptime_ms", 0);
    const struct json *peers = json_get(st, "peers");
    char uptime[48];
    fmt_duration(up, uptime, sizeof(uptime));

    bool dup = false;
    json_bool(json_get(st, "duplicate_name"), &dup);
    if (dup)
        fprintf(out, "WARNING: another live tallyd speaks for this pod name from another volume "
                     "(both are counted, each on its own slot; see the duplicate_name log line)\n");
    status_line(out, "pod", "", pod);
    status_line(out, "version", "", json_get_str(st, "version", "?"));
    fprintf(out, "%-11s %llu\n", "incarnation", (unsigned long long)gen);
    if (json_get(st, "volume")) {
        char line[96];
        snprintf(line, sizeof(line), " (counter slot; base %llu)",
                 (unsigned long long)json_get_u64(st, "base", 0));
        char safe[256];
        fmt_safe(json_get_str(st, "volume", "?"), safe, sizeof(safe));
        fprintf(out, "%-11s %s%s\n", "volume", safe, line);
    }
    fprintf(out, "%-11s %s\n", "uptime", uptime);
    if (durable == visits)
        fprintf(out, "%-11s %llu (all durable)\n", "visits", (unsigned long long)visits);
    else
        fprintf(out, "%-11s %llu (%llu durable, %llu being written)\n", "visits",
                (unsigned long long)visits, (unsigned long long)durable,
                (unsigned long long)(visits > durable ? visits - durable : 0));
    status_line(out, "sync", "", json_get_str(st, "sync", "?"));
    if (ready)
        fprintf(out, "%-11s yes\n", "ready");
    else
        status_line(out, "ready", "NO: ", json_get_str(st, "reason", "(no reason given)"));
    fprintf(out, "%-11s %llu alive, %llu suspect, %llu dead, %llu left\n", "peers",
            (unsigned long long)json_get_u64(peers, "alive", 0),
            (unsigned long long)json_get_u64(peers, "suspect", 0),
            (unsigned long long)json_get_u64(peers, "dead", 0),
            (unsigned long long)json_get_u64(peers, "left", 0));
    fprintf(out, "%-11s %llu\n", "total", (unsigned long long)json_get_u64(st, "total", 0));
    const char *gossip = json_get_str(st, "gossip", "?");
    status_line(out, "gossip", "",
                gossip[0] ? gossip : "(not advertised: peers use the address they see)");
    const char *svc = json_get_str(st, "service", "");
    status_line(out, "service", "", svc[0] ? svc : "(none: static peers only)");
    status_line(out, "data dir", "", json_get_str(st, "data_dir", "?"));
    return ready ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

/* With --json the exit code still says whether the pod is ready. */
static int status_json_code(const struct json *doc)
{
    bool ready = false;
    return json_bool(json_get(doc, "ready"), &ready) == 0 && ready ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

int cmd_status(const struct ctl_opts *o, FILE *out, FILE *errout)
{
    return ctl_fetch_show(o, "/status", ctl_status_render, status_json_code, out, errout);
}
