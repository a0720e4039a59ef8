/*
 * countfile.h: reading DATA_DIR/visits.txt exactly as tallyd does, for
 * `tallyctl file`: the same parser (format/count.h), plus what only an
 * operator's tool reports (a missing file is a fresh volume, a missing
 * directory an unmounted volume, the size and age of the file).
 */
#ifndef TALLYCTL_COUNTFILE_H
#define TALLYCTL_COUNTFILE_H

#include <stddef.h>
#include <stdint.h>

#include "format/count.h"

#define COUNTFILE_NAME COUNT_TEXT_FILE

enum countfile_state {
    COUNTFILE_OK,         /* holds a valid count */
    COUNTFILE_MISSING,    /* no file: a fresh volume, tallyd starts at 0 */
    COUNTFILE_NO_DIR,     /* the data directory itself is missing: volume not mounted */
    COUNTFILE_CORRUPT,    /* tallyd would refuse to start on it */
    COUNTFILE_UNREADABLE, /* permissions, I/O error */
};

struct countfile {
    enum countfile_state state;
    char path[4096];
    uint64_t count; /* when OK */
    uint64_t size;  /* bytes, when it exists */
    int64_t mtime;  /* seconds since the epoch, when it exists */
    char why[160];  /* what is wrong, when CORRUPT/UNREADABLE/NO_DIR */
};

/* Read dir/visits.txt into *cf (always filled; look at cf->state). */
void countfile_read(const char *dir, struct countfile *cf);

enum countfile_verdict {
    COUNTFILE_MATCHES, /* file == tallyd's count */
    COUNTFILE_BEHIND,  /* file < tallyd's count: a write is pending */
    COUNTFILE_AHEAD,   /* file > what tallyd says is durable: should never happen */
};

/* Compare the file (read first) with tallyd's count and durable count
 * (fetched after): a correct tallyd never reports durable below the file.
 * *behind gets visits - file when BEHIND, else 0. */
enum countfile_verdict countfile_compare(uint64_t file, uint64_t visits, uint64_t durable,
                                         uint64_t *behind);

#endif
