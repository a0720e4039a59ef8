/*
 * count.c: parsing the text of DATA_DIR/visits.txt (see count.h). Strict on
 * purpose: a file that is not exactly a canonical decimal count stops tallyd's
 * start with a message quoting the bytes found, since losing a count silently
 * is the one failure a visit counter must not have.
 */
#include "format/count.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* How many bytes of a bad file a message quotes; enough to recognise it. */
#define COUNT_QUOTE_MAX 24

/* Quote buf into out, escaping everything that is not printable ASCII and
 * truncating with "..." so a message stays one short line. */
static void count_text_quote(const char *buf, size_t len, char *out, size_t out_len)
{
    size_t o = 0;
    size_t shown = len < COUNT_QUOTE_MAX ? len : COUNT_QUOTE_MAX;

    if (out_len == 0)
        return;
    for (size_t i = 0; i < shown; i++) {
        unsigned char ch = (unsigned char)buf[i];
        char tmp[5];
        size_t n;

        if (ch == '\n') {
            memcpy(tmp, "\\n", 2);
            n = 2;
        } else if (ch == '"' || ch == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)ch;
            n = 2;
        } else if (ch >= 0x20 && ch < 0x7f) {
            tmp[0] = (char)ch;
            n = 1;
        } else {
            n = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", ch);
        }
        if (o + n + 1 > out_len)
            break;
        memcpy(out + o, tmp, n);
        o += n;
    }
    if (shown < len && o + 4 <= out_len) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

static int count_text_bad(const char *buf, size_t len, char *why, size_t why_len,
                          const char *reason)
{
    char quoted[COUNT_QUOTE_MAX * 4 + 4];

    count_text_quote(buf, len, quoted, sizeof(quoted));
    if (why && why_len)
        snprintf(why, why_len, "found \"%s\" (%s)", quoted, reason);
    return -EINVAL;
}

int count_text_parse(const char *buf, size_t len, uint64_t *count, char *why, size_t why_len)
{
    size_t digits = len;
    uint64_t v = 0;
    char reason[64];

    if (len == 0) {
        if (why && why_len)
            snprintf(why, why_len, "empty file");
        return -EINVAL;
    }
    if (len > COUNT_TEXT_MAX) {
        snprintf(reason, sizeof(reason), "more than %d bytes", COUNT_TEXT_MAX);
        return count_text_bad(buf, len, why, why_len, reason);
    }
    if (buf[len - 1] == '\n')
        digits = len - 1;
    if (digits == 0)
        return count_text_bad(buf, len, why, why_len, "no digits");
    for (size_t i = 0; i < digits; i++) {
        unsigned char ch = (unsigned char)buf[i];

        if (ch < '0' || ch > '9') {
            snprintf(reason, sizeof(reason), "byte %zu is not a digit", i + 1);
            return count_text_bad(buf, len, why, why_len, reason);
        }
    }
    if (buf[0] == '0' && digits > 1)
        return count_text_bad(buf, len, why, why_len, "leading zero");
    for (size_t i = 0; i < digits; i++) {
        unsigned d = (unsigned)(buf[i] - '0');

        if (v > (UINT64_MAX - d) / 10)
            return count_text_bad(buf, len, why, why_len, "value above 18446744073709551615");
        v = v * 10 + d;
    }
    *count = v;
    if (why && why_len)
        why[0] = '\0';
    return 0;
}
