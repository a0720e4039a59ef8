/*
 * table.c: parsing and rendering DATA_DIR/cluster.table (see table.h).
 * Fields are separated by single spaces; names and addresses cannot hold a
 * space (DNS labels, ip:port), which the parser checks like everything else.
 */
#include "format/table.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "format/volume.h"

static const char *const table_states[] = {"alive", "suspect", "dead", "left"};

/* The next space-separated field of [*p, end), or false at the end. */
static bool table_field(const char **p, const char *end, const char **f, size_t *n)
{
    const char *s = *p;
    if (s >= end)
        return false;
    const char *sp = memchr(s, ' ', (size_t)(end - s));
    const char *e = sp ? sp : end;
    if (e == s)
        return false; /* an empty field: leave *p there, the caller refuses */
    *f = s;
    *n = (size_t)(e - s);
    *p = sp ? sp + 1 : end;
    return true;
}

static int table_str(const char *s, size_t n, size_t max, char *out)
{
    if (n == 0 || n > max || memchr(s, '\0', n))
        return -EINVAL;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

static int table_line_parse(const char *s, const char *end, struct table_row *r)
{
    const char *f;
    size_t n;
    memset(r, 0, sizeof(*r));
    if (!table_field(&s, end, &f, &n) || n != 1 || f[0] != 'm')
        return -EINVAL;
    if (!table_field(&s, end, &f, &n) || table_str(f, n, PROTO_NAME_MAX, r->name) < 0)
        return -EINVAL;
    if (!table_field(&s, end, &f, &n))
        return -EINVAL;
    if (!(n == 1 && f[0] == '-') && table_str(f, n, PROTO_ADDR_MAX, r->addr) < 0)
        return -EINVAL;
    if (!table_field(&s, end, &f, &n) || volume_dec_parse(f, n, &r->incarnation) < 0)
        return -EINVAL;
    if (!table_field(&s, end, &f, &n) || volume_dec_parse(f, n, &r->heartbeat) < 0)
        return -EINVAL;
    if (!table_field(&s, end, &f, &n))
        return -EINVAL;
    unsigned st = 0;
    while (st < 4 && !(strlen(table_states[st]) == n && !memcmp(f, table_states[st], n)))
        st++;
    if (st == 4)
        return -EINVAL;
    r->state = (uint8_t)st;
    while (table_field(&s, end, &f, &n)) {
        const char *colon = memchr(f, ':', n);
        if (!colon || r->n_slots >= PROTO_MAX_SLOTS)
            return -EINVAL;
        struct proto_slot *slot = &r->slots[r->n_slots];
        size_t hl = (size_t)(colon - f);
        if (volume_id_parse(f, hl, &slot->vol) < 0 ||
            volume_dec_parse(colon + 1, n - hl - 1, &slot->count) < 0)
            return -EINVAL;
        for (unsigned k = 0; k < r->n_slots; k++)
            if (r->slots[k].vol == slot->vol)
                return -EINVAL;
        r->n_slots++;
    }
    return s == end ? 0 : -EINVAL; /* a trailing or doubled space */
}

int table_parse(const char *text, size_t len, table_row_fn fn, void *ctx, char *why, size_t why_len)
{
    size_t pos = 0;
    unsigned lineno = 0;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl != NULL);
        lineno++;
        if (n == 0 || line[0] == '#')
            continue;
        struct table_row r;
        if (n > TABLE_LINE_MAX || table_line_parse(line, line + n, &r) < 0) {
            if (why && why_len)
                snprintf(why, why_len, "line %u is not a member line: \"%.*s\"", lineno,
                         (int)(n > 60 ? 60 : n), line);
            return -EINVAL;
        }
        int rc = fn(ctx, &r);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int table_row_format(const struct table_row *r, char *out, size_t cap)
{
    size_t used = 0;
    int n = snprintf(out, cap, "m %s %s %llu %llu %s", r->name, r->addr[0] ? r->addr : "-",
                     (unsigned long long)r->incarnation, (unsigned long long)r->heartbeat,
                     table_states[r->state < 4 ? r->state : 2]);
    if (n < 0 || (size_t)n >= cap)
        return -ENOSPC;
    used = (size_t)n;
    for (unsigned k = 0; k < r->n_slots; k++) {
        char id[VOLUME_ID_HEXLEN + 1];
        volume_id_hex(r->slots[k].vol, id);
        n = snprintf(out + used, cap - used, " %s:%llu", id, (unsigned long long)r->slots[k].count);
        if (n < 0 || (size_t)n >= cap - used)
            return -ENOSPC;
        used += (size_t)n;
    }
    if (used + 1 >= cap)
        return -ENOSPC;
    out[used++] = '\n';
    out[used] = '\0';
    return (int)used;
}
