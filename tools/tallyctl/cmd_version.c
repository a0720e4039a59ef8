/*
 * cmd_version.c: `tallyctl version`: tallyctl's own version and the gossip
 * protocol versions it speaks, then tallyd's from GET /status when it
 * answers, so an operator sees at once whether the two can talk. Exit 1 when
 * tallyd does not answer (its half is then a sentence saying why).
 */
#include "tools/tallyctl/tallyctl.h"

#include <stdlib.h>

#include "proto/proto.h"
#include "tools/tallyctl/fmt.h"

int ctl_version_render(const struct json *st, const char *url, const char *why, FILE *out)
{
    char safe[512];
    fprintf(out, "tallyctl  %s (gossip protocol %d-%d)\n", TALLY_VERSION, PROTO_VERSION_MIN,
            PROTO_VERSION_MAX);
    if (!st) {
        fmt_safe(why, safe, sizeof(safe));
        fprintf(out, "tallyd    unknown: %s\n", safe);
        return CTL_EXIT_FAIL;
    }
    const struct json *proto = json_get(st, "protocol");
    uint64_t lo, hi;
    fmt_safe(json_get_str(st, "version", "?"), safe, sizeof(safe));
    if (json_u64(json_get(proto, "min"), &lo) == 0 && json_u64(json_get(proto, "max"), &hi) == 0)
        fprintf(out, "tallyd    %s (gossip protocol %llu-%llu)", safe, (unsigned long long)lo,
                (unsigned long long)hi);
    else
        fprintf(out, "tallyd    %s (gossip protocol not reported: older than tallyctl)", safe);
    fmt_safe(url, safe, sizeof(safe));
    fprintf(out, " on %s\n", safe);
    return CTL_EXIT_OK;
}

/* --json: {"tallyctl": {...}, "tallyd": {...} or null, "url", "error"}. */
static int version_json(const struct json *st, const char *url, const char *why, FILE *out)
{
    fprintf(out, "{\"tallyctl\": {\"version\": \"%s\", \"protocol\": {\"min\": %d, \"max\": %d}}, ",
            TALLY_VERSION, PROTO_VERSION_MIN, PROTO_VERSION_MAX);
    fputs("\"url\": ", out);
    json_write_str(out, url);
    fputs(", \"tallyd\": ", out);
    if (!st) {
        fputs("null, \"error\": ", out);
        json_write_str(out, why);
        fputs("}\n", out);
        return CTL_EXIT_FAIL;
    }
    fputs("{\"version\": ", out);
    json_write_str(out, json_get_str(st, "version", ""));
    const struct json *proto = json_get(st, "protocol");
    uint64_t lo, hi;
    if (json_u64(json_get(proto, "min"), &lo) == 0 && json_u64(json_get(proto, "max"), &hi) == 0)
        fprintf(out, ", \"protocol\": {\"min\": %llu, \"max\": %llu}", (unsigned long long)lo,
                (unsigned long long)hi);
    fputs("}}\n", out);
    return CTL_EXIT_OK;
}

int cmd_version(const struct ctl_opts *o, FILE *out, FILE *errout)
{
    (void)errout; /* tallyd not answering is part of the answer, on out */
    struct json *st = NULL;
    char err[512] = "";
    if (ctl_fetch_json(o, "/status", &st, NULL, err, sizeof(err)))
        st = NULL;
    int rc =
        o->json ? version_json(st, o->url, err, out) : ctl_version_render(st, o->url, err, out);
    json_free(st);
    return rc;
}
