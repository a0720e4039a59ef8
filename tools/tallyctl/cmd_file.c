/*
 * cmd_file.c: `tallyctl file [DIR]`, the count file and the volume file as
 * tallyd would read them (format/volume.h: which counter slot this volume
 * is), and how the count compares with the running tallyd. The file is read BEFORE
 * /status is fetched: the count only grows, so a correct tallyd then always
 * reports durable >= file, and "file ahead" is a real anomaly, not a race.
 * Works without tallyd (the comparison is then skipped and said so).
 */
#include "tools/tallyctl/tallyctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "format/volume.h"
#include "tools/tallyctl/countfile.h"
#include "tools/tallyctl/fmt.h"

static const char *const file_states[] = {"ok", "missing", "no_dir", "corrupt", "unreadable"};
static const char *const file_verdicts[] = {"matches", "behind", "ahead"};

struct file_report {
    struct countfile cf;
    bool compared;
    uint64_t visits, durable, behind;
    enum countfile_verdict verdict;
    char note[600]; /* why there was no comparison */
    /* DATA_DIR/volume */
    int vol_rc; /* 0, -ENOENT (none yet), other: vol_why */
    struct volume_info vol;
    char vol_why[4400];
};

/* Read DIR/volume as tallyd does (regular file, small, strict parse). */
static void file_volume_read(const char *dir, struct file_report *r)
{
    char path[4096], text[VOLUME_TEXT_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, VOLUME_FILE);
    FILE *f = fopen(path, "re");
    if (!f) {
        r->vol_rc = -errno;
        if (r->vol_rc != -ENOENT)
            snprintf(r->vol_why, sizeof(r->vol_why), "cannot read %s: %s", path, strerror(errno));
        return;
    }
    size_t n = fread(text, 1, sizeof(text), f);
    fclose(f);
    if (n == sizeof(text)) {
        r->vol_rc = -EFBIG;
        snprintf(r->vol_why, sizeof(r->vol_why), "%s is too big to be a volume file", path);
        return;
    }
    char why[160];
    r->vol_rc = volume_parse(text, n, &r->vol, why, sizeof(why));
    if (r->vol_rc < 0)
        snprintf(r->vol_why, sizeof(r->vol_why), "%s is corrupt: %s", path, why);
}

/* Is tallyd's data_dir the directory we read? Same device and inode, so
 * "/data" and "/data/" or a symlink count as one. */
static bool file_same_dir(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
        return strcmp(a, b) == 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void file_compare(const struct ctl_opts *o, struct file_report *r)
{
    struct json *st;
    char err[512];
    if (ctl_fetch_json(o, "/status", &st, NULL, err, sizeof(err))) {
        snprintf(r->note, sizeof(r->note), "not compared: %s", err);
        return;
    }
    const char *dir = json_get_str(st, "data_dir", NULL);
    if (json_u64(json_get(st, "visits"), &r->visits)) {
        snprintf(r->note, sizeof(r->note), "not compared: tallyd's /status has no visits");
    } else if (dir && !file_same_dir(dir, o->data_dir)) {
        snprintf(r->note, sizeof(r->note), "not compared: tallyd on %s uses data dir %s", o->url,
                 dir);
    } else {
        r->durable = json_get_u64(st, "durable", r->visits);
        /* visits.txt holds this volume's slot; /status's visits are the
         * pod's every slot: compare with the file's own numbers */
        const struct json *file = json_get(st, "file");
        if (file) {
            r->visits = json_get_u64(file, "visits", r->visits);
            r->durable = json_get_u64(file, "durable", r->durable);
        }
        r->compared = true;
        r->verdict = countfile_compare(r->cf.count, r->visits, r->durable, &r->behind);
    }
    json_free(st);
}

static void file_json_print(const struct ctl_opts *o, const struct file_report *r, FILE *out)
{
    const struct countfile *cf = &r->cf;
    bool exists = cf->state == COUNTFILE_OK || cf->state == COUNTFILE_CORRUPT;
    fprintf(out, "{\"path\": ");
    json_write_str(out, cf->path);
    fprintf(out, ", \"state\": \"%s\"", file_states[cf->state]);
    if (cf->state == COUNTFILE_OK || cf->state == COUNTFILE_MISSING)
        fprintf(out, ", \"count\": %llu", (unsigned long long)cf->count);
    if (exists)
        fprintf(out, ", \"size\": %llu, \"mtime\": %lld", (unsigned long long)cf->size,
                (long long)cf->mtime);
    if (cf->why[0] && cf->state != COUNTFILE_MISSING) {
        fprintf(out, ", \"error\": ");
        json_write_str(out, cf->why);
    }
    if (r->vol_rc == 0) {
        char id[VOLUME_ID_HEXLEN + 1];
        volume_id_hex(r->vol.id, id);
        fprintf(out, ", \"volume\": {\"id\": \"%s\", \"base\": %llu, \"incarnation\": %llu}", id,
                (unsigned long long)r->vol.base, (unsigned long long)r->vol.incarnation);
    } else if (r->vol_rc != -ENOENT) {
        fprintf(out, ", \"volume_error\": ");
        json_write_str(out, r->vol_why);
    }
    if (r->compared) {
        fprintf(out, ", \"tallyd\": {\"url\": ");
        json_write_str(out, o->url);
        fprintf(out,
                ", \"visits\": %llu, \"durable\": %llu}, \"verdict\": \"%s\", \"behind\": %llu",
                (unsigned long long)r->visits, (unsigned long long)r->durable,
                file_verdicts[r->verdict], (unsigned long long)r->behind);
    } else if (r->note[0]) {
        fprintf(out, ", \"verdict\": \"not_compared\", \"note\": ");
        json_write_str(out, r->note);
    }
    fprintf(out, "}\n");
}

static void file_text_print(const struct ctl_opts *o, const struct file_report *r, FILE *out)
{
    const struct countfile *cf = &r->cf;
    char when[48], ago[48];
    fprintf(out, "%-9s %s\n", "file", cf->path);
    switch (cf->state) {
    case COUNTFILE_OK:
        fprintf(out, "%-9s %llu\n", "count", (unsigned long long)cf->count);
        break;
    case COUNTFILE_MISSING:
        fprintf(out, "%-9s none: no count file, a fresh volume (tallyd starts at 0)\n", "count");
        break;
    case COUNTFILE_NO_DIR:
        fprintf(out, "%-9s %s\n", "problem", cf->why);
        return;
    case COUNTFILE_CORRUPT:
        fprintf(out, "%-9s CORRUPT: %s; tallyd refuses to start on it\n", "count", cf->why);
        break;
    case COUNTFILE_UNREADABLE:
        fprintf(out, "%-9s cannot read it: %s\n", "problem", cf->why);
        return;
    }
    if (cf->state != COUNTFILE_MISSING) {
        time_t now = time(NULL);
        fmt_utc(cf->mtime, when, sizeof(when));
        fmt_ago(now > cf->mtime ? (uint64_t)(now - cf->mtime) * 1000 : 0, ago, sizeof(ago));
        fprintf(out, "%-9s %llu bytes\n", "size", (unsigned long long)cf->size);
        fprintf(out, "%-9s %s (%s)\n", "modified", when, ago);
    }
    if (r->vol_rc == 0) {
        char id[VOLUME_ID_HEXLEN + 1];
        volume_id_hex(r->vol.id, id);
        fprintf(out, "%-9s %s (counter slot; base %llu, incarnation %llu)\n", "volume", id,
                (unsigned long long)r->vol.base, (unsigned long long)r->vol.incarnation);
    } else if (r->vol_rc == -ENOENT) {
        fprintf(out, "%-9s none yet: tallyd draws a slot id at its first start here\n", "volume");
    } else {
        fprintf(out, "%-9s CORRUPT: %s; tallyd refuses to start on it\n", "volume", r->vol_why);
    }
    if (cf->state == COUNTFILE_CORRUPT)
        return;
    if (!r->compared) {
        fprintf(out, "%-9s %s\n", "tallyd", r->note);
        return;
    }
    fprintf(out, "%-9s %llu visits, %llu durable (%s)\n", "tallyd", (unsigned long long)r->visits,
            (unsigned long long)r->durable, o->url);
    if (r->verdict == COUNTFILE_MATCHES)
        fprintf(out, "%-9s matches\n", "verdict");
    else if (r->verdict == COUNTFILE_BEHIND)
        fprintf(out, "%-9s file behind by %llu (a write is pending)\n", "verdict",
                (unsigned long long)r->behind);
    else
        fprintf(out, "%-9s file AHEAD of tallyd: unexpected (file %llu > durable %llu)\n",
                "verdict", (unsigned long long)cf->count, (unsigned long long)r->durable);
}

int cmd_file(const struct ctl_opts *o, FILE *out, FILE *errout)
{
    struct file_report *r = calloc(1, sizeof(*r));
    if (!r) {
        fprintf(errout, "tallyctl: out of memory\n");
        return CTL_EXIT_FAIL;
    }
    countfile_read(o->data_dir, &r->cf);
    if (r->cf.state != COUNTFILE_NO_DIR)
        file_volume_read(o->data_dir, r);
    if (r->cf.state == COUNTFILE_OK || r->cf.state == COUNTFILE_MISSING)
        file_compare(o, r);
    if (o->json)
        file_json_print(o, r, out);
    else
        file_text_print(o, r, out);
    int rc = CTL_EXIT_OK;
    if (r->cf.state != COUNTFILE_OK && r->cf.state != COUNTFILE_MISSING)
        rc = CTL_EXIT_FAIL;
    if (r->compared && r->verdict == COUNTFILE_AHEAD)
        rc = CTL_EXIT_FAIL;
    if (r->vol_rc < 0 && r->vol_rc != -ENOENT)
        rc = CTL_EXIT_FAIL;
    free(r);
    return rc;
}
