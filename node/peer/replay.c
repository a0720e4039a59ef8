/*
 * peer/replay.c: the replay window of sealed gossip (see replay.h). Boots live in
 * an open-addressing table keyed by the boot id (itself random, so it is its
 * own hash); it never fills past three quarters: the least recently heard
 * boot makes room, found by one scan, which happens only when a new boot
 * arrives at a full table.
 */
#include "node/peer/replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

struct replay_boot {
    uint64_t boot; /* 0: empty slot */
    uint64_t hi;   /* highest seq seen */
    uint64_t bits; /* bit i: seq hi - i seen */
    uint64_t last_ms;
};

struct replay {
    struct replay_boot *t;
    size_t cap, n;
};

int replay_new(size_t cap, struct replay **out)
{
    size_t c = 16;
    while (c < cap * 4 / 3 + 1)
        c *= 2;
    struct replay *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->t = calloc(c, sizeof(*r->t));
    if (!r->t) {
        free(r);
        return -ENOMEM;
    }
    r->cap = c;
    *out = r;
    return 0;
}

void replay_free(struct replay *r)
{
    if (!r)
        return;
    free(r->t);
    free(r);
}

size_t replay_boots(const struct replay *r)
{
    return r->n;
}

static size_t replay_slot(const struct replay *r, uint64_t boot)
{
    size_t i = (size_t)(boot * 0x9E3779B97F4A7C15ull) & (r->cap - 1);
    while (r->t[i].boot && r->t[i].boot != boot)
        i = (i + 1) & (r->cap - 1);
    return i;
}

/* Remove slot i and re-place the cluster after it (linear probing). */
static void replay_remove(struct replay *r, size_t i)
{
    r->t[i].boot = 0;
    r->n--;
    for (size_t j = (i + 1) & (r->cap - 1); r->t[j].boot; j = (j + 1) & (r->cap - 1)) {
        struct replay_boot e = r->t[j];
        r->t[j].boot = 0;
        r->t[replay_slot(r, e.boot)] = e;
    }
}

static void replay_evict_oldest(struct replay *r)
{
    size_t oldest = r->cap;
    for (size_t i = 0; i < r->cap; i++)
        if (r->t[i].boot && (oldest == r->cap || r->t[i].last_ms < r->t[oldest].last_ms))
            oldest = i;
    if (oldest < r->cap)
        replay_remove(r, oldest);
}

bool replay_check(struct replay *r, uint64_t boot, uint64_t seq, uint64_t now_ms)
{
    if (boot == 0)
        boot = 1; /* 0 marks an empty slot */
    size_t i = replay_slot(r, boot);
    struct replay_boot *b = &r->t[i];
    if (!b->boot) {
        if ((r->n + 1) * 4 > r->cap * 3) {
            replay_evict_oldest(r);
            i = replay_slot(r, boot);
            b = &r->t[i];
        }
        b->boot = boot;
        b->hi = seq;
        b->bits = 1;
        b->last_ms = now_ms;
        r->n++;
        return true;
    }
    b->last_ms = now_ms;
    if (seq > b->hi) {
        uint64_t shift = seq - b->hi;
        b->bits = shift >= REPLAY_WINDOW ? 1 : (b->bits << shift) | 1;
        b->hi = seq;
        return true;
    }
    uint64_t back = b->hi - seq;
    if (back >= REPLAY_WINDOW || (b->bits >> back & 1))
        return false;
    b->bits |= 1ull << back;
    return true;
}

static void replay_put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t replay_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

void replay_nonce_next(struct replay_sender *s, uint8_t nonce[24])
{
    uint64_t rnd = 0;
    /* libsodium's generator, not libuv's: the datagram path links no libuv
     * (the simulator runs it), and sodium_init() has run (seal_load). */
    while (s->boot == 0)
        randombytes_buf(&s->boot, sizeof(s->boot));
    randombytes_buf(&rnd, sizeof(rnd));
    replay_put64(nonce, s->boot);
    replay_put64(nonce + 8, ++s->seq);
    replay_put64(nonce + 16, rnd);
}

void replay_nonce_read(const uint8_t nonce[24], uint64_t *boot, uint64_t *seq)
{
    *boot = replay_get64(nonce);
    *seq = replay_get64(nonce + 8);
}
