/*
 * tallyd.h: the daemon's state, shared by the files that wire it together:
 * daemon.c (start, signals, drain, stop), routes.c (HTTP routes) and
 * metrics.c (Prometheus text). struct tallyd owns its parts (the store's
 * commit layer, the HTTP server, the gossip core, the UDP transport,
 * discovery, the table saver) through their small APIs, each part keeping its
 * own state; tallyd_close() closes or frees every one of them. What is left
 * here is the daemon's own: its timers and signals, the drain, the count
 * file's health, the request counters.
 */
#ifndef TALLY_TALLYD_H
#define TALLY_TALLYD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "format/volume.h"
#include "node/container_of.h"
#include "node/readiness.h"
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

struct discovery;
struct peer_udp;
struct table_saver;
struct peer_tcp;

struct tallyd {
    uv_loop_t *loop;
    struct config cfg;
    char self_addr[PROTO_ADDR_MAX + 1]; /* gossip "ip:port" peers reach us at */
    struct volume_info vol;             /* our slot: DATA_DIR/volume */
    char listen_ip[64];                 /* HTTP and UDP bind here: --bind, else "::" or "0.0.0.0" */
    uint64_t start_ms;                  /* loop time at start */

    struct commit *commit;
    struct http_server *http;
    struct gossip *gossip;     /* freed by tallyd_close */
    struct peer_udp *udp;      /* the gossip transport (node/peer/udp.h) */
    struct discovery *dns;     /* node/peer/discovery.h */
    struct table_saver *table; /* DATA_DIR/cluster.table */
    struct peer_tcp *tcp;      /* push-pull over TCP (node/peer/tcp.h) */

    uv_timer_t gossip_timer;
    uv_check_t gossip_check; /* after each loop turn: re-arm gossip_timer if due sooner */
    /* When gossip_timer fires (0: not armed), and when the per-round chores
     * (table save, count file watch) last ran: the timer follows
     * gossip_next_ms(), several times a round. */
    uint64_t gossip_due_ms, chores_ms;
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
    uint64_t visit_errors;  /* visits refused because the store could not write */
    uint64_t dup_logged_ms; /* last duplicate-name warning */
    /* Non-empty: started without a writable data dir; HTTP only, not ready
     * (READINESS_DATA_DIR), and this is the store's message saying why. */
    char degraded[640];
};

/* Start everything: load the store, bind HTTP and UDP, begin gossip. On
 * failure logs why and returns a negative errno; tallyd_close() still applies. */
int tallyd_start(struct tallyd *d, uv_loop_t *loop, const struct config *cfg);
/* Close every handle and free every part (run the loop afterwards to let
 * the handles finish). SIGTERM, SIGINT and SIGHUP are ignored from then on:
 * the process is about to exit, and must exit with its own status. */
void tallyd_close(struct tallyd *d);
/* Begin the graceful stop: what SIGTERM does. */
void tallyd_drain(struct tallyd *d);

/* Readiness: READINESS_READY, else why not (node/readiness.h). */
enum readiness tallyd_not_ready(const struct tallyd *d);
uint64_t tallyd_now_ms(const struct tallyd *d);
/* Re-arm the gossip timer for gossip_next_ms() if that is sooner than it is
 * armed for (after a datagram or a count changed the core's plans; a check
 * handle calls it after every loop turn). */
void tallyd_gossip_timer_arm(struct tallyd *d);
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
/* Members of g's table by state (enum gossip_state), ourselves included:
 * the one count /metrics and /status both show. */
#define TALLYD_MEMBER_STATES (GOSSIP_LEFT + 1)
void metrics_members_by_state(const struct gossip *g, uint64_t out[TALLYD_MEMBER_STATES]);

#endif
