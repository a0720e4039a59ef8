/*
 * tallyd.h: the daemon's state, shared by the files that wire it together:
 * daemon.c (start, signals, drain, stop), routes.c (HTTP routes), metrics.c
 * (Prometheus text), peer_udp.c (gossip over UDP) and discovery.c (DNS).
 * One struct tallyd owns every handle; each is embedded and closed in
 * tallyd_close().
 */
#ifndef TALLY_TALLYD_H
#define TALLY_TALLYD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "format/volume.h"
#include "gossip/gossip.h"
#include "node/store/commit.h"
#include "node/config.h"
#include "node/http/server.h"

/* Routes counted in metrics; ROUTE_OTHER collects 404s. */
enum route_id {
    ROUTE_ROOT,
    ROUTE_COUNT,
    ROUTE_CLUSTER,
    ROUTE_HEALTHZ,
    ROUTE_READYZ,
    ROUTE_METRICS,
    ROUTE_STATUS,
    ROUTE_OTHER,
    ROUTE__COUNT
};
/* Status codes counted per route; anything else lands in the last slot. */
enum { CODE_200, CODE_404, CODE_405, CODE_503, CODE_OTHER, CODE__COUNT };
/* Upper bounds (seconds) of the request duration histogram: from a cached
 * answer (~0.1 ms) to a visit waiting on a slow disk's fsync. */
#define REQ_DUR_BOUNDS 12
extern const double tallyd_req_dur_bounds[REQ_DUR_BOUNDS];

/* The gossip protocol versions this build speaks (proto/WIRE.md), shown in
 * tally_build_info and /status. */
#define TALLYD_PROTO_MIN PROTO_VERSION_MIN
#define TALLYD_PROTO_MAX PROTO_VERSION_MAX

/* The struct that embeds a handle, from the handle's address. */
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

struct discovery;
struct seal;
struct table_saver;
struct peer_allow;

struct tallyd {
    uv_loop_t *loop;
    struct config cfg;
    char self_addr[PROTO_ADDR_MAX + 1]; /* gossip "ip:port" peers reach us at */
    struct volume_info vol;             /* our slot: DATA_DIR/volume */
    char listen_ip[64];                 /* HTTP and UDP bind here: --bind, else "::" or "0.0.0.0" */
    uint64_t start_ms;                  /* loop time at start */

    struct commit *commit;
    struct http_server *http;
    struct gossip *gossip;
    struct discovery *dns;
    struct seal *seal;         /* gossip AEAD keys; NULL without --key-file */
    struct table_saver *table; /* DATA_DIR/cluster.table */
    /* Sources heard without a key (node/peer/allow.h); NULL: no filter
     * (sealed gossip, or nothing to discover). */
    struct peer_allow *allow;

    uv_udp_t udp;
    /* One receive buffer, reused: libuv hands datagrams one at a time. Larger
     * than any valid datagram so an oversize one is seen whole and counted. */
    char udp_buf[2048];
    uv_timer_t gossip_timer;
    uv_timer_t drain_timer;
    uv_signal_t sig_term, sig_int;

    /* The count file's health, as last logged (daemon.c). */
    struct {
        bool failing;   /* a write failed and none has succeeded since */
        bool stat_busy; /* a uv_fs_stat of the count file is in flight */
        bool restoring; /* a flush rewriting a removed count file is in flight */
        bool missing;   /* the file was found removed and is not written back yet */
    } store_watch;
    bool handles_init;
    bool draining;
    uint64_t drain_deadline;
    bool stopping;
    int exit_code;
    uint64_t requests[ROUTE__COUNT][CODE__COUNT];
    /* Request durations per route, handler entry to answer (routes.c). */
    uint64_t req_start_ns; /* of the request being answered */
    uint64_t req_dur_buckets[ROUTE__COUNT][REQ_DUR_BOUNDS + 1];
    double req_dur_sum[ROUTE__COUNT];
    uint64_t visit_errors; /* visits refused because the store could not write */
    uint64_t udp_send_errors;
    uint64_t dup_logged_ms; /* last duplicate-name warning */
    /* Non-empty: started without a writable data dir; HTTP only, not ready,
     * and this says why (tallyd_not_ready). */
    char degraded[640];
};

/* Start everything: load the store, bind HTTP and UDP, begin gossip. On
 * failure logs why and returns a negative errno; tallyd_close() still applies. */
int tallyd_start(struct tallyd *d, uv_loop_t *loop, const struct config *cfg);
/* Close every handle (run the loop afterwards to let them finish). */
void tallyd_close(struct tallyd *d);
/* Begin the graceful stop: what SIGTERM does. */
void tallyd_drain(struct tallyd *d);

/* Readiness: NULL if ready, else the reason. */
const char *tallyd_not_ready(const struct tallyd *d);
uint64_t tallyd_now_ms(const struct tallyd *d);
/* This pod name's visits when visits.txt holds file_count: our slot's part
 * of it plus every other slot of our name (earlier volumes). */
uint64_t tallyd_visits(const struct tallyd *d, uint64_t file_count);
/* True while another live process speaks for our name (warning shown). */
bool tallyd_duplicate_active(const struct tallyd *d);

/* routes.c */
void routes_handle(void *ctx, struct http_exchange *ex, const struct http_request_view *req);
/* metrics.c: render the Prometheus text exposition into out. */
struct buf;
void metrics_render(const struct tallyd *d, struct buf *out);
/* peer_udp.c */
int peer_udp_start(struct tallyd *d);
void peer_udp_send(void *ctx, const char *addr, const uint8_t *buf, size_t len);
/* Close the socket and the key-file watch, free the keys. */
void peer_udp_close(struct tallyd *d);
/* Times a changed key file was loaded (rotation progress, for metrics). */
uint64_t peer_udp_key_reloads(const struct tallyd *d);
/* Discovery found "ip:port": list it as a source and greet it. */
void tallyd_peer_found(struct tallyd *d, const char *addr);
/* discovery.c */
int discovery_start(struct tallyd *d);
void discovery_close(struct discovery *dns);
/* discovery stats for metrics */
uint64_t discovery_lookups(const struct discovery *dns);
uint64_t discovery_failures(const struct discovery *dns);

#endif
