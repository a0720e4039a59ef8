/*
 * peer/udp.h: the gossip core's UDP transport. A struct peer_udp owns the
 * socket and its receive buffer, the cluster keys and their file watch
 * (a timer and SIGHUP), and the datagram path (node/peer/datagram.h: the
 * source filter, the replay window); it counts what it alone sees (sends the
 * kernel refused, key reloads) and counts its drops in the core's stats. It
 * knows nothing of the daemon: it is given a loop, its settings and, at
 * start, the gossip core it carries datagrams for.
 *
 * Two steps, so the keys are checked before the core is built and the core
 * exists before the first datagram: peer_udp_new() loads the keys,
 * peer_udp_start() binds and starts receiving into the core.
 */
#ifndef TALLY_PEER_UDP_H
#define TALLY_PEER_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct gossip;
struct peer_udp;
struct seal;

struct peer_udp_config {
    const char *bind_ip;   /* a literal: "::", "0.0.0.0", "10.0.0.5" */
    int port;              /* --gossip-port */
    const char *key_file;  /* "" or NULL: unsealed */
    uint32_t key_check_ms; /* how often the key file is checked for a change */
    size_t max_members;    /* the core's member cap: sizes the replay window */
    /* Unsealed: hear only sources noted by peer_udp_source_note, each for
     * source_keep_ms after its last note. False: hear everyone. */
    bool filter_sources;
    uint64_t source_keep_ms;
};

/* Load the keys (logging them, or that gossip is unauthenticated). Returns 0
 * and *out, or a negative errno after logging why. */
int peer_udp_new(uv_loop_t *loop, const struct peer_udp_config *cfg, struct peer_udp **out);
/* Bind and hand every datagram that passes to g. Returns 0 or a negative
 * errno (logged); peer_udp_close() still applies. */
int peer_udp_start(struct peer_udp *u, struct gossip *g);
/* Close the socket and the key watch, free the keys and u (once its handles
 * have closed: run the loop). Nothing is sent after this. NULL is fine. */
void peer_udp_close(struct peer_udp *u);

/* Send one of the core's datagrams to "ip:port" (what its io.send does). */
void peer_udp_send(struct peer_udp *u, const char *addr, const uint8_t *buf, size_t len);
/* Discovery listed "ip:port": hear it (no-op when sealed or unfiltered). */
void peer_udp_source_note(struct peer_udp *u, const char *addr);

bool peer_udp_sealed(const struct peer_udp *u);
/* For the TCP push-pull (node/peer/tcp.c), sealed and filtered as datagrams
 * are: the keys in use (reloaded in place; NULL: unsealed), and whether the
 * source filter lists sa's ip (true when sealed or unfiltered). */
const struct seal *peer_udp_seal(const struct peer_udp *u);
bool peer_udp_source_listed(const struct peer_udp *u, const struct sockaddr *sa, uint64_t now_ms);
/* Datagrams that did not leave: the kernel refused, or sealing failed. */
uint64_t peer_udp_send_errors(const struct peer_udp *u);
/* Times a changed key file was loaded (rotation progress). */
uint64_t peer_udp_key_reloads(const struct peer_udp *u);

#endif
