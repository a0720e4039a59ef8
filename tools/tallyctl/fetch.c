/*
 * fetch.c: ask tallyd for one JSON document, and turn every way that can fail
 * into one plain sentence an operator can act on ("tallyd is not answering on
 * http://10.244.0.12:8000 (connection refused): is the pod running?").
 */
#include "tools/tallyctl/tallyctl.h"

#include <stdlib.h>
#include <string.h>

#include "tools/tallyctl/fmt.h"
#include "tools/tallyctl/http_get.h"

void ctl_fetch_status_explain(const char *url, const char *path, int status, const char *body,
                              char *err, size_t err_len)
{
    /* The first line of the body says why (tallyd's "not ready: ..."), escaped:
     * whoever answered may not be tallyd. */
    char line[121], safe[121 * FMT_SAFE_GROWTH];
    size_t n = strcspn(body, "\r\n");
    snprintf(line, sizeof(line), "%.*s", (int)(n > 120 ? 120 : n), body);
    fmt_safe(line, safe, sizeof(safe));
    if (status == 404 && strcmp(safe, "not found") != 0)
        /* tallyd's own 404 says "not found"; anything else is another server */
        snprintf(err, err_len,
                 "the server on %s answered GET %s with HTTP 404 (%s%s%s): it is not a tallyd "
                 "that serves %s; check --url (or TALLYCTL_URL, POD_IP)",
                 url, path, safe[0] ? "\"" : "an empty body", safe, safe[0] ? "\"" : "", path);
    else if (safe[0])
        snprintf(err, err_len, "tallyd on %s answered GET %s with HTTP %d: %s", url, path, status,
                 safe);
    else
        snprintf(err, err_len, "tallyd on %s answered GET %s with HTTP %d and an empty body", url,
                 path, status);
}

int ctl_fetch_json(const struct ctl_opts *o, const char *path, struct json **doc, char **body,
                   char *err, size_t err_len)
{
    struct http_url u;
    struct http_resp r;
    char why[192];

    *doc = NULL;
    if (body)
        *body = NULL;
    if (http_url_parse(o->url, &u, why, sizeof(why))) {
        snprintf(err, err_len, "bad tallyd URL %s: %s", o->url, why);
        return -1;
    }
    if (http_get(&u, path, o->timeout_ms, &r, why, sizeof(why))) {
        snprintf(err, err_len, "tallyd is not answering on %s (%s): is the pod running?", o->url,
                 why);
        return -1;
    }
    if (r.status != 200) {
        ctl_fetch_status_explain(o->url, path, r.status, r.body, err, err_len);
        http_resp_free(&r);
        return -1;
    }
    if (json_parse(r.body, r.body_len, doc, why, sizeof(why))) {
        snprintf(err, err_len, "tallyd on %s sent GET %s an answer that is not JSON (%s)", o->url,
                 path, why);
        http_resp_free(&r);
        return -1;
    }
    if (json_type_of(*doc) != JSON_OBJECT) {
        snprintf(err, err_len, "tallyd on %s answered GET %s with JSON that is not an object",
                 o->url, path);
        json_free(*doc);
        *doc = NULL;
        http_resp_free(&r);
        return -1;
    }
    if (body)
        *body = r.body; /* ownership moves to the caller */
    else
        http_resp_free(&r);
    return 0;
}

int ctl_fetch_show(const struct ctl_opts *o, const char *path,
                   int (*render)(const struct json *, FILE *),
                   int (*json_code)(const struct json *), FILE *out, FILE *errout)
{
    struct json *doc;
    char *body, err[512];
    if (ctl_fetch_json(o, path, &doc, &body, err, sizeof(err))) {
        fprintf(errout, "tallyctl: %s\n", err);
        return CTL_EXIT_FAIL;
    }
    int rc = CTL_EXIT_OK;
    if (o->json) {
        fputs(body, out);
        if (json_code)
            rc = json_code(doc);
    } else {
        rc = render(doc, out);
    }
    free(body);
    json_free(doc);
    return rc;
}
