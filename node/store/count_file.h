/*
 * store/count_file.h: the durable count file DATA_DIR/visits.txt.
 *
 * The file holds the pod's own count as plain decimal and a newline ("132\n"),
 * so `kubectl exec POD -- cat /data/visits.txt` keeps working. After a crash at
 * any instant it holds the old or the new count, never a torn or empty file.
 * Two ways of writing give that (the argument is in store.c):
 *  - store_count_write(): atomic replace (write a temp file, fsync it, rename
 *    over, fsync the directory). It creates the file, and re-creates one that
 *    vanished or was replaced.
 *  - store_count_open() then store_count_overwrite(): pwrite "N\n" at offset
 *    0 of the file it created, then fdatasync; one write and one flush instead
 *    of four metadata steps, so several times the commits per second.
 * Blocking calls: the node runs them off the loop thread.
 */
#ifndef TALLY_STORE_H
#define TALLY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "format/count.h"

#define STORE_FILE_NAME COUNT_TEXT_FILE
#define STORE_TEMP_NAME "visits.txt.tmp"

/* Load DIR/visits.txt. A missing file is a fresh volume: *count = 0, returns
 * 0. A missing or unwritable DIR, an unreadable or corrupt file, or one that
 * is not a regular file (a FIFO is refused at once, never waited on) returns
 * a negative errno and a message naming the file and what was found in msg.
 * Writability is checked by creating and removing DIR/visits.txt.tmp (the
 * first step of every write), which also removes a temp file left by a crash.
 * A file over 64 bytes is corrupt; msg may be NULL. */
int store_count_load(const char *dir, uint64_t *count, char *msg, size_t msg_len);

/* Durably write count by atomic replace. do_fsync = 0 skips both fsyncs (for
 * --sync none). Returns 0 or a negative errno; on error the old file is intact. */
int store_count_write(const char *dir, uint64_t count, int do_fsync);

/* Any small file of the volume (node/store/volume_files.c): DIR/NAME replaced
 * atomically by text (temp file DIR/NAME.tmp, fsync, rename, fsync of DIR;
 * do_fsync = 0 skips both fsyncs). Returns 0 or a negative errno; on error
 * the old file is intact. */
int store_file_replace(const char *dir, const char *name, const char *text, size_t len,
                       int do_fsync);
/* Read all of DIR/NAME, a regular file of fewer than cap bytes, into buf.
 * Returns 0, -ENOENT, -EINVAL (not a regular file: never blocks on a FIFO),
 * -EFBIG, or another negative errno. */
int store_file_slurp(const char *dir, const char *name, char *buf, size_t cap, size_t *got);

/* Which file an open descriptor is: compare with a stat() of the path to tell
 * a count file replaced under us (another inode) from ours. */
struct store_file_id {
    uint64_t dev;
    uint64_t ino;
};

/* Open DIR/visits.txt (just written by store_count_write) for in-place
 * overwrites: O_WRONLY|O_CLOEXEC, never O_CREAT (creating is atomic replace's
 * job). On success *fd is the caller's to close and *id names the file.
 * Returns 0 or a negative errno (-EINVAL if it is not a regular file). */
int store_count_open(const char *dir, int *fd, struct store_file_id *id);

/* Overwrite the count in place: pwrite "count\n" at offset 0, then fdatasync
 * unless do_fsync is 0 (--sync none). prev is the count the file holds:
 * count must be >= prev (the crash argument needs a file that only grows),
 * else -EINVAL and nothing is written. Returns 0; -ESTALE when the write
 * worked but the file has no name any more (removed or replaced under us: the
 * count reached a file nobody will read, so the caller re-creates it with
 * store_count_write); or another negative errno. On any error the caller
 * closes fd and writes the next count by atomic replace: after a failed
 * fdatasync the page cache is no longer to be trusted (Linux may have marked
 * the failed pages clean), so that descriptor is not retried. */
int store_count_overwrite(int fd, uint64_t prev, uint64_t count, int do_fsync);

/* After an overwrite, before acknowledging it: is DIR/visits.txt still the
 * file id names? 0 if so; -ESTALE when the name is gone or leads elsewhere
 * (renamed away with `mv`, which a descriptor cannot see, removed, or
 * replaced): the caller re-creates the file by atomic replace. Another
 * negative errno if stat fails otherwise. */
int store_count_check_name(const char *dir, const struct store_file_id *id);

#endif
