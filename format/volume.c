/*
 * volume.c: parsing and rendering DATA_DIR/volume (see volume.h). The parser
 * is strict about what it knows and lenient about what it does not: a value
 * it cannot read must stop a start, a key from a later version must not.
 */
#include "format/volume.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "proto/proto.h"

void volume_id_hex(uint64_t id, char out[VOLUME_ID_HEXLEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = VOLUME_ID_HEXLEN - 1; i >= 0; i--) {
        out[i] = hex[id & 0xf];
        id >>= 4;
    }
    out[VOLUME_ID_HEXLEN] = '\0';
}

int volume_id_parse(const char *s, size_t len, uint64_t *id)
{
    uint64_t v = 0;
    if (len != VOLUME_ID_HEXLEN)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -EINVAL;
        v = v << 4 | d;
    }
    if (v == 0)
        return -EINVAL;
    *id = v;
    return 0;
}

int volume_dec_parse(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 16)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > PROTO_VALUE_MAX)
        return -EINVAL;
    *out = v;
    return 0;
}

static int volume_fail(char *why, size_t why_len, const char *what, const char *key, size_t klen)
{
    if (why && why_len)
        snprintf(why, why_len, "%s%s%.*s", what, klen ? " " : "", (int)klen, key);
    return -EINVAL;
}

int volume_parse(const char *text, size_t len, struct volume_info *out, char *why, size_t why_len)
{
    bool have_id = false, have_base = false, have_inc = false;
    struct volume_info v = {0};
    size_t pos = 0;
    if (memchr(text, '\0', len))
        return volume_fail(why, why_len, "not a text file (NUL byte)", "", 0);
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl != NULL);
        if (n > 0 && line[n - 1] == '\r')
            n--;
        if (n == 0 || line[0] == '#')
            continue;
        const char *eq = memchr(line, '=', n);
        if (!eq)
            return volume_fail(why, why_len, "a line is not key=value:", line, n > 40 ? 40 : n);
        size_t klen = (size_t)(eq - line), vlen = n - klen - 1;
        const char *val = eq + 1;
        bool *seen = NULL;
        int rc = 0;
        if (klen == 2 && !memcmp(line, "id", 2)) {
            seen = &have_id;
            rc = volume_id_parse(val, vlen, &v.id);
        } else if (klen == 4 && !memcmp(line, "base", 4)) {
            seen = &have_base;
            rc = volume_dec_parse(val, vlen, &v.base);
        } else if (klen == 11 && !memcmp(line, "incarnation", 11)) {
            seen = &have_inc;
            rc = volume_dec_parse(val, vlen, &v.incarnation);
        } else {
            continue; /* a later version's key */
        }
        if (*seen)
            return volume_fail(why, why_len, "a key appears twice:", line, klen);
        *seen = true;
        if (rc < 0)
            return volume_fail(why, why_len, "bad value for key", line, klen);
    }
    if (!have_id)
        return volume_fail(why, why_len, "no id= line", "", 0);
    *out = v;
    return 0;
}

int volume_format(const struct volume_info *v, char *out, size_t cap)
{
    char id[VOLUME_ID_HEXLEN + 1];
    volume_id_hex(v->id, id);
    int n = snprintf(out, cap,
                     "# tally volume: the counter slot this volume counts on. Do not edit.\n"
                     "id=%s\nbase=%llu\nincarnation=%llu\n",
                     id, (unsigned long long)v->base, (unsigned long long)v->incarnation);
    if (n < 0 || (size_t)n >= cap)
        return -ENOSPC;
    return n;
}
