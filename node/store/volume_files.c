/*
 * store/volume_files.c: reading and writing DATA_DIR/volume and
 * DATA_DIR/cluster.table (see volume_files.h for why they exist).
 *
 * The table is rendered on the loop thread (it reads the gossip table, which
 * only the loop may touch) into a buffer the save owns, and written on the
 * thread pool, so a slow volume never stalls gossip or HTTP. One save runs at
 * a time; a change during a save is picked up by the next poll.
 */
#include "node/store/volume_files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/table.h"
#include "node/store/count_file.h"

/* ------------------------------------------------------------------------ */
/* The volume file                                                          */

static int volume_new_id(uint64_t *id)
{
    do {
        int rc = uv_random(NULL, NULL, id, sizeof(*id), 0, NULL);
        if (rc < 0)
            return rc;
    } while (*id == 0);
    return 0;
}

static int volume_write(const char *dir, const struct volume_info *v)
{
    char text[VOLUME_TEXT_MAX];
    int n = volume_format(v, text, sizeof(text));
    if (n < 0)
        return n;
    return store_file_replace(dir, VOLUME_FILE, text, (size_t)n, 1);
}

int volume_start(const char *dir, struct volume_info *out, char *msg, size_t msg_len)
{
    char text[VOLUME_TEXT_MAX], why[160];
    size_t got = 0;
    struct volume_info v = {0};
    int rc = store_file_slurp(dir, VOLUME_FILE, text, sizeof(text), &got);
    if (rc == -ENOENT) {
        rc = volume_new_id(&v.id);
        if (rc < 0) {
            snprintf(msg, msg_len, "cannot draw a volume id: %s", uv_strerror(rc));
            return rc;
        }
    } else if (rc < 0) {
        snprintf(msg, msg_len, "volume file %s/%s: %s", dir, VOLUME_FILE,
                 rc == -EINVAL  ? "not a regular file"
                 : rc == -EFBIG ? "too big to be a volume file"
                                : strerror(-rc));
        return rc;
    } else if ((rc = volume_parse(text, got, &v, why, sizeof(why))) < 0) {
        snprintf(msg, msg_len, "volume file %s/%s is corrupt: %s", dir, VOLUME_FILE, why);
        return rc;
    }
    if (v.incarnation < PROTO_VALUE_MAX)
        v.incarnation++;
    rc = volume_write(dir, &v);
    if (rc < 0) {
        snprintf(msg, msg_len, "cannot write volume file %s/%s: %s", dir, VOLUME_FILE,
                 strerror(-rc));
        return rc;
    }
    *out = v;
    return 0;
}

int volume_move(const char *dir, struct volume_info *v, uint64_t base)
{
    struct volume_info n = *v;
    int rc = volume_new_id(&n.id);
    if (rc < 0)
        return rc;
    n.base = base;
    rc = volume_write(dir, &n);
    if (rc == 0)
        *v = n;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The table: load                                                          */

struct table_load_ctx {
    struct gossip *g;
    uint64_t now_ms;
};

static int table_load_row(void *arg, const struct table_row *r)
{
    struct table_load_ctx *c = arg;
    int rc = gossip_member_load(c->g, c->now_ms, r->name, r->addr, r->incarnation, r->heartbeat,
                                (enum gossip_state)r->state);
    for (unsigned k = 0; rc == 0 && k < r->n_slots; k++)
        rc = gossip_slot_load(c->g, c->now_ms, r->name, r->slots[k].vol, r->slots[k].count);
    return rc;
}

/* The file for the largest table we keep: every member's line at its longest. */
static size_t table_text_cap(size_t members)
{
    return sizeof(TABLE_HEADER) + members * (TABLE_LINE_MAX + 1);
}

int table_file_load(const char *dir, struct gossip *g, uint64_t now_ms, char *msg, size_t msg_len)
{
    char why[160];
    size_t cap = table_text_cap(GOSSIP_MAX_MEMBERS), got = 0;
    char *text = malloc(cap);
    if (!text) {
        snprintf(msg, msg_len, "out of memory reading %s/%s", dir, TABLE_FILE);
        return -ENOMEM;
    }
    int rc = store_file_slurp(dir, TABLE_FILE, text, cap, &got);
    if (rc == -ENOENT) {
        free(text);
        return 0; /* a first start on this volume */
    }
    if (rc < 0) {
        snprintf(msg, msg_len, "cluster table %s/%s: %s", dir, TABLE_FILE,
                 rc == -EINVAL ? "not a regular file" : strerror(-rc));
        free(text);
        return rc;
    }
    struct table_load_ctx c = {.g = g, .now_ms = now_ms};
    why[0] = '\0';
    rc = table_parse(text, got, table_load_row, &c, why, sizeof(why));
    free(text);
    if (rc == -ENOSPC)
        snprintf(msg, msg_len, "cluster table %s/%s holds more members than --max-members", dir,
                 TABLE_FILE);
    else if (rc < 0)
        snprintf(msg, msg_len,
                 "cluster table %s/%s is corrupt: %s (move it away to start without it: "
                 "departed pods' counts then come from live peers only)",
                 dir, TABLE_FILE, why[0] ? why : strerror(-rc));
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The table: save                                                          */

struct table_saver {
    uv_loop_t *loop;
    struct gossip *g;
    char *dir;
    uint32_t min_interval_ms;
    uv_work_t work;
    bool busy, closing;
    uint64_t saved_version, last_ms;
    char *text; /* rendered by the loop, written by the pool */
    size_t len;
    int result;
    uint64_t saves, errors;
};

static int table_render(const struct gossip *g, char **out, size_t *len)
{
    size_t n = gossip_member_count(g), cap = table_text_cap(n), used;
    char *text = malloc(cap);
    if (!text)
        return -ENOMEM;
    used = (size_t)snprintf(text, cap, "%s", TABLE_HEADER);
    for (size_t i = 0; i < n; i++) {
        const struct gossip_member *m = gossip_member_at(g, i);
        struct table_row r;
        memset(&r, 0, sizeof(r));
        memcpy(r.name, m->name, sizeof(r.name));
        memcpy(r.addr, m->addr, sizeof(r.addr));
        r.incarnation = m->incarnation;
        r.heartbeat = m->heartbeat;
        r.state = (uint8_t)m->state;
        r.n_slots = m->n_slots;
        memcpy(r.slots, m->slots, m->n_slots * sizeof(r.slots[0]));
        int k = table_row_format(&r, text + used, cap - used);
        if (k < 0) {
            free(text);
            return k;
        }
        used += (size_t)k;
    }
    *out = text;
    *len = used;
    return 0;
}

int table_saver_new(uv_loop_t *loop, const char *dir, struct gossip *g, uint32_t min_interval_ms,
                    struct table_saver **out)
{
    struct table_saver *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->dir = strdup(dir);
    if (!t->dir) {
        free(t);
        return -ENOMEM;
    }
    t->loop = loop;
    t->g = g;
    t->min_interval_ms = min_interval_ms;
    t->saved_version = gossip_table_version(g);
    t->work.data = t;
    *out = t;
    return 0;
}

static void table_saver_free(struct table_saver *t)
{
    free(t->text);
    free(t->dir);
    free(t);
}

static void table_save_work(uv_work_t *w)
{
    struct table_saver *t = w->data;
    t->result = store_file_replace(t->dir, TABLE_FILE, t->text, t->len, 1);
}

static void table_save_done(uv_work_t *w, int status)
{
    struct table_saver *t = w->data;
    t->busy = false;
    free(t->text);
    t->text = NULL;
    if (status < 0 || t->result < 0)
        t->errors++;
    else
        t->saves++;
    if (t->closing)
        table_saver_free(t);
}

void table_saver_poll(struct table_saver *t, uint64_t now_ms)
{
    uint64_t v = gossip_table_version(t->g);
    if (t->busy || t->closing || v == t->saved_version || now_ms - t->last_ms < t->min_interval_ms)
        return;
    if (table_render(t->g, &t->text, &t->len) < 0) {
        t->errors++;
        return;
    }
    t->saved_version = v;
    t->last_ms = now_ms;
    if (uv_queue_work(t->loop, &t->work, table_save_work, table_save_done) < 0) {
        free(t->text);
        t->text = NULL;
        t->errors++;
        return;
    }
    t->busy = true;
}

int table_saver_save_now(struct table_saver *t)
{
    char *text;
    size_t len;
    int rc = table_render(t->g, &text, &len);
    if (rc == 0) {
        rc = store_file_replace(t->dir, TABLE_FILE, text, len, 1);
        free(text);
    }
    if (rc < 0)
        t->errors++;
    else
        t->saves++;
    return rc;
}

uint64_t table_saver_saves(const struct table_saver *t)
{
    return t ? t->saves : 0;
}

uint64_t table_saver_errors(const struct table_saver *t)
{
    return t ? t->errors : 0;
}

void table_saver_close(struct table_saver *t)
{
    if (!t)
        return;
    if (t->busy) {
        t->closing = true; /* freed when the save in flight is done */
        return;
    }
    table_saver_free(t);
}
