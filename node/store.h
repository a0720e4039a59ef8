/*
 * store.h: the durable count file DATA_DIR/visits.txt.
 *
 * The file holds the pod's own count as plain decimal and a newline ("132\n"),
 * so `kubectl exec POD -- cat /data/visits.txt` keeps working. It is replaced
 * atomically (write a temp file, fsync it, rename over, fsync the directory),
 * so after a crash at any instant it holds the old or the new count, never a
 * torn or empty file. Blocking calls: the node runs them off the loop thread.
 */
#ifndef TALLY_STORE_H
#define TALLY_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_FILE_NAME "visits.txt"
#define STORE_TEMP_NAME "visits.txt.tmp"

/* Parse the file's content: digits, then an optional "\n". Leading zeros,
 * signs, spaces, other bytes, an empty file or a value above UINT64_MAX are
 * errors. Returns 0 or -EINVAL, writing a description into why. */
int store_count_parse(const char *buf, size_t len, uint64_t *count, char *why, size_t why_len);

/* Load DIR/visits.txt. A missing file is a fresh volume: *count = 0, returns
 * 0. A missing or unwritable DIR, an unreadable or corrupt file returns a
 * negative errno and a message naming the file and what was found in msg.
 * Writability is checked by creating and removing DIR/visits.txt.tmp (the
 * first step of every write), which also removes a temp file left by a crash.
 * A file over 64 bytes is corrupt; msg may be NULL. */
int store_count_load(const char *dir, uint64_t *count, char *msg, size_t msg_len);

/* Durably write count by atomic replace. do_fsync = 0 skips both fsyncs (for
 * --sync none). Returns 0 or a negative errno; on error the old file is intact. */
int store_count_write(const char *dir, uint64_t count, int do_fsync);

#endif
