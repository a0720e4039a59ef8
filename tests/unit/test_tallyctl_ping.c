/*
 * test_tallyctl_ping.c: what tallyctl puts on the wire and accepts back.
 * The PING decodes as a PING from "tallyctl" with our nonce; an ACK is
 * matched only by its nonce; address literals parse with default ports.
 * ping_run is checked against a loopback socket playing the pod, and against
 * real pods by tests/process/test_tallyctl.sh.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tools/tallyctl/ping.h"

static void test_ping_encodes(void **state)
{
    uint8_t buf[PROTO_MAX_DATAGRAM];
    struct proto_msg *m = malloc(sizeof(*m));
    int n = ping_encode(0x1122334455667788ull, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(proto_msg_decode(buf, (size_t)n, m, NULL), PROTO_OK);
    assert_int_equal(m->type, PROTO_PING);
    assert_string_equal(m->from, "tallyctl");
    assert_true(m->nonce == 0x1122334455667788ull);
    assert_int_equal(m->n_entries, 0); /* tallyctl is no member: it gossips nothing */
    /* Written in the oldest version, so every build reads it; its range
     * asks for the answer in the newest. */
    assert_int_equal(m->version, PROTO_VERSION_MIN);
    assert_int_equal(m->vmax, PROTO_VERSION_MAX);
    free(m);
}

static int ack_encode(uint64_t nonce, uint8_t type, uint8_t *buf, size_t cap)
{
    struct proto_msg *m = calloc(1, sizeof(*m));
    m->type = type;
    m->nonce = nonce;
    snprintf(m->from, sizeof(m->from), "myapp-stateful-1");
    m->n_entries = 1;
    snprintf(m->entries[0].name, sizeof(m->entries[0].name), "myapp-stateful-1");
    snprintf(m->entries[0].addr, sizeof(m->entries[0].addr), "10.244.0.13:7946");
    m->entries[0].incarnation = 7;
    m->entries[0].heartbeat = 12;
    m->entries[0].vol = 0x5f2c9a0e41d7b3c8ull;
    m->entries[0].n_slots = 2;
    m->entries[0].slots[0].vol = 0x1111;
    m->entries[0].slots[0].count = 1;
    m->entries[0].slots[1].vol = 0x5f2c9a0e41d7b3c8ull;
    m->entries[0].slots[1].count = 2;
    m->entries[0].state = PROTO_STATE_ALIVE;
    int n = proto_msg_encode(m, buf, cap);
    free(m);
    return n;
}

static void test_ack_match(void **state)
{
    uint8_t buf[PROTO_MAX_DATAGRAM];
    struct proto_entry e;
    int n = ack_encode(42, PROTO_ACK, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(ping_ack_match(buf, (size_t)n, 42, &e), 1);
    assert_string_equal(e.name, "myapp-stateful-1");
    assert_int_equal(proto_entry_visits(&e), 3);
    assert_true(e.incarnation == 7);
    assert_int_equal(ping_ack_match(buf, (size_t)n, 43, &e), 0); /* someone else's ACK */
    n = ack_encode(42, PROTO_HEARTBEAT, buf, sizeof(buf));
    assert_int_equal(ping_ack_match(buf, (size_t)n, 42, &e), 0); /* not an ACK */
    assert_true(ping_ack_match((const uint8_t *)"junk", 4, 42, &e) < 0);
}

static void test_target_parse(void **state)
{
    static const struct {
        const char *in, *label;
    } ok[] = {
        {"10.244.0.13", "10.244.0.13:7946"}, {"10.244.0.13:7000", "10.244.0.13:7000"},
        {"fd00::13", "[fd00::13]:7946"},     {"[fd00::13]:7000", "[fd00::13]:7000"},
        {"[fd00::13]", "[fd00::13]:7946"},
    };
    static const char *const not_literal[] = {
        "myapp-stateful-1",  "myapp-stateful-1:7946", "10.244.0.13:", "10.244.0.13:0",
        "10.244.0.13:65536", "[fd00::13]x",           "[fd00::13",    "",
        "1.2.3.4.5",
    };
    struct ping_target t;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(ping_target_parse(ok[i].in, 7946, &t), 0);
        assert_string_equal(t.label, ok[i].label);
    }
    for (size_t i = 0; i < sizeof(not_literal) / sizeof(not_literal[0]); i++)
        if (ping_target_parse(not_literal[i], 7946, &t) != -EINVAL)
            fail_msg("'%s' parsed as an address", not_literal[i]);
}

/* A forked child on 127.0.0.1 plays the pod: it answers the PING it gets
 * with an ACK carrying that PING's nonce, which ping_run must accept. (No
 * answer at all is the process test's "nobody listens" case: it can only be
 * shown by waiting out a timeout.) */
static void test_run_against_socket(void **state)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t sl = sizeof(sa);
    uint8_t buf[PROTO_MAX_DATAGRAM];
    int pod = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(pod >= 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(pod, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(pod, (struct sockaddr *)&sa, &sl), 0);

    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof(from);
        struct proto_msg *m = malloc(sizeof(*m));
        ssize_t n = recvfrom(pod, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
        if (!m || n <= 0 || proto_msg_decode(buf, (size_t)n, m, NULL) != PROTO_OK ||
            m->type != PROTO_PING)
            _exit(1);
        /* A stray datagram first: tallyctl must skip it. */
        int len = ack_encode(m->nonce + 1, PROTO_ACK, buf, sizeof(buf));
        sendto(pod, buf, (size_t)len, 0, (struct sockaddr *)&from, fl);
        len = ack_encode(m->nonce, PROTO_ACK, buf, sizeof(buf));
        sendto(pod, buf, (size_t)len, 0, (struct sockaddr *)&from, fl);
        free(m);
        _exit(0);
    }
    struct ping_target t;
    ping_target_set(&t, (struct sockaddr *)&sa, ntohs(sa.sin_port));
    assert_int_equal(ping_run(&t, 1, 10000), 1);
    assert_true(t.answered);
    assert_int_equal(t.err, 0);
    assert_string_equal(t.entry.name, "myapp-stateful-1");
    assert_int_equal(proto_entry_visits(&t.entry), 3);
    int st = -1;
    assert_int_equal(waitpid(child, &st, 0), child);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(pod);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping_encodes),
        cmocka_unit_test(test_ack_match),
        cmocka_unit_test(test_target_parse),
        cmocka_unit_test(test_run_against_socket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
