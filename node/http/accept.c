/*
 * http/accept.c: how much a client wants a media type, by its Accept field
 * (RFC 9110 12.5.1), so a route can answer a browser with HTML and every
 * other client with what it always got.
 *
 * The most specific range that matches decides: "text/html" over "text/"
 * with a wildcard subtype, over the wildcard of everything. A range with a malformed q is ignored,
 * as the RFC allows; anything past HTTP_MAX_ACCEPT bytes was cut by the connection and the last,
 * partial element may be misread, which can only cost a browser its HTML.
 */
#include "node/http/server.h"

#include <string.h>
#include <strings.h>

/* Skips optional whitespace. */
static const char *accept_ows(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* "q=0.8" (name case-insensitive) in thousandths; -1 when malformed. */
static int accept_q_parse(const char *p, const char *end)
{
    if (end - p < 3 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=')
        return -1;
    p += 2;
    int q;
    if (*p == '0')
        q = 0;
    else if (*p == '1')
        q = 1000;
    else
        return -1;
    p++;
    if (p == end)
        return q;
    if (*p++ != '.')
        return -1;
    int scale = 100, digits = 0;
    for (; p < end && digits < 3; p++, digits++, scale /= 10) {
        if (*p < '0' || *p > '9' || (q == 1000 && *p != '0'))
            return -1;
        q += (*p - '0') * scale;
    }
    return p == end ? q : -1;
}

/* How specifically range[0..n) names type: 3 exactly, 2 by its major type
 * with a wildcard subtype, 1 by the full wildcard, 0 not at all. */
static int accept_match(const char *range, size_t n, const char *type)
{
    size_t tn = strlen(type);
    if (n == tn && !strncasecmp(range, type, n))
        return 3;
    if (n == 3 && !memcmp(range, "*/*", 3))
        return 1;
    const char *slash = strchr(type, '/');
    size_t major = slash ? (size_t)(slash - type) : tn;
    if (n == major + 2 && !strncasecmp(range, type, major) && range[major] == '/' &&
        range[major + 1] == '*')
        return 2;
    return 0;
}

int http_accept_q(const char *accept, const char *type, bool *exact)
{
    *exact = false;
    const char *p = accept, *end = accept + strlen(accept);
    p = accept_ows(p, end);
    if (p == end)
        return 1000; /* no Accept: anything goes */
    int best_spec = 0, best_q = 0;
    while (p < end) {
        const char *elem_end = p;
        while (elem_end < end && *elem_end != ',')
            elem_end++;
        const char *r = accept_ows(p, elem_end);
        const char *r_end = r;
        while (r_end < elem_end && *r_end != ';' && *r_end != ' ' && *r_end != '\t')
            r_end++;
        int spec = accept_match(r, (size_t)(r_end - r), type);
        int q = 1000;
        /* parameters: only q matters here */
        for (const char *s = r_end; s < elem_end && q >= 0;) {
            if (*s != ';') {
                s++;
                continue;
            }
            const char *param = accept_ows(s + 1, elem_end);
            const char *param_end = param;
            while (param_end < elem_end && *param_end != ';')
                param_end++;
            const char *trim = param_end;
            while (trim > param && (trim[-1] == ' ' || trim[-1] == '\t'))
                trim--;
            if (trim - param >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=')
                q = accept_q_parse(param, trim);
            s = param_end;
        }
        if (q >= 0 && spec > best_spec) {
            best_spec = spec;
            best_q = q;
        }
        p = elem_end < end ? elem_end + 1 : end;
    }
    *exact = best_spec == 3;
    return best_q;
}
