/*
 * detect.c: failure detection from heartbeat freshness. Each round every
 * member's last_seen_ms (local time its version last advanced) is aged:
 * ALIVE -> SUSPECT once older than gossip_suspect_ms(), SUSPECT -> DEAD after
 * gossip_dead_ms() more. Both scale with log2(N) so a heartbeat has time to
 * spread before anyone suspects its owner.
 *
 * Relayed heartbeats reach a given node by chance; in a large cluster some
 * member's freshness can lag by a few rounds. So a member whose heartbeat is
 * half-way to suspicion is pinged directly (a few per round, chosen at
 * random): its ACK carries its own entry and refreshes it. That keeps false
 * suspicions near zero without making bytes per round grow with N.
 */
#include "gossip/gossip_int.h"

size_t gossip_detect_run(struct gossip *g, uint64_t now_ms, size_t *n_dead, uint32_t *dead_pick)
{
    size_t n_live = 0;
    *n_dead = 0;
    *dead_pick = MEMBER_NONE;
    if (gossip_scratch_reserve(g, g->t.n + 1) != 0)
        return 0;
    uint64_t suspect_ms = gossip_suspect_ms(g);
    uint64_t dead_ms = suspect_ms + gossip_dead_ms(g);
    uint64_t probe_ms = suspect_ms / GOSSIP_PROBE_DIV;
    uint32_t probe[GOSSIP_PROBES_PER_ROUND];
    size_t n_stale = 0;

    for (size_t i = 1; i < g->t.n; i++) {
        struct gmember *r = &g->t.rows[i];
        uint64_t age = now_ms > r->m.last_seen_ms ? now_ms - r->m.last_seen_ms : 0;
        /* State changes move the table version, so the node's saved copy
         * of the table follows them (gossip_table_version). */
        if (r->m.state == GOSSIP_ALIVE && age > suspect_ms)
            gossip_state_set(g, (uint32_t)i, GOSSIP_SUSPECT);
        if (r->m.state == GOSSIP_SUSPECT && age > dead_ms)
            gossip_state_set(g, (uint32_t)i, GOSSIP_DEAD);
        if (!r->m.addr[0])
            continue;
        if (r->m.state == GOSSIP_ALIVE || r->m.state == GOSSIP_SUSPECT) {
            g->scratch_a[n_live++] = (uint32_t)i;
            /* Reservoir sample of stale members not probed this round-trip. */
            if (age > probe_ms && now_ms - r->probed_ms >= g->interval_ms * 2ull) {
                n_stale++;
                if (n_stale <= GOSSIP_PROBES_PER_ROUND)
                    probe[n_stale - 1] = (uint32_t)i;
                else {
                    uint32_t j = gossip_rand_below(g, (uint32_t)n_stale);
                    if (j < GOSSIP_PROBES_PER_ROUND)
                        probe[j] = (uint32_t)i;
                }
            }
        } else if (r->m.state == GOSSIP_DEAD) {
            ++*n_dead;
            if (gossip_rand_below(g, (uint32_t)*n_dead) == 0)
                *dead_pick = (uint32_t)i;
        }
    }
    size_t n_probe = n_stale < GOSSIP_PROBES_PER_ROUND ? n_stale : GOSSIP_PROBES_PER_ROUND;
    for (size_t k = 0; k < n_probe; k++) {
        struct gmember *r = &g->t.rows[probe[k]];
        r->probed_ms = now_ms;
        gossip_entries_send(g, PROTO_PING, ++g->nonce, r->m.addr, NULL, 0);
    }
    return n_live;
}
