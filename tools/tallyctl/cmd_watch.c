/*
 * cmd_watch.c: `tallyctl cluster --watch`, the live cluster page's view in a
 * terminal. GET /cluster once a second until interrupted:
 *
 *   - on a terminal, the `tallyctl cluster` table is redrawn in place, under
 *     a line saying when it was fetched, or since when tallyd has not
 *     answered (the last table stays, so the numbers are not lost);
 *   - piped (a log, grep, a script), one line per change: the first fetch
 *     gives a line per pod and the total, then a line for each pod that
 *     appears, changes state or count, or disappears, one when the total
 *     moves, and one when tallyd stops or starts answering. Nothing is
 *     printed while nothing changes.
 *
 * The change lines come from ctl_watch_changes(), a pure function of two
 * answers, so the unit tests pin them.
 */
#include "tools/tallyctl/tallyctl.h"

#include "tools/tallyctl/fmt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WATCH_PERIOD_MS 1000

/* Writes s, a name from the network, escaped as every table escapes it
 * (fmt_safe: controls, C1 included, and invalid UTF-8 as \xNN; bidi
 * overrides as \uNNNN), so it cannot move the cursor or clear a terminal. */
static void watch_put(FILE *out, const char *s)
{
    char *safe = fmt_safe_dup(s);
    fputs(safe ? safe : "?", out);
    free(safe);
}

static const struct json *watch_find(const struct json *pods, const char *name)
{
    size_t n = json_len(pods);
    for (size_t i = 0; i < n; i++) {
        const struct json *p = json_at(pods, i);
        if (!strcmp(json_get_str(p, "name", ""), name))
            return p;
    }
    return NULL;
}

/* "+3" or "-2": how a count moved. */
static void watch_delta(uint64_t was, uint64_t now, char *out, size_t cap)
{
    if (now >= was)
        snprintf(out, cap, "+%llu", (unsigned long long)(now - was));
    else
        snprintf(out, cap, "-%llu", (unsigned long long)(was - now));
}

int ctl_watch_changes(const struct json *prev, const struct json *cur, const char *stamp, FILE *out)
{
    const struct json *pods = json_get(cur, "pods");
    uint64_t total;
    if (json_type_of(pods) != JSON_ARRAY || json_u64(json_get(cur, "total"), &total))
        return -EINVAL;
    const struct json *old_pods = prev ? json_get(prev, "pods") : NULL;
    size_t n;
    const struct json **rows = ctl_pods_sorted(pods, &n);
    if (!rows)
        return -ENOMEM;
    int lines = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = json_get_str(rows[i], "name", "?");
        const char *state = json_get_str(rows[i], "state", "?");
        uint64_t visits = json_get_u64(rows[i], "visits", 0);
        const struct json *was = old_pods ? watch_find(old_pods, name) : NULL;
        char why[64] = "";
        if (prev && !was) {
            snprintf(why, sizeof(why), " (new)");
        } else if (was) {
            const char *was_state = json_get_str(was, "state", "?");
            uint64_t was_visits = json_get_u64(was, "visits", 0);
            char d[24];
            watch_delta(was_visits, visits, d, sizeof(d));
            if (strcmp(was_state, state) && was_visits != visits)
                snprintf(why, sizeof(why), " (was %s, %s)", was_state, d);
            else if (strcmp(was_state, state))
                snprintf(why, sizeof(why), " (was %s)", was_state);
            else if (was_visits != visits)
                snprintf(why, sizeof(why), " (%s)", d);
            else
                continue; /* unchanged */
        }
        fprintf(out, "%s ", stamp);
        watch_put(out, name);
        fprintf(out, " %s %llu visit%s%s\n", state, (unsigned long long)visits,
                visits == 1 ? "" : "s", why);
        lines++;
    }
    free(rows);
    /* a member never leaves tallyd's table, but an answer from another pod can lack one */
    size_t m = json_len(old_pods);
    for (size_t i = 0; i < m; i++) {
        const char *name = json_get_str(json_at(old_pods, i), "name", "?");
        if (!watch_find(pods, name)) {
            fprintf(out, "%s ", stamp);
            watch_put(out, name);
            fprintf(out, " no longer listed\n");
            lines++;
        }
    }
    uint64_t was_total = 0;
    bool had_total = prev && !json_u64(json_get(prev, "total"), &was_total);
    if (!had_total || was_total != total) {
        char d[32] = "", dd[24];
        if (had_total) {
            watch_delta(was_total, total, dd, sizeof(dd));
            snprintf(d, sizeof(d), " (%s)", dd);
        }
        fprintf(out, "%s total %llu visit%s%s (as seen by ", stamp, (unsigned long long)total,
                total == 1 ? "" : "s", d);
        watch_put(out, json_get_str(cur, "pod", "?"));
        fprintf(out, ")\n");
        lines++;
    }
    return lines;
}

static void watch_stamp(char *out, size_t cap)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static uint64_t watch_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void watch_sleep_ms(uint64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The table, each line cleared to its end so a shorter row leaves nothing
 * of the longer one it overwrites. */
static void watch_table(const struct json *doc, FILE *out)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return;
    ctl_cluster_render(doc, mem);
    if (fclose(mem) == 0)
        for (size_t i = 0; i < len; i++) {
            if (text[i] == '\n')
                fputs("\033[K", out);
            fputc(text[i], out);
        }
    free(text);
}

/* One redraw on a terminal: home, the header line, the table, clear the rest. */
static void watch_draw(const struct ctl_opts *o, const struct json *doc, const char *stamp,
                       const char *down_since, const char *why, FILE *out)
{
    fputs("\033[H", out);
    if (down_since)
        fprintf(out,
                "%s: NOT ANSWERING since %s (%s); the table is from before. Retrying "
                "every second, Ctrl-C to stop.\033[K\n\033[K\n",
                o->url, down_since, why);
    else
        fprintf(out, "%s at %s, every second; Ctrl-C to stop.\033[K\n\033[K\n", o->url, stamp);
    if (doc)
        watch_table(doc, out);
    fputs("\033[J", out);
}

int cmd_cluster_watch(const struct ctl_opts *o, FILE *out, FILE *errout)
{
    bool tty = isatty(fileno(out));
    struct json *last = NULL;
    char down_since[32] = "", why[512];
    if (tty)
        fputs("\033[H\033[2J", out);
    for (;;) {
        uint64_t start = watch_now_ms();
        char stamp[32], err[512];
        struct json *doc;
        watch_stamp(stamp, sizeof(stamp));
        if (ctl_fetch_json(o, "/cluster", &doc, NULL, err, sizeof(err)) == 0 &&
            json_type_of(json_get(doc, "pods")) == JSON_ARRAY) {
            if (!tty && down_since[0])
                fprintf(out, "%s tallyd answering again on %s\n", stamp, o->url);
            down_since[0] = '\0';
            if (tty)
                watch_draw(o, doc, stamp, NULL, NULL, out);
            else if (ctl_watch_changes(last, doc, stamp, out) < 0)
                fprintf(out, "%s tallyd's /cluster lacks total or pods: is this tallyd?\n", stamp);
            json_free(last);
            last = doc;
        } else {
            if (doc) {
                json_free(doc);
                snprintf(err, sizeof(err), "its /cluster has no pods list: is this tallyd?");
            }
            if (!down_since[0]) {
                snprintf(down_since, sizeof(down_since), "%s", stamp);
                snprintf(why, sizeof(why), "%s", err);
                if (!tty)
                    fprintf(out, "%s %s\n", stamp, err);
            }
            if (tty)
                watch_draw(o, last, stamp, down_since, why, out);
        }
        if (fflush(out) != 0 || ferror(out)) {
            /* the reader went away (a closed pipe): nobody is watching */
            json_free(last);
            fprintf(errout, "tallyctl: cannot write the watch output\n");
            return CTL_EXIT_FAIL;
        }
        uint64_t spent = watch_now_ms() - start;
        if (spent < WATCH_PERIOD_MS)
            watch_sleep_ms(WATCH_PERIOD_MS - spent);
    }
}
