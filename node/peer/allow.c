/*
 * peer/allow.c: the list of addresses gossip is heard from (see allow.h).
 * Addresses are kept as 16 bytes (IPv4 as v4-mapped IPv6) in a small array:
 * a StatefulSet lists a few hundred pods at most here, and a lookup per
 * datagram over a few hundred 16-byte keys costs less than a hash of them.
 * Past the cap the entry seen least recently is replaced.
 */
#include "node/peer/allow.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "node/peer/addr.h"

struct allow_entry {
    uint8_t ip[16];
    uint64_t seen_ms;
};

struct peer_allow {
    struct allow_entry *e;
    size_t n, cap;
    uint64_t keep_ms;
};

int peer_allow_new(size_t cap, uint64_t keep_ms, struct peer_allow **out)
{
    struct peer_allow *a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    a->e = calloc(cap ? cap : 1, sizeof(*a->e));
    if (!a->e) {
        free(a);
        return -ENOMEM;
    }
    a->cap = cap ? cap : 1;
    a->keep_ms = keep_ms;
    *out = a;
    return 0;
}

void peer_allow_free(struct peer_allow *a)
{
    if (!a)
        return;
    free(a->e);
    free(a);
}

/* sa's address as 16 bytes; false for another family. */
static bool allow_key(const struct sockaddr *sa, uint8_t ip[16])
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        memset(ip, 0, 10);
        ip[10] = ip[11] = 0xff;
        memcpy(ip + 12, &in->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(ip, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return true;
    }
    return false;
}

void peer_allow_note(struct peer_allow *a, const char *addr, uint64_t now_ms)
{
    struct sockaddr_storage ss;
    uint8_t ip[16];
    if (addr_parse(addr, &ss) != 0 || !allow_key((const struct sockaddr *)&ss, ip))
        return;
    size_t oldest = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (!memcmp(a->e[i].ip, ip, 16)) {
            a->e[i].seen_ms = now_ms;
            return;
        }
        if (a->e[i].seen_ms < a->e[oldest].seen_ms)
            oldest = i;
    }
    size_t at = a->n < a->cap ? a->n++ : oldest;
    memcpy(a->e[at].ip, ip, 16);
    a->e[at].seen_ms = now_ms;
}

bool peer_allow_check(const struct peer_allow *a, const struct sockaddr *sa, uint64_t now_ms)
{
    uint8_t ip[16];
    if (!allow_key(sa, ip))
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (!memcmp(a->e[i].ip, ip, 16))
            return now_ms - a->e[i].seen_ms <= a->keep_ms;
    return false;
}

size_t peer_allow_count(const struct peer_allow *a, uint64_t now_ms)
{
    size_t k = 0;
    for (size_t i = 0; i < a->n; i++)
        k += now_ms - a->e[i].seen_ms <= a->keep_ms;
    return k;
}
