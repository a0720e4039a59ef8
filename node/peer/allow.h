/*
 * peer/allow.h: which source addresses unauthenticated gossip is taken from.
 * Without a cluster key anyone who can reach the gossip port could add
 * members or raise slots, so tallyd hears only the addresses discovery lists:
 * the headless service's A/AAAA/SRV answers and --peers. An address stays
 * listed for a while after its last answer (pods keep talking through a DNS
 * hiccup or a slow endpoint update), then is forgotten.
 *
 * A member's own gossip address (its exact ip:port) is heard too, listed or
 * not: only a heard source can have introduced it, so with static --peers as
 * seeds the rest of the StatefulSet still joins by gossip, and an outsider
 * still cannot get in. Datagrams from other sources are dropped before the
 * gossip core merges a byte (reason "source"); a PING is still answered, so
 * tallyctl ping works from anywhere that can reach the port.
 */
#ifndef TALLY_PEER_ALLOW_H
#define TALLY_PEER_ALLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct peer_allow;

/* cap: addresses listed at most; keep_ms: how long one stays after it was
 * last seen in an answer. */
int peer_allow_new(size_t cap, uint64_t keep_ms, struct peer_allow **out);
void peer_allow_free(struct peer_allow *a);
/* Discovery found "ip:port" (the port is ignored). */
void peer_allow_note(struct peer_allow *a, const char *addr, uint64_t now_ms);
/* The source sa is listed. */
bool peer_allow_check(const struct peer_allow *a, const struct sockaddr *sa, uint64_t now_ms);
size_t peer_allow_count(const struct peer_allow *a, uint64_t now_ms);

#endif
