/*
 * log.c: one line per event on stderr, as logfmt or JSON.
 *
 * Call sites write an event and its fields the short way, "store_loaded
 * dir=%s count=%llu", sometimes with a free-text remark ("(writing it
 * again)") or a whole error message. Rather than make every call site quote
 * its values, the formatter reads that text back: the first word is the
 * event (msg), each key=value or key="..." is a field, and every other word
 * is gathered, in order, into one "detail" field. Each value is then written
 * again under the output format's own quoting, so a path with a space, a
 * quote in an error message or a newline in a DNS answer can never break a
 * line in two or forge a field. Bytes that are not valid UTF-8 become U+FFFD,
 * so a JSON line is always valid JSON.
 *
 * Each line is formatted into one buffer and written with one write(2), so
 * lines from different sources never interleave.
 */
#include "node/log.h"

#include "format/utf8.h"
#include "node/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The call site's text is cut at LOG_BODY_MAX; escaping grows it at most
 * six-fold (a control byte becomes \u00XX) plus quotes and separators, so a
 * line never has to be cut (which could leave JSON unterminated). */
#define LOG_BODY_MAX 1024
#define LOG_LINE_MAX (LOG_BODY_MAX * 8)

static enum log_level g_level = LOG_LEVEL_INFO;
static enum log_format g_format = LOG_FORMAT_LOGFMT;

static const char *const LOG_LEVEL_NAMES[] = {"error", "warn", "info", "debug"};
#define LOG_LEVELS (sizeof(LOG_LEVEL_NAMES) / sizeof(LOG_LEVEL_NAMES[0]))

const char *log_level_str(enum log_level level)
{
    return (unsigned)level < LOG_LEVELS ? LOG_LEVEL_NAMES[level] : "?";
}

int log_level_parse(const char *s, enum log_level *out)
{
    for (size_t i = 0; i < LOG_LEVELS; i++) {
        if (!strcmp(s, LOG_LEVEL_NAMES[i])) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

void log_level_set(enum log_level level)
{
    g_level = level;
}

void log_format_set(enum log_format format)
{
    g_format = format;
}

int log_enabled(enum log_level level)
{
    return level <= g_level;
}

/* ---- output buffer ------------------------------------------------------ */

struct out {
    char *p;
    size_t len, cap;
};

static void out_bytes(struct out *o, const char *s, size_t n)
{
    if (o->len + n >= o->cap)
        n = o->len + 1 < o->cap ? o->cap - o->len - 1 : 0;
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void out_str(struct out *o, const char *s)
{
    out_bytes(o, s, strlen(s));
}

/* Write s[0..n) between double quotes with JSON escapes (which logfmt
 * readers accept too): \" \\ \n \r \t, other controls as \u00XX, invalid
 * UTF-8 as U+FFFD. */
static void out_quoted(struct out *o, const char *s, size_t n)
{
    out_bytes(o, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c;
            out_bytes(o, esc, 2);
        } else if (c == '\n') {
            out_str(o, "\\n");
        } else if (c == '\r') {
            out_str(o, "\\r");
        } else if (c == '\t') {
            out_str(o, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            out_str(o, esc);
        } else {
            unsigned cp;
            size_t l = utf8_seq((const unsigned char *)s + i, n - i, &cp);
            if (l == 0) {
                out_str(o, "\\ufffd");
                i++;
                continue;
            }
            out_bytes(o, s + i, l);
            i += l;
            continue;
        }
        i++;
    }
    out_bytes(o, "\"", 1);
}

/* logfmt leaves a value bare when it is plain printable ASCII without
 * space, quote, equals sign or backslash. */
static bool logfmt_bare_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c >= 0x7f || c == '"' || c == '=' || c == '\\')
            return false;
    }
    return true;
}

static void out_field(struct out *o, enum log_format f, const char *key, size_t klen, const char *v,
                      size_t vlen)
{
    if (f == LOG_FORMAT_JSON) {
        out_str(o, ",");
        out_quoted(o, key, klen);
        out_str(o, ":");
        out_quoted(o, v, vlen);
        return;
    }
    out_str(o, " ");
    out_bytes(o, key, klen);
    out_str(o, "=");
    if (logfmt_bare_ok(v, vlen))
        out_bytes(o, v, vlen);
    else
        out_quoted(o, v, vlen);
}

/* ---- reading the call site's text back ---------------------------------- */

static bool key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

/* If s starts with key=, the key's length, else 0. */
static size_t key_len(const char *s)
{
    size_t n = 0;
    while (key_char(s[n]))
        n++;
    return n > 0 && s[n] == '=' ? n : 0;
}

/* A field's value at s: "..." up to the quote that ends a word (so a quote
 * inside an error message does not end it early), else up to a space. */
static const char *value_scan(const char *s, const char **v, size_t *vlen)
{
    if (*s == '"') {
        for (const char *q = s + 1; *q; q++) {
            if (*q == '"' && (q[1] == ' ' || q[1] == '\0')) {
                *v = s + 1;
                *vlen = (size_t)(q - s - 1);
                return q + 1;
            }
        }
        *v = s + 1; /* unterminated (cut at LOG_BODY_MAX): keep what there is */
        *vlen = strlen(s + 1);
        return s + 1 + *vlen;
    }
    const char *e = s;
    while (*e && *e != ' ')
        e++;
    *v = s;
    *vlen = (size_t)(e - s);
    return e;
}

/* The reserved names keep their meaning: a call site's own "msg=" or "ts="
 * is written as "msg_" or "ts_". */
static bool key_reserved(const char *k, size_t n)
{
    return (n == 2 && !strncmp(k, "ts", 2)) || (n == 5 && !strncmp(k, "level", 5)) ||
           (n == 3 && !strncmp(k, "msg", 3)) || (n == 6 && !strncmp(k, "detail", 6));
}

size_t log_render(char *buf, size_t cap, enum log_format f, const char *ts, const char *level,
                  const char *body)
{
    struct out o = {buf, 0, cap};
    if (cap == 0)
        return 0;
    buf[0] = '\0';
    while (*body == ' ')
        body++;
    const char *ev = body;
    while (*body && *body != ' ')
        body++;
    if (f == LOG_FORMAT_JSON) {
        out_str(&o, "{\"ts\":");
        out_quoted(&o, ts, strlen(ts));
        out_str(&o, ",\"level\":");
        out_quoted(&o, level, strlen(level));
        out_str(&o, ",\"msg\":");
        out_quoted(&o, ev, (size_t)(body - ev));
    } else {
        out_str(&o, "ts=");
        out_str(&o, ts);
        out_str(&o, " level=");
        out_str(&o, level);
        out_str(&o, " msg=");
        if (logfmt_bare_ok(ev, (size_t)(body - ev)))
            out_bytes(&o, ev, (size_t)(body - ev));
        else
            out_quoted(&o, ev, (size_t)(body - ev));
    }

    /* Free words are gathered here so "detail" is written once, after the
     * fields, whatever order they came in. */
    char detail[LOG_BODY_MAX];
    size_t dlen = 0;
    while (*body) {
        while (*body == ' ')
            body++;
        if (!*body)
            break;
        size_t kl = key_len(body);
        if (kl) {
            const char *v;
            size_t vlen;
            const char *k = body;
            body = value_scan(body + kl + 1, &v, &vlen);
            char key[80];
            size_t n = kl < sizeof(key) - 2 ? kl : sizeof(key) - 2;
            memcpy(key, k, n);
            if (key_reserved(k, kl))
                key[n++] = '_';
            out_field(&o, f, key, n, v, vlen);
            continue;
        }
        const char *w = body;
        if (*body == '"') {
            const char *v;
            size_t vlen;
            body = value_scan(body, &v, &vlen);
        } else {
            while (*body && *body != ' ')
                body++;
        }
        size_t wl = (size_t)(body - w);
        if (dlen && dlen < sizeof(detail))
            detail[dlen++] = ' ';
        if (wl > sizeof(detail) - dlen)
            wl = sizeof(detail) - dlen;
        memcpy(detail + dlen, w, wl);
        dlen += wl;
    }
    if (dlen) {
        const char *d = detail;
        if (dlen >= 2 && d[0] == '(' && d[dlen - 1] == ')')
            d++, dlen -= 2; /* a remark in parentheses: the parentheses say nothing */
        out_field(&o, f, "detail", 6, d, dlen);
    }
    if (f == LOG_FORMAT_JSON)
        out_str(&o, "}");
    return o.len;
}

void log_line(enum log_level level, const char *fmt, ...)
{
    if (level > g_level)
        return;
    char body[LOG_BODY_MAX];
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    if (m < 0)
        body[0] = '\0';

    char ts[40];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", now.tv_nsec / 1000000);

    char line[LOG_LINE_MAX];
    size_t len = log_render(line, sizeof(line) - 1, g_format, ts, log_level_str(level), body);
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w; /* nowhere to report a failed log write */
}
