/*
 * resolve.c: c-ares driven by a plain select() loop, which is all a one-shot
 * CLI needs (tallyd runs c-ares on libuv; tallyctl has nothing else to wait
 * for). ares_search applies the resolver's search list, so the short name a
 * pod would use ("myapp-headless") resolves as it does for tallyd.
 */
#include <sys/select.h> /* c-ares' header needs fd_set under strict POSIX */
#include <sys/time.h>

#include "tools/tallyctl/resolve.h"

#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DNS_CLASS_IN  1
#define DNS_MAX_ADDRS 64

struct resolve_ctx {
    ares_channel channel;
};

/* One outstanding query: where its callback puts the answer. */
struct resolve_call {
    enum resolve_type type;
    struct resolve_result *res;
    int done;
};

const char *resolve_type_str(enum resolve_type type)
{
    return type == RESOLVE_A ? "A" : type == RESOLVE_AAAA ? "AAAA" : "SRV";
}

int resolve_open(struct resolve_ctx **out, const char *server, int timeout_ms, char *why,
                 size_t why_len)
{
    struct ares_options opts;
    struct resolve_ctx *ctx = calloc(1, sizeof(*ctx));
    int rc;

    if (!ctx) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    rc = ares_library_init(ARES_LIB_INIT_ALL);
    if (rc != ARES_SUCCESS) {
        snprintf(why, why_len, "c-ares: %s", ares_strerror(rc));
        free(ctx);
        return -1;
    }
    memset(&opts, 0, sizeof(opts));
    opts.timeout = timeout_ms;
    opts.tries = 2;
    rc = ares_init_options(&ctx->channel, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
    if (rc != ARES_SUCCESS) {
        snprintf(why, why_len, "cannot set up the resolver: %s", ares_strerror(rc));
        free(ctx);
        ares_library_cleanup();
        return -1;
    }
    if (server) {
        rc = ares_set_servers_ports_csv(ctx->channel, server);
        if (rc != ARES_SUCCESS) {
            snprintf(why, why_len, "bad --dns-server '%s': %s", server, ares_strerror(rc));
            resolve_close(ctx);
            return -1;
        }
    }
    *out = ctx;
    return 0;
}

void resolve_close(struct resolve_ctx *ctx)
{
    if (!ctx)
        return;
    ares_destroy(ctx->channel);
    free(ctx);
    ares_library_cleanup();
}

static int resolve_add(struct resolve_result *res, const struct resolve_answer *a)
{
    struct resolve_answer *grown = realloc(res->answers, (res->n + 1) * sizeof(*grown));
    if (!grown)
        return -ENOMEM;
    res->answers = grown;
    res->answers[res->n++] = *a;
    return 0;
}

static int resolve_parse_addrs(const unsigned char *abuf, int alen, enum resolve_type type,
                               struct resolve_result *res)
{
    struct ares_addrttl v4[DNS_MAX_ADDRS];
    struct ares_addr6ttl v6[DNS_MAX_ADDRS];
    int n = DNS_MAX_ADDRS;
    int rc = type == RESOLVE_A ? ares_parse_a_reply(abuf, alen, NULL, v4, &n)
                               : ares_parse_aaaa_reply(abuf, alen, NULL, v6, &n);
    if (rc != ARES_SUCCESS)
        return rc;
    for (int i = 0; i < n; i++) {
        struct resolve_answer a;
        memset(&a, 0, sizeof(a));
        if (type == RESOLVE_A) {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&a.addr;
            s4->sin_family = AF_INET;
            s4->sin_addr = v4[i].ipaddr;
            inet_ntop(AF_INET, &s4->sin_addr, a.text, sizeof(a.text));
        } else {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a.addr;
            s6->sin6_family = AF_INET6;
            memcpy(&s6->sin6_addr, &v6[i].ip6addr, sizeof(s6->sin6_addr));
            inet_ntop(AF_INET6, &s6->sin6_addr, a.text, sizeof(a.text));
        }
        if (resolve_add(res, &a))
            return ARES_ENOMEM;
    }
    return n > 0 ? ARES_SUCCESS : ARES_ENODATA;
}

static int resolve_parse_srv(const unsigned char *abuf, int alen, struct resolve_result *res)
{
    struct ares_srv_reply *srv = NULL;
    int rc = ares_parse_srv_reply(abuf, alen, &srv);
    if (rc != ARES_SUCCESS)
        return rc;
    for (struct ares_srv_reply *s = srv; s; s = s->next) {
        struct resolve_answer a;
        memset(&a, 0, sizeof(a));
        snprintf(a.text, sizeof(a.text), "%s", s->host);
        a.port = s->port;
        a.priority = s->priority;
        a.weight = s->weight;
        if (resolve_add(res, &a)) {
            rc = ARES_ENOMEM;
            break;
        }
    }
    ares_free_data(srv);
    if (rc == ARES_SUCCESS && res->n == 0)
        rc = ARES_ENODATA;
    return rc;
}

static void resolve_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct resolve_call *call = arg;
    call->done = 1;
    if (status == ARES_SUCCESS)
        status = call->type == RESOLVE_SRV ? resolve_parse_srv(abuf, alen, call->res)
                                           : resolve_parse_addrs(abuf, alen, call->type, call->res);
    call->res->status = status;
    if (status != ARES_SUCCESS)
        snprintf(call->res->error, sizeof(call->res->error), "%s",
                 status == ARES_ENODATA ? "no records of this type" : ares_strerror(status));
}

int resolve_query(struct resolve_ctx *ctx, const char *name, enum resolve_type type,
                  struct resolve_result *res)
{
    struct resolve_call call = {.type = type, .res = res};
    memset(res, 0, sizeof(*res));
    ares_search(ctx->channel, name, DNS_CLASS_IN, (int)type, resolve_cb, &call);
    while (!call.done) {
        fd_set rfds, wfds;
        struct timeval tv, *tvp;
        FD_ZERO(&rfds);
        FD_ZERO(&wfds);
        int nfds = ares_fds(ctx->channel, &rfds, &wfds);
        if (nfds == 0)
            break;
        tvp = ares_timeout(ctx->channel, NULL, &tv);
        if (select(nfds, &rfds, &wfds, NULL, tvp) < 0 && errno != EINTR)
            break;
        ares_process(ctx->channel, &rfds, &wfds);
    }
    if (!call.done) {
        /* Cancelling runs the callback with ARES_ECANCELLED. */
        ares_cancel(ctx->channel);
    }
    return res->status;
}

void resolve_result_free(struct resolve_result *res)
{
    free(res->answers);
    res->answers = NULL;
    res->n = 0;
}
