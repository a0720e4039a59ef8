/*
 * peer/dns_names.h: the pure part of discovery (node/peer/discovery.c): which
 * names to ask, what an SRV answer's target becomes, which --peers need DNS
 * at all, and when a lookup's outcome is worth a log line. No c-ares, no
 * libuv: unit-tested without a DNS server (tests/unit/test_dns_names.c).
 */
#ifndef TALLY_PEER_DNS_NAMES_H
#define TALLY_PEER_DNS_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest name discovery asks for, with the final dot: DNS allows 253
 * characters, and c-ares writes odd bytes in a label as "\DDD", so a target
 * can be longer than that; past this it is refused, never cut. */
#define DNS_NAME_MAX 300

/* The headless service's name as asked (a name with two or more dots is
 * taken as fully qualified and given a final dot, so pods with ndots:5 skip
 * five search-domain misses) and its SRV name, _gossip._udp.<fqdn>. Returns
 * 0, or -ENAMETOOLONG when either does not fit cap (DNS_NAME_MAX + 1). */
int dns_service_names(const char *service, char *fqdn, size_t fqdn_cap, char *srv, size_t srv_cap);
/* An SRV answer's target as a name to resolve, given a final dot. Returns 0,
 * or -ENAMETOOLONG (nothing written): it is refused, not truncated into
 * another name. */
int dns_srv_target(const char *host, char *out, size_t cap);
/* host (of a --peers "host:port") is an IP literal: no DNS needed. */
bool dns_is_ip_literal(const char *host);

/* When a lookup's outcome is logged: per name, once per change (a name that
 * keeps failing the same way is logged once, whatever other names do). */
enum dns_note {
    DNS_NOTE_QUIET,     /* nothing changed for this name */
    DNS_NOTE_FAILED,    /* it fails, and did not before (or failed otherwise) */
    DNS_NOTE_RECOVERED, /* it answers again after failing */
};
struct dns_names_seen;
/* cap: names remembered at most; past it the one noted least recently is
 * forgotten (it then logs again on its next failure). */
int dns_seen_new(size_t cap, struct dns_names_seen **out);
void dns_seen_free(struct dns_names_seen *s);
/* The lookup of name ended with status (0: answered, else an error code). */
enum dns_note dns_seen_note(struct dns_names_seen *s, const char *name, int status);

#endif
