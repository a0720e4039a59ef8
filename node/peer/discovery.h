/*
 * peer/discovery.h: finding the StatefulSet's other pods through DNS (the
 * headless service's A/AAAA and SRV records, and --peers), every
 * --dns-interval. Each address found is reported through the callback it was
 * given; discovery knows nothing of gossip or the daemon.
 */
#ifndef TALLY_PEER_DISCOVERY_H
#define TALLY_PEER_DISCOVERY_H

#include <stdint.h>
#include <uv.h>

#include "node/config.h"

struct discovery;

/* Discovery found "ip:port" (called again each round it is still found). */
typedef void (*discovery_found_fn)(void *ctx, const char *addr);

/* Start the rounds (the first at once) for cfg's --service, --peers,
 * --dns-server and --dns-interval. Returns 0 and *out, or a negative errno
 * after logging why (-EINVAL: a --dns-server c-ares refuses); *out is then
 * still set when there is something for discovery_close() to close. */
int discovery_start(uv_loop_t *loop, const struct config *cfg, discovery_found_fn on_found,
                    void *ctx, struct discovery **out);
/* Cancel lookups in flight (their callbacks do not run) and free once the
 * handles have closed. NULL is fine. */
void discovery_close(struct discovery *dns);

/* Lookups made, and those that failed (errors and timeouts, and SRV targets
 * refused as too long). */
uint64_t discovery_lookups(const struct discovery *dns);
uint64_t discovery_failures(const struct discovery *dns);

#endif
