/*
 * peer/discovery.c: finding siblings through DNS with c-ares on the libuv loop.
 *
 * Every --dns-interval the headless service is resolved (A and AAAA through
 * ares_getaddrinfo, and SRV _gossip._udp.<service> for a named port), as are
 * --peers given by host name; each address found is reported through the
 * on_found callback (the daemon lists it as a gossip source and greets it).
 * DNS only bootstraps and heals: a failed lookup is counted, logged once per
 * change of that name's outcome (node/peer/dns_names.c), and retried next
 * round.
 *
 * Every lookup ends within about a round: c-ares' own default (5 s, four
 * tries, each waiting twice the last) would let a server that never answers
 * hold each lookup for over a minute, so rounds would pile up and nothing
 * would be counted as failed. Here a try waits a quarter of --dns-interval
 * (at least DNS_TRY_MIN_MS) and a lookup makes DNS_TRIES tries (the second
 * waits twice as long), so a silent server shows as a timeout within the
 * round.
 *
 * c-ares tells us which sockets to watch through its socket-state callback;
 * each gets a uv_poll_t, and one uv_timer_t drives c-ares' own timeouts
 * (c-ares 1.18 has no event thread of its own).
 */
#include "node/peer/discovery.h"

#include <sys/select.h> /* c-ares' header needs fd_set under strict POSIX */
#include <sys/time.h>

#include <ares.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/log.h"
#include "node/peer/addr.h"
#include "node/peer/dns_names.h"
#include "proto/proto.h"

#define DNS_TRIES      2
#define DNS_TRY_MIN_MS 100
/* Names whose last outcome is remembered for logging beyond the --peers
 * hosts: the service, its SRV name, and the SRV targets (one per pod). */
#define DNS_SEEN_EXTRA 256

struct dns_poll {
    uv_poll_t poll;
    ares_socket_t fd;
    struct discovery *dns;
    struct dns_poll *next;
};

struct discovery {
    uv_loop_t *loop;
    discovery_found_fn on_found;
    void *ctx;
    ares_channel channel;
    bool channel_ok;
    uv_timer_t refresh; /* next round of lookups */
    uv_timer_t timeout; /* c-ares' retransmit timer */
    struct dns_poll *polls;
    int open_handles; /* freed when this reaches 0 after close */
    bool closing;
    int gossip_port;
    uint32_t interval_ms;
    size_t n_peers;
    char peers[CONFIG_MAX_PEERS][CONFIG_STR_MAX];
    char service_fqdn[DNS_NAME_MAX + 1];
    char srv_name[DNS_NAME_MAX + 1];
    uint64_t lookups, failures;
    struct dns_names_seen *seen; /* each name's last outcome, to log changes only */
};

/* A lookup in flight: the name is reported in logs; port is what to greet. */
struct dns_lookup {
    struct discovery *dns;
    int port;
    char name[DNS_NAME_MAX + 1];
};

static void discovery_free_if_done(struct discovery *dns)
{
    if (dns->closing && dns->open_handles == 0)
        free(dns);
}

static void handle_closed(uv_handle_t *h)
{
    /* a poll's data is its struct dns_poll, a timer's the discovery */
    struct discovery *dns = h->data;
    if (h->type == UV_POLL) {
        struct dns_poll *dp = h->data;
        dns = dp->dns;
        free(dp);
    }
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
    struct dns_poll *dp = p->data;
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
        if (!dp || uv_poll_init_socket(dns->loop, &dp->poll, fd) != 0) {
            free(dp);
            log_error("dns_poll_failed fd=%d", (int)fd);
            return;
        }
        dp->fd = fd;
        dp->dns = dns;
        dp->poll.data = dp;
        dp->next = dns->polls;
        dns->polls = dp;
        dns->open_handles++;
    }
    uv_poll_start(&dp->poll, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0), on_poll);
}

/* Count a failure, and log a change of this name's outcome once. */
static void dns_status_note(struct discovery *dns, const char *name, int status)
{
    if (status != ARES_SUCCESS)
        dns->failures++;
    switch (dns_seen_note(dns->seen, name, status)) {
    case DNS_NOTE_FAILED:
        log_warn("dns_failed name=%s error=\"%s\" retry_ms=%u", name, ares_strerror(status),
                 dns->interval_ms);
        break;
    case DNS_NOTE_RECOVERED:
        log_info("dns_ok name=%s", name);
        break;
    case DNS_NOTE_QUIET:
        break;
    }
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
        dns->on_found(dns->ctx, addr);
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
    (void)timeouts;
    if (status == ARES_EDESTRUCTION || dns->closing)
        return;
    /* No SRV record is normal without a named gossip port: A records
     * suffice. Anything else (a timeout, a refusal) is a failed lookup. */
    if (status == ARES_ENODATA || status == ARES_ENOTFOUND)
        status = ARES_SUCCESS;
    else if (status == ARES_SUCCESS)
        status = ares_parse_srv_reply(abuf, alen, &srv);
    dns_status_note(dns, dns->srv_name, status);
    for (struct ares_srv_reply *r = srv; r; r = r->next) {
        char fqdn[DNS_NAME_MAX + 1];
        int rc = dns_srv_target(r->host, fqdn, sizeof(fqdn));
        if (rc == -ENAMETOOLONG) {
            /* Cut short it would name another host: refuse it, visibly. */
            dns->failures++;
            log_warn("dns_srv_target_refused name=%s target_bytes=%zu max=%d (longer than a "
                     "DNS name can be)",
                     dns->srv_name, strlen(r->host), DNS_NAME_MAX);
            continue;
        }
        if (rc == 0)
            dns_resolve(dns, fqdn, r->port);
    }
    ares_free_data(srv);
}

static void on_refresh(uv_timer_t *t)
{
    struct discovery *dns = t->data;
    for (size_t i = 0; i < dns->n_peers; i++) {
        char host[CONFIG_STR_MAX];
        int port;
        if (addr_split(dns->peers[i], host, sizeof(host), &port) != 0)
            continue;
        if (dns_is_ip_literal(host))
            dns->on_found(dns->ctx, dns->peers[i]);
        else if (dns->channel_ok)
            dns_resolve(dns, host, port);
    }
    if (dns->channel_ok && dns->service_fqdn[0]) {
        dns_resolve(dns, dns->service_fqdn, dns->gossip_port);
        /* ares_search: a short service name goes through the search list */
        dns->lookups++;
        ares_search(dns->channel, dns->srv_name, 1 /* C_IN */, 33 /* T_SRV */, on_srv, dns);
    }
    if (dns->channel_ok)
        dns_timeout_arm(dns);
}

int discovery_start(uv_loop_t *loop, const struct config *cfg, discovery_found_fn on_found,
                    void *ctx, struct discovery **out)
{
    *out = NULL;
    struct discovery *dns = calloc(1, sizeof(*dns));
    if (!dns)
        return -ENOMEM;
    dns->loop = loop;
    dns->on_found = on_found;
    dns->ctx = ctx;
    dns->gossip_port = cfg->gossip_port;
    dns->interval_ms = cfg->dns_interval_ms ? cfg->dns_interval_ms : 5000;
    dns->n_peers = cfg->n_peers < CONFIG_MAX_PEERS ? cfg->n_peers : CONFIG_MAX_PEERS;
    memcpy(dns->peers, cfg->peers, dns->n_peers * sizeof(dns->peers[0]));
    if (dns_seen_new(dns->n_peers + DNS_SEEN_EXTRA, &dns->seen) < 0) {
        free(dns);
        return -ENOMEM;
    }
    uv_timer_init(loop, &dns->refresh);
    uv_timer_init(loop, &dns->timeout);
    dns->refresh.data = dns;
    dns->timeout.data = dns;
    dns->open_handles = 2;
    *out = dns;

    const char *svc = cfg->service;
    if (svc[0] && dns_service_names(svc, dns->service_fqdn, sizeof(dns->service_fqdn),
                                    dns->srv_name, sizeof(dns->srv_name)) < 0) {
        log_error("dns_service_invalid value=%s (longer than a DNS name can be)", svc);
        return -EINVAL;
    }

    bool need_dns = svc[0] != '\0';
    for (size_t i = 0; i < dns->n_peers; i++) {
        char host[CONFIG_STR_MAX];
        int port;
        if (addr_split(dns->peers[i], host, sizeof(host), &port) == 0 && !dns_is_ip_literal(host))
            need_dns = true;
    }
    if (need_dns) {
        uint32_t try_ms = dns->interval_ms / 4;
        struct ares_options opts = {
            .sock_state_cb = on_sock_state,
            .sock_state_cb_data = dns,
            .timeout = (int)(try_ms > DNS_TRY_MIN_MS ? try_ms : DNS_TRY_MIN_MS),
            .tries = DNS_TRIES,
        };
        int rc = ares_library_init(ARES_LIB_INIT_ALL);
        if (rc == ARES_SUCCESS)
            rc = ares_init_options(&dns->channel, &opts,
                                   ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
        if (rc != ARES_SUCCESS) {
            log_error("dns_init_failed error=\"%s\"", ares_strerror(rc));
            return -EIO;
        }
        dns->channel_ok = true;
        if (cfg->dns_server[0]) {
            rc = ares_set_servers_ports_csv(dns->channel, cfg->dns_server);
            if (rc != ARES_SUCCESS) {
                log_error("dns_server_invalid value=%s error=\"%s\"", cfg->dns_server,
                          ares_strerror(rc));
                return -EINVAL;
            }
        }
    }
    if (svc[0] || dns->n_peers)
        uv_timer_start(&dns->refresh, on_refresh, 0, dns->interval_ms);
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
    dns_seen_free(dns->seen);
    dns->seen = NULL;
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
