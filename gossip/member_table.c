/*
 * member_table.c: append-only member rows with chained hash indexes by name
 * and by address (see member_table.h). Chains hold row indexes, so growing
 * the row array never invalidates them; the bucket arrays are rebuilt when the
 * table outgrows them (load factor 1).
 *
 * Names and addresses come from the network, so the buckets are chosen by a
 * keyed hash (SipHash-2-4, libsodium's crypto_shorthash) under a key of this
 * instance: whoever cannot learn the key cannot pick names that all land in
 * one chain and turn every lookup into a walk of the whole table. The key is
 * derived from the gossip seed (BLAKE2b, so the key does not give the seed
 * back), which keeps the simulator deterministic.
 */
#include "gossip/member_table.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define MEMBER_TABLE_MIN_BUCKETS 16

_Static_assert(sizeof(((struct member_table *)0)->key) == crypto_shorthash_KEYBYTES,
               "member_table.key holds one crypto_shorthash key");

/* FNV-1a 64: names and addresses are short ASCII strings. */
uint64_t member_table_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

/* The keyed hash of s: its low bits pick the bucket, its high 32 bits are
 * the tag a chain walk compares before the string. */
static uint64_t member_table_key_hash(const struct member_table *t, const char *s)
{
    unsigned char out[crypto_shorthash_BYTES];
    uint64_t h;
    crypto_shorthash(out, (const unsigned char *)s, strlen(s), t->key);
    memcpy(&h, out, sizeof(h));
    return h;
}

static size_t member_table_bucket(const struct member_table *t, uint64_t h)
{
    return (size_t)(h & (t->nbuckets - 1));
}

static uint32_t member_table_tag(uint64_t h)
{
    return (uint32_t)(h >> 32);
}

static void member_table_link(struct member_table *t, uint32_t i)
{
    struct member_link *l = &t->links[i];
    uint64_t h = member_table_key_hash(t, t->rows[i].m.name);
    size_t b = member_table_bucket(t, h);
    l->name_tag = member_table_tag(h);
    l->name_next = t->name_heads[b];
    t->name_heads[b] = i;
    h = member_table_key_hash(t, t->rows[i].m.addr);
    b = member_table_bucket(t, h);
    l->addr_tag = member_table_tag(h);
    l->addr_next = t->addr_heads[b];
    t->addr_heads[b] = i;
}

static int member_table_rehash(struct member_table *t, size_t nbuckets)
{
    uint32_t *nh = malloc(nbuckets * sizeof(*nh));
    uint32_t *ah = malloc(nbuckets * sizeof(*ah));
    if (!nh || !ah) {
        free(nh);
        free(ah);
        return -ENOMEM;
    }
    free(t->name_heads);
    free(t->addr_heads);
    t->name_heads = nh;
    t->addr_heads = ah;
    t->nbuckets = nbuckets;
    for (size_t b = 0; b < nbuckets; b++)
        nh[b] = ah[b] = MEMBER_NONE;
    for (size_t i = 0; i < t->n; i++)
        member_table_link(t, (uint32_t)i);
    return 0;
}

int member_table_init(struct member_table *t, uint64_t seed)
{
    static const char domain[] = "tally member table key";
    unsigned char in[sizeof(domain) + sizeof(seed)];
    memset(t, 0, sizeof(*t));
    /* libsodium asks for it before any other call; idempotent, and on
     * Linux it opens nothing (getrandom) */
    if (sodium_init() < 0)
        return -EIO;
    memcpy(in, domain, sizeof(domain));
    memcpy(in + sizeof(domain), &seed, sizeof(seed));
    crypto_generichash(t->key, sizeof(t->key), in, sizeof(in), NULL, 0);
    return member_table_rehash(t, MEMBER_TABLE_MIN_BUCKETS);
}

void member_table_free(struct member_table *t)
{
    free(t->rows);
    free(t->links);
    free(t->name_heads);
    free(t->addr_heads);
    memset(t, 0, sizeof(*t));
}

uint32_t member_table_find(const struct member_table *t, const char *name)
{
    uint64_t h = member_table_key_hash(t, name);
    uint32_t tag = member_table_tag(h);
    for (uint32_t i = t->name_heads[member_table_bucket(t, h)]; i != MEMBER_NONE;
         i = t->links[i].name_next)
        if (t->links[i].name_tag == tag && strcmp(t->rows[i].m.name, name) == 0)
            return i;
    return MEMBER_NONE;
}

uint32_t member_table_add(struct member_table *t, const char *name)
{
    if (t->n >= UINT32_MAX - 1)
        return MEMBER_NONE;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        struct gmember *rows = realloc(t->rows, cap * sizeof(*rows));
        if (!rows)
            return MEMBER_NONE;
        t->rows = rows;
        /* Both arrays at least cap long before cap says so: a failure here
         * leaves rows longer than needed, nothing else. */
        struct member_link *links = realloc(t->links, cap * sizeof(*links));
        if (!links)
            return MEMBER_NONE;
        t->links = links;
        t->cap = cap;
    }
    if (t->n + 1 > t->nbuckets && member_table_rehash(t, t->nbuckets * 2) != 0)
        return MEMBER_NONE;
    uint32_t i = (uint32_t)t->n++;
    struct gmember *r = &t->rows[i];
    memset(r, 0, sizeof(*r));
    size_t len = strnlen(name, PROTO_NAME_MAX);
    memcpy(r->m.name, name, len);
    r->m.name[len] = '\0';
    r->bucket = (uint8_t)proto_bucket_of(r->m.name);
    member_table_link(t, i);
    return i;
}

void member_table_addr_set(struct member_table *t, uint32_t i, const char *addr)
{
    struct gmember *r = &t->rows[i];
    if (strcmp(r->m.addr, addr) == 0)
        return;
    uint32_t *p = &t->addr_heads[member_table_bucket(t, member_table_key_hash(t, r->m.addr))];
    while (*p != i)
        p = &t->links[*p].addr_next;
    *p = t->links[i].addr_next;
    size_t len = strnlen(addr, PROTO_ADDR_MAX);
    memcpy(r->m.addr, addr, len);
    r->m.addr[len] = '\0';
    uint64_t h = member_table_key_hash(t, r->m.addr);
    size_t b = member_table_bucket(t, h);
    t->links[i].addr_tag = member_table_tag(h);
    t->links[i].addr_next = t->addr_heads[b];
    t->addr_heads[b] = i;
}

uint32_t member_table_addr_find(const struct member_table *t, const char *addr)
{
    uint64_t h = member_table_key_hash(t, addr);
    uint32_t tag = member_table_tag(h);
    for (uint32_t i = t->addr_heads[member_table_bucket(t, h)]; i != MEMBER_NONE;
         i = t->links[i].addr_next)
        if (i != 0 && t->links[i].addr_tag == tag && strcmp(t->rows[i].m.addr, addr) == 0)
            return i;
    return MEMBER_NONE;
}

bool member_table_addr_live(const struct member_table *t, const char *addr)
{
    uint64_t h = member_table_key_hash(t, addr);
    uint32_t tag = member_table_tag(h);
    for (uint32_t i = t->addr_heads[member_table_bucket(t, h)]; i != MEMBER_NONE;
         i = t->links[i].addr_next) {
        const struct gossip_member *m = &t->rows[i].m;
        if (t->links[i].addr_tag == tag && strcmp(m->addr, addr) == 0 &&
            (m->self || m->state == GOSSIP_ALIVE || m->state == GOSSIP_SUSPECT))
            return true;
    }
    return false;
}
