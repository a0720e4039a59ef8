/*
 * bucket.c: how a SYNC splits the slot table into buckets and hashes them.
 * Both ends must compute the same values, so the functions are part of the
 * wire format (proto/WIRE.md, "SYNC").
 *
 * A name's bucket is FNV-1a 32 of the name modulo PROTO_BUCKETS. A bucket's
 * hash is the XOR of its slots' shares; a share mixes (name, vol, count)
 * through splitmix64's finaliser, so equal tables give equal hashes and a
 * single slot moving by one changes its bucket's hash. The first half of a
 * share, before the count is mixed in, is the slot's id in compact count
 * updates (proto_slot_id).
 */
#include "proto/proto.h"

#include <string.h>

static uint32_t bucket_fnv32(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

static uint64_t bucket_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint32_t proto_bucket_of(const char *name)
{
    return bucket_fnv32(name) % PROTO_BUCKETS;
}

uint64_t proto_slot_id(const char *name, uint64_t vol)
{
    return bucket_mix64((uint64_t)bucket_fnv32(name) * 0x9E3779B97F4A7C15ull ^ vol);
}

uint32_t proto_slot_share(const char *name, uint64_t vol, uint64_t count)
{
    uint64_t z = bucket_mix64(proto_slot_id(name, vol) ^ count);
    return (uint32_t)(z ^ (z >> 32));
}

uint64_t proto_entry_visits(const struct proto_entry *e)
{
    uint64_t sum = 0;
    for (unsigned k = 0; k < e->n_slots && k < PROTO_MAX_SLOTS; k++)
        sum = sum > UINT64_MAX - e->slots[k].count ? UINT64_MAX : sum + e->slots[k].count;
    return sum;
}
