/*
 * gossip_int.h: internals shared by the gossip core's files (member table,
 * merge, detection, dissemination, push-pull). Not for callers of gossip.h.
 *
 * The core is single-threaded and not re-entrant: io->send must not call back
 * into the same struct gossip synchronously (the scratch messages below are
 * shared by every path that builds a datagram).
 */
#ifndef TALLY_GOSSIP_INT_H
#define TALLY_GOSSIP_INT_H

#include "gossip/gossip.h"
#include "gossip/member_table.h"

/* Failure detection (detect.c, SWIM with Lifeguard, memberlist's defaults):
 * a suspicion lasts at least SUSPICION_MULT x max(1, log10 N) rounds (4 s at
 * 10 members, 12 s at 1000), and MAX_MULT times that with no independent
 * confirmation; K confirmations bring it down to the minimum (none are
 * expected when fewer than K other members could give them). A node's
 * awareness score (0..AWARENESS_MAX) stretches its own probe timeouts. */
#define GOSSIP_SUSPICION_MULT     4
#define GOSSIP_SUSPICION_MAX_MULT 6
#define GOSSIP_SUSPICION_K        2
#define GOSSIP_AWARENESS_MAX      8
/* SWIM's k: members asked to probe for us when a direct PING went
 * unanswered. A helper keeps RELAYS probes for others in flight at most (a
 * PING_REQ past that is ignored: the asker has other helpers), each for
 * RELAY_ROUNDS rounds, and probes only addresses of live members it knows,
 * so it cannot be used to send datagrams to anyone else. A helper whose own
 * PING goes unanswered for a probe timeout sends the asker a NACK, so the
 * asker can tell "the member is down" from "my own link is bad". */
#define GOSSIP_INDIRECT_K 3
/* A probe, as memberlist's probeNode with its TCP fallback replaced by more
 * indirect tries: a PING; no ACK within a probe timeout (a PROBE_PHASES-th
 * of the round, 142 ms at 1 s rounds): the PING again and PING_REQs to k
 * helpers; nothing again: the same through k others, every probe timeout;
 * no ACK a round after the first PING: SUSPECT. At 30% loss a probe of a
 * live member then fails ~0.006% of the time (11% with one indirect try,
 * 0.13% with four): at N=1000 and two probes a round, ~0.1 false suspicions
 * a round, which refutation keeps up with (at 2.6 a round it did not: the
 * join never completed and a 30% row took 230 s of CPU). Every wait is
 * multiplied by awareness + 1 (Lifeguard), so a slow node probes and
 * accuses more slowly. */
#define GOSSIP_PROBE_PHASES 7
/* A probe starts every half round (a probe slot each, as a probe lasts a
 * round): a member that stops is first probed ~0.5 s later on average
 * instead of ~1 s, and its probe gap (Poisson: ~N probes by N members a
 * round) exceeds 2.5 s 0.7% of the time instead of 8%, which is what the
 * dead-everywhere targets have no room for. A node with awareness above 0
 * (Lifeguard) probes once a round. */
#define GOSSIP_PROBE_SLOTS 2
/* A member that hears someone else's suspicion probes the suspect next
 * with probability SUSPECT_PROBERS / N: a dead member then has its
 * confirmations within a round or two at any N (at N=10 it waited up to 6 s
 * for the walk to bring two more accusers), and a live one is not sent N
 * PINGs at once (200 KB of ACKs in one round at N=1000, 30% loss). */
#define GOSSIP_SUSPECT_PROBERS  9
#define GOSSIP_SUSPECT_CHECKERS 128
#define GOSSIP_RELAYS           8
#define GOSSIP_RELAY_ROUNDS     2
/* memberlist gossips every GossipInterval (200 ms) to GossipNodes (3): the
 * core sends what its event queue owes every GOSSIP_STEPS-th of a round,
 * to one random live member per step (the round's own heartbeats go to
 * fanout members), so a change travels several hops within a round. A step
 * with nothing owed sends nothing. */
#define GOSSIP_STEPS 5
/* Steps send only while the round's datagrams so far (heartbeats, probes,
 * repair) stay under this many bytes: a burst of changes is then carried by
 * the round's fanout heartbeats alone, and what a node sends a round stays
 * bounded whatever the queue holds. */
#define GOSSIP_ROUND_BUDGET (3 * PROTO_MAX_DATAGRAM)
/* Every DEAD_PEER_EVERY rounds one dead member joins the round's targets, so a
 * healed partition reconnects even when each side thinks the other is dead. */
#define GOSSIP_DEAD_PEER_EVERY 2
/* Each change (a member's state, incarnation, address, volume or slot) is
 * piggybacked RETRANSMIT_MULT x ceil(log10(N + 1)) times by every node that
 * learns it, least-sent first (memberlist's RetransmitMult, 4). */
#define GOSSIP_RETRANSMIT_MULT 4
/* Bytes of event-queue entries and counts a node piggybacks per round, on
 * the round's heartbeats and early ones together (own entries aside): at
 * most PIGGYBACK_BUDGET, and less when the rest of a round's datagrams
 * (heartbeats' own entries, probes, ACKs, relays: what loss multiplies)
 * take more than ROUND_TARGET - PIGGYBACK_BUDGET, smoothed over a few
 * rounds, but never less than PIGGYBACK_MIN. With the SYNC answer budget
 * that keeps a node's average under 4,200 bytes a round and its worst
 * round under 8,400 whatever N and the loss are, even while every node's
 * count moves at once: at 30% loss a probe takes about twice the datagrams
 * it takes at 10%, and the piggyback gives way. An early heartbeat goes
 * only while FLUSH_MIN bytes of it are left. */
#define GOSSIP_PIGGYBACK_BUDGET 2800
#define GOSSIP_PIGGYBACK_MIN    1400
#define GOSSIP_ROUND_TARGET     3600
#define GOSSIP_FLUSH_MIN        200
/* ACKs carrying our entry per round. A suspected member is PINGed by up to
 * GOSSIP_SUSPECT_CHECKERS members a round, and each PING carries the claim,
 * so each wants our refutation back; past this many the refutation travels
 * by gossip (liveness news, first in every queue) and a member's worst
 * round stays bounded. */
#define GOSSIP_ACK_WHOLE_MAX 16
/* Of that budget, the round's own heartbeats leave this much to the early
 * ones when news came between the last two rounds: after a cold start every
 * node owes thousands of whole-entry sends, which would otherwise fill every
 * round and leave fresh news (a count, a suspicion) waiting for the next
 * round instead of travelling at once. */
#define GOSSIP_FLUSH_RESERVE 700
/* Greeting memory: DNS re-resolves every few seconds; an address greeted less
 * than GREET_QUIET rounds ago is not greeted again, and at most
 * GREETS_PER_ROUND new addresses are greeted per round (1000 A records at
 * start must not become 1000 datagrams at once). */
#define GOSSIP_GREET_SLOTS      128
#define GOSSIP_GREET_QUIET      10
#define GOSSIP_GREETS_PER_ROUND 8
/* SYNC answers: at most this many DELTA datagrams for one SYNC (a peer that
 * needs more asks again and gets the rest), and at most this many SYNCs
 * answered per round (the rest are ignored: the asker retries). */
#define GOSSIP_SYNC_MAX_PARTS   24
#define GOSSIP_SYNC_ANSWERS_MAX 4
/* A node that is ready asks only to repair what piggybacking missed: its
 * answers hold at most this many datagrams, so periodic repair costs about
 * GOSSIP_SYNC_REPAIR_PARTS * 1400 / pushpull_every bytes a round, whatever
 * N, and a large difference is repaired over a few exchanges. A node that
 * is not ready yet (SYNC with the reply flag set) gets up to MAX_PARTS. */
#define GOSSIP_SYNC_REPAIR_PARTS 4
/* Compact count updates whose slot we do not know yet wait here (max-merged)
 * for the member's entry; past this many, the oldest is dropped and SYNC
 * repairs it (the slot's bucket differs until we hold it). */
#define GOSSIP_PENDING 64
/* SYNC answers' byte budget per round, shared by every SYNC answered in
 * it. Repair (a ready asker: compact counts) gets REPAIR_BUDGET of it, one
 * datagram, so a ready cluster's worst round stays near 7 KB whatever N is
 * (with two, a burst of visits everywhere took it past 9 KB at N = 1000). A node that is
 * not ready (joining, restarted, wiped: whole entries, the answer /readyz
 * waits on) may use the whole of SYNC_BUDGET, one answer's worth of
 * SYNC_MAX_PARTS datagrams, so a restarted node of 1000 is whole within
 * its 5 s recovery wait: rounds in which a peer joins cost its answerers
 * up to 34 KB. A joining node is mostly made whole by the push-pull over
 * TCP (pushpull.c) before it needs that. */
#define GOSSIP_SYNC_BUDGET        (GOSSIP_SYNC_MAX_PARTS * PROTO_MAX_DATAGRAM)
#define GOSSIP_SYNC_REPAIR_BUDGET (1 * PROTO_MAX_DATAGRAM)
/* A relayed entry may raise a member's incarnation by at most this much: a
 * real pod raises its own by one per start or refutation, so a bigger jump is
 * a forgery meant to pin the member past anything it could refute with. */
#define GOSSIP_INC_JUMP_MAX 1024
/* How long a claim by another live process with our name keeps the duplicate
 * warning up, in rounds. */
#define GOSSIP_DUP_ROUNDS 30
/* Until a whole table has been merged, and while each answer still brings
 * something new, a push-pull is asked again after this many rounds (the
 * first may have gone to a peer that knew little yet, or failed). */
#define GOSSIP_PUSHPULL_RETRY_ROUNDS 3
/* Follow-up exchanges a life may make because an answer brought a member or
 * a slot it lacked: a cold start of 1000 pods needs a few (each exchange
 * about doubles what a node knows); a pod joining a settled cluster one. */
#define GOSSIP_PUSHPULL_FOLLOWUPS 8

/* The slot-id index (slots.c): proto_slot_id(name, vol) -> row, vol. Two
 * known slots with one id make it ambiguous: updates by that id are left to
 * whole entries and SYNC rather than risk the wrong slot. */
#define GOSSIP_SID_EMPTY     UINT32_MAX
#define GOSSIP_SID_AMBIGUOUS (UINT32_MAX - 1)
struct gossip_sid {
    uint64_t sid;
    uint64_t vol;
    uint32_t row;
};

struct gossip_greeted {
    uint64_t hash;
    uint64_t until_ms;
};

/* A probe of ours: its row, nonce, phase (0 none, 1 the direct PING, 2..
 * the indirect tries), when it started and when its phase ends, helpers
 * asked and NACKs heard. */
struct gossip_probe {
    uint32_t row, phase, helpers, nacks;
    uint64_t nonce, start_ms, due_ms;
};

/* A probe we run for another member (PING_REQ): our PING's nonce, the
 * asker's nonce and address, until when an ACK is forwarded, and when a
 * NACK is due if none came (0: answered, or NACK sent). */
struct gossip_relay {
    uint64_t ours, theirs, until_ms, nack_ms;
    char addr[PROTO_ADDR_MAX + 1];
};

struct gossip {
    struct gossip_io io;
    struct member_table t;
    uint32_t interval_ms, fanout, pushpull_every, recovery_ms, max_members;
    uint64_t start_ms;
    bool synced; /* a peer's whole table has been merged */
    bool left;
    /* The SYNC we wait on: its nonce and which of its parts arrived. */
    uint64_t sync_nonce;
    uint64_t sync_parts_seen; /* bit i-1: part i */
    uint16_t sync_parts;
    uint32_t sync_answers; /* SYNCs answered this round */
    /* XOR of proto_slot_share() over the slots of each bucket (proto/bucket.c). */
    uint32_t buckets[PROTO_BUCKETS];
    uint64_t table_version;
    /* Another process with our name: the volume it counts on, its
     * incarnation as last seen, and until when to warn. */
    uint64_t dup_vol, dup_inc, dup_until_round;
    uint64_t rng;
    uint64_t round;
    /* The probes in flight (detect.c, one per slot) and Lifeguard's
     * awareness score; then the walk over the table. */
    struct gossip_probe probes[GOSSIP_PROBE_SLOTS];
    uint32_t awareness;
    size_t probe_cursor, probe_rows, probe_start, probe_stride; /* this pass of the walk */
    /* The core's clock (gossip_tick, gossip_next_ms): when the next round
     * and the next gossip step are due. */
    uint64_t round_due_ms, step_due_ms, half_due_ms;
    /* No suspicion ends before this (a lower bound: detect.c). */
    uint64_t expire_due_ms;
    struct gossip_relay relays[GOSSIP_RELAYS];
    uint32_t relay_next;
    uint64_t nonce;
    uint64_t stamp; /* numbers the datagrams being packed */
    uint32_t greets_this_round;
    /* Something changed since the last heartbeats, the event queue still
     * owes sends (liveness changes among them), this gossip step has sent
     * already, and bytes_out when the round began (gossip_news_flush). */
    bool news, owed, urgent_owed, step_sent;
    uint64_t round_bytes;
    struct gossip_stats stats;
    struct gossip_greeted greeted[GOSSIP_GREET_SLOTS];
    /* Slot ids (open addressing, a power of two) and updates waiting for
     * their slot; sync_bytes: SYNC answer bytes sent this round. */
    struct gossip_sid *sids;
    size_t sid_cap, sid_n;
    uint64_t sid_key;
    struct proto_count pending[GOSSIP_PENDING];
    uint32_t n_pending, pending_next;
    uint32_t sync_bytes;
    uint64_t sync_round;
    bool sync_whole_asked; /* our SYNC in flight asked for whole entries */
    uint64_t resync_round; /* round + 1 of the last SYNC sent for unknown slots */
    /* Piggyback bytes sent this round (hb_round), and the size limit of the
     * datagram being packed. */
    uint32_t hb_bytes;
    /* This round's piggyback budget (gossip_budget_roll): from base_avg,
     * the smoothed bytes a round sent besides piggyback and repair, and
     * repair_bytes, this round's SYNC and DELTA bytes. */
    uint32_t pb_budget, base_avg;
    uint64_t repair_bytes;
    /* ACKs that carried our entry in round acks_round (gossip_ack_send). */
    uint32_t acks_whole;
    uint64_t acks_round;
    uint64_t hb_round;
    bool flushing;     /* the heartbeats being sent are early ones */
    bool news_between; /* news came since the round's own heartbeats */
    size_t tx_cap;
    /* Some live member speaks only version 2: peers not heard from yet are
     * written version 2 too (disseminate.c). */
    bool old_peers;
    /* A bit per row (max_members of them) that may owe the event queue
     * sends: set by gossip_news*, cleared by gossip_hot_order once the row
     * owes nothing. */
    uint64_t *queued;
    /* The source address and highest version of the datagram being
     * handled (receive.c), for answers to a sender we have no row for. */
    char rx_addr[PROTO_ADDR_MAX + 1];
    uint8_t rx_vmax;
    /* Scratch: indices of live peers and the piggyback order of this round. */
    uint32_t *scratch_a, *scratch_b;
    size_t scratch_cap;
    struct proto_msg rx, tx;
    /* Push-pull (pushpull.c): when the next one is asked for; 0: at join. */
    uint64_t pushpull_next_ms;
    uint32_t pushpull_followups;
    uint8_t buf[PROTO_MAX_DATAGRAM];
};

/* Row r's membership changed in our view (a new member, state,
 * incarnation, address, volume or slot): it goes to the front of the event
 * queue, to be sent as a whole entry. */
static inline void gossip_queue_mark(struct gossip *g, const struct gmember *r)
{
    size_t i = (size_t)(r - g->t.rows);
    g->queued[i / 64] |= 1ull << (i % 64);
}

static inline void gossip_news(struct gossip *g, struct gmember *r)
{
    gossip_queue_mark(g, r);
    r->full = true;
    r->full_sends = 0;
    g->news = true;
}

/* Only the count of r's slot k rose: a compact update (slot id, count),
 * owed its own sends whatever whole-entry sends the row still owes. */
static inline void gossip_news_count(struct gossip *g, struct gmember *r, unsigned k)
{
    gossip_queue_mark(g, r);
    r->sends = 0;
    r->slot_news |= (uint16_t)(1u << k);
    g->news = true;
}

/* The owner's row is always row 0. */
#define GOSSIP_SELF 0u

static inline struct gmember *gossip_self_row(struct gossip *g)
{
    return &g->t.rows[GOSSIP_SELF];
}

/* splitmix64: small, fast, deterministic from the seed. */
static inline uint64_t gossip_rand(struct gossip *g)
{
    uint64_t z = (g->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint32_t gossip_rand_below(struct gossip *g, uint32_t n)
{
    return (uint32_t)(gossip_rand(g) % n);
}

/* (incarnation, heartbeat) order: <0, 0, >0. */
static inline int gossip_version_cmp(uint64_t g1, uint64_t h1, uint64_t g2, uint64_t h2)
{
    if (g1 != g2)
        return g1 < g2 ? -1 : 1;
    if (h1 != h2)
        return h1 < h2 ? -1 : 1;
    return 0;
}

/* ceil(log2(n)), at least 1. */
uint32_t gossip_log2_ceil(size_t n);
uint32_t gossip_retransmits(const struct gossip *g);
/* receive.c: entry point for one decoded datagram in g->rx. */
void gossip_msg_handle(struct gossip *g, uint64_t now_ms, const char *from_addr);

/* gossip.c */
int gossip_scratch_reserve(struct gossip *g, size_t n);
/* Every change of a member's state goes through here: it moves the table
 * version (the node saves the table), counts suspicions and tells io. */
void gossip_state_set(struct gossip *g, uint32_t i, enum gossip_state to);

/* merge.c: apply one received entry; from is the datagram's sender name,
 * from_addr its source address. */
void gossip_entry_merge(struct gossip *g, uint64_t now_ms, const struct proto_entry *e,
                        const char *from, const char *from_addr);
void gossip_entry_fill(const struct gossip *g, const struct gmember *r, struct proto_entry *e);
/* e comes from its owner: the datagram's sender is e's name and its source
 * is the address e gives (when it gives one). */
bool gossip_from_owner(const struct proto_entry *e, const char *from, const char *from_addr);
/* A new member row for name (checked absent), or MEMBER_NONE past the cap
 * (counted) or out of memory. */
uint32_t gossip_member_add(struct gossip *g, const char *name);

/* slots.c: row i's slot vol rises to at least count (max-merge), added if
 * new. Keeps the row's sum, the bucket hashes and the table version right.
 * Returns 1 if it changed, 0 if not, -ENOSPC when the row has no room. */
int gossip_slot_merge(struct gossip *g, uint32_t i, uint64_t vol, uint64_t count);
/* A compact update: the slot with id sid rises to at least count, or the
 * update waits for its slot (merge.c). */
void gossip_count_merge(struct gossip *g, uint64_t sid, uint64_t count);
/* Our own slot vol as a peer holds it (count): our current slot is never
 * taken from anyone (slot_behind), any other merges (merge.c). */
void gossip_self_slot_merge(struct gossip *g, uint64_t vol, uint64_t count);
/* slots.c: the row and vol of slot id sid; false when unknown or ambiguous
 * (*ambiguous tells which). */
bool gossip_sid_find(const struct gossip *g, uint64_t sid, uint32_t *row, uint64_t *vol,
                     bool *ambiguous);
/* Keep an update for a slot we do not know yet (max-merged); it is applied
 * when the slot is added (slots.c). */
void gossip_pending_put(struct gossip *g, uint64_t sid, uint64_t count);
/* The version to write to addr: the highest both ends speak. */
uint8_t gossip_peer_version(const struct gossip *g, const char *addr);
/* The slot vol of row i, or NULL. */
const struct gossip_slot *gossip_slot_find(const struct gmember *r, uint64_t vol);
/* a + b, saturating at UINT64_MAX. */
static inline uint64_t gossip_sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* sync.c: SYNC, the whole-table repair by bucket hashes. */
void gossip_sync_send(struct gossip *g, const char *addr);
void gossip_sync_handle(struct gossip *g, const char *from_addr);
/* A DELTA that answers a SYNC (parts != 0) arrived and was merged. */
void gossip_sync_part(struct gossip *g, uint64_t now_ms, const char *from_addr);

/* detect.c: collects live peers into scratch_a, returns their number; one
 * random dead member with an address in *dead_pick, one random member we
 * suspect in *suspect_pick (MEMBER_NONE if none). */
size_t gossip_detect_run(struct gossip *g, uint64_t now_ms, size_t *n_dead, uint32_t *dead_pick,
                         uint32_t *suspect_pick);
/* A suspicion we hold must not outlive its refutation because the gossip
 * that carried the refutation missed us: each round one member we suspect
 * (suspect_pick) gets a PING outside the probe, and its ACK, which starts
 * with its own entry, brings its newer incarnation (or proves it alive).
 * Its failure accuses no one. */
void gossip_suspect_check(struct gossip *g, uint32_t i);
/* Suspicions past their timeout become DEAD. */
void gossip_suspicions_expire(struct gossip *g, uint64_t now_ms);
/* Row i becomes SUSPECT in our view with a fresh suspicion timer, accused
 * by the member named by (ourselves after a failed probe). */
void gossip_suspect_start(struct gossip *g, uint32_t i, uint64_t now_ms, const char *by);
/* Another accuser (by name) suspects row i too: the first GOSSIP_SUSPICION_K
 * distinct ones shorten the timer, and the claim is gossiped again naming
 * the new accuser, so others count it too. Returns true if it was new. */
bool gossip_suspect_confirm(struct gossip *g, uint32_t i, const char *by);
/* A new probe in slot (0 at the start of a round, after the heartbeats so
 * they stay the round's first datagrams; 1 half a round later), unless that
 * slot's last probe still runs. */
void gossip_probe_step(struct gossip *g, uint64_t now_ms, uint32_t slot);
/* The probe's and the relays' deadlines that have come: the indirect phase,
 * the verdict, NACKs owed to askers. */
void gossip_probe_timers(struct gossip *g, uint64_t now_ms);
/* The earliest of those deadlines, UINT64_MAX if none. */
uint64_t gossip_probe_due_ms(const struct gossip *g);
/* An ACK with this nonce arrived: our probe's, or one we forward. */
void gossip_probe_ack(struct gossip *g, uint64_t now_ms, uint64_t nonce);
/* A NACK with this nonce arrived: a helper of our probe could not reach it. */
void gossip_probe_nack(struct gossip *g, uint64_t nonce);
/* A PING_REQ in g->rx from from_addr: probe its target for the asker. */
void gossip_ping_req_handle(struct gossip *g, uint64_t now_ms, const char *from_addr);
/* We had to refute a claim that we are suspect or dead: we are the slow one. */
void gossip_awareness_raise(struct gossip *g);

/* disseminate.c */
/* g->tx as part of parts of a numbered DELTA answering nonce (a SYNC answer,
 * a full state); whole: the parts hold every row asked for. With part and
 * parts at their largest it sizes the header of every part. */
void gossip_part_init(struct gossip *g, uint64_t nonce, uint16_t part, uint16_t parts,
                      uint8_t whole);
void gossip_msg_init(struct gossip *g, struct proto_msg *m, uint8_t type);
/* Encode g->tx and send it; trims entries/digest items that do not fit and
 * returns how many entries were sent (the rest are the caller's to resend). */
uint32_t gossip_tx_send(struct gossip *g, const char *addr);
void gossip_heartbeats_send(struct gossip *g, const uint32_t *targets, size_t n);
/* Compact updates of row r's slots in mask (bit k: slots[k]) into out, with
 * their encoded size; -1 when a slot's id is ambiguous here (two slots we
 * know share it): then only the whole entry may carry it. */
int gossip_row_counts(const struct gossip *g, const struct gmember *r, uint16_t mask,
                      struct proto_count *out, size_t *bytes);
/* Appends them to g->tx within g->tx_cap: 1 added, 0 no room, -1 ambiguous. */
int gossip_tx_add_counts(struct gossip *g, struct gmember *r, uint16_t mask, size_t *used);
/* News since the last heartbeats, or sends the queue still owes: one
 * heartbeat now, at most once per gossip step, within the round's budget
 * (liveness news past it). */
void gossip_news_flush(struct gossip *g);
/* As a round begins: the round's piggyback budget from the rounds before. */
void gossip_budget_roll(struct gossip *g);
/* A PING to row's member: no entry of ours (the ACK is what the probe
 * wants), but its own entry when we think it suspect or dead, so it can
 * refute the claim in its ACK. */
void gossip_ping_send(struct gossip *g, uint64_t nonce, uint32_t row);
/* What an ACK carries: nothing but the nonce; our entry, answering a claim
 * about us from a member (at most GOSSIP_ACK_WHOLE_MAX a round: past them a
 * probe's ACK goes bare and a suspect check, nonce 0, gets none); our entry
 * for a stranger (tallyctl reads who answered from it). A peer that reads
 * only version 3 or older gets our entry whatever the kind. */
enum gossip_ack { GOSSIP_ACK_BARE, GOSSIP_ACK_CLAIM, GOSSIP_ACK_STRANGER };
void gossip_ack_send(struct gossip *g, uint64_t nonce, const char *addr, enum gossip_ack kind);
void gossip_entries_send(struct gossip *g, uint8_t type, uint64_t nonce, const char *addr,
                         const uint32_t *rows, size_t n);

/* pushpull.c: ask io for a push-pull with row pp when one is due. */
void gossip_pushpull_due(struct gossip *g, uint64_t now_ms, uint32_t pp);

#endif
