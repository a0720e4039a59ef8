/*
 * cmd_count.c: `tallyctl count` (this pod's visits, GET /count) and
 * `tallyctl cluster` (the StatefulSet's total and each pod's share,
 * GET /cluster). With --json they print tallyd's own answer unchanged.
 */
#include "tools/tallyctl/tallyctl.h"

#include <stdlib.h>

#include "proto/proto.h"
#include "tools/tallyctl/fmt.h"
#include "tools/tallyctl/table.h"

int ctl_count_render(const struct json *c, FILE *out)
{
    uint64_t visits;
    const char *pod = json_get_str(c, "pod", NULL);
    if (!pod || json_u64(json_get(c, "visits"), &visits)) {
        fprintf(out, "tallyd's /count lacks pod or visits: is this tallyd?\n");
        return CTL_EXIT_FAIL;
    }
    char safe[64 * FMT_SAFE_GROWTH + 1];
    fmt_safe(pod, safe, sizeof(safe));
    fprintf(out, "%s: %llu visit%s\n", safe, (unsigned long long)visits, visits == 1 ? "" : "s");
    return CTL_EXIT_OK;
}

/* A pod's slots, one per volume it has counted on: each volume id's first 8
 * hex digits and its visits, the volume it counts on now marked with '*'.
 * The column appears only when some pod has more than one slot. */
static void cluster_slots_cell(const struct json *p, char *out, size_t cap)
{
    const struct json *slots = json_get(p, "slots");
    size_t n = json_type_of(slots) == JSON_ARRAY ? json_len(slots) : 0;
    size_t used = (size_t)snprintf(out, cap, "%zu", n);
    if (n < 2)
        return;
    for (size_t k = 0; k < n && used < cap; k++) {
        const struct json *s = json_at(slots, k);
        bool current = false;
        json_bool(json_get(s, "current"), &current);
        char id[9];
        snprintf(id, sizeof(id), "%s", json_get_str(s, "volume", "?"));
        used +=
            (size_t)snprintf(out + used, cap - used, "%s %s%s=%llu", k ? "" : ":", id,
                             current ? "*" : "", (unsigned long long)json_get_u64(s, "visits", 0));
    }
}

int ctl_cluster_render(const struct json *cl, FILE *out)
{
    static const char *const heads[] = {"POD", "STATE", ">VISITS", "SLOTS"};
    bool multi = false;
    const struct json *pods = json_get(cl, "pods");
    uint64_t total;
    if (json_type_of(pods) != JSON_ARRAY || json_u64(json_get(cl, "total"), &total)) {
        fprintf(out, "tallyd's /cluster lacks total or pods: is this tallyd?\n");
        return CTL_EXIT_FAIL;
    }
    for (size_t i = 0; i < json_len(pods); i++)
        multi |= json_len(json_get(json_at(pods, i), "slots")) > 1;
    struct table t;
    table_init(&t, multi ? 4 : 3, heads);
    size_t npods;
    const struct json **rows = ctl_pods_sorted(pods, &npods);
    if (!rows) {
        table_free(&t);
        fprintf(out, "out of memory\n");
        return CTL_EXIT_FAIL;
    }
    for (size_t i = 0; i < npods; i++) {
        const struct json *p = rows[i];
        char visits[24], slots[PROTO_MAX_SLOTS * 32];
        snprintf(visits, sizeof(visits), "%llu", (unsigned long long)json_get_u64(p, "visits", 0));
        cluster_slots_cell(p, slots, sizeof(slots));
        const char *cells[] = {json_get_str(p, "name", "?"), json_get_str(p, "state", "?"), visits,
                               slots};
        table_row_add(&t, cells);
    }
    char sum[24];
    snprintf(sum, sizeof(sum), "%llu", (unsigned long long)total);
    const char *foot[] = {"TOTAL", "", sum, ""};
    if (table_headers())
        table_row_add(&t, foot);
    free(rows);
    int rc = table_print(&t, out);
    table_free(&t);
    if (rc) {
        fprintf(out, "out of memory\n");
        return CTL_EXIT_FAIL;
    }
    if (table_headers()) {
        char safe[64 * FMT_SAFE_GROWTH + 1];
        fmt_safe(json_get_str(cl, "pod", "?"), safe, sizeof(safe));
        fprintf(out, "(as seen by %s)\n", safe);
    }
    return CTL_EXIT_OK;
}

int cmd_count(const struct ctl_opts *o, FILE *out, FILE *errout)
{
    return ctl_fetch_show(o, "/count", ctl_count_render, NULL, out, errout);
}

int cmd_cluster(const struct ctl_opts *o, FILE *out, FILE *errout)
{
    return ctl_fetch_show(o, "/cluster", ctl_cluster_render, NULL, out, errout);
}
