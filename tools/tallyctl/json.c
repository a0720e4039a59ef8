/*
 * json.c: a recursive-descent JSON parser building a small tree.
 *
 * Each node is one allocation owned by its parent (the root by the caller);
 * strings are decoded into their own allocation. Numbers keep their text so
 * json_u64() can read a uint64 exactly. \u escapes are decoded to UTF-8
 * (surrogate pairs joined); anything not in RFC 8259 is an error that says
 * what and where.
 */
#include "tools/tallyctl/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct json {
    enum json_type type;
    bool b;
    char *s;             /* string value, or the number's text */
    char *key;           /* member name when the parent is an object */
    struct json **items; /* array elements or object members */
    size_t n, cap;
};

struct json_parser {
    const char *p, *end, *start;
    char *err;
    size_t err_len;
    int rc;
};

static int json_fail(struct json_parser *jp, const char *what)
{
    if (jp->rc == 0) {
        jp->rc = -EINVAL;
        if (jp->err && jp->err_len)
            snprintf(jp->err, jp->err_len, "%s at byte %zu", what, (size_t)(jp->p - jp->start));
    }
    return jp->rc;
}

static int json_oom(struct json_parser *jp)
{
    if (jp->rc == 0) {
        jp->rc = -ENOMEM;
        if (jp->err && jp->err_len)
            snprintf(jp->err, jp->err_len, "out of memory");
    }
    return jp->rc;
}

static void json_ws_skip(struct json_parser *jp)
{
    while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
        jp->p++;
}

void json_free(struct json *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++)
        json_free(v->items[i]);
    free(v->items);
    free(v->s);
    free(v->key);
    free(v);
}

static int json_child_add(struct json_parser *jp, struct json *parent, struct json *child)
{
    if (parent->n == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 8;
        struct json **items = realloc(parent->items, cap * sizeof(*items));
        if (!items)
            return json_oom(jp);
        parent->items = items;
        parent->cap = cap;
    }
    parent->items[parent->n++] = child;
    return 0;
}

static int json_hex4(struct json_parser *jp, unsigned *out)
{
    unsigned v = 0;
    if (jp->end - jp->p < 4)
        return json_fail(jp, "truncated \\u escape");
    for (int i = 0; i < 4; i++) {
        char c = *jp->p++;
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return json_fail(jp, "bad hex digit in \\u escape");
    }
    *out = v;
    return 0;
}

static size_t json_utf8_put(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static int json_escape_read(struct json_parser *jp, char *o, size_t *w)
{
    char c = *jp->p++;
    unsigned cp, lo;
    switch (c) {
    case '"':
    case '\\':
    case '/':
        o[(*w)++] = c;
        return 0;
    case 'b':
        o[(*w)++] = '\b';
        return 0;
    case 'f':
        o[(*w)++] = '\f';
        return 0;
    case 'n':
        o[(*w)++] = '\n';
        return 0;
    case 'r':
        o[(*w)++] = '\r';
        return 0;
    case 't':
        o[(*w)++] = '\t';
        return 0;
    case 'u':
        break;
    default:
        jp->p--;
        return json_fail(jp, "bad escape in string");
    }
    if (json_hex4(jp, &cp))
        return jp->rc;
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (jp->end - jp->p < 6 || jp->p[0] != '\\' || jp->p[1] != 'u')
            return json_fail(jp, "lone surrogate in \\u escape");
        jp->p += 2;
        if (json_hex4(jp, &lo))
            return jp->rc;
        if (lo < 0xdc00 || lo > 0xdfff)
            return json_fail(jp, "bad low surrogate in \\u escape");
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
        return json_fail(jp, "lone surrogate in \\u escape");
    } else if (cp == 0) {
        return json_fail(jp, "\\u0000 in string");
    }
    *w += json_utf8_put(o + *w, cp);
    return 0;
}

/* Reads a string starting at its opening quote; the result is malloc'ed. */
static int json_string_read(struct json_parser *jp, char **out)
{
    const char *q = ++jp->p;
    while (q < jp->end && *q != '"')
        q += (*q == '\\' && q + 1 < jp->end) ? 2 : 1;
    if (q >= jp->end)
        return json_fail(jp, "unterminated string");
    /* Decoded text is never longer than its escaped form. */
    char *o = malloc((size_t)(q - jp->p) + 1);
    size_t w = 0;
    if (!o)
        return json_oom(jp);
    while (*jp->p != '"') {
        unsigned char c = (unsigned char)*jp->p;
        if (c < 0x20) {
            free(o);
            return json_fail(jp, "control character in string");
        }
        if (c == '\\') {
            jp->p++;
            if (json_escape_read(jp, o, &w)) {
                free(o);
                return jp->rc;
            }
            continue;
        }
        o[w++] = (char)c;
        jp->p++;
    }
    jp->p++;
    o[w] = '\0';
    *out = o;
    return 0;
}

static int json_number_read(struct json_parser *jp, struct json *v)
{
    const char *s = jp->p;
    if (jp->p < jp->end && *jp->p == '-')
        jp->p++;
    if (jp->p >= jp->end || *jp->p < '0' || *jp->p > '9')
        return json_fail(jp, "bad number");
    if (*jp->p == '0')
        jp->p++;
    else
        while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
            jp->p++;
    if (jp->p < jp->end && *jp->p == '.') {
        jp->p++;
        if (jp->p >= jp->end || *jp->p < '0' || *jp->p > '9')
            return json_fail(jp, "bad number");
        while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
            jp->p++;
    }
    if (jp->p < jp->end && (*jp->p == 'e' || *jp->p == 'E')) {
        jp->p++;
        if (jp->p < jp->end && (*jp->p == '+' || *jp->p == '-'))
            jp->p++;
        if (jp->p >= jp->end || *jp->p < '0' || *jp->p > '9')
            return json_fail(jp, "bad number");
        while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
            jp->p++;
    }
    size_t n = (size_t)(jp->p - s);
    v->s = malloc(n + 1);
    if (!v->s)
        return json_oom(jp);
    memcpy(v->s, s, n);
    v->s[n] = '\0';
    v->type = JSON_NUMBER;
    return 0;
}

static int json_literal_read(struct json_parser *jp, const char *word, struct json *v,
                             enum json_type type, bool b)
{
    size_t n = strlen(word);
    if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n) != 0)
        return json_fail(jp, "unexpected character");
    jp->p += n;
    v->type = type;
    v->b = b;
    return 0;
}

static int json_value_read(struct json_parser *jp, struct json **out, int depth);

static int json_members_read(struct json_parser *jp, struct json *v, int depth, bool object)
{
    char close = object ? '}' : ']';
    jp->p++;
    json_ws_skip(jp);
    if (jp->p < jp->end && *jp->p == close) {
        jp->p++;
        return 0;
    }
    for (;;) {
        char *key = NULL;
        struct json *child = NULL;
        json_ws_skip(jp);
        if (object) {
            if (jp->p >= jp->end || *jp->p != '"')
                return json_fail(jp, "expected a member name");
            if (json_string_read(jp, &key))
                return jp->rc;
            json_ws_skip(jp);
            if (jp->p >= jp->end || *jp->p != ':') {
                free(key);
                return json_fail(jp, "expected ':'");
            }
            jp->p++;
        }
        if (json_value_read(jp, &child, depth + 1)) {
            free(key);
            return jp->rc;
        }
        child->key = key;
        if (json_child_add(jp, v, child)) {
            json_free(child);
            return jp->rc;
        }
        json_ws_skip(jp);
        if (jp->p < jp->end && *jp->p == ',') {
            jp->p++;
            continue;
        }
        if (jp->p < jp->end && *jp->p == close) {
            jp->p++;
            return 0;
        }
        return json_fail(jp, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int json_value_read(struct json_parser *jp, struct json **out, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return json_fail(jp, "nested too deep");
    json_ws_skip(jp);
    if (jp->p >= jp->end)
        return json_fail(jp, "unexpected end");
    struct json *v = calloc(1, sizeof(*v));
    if (!v)
        return json_oom(jp);
    switch (*jp->p) {
    case '{':
        v->type = JSON_OBJECT;
        json_members_read(jp, v, depth, true);
        break;
    case '[':
        v->type = JSON_ARRAY;
        json_members_read(jp, v, depth, false);
        break;
    case '"':
        v->type = JSON_STRING;
        json_string_read(jp, &v->s);
        break;
    case 't':
        json_literal_read(jp, "true", v, JSON_BOOL, true);
        break;
    case 'f':
        json_literal_read(jp, "false", v, JSON_BOOL, false);
        break;
    case 'n':
        json_literal_read(jp, "null", v, JSON_NULL, false);
        break;
    default:
        json_number_read(jp, v);
    }
    if (jp->rc) {
        json_free(v);
        return jp->rc;
    }
    *out = v;
    return 0;
}

int json_parse(const char *text, size_t len, struct json **out, char *err, size_t err_len)
{
    struct json_parser jp = {
        .p = text, .end = text + len, .start = text, .err = err, .err_len = err_len};
    struct json *v = NULL;
    if (json_value_read(&jp, &v, 1))
        return jp.rc;
    json_ws_skip(&jp);
    if (jp.p != jp.end) {
        json_free(v);
        return json_fail(&jp, "trailing characters");
    }
    *out = v;
    return 0;
}

enum json_type json_type_of(const struct json *v)
{
    return v ? v->type : JSON_NULL;
}

const struct json *json_get(const struct json *v, const char *key)
{
    if (!v || v->type != JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->items[i]->key, key) == 0)
            return v->items[i];
    return NULL;
}

size_t json_len(const struct json *v)
{
    return v && v->type == JSON_ARRAY ? v->n : 0;
}

const struct json *json_at(const struct json *v, size_t i)
{
    return v && v->type == JSON_ARRAY && i < v->n ? v->items[i] : NULL;
}

const char *json_str(const struct json *v)
{
    return v && v->type == JSON_STRING ? v->s : NULL;
}

int json_u64(const struct json *v, uint64_t *out)
{
    uint64_t x = 0;
    if (!v || v->type != JSON_NUMBER || v->s[0] == '-')
        return -EINVAL;
    for (const char *p = v->s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL; /* a fraction or an exponent: not a count */
        unsigned d = (unsigned)(*p - '0');
        if (x > (UINT64_MAX - d) / 10)
            return -EINVAL;
        x = x * 10 + d;
    }
    *out = x;
    return 0;
}

int json_bool(const struct json *v, bool *out)
{
    if (!v || v->type != JSON_BOOL)
        return -EINVAL;
    *out = v->b;
    return 0;
}

const char *json_get_str(const struct json *obj, const char *key, const char *dflt)
{
    const char *s = json_str(json_get(obj, key));
    return s ? s : dflt;
}

uint64_t json_get_u64(const struct json *obj, const char *key, uint64_t dflt)
{
    uint64_t x;
    return json_u64(json_get(obj, key), &x) == 0 ? x : dflt;
}

void json_write_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}
