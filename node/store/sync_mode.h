/*
 * store/sync_mode.h: when a visit is acknowledged (--sync), on its own so the
 * configuration can name it without pulling in the commit layer and libuv.
 */
#ifndef TALLY_SYNC_MODE_H
#define TALLY_SYNC_MODE_H

enum commit_sync { COMMIT_SYNC_ALWAYS, COMMIT_SYNC_INTERVAL, COMMIT_SYNC_NONE };

#endif
