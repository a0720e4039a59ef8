/*
 * fuzz_format.c: libFuzzer target for the readers of DATA_DIR/volume and
 * DATA_DIR/cluster.table (format/). Beyond "no crash": a rejection always
 * explains itself, and anything accepted renders and reads back the same
 * (a volume file tallyd rewrites at each start must not drift).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/table.h"
#include "format/volume.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_same(void *ctx, const struct table_row *again)
{
    const struct table_row *r = ctx;
    if (strcmp(r->name, again->name) || strcmp(r->addr, again->addr) ||
        r->incarnation != again->incarnation || r->heartbeat != again->heartbeat ||
        r->state != again->state || r->n_slots != again->n_slots ||
        memcmp(r->slots, again->slots, r->n_slots * sizeof(r->slots[0])))
        abort();
    return 0;
}

/* Every row the reader takes renders as one line that reads back the same. */
static int fuzz_row(void *ctx, const struct table_row *r)
{
    char line[TABLE_LINE_MAX + 2];
    (void)ctx;
    int n = table_row_format(r, line, sizeof(line));
    if (n < 0 || table_parse(line, (size_t)n, fuzz_same, (void *)r, NULL, 0) != 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[160] = "";
    struct volume_info v, w;
    if (volume_parse((const char *)data, size, &v, why, sizeof(why)) == 0) {
        char text[VOLUME_TEXT_MAX];
        int n = volume_format(&v, text, sizeof(text));
        if (n < 0 || volume_parse(text, (size_t)n, &w, why, sizeof(why)) != 0 ||
            memcmp(&v, &w, sizeof(v)) != 0)
            abort();
    } else if (why[0] == '\0') {
        abort();
    }
    why[0] = '\0';
    if (table_parse((const char *)data, size, fuzz_row, NULL, why, sizeof(why)) < 0 &&
        why[0] == '\0')
        abort();
    return 0;
}
