/*
 * member_table.h: the gossip member table, an append-only array of rows with
 * two hash indexes (by pod name, by address) so a received entry or a greeted
 * address is found in O(1), which keeps a 1000-node simulation fast.
 *
 * Rows are never removed: a member's slots stay in the cluster total forever.
 * Row pointers are invalidated by member_table_add (the array grows); indexes
 * are stable.
 */
#ifndef TALLY_GOSSIP_MEMBER_TABLE_H
#define TALLY_GOSSIP_MEMBER_TABLE_H

#include "gossip/gossip.h"

#define MEMBER_NONE UINT32_MAX

struct gmember {
    struct gossip_member m; /* what gossip_member_at() exposes */
    /* The event queue (disseminate.c): a row owes whole-entry sends for
     * membership news (full, full_sends of them done; urgent when that news
     * is a new incarnation) and compact sends for counts that rose
     * (slot_news, bit k: slots[k]; sends of them done). */
    uint32_t sends;
    uint32_t full_sends;
    bool full;
    bool urgent;
    uint16_t slot_news;
    uint8_t vmax;                     /* highest wire version its owner speaks; 0 not heard */
    bool probed;                      /* our own probe went to it since its suspicion began */
    uint64_t suspect_since_ms;        /* when our suspicion timer started */
    bool suspect_timer;               /* a SWIM suspicion runs (not a row loaded as suspect) */
    uint8_t n_confirm;                /* independent accusers seen, up to GOSSIP_SUSPICION_K */
    uint64_t confirm[4];              /* their name hashes */
    char accuser[PROTO_NAME_MAX + 1]; /* the accuser our SUSPECT entry names */
    uint64_t stamp;                   /* last datagram it was packed into (no duplicates) */
    uint64_t told_at;                 /* round + 1 when its owner was last sent our view */
    uint8_t bucket;                   /* proto_bucket_of(name), for SYNC */
};

/* A row's place in the two hash chains, kept apart from the rows: a lookup
 * walks these 16-byte links and compares a 32-bit tag of the hash, and
 * touches a row (some 600 bytes, a cache miss each at N = 1000) only for
 * the string compare of a likely match. */
struct member_link {
    uint32_t name_next, addr_next;
    uint32_t name_tag, addr_tag;
};

struct member_table {
    struct gmember *rows;
    struct member_link *links; /* one per row */
    size_t n, cap;
    uint32_t *name_heads, *addr_heads;
    size_t nbuckets;       /* power of two */
    unsigned char key[16]; /* the bucket hash's key, this instance's own */
};

/* An empty table whose bucket hash is keyed from seed (see member_table.c).
 * Returns 0, -ENOMEM or -EIO (libsodium would not start). */
int member_table_init(struct member_table *t, uint64_t seed);
void member_table_free(struct member_table *t);
/* Returns the row index or MEMBER_NONE. */
uint32_t member_table_find(const struct member_table *t, const char *name);
/* Adds a row for name (zeroed, empty address); returns its index, or
 * MEMBER_NONE on allocation failure. The caller checked it was absent. */
uint32_t member_table_add(struct member_table *t, const char *name);
/* Changes a row's address, keeping the address index right. */
void member_table_addr_set(struct member_table *t, uint32_t i, const char *addr);
/* A row other than ours with this address (any state), or MEMBER_NONE. */
uint32_t member_table_addr_find(const struct member_table *t, const char *addr);
/* True when some row with this address is alive, suspect or ourselves. */
bool member_table_addr_live(const struct member_table *t, const char *addr);

/* Unkeyed FNV-1a, for spreading values the table does not index (PRNG
 * seeding, accuser and greeting fingerprints); the indexes use a keyed hash. */
uint64_t member_table_hash(const char *s);

#endif
