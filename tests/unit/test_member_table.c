/*
 * test_member_table.c: the gossip member table's indexes stay O(1) against
 * names chosen to collide. Names come from the network, so a peer could
 * pick ones whose unkeyed hash lands in one bucket and make every lookup a
 * walk of the whole table; the table hashes under a key of its own instead.
 * The test builds such names for FNV-1a (the hash the table used before) and
 * checks no chain grows long, that every name is still found, and that the
 * key follows the seed (same seed, same placement: the simulator replays).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gossip/member_table.h"

#define N_NAMES 256

/* N_NAMES names whose FNV-1a hashes agree in their low 10 bits: one
 * bucket for any table of up to 1024 buckets under an unkeyed FNV index. */
static void colliding_names(char names[N_NAMES][32])
{
    uint64_t want = member_table_hash("pod-0") & 0x3ff;
    int n = 0;
    for (uint64_t i = 0; n < N_NAMES; i++) {
        char name[32];
        snprintf(name, sizeof(name), "pod-%llu", (unsigned long long)i);
        if ((member_table_hash(name) & 0x3ff) == want)
            memcpy(names[n++], name, sizeof(name));
    }
}

static size_t longest_chain(const struct member_table *t)
{
    size_t longest = 0;
    for (size_t b = 0; b < t->nbuckets; b++) {
        size_t len = 0;
        for (uint32_t i = t->name_heads[b]; i != MEMBER_NONE; i = t->links[i].name_next)
            len++;
        if (len > longest)
            longest = len;
    }
    return longest;
}

static void fill(struct member_table *t, uint64_t seed, char names[N_NAMES][32])
{
    assert_int_equal(member_table_init(t, seed), 0);
    for (int i = 0; i < N_NAMES; i++) {
        assert_int_equal(member_table_add(t, names[i]), (uint32_t)i);
        member_table_addr_set(t, (uint32_t)i, names[i]); /* addresses index alike */
    }
}

static void test_chosen_collisions_stay_short(void **state)
{
    static char names[N_NAMES][32];
    struct member_table t;
    (void)state;
    colliding_names(names);
    fill(&t, 42, names);
    /* 256 names over >= 256 buckets: a random hash gives chains of a few;
     * the unkeyed one gave a single chain of 256 */
    assert_true(longest_chain(&t) <= 12);
    for (int i = 0; i < N_NAMES; i++) {
        assert_int_equal(member_table_find(&t, names[i]), (uint32_t)i);
        if (i > 0)
            assert_int_equal(member_table_addr_find(&t, names[i]), (uint32_t)i);
    }
    assert_int_equal(member_table_find(&t, "pod-absent"), MEMBER_NONE);
    member_table_free(&t);
}

static void test_key_follows_the_seed(void **state)
{
    static char names[N_NAMES][32];
    struct member_table a, b, c;
    (void)state;
    colliding_names(names);
    fill(&a, 7, names);
    fill(&b, 7, names);
    fill(&c, 8, names);
    assert_memory_equal(a.key, b.key, sizeof(a.key));
    assert_memory_not_equal(a.key, c.key, sizeof(a.key));
    assert_int_equal(a.nbuckets, b.nbuckets);
    assert_memory_equal(a.name_heads, b.name_heads, a.nbuckets * sizeof(a.name_heads[0]));
    member_table_free(&a);
    member_table_free(&b);
    member_table_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chosen_collisions_stay_short),
        cmocka_unit_test(test_key_follows_the_seed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
