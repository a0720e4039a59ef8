/*
 * peer/datagram.h: the transport seam. What happens to a gossip datagram
 * between the socket and the gossip core, in both directions, with no libuv
 * and no socket: node/peer/udp.c is the libuv glue around it, and the
 * simulator (tally-sim --key) runs every simulated datagram through it, so
 * the code that guards production is the code the simulator exercises.
 *
 * In, in this order:
 *   1. a datagram cut short by the receive buffer, or longer than any sender
 *      of ours makes, is dropped (reason "auth" when sealed, else "decode");
 *   2. sealed (a key): it must open with one of our keys ("auth"), and its
 *      nonce's (boot, sequence) must be new to the replay window ("replay");
 *      unsealed with a source filter: a source discovery does not list, and
 *      that is no member's own address, goes to gossip_receive_unlisted (a
 *      PING is answered, anything else dropped as "source");
 *   3. the rest goes to gossip_receive.
 * Every drop is counted in the core's stats (gossip_drop_count), so one
 * metric shows them all.
 *
 * Out: sealed with the first key and a nonce of (boot, sequence, random)
 * (node/peer/replay.h) into the caller's buffer, or passed through unsealed.
 */
#ifndef TALLY_PEER_DATAGRAM_H
#define TALLY_PEER_DATAGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "format/seal.h"
#include "gossip/gossip.h"
#include "node/peer/replay.h"

/* The most a sender of ours puts on the wire: a full datagram, sealed. */
#define DATAGRAM_WIRE_MAX (PROTO_MAX_DATAGRAM + SEAL_OVERHEAD)
/* The receive buffer: larger than any valid datagram, so an oversize one is
 * seen whole (not cut short) and counted. */
#define DATAGRAM_RECV_BUF 2048

struct peer_allow;
struct replay;

struct datagram_config {
    struct gossip *gossip;   /* borrowed: where datagrams go in */
    const struct seal *seal; /* borrowed; NULL: unsealed */
    /* Sealed: senders (boots) whose replay window is kept (0: no window). */
    size_t max_senders;
    /* Unsealed: addresses the source filter lists at most (0: no filter,
     * every source is heard) and how long one stays after its last note.
     * The keys (reloaded in place by seal_reload_if_changed) must outlive
     * the path. */
    size_t allow_cap;
    uint64_t allow_keep_ms;
};

/* Embedded in its user (struct peer_udp, a simulated node). Owns the replay
 * window and the source filter; borrows the core and the keys. */
struct datagram_path {
    struct gossip *gossip;
    const struct seal *seal;
    struct replay *rx;        /* sealed: every sender's window */
    struct peer_allow *allow; /* unsealed: the source filter, or NULL */
    struct replay_sender tx;  /* our boot and sequence, for sealed nonces */
};

/* What became of a received datagram. */
enum datagram_verdict {
    DATAGRAM_HEARD,       /* given to gossip_receive */
    DATAGRAM_UNLISTED,    /* given to gossip_receive_unlisted (PING answered) */
    DATAGRAM_TRUNCATED,   /* dropped: cut short or oversize */
    DATAGRAM_BAD_SEAL,    /* dropped (auth): not a sealed datagram, or a bad tag */
    DATAGRAM_UNKNOWN_KEY, /* dropped (auth): sealed with a key we do not hold */
    DATAGRAM_REPLAY,      /* dropped (replay): seen before, or older than the window */
};

/* Returns 0 or -ENOMEM; on error nothing is left to free. */
int datagram_path_init(struct datagram_path *p, const struct datagram_config *cfg);
/* Frees what init allocated; safe twice, and on a zeroed struct. */
void datagram_path_free(struct datagram_path *p);

/* A datagram of len bytes arrived from `from` (its "ip:port" is from_addr);
 * truncated: the receive buffer cut it short. */
enum datagram_verdict datagram_in(struct datagram_path *p, uint64_t now_ms,
                                  const struct sockaddr *from, const char *from_addr,
                                  const uint8_t *buf, size_t len, bool truncated);

/* The bytes to put on the wire for the core's datagram buf[0..len): sealed
 * into out[0..cap) (cap >= len + SEAL_OVERHEAD), or buf itself when
 * unsealed. Sets *wire and returns its length, or -ENOSPC / -EMSGSIZE
 * (longer than PROTO_MAX_DATAGRAM): nothing to send. */
int datagram_out(struct datagram_path *p, const uint8_t *buf, size_t len, uint8_t *out, size_t cap,
                 const uint8_t **wire);

/* Discovery listed "ip:port" as a source (no-op without a source filter). */
void datagram_source_note(struct datagram_path *p, const char *addr, uint64_t now_ms);
/* Sources listed now (0 without a filter). */
size_t datagram_sources(const struct datagram_path *p, uint64_t now_ms);

#endif
