/*
 * test_replay.c: the two gates in front of the gossip core (node/peer/replay.c,
 * node/peer/allow.c). What they promise: a sealed datagram is taken once and
 * a copy of it never again, within its sender's window; reordering inside the
 * window is fine; a new boot (a restarted sender) is heard; the table of
 * boots stays bounded. Without a key, only listed addresses are heard, and
 * only while their listing is fresh.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node/peer/allow.h"
#include "node/peer/replay.h"

static void test_replay_once(void **state)
{
    (void)state;
    struct replay *r;
    assert_int_equal(replay_new(16, &r), 0);
    assert_true(replay_check(r, 7, 1, 0));
    assert_false(replay_check(r, 7, 1, 0)); /* the same datagram again */
    assert_true(replay_check(r, 7, 3, 0));
    assert_true(replay_check(r, 7, 2, 0)); /* late, inside the window */
    assert_false(replay_check(r, 7, 2, 0));
    assert_true(replay_check(r, 7, 3 + REPLAY_WINDOW + 10, 0));
    assert_false(replay_check(r, 7, 4, 0)); /* older than the window */
    assert_true(replay_check(r, 8, 1, 0));  /* another sender, its own window */
    replay_free(r);
}

static void test_replay_bounded(void **state)
{
    (void)state;
    struct replay *r;
    assert_int_equal(replay_new(8, &r), 0);
    for (uint64_t b = 1; b <= 1000; b++)
        assert_true(replay_check(r, b * 0x9E3779B97F4A7C15ull, 1, b));
    assert_true(replay_boots(r) <= 16);
    /* the boots heard last are remembered */
    assert_false(replay_check(r, 1000 * 0x9E3779B97F4A7C15ull, 1, 1001));
    replay_free(r);
}

static void test_nonce_layout(void **state)
{
    (void)state;
    struct replay_sender s = {0};
    uint8_t a[24], b[24];
    uint64_t boot, seq, boot2, seq2;
    replay_nonce_next(&s, a);
    replay_nonce_next(&s, b);
    replay_nonce_read(a, &boot, &seq);
    replay_nonce_read(b, &boot2, &seq2);
    assert_true(boot != 0 && boot == boot2);
    assert_int_equal(seq, 1);
    assert_int_equal(seq2, 2);
    assert_memory_not_equal(a, b, 24);
}

static struct sockaddr_in v4(const char *ip, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &sa.sin_addr);
    return sa;
}

static void test_allow_listed_fresh(void **state)
{
    (void)state;
    struct peer_allow *a;
    assert_int_equal(peer_allow_new(2, 1000, &a), 0);
    peer_allow_note(a, "10.0.0.1:7946", 0);
    struct sockaddr_in one = v4("10.0.0.1", 40000), two = v4("10.0.0.2", 7946);
    /* the IP is what is listed: any source port of it is heard */
    assert_true(peer_allow_check(a, (struct sockaddr *)&one, 500));
    assert_false(peer_allow_check(a, (struct sockaddr *)&two, 500));
    assert_false(peer_allow_check(a, (struct sockaddr *)&one, 1001)); /* listing went stale */
    peer_allow_note(a, "10.0.0.1:7946", 1500);
    assert_true(peer_allow_check(a, (struct sockaddr *)&one, 2000));
    /* past the cap the oldest listing makes room */
    peer_allow_note(a, "10.0.0.2:7946", 1600);
    peer_allow_note(a, "10.0.0.3:7946", 1700);
    assert_false(peer_allow_check(a, (struct sockaddr *)&one, 1800));
    assert_true(peer_allow_check(a, (struct sockaddr *)&two, 1800));
    /* IPv6 and garbage */
    peer_allow_note(a, "[fd00::5]:7946", 1800);
    struct sockaddr_in6 six = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "fd00::5", &six.sin6_addr);
    assert_true(peer_allow_check(a, (struct sockaddr *)&six, 1900));
    peer_allow_note(a, "not an address", 1900);
    assert_int_equal(peer_allow_count(a, 1900), 2);
    peer_allow_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_once),
        cmocka_unit_test(test_replay_bounded),
        cmocka_unit_test(test_nonce_layout),
        cmocka_unit_test(test_allow_listed_fresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
