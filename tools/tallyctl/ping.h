/*
 * ping.h: gossip PING/ACK from the outside. tallyctl sends a proto PING
 * (from "tallyctl", a random nonce per target) and waits for the ACK that
 * carries the same nonce and the responder's own entry: proof that the pod's
 * gossip socket is reachable and decodes our protocol version, plus what the
 * pod says about itself (name, state, visits, incarnation).
 *
 * Against a cluster whose gossip is authenticated (tallyd --key-file), the
 * PINGs are sealed with the first key of the same key file and ACKs opened
 * with any of its keys (format/seal.h, the code tallyd seals with):
 * --key-file PATH, else
 * $TALLY_KEY_FILE, the variable tallyd reads too.
 */
#ifndef TALLYCTL_PING_H
#define TALLYCTL_PING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proto/proto.h"

#define PING_FROM     "tallyctl"
#define PING_ADDR_MAX 64

struct ping_target {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char label[PING_ADDR_MAX]; /* "ip:port" for messages */
    uint64_t nonce;            /* set by ping_run */
    bool answered;
    uint64_t rtt_us;
    struct proto_entry entry; /* the ACK's first entry: the responder itself */
    int err;                  /* send error (negative errno), 0 if sent */
};

/* Parse an address literal "ip", "ip:port", "[v6]:port" or a bare v6 into t
 * (port default_port when none). Returns 0, or -EINVAL when s is not a
 * literal (it may be a host name). */
int ping_target_parse(const char *s, int default_port, struct ping_target *t);
/* Fill t from a sockaddr (e.g. from DNS) and a port. */
void ping_target_set(struct ping_target *t, const struct sockaddr *sa, int port);

/* Build the PING datagram for nonce into buf. Returns its length or a
 * negative proto error. */
int ping_encode(uint64_t nonce, uint8_t *buf, size_t cap);
/* Is buf an ACK for nonce? Returns 1 and fills *entry, 0 if it is some other
 * valid datagram, or a negative proto error. */
int ping_ack_match(const uint8_t *buf, size_t len, uint64_t nonce, struct proto_entry *entry);

/* Use the keys in path (tallyd's key file) for every later ping_run; NULL
 * or "" means unauthenticated gossip. Returns 0, or -EINVAL with a sentence
 * naming the file and line in err. Without a call, the first ping_run reads
 * $TALLY_KEY_FILE. */
int ping_key_file_set(const char *path, char *err, size_t err_len);

/* Send one PING to each of the n targets and wait up to timeout_ms for their
 * ACKs (all in parallel, one socket per address family). Returns how many
 * answered, or a negative errno if no socket could be opened, or -EINVAL when
 * $TALLY_KEY_FILE names a bad key file (said on stderr). */
int ping_run(struct ping_target *t, size_t n, int timeout_ms);

#endif
