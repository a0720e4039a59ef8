/*
 * cmd_peers.c: `tallyctl peers`, every member this pod knows (GET /cluster),
 * one row each: name, gossip address, state, visits, when it was last heard
 * from, incarnation (raised at each start of the pod, so a restart shows as a
 * new number; tallyd before the counter model sent its start time as
 * "generation", shown in the same column).
 */
#include "tools/tallyctl/tallyctl.h"

#include <stdlib.h>
#include <string.h>

#include "tools/tallyctl/fmt.h"
#include "tools/tallyctl/table.h"

int ctl_peers_render(const struct json *cl, FILE *out)
{
    return ctl_peers_render_state(cl, NULL, out);
}

int ctl_peers_render_state(const struct json *cl, const char *only, FILE *out)
{
    static const char *const heads[] = {"NAME",    "ADDRESS",    "STATE",
                                        ">VISITS", "LAST HEARD", ">INCARNATION"};
    const struct json *pods = json_get(cl, "pods");
    if (json_type_of(pods) != JSON_ARRAY) {
        fprintf(out, "tallyd's /cluster has no pods list: is this tallyd?\n");
        return CTL_EXIT_FAIL;
    }
    struct table t;
    size_t by_state[5] = {0};
    static const char *const states[] = {"alive", "suspect", "dead", "left"};
    table_init(&t, 6, heads);
    size_t npods;
    const struct json **rows = ctl_pods_sorted(pods, &npods);
    if (!rows) {
        table_free(&t);
        fprintf(out, "out of memory\n");
        return CTL_EXIT_FAIL;
    }
    for (size_t i = 0; i < npods; i++) {
        const struct json *p = rows[i];
        char visits[24], heard[32], gen[24];
        bool self = false;
        const char *state = json_get_str(p, "state", "?");
        json_bool(json_get(p, "self"), &self);
        snprintf(visits, sizeof(visits), "%llu", (unsigned long long)json_get_u64(p, "visits", 0));
        if (self)
            snprintf(heard, sizeof(heard), "(self)");
        else
            fmt_ago(json_get_u64(p, "last_seen_ms", 0), heard, sizeof(heard));
        snprintf(
            gen, sizeof(gen), "%llu",
            (unsigned long long)json_get_u64(p, "incarnation", json_get_u64(p, "generation", 0)));
        const char *addr = json_get_str(p, "address", "");
        const char *cells[] = {
            json_get_str(p, "name", "?"), addr[0] ? addr : "-", state, visits, heard, gen};
        if (!only || !strcmp(only, state))
            table_row_add(&t, cells);
        size_t k = 0;
        while (k < 4 && strcmp(states[k], state) != 0)
            k++;
        by_state[k]++;
    }
    free(rows);
    size_t shown = t.nrows;
    int rc = table_print(&t, out);
    table_free(&t);
    if (rc) {
        fprintf(out, "out of memory\n");
        return CTL_EXIT_FAIL;
    }
    if (!table_headers())
        return CTL_EXIT_OK;
    size_t n = json_len(pods);
    uint64_t total = json_get_u64(cl, "total", 0);
    if (only && !shown)
        fprintf(out, "(no member is %s)\n", only);
    fprintf(out, "\n%zu member%s: %zu alive, %zu suspect, %zu dead, %zu left; total %llu visit%s\n",
            n, n == 1 ? "" : "s", by_state[0], by_state[1], by_state[2], by_state[3],
            (unsigned long long)total, total == 1 ? "" : "s");
    return CTL_EXIT_OK;
}

/* peers --state: the render callback takes no options, so it reads the
 * filter from here, set for this one call. */
static const char *g_state;

static int peers_render_filtered(const struct json *cl, FILE *out)
{
    return ctl_peers_render_state(cl, g_state, out);
}

int cmd_peers(const struct ctl_opts *o, FILE *out, FILE *errout)
{
    g_state = o->state;
    return ctl_fetch_show(o, "/cluster", peers_render_filtered, NULL, out, errout);
}
