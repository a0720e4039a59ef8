/*
 * fuzz_proto.c: libFuzzer target for the gossip decoder. Any bytes go straight
 * into proto_msg_decode(); whatever it accepts must re-encode, and decode again
 * to the same message (the encoder and decoder agree on every valid datagram).
 * The one field that may differ is the version range "w": it says what the
 * sender speaks, so the encoder always writes this build's own. Arrays are
 * compared as far as their counts: past them the decoder leaves what the
 * previous input put there.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const void *a, const void *b, size_t n)
{
    return n == 0 || memcmp(a, b, n) == 0;
}

/* a and b say the same: the header, and each array up to its count. */
static int msg_same(const struct proto_msg *a, const struct proto_msg *b)
{
    return same(a, b, offsetof(struct proto_msg, buckets)) && a->n_buckets == b->n_buckets &&
           same(a->buckets, b->buckets, a->n_buckets * sizeof(a->buckets[0])) &&
           a->n_entries == b->n_entries &&
           same(a->entries, b->entries, a->n_entries * sizeof(a->entries[0])) &&
           a->n_digest == b->n_digest &&
           same(a->digest, b->digest, a->n_digest * sizeof(a->digest[0])) &&
           a->n_counts == b->n_counts &&
           same(a->counts, b->counts, a->n_counts * sizeof(a->counts[0]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct proto_msg a, b;
    static uint8_t buf[PROTO_MAX_DATAGRAM];
    if (proto_msg_decode(data, size, &a, NULL) != PROTO_OK)
        return 0;
    int n = proto_msg_encode(&a, buf, sizeof(buf));
    /* Re-encoding never grows a message (smallest encodings, unknown keys and
     * extra elements dropped), so it must fit whatever the input was. */
    if (n < 0 || proto_msg_decode(buf, (size_t)n, &b, NULL) != PROTO_OK)
        abort();
    a.vmin = PROTO_VERSION_MIN;
    a.vmax = PROTO_VERSION_MAX;
    if (!msg_same(&a, &b))
        abort();
    return 0;
}
