/*
 * daemon.c: tallyd's life cycle: start every part in order, run, and stop
 * gracefully on SIGTERM (stop accepting, answer what is in flight, make the
 * count durable, tell peers we leave, exit 0).
 *
 * It also watches what no single part sees: the file descriptor limit (HTTP
 * connections are capped below it, so accept never starves the store, UDP or
 * DNS of descriptors) and the health of the count file (each change between
 * "writes fail" and "writes work" is logged once; a count file removed or
 * replaced under the running pod is written again at once, since the store
 * keeps the file open and would otherwise write to an inode nobody reads).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "node/log.h"
#include "node/peer/addr.h"
#include "node/peer/discovery.h"
#include "node/peer/tcp.h"
#include "node/peer/udp.h"
#include "node/store/count_file.h"
#include "node/tallyd.h"
#include "node/store/volume_files.h"

/* The drain waits for in-flight requests at most this long, well inside the
 * 30 s default terminationGracePeriodSeconds, then flushes anyway. */
#define DRAIN_MAX_MS  10000
#define DRAIN_POLL_MS 10

/* Descriptors kept out of the HTTP connection cap: the count file (held open
 * for in-place writes), its temp file and directory during a re-creation, the UDP socket, the
 * push-pull listener and its few connections (node/peer/tcp.h), c-ares' sockets, the libuv loop's
 * own (epoll, signal pipe, threadpool wakeup) and libuv's spare descriptor for EMFILE, with room to
 * spare. */
#define FD_RESERVE 64
/* Ask for no more than this even when the hard limit is unlimited. */
#define FD_WANT_MAX 1048576
/* The saved copy of the cluster table is rewritten at most this often. */
#define TABLE_SAVE_MIN_MS 2000
/* A duplicate name is warned about at most once a minute, and shown as
 * active for that long after the last sign of it. */
#define DUP_WARN_MS 60000

uint64_t tallyd_now_ms(const struct tallyd *d)
{
    return uv_now(d->loop);
}

enum readiness tallyd_not_ready(const struct tallyd *d)
{
    if (d->draining)
        return READINESS_DRAINING;
    if (d->degraded[0])
        return READINESS_DATA_DIR;
    if (!d->gossip || !d->commit)
        return READINESS_STARTING;
    if (!gossip_synced(d->gossip, tallyd_now_ms(d)))
        return READINESS_SYNCING;
    if (d->cfg.sync == COMMIT_SYNC_ALWAYS && commit_last_error(d->commit) != 0)
        return READINESS_STORE_FAILING;
    return READINESS_READY;
}

/* The one way gossip learns our count: the commit layer reports each rise
 * of what visits.txt holds durably (after the fsync in --sync always, after
 * the write otherwise), and our slot is that less the slot's base. */
static void on_durable(void *arg, uint64_t count)
{
    struct tallyd *d = arg;
    if (!d->gossip)
        return;
    gossip_count_set(d->gossip, count > d->vol.base ? count - d->vol.base : 0);
    tallyd_gossip_timer_arm(d); /* news waiting for the next gossip step */
}

uint64_t tallyd_visits(const struct tallyd *d, uint64_t file_count)
{
    uint64_t mine = file_count > d->vol.base ? file_count - d->vol.base : 0;
    const struct gossip_member *self = gossip_member_at(d->gossip, 0);
    uint64_t others = 0;
    for (unsigned k = 0; k < self->n_slots; k++)
        if (self->slots[k].vol != d->vol.id)
            others += self->slots[k].count;
    return mine + others;
}

/* Discovery found "ip:port": hear it (the source filter), and say hello
 * (gossip_greet greets only addresses no member has). */
static void on_peer_found(void *ctx, const char *addr)
{
    struct tallyd *d = ctx;
    peer_udp_source_note(d->udp, addr);
    gossip_greet(d->gossip, tallyd_now_ms(d), addr);
}

bool tallyd_duplicate_active(const struct tallyd *d)
{
    return d->dup_logged_ms && tallyd_now_ms(d) - d->dup_logged_ms < DUP_WARN_MS;
}

/* A peer holds more for our slot than we ever counted: this volume went back
 * in time (restored from a snapshot, or copied). Counting on would repeat
 * numbers the peers already hold, and max-merge would swallow them: move to
 * a new slot whose count starts at what the file holds now. */
static void on_slot_behind(void *ctx, uint64_t vol, uint64_t ours, uint64_t theirs)
{
    struct tallyd *d = ctx;
    char old_id[VOLUME_ID_HEXLEN + 1], new_id[VOLUME_ID_HEXLEN + 1];
    if (vol != d->vol.id)
        return;
    volume_id_hex(d->vol.id, old_id);
    int rc = volume_move(d->cfg.data_dir, &d->vol, commit_durable_count(d->commit));
    if (rc < 0) {
        log_error("slot_move_failed volume=%s error=\"%s\" (a peer holds %llu for this "
                  "volume's slot, we hold %llu; retrying when it says so again)",
                  old_id, strerror(-rc), (unsigned long long)theirs, (unsigned long long)ours);
        return;
    }
    rc = gossip_slot_move(d->gossip, d->vol.id);
    volume_id_hex(d->vol.id, new_id);
    log_warn("slot_moved from=%s to=%s ours=%llu peers=%llu base=%llu (a peer holds more for "
             "this volume's slot than it ever counted: the volume went back in time, e.g. a "
             "restored snapshot; counting goes on in a new slot, nothing is lost)%s",
             old_id, new_id, (unsigned long long)ours, (unsigned long long)theirs,
             (unsigned long long)d->vol.base, rc < 0 ? " (slot table full!)" : "");
}

static void on_duplicate(void *ctx, uint64_t vol, const char *addr)
{
    struct tallyd *d = ctx;
    char id[VOLUME_ID_HEXLEN + 1];
    uint64_t now = tallyd_now_ms(d);
    bool quiet = d->dup_logged_ms && now - d->dup_logged_ms < DUP_WARN_MS;
    d->dup_logged_ms = now ? now : 1;
    if (quiet)
        return;
    volume_id_hex(vol, id);
    log_warn("duplicate_name name=%s other_volume=%s other_addr=%s (another live tallyd "
             "speaks for this pod name from another volume: both are counted, each on its "
             "own slot; check for a stuck predecessor or two pods given one --name)",
             d->cfg.name, id, addr && addr[0] ? addr : "-");
}

/* Log each change between failing and working writes once, with the
 * error, the count in memory and the count the file holds. */
static void store_watch_state(struct tallyd *d)
{
    int err = commit_last_error(d->commit);
    if (err != 0 && !d->store_watch.failing) {
        d->store_watch.failing = true;
        log_error("store_write_failing error=\"%s\" count=%llu durable=%llu "
                  "(visits refused until the count file can be written; retrying)",
                  strerror(-err), (unsigned long long)commit_count(d->commit),
                  (unsigned long long)commit_durable_count(d->commit));
    } else if (err == 0 && d->store_watch.failing) {
        d->store_watch.failing = false;
        log_info("store_write_recovered durable=%llu",
                 (unsigned long long)commit_durable_count(d->commit));
    }
}

static void on_store_restored(void *arg, int status)
{
    struct tallyd *d = arg;
    d->store_watch.restoring = false;
    if (status == 0 && d->commit && d->store_watch.missing) {
        d->store_watch.missing = false;
        log_info("store_file_restored durable=%llu",
                 (unsigned long long)commit_durable_count(d->commit));
    }
    /* a failure shows as commit_last_error() and is logged as failing */
}

struct store_stat_req {
    uv_fs_t req;
    struct tallyd *d;
    /* the file the in-place writes went to when the stat was issued */
    bool had_id;
    uint64_t dev, ino;
};

/* The count file vanished under us (someone removed it, or a volume was
 * swapped) or was replaced by another file (another inode than the one the
 * in-place writes go to): a restart would read 0 or whatever replaced it, so
 * drop our descriptor and write the file again now by atomic replace instead
 * of waiting for the next visit. */
static void on_store_stat(uv_fs_t *req)
{
    struct store_stat_req *sr = container_of(req, struct store_stat_req, req);
    struct tallyd *d = sr->d;
    bool missing = req->result == UV_ENOENT;
    bool replaced = false;
    uint64_t dev, ino;
    if (req->result == 0 && sr->had_id && d->commit &&
        commit_file_identity(d->commit, &dev, &ino) == 0 && dev == sr->dev && ino == sr->ino)
        /* Only when no write re-opened the file while the stat ran: then
         * the stat may have seen the file before that write created it. */
        replaced = req->statbuf.st_dev != dev || req->statbuf.st_ino != ino;
    uv_fs_req_cleanup(req);
    free(sr);
    d->store_watch.stat_busy = false;
    if ((!missing && !replaced) || d->stopping || d->draining || !d->commit ||
        d->store_watch.restoring)
        return;
    if (!d->store_watch.missing) {
        if (missing)
            log_warn("store_file_missing dir=\"%s\" count=%llu (writing it again)", d->cfg.data_dir,
                     (unsigned long long)commit_count(d->commit));
        else
            log_warn("store_file_replaced dir=\"%s\" count=%llu (not the file we write to; "
                     "writing it again)",
                     d->cfg.data_dir, (unsigned long long)commit_count(d->commit));
    }
    d->store_watch.missing = true;
    d->store_watch.restoring = true;
    commit_reopen(d->commit);
    commit_flush(d->commit, on_store_restored, d);
}

static void store_watch_file(struct tallyd *d)
{
    char path[4096];
    /* A count of 0 needs no file: a missing one reads as 0 at start. */
    if (d->store_watch.stat_busy || d->store_watch.restoring ||
        commit_durable_count(d->commit) == 0)
        return;
    if ((size_t)snprintf(path, sizeof(path), "%s/visits.txt", d->cfg.data_dir) >= sizeof(path))
        return;
    struct store_stat_req *sr = malloc(sizeof(*sr));
    if (!sr)
        return;
    sr->d = d;
    sr->had_id = commit_file_identity(d->commit, &sr->dev, &sr->ino) == 0;
    /* on the threadpool: a stalled volume must not stall the loop */
    if (uv_fs_stat(d->loop, &sr->req, path, on_store_stat) < 0) {
        free(sr);
        return;
    }
    d->store_watch.stat_busy = true;
}

static void on_gossip_tick(uv_timer_t *t)
{
    struct tallyd *d = t->data;
    uint64_t now = tallyd_now_ms(d);
    d->gossip_due_ms = 0;
    gossip_tick(d->gossip, now);
    if (now - d->chores_ms >= d->cfg.gossip_interval_ms) {
        d->chores_ms = now;
        table_saver_poll(d->table, now);
        store_watch_state(d);
        store_watch_file(d);
    }
    tallyd_gossip_timer_arm(d);
}

static void on_gossip_check(uv_check_t *h)
{
    tallyd_gossip_timer_arm(h->data);
}

void tallyd_gossip_timer_arm(struct tallyd *d)
{
    if (!d->gossip || d->stopping || d->draining)
        return;
    uint64_t now = tallyd_now_ms(d), next = gossip_next_ms(d->gossip);
    /* A wait of at least 1 ms: the core moves its deadlines on each tick,
     * and the loop must never spin on one that did not move. */
    if (next <= now)
        next = now + 1;
    if (d->gossip_due_ms != 0 && d->gossip_due_ms <= next)
        return; /* armed for earlier already */
    d->gossip_due_ms = next;
    uv_timer_start(&d->gossip_timer, on_gossip_tick, next - now, 0);
}

static void on_http_cap_reached(void *ctx, uint64_t open, uint32_t cap)
{
    (void)ctx;
    log_warn("http_conn_cap_reached open=%llu cap=%u (new connections are closed at once "
             "until some finish)",
             (unsigned long long)open, cap);
}

/* The HTTP connection cap: --max-conns, but never so close to the descriptor
 * limit that the store or gossip cannot open one. The soft limit is raised
 * to the hard one first (the usual 1024 soft limit is a relic). */
static uint32_t http_conn_cap(const struct config *cfg)
{
    uint32_t want = cfg->max_conns ? cfg->max_conns : HTTP_DEFAULT_MAX_CONNS;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return want;
    rlim_t hard = rl.rlim_max == RLIM_INFINITY ? FD_WANT_MAX : rl.rlim_max;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < hard) {
        struct rlimit raised = {.rlim_cur = hard, .rlim_max = rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            rl.rlim_cur = hard;
    }
    uint64_t nofile = rl.rlim_cur == RLIM_INFINITY ? FD_WANT_MAX : (uint64_t)rl.rlim_cur;
    uint64_t room = nofile > 2 * FD_RESERVE ? nofile - FD_RESERVE : nofile / 2;
    if (room == 0)
        room = 1;
    if (room >= want)
        return want;
    log_warn("http_conn_cap cap=%llu max_conns=%u nofile=%llu reserve=%d (the descriptor "
             "limit is below --max-conns)",
             (unsigned long long)room, want, (unsigned long long)nofile, FD_RESERVE);
    return (uint32_t)room;
}

static void on_flushed(void *arg, int status)
{
    struct tallyd *d = arg;
    if (status != 0) {
        log_error("shutdown_flush_failed error=\"%s\" count=%llu durable=%llu", strerror(-status),
                  (unsigned long long)commit_count(d->commit),
                  (unsigned long long)commit_durable_count(d->commit));
        d->exit_code = 1;
    }
    gossip_leave(d->gossip, tallyd_now_ms(d));
    if (d->table && table_saver_save_now(d->table) < 0)
        log_warn("table_save_failed dir=\"%s\" (peers still hold the table)", d->cfg.data_dir);
    log_info("stopped count=%llu durable=%llu", (unsigned long long)commit_count(d->commit),
             (unsigned long long)commit_durable_count(d->commit));
    tallyd_close(d);
}

static void on_drain_poll(uv_timer_t *t)
{
    struct tallyd *d = t->data;
    size_t inflight = d->http ? http_server_inflight(d->http) : 0;
    if (inflight > 0 && uv_now(d->loop) < d->drain_deadline)
        return;
    if (inflight > 0)
        log_warn("drain_timeout inflight=%zu", inflight);
    uv_timer_stop(t);
    if (!d->commit) { /* a read-only start: nothing to flush, no one to tell */
        log_info("stopped (read-only data dir: nothing was counted)");
        tallyd_close(d);
        return;
    }
    commit_flush(d->commit, on_flushed, d);
}

void tallyd_drain(struct tallyd *d)
{
    if (d->draining)
        return;
    d->draining = true;
    log_info("draining inflight=%zu", d->http ? http_server_inflight(d->http) : 0);
    if (d->http)
        http_server_stop_accepting(d->http);
    uv_timer_stop(&d->gossip_timer);
    uv_check_stop(&d->gossip_check);
    d->drain_deadline = uv_now(d->loop) + DRAIN_MAX_MS;
    uv_timer_start(&d->drain_timer, on_drain_poll, 0, DRAIN_POLL_MS);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct tallyd *d = s->data;
    log_info("signal name=%s", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    tallyd_drain(d);
}

static int tallyd_handles_init(struct tallyd *d)
{
    uv_timer_init(d->loop, &d->gossip_timer);
    uv_check_init(d->loop, &d->gossip_check);
    d->gossip_check.data = d;
    uv_timer_init(d->loop, &d->drain_timer);
    uv_signal_init(d->loop, &d->sig_term);
    uv_signal_init(d->loop, &d->sig_int);
    d->gossip_timer.data = d->drain_timer.data = d->sig_term.data = d->sig_int.data = d;
    d->handles_init = true;
    int rc = uv_signal_start(&d->sig_term, on_signal, SIGTERM);
    return rc ? rc : uv_signal_start(&d->sig_int, on_signal, SIGINT);
}

/* Without --bind, listen on every address: "::" takes IPv4 too (the sockets
 * are dual-stack), so kubectl port-forward, which connects to localhost in the
 * pod, reaches us as well as peers on the pod IP. A kernel without IPv6 gets
 * "0.0.0.0". The advertised gossip address is --advertise (POD_IP), else a
 * specific --bind, else none: peers then use the address they see us at. */
static void tallyd_addrs_pick(struct tallyd *d)
{
    const struct config *c = &d->cfg;
    const char *listen = c->bind;
    if (!listen[0]) {
        int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        listen = fd >= 0 ? "::" : "0.0.0.0";
        if (fd >= 0)
            close(fd);
    }
    snprintf(d->listen_ip, sizeof(d->listen_ip), "%s", listen);
    const char *adv = c->advertise;
    if (!adv[0] && strcmp(listen, "0.0.0.0") && strcmp(listen, "::"))
        adv = listen;
    if (adv[0])
        addr_join(adv, c->gossip_port, d->self_addr, sizeof(d->self_addr));
}

/* The core's datagrams leave through the transport. */
static void on_gossip_send(void *ctx, const char *addr, const uint8_t *buf, size_t len)
{
    struct tallyd *d = ctx;
    peer_udp_send(d->udp, addr, buf, len);
}

/* The core asks for a push-pull; none is started once we are stopping. */
static void on_gossip_pushpull(void *ctx, const char *addr)
{
    struct tallyd *d = ctx;
    if (!d->stopping)
        peer_tcp_pushpull(d->tcp, addr);
}

/* The transport first (its keys), then the core, the saved table, the
 * socket, the rounds and discovery. */
static int tallyd_gossip_start(struct tallyd *d, uint64_t count)
{
    char msg[512];
    const struct config *c = &d->cfg;
    bool discovers = c->service[0] || c->n_peers;
    /* Without a key, hear only what discovery lists; an address stays listed
     * for ten DNS rounds (at least a minute) after its last answer. */
    uint64_t keep = 10ull * (c->dns_interval_ms ? c->dns_interval_ms : 5000);
    struct peer_udp_config uc = {
        .bind_ip = d->listen_ip,
        .port = c->gossip_port,
        .key_file = c->key_file,
        .key_check_ms = c->dns_interval_ms,
        .max_members = c->max_members,
        .filter_sources = discovers,
        .source_keep_ms = keep < 60000 ? 60000 : keep,
    };
    int rc = peer_udp_new(d->loop, &uc, &d->udp);
    if (rc < 0)
        return rc;
    uint64_t seed = 0;
    uv_random(NULL, NULL, &seed, sizeof(seed), 0, NULL);
    struct gossip_config gc = {
        .name = c->name,
        .addr = d->self_addr,
        .incarnation = d->vol.incarnation,
        .vol = d->vol.id,
        .count = count > d->vol.base ? count - d->vol.base : 0,
        .interval_ms = c->gossip_interval_ms,
        .fanout = 3,
        .pushpull_every = 5,
        /* Alone by configuration: there is no peer whose table to wait for. */
        .recovery_ms = discovers ? c->recovery_ms : 0,
        .max_members = c->max_members,
        .seed = seed ^ ((uint64_t)uv_os_getpid() << 32),
    };
    struct gossip_io io = {.ctx = d,
                           .send = on_gossip_send,
                           .slot_behind = on_slot_behind,
                           .duplicate = on_duplicate,
                           .pushpull = on_gossip_pushpull};
    d->gossip = gossip_new(&gc, &io, tallyd_now_ms(d));
    if (!d->gossip)
        return -ENOMEM;
    commit_on_durable(d->commit, on_durable, d);
    rc = table_file_load(c->data_dir, d->gossip, tallyd_now_ms(d), msg, sizeof(msg));
    if (rc < 0) {
        log_error("table_load_failed %s", msg);
        return rc;
    }
    rc = table_saver_new(d->loop, c->data_dir, d->gossip, TABLE_SAVE_MIN_MS, &d->table);
    if (rc < 0)
        return rc;
    rc = peer_udp_start(d->udp, d->gossip);
    if (rc < 0)
        return rc;
    struct peer_tcp_config tc = {.loop = d->loop,
                                 .listen_ip = d->listen_ip,
                                 .gossip_port = c->gossip_port,
                                 .gossip = d->gossip,
                                 .udp = d->udp};
    rc = peer_tcp_start(&tc, &d->tcp);
    if (rc < 0)
        return rc;
    /* The core's first tick is its first round; it then says when the next
     * thing is due (a probe timeout, a gossip step, the next round). The
     * check handle runs after each loop turn's I/O: a datagram may have
     * brought something due sooner (a PING_REQ to answer, news to pass on). */
    d->chores_ms = tallyd_now_ms(d);
    d->gossip_due_ms = tallyd_now_ms(d) + c->gossip_interval_ms;
    uv_timer_start(&d->gossip_timer, on_gossip_tick, c->gossip_interval_ms, 0);
    uv_check_start(&d->gossip_check, on_gossip_check);
    return discovery_start(d->loop, c, on_peer_found, d, &d->dns);
}

/* The volume file says which slot this volume counts on. A count file below
 * the slot's base went back past the move that set it: a new slot again. */
static int tallyd_volume_start(struct tallyd *d, uint64_t count)
{
    char msg[512], id[VOLUME_ID_HEXLEN + 1];
    int rc = volume_start(d->cfg.data_dir, &d->vol, msg, sizeof(msg));
    if (rc < 0) {
        log_error("volume_load_failed %s", msg);
        return rc;
    }
    if (count < d->vol.base) {
        volume_id_hex(d->vol.id, id);
        log_warn("slot_below_base volume=%s count=%llu base=%llu (visits.txt went back; "
                 "moving to a new slot)",
                 id, (unsigned long long)count, (unsigned long long)d->vol.base);
        rc = volume_move(d->cfg.data_dir, &d->vol, count);
        if (rc < 0) {
            log_error("volume_write_failed dir=\"%s\" error=\"%s\"", d->cfg.data_dir,
                      strerror(-rc));
            return rc;
        }
    }
    volume_id_hex(d->vol.id, id);
    log_info("volume volume=%s base=%llu incarnation=%llu", id, (unsigned long long)d->vol.base,
             (unsigned long long)d->vol.incarnation);
    return 0;
}

static int tallyd_http_start(struct tallyd *d);

int tallyd_start(struct tallyd *d, uv_loop_t *loop, const struct config *cfg)
{
    char msg[512];
    uint64_t count = 0;
    memset(d, 0, sizeof(*d));
    d->loop = loop;
    d->cfg = *cfg;
    d->start_ms = uv_now(loop);
    int rc = tallyd_handles_init(d);
    if (rc < 0)
        return rc;
    tallyd_addrs_pick(d);

    rc = store_count_load(cfg->data_dir, &count, msg, sizeof(msg));
    if (rc == -EROFS || rc == -EACCES || rc == -EPERM) {
        /* A volume that cannot be written: restarting fixes nothing, so stay
         * up and say why on /readyz instead of crash-looping. */
        snprintf(d->degraded, sizeof(d->degraded), "%s", msg);
        log_error("store_read_only %s (tallyd keeps running, not ready, counting nothing: "
                  "make the volume writable, then delete the pod)",
                  msg);
        return tallyd_http_start(d);
    }
    if (rc < 0) {
        log_error("store_load_failed %s", msg);
        return rc;
    }
    log_info("store_loaded dir=\"%s\" count=%llu sync=%s", cfg->data_dir, (unsigned long long)count,
             config_sync_str(cfg->sync));
    rc = tallyd_volume_start(d, count);
    if (rc < 0)
        return rc;
    rc = commit_new(loop, cfg->data_dir, cfg->sync, cfg->sync_interval_ms, count, &d->commit);
    if (rc < 0) {
        log_error("store_start_failed error=\"%s\"", strerror(-rc));
        return rc;
    }
    rc = tallyd_gossip_start(d, count);
    if (rc < 0) {
        log_error("gossip_start_failed error=\"%s\"", strerror(-rc));
        return rc;
    }
    rc = tallyd_http_start(d);
    if (rc < 0)
        return rc;
    char http_addr[80];
    addr_join(d->listen_ip, cfg->http_port, http_addr, sizeof(http_addr));
    log_info("started name=%s version=%s http=%s gossip=%s incarnation=%llu", cfg->name,
             TALLY_VERSION, http_addr, d->self_addr[0] ? d->self_addr : "-",
             (unsigned long long)gossip_incarnation(d->gossip));
    return 0;
}

static int tallyd_http_start(struct tallyd *d)
{
    const struct config *cfg = &d->cfg;
    struct http_server_config hc = {
        .bind_addr = d->listen_ip,
        .port = cfg->http_port,
        .idle_ms = cfg->idle_ms,
        .max_conns = http_conn_cap(cfg),
        .handler = routes_handle,
        .handler_ctx = d,
        .on_cap_reached = on_http_cap_reached,
    };
    int rc = http_server_start(d->loop, &hc, &d->http);
    if (rc < 0)
        log_error("http_listen_failed addr=%s port=%d error=\"%s\"", d->listen_ip, cfg->http_port,
                  uv_strerror(rc));
    return rc;
}

void tallyd_close(struct tallyd *d)
{
    if (d->stopping)
        return;
    d->stopping = true;
    if (d->http)
        http_server_close(d->http);
    d->http = NULL;
    if (d->commit)
        commit_close(d->commit);
    d->commit = NULL;
    discovery_close(d->dns);
    d->dns = NULL;
    table_saver_close(d->table);
    d->table = NULL;
    /* Nothing drives the core after this: its timer, the sockets and
     * discovery are closed, and so is HTTP, which reads it. The TCP side
     * borrows the UDP side's keys and source filter: it closes first. */
    peer_tcp_close(d->tcp);
    d->tcp = NULL;
    peer_udp_close(d->udp);
    d->udp = NULL;
    gossip_free(d->gossip);
    d->gossip = NULL;
    if (d->handles_init) {
        uv_close((uv_handle_t *)&d->gossip_timer, NULL);
        uv_close((uv_handle_t *)&d->gossip_check, NULL);
        uv_close((uv_handle_t *)&d->drain_timer, NULL);
        uv_close((uv_handle_t *)&d->sig_term, NULL);
        uv_close((uv_handle_t *)&d->sig_int, NULL);
        /* Closing a signal's last handle gives it back to SIG_DFL, which
         * terminates: a SIGTERM between here and exit must not turn a clean
         * stop into a kill. */
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
    }
}
