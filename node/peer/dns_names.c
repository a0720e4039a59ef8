/*
 * peer/dns_names.c: names and log-once state for discovery (dns_names.h).
 */
#include "node/peer/dns_names.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "node/peer/addr.h"

struct dns_seen_entry {
    char name[DNS_NAME_MAX + 1];
    int status;
    uint64_t used; /* the note count when last noted, for eviction */
};

struct dns_names_seen {
    size_t n, cap;
    uint64_t notes;
    struct dns_seen_entry e[];
};

static int dns_name_put(char *out, size_t cap, const char *prefix, const char *name, bool dot)
{
    int n = snprintf(out, cap, "%s%s%s", prefix, name, dot ? "." : "");
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            out[0] = '\0';
        return -ENAMETOOLONG;
    }
    return 0;
}

int dns_service_names(const char *service, char *fqdn, size_t fqdn_cap, char *srv, size_t srv_cap)
{
    size_t n = strlen(service);
    int dots = 0;
    for (const char *p = service; *p; p++)
        dots += *p == '.';
    bool fq = n && dots >= 2 && service[n - 1] != '.';
    int rc = dns_name_put(fqdn, fqdn_cap, "", service, fq);
    return rc < 0 ? rc : dns_name_put(srv, srv_cap, "_gossip._udp.", fqdn, false);
}

int dns_srv_target(const char *host, char *out, size_t cap)
{
    size_t n = strlen(host);
    if (n == 0) {
        if (cap)
            out[0] = '\0';
        return -EINVAL; /* "." : the service says it has none */
    }
    return dns_name_put(out, cap, "", host, host[n - 1] != '.');
}

bool dns_is_ip_literal(const char *host)
{
    struct sockaddr_storage ss;
    char probe[DNS_NAME_MAX + 8];
    int n = snprintf(probe, sizeof(probe), strchr(host, ':') ? "[%s]:1" : "%s:1", host);
    return n > 0 && (size_t)n < sizeof(probe) && addr_parse(probe, &ss) == 0;
}

int dns_seen_new(size_t cap, struct dns_names_seen **out)
{
    if (cap == 0)
        cap = 1;
    struct dns_names_seen *s = calloc(1, sizeof(*s) + cap * sizeof(s->e[0]));
    if (!s)
        return -ENOMEM;
    s->cap = cap;
    *out = s;
    return 0;
}

void dns_seen_free(struct dns_names_seen *s)
{
    free(s);
}

enum dns_note dns_seen_note(struct dns_names_seen *s, const char *name, int status)
{
    struct dns_seen_entry *e = NULL, *oldest = NULL;
    for (size_t i = 0; i < s->n && !e; i++) {
        if (!strcmp(s->e[i].name, name))
            e = &s->e[i];
        else if (!oldest || s->e[i].used < oldest->used)
            oldest = &s->e[i];
    }
    if (!e) {
        /* A name not seen before (or forgotten) starts as answering. */
        e = s->n < s->cap ? &s->e[s->n++] : oldest;
        snprintf(e->name, sizeof(e->name), "%s", name);
        e->status = 0;
    }
    e->used = ++s->notes;
    int was = e->status;
    e->status = status;
    if (status == was)
        return DNS_NOTE_QUIET;
    return status ? DNS_NOTE_FAILED : DNS_NOTE_RECOVERED;
}
