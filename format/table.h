/*
 * table.h: DATA_DIR/cluster.table, this pod's copy of the slot table it has
 * merged, so the total survives every pod restarting at once (docs/DESIGN.md,
 * "Departed pods survive every restart"). One line per member:
 *
 *   # tally cluster table 1
 *   m myapp-stateful-2 10.244.0.7:7946 3 1520 left 5f2c9a0e41d7b3c8:132 00a1...:15
 *
 * name, address ("-" when unknown), incarnation, heartbeat, state (alive,
 * suspect, dead, left), then one vol:count per slot (16 hex digits, decimal).
 * tallyd writes it by atomic replace; a line it cannot read is an error that
 * names the line, never a silent skip: the file holds visits.
 */
#ifndef TALLY_FORMAT_TABLE_H
#define TALLY_FORMAT_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

#define TABLE_FILE   "cluster.table"
#define TABLE_HEADER "# tally cluster table 1\n"
/* The longest line: two 63-byte strings, four numbers, 16 slots. */
#define TABLE_LINE_MAX 1024

struct table_row {
    char name[PROTO_NAME_MAX + 1];
    char addr[PROTO_ADDR_MAX + 1]; /* "" when unknown */
    uint64_t incarnation, heartbeat;
    uint8_t state; /* enum proto_state */
    uint8_t n_slots;
    struct proto_slot slots[PROTO_MAX_SLOTS];
};

/* Called once per row; a negative return stops the parse and is returned. */
typedef int (*table_row_fn)(void *ctx, const struct table_row *row);

/* Parse the whole file. Returns 0, a callback's error, or -EINVAL with why
 * naming the line. */
int table_parse(const char *text, size_t len, table_row_fn fn, void *ctx, char *why,
                size_t why_len);
/* One line, newline included; returns its length or -ENOSPC. */
int table_row_format(const struct table_row *r, char *out, size_t cap);

#endif
