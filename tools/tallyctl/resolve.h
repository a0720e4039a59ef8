/*
 * resolve.h: synchronous DNS lookups with c-ares for tallyctl: A, AAAA and
 * SRV through the pod's own resolver (/etc/resolv.conf, search domains
 * included) or an explicit --dns-server, each lookup bounded by a timeout.
 */
#ifndef TALLYCTL_RESOLVE_H
#define TALLYCTL_RESOLVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RESOLVE_NAME_MAX 256

enum resolve_type { RESOLVE_A = 1, RESOLVE_AAAA = 28, RESOLVE_SRV = 33 };

struct resolve_answer {
    struct sockaddr_storage addr; /* A, AAAA */
    char text[RESOLVE_NAME_MAX];  /* A/AAAA: the address; SRV: the target name */
    int port, priority, weight;   /* SRV */
};

struct resolve_result {
    int status;                     /* 0, or a c-ares status (ARES_ENOTFOUND...) */
    char error[96];                 /* c-ares' words for status */
    struct resolve_answer *answers; /* owned; free with resolve_result_free */
    size_t n;
};

struct resolve_ctx;

/* server: "ADDR[:PORT]" or NULL for /etc/resolv.conf. Returns 0, or -1 with
 * why. */
int resolve_open(struct resolve_ctx **out, const char *server, int timeout_ms, char *why,
                 size_t why_len);
void resolve_close(struct resolve_ctx *ctx);

/* Look name up (search domains apply) and wait for the answer. Always fills
 * *res (status says how it went); returns res->status. */
int resolve_query(struct resolve_ctx *ctx, const char *name, enum resolve_type type,
                  struct resolve_result *res);
void resolve_result_free(struct resolve_result *res);
const char *resolve_type_str(enum resolve_type type);

#endif
