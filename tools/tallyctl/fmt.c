/*
 * fmt.c: human-readable durations and times for tallyctl's tables, and the
 * escaping of every string that came from the network before it reaches a
 * terminal. Durations are integers all the way (ms in, text out): no
 * rounding surprises.
 */
#include "tools/tallyctl/fmt.h"

#include "format/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Code points that reorder or hide the text around them (Trojan Source). */
static int fmt_bidi(unsigned cp)
{
    return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e ||
           cp == 0x200f || cp == 0x061c;
}

size_t fmt_safe(const char *in, char *out, size_t cap)
{
    size_t o = 0, n = strlen(in);
    if (cap == 0)
        return 0;
    for (size_t i = 0; i < n;) {
        const unsigned char *s = (const unsigned char *)in + i;
        char esc[12];
        unsigned cp = 0;
        size_t len = utf8_seq(s, n - i, &cp);
        const char *piece = (const char *)s;
        size_t plen = len;
        if (len == 0) {
            snprintf(esc, sizeof(esc), "\\x%02x", s[0]);
            piece = esc, plen = 4, len = 1;
        } else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
            /* C0, DEL and C1 controls: what moves the cursor or retitles the terminal */
            plen = 0;
            for (size_t k = 0; k < len; k++, plen += 4)
                snprintf(esc + plen, sizeof(esc) - plen, "\\x%02x", s[k]);
            piece = esc;
        } else if (fmt_bidi(cp)) {
            snprintf(esc, sizeof(esc), "\\u%04x", cp);
            piece = esc, plen = 6;
        } else if (cp == '\\') {
            piece = "\\\\", plen = 2;
        }
        if (o + plen >= cap)
            break; /* never half an escape or half a character */
        memcpy(out + o, piece, plen);
        o += plen;
        i += len;
    }
    out[o] = '\0';
    return o;
}

char *fmt_safe_dup(const char *in)
{
    size_t cap = strlen(in) * FMT_SAFE_GROWTH + 1;
    char *out = malloc(cap);
    if (out)
        fmt_safe(in, out, cap);
    return out;
}

size_t fmt_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xc0) != 0x80; /* count lead bytes: one column each */
    return w;
}

#define MS_MIN  (60ull * 1000)
#define MS_HOUR (60ull * MS_MIN)
#define MS_DAY  (24ull * MS_HOUR)

void fmt_duration(uint64_t ms, char *out, size_t cap)
{
    unsigned long long v = ms;
    if (v < 1000)
        snprintf(out, cap, "%llums", v);
    else if (v < MS_MIN)
        snprintf(out, cap, "%llu.%llus", v / 1000, v % 1000 / 100);
    else if (v < MS_HOUR)
        snprintf(out, cap, "%llum %02llus", v / MS_MIN, v % MS_MIN / 1000);
    else if (v < MS_DAY)
        snprintf(out, cap, "%lluh %02llum %02llus", v / MS_HOUR, v % MS_HOUR / MS_MIN,
                 v % MS_MIN / 1000);
    else
        snprintf(out, cap, "%llud %02lluh %02llum", v / MS_DAY, v % MS_DAY / MS_HOUR,
                 v % MS_HOUR / MS_MIN);
}

void fmt_ago(uint64_t ms, char *out, size_t cap)
{
    unsigned long long v = ms;
    if (v == 0)
        snprintf(out, cap, "now");
    else if (v < 100)
        snprintf(out, cap, "<0.1s ago");
    else if (v < 10 * 1000)
        snprintf(out, cap, "%llu.%llus ago", v / 1000, v % 1000 / 100);
    else if (v < MS_MIN)
        snprintf(out, cap, "%llus ago", v / 1000);
    else if (v < MS_HOUR)
        snprintf(out, cap, "%llum %02llus ago", v / MS_MIN, v % MS_MIN / 1000);
    else if (v < MS_DAY)
        snprintf(out, cap, "%lluh %02llum ago", v / MS_HOUR, v % MS_HOUR / MS_MIN);
    else
        snprintf(out, cap, "%llud %02lluh ago", v / MS_DAY, v % MS_DAY / MS_HOUR);
}

void fmt_rtt(uint64_t us, char *out, size_t cap)
{
    unsigned long long v = us;
    snprintf(out, cap, "%llu.%03llu ms", v / 1000, v % 1000);
}

void fmt_utc(int64_t unix_s, char *out, size_t cap)
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(out, cap, "%lld", (long long)unix_s);
}
