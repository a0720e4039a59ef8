/*
 * peer/replay.h: the replay window of sealed gossip. Every sealed datagram's
 * 24-byte nonce is laid out as
 *
 *   boot (8)  a random id drawn when the sending process loaded its keys
 *   seq (8)   1, 2, 3, ... for each datagram that process seals
 *   random (8)
 *
 * and, being the AEAD's nonce, it cannot be altered without failing the tag.
 * A receiver remembers, per boot, the highest seq seen and which of the 64
 * below it arrived (IPsec's sliding window): a datagram seen before, or older
 * than the window, is a replay and is dropped (counted as reason "replay").
 *
 * A datagram of a boot the receiver does not know is taken: a sender that
 * restarted has a new boot. Replaying a datagram of an earlier process life
 * can only repeat old values, which max-merge and the (incarnation,
 * heartbeat) order ignore, so it needs no clock to reject (docs/DESIGN.md,
 * "Trust"). The table is bounded: past its capacity the boot heard least
 * recently is forgotten.
 */
#ifndef TALLY_REPLAY_H
#define TALLY_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REPLAY_WINDOW 64

struct replay;

/* cap: boots remembered at most (rounded up to a power of two). */
int replay_new(size_t cap, struct replay **out);
void replay_free(struct replay *r);
/* True (and remembered) when (boot, seq) was not seen and is inside the
 * window; false for a replay. now_ms orders boots for eviction. */
bool replay_check(struct replay *r, uint64_t boot, uint64_t seq, uint64_t now_ms);
size_t replay_boots(const struct replay *r);

/* The sender's side: the next nonce of this process (boot, seq, random). */
struct replay_sender {
    uint64_t boot;
    uint64_t seq;
};
void replay_nonce_next(struct replay_sender *s, uint8_t nonce[24]);
/* boot and seq from a nonce (after the datagram was authenticated). */
void replay_nonce_read(const uint8_t nonce[24], uint64_t *boot, uint64_t *seq);

#endif
