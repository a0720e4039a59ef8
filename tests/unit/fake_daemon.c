/*
 * fake_daemon.c: the hand-built daemon of fake_daemon.h. What tallyd_start
 * would wire (the count file loaded, gossip told each durable count) is
 * wired here the same way, minus sockets, discovery and the volume files.
 */
#include "tests/unit/fake_daemon.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "node/http/conn.h"
#include "node/store/count_file.h"

static void fake_send(void *ctx, const char *addr, const uint8_t *buf, size_t len)
{
    (void)ctx;
    (void)addr;
    (void)buf;
    (void)len;
}

/* As daemon.c does: gossip hears our slot's count once it is durable. */
static void fake_on_durable(void *arg, uint64_t count)
{
    struct tallyd *d = arg;
    gossip_count_set(d->gossip, count > d->vol.base ? count - d->vol.base : 0);
}

static void fake_sink(void *ctx, const char *data, size_t len)
{
    struct fake *f = ctx;
    assert_true(f->out_len + len < sizeof(f->out));
    memcpy(f->out + f->out_len, data, len);
    f->out_len += len;
    f->out[f->out_len] = '\0';
}

struct fake *fake_new(const char *sync, uint32_t recovery_ms)
{
    struct fake *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    memcpy(f->dir, "/tmp/tally-routes-XXXXXX", sizeof("/tmp/tally-routes-XXXXXX"));
    assert_non_null(mkdtemp(f->dir));

    struct tallyd *d = &f->d;
    char *argv[] = {"tallyd", "--name", FAKE_NAME, "--data-dir", f->dir, "--sync", (char *)sync};
    enum config_action action;
    char err[256];
    assert_int_equal(config_parse(&d->cfg, 7, argv, NULL, &action, err, sizeof(err)), 0);
    d->loop = &f->loop;
    d->start_ms = uv_now(&f->loop);
    snprintf(d->self_addr, sizeof(d->self_addr), "%s", FAKE_ADDR);
    d->vol.id = FAKE_VOL;
    d->vol.incarnation = 1;
    assert_int_equal(
        commit_new(&f->loop, f->dir, d->cfg.sync, d->cfg.sync_interval_ms, 0, &d->commit), 0);
    struct gossip_config gc = {
        .name = FAKE_NAME,
        .addr = FAKE_ADDR,
        .incarnation = 1,
        .vol = FAKE_VOL,
        .interval_ms = d->cfg.gossip_interval_ms,
        .recovery_ms = recovery_ms,
        .seed = 1,
    };
    struct gossip_io io = {.ctx = d, .send = fake_send};
    d->gossip = gossip_new(&gc, &io, uv_now(&f->loop));
    assert_non_null(d->gossip);
    commit_on_durable(d->commit, fake_on_durable, d);
    struct http_server_config hc = {.handler = routes_handle, .handler_ctx = d};
    assert_int_equal(http_server_new_unbound(&f->loop, &hc, &f->srv), 0);
    d->http = f->srv;
    return f;
}

void fake_free(struct fake *f)
{
    char path[128];
    if (f->conn)
        http_conn_free_sink(f->conn);
    http_server_close(f->srv);
    if (f->d.commit)
        commit_close(f->d.commit);
    gossip_free(f->d.gossip);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    snprintf(path, sizeof(path), "%s/%s", f->dir, STORE_FILE_NAME);
    unlink(path);
    snprintf(path, sizeof(path), "%s/%s", f->dir, STORE_TEMP_NAME);
    unlink(path);
    rmdir(f->dir);
    free(f);
}

/* The answer is whole: its head, then Content-Length bytes (none for HEAD). */
static bool fake_answer_parse(struct fake *f, bool head_only)
{
    const char *end = strstr(f->out, "\r\n\r\n");
    if (!end)
        return false;
    size_t head_len = (size_t)(end - f->out) + 2;
    char cl[32];
    assert_true(head_len < sizeof(f->ans.head));
    memcpy(f->ans.head, f->out, head_len);
    f->ans.head[head_len] = '\0';
    assert_true(fake_header(&f->ans, "Content-Length", cl, sizeof(cl))[0] != '\0');
    size_t want = head_only ? 0 : (size_t)strtoull(cl, NULL, 10);
    size_t have = f->out_len - (head_len + 2);
    if (have < want)
        return false;
    assert_int_equal(have, want); /* nothing beyond one answer */
    f->ans.body = f->out + head_len + 2;
    f->ans.body_len = want;
    assert_int_equal(sscanf(f->out, "HTTP/1.1 %d ", &f->ans.status), 1);
    return true;
}

const struct fake_answer *fake_request(struct fake *f, const char *method, const char *path,
                                       const char *headers)
{
    char req[1024];
    int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: t\r\n%s\r\n", method, path,
                     headers ? headers : "");
    assert_true(n > 0 && (size_t)n < sizeof(req));
    if (f->conn)
        http_conn_free_sink(f->conn);
    f->out_len = 0;
    f->out[0] = '\0';
    memset(&f->ans, 0, sizeof(f->ans));
    f->conn = http_conn_open_sink(f->srv, fake_sink, f);
    assert_non_null(f->conn);
    http_conn_feed(f->conn, req, (size_t)n);
    bool head_only = !strcmp(method, "HEAD");
    while (!fake_answer_parse(f, head_only))
        if (uv_run(&f->loop, UV_RUN_ONCE) == 0 && !fake_answer_parse(f, head_only))
            fail_msg("loop ran dry before the answer to %s %s", method, path);
    return &f->ans;
}

const struct fake_answer *fake_get(struct fake *f, const char *path)
{
    return fake_request(f, "GET", path, NULL);
}

const char *fake_header(const struct fake_answer *a, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    out[0] = '\0';
    for (const char *l = strstr(a->head, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
        const char *h = l + 2;
        if (!strncasecmp(h, name, n) && h[n] == ':') {
            const char *v = h + n + 1;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r");
            if (len >= cap)
                len = cap - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            break;
        }
    }
    return out;
}
