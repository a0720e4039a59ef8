/*
 * gossip_entry.h: the wire entry the gossip tests build by hand, one way for
 * all of them (test_gossip_core, test_gossip_pushpull).
 */
#ifndef TALLY_TESTS_GOSSIP_ENTRY_H
#define TALLY_TESTS_GOSSIP_ENTRY_H

#include <stdio.h>
#include <string.h>

#include "proto/proto.h"

/* An entry counting count on volume vol (no slot if vol is 0). */
static inline struct proto_entry mk_entry(const char *name, const char *addr, uint64_t inc,
                                          uint64_t hb, uint64_t vol, uint64_t count, uint8_t st)
{
    struct proto_entry e;
    memset(&e, 0, sizeof(e));
    snprintf(e.name, sizeof(e.name), "%s", name);
    snprintf(e.addr, sizeof(e.addr), "%s", addr);
    e.incarnation = inc;
    e.heartbeat = hb;
    e.vol = vol;
    e.state = st;
    if (vol) {
        e.slots[0].vol = vol;
        e.slots[0].count = count;
        e.n_slots = 1;
    }
    return e;
}

#endif
