/*
 * pods.c: the "pods" list of tallyd's /cluster in name order, so tables read
 * the same every time (tallyd lists members in its own table order).
 */
#include "tools/tallyctl/tallyctl.h"

#include <stdlib.h>
#include <string.h>

static int pods_cmp(const void *a, const void *b)
{
    const struct json *pa = *(const struct json *const *)a;
    const struct json *pb = *(const struct json *const *)b;
    return strcmp(json_get_str(pa, "name", ""), json_get_str(pb, "name", ""));
}

const struct json **ctl_pods_sorted(const struct json *pods, size_t *n)
{
    *n = json_len(pods);
    const struct json **rows = calloc(*n ? *n : 1, sizeof(*rows));
    if (!rows)
        return NULL;
    for (size_t i = 0; i < *n; i++)
        rows[i] = json_at(pods, i);
    qsort(rows, *n, sizeof(*rows), pods_cmp);
    return rows;
}
