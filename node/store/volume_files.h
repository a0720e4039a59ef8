/*
 * store/volume_files.h: the two small files tallyd keeps beside visits.txt on its
 * volume (formats in format/volume.h and format/table.h):
 *
 *   DATA_DIR/volume         which counter slot this volume is, and the
 *                           incarnation, raised at each start;
 *   DATA_DIR/cluster.table  a copy of the slot table this pod has merged,
 *                           saved when it changes, loaded at start, so the
 *                           total survives every pod restarting at once.
 *
 * Both are written by atomic replace (store_file_replace). The table is
 * saved on the thread pool; the volume file is written on the loop thread,
 * at start and on the rare move to a new slot.
 */
#ifndef TALLY_VOLUME_FILES_H
#define TALLY_VOLUME_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "format/volume.h"
#include "gossip/gossip.h"

/* At start: read DIR/volume, or create it with a new random id (base 0) when
 * absent; then raise its incarnation and write it back, durably. Returns 0,
 * or a negative errno and msg naming the file and the problem. */
int volume_start(const char *dir, struct volume_info *out, char *msg, size_t msg_len);
/* Move to a new random slot id with the given base (what visits.txt holds
 * durably now) and write it durably. On error *v is unchanged. */
int volume_move(const char *dir, struct volume_info *v, uint64_t base);

/* Load DIR/cluster.table into g (max-merge). A missing file is fine (0).
 * Returns 0, or a negative errno and msg naming the file and the line. */
int table_file_load(const char *dir, struct gossip *g, uint64_t now_ms, char *msg, size_t msg_len);

struct table_saver;
/* Saves g's table to DIR/cluster.table on the thread pool whenever
 * gossip_table_version() moved and at most every min_interval_ms. */
int table_saver_new(uv_loop_t *loop, const char *dir, struct gossip *g, uint32_t min_interval_ms,
                    struct table_saver **out);
/* Call often (each gossip round): starts a save when one is due. */
void table_saver_poll(struct table_saver *t, uint64_t now_ms);
/* Save now, on this thread (shutdown). Returns 0 or a negative errno. */
int table_saver_save_now(struct table_saver *t);
uint64_t table_saver_saves(const struct table_saver *t);
uint64_t table_saver_errors(const struct table_saver *t);
/* Frees t once a save in flight has finished (run the loop afterwards). */
void table_saver_close(struct table_saver *t);

#endif
