/*
 * buf.c: bounded growable buffer; see buf.h.
 */
#include "node/buf.h"

#include "format/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

void buf_free(struct buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

static bool buf_reserve(struct buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (b->len + extra + 1 > b->max) {
        b->failed = true;
        return false;
    }
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    if (cap > b->max)
        cap = b->max;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void buf_append(struct buf *b, const char *s, size_t n)
{
    if (!buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        b->failed = true; /* every caller formats short fields; longer is a bug */
        return;
    }
    buf_append(b, tmp, (size_t)n);
}

void buf_json_str(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    buf_append(b, "\"", 1);
    for (size_t i = 0; i < n;) {
        const unsigned char *p = (const unsigned char *)s + i;
        unsigned cp;
        size_t len = utf8_seq(p, n - i, &cp);
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            buf_append(b, esc, 2);
        } else if (len == 1 && *p >= 0x20 && *p < 0x7f) {
            buf_append(b, (const char *)p, 1);
        } else if (len == 0) {
            buf_append(b, "\\ufffd", 6); /* not UTF-8: say so, do not guess */
            len = 1;
        } else if (cp > 0xffff) {
            cp -= 0x10000;
            buf_printf(b, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
        } else {
            /* Names come off the wire: keep the output ASCII and valid JSON,
             * one escape per character (not per byte, which was mojibake). */
            buf_printf(b, "\\u%04x", cp);
        }
        i += len ? len : 1;
    }
    buf_append(b, "\"", 1);
}
