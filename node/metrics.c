/*
 * metrics.c: GET /metrics in the Prometheus text exposition format (0.0.4).
 * Everything is read from counters the parts already keep; rendering happens
 * only when scraped, so nothing here touches the request path.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "node/buf.h"
#include "node/peer/discovery.h"
#include "node/peer/udp.h"
#include "node/tallyd.h"
#include "node/store/volume_files.h"

static const char *const ROUTE_NAMES[ROUTE__COUNT] = {
    "/", "/count", "/cluster", "/healthz", "/readyz", "/metrics", "/status", "other",
};
static const char *const CODE_NAMES[CODE__COUNT] = {"200", "404", "405", "503", "other"};

static void metric_head(struct buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void metric_u64(struct buf *b, const char *name, const char *type, const char *help,
                       unsigned long long v)
{
    metric_head(b, name, type, help);
    buf_printf(b, "%s %llu\n", name, v);
}

/* buckets[] hold per-bucket counts (see commit.h); Prometheus wants them cumulative. */
static void metric_histogram(struct buf *b, const char *name, const char *help,
                             const uint64_t *buckets, const char *const *les, size_t n_bounds,
                             const char *sum)
{
    uint64_t cum = 0;
    metric_head(b, name, "histogram", help);
    for (size_t i = 0; i <= n_bounds; i++) {
        cum += buckets[i];
        buf_printf(b, "%s_bucket{le=\"%s\"} %llu\n", name, i < n_bounds ? les[i] : "+Inf",
                   (unsigned long long)cum);
    }
    buf_printf(b, "%s_sum %s\n%s_count %llu\n", name, sum, name, (unsigned long long)cum);
}

static void metrics_store(const struct tallyd *d, struct buf *b)
{
    const struct commit_stats *cs = commit_stats_get(d->commit);
    char les_lat[COMMIT_HIST_BOUNDS][24], les_batch[COMMIT_HIST_BOUNDS][24], sum[32];
    const char *lat[COMMIT_HIST_BOUNDS], *bat[COMMIT_HIST_BOUNDS];
    for (int i = 0; i < COMMIT_HIST_BOUNDS; i++) {
        snprintf(les_lat[i], sizeof(les_lat[i]), "%g", commit_latency_bounds[i]);
        snprintf(les_batch[i], sizeof(les_batch[i]), "%llu",
                 (unsigned long long)commit_batch_bounds[i]);
        lat[i] = les_lat[i];
        bat[i] = les_batch[i];
    }
    snprintf(sum, sizeof(sum), "%.6f", cs->latency_sum_s);
    metric_histogram(b, "tally_store_write_seconds",
                     "Time to write and sync the count file once (one group commit).",
                     cs->latency_buckets, lat, COMMIT_HIST_BOUNDS, sum);
    snprintf(sum, sizeof(sum), "%llu", (unsigned long long)cs->batch_sum);
    metric_histogram(b, "tally_store_batch_visits", "Visits made durable by one write.",
                     cs->batch_buckets, bat, COMMIT_HIST_BOUNDS, sum);
    metric_u64(b, "tally_store_writes_total", "counter", "Count file writes completed.",
               cs->commits);
    metric_u64(b, "tally_store_write_errors_total", "counter", "Count file writes that failed.",
               cs->commit_errors);
    metric_u64(b, "tally_store_durable_visits", "gauge", "Count as last written to the file.",
               commit_durable_count(d->commit));
    metric_u64(b, "tally_visit_errors_total", "counter",
               "Visits answered 503 because the count could not be made durable.", d->visit_errors);
    metric_u64(b, "tally_store_healthy", "gauge",
               "1 while the last write of the count file succeeded, 0 while writes fail.",
               commit_last_error(d->commit) == 0 ? 1 : 0);
}

static void metrics_http(const struct tallyd *d, struct buf *b)
{
    metric_head(b, "tally_http_requests_total", "counter",
                "HTTP requests answered, by route and status code.");
    for (int r = 0; r < ROUTE__COUNT; r++)
        for (int c = 0; c < CODE__COUNT; c++)
            if (d->requests[r][c])
                buf_printf(b, "tally_http_requests_total{route=\"%s\",code=\"%s\"} %llu\n",
                           ROUTE_NAMES[r], CODE_NAMES[c], (unsigned long long)d->requests[r][c]);
    if (!d->http)
        return;
    const struct http_server_stats *hs = http_server_stats_get(d->http);
    metric_head(b, "tally_http_rejected_total", "counter",
                "Requests or connections refused before routing, by reason.");
    buf_printf(b, "tally_http_rejected_total{reason=\"malformed\"} %llu\n",
               (unsigned long long)hs->rejected_parse);
    buf_printf(b, "tally_http_rejected_total{reason=\"too_large\"} %llu\n",
               (unsigned long long)hs->rejected_too_large);
    buf_printf(b, "tally_http_rejected_total{reason=\"timeout\"} %llu\n",
               (unsigned long long)hs->timeouts);
    buf_printf(b, "tally_http_rejected_total{reason=\"connection_limit\"} %llu\n",
               (unsigned long long)hs->connections_rejected);
    metric_head(b, "tally_http_rejected_requests_total", "counter",
                "Requests refused before routing, by the status they were answered with.");
    for (int i = 0; i < HTTP_REJ__COUNT; i++)
        buf_printf(b, "tally_http_rejected_requests_total{code=\"%s\"} %llu\n",
                   http_reject_code_str((enum http_reject_code)i),
                   (unsigned long long)hs->rejected_by_code[i]);
    metric_u64(b, "tally_http_conn_cap_reached_total", "counter",
               "Times the open connections reached the cap (--max-conns or the fd limit).",
               hs->cap_reached);
    metric_u64(b, "tally_http_connections_open", "gauge", "Open HTTP connections.",
               hs->connections_open);
    metric_u64(b, "tally_http_connections_open_peak", "gauge",
               "Most HTTP connections open at once (never above the cap).",
               hs->connections_open_peak);
    metric_u64(b, "tally_http_conn_out_bytes_peak", "gauge",
               "Most answer bytes one connection has held unsent (cap + one answer).",
               hs->conn_out_bytes_peak);
    metric_u64(b, "tally_http_connections_total", "counter", "HTTP connections accepted.",
               hs->connections_accepted);
}

static void metrics_durations(const struct tallyd *d, struct buf *b)
{
    const char *name = "tally_http_request_duration_seconds";
    metric_head(b, name, "histogram",
                "Time from a request's arrival at its route to its answer (for GET /, "
                "including the wait for the count file's sync), by route.");
    for (int r = 0; r < ROUTE__COUNT; r++) {
        uint64_t cum = 0;
        for (int i = 0; i <= REQ_DUR_BOUNDS; i++) {
            char le[24];
            cum += d->req_dur_buckets[r][i];
            if (i < REQ_DUR_BOUNDS)
                snprintf(le, sizeof(le), "%g", tallyd_req_dur_bounds[i]);
            buf_printf(b, "%s_bucket{route=\"%s\",le=\"%s\"} %llu\n", name, ROUTE_NAMES[r],
                       i < REQ_DUR_BOUNDS ? le : "+Inf", (unsigned long long)cum);
        }
        buf_printf(b, "%s_sum{route=\"%s\"} %.6f\n%s_count{route=\"%s\"} %llu\n", name,
                   ROUTE_NAMES[r], d->req_dur_sum[r], name, ROUTE_NAMES[r],
                   (unsigned long long)cum);
    }
}

/* When the process started, as client_golang reads it: the boot time from
 * /proc/stat plus the start in clock ticks from /proc/self/stat (field 22,
 * counted after the command name, which may hold spaces and parentheses). */
static int metrics_process_start(double *out)
{
    char line[1024];
    unsigned long long btime = 0, ticks = 0;
    bool found = false;
    FILE *f = fopen("/proc/stat", "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "btime %llu", &btime) == 1) {
            found = true;
            break;
        }
    fclose(f);
    f = fopen("/proc/self/stat", "re");
    if (!f)
        return -1;
    size_t n = fread(line, 1, sizeof(line) - 1, f);
    fclose(f);
    line[n] = '\0';
    const char *p = strrchr(line, ')');
    /* after ")": state is field 3, starttime field 22 */
    if (!found || !p ||
        sscanf(p + 1,
               " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d "
               "%*d %*d %*d %*d %*d %llu",
               &ticks) != 1)
        return -1;
    long hz = sysconf(_SC_CLK_TCK);
    *out = (double)btime + (double)ticks / (double)(hz > 0 ? hz : 100);
    return 0;
}

/* The process_* metrics every Prometheus client library exports, from
 * /proc and getrusage: read only when scraped. */
static void metrics_process(const struct tallyd *d, struct buf *b)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
        metric_head(b, "process_cpu_seconds_total", "counter",
                    "Total user and system CPU time spent in seconds.");
        buf_printf(b, "process_cpu_seconds_total %.6f\n", cpu);
    }
    unsigned long long vsize_pages = 0, rss_pages = 0;
    FILE *f = fopen("/proc/self/statm", "re");
    if (f) {
        if (fscanf(f, "%llu %llu", &vsize_pages, &rss_pages) == 2) {
            unsigned long long page = (unsigned long long)sysconf(_SC_PAGESIZE);
            metric_u64(b, "process_resident_memory_bytes", "gauge",
                       "Resident memory size in bytes.", rss_pages * page);
            metric_u64(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
                       vsize_pages * page);
        }
        fclose(f);
    }
    DIR *dir = opendir("/proc/self/fd");
    if (dir) {
        unsigned long long n = 0;
        for (struct dirent *e; (e = readdir(dir));)
            if (e->d_name[0] != '.')
                n++;
        closedir(dir);
        metric_u64(b, "process_open_fds", "gauge", "Number of open file descriptors.",
                   n ? n - 1 : 0); /* less the one reading the directory */
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        metric_u64(b, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
                   (unsigned long long)rl.rlim_cur);
    double start;
    if (metrics_process_start(&start) == 0) {
        metric_head(b, "process_start_time_seconds", "gauge",
                    "Start time of the process since unix epoch in seconds.");
        buf_printf(b, "process_start_time_seconds %.2f\n", start);
    }
}

void metrics_members_by_state(const struct gossip *g, uint64_t out[TALLYD_MEMBER_STATES])
{
    memset(out, 0, TALLYD_MEMBER_STATES * sizeof(out[0]));
    size_t n = gossip_member_count(g);
    for (size_t i = 0; i < n; i++) {
        const struct gossip_member *m = gossip_member_at(g, i);
        if ((unsigned)m->state < TALLYD_MEMBER_STATES)
            out[m->state]++;
    }
}

static void metrics_gossip(const struct tallyd *d, struct buf *b)
{
    uint64_t by_state[TALLYD_MEMBER_STATES];
    metrics_members_by_state(d->gossip, by_state);
    metric_head(b, "tally_gossip_members", "gauge",
                "Members of the table by state, self included.");
    for (int s = 0; s < TALLYD_MEMBER_STATES; s++)
        buf_printf(b, "tally_gossip_members{state=\"%s\"} %llu\n",
                   gossip_state_str((enum gossip_state)s), (unsigned long long)by_state[s]);
    const struct gossip_stats *gs = gossip_stats_get(d->gossip);
    metric_head(b, "tally_gossip_datagrams_total", "counter", "Gossip datagrams by direction.");
    buf_printf(b, "tally_gossip_datagrams_total{direction=\"in\"} %llu\n",
               (unsigned long long)gs->datagrams_in);
    buf_printf(b, "tally_gossip_datagrams_total{direction=\"out\"} %llu\n",
               (unsigned long long)gs->datagrams_out);
    metric_head(b, "tally_gossip_bytes_total", "counter", "Gossip payload bytes by direction.");
    buf_printf(b, "tally_gossip_bytes_total{direction=\"in\"} %llu\n",
               (unsigned long long)gs->bytes_in);
    buf_printf(b, "tally_gossip_bytes_total{direction=\"out\"} %llu\n",
               (unsigned long long)gs->bytes_out);
    metric_head(b, "tally_gossip_dropped_total", "counter", "Gossip datagrams dropped, by reason.");
    for (int r = 0; r < GOSSIP_DROP__COUNT; r++)
        buf_printf(b, "tally_gossip_dropped_total{reason=\"%s\"} %llu\n",
                   gossip_drop_str((enum gossip_drop)r), (unsigned long long)gs->dropped[r]);
    metric_head(b, "tally_gossip_pushpull_total", "counter",
                "Full-state exchanges over TCP (push-pull) and their drops, by result.");
    for (int r = 0; r < GOSSIP_PP__COUNT; r++)
        buf_printf(b, "tally_gossip_pushpull_total{result=\"%s\"} %llu\n",
                   gossip_pushpull_str((enum gossip_pushpull_result)r),
                   (unsigned long long)gs->pushpull[r]);
    metric_head(b, "tally_gossip_pushpull_bytes_total", "counter",
                "Push-pull frame bytes (before sealing) by direction.");
    buf_printf(b, "tally_gossip_pushpull_bytes_total{direction=\"in\"} %llu\n",
               (unsigned long long)gs->pushpull_bytes_in);
    buf_printf(b, "tally_gossip_pushpull_bytes_total{direction=\"out\"} %llu\n",
               (unsigned long long)gs->pushpull_bytes_out);
    metric_u64(b, "tally_gossip_suspicions_total", "counter",
               "Times a member went alive to suspect.", gs->suspicions);
    metric_u64(b, "tally_gossip_refutations_total", "counter",
               "Times this pod raised its incarnation to refute a claim about itself.",
               gs->refutations);
    metric_u64(b, "tally_gossip_syncs_total", "counter",
               "SYNC answers that left this pod holding a peer's whole table.", gs->syncs);
    metric_u64(b, "tally_slot_moves_total", "counter",
               "Times a peer held more for this volume's slot than it counted (a volume that "
               "went back in time).",
               gs->slot_moves);
    metric_u64(b, "tally_duplicate_name_total", "counter",
               "Times another live process was seen speaking for this pod's name.", gs->duplicates);
    metric_u64(b, "tally_duplicate_name", "gauge",
               "1 while another live process speaks for this pod's name (see the log).",
               tallyd_duplicate_active(d) ? 1 : 0);
    metric_u64(b, "tally_table_saves_total", "counter",
               "Times the cluster table was saved to the volume.", table_saver_saves(d->table));
    metric_u64(b, "tally_table_save_errors_total", "counter",
               "Times saving the cluster table to the volume failed.",
               table_saver_errors(d->table));
    metric_u64(b, "tally_gossip_send_errors_total", "counter",
               "Datagrams the kernel refused to send.", peer_udp_send_errors(d->udp));
    if (peer_udp_sealed(d->udp))
        metric_u64(b, "tally_gossip_key_reloads_total", "counter",
                   "Times a changed --key-file was loaded without a restart.",
                   peer_udp_key_reloads(d->udp));
    /* A gauge, not a counter: it is this pod's view and can step back when
     * a member is forgotten, so it carries no _total suffix. */
    metric_u64(b, "tally_cluster_visits", "gauge",
               "Visits served by every pod ever seen, as this pod knows them.",
               gossip_total(d->gossip));
    if (d->dns) {
        metric_u64(b, "tally_dns_lookups_total", "counter", "Discovery DNS lookups made.",
                   discovery_lookups(d->dns));
        metric_u64(b, "tally_dns_failures_total", "counter", "Discovery DNS lookups that failed.",
                   discovery_failures(d->dns));
    }
}

void metrics_render(const struct tallyd *d, struct buf *b)
{
    metric_head(b, "tally_build_info", "gauge",
                "Build of tallyd and the gossip protocol versions it speaks; always 1.");
    buf_printf(b, "tally_build_info{version=\"%s\",protocol_min=\"%d\",protocol_max=\"%d\"} 1\n",
               TALLY_VERSION, TALLYD_PROTO_MIN, TALLYD_PROTO_MAX);
    /* The runtime setting, apart from the build: an info-style gauge. */
    metric_head(b, "tally_sync_mode", "gauge",
                "When a visit is acknowledged (--sync): 1 for the mode in use.");
    for (int m = COMMIT_SYNC_ALWAYS; m <= COMMIT_SYNC_NONE; m++)
        buf_printf(b, "tally_sync_mode{mode=\"%s\"} %d\n", config_sync_str((enum commit_sync)m),
                   d->cfg.sync == (enum commit_sync)m);
    metric_u64(b, "tally_visits_total", "counter", "Visits this pod has counted.",
               commit_count(d->commit));
    metric_u64(b, "tally_ready", "gauge", "1 when /readyz answers 200.",
               tallyd_not_ready(d) == READINESS_READY ? 1 : 0);
    metric_u64(b, "tally_uptime_seconds", "gauge", "Seconds since this process started.",
               (tallyd_now_ms(d) - d->start_ms) / 1000);
    metrics_store(d, b);
    metrics_http(d, b);
    metrics_durations(d, b);
    metrics_gossip(d, b);
    metrics_process(d, b);
}
