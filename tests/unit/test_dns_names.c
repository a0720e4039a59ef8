/*
 * test_dns_names.c: discovery's address handling without a DNS server
 * (node/peer/dns_names.c). What it promises: the service is asked as a
 * fully qualified name when it looks like one, and its SRV name follows; an
 * SRV target that does not fit is refused, never cut into another name;
 * --peers that are IP literals need no DNS; and a name that keeps failing is
 * logged once, whatever the other names do, and again when it recovers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "node/peer/dns_names.h"

static void test_service_names(void **state)
{
    (void)state;
    char fqdn[DNS_NAME_MAX + 1], srv[DNS_NAME_MAX + 1];
    assert_int_equal(dns_service_names("myapp", fqdn, sizeof(fqdn), srv, sizeof(srv)), 0);
    assert_string_equal(fqdn, "myapp"); /* short: through the search list */
    assert_string_equal(srv, "_gossip._udp.myapp");
    assert_int_equal(
        dns_service_names("myapp.ns.svc.cluster.local", fqdn, sizeof(fqdn), srv, sizeof(srv)), 0);
    assert_string_equal(fqdn, "myapp.ns.svc.cluster.local.");
    assert_string_equal(srv, "_gossip._udp.myapp.ns.svc.cluster.local.");
    assert_int_equal(dns_service_names("a.b.", fqdn, sizeof(fqdn), srv, sizeof(srv)), 0);
    assert_string_equal(fqdn, "a.b."); /* already final */
    assert_int_equal(dns_service_names("myapp.ns", fqdn, sizeof(fqdn), srv, sizeof(srv)), 0);
    assert_string_equal(fqdn, "myapp.ns"); /* one dot: not taken as qualified */

    /* a name that fits but whose SRV name does not */
    char name[DNS_NAME_MAX];
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    assert_int_equal(dns_service_names(name, fqdn, sizeof(fqdn), srv, sizeof(srv)), -ENAMETOOLONG);
}

static void test_srv_target(void **state)
{
    (void)state;
    char out[DNS_NAME_MAX + 1];
    assert_int_equal(dns_srv_target("pod-0.myapp.ns.svc.cluster.local", out, sizeof(out)), 0);
    assert_string_equal(out, "pod-0.myapp.ns.svc.cluster.local.");
    assert_int_equal(dns_srv_target("pod-0.myapp.", out, sizeof(out)), 0);
    assert_string_equal(out, "pod-0.myapp.");
    assert_int_equal(dns_srv_target("", out, sizeof(out)), -EINVAL);

    /* exactly fits with its dot, then one byte more: refused, nothing written */
    char host[DNS_NAME_MAX + 8];
    memset(host, 'x', sizeof(host));
    host[DNS_NAME_MAX - 1] = '\0';
    assert_int_equal(dns_srv_target(host, out, sizeof(out)), 0);
    assert_int_equal(strlen(out), DNS_NAME_MAX);
    host[DNS_NAME_MAX - 1] = 'x';
    host[DNS_NAME_MAX] = '\0';
    assert_int_equal(dns_srv_target(host, out, sizeof(out)), -ENAMETOOLONG);
    assert_string_equal(out, "");
    /* already qualified, one byte past: also refused */
    host[DNS_NAME_MAX] = '.';
    host[DNS_NAME_MAX + 1] = '\0';
    assert_int_equal(dns_srv_target(host, out, sizeof(out)), -ENAMETOOLONG);
}

static void test_ip_literal(void **state)
{
    (void)state;
    assert_true(dns_is_ip_literal("10.0.0.1"));
    assert_true(dns_is_ip_literal("fd00::1"));
    assert_false(dns_is_ip_literal("pod-0.myapp"));
    assert_false(dns_is_ip_literal("10.0.0.256"));
    assert_false(dns_is_ip_literal(""));
    char longname[DNS_NAME_MAX + 20];
    memset(longname, '1', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_false(dns_is_ip_literal(longname));
}

static void test_log_once_per_name(void **state)
{
    (void)state;
    struct dns_names_seen *s;
    const int servfail = 11, timeout = 12;
    assert_int_equal(dns_seen_new(8, &s), 0);
    /* one name fails every round while another answers every round: the
     * failing one is reported once, the answering one never */
    assert_int_equal(dns_seen_note(s, "good.svc.", 0), DNS_NOTE_QUIET);
    assert_int_equal(dns_seen_note(s, "bad.svc.", servfail), DNS_NOTE_FAILED);
    for (int round = 0; round < 10; round++) {
        assert_int_equal(dns_seen_note(s, "good.svc.", 0), DNS_NOTE_QUIET);
        assert_int_equal(dns_seen_note(s, "bad.svc.", servfail), DNS_NOTE_QUIET);
    }
    /* failing another way is news; answering again is news once */
    assert_int_equal(dns_seen_note(s, "bad.svc.", timeout), DNS_NOTE_FAILED);
    assert_int_equal(dns_seen_note(s, "bad.svc.", 0), DNS_NOTE_RECOVERED);
    assert_int_equal(dns_seen_note(s, "bad.svc.", 0), DNS_NOTE_QUIET);
    dns_seen_free(s);
}

static void test_log_state_bounded(void **state)
{
    (void)state;
    struct dns_names_seen *s;
    char name[32];
    assert_int_equal(dns_seen_new(2, &s), 0);
    assert_int_equal(dns_seen_note(s, "a.", 1), DNS_NOTE_FAILED);
    assert_int_equal(dns_seen_note(s, "b.", 1), DNS_NOTE_FAILED);
    assert_int_equal(dns_seen_note(s, "a.", 1), DNS_NOTE_QUIET); /* a is now the newer */
    /* a third name evicts b, the one noted least recently */
    assert_int_equal(dns_seen_note(s, "c.", 1), DNS_NOTE_FAILED);
    assert_int_equal(dns_seen_note(s, "a.", 1), DNS_NOTE_QUIET);
    assert_int_equal(dns_seen_note(s, "b.", 1), DNS_NOTE_FAILED); /* forgotten: news again */
    for (int i = 0; i < 1000; i++) { /* many SRV targets: memory stays bounded */
        snprintf(name, sizeof(name), "pod-%d.", i);
        dns_seen_note(s, name, 0);
    }
    dns_seen_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_service_names),     cmocka_unit_test(test_srv_target),
        cmocka_unit_test(test_ip_literal),        cmocka_unit_test(test_log_once_per_name),
        cmocka_unit_test(test_log_state_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
