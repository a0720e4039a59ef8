/*
 * peer/addr.h: the "ip:port" strings gossip uses for addresses, to and from
 * sockaddrs. IPv6 is written "[addr]:port".
 */
#ifndef TALLY_ADDR_H
#define TALLY_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* Parse "ip:port" or "[ip6]:port" into ss. Returns 0 or -EINVAL. */
int addr_parse(const char *s, struct sockaddr_storage *ss);
/* Format sa as "ip:port" into out. Returns 0 or -EINVAL. */
int addr_format(const struct sockaddr *sa, char *out, size_t cap);
/* Format sa's IP with port (DNS answers carry port 0) as "ip:port". */
int addr_with_port(const struct sockaddr *sa, int port, char *out, size_t cap);
/* Format ip (a literal) and port as "ip:port" or "[ip]:port". */
int addr_join(const char *ip, int port, char *out, size_t cap);
/* Split "host:port" (host may be "[v6]") into host and port. */
int addr_split(const char *s, char *host, size_t cap, int *port);

#endif
