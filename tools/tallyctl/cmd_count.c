/*
 * cmd_count.c: `tallyctl count` (this pod's visits, GET /count) and
 * `tallyctl cluster` (the StatefulSet's total and each pod's share,
 * GET /cluster). With --json they print tallyd's own answer unchanged.
 */
#include "tools/tallyctl/tallyctl.h"

#include <stdlib.h>

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

int ctl_cluster_render(const struct json *cl, FILE *out)
{
    static const char *const heads[] = {"POD", "STATE", ">VISITS"};
    const struct json *pods = json_get(cl, "pods");
    uint64_t total;
    if (json_type_of(pods) != JSON_ARRAY || json_u64(json_get(cl, "total"), &total)) {
        fprintf(out, "tallyd's /cluster lacks total or pods: is this tallyd?\n");
        return CTL_EXIT_FAIL;
    }
    struct table t;
    table_init(&t, 3, heads);
    size_t npods;
    const struct json **rows = ctl_pods_sorted(pods, &npods);
    if (!rows) {
        table_free(&t);
        fprintf(out, "out of memory\n");
        return CTL_EXIT_FAIL;
    }
    for (size_t i = 0; i < npods; i++) {
        const struct json *p = rows[i];
        char visits[24];
        snprintf(visits, sizeof(visits), "%llu", (unsigned long long)json_get_u64(p, "visits", 0));
        const char *cells[] = {json_get_str(p, "name", "?"), json_get_str(p, "state", "?"), visits};
        table_row_add(&t, cells);
    }
    char sum[24];
    snprintf(sum, sizeof(sum), "%llu", (unsigned long long)total);
    const char *foot[] = {"TOTAL", "", sum};
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
