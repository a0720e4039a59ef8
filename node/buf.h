/*
 * buf.h: a growable text buffer with a maximum fixed at init (curl's dynbuf
 * habit), for building response bodies. Once an append would pass the maximum
 * the buffer is marked failed and later appends do nothing, so callers check
 * once at the end.
 */
#ifndef TALLY_BUF_H
#define TALLY_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
    char *data;
    size_t len, cap, max;
    bool failed;
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_append(struct buf *b, const char *s, size_t n);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal, quotes included, in ASCII: controls and
 * every non-ASCII character as \uXXXX (a surrogate pair above U+FFFF), a
 * byte that is not valid UTF-8 as \ufffd. */
void buf_json_str(struct buf *b, const char *s);

#endif
