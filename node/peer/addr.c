/*
 * peer/addr.c: conversions between "ip:port" strings and sockaddrs; see addr.h.
 */
#include "node/peer/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int addr_split(const char *s, char *host, size_t cap, int *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return -EINVAL;
    const char *h = s;
    size_t hl = (size_t)(colon - s);
    if (h[0] == '[') {
        if (hl < 3 || h[hl - 1] != ']')
            return -EINVAL;
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= cap)
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (errno || *end || colon[1] < '0' || colon[1] > '9' || p == 0 || p > 65535)
        return -EINVAL;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (int)p;
    return 0;
}

int addr_parse(const char *s, struct sockaddr_storage *ss)
{
    char host[64];
    int port;
    memset(ss, 0, sizeof(*ss));
    if (addr_split(s, host, sizeof(host), &port) != 0)
        return -EINVAL;
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        return 0;
    }
    return -EINVAL;
}

int addr_join(const char *ip, int port, char *out, size_t cap)
{
    int n = strchr(ip, ':') ? snprintf(out, cap, "[%s]:%d", ip, port)
                            : snprintf(out, cap, "%s:%d", ip, port);
    return n > 0 && (size_t)n < cap ? 0 : -EINVAL;
}

int addr_format(const struct sockaddr *sa, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in4->sin_addr, ip, sizeof(ip));
        return addr_join(ip, ntohs(in4->sin_port), out, cap);
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        /* A dual-stack socket sees an IPv4 peer as ::ffff:a.b.c.d; gossip
         * knows it by its IPv4 address, as DNS and --peers give it. */
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], ip, sizeof(ip));
            return addr_join(ip, ntohs(in6->sin6_port), out, cap);
        }
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
        return addr_join(ip, ntohs(in6->sin6_port), out, cap);
    }
    return -EINVAL;
}

int addr_with_port(const struct sockaddr *sa, int port, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    if (sa->sa_family == AF_INET) {
        memcpy(&ss, sa, sizeof(struct sockaddr_in));
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
    } else if (sa->sa_family == AF_INET6) {
        memcpy(&ss, sa, sizeof(struct sockaddr_in6));
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
    } else {
        return -EINVAL;
    }
    return addr_format((const struct sockaddr *)&ss, out, cap);
}
