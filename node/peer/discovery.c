/*
 * peer/discovery.c: finding siblings through DNS with c-ares on the libuv loop.
 *
 * Every --dns-interval the headless service is resolved (A and AAAA through
 * ares_getaddrinfo, and SRV _gossip._udp.<service> for a named port), as are
 * --peers given by host name; each address found is handed to
 * tallyd_peer_found(): listed as a gossip source (node/peer/allow.h) and
 * greeted (gossip_greet says hello only to addresses no member has). DNS only bootstraps and
 * heals: a failed lookup is logged (once per change) and retried next time.
 *
 * c-ares tells us which sockets to watch through its socket-state callback;
 * each gets a uv_poll_t, and one uv_timer_t drives c-ares' own timeouts
 * (c-ares 1.18 has no event thread of its own).
 */
#include <sys/select.h> /* c-ares' header needs fd_set under strict POSIX */
#include <sys/time.h>

#include <ares.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/peer/addr.h"
#include "node/log.h"
#include "node/tallyd.h"

struct dns_poll {
    uv_poll_t poll;
    ares_socket_t fd;
    struct discovery *dns;
    struct dns_poll *next;
};

struct discovery {
    struct tallyd *d;
    ares_channel channel;
    bool channel_ok;
    uv_timer_t refresh; /* next round of lookups */
    uv_timer_t timeout; /* c-ares' retransmit timer */
    struct dns_poll *polls;
    int open_handles; /* freed when this reaches 0 after close */
    bool closing;
    char service_fqdn[CONFIG_STR_MAX + 2];
    char srv_name[CONFIG_STR_MAX + 32];
    uint64_t lookups, failures;
    int last_status; /* ARES_SUCCESS or the last error, to log changes only */
};

/* A lookup in flight: the name is reported in logs; port is what to greet. */
struct dns_lookup {
    struct discovery *dns;
    int port;
    char name[CONFIG_STR_MAX + 2];
};

static void discovery_free_if_done(struct discovery *dns)
{
    if (dns->closing && dns->open_handles == 0)
        free(dns);
}

static void handle_closed(uv_handle_t *h)
{
    struct discovery *dns = h->data;
    if (h->type == UV_POLL)
        free(container_of((uv_poll_t *)h, struct dns_poll, poll));
    dns->open_handles--;
    discovery_free_if_done(dns);
}

static void on_timeout(uv_timer_t *t);

/* Re-arm the retransmit timer for c-ares' next deadline, if it has one. */
static void dns_timeout_arm(struct discovery *dns)
{
    struct timeval tv, *tvp;
    if (dns->closing)
        return;
    uv_timer_stop(&dns->timeout);
    tvp = ares_timeout(dns->channel, NULL, &tv);
    if (tvp) {
        uint64_t ms = (uint64_t)tvp->tv_sec * 1000 + (uint64_t)tvp->tv_usec / 1000;
        uv_timer_start(&dns->timeout, on_timeout, ms, 0);
    }
}

static void on_timeout(uv_timer_t *t)
{
    struct discovery *dns = t->data;
    ares_process_fd(dns->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    dns_timeout_arm(dns);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct dns_poll *dp = container_of(p, struct dns_poll, poll);
    struct discovery *dns = dp->dns;
    ares_socket_t fd = dp->fd;
    /* On a poll error let c-ares read and write so it notices and fails over. */
    ares_socket_t rfd = (status < 0 || (events & UV_READABLE)) ? fd : ARES_SOCKET_BAD;
    ares_socket_t wfd = (status < 0 || (events & UV_WRITABLE)) ? fd : ARES_SOCKET_BAD;
    ares_process_fd(dns->channel, rfd, wfd);
    dns_timeout_arm(dns);
}

static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct discovery *dns = data;
    struct dns_poll **pp = &dns->polls, *dp;
    while (*pp && (*pp)->fd != fd)
        pp = &(*pp)->next;
    dp = *pp;
    if (!readable && !writable) {
        if (dp) {
            *pp = dp->next;
            uv_poll_stop(&dp->poll);
            uv_close((uv_handle_t *)&dp->poll, handle_closed);
        }
        return;
    }
    if (!dp) {
        dp = calloc(1, sizeof(*dp));
        if (!dp || uv_poll_init_socket(dns->d->loop, &dp->poll, fd) != 0) {
            free(dp);
            log_error("dns_poll_failed fd=%d", (int)fd);
            return;
        }
        dp->fd = fd;
        dp->dns = dns;
        dp->poll.data = dns;
        dp->next = dns->polls;
        dns->polls = dp;
        dns->open_handles++;
    }
    uv_poll_start(&dp->poll, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0), on_poll);
}

static void dns_status_note(struct discovery *dns, const char *name, int status)
{
    if (status == ARES_SUCCESS) {
        if (dns->last_status != ARES_SUCCESS)
            log_info("dns_ok name=%s", name);
    } else {
        dns->failures++;
        if (status != dns->last_status)
            log_warn("dns_failed name=%s error=\"%s\" retry_ms=%u", name, ares_strerror(status),
                     dns->d->cfg.dns_interval_ms);
    }
    dns->last_status = status;
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    struct dns_lookup *lk = arg;
    struct discovery *dns = lk->dns;
    if (status == ARES_EDESTRUCTION || dns->closing) {
        ares_freeaddrinfo(res);
        free(lk);
        return;
    }
    dns_status_note(dns, lk->name, status);
    for (struct ares_addrinfo_node *n = res ? res->nodes : NULL; n; n = n->ai_next) {
        char addr[PROTO_ADDR_MAX + 1];
        if (addr_with_port(n->ai_addr, lk->port, addr, sizeof(addr)) != 0)
            continue;
        log_debug("dns_found name=%s addr=%s", lk->name, addr);
        tallyd_peer_found(dns->d, addr);
    }
    ares_freeaddrinfo(res);
    free(lk);
}

static void dns_resolve(struct discovery *dns, const char *name, int port)
{
    struct ares_addrinfo_hints hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
    struct dns_lookup *lk = calloc(1, sizeof(*lk));
    if (!lk)
        return;
    lk->dns = dns;
    lk->port = port;
    snprintf(lk->name, sizeof(lk->name), "%s", name);
    dns->lookups++;
    ares_getaddrinfo(dns->channel, name, NULL, &hints, on_addrinfo, lk);
}

static void on_srv(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct discovery *dns = arg;
    struct ares_srv_reply *srv = NULL;
    if (status == ARES_EDESTRUCTION || dns->closing)
        return;
    /* No SRV record is normal without a named gossip port: A records suffice. */
    if (status != ARES_SUCCESS || ares_parse_srv_reply(abuf, alen, &srv) != ARES_SUCCESS)
        return;
    for (struct ares_srv_reply *r = srv; r; r = r->next) {
        char fqdn[CONFIG_STR_MAX + 2];
        size_t n = strlen(r->host);
        snprintf(fqdn, sizeof(fqdn), "%s%s", r->host, n && r->host[n - 1] == '.' ? "" : ".");
        dns_resolve(dns, fqdn, r->port);
    }
    ares_free_data(srv);
}

static bool is_ip_literal(const char *host)
{
    struct sockaddr_storage ss;
    char probe[CONFIG_STR_MAX + 8];
    snprintf(probe, sizeof(probe), strchr(host, ':') ? "[%s]:1" : "%s:1", host);
    return addr_parse(probe, &ss) == 0;
}

static void on_refresh(uv_timer_t *t)
{
    struct discovery *dns = t->data;
    struct tallyd *d = dns->d;
    for (size_t i = 0; i < d->cfg.n_peers; i++) {
        char host[CONFIG_STR_MAX];
        int port;
        if (addr_split(d->cfg.peers[i], host, sizeof(host), &port) != 0)
            continue;
        if (is_ip_literal(host))
            tallyd_peer_found(d, d->cfg.peers[i]);
        else if (dns->channel_ok)
            dns_resolve(dns, host, port);
    }
    if (dns->channel_ok && dns->service_fqdn[0]) {
        dns_resolve(dns, dns->service_fqdn, d->cfg.gossip_port);
        /* ares_search: a short service name goes through the search list */
        ares_search(dns->channel, dns->srv_name, 1 /* C_IN */, 33 /* T_SRV */, on_srv, dns);
    }
    if (dns->channel_ok)
        dns_timeout_arm(dns);
}

int discovery_start(struct tallyd *d)
{
    struct discovery *dns = calloc(1, sizeof(*dns));
    if (!dns)
        return -ENOMEM;
    dns->d = d;
    dns->last_status = ARES_SUCCESS;
    d->dns = dns;
    uv_timer_init(d->loop, &dns->refresh);
    uv_timer_init(d->loop, &dns->timeout);
    dns->refresh.data = dns;
    dns->timeout.data = dns;
    dns->open_handles = 2;

    const char *svc = d->cfg.service;
    size_t n = strlen(svc);
    if (n) {
        /* A name with two or more dots is taken as fully qualified and given
         * a final dot, so pods with ndots:5 skip five search-domain misses. */
        int dots = 0;
        for (const char *p = svc; *p; p++)
            dots += *p == '.';
        bool fq = dots >= 2 && svc[n - 1] != '.';
        snprintf(dns->service_fqdn, sizeof(dns->service_fqdn), "%s%s", svc, fq ? "." : "");
        snprintf(dns->srv_name, sizeof(dns->srv_name), "_gossip._udp.%s", dns->service_fqdn);
    }

    bool need_dns = n > 0;
    for (size_t i = 0; i < d->cfg.n_peers; i++) {
        char host[CONFIG_STR_MAX];
        int port;
        if (addr_split(d->cfg.peers[i], host, sizeof(host), &port) == 0 && !is_ip_literal(host))
            need_dns = true;
    }
    if (need_dns) {
        struct ares_options opts = {.sock_state_cb = on_sock_state, .sock_state_cb_data = dns};
        int rc = ares_library_init(ARES_LIB_INIT_ALL);
        if (rc == ARES_SUCCESS)
            rc = ares_init_options(&dns->channel, &opts, ARES_OPT_SOCK_STATE_CB);
        if (rc != ARES_SUCCESS) {
            log_error("dns_init_failed error=\"%s\"", ares_strerror(rc));
            return -EIO;
        }
        dns->channel_ok = true;
        if (d->cfg.dns_server[0]) {
            rc = ares_set_servers_ports_csv(dns->channel, d->cfg.dns_server);
            if (rc != ARES_SUCCESS) {
                log_error("dns_server_invalid value=%s error=\"%s\"", d->cfg.dns_server,
                          ares_strerror(rc));
                return -EINVAL;
            }
        }
    }
    if (n || d->cfg.n_peers)
        uv_timer_start(&dns->refresh, on_refresh, 0, d->cfg.dns_interval_ms);
    return 0;
}

void discovery_close(struct discovery *dns)
{
    if (!dns)
        return;
    if (dns->channel_ok) {
        /* Fires pending callbacks with ARES_EDESTRUCTION and closes sockets
         * through on_sock_state, which closes their polls. */
        ares_destroy(dns->channel);
        dns->channel_ok = false;
        ares_library_cleanup();
    }
    dns->closing = true;
    uv_close((uv_handle_t *)&dns->refresh, handle_closed);
    uv_close((uv_handle_t *)&dns->timeout, handle_closed);
}

uint64_t discovery_lookups(const struct discovery *dns)
{
    return dns->lookups;
}

uint64_t discovery_failures(const struct discovery *dns)
{
    return dns->failures;
}
