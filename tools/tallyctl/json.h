/*
 * json.h: a small JSON reader for tallyd's answers (/status, /cluster,
 * /count). It builds a tree, caps depth and size, and keeps integers exact
 * (a count is a uint64, which a double would round). Plus a string writer for
 * tallyctl's own --json output.
 */
#ifndef TALLYCTL_JSON_H
#define TALLYCTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Nesting deeper than this is refused; tallyd's answers are 3 deep. */
#define JSON_MAX_DEPTH 16

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json;

/* Parse text[0..len) (one value, surrounded by whitespace only). Returns 0 and
 * sets *out (free with json_free), or -EINVAL with "what, at byte N" in err,
 * or -ENOMEM. */
int json_parse(const char *text, size_t len, struct json **out, char *err, size_t err_len);
void json_free(struct json *v);

enum json_type json_type_of(const struct json *v);
/* Object member by key; NULL if v is not an object or has no such key. */
const struct json *json_get(const struct json *v, const char *key);
/* Array length (0 if v is not an array) and element. */
size_t json_len(const struct json *v);
const struct json *json_at(const struct json *v, size_t i);
/* A string's value, NULL if v is not a string. */
const char *json_str(const struct json *v);
/* A non-negative integer that fits uint64. Returns 0, or -EINVAL. */
int json_u64(const struct json *v, uint64_t *out);
/* A boolean. Returns 0, or -EINVAL. */
int json_bool(const struct json *v, bool *out);
/* Shortcuts on an object member: default when absent or of another type. */
const char *json_get_str(const struct json *obj, const char *key, const char *dflt);
uint64_t json_get_u64(const struct json *obj, const char *key, uint64_t dflt);

/* Write s as a JSON string literal (quotes included). */
void json_write_str(FILE *out, const char *s);

#endif
