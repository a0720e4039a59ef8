/*
 * peer/tcp.h: the full-state exchange (push-pull) over TCP on the gossip
 * port. The gossip core asks for one through io->pushpull; this side
 * connects, streams the core's full state and feeds the answer back
 * (gossip/gossip.h, "full state"); it also listens on --bind and the gossip
 * port and answers peers' exchanges.
 *
 * Stream: frames of a 4-byte big-endian length and that many bytes: one
 * message of the full state (proto/WIRE.md, "Full state over TCP"), sealed
 * like a datagram when there is a cluster key. The asker sends its whole
 * table, the other end answers with its own and both close.
 *
 * Bounds: a frame at most PROTO_MAX_DATAGRAM (+ SEAL_OVERHEAD with a key)
 * bytes, an exchange at most gossip_full_parts_max(--max-members) frames,
 * PEER_TCP_DEADLINE_MS per connection from accept or connect,
 * PEER_TCP_INBOUND_MAX connections served at once (one past it is accepted
 * and closed at once) and PEER_TCP_OUTBOUND_MAX of our own. Every drop is
 * counted by result in gossip_stats.pushpull (tally_gossip_pushpull_total).
 */
#ifndef TALLY_PEER_TCP_H
#define TALLY_PEER_TCP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* A whole table of 10,000 members is ~650 KB: well within this on any
 * network a pod lives on, and a stalled peer frees its slot soon. */
#define PEER_TCP_DEADLINE_MS  5000
#define PEER_TCP_INBOUND_MAX  4
#define PEER_TCP_OUTBOUND_MAX 2

struct gossip;
struct peer_udp;
struct peer_tcp;

struct peer_tcp_config {
    uv_loop_t *loop;
    const char *listen_ip; /* --bind, or "::" / "0.0.0.0" */
    uint16_t gossip_port;
    struct gossip *gossip; /* fed what arrives; its clock is uv_now(loop) */
    /* The keys and the source filter are the UDP side's, read per frame and
     * per connection, so a key rotation applies to both at once. */
    struct peer_udp *udp;
};

/* Listen on the node's gossip address (TCP). Returns 0 or a negative errno
 * (logged); *out is set whenever memory was taken, so peer_tcp_close()
 * applies after a failed start too. The gossip core and the UDP side must
 * outlive it (close it first). */
int peer_tcp_start(const struct peer_tcp_config *cfg, struct peer_tcp **out);
/* Exchange full state with "ip:port" (what io->pushpull asks for). */
void peer_tcp_pushpull(struct peer_tcp *t, const char *addr);
/* Connections open now (both directions). */
size_t peer_tcp_open(const struct peer_tcp *t);
/* Close the listener and every connection; freed once all have closed. */
void peer_tcp_close(struct peer_tcp *t);

#endif
