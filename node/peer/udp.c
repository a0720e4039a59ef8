/*
 * peer/udp.c: the gossip core's transport on libuv (udp.h says what it
 * owns). One UDP socket on --bind and --gossip-port; every received datagram
 * goes through the datagram path (node/peer/datagram.c: unseal, replay window
 * or source filter, then the core), and the core's sends are sealed there and
 * leave with uv_udp_try_send (no allocation, no callback: a datagram the
 * kernel cannot take now is a counted loss, which gossip tolerates by design).
 * This file is only the glue: the socket, the key file's watch, and the logs.
 *
 * The key file is checked for a change every --dns-interval and on SIGHUP, so
 * a rotated Kubernetes Secret takes effect without a restart.
 *
 * Size: the core builds datagrams of at most PROTO_MAX_DATAGRAM (1400) bytes;
 * sealed they are 1400 + SEAL_OVERHEAD (45) = 1445 bytes, under the 1472
 * bytes of payload a 1500-byte MTU leaves after IPv4 (20) and UDP (8)
 * headers, and the 1452 left after IPv6 (40) and UDP: never fragmented. The
 * receive buffer (DATAGRAM_RECV_BUF, 2048 bytes) holds any of them whole, and
 * an oversize one is still seen whole and dropped.
 */
#include "node/peer/udp.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "format/seal.h"
#include "node/log.h"
#include "node/peer/addr.h"
#include "node/peer/allow.h"
#include "node/peer/datagram.h"

/* Log at most one failed authentication per this many ms (debug level):
 * anyone can send us datagrams, and the log must not be theirs to fill. */
#define AUTH_LOG_EVERY_MS 10000

#if DATAGRAM_WIRE_MAX > 1452
#error "a sealed datagram would not fit a 1500-byte MTU over IPv6"
#endif

struct peer_udp {
    uv_loop_t *loop;
    struct peer_udp_config cfg;
    char bind_ip[64];
    char key_file[4096];
    struct seal *seal; /* NULL: unsealed */
    struct datagram_path path;
    uv_udp_t udp;
    uv_timer_t reload;         /* key file check, when there is a key file */
    uv_signal_t hup;           /* SIGHUP: check the key file now */
    bool udp_open, watch_open; /* handles initialized, so closed by peer_udp_close */
    int open_handles;          /* u is freed when the last one has closed */
    bool closing;
    uint64_t auth_logged_ms; /* last auth failure logged */
    uint64_t auth_suppressed;
    uint64_t key_reloads;
    uint64_t send_errors;
    /* One receive buffer, reused: libuv hands datagrams one at a time. */
    uint8_t buf[DATAGRAM_RECV_BUF];
};

static void udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct peer_udp *u = h->data;
    (void)hint;
    b->base = (char *)u->buf;
    b->len = sizeof(u->buf);
}

static void udp_auth_failed(struct peer_udp *u, const char *from, size_t len,
                            enum datagram_verdict why)
{
    uint64_t now = uv_now(u->loop);
    if (u->auth_logged_ms && now - u->auth_logged_ms < AUTH_LOG_EVERY_MS) {
        u->auth_suppressed++;
        return;
    }
    log_debug("gossip_auth_failed from=%s bytes=%zu reason=\"%s\" suppressed=%llu", from, len,
              why == DATAGRAM_UNKNOWN_KEY ? "unknown key id" : "not a sealed datagram or bad tag",
              (unsigned long long)u->auth_suppressed);
    u->auth_logged_ms = now ? now : 1;
    u->auth_suppressed = 0;
}

static void udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
                     unsigned flags)
{
    struct peer_udp *u = h->data;
    char addr[PROTO_ADDR_MAX + 1];
    if (n < 0) {
        log_warn("gossip_recv_error error=\"%s\"", uv_strerror((int)n));
        return;
    }
    if (n == 0 || !from || u->closing || addr_format(from, addr, sizeof(addr)) != 0)
        return;
    enum datagram_verdict v =
        datagram_in(&u->path, uv_now(u->loop), from, addr, (const uint8_t *)b->base, (size_t)n,
                    (flags & UV_UDP_PARTIAL) != 0);
    if (v == DATAGRAM_BAD_SEAL || v == DATAGRAM_UNKNOWN_KEY)
        udp_auth_failed(u, addr, (size_t)n, v);
}

void peer_udp_send(struct peer_udp *u, const char *addr, const uint8_t *data, size_t len)
{
    struct sockaddr_storage ss;
    uint8_t sealed[DATAGRAM_WIRE_MAX];
    const uint8_t *wire;
    if (u->closing || addr_parse(addr, &ss) != 0) {
        u->send_errors++;
        return;
    }
    int n = datagram_out(&u->path, data, len, sealed, sizeof(sealed), &wire);
    if (n < 0) {
        u->send_errors++;
        return;
    }
    uv_buf_t b = uv_buf_init((char *)wire, (unsigned)n);
    int rc = uv_udp_try_send(&u->udp, &b, 1, (const struct sockaddr *)&ss);
    if (rc < 0) {
        u->send_errors++;
        log_debug("gossip_send_error to=%s error=\"%s\"", addr, uv_strerror(rc));
    }
}

void peer_udp_source_note(struct peer_udp *u, const char *addr)
{
    datagram_source_note(&u->path, addr, uv_now(u->loop));
}

/* ---- the key file ------------------------------------------------------ */

static void peer_udp_keys_log(const struct seal *s, const char *event)
{
    char send_id[2 * SEAL_ID_BYTES + 1], ids[SEAL_MAX_KEYS * (2 * SEAL_ID_BYTES + 1)] = "";
    size_t used = 0;
    seal_key_id_hex(s, 0, send_id);
    for (size_t i = 0; i < seal_key_count(s); i++) {
        char id[2 * SEAL_ID_BYTES + 1];
        seal_key_id_hex(s, i, id);
        used += (size_t)snprintf(ids + used, sizeof(ids) - used, "%s%s", i ? "," : "", id);
    }
    /* Key ids are a hash prefix: safe to log, and what an operator compares
     * across pods during a rotation. */
    log_info("%s file=\"%s\" keys=%zu send_key=%s accept=%s", event, seal_path(s),
             seal_key_count(s), send_id, ids);
    if (seal_world_readable(s))
        log_warn("gossip_key_file_world_readable file=\"%s\" hint=\"chmod o-r, or defaultMode 0440 "
                 "on the Secret volume\"",
                 seal_path(s));
}

static void peer_udp_keys_check(struct peer_udp *u)
{
    char msg[512];
    if (!u->seal || u->closing)
        return;
    /* In place: the datagram path keeps its pointer to the same keys. */
    int rc = seal_reload_if_changed(u->seal, msg, sizeof(msg));
    if (rc == 1) {
        u->key_reloads++;
        peer_udp_keys_log(u->seal, "gossip_key_reloaded");
    } else if (rc < 0) {
        log_error("gossip_key_reload_failed %s", msg);
    }
}

static void on_reload_timer(uv_timer_t *t)
{
    peer_udp_keys_check(t->data);
}

static void on_sighup(uv_signal_t *s, int signum)
{
    (void)signum;
    log_info("signal name=SIGHUP action=reload_key_file");
    peer_udp_keys_check(s->data);
}

static void peer_udp_free(struct peer_udp *u)
{
    datagram_path_free(&u->path);
    seal_free(u->seal);
    free(u);
}

static void peer_udp_handle_closed(uv_handle_t *h)
{
    struct peer_udp *u = h->data;
    if (--u->open_handles == 0 && u->closing)
        peer_udp_free(u);
}

/* Watch the key file: a timer every key_check_ms and SIGHUP. Neither keeps
 * the loop alive on its own: they serve the socket, which does. */
static int peer_udp_keys_watch(struct peer_udp *u)
{
    uv_timer_init(u->loop, &u->reload);
    u->reload.data = u;
    uv_unref((uv_handle_t *)&u->reload);
    int rc = uv_signal_init(u->loop, &u->hup);
    if (rc < 0) {
        u->open_handles++;
        uv_close((uv_handle_t *)&u->reload, peer_udp_handle_closed);
        return rc;
    }
    u->hup.data = u;
    uv_unref((uv_handle_t *)&u->hup);
    u->watch_open = true;
    uint64_t every = u->cfg.key_check_ms ? u->cfg.key_check_ms : 5000;
    rc = uv_timer_start(&u->reload, on_reload_timer, every, every);
    return rc < 0 ? rc : uv_signal_start(&u->hup, on_sighup, SIGHUP);
}

/* ---- start and stop ---------------------------------------------------- */

int peer_udp_new(uv_loop_t *loop, const struct peer_udp_config *cfg, struct peer_udp **out)
{
    char msg[512];
    *out = NULL;
    struct peer_udp *u = calloc(1, sizeof(*u));
    if (!u)
        return -ENOMEM;
    u->loop = loop;
    u->cfg = *cfg;
    snprintf(u->bind_ip, sizeof(u->bind_ip), "%s", cfg->bind_ip ? cfg->bind_ip : "");
    snprintf(u->key_file, sizeof(u->key_file), "%s", cfg->key_file ? cfg->key_file : "");
    u->cfg.bind_ip = u->bind_ip;
    u->cfg.key_file = u->key_file;
    if (u->key_file[0]) {
        int rc = seal_load(u->key_file, &u->seal, msg, sizeof(msg));
        if (rc < 0) {
            log_error("gossip_key_invalid %s", msg);
            free(u);
            return rc;
        }
        peer_udp_keys_log(u->seal, "gossip_key_loaded");
    } else {
        log_info("gossip_unauthenticated hint=\"--key-file seals every datagram with a cluster "
                 "key\"");
    }
    *out = u;
    return 0;
}

int peer_udp_start(struct peer_udp *u, struct gossip *g)
{
    char addr[PROTO_ADDR_MAX + 1];
    struct sockaddr_storage ss;
    size_t members = u->cfg.max_members ? u->cfg.max_members : GOSSIP_MAX_MEMBERS;
    struct datagram_config dc = {
        .gossip = g,
        .seal = u->seal,
        .max_senders = 2 * members,
        .allow_cap = u->cfg.filter_sources ? members : 0,
        .allow_keep_ms = u->cfg.source_keep_ms,
    };
    int rc = datagram_path_init(&u->path, &dc);
    if (rc < 0)
        return rc;
    if (addr_join(u->bind_ip, u->cfg.port, addr, sizeof(addr)) != 0 || addr_parse(addr, &ss) != 0)
        return -EINVAL;
    rc = uv_udp_init(u->loop, &u->udp);
    if (rc < 0)
        return rc;
    u->udp.data = u;
    u->udp_open = true;
    if (u->seal && (rc = peer_udp_keys_watch(u)) < 0)
        return rc;
    rc = uv_udp_bind(&u->udp, (const struct sockaddr *)&ss, 0);
    if (rc < 0) {
        log_error("gossip_bind_failed addr=%s error=\"%s\"", addr, uv_strerror(rc));
        return rc;
    }
    rc = uv_udp_recv_start(&u->udp, udp_alloc, udp_recv);
    if (rc < 0)
        return rc;
    log_info("gossip_listening addr=%s authenticated=%s", addr, u->seal ? "yes" : "no");
    return 0;
}

void peer_udp_close(struct peer_udp *u)
{
    if (!u || u->closing)
        return;
    u->closing = true;
    if (!u->udp_open && u->open_handles == 0) {
        peer_udp_free(u);
        return;
    }
    if (u->udp_open) {
        u->open_handles++;
        uv_close((uv_handle_t *)&u->udp, peer_udp_handle_closed);
    }
    if (u->watch_open) {
        u->open_handles += 2;
        uv_close((uv_handle_t *)&u->reload, peer_udp_handle_closed);
        uv_close((uv_handle_t *)&u->hup, peer_udp_handle_closed);
        /* Closing the last SIGHUP handle gives the signal back to SIG_DFL,
         * which terminates: between here and exit a HUP must do nothing. */
        signal(SIGHUP, SIG_IGN);
    }
}

bool peer_udp_sealed(const struct peer_udp *u)
{
    return u && u->seal;
}

const struct seal *peer_udp_seal(const struct peer_udp *u)
{
    return u ? u->seal : NULL;
}

bool peer_udp_source_listed(const struct peer_udp *u, const struct sockaddr *sa, uint64_t now_ms)
{
    return !u || u->seal || !u->path.allow || peer_allow_check(u->path.allow, sa, now_ms);
}

uint64_t peer_udp_send_errors(const struct peer_udp *u)
{
    return u ? u->send_errors : 0;
}

uint64_t peer_udp_key_reloads(const struct peer_udp *u)
{
    return u ? u->key_reloads : 0;
}
