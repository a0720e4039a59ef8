/*
 * config.c: parse tallyd's flags and their environment fallbacks.
 *
 * Order of precedence: flag, then environment variable, then default. Every
 * value is validated here so that a typo stops the start with a message naming
 * the flag, instead of surfacing later as a confusing runtime failure.
 */
#include "node/config.h"
#include "node/peer/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum opt_kind { OPT_STR, OPT_PORT, OPT_MS, OPT_U32, OPT_FLAG };

/* One value an option takes, explained under it in --help (--sync's modes). */
struct opt_choice {
    const char *name, *text;
};

struct opt {
    const char *flag;
    const char *env; /* NULL: no environment fallback (--help, --version) */
    enum opt_kind kind;
    const char *def;      /* default as text, for parsing and --help alike */
    const char *arg;      /* the value's placeholder in --help; NULL for OPT_FLAG */
    const char *help;     /* what the option does */
    const char *def_text; /* the default in words when def is NULL or "" (NULL: none shown) */
    const struct opt_choice *choices; /* NULL, or values explained, ended by {NULL} */
};

static const struct opt_choice SYNC_CHOICES[] = {
    {"always", "only after the count holding it is on disk (fsync; group commit). Nothing "
               "acknowledged is lost, even by a power cut."},
    {"interval", "at once; the count is written and fsynced at most every --sync-interval. A "
                 "crash loses up to that much of acknowledged visits."},
    {"none", "at once; written without fsync at most every --sync-interval and on exit. A "
             "process crash loses up to --sync-interval of visits, a power cut whatever the "
             "kernel had not written. For throwaway runs."},
    {NULL, NULL},
};

/* The one table of options: parsing and --help (config_usage) both read it,
 * so the help cannot drift from what parses. */
static const struct opt OPTS[] = {
    {"--name", "POD_NAME", OPT_STR, NULL, "NAME", "pod name", "the hostname", NULL},
    {"--bind", "TALLY_BIND", OPT_STR, "", "ADDR", "listen only on this IP for HTTP and gossip",
     "every address, IPv6 and IPv4 (so kubectl port-forward, which connects to localhost, works)",
     NULL},
    {"--advertise", "POD_IP", OPT_STR, "", "ADDR", "the IP peers reach our gossip port at",
     "--bind when it names one address, else what peers see", NULL},
    {"--http-port", "TALLY_HTTP_PORT", OPT_PORT, "8000", "N", "HTTP port", NULL, NULL},
    {"--gossip-port", "TALLY_GOSSIP_PORT", OPT_PORT, "7946", "N",
     "gossip port, UDP and TCP (push-pull)", NULL, NULL},
    {"--data-dir", "DATA_DIR", OPT_STR, "/data", "DIR", "volume holding visits.txt", NULL, NULL},
    {"--service", "TALLY_SERVICE", OPT_STR, "", "DNSNAME",
     "headless service to discover siblings through, e.g. "
     "myapp-headless.default.svc.cluster.local",
     "none", NULL},
    {"--dns-server", "TALLY_DNS_SERVER", OPT_STR, "", "ADDR[:PORT]",
     "DNS server to ask, an IP address ([ADDR]:PORT for IPv6 with a port; several separated by "
     "commas)",
     "the servers in /etc/resolv.conf", NULL},
    {"--peers", "TALLY_PEERS", OPT_STR, "", "HOST:PORT,...",
     "static gossip peers, beside DNS; without --key-file only listed addresses (and the "
     "members they introduce) are heard: list every pod",
     "none", NULL},
    {"--sync", "TALLY_SYNC", OPT_STR, "always", "MODE", "when a visit is acknowledged", NULL,
     SYNC_CHOICES},
    {"--sync-interval", "TALLY_SYNC_INTERVAL", OPT_MS, "1000", "MS",
     "write period for interval and none", NULL, NULL},
    {"--gossip-interval", "TALLY_GOSSIP_INTERVAL", OPT_MS, "1000", "MS", "gossip round length",
     NULL, NULL},
    {"--recovery-wait", "TALLY_RECOVERY_WAIT", OPT_MS, "5000", "MS",
     "longest wait at start for a peer's whole table before /readyz says ready when no peer "
     "answers (a first pod)",
     NULL, NULL},
    {"--dns-interval", "TALLY_DNS_INTERVAL", OPT_MS, "5000", "MS", "how often to resolve --service",
     NULL, NULL},
    {"--max-conns", "TALLY_MAX_CONNS", OPT_U32, "4096", "N", "open HTTP connections at most", NULL,
     NULL},
    {"--max-members", "TALLY_MAX_MEMBERS", OPT_U32, "10000", "N",
     "gossip members kept at most (~0.5 KB each)", NULL, NULL},
    {"--idle-timeout", "TALLY_IDLE_TIMEOUT", OPT_MS, "30000", "MS",
     "close HTTP connections idle or slow this long", NULL, NULL},
    {"--key-file", "TALLY_KEY_FILE", OPT_STR, "", "PATH", "cluster key(s) for authenticated gossip",
     "none (unauthenticated)", NULL},
    {"--log-level", "TALLY_LOG_LEVEL", OPT_STR, "info", "LEVEL", "error, warn, info or debug", NULL,
     NULL},
    {"--log-format", "TALLY_LOG_FORMAT", OPT_STR, "logfmt", "FORMAT",
     "logfmt (ts=... level=... msg=EVENT key=value...) or json, one line per event on stderr", NULL,
     NULL},
    {"--version", NULL, OPT_FLAG, NULL, NULL, "print the version and exit", NULL, NULL},
    {"--help", NULL, OPT_FLAG, NULL, NULL, "print this help and exit (also -h)", NULL, NULL},
};
#define N_OPTS (sizeof(OPTS) / sizeof(OPTS[0]))

/* ---- --help, generated from OPTS ----------------------------------------- */

#define USAGE_WIDTH      79 /* columns: a line never fills an 80-column terminal */
#define USAGE_TEXT_COL   27 /* where each option's text starts */
#define USAGE_CHOICE_COL 39 /* where a choice's text starts */
/* A space the wrapper never breaks at: "default: 8000" stays on one line,
 * so grep finds it. */
#define USAGE_NBSP '\x01'

struct usage {
    char *p;
    size_t len, cap;
    size_t col; /* column of the next character */
};

static void usage_put(struct usage *u, const char *s, size_t n)
{
    if (u->len + n >= u->cap)
        n = u->len + 1 < u->cap ? u->cap - u->len - 1 : 0;
    memcpy(u->p + u->len, s, n);
    u->len += n;
    u->p[u->len] = '\0';
    for (size_t i = 0; i < n; i++)
        u->col = s[i] == '\n' ? 0 : u->col + 1;
}

static void usage_str(struct usage *u, const char *s)
{
    usage_put(u, s, strlen(s));
}

static void usage_pad(struct usage *u, size_t col)
{
    if (u->col >= col)
        usage_put(u, "\n", 1);
    while (u->col < col)
        usage_put(u, " ", 1);
}

/* Words of text from the current column, wrapped at USAGE_WIDTH with
 * continuation lines starting at indent; a word is never cut, and
 * USAGE_NBSP joins two words into one that prints with a space. */
static void usage_wrap(struct usage *u, const char *text, size_t indent)
{
    const char *w = text;
    while (*w) {
        while (*w == ' ')
            w++;
        size_t n = strcspn(w, " ");
        if (n == 0)
            break;
        bool first = u->col <= indent;
        if (!first && u->col + 1 + n > USAGE_WIDTH) {
            usage_put(u, "\n", 1);
            usage_pad(u, indent);
            first = true;
        }
        if (!first)
            usage_put(u, " ", 1);
        for (size_t i = 0; i < n; i++)
            usage_put(u, w[i] == USAGE_NBSP ? " " : &w[i], 1);
        w += n;
    }
}

static void usage_opt(struct usage *u, const struct opt *o)
{
    char text[512];
    usage_str(u, "  ");
    usage_str(u, o->flag);
    if (o->arg) {
        usage_str(u, " ");
        usage_str(u, o->arg);
    }
    usage_pad(u, USAGE_TEXT_COL);
    const char *def = o->def && o->def[0] ? o->def : o->def_text;
    size_t n = (size_t)snprintf(text, sizeof(text), "%s", o->help);
    if (o->env && n < sizeof(text))
        n += (size_t)snprintf(text + n, sizeof(text) - n, " [%s]", o->env);
    if (def && n < sizeof(text))
        snprintf(text + n, sizeof(text) - n, "; default:%c%s", USAGE_NBSP, def);
    usage_wrap(u, text, USAGE_TEXT_COL);
    usage_put(u, "\n", 1);
    for (const struct opt_choice *c = o->choices; c && c->name; c++) {
        usage_pad(u, USAGE_TEXT_COL + 2);
        usage_str(u, c->name);
        usage_pad(u, USAGE_CHOICE_COL);
        usage_wrap(u, c->text, USAGE_CHOICE_COL);
        usage_put(u, "\n", 1);
    }
}

const char *config_usage(void)
{
    static char text[8192];
    struct usage u = {text, 0, sizeof(text), 0};
    if (text[0])
        return text;
    usage_str(&u, "Usage: tallyd [OPTION]...\n"
                  "Count visits for one pod of a StatefulSet, persist them, and gossip them\n"
                  "to its siblings. Each option may also come from the environment variable\n"
                  "in brackets.\n\n");
    for (size_t i = 0; i < N_OPTS; i++)
        usage_opt(&u, &OPTS[i]);
    usage_str(&u, "\nHTTP routes: GET / counts a visit; /count, /cluster, /status, /healthz,\n"
                  "/livez, /readyz and /metrics have no side effect. The count is kept in\n"
                  "DIR/visits.txt as a decimal number.\n");
    return text;
}

size_t config_opt_count(void)
{
    return N_OPTS;
}

const char *config_opt_flag(size_t i)
{
    return i < N_OPTS ? OPTS[i].flag : NULL;
}

const char *config_opt_env(size_t i)
{
    return i < N_OPTS ? OPTS[i].env : NULL;
}

const char *config_opt_default(size_t i)
{
    return i < N_OPTS ? OPTS[i].def : NULL;
}

const char *config_sync_str(enum commit_sync s)
{
    switch (s) {
    case COMMIT_SYNC_ALWAYS:
        return "always";
    case COMMIT_SYNC_INTERVAL:
        return "interval";
    case COMMIT_SYNC_NONE:
        return "none";
    }
    return "?";
}

static int fail(char *err, size_t err_len, const char *flag, const char *value, const char *why)
{
    snprintf(err, err_len, "%s: invalid value \"%s\": %s", flag, value, why);
    return -EINVAL;
}

static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -EINVAL;
    *out = (uint32_t)v;
    return 0;
}

static int copy_str(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap)
        return -ENAMETOOLONG;
    memcpy(dst, s, n + 1);
    return 0;
}

static bool name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

static bool ip_valid(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* "host:port" or "[v6]:port"; host non-empty, port 1..65535. */
static bool hostport_valid(const char *s)
{
    const char *colon = strrchr(s, ':');
    uint32_t port;
    if (!colon || colon == s || parse_u32(colon + 1, 1, 65535, &port) != 0)
        return false;
    return true;
}

/* --dns-server: "" (resolv.conf), or a comma-separated list of servers, each
 * an IP literal, "ip:port" or "[ip6]:port", the forms c-ares takes. Checked
 * here because c-ares would only refuse it once discovery starts, and then
 * the start fails naming gossip instead of the flag. */
static bool dns_servers_valid(const char *s)
{
    char one[CONFIG_STR_MAX];
    struct sockaddr_storage ss;
    const char *p = s;
    if (!*s)
        return true;
    for (;;) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof(one))
            return false;
        memcpy(one, p, n);
        one[n] = '\0';
        if (!ip_valid(one) && addr_parse(one, &ss) != 0)
            return false;
        if (!p[n])
            return true;
        p += n + 1;
    }
}

static int split_peers(struct config *cfg, const char *flag, const char *list, char *err,
                       size_t err_len)
{
    const char *p = list;
    cfg->n_peers = 0;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n > 0) {
            if (cfg->n_peers == CONFIG_MAX_PEERS)
                return fail(err, err_len, flag, list, "more than 64 peers");
            if (n >= CONFIG_STR_MAX)
                return fail(err, err_len, flag, list, "peer address too long");
            char *dst = cfg->peers[cfg->n_peers];
            memcpy(dst, p, n);
            dst[n] = '\0';
            if (!hostport_valid(dst))
                return fail(err, err_len, flag, dst, "expected HOST:PORT with a port 1-65535");
            cfg->n_peers++;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    return 0;
}

/* Apply one option's value to cfg. */
static int config_opt_apply(struct config *cfg, const struct opt *o, const char *v, char *err,
                            size_t err_len)
{
    const char *f = o->flag;
    uint32_t u;
    if (o->kind == OPT_PORT) {
        if (parse_u32(v, 1, 65535, &u) != 0)
            return fail(err, err_len, f, v, "expected a port number 1-65535");
        if (!strcmp(f, "--http-port"))
            cfg->http_port = (int)u;
        else
            cfg->gossip_port = (int)u;
        return 0;
    }
    if (o->kind == OPT_MS) {
        if (parse_u32(v, 10, 3600000, &u) != 0)
            return fail(err, err_len, f, v, "expected milliseconds, 10-3600000");
        if (!strcmp(f, "--sync-interval"))
            cfg->sync_interval_ms = u;
        else if (!strcmp(f, "--gossip-interval"))
            cfg->gossip_interval_ms = u;
        else if (!strcmp(f, "--recovery-wait"))
            cfg->recovery_ms = u;
        else if (!strcmp(f, "--dns-interval"))
            cfg->dns_interval_ms = u;
        else
            cfg->idle_ms = u;
        return 0;
    }
    if (o->kind == OPT_U32) {
        if (parse_u32(v, 1, 1000000, &u) != 0)
            return fail(err, err_len, f, v, "expected a number 1-1000000");
        if (!strcmp(f, "--max-members"))
            cfg->max_members = u;
        else
            cfg->max_conns = u;
        return 0;
    }
    if (!strcmp(f, "--name")) {
        if (!name_valid(v))
            return fail(err, err_len, f, v,
                        "expected 1-63 characters of a-z, A-Z, 0-9, '-', '.', '_'");
        return copy_str(cfg->name, sizeof(cfg->name), v);
    }
    if (!strcmp(f, "--bind") || !strcmp(f, "--advertise")) {
        if (*v && !ip_valid(v))
            return fail(err, err_len, f, v, "expected an IPv4 or IPv6 address");
        return copy_str(!strcmp(f, "--bind") ? cfg->bind : cfg->advertise, sizeof(cfg->bind), v);
    }
    if (!strcmp(f, "--log-format")) {
        if (!strcmp(v, "logfmt"))
            cfg->log_format = LOG_FORMAT_LOGFMT;
        else if (!strcmp(v, "json"))
            cfg->log_format = LOG_FORMAT_JSON;
        else
            return fail(err, err_len, f, v, "expected logfmt or json");
        return 0;
    }
    if (!strcmp(f, "--sync")) {
        if (!strcmp(v, "always"))
            cfg->sync = COMMIT_SYNC_ALWAYS;
        else if (!strcmp(v, "interval"))
            cfg->sync = COMMIT_SYNC_INTERVAL;
        else if (!strcmp(v, "none"))
            cfg->sync = COMMIT_SYNC_NONE;
        else
            return fail(err, err_len, f, v, "expected always, interval or none");
        return 0;
    }
    if (!strcmp(f, "--log-level")) {
        if (log_level_parse(v, &cfg->log_level) == 0)
            return 0;
        return fail(err, err_len, f, v, "expected error, warn, info or debug");
    }
    if (!strcmp(f, "--peers"))
        return split_peers(cfg, f, v, err, err_len);
    if (!strcmp(f, "--dns-server") && !dns_servers_valid(v))
        return fail(err, err_len, f, v,
                    "expected an IP address, ADDR:PORT or [IPv6]:PORT (a name cannot be used: "
                    "it would need a DNS server to resolve)");
    if (!strcmp(f, "--data-dir") && *v == '\0')
        return fail(err, err_len, f, v, "must not be empty");
    char *dst = !strcmp(f, "--data-dir")     ? cfg->data_dir
                : !strcmp(f, "--service")    ? cfg->service
                : !strcmp(f, "--dns-server") ? cfg->dns_server
                                             : cfg->key_file;
    if (copy_str(dst, CONFIG_STR_MAX, v) != 0)
        return fail(err, err_len, f, v, "too long");
    return 0;
}

static const struct opt *opt_find(const char *flag, size_t n)
{
    for (size_t i = 0; i < N_OPTS; i++)
        if (strlen(OPTS[i].flag) == n && !strncmp(OPTS[i].flag, flag, n))
            return &OPTS[i];
    return NULL;
}

int config_parse(struct config *cfg, int argc, char **argv, const char *(*getenv_fn)(const char *),
                 enum config_action *action, char *err, size_t err_len)
{
    const char *given[N_OPTS] = {0};
    *action = CONFIG_RUN;
    memset(cfg, 0, sizeof(*cfg));
    if (err_len)
        err[0] = '\0';

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h"))
            a = "--help";
        const char *eq = strchr(a, '=');
        size_t n = eq ? (size_t)(eq - a) : strlen(a);
        const struct opt *o = strncmp(a, "--", 2) ? NULL : opt_find(a, n);
        if (!o) {
            snprintf(err, err_len, "%s: unknown option (see --help)", a);
            return -EINVAL;
        }
        if (o->kind == OPT_FLAG) {
            *action = !strcmp(o->flag, "--help") ? CONFIG_HELP : CONFIG_VERSION;
            return 0;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v) {
            if (i + 1 >= argc) {
                snprintf(err, err_len, "%s: missing value", o->flag);
                return -EINVAL;
            }
            v = argv[++i];
        }
        given[o - OPTS] = v;
    }

    for (size_t i = 0; i < N_OPTS; i++) {
        const char *v = given[i];
        if (!OPTS[i].env)
            continue; /* --help, --version: acted on above */
        if (!v && getenv_fn)
            v = getenv_fn(OPTS[i].env);
        if (!v)
            v = OPTS[i].def;
        if (!v)
            continue;
        int rc = config_opt_apply(cfg, &OPTS[i], v, err, err_len);
        if (rc != 0) {
            if (!err[0])
                fail(err, err_len, OPTS[i].flag, v, "too long");
            if (!given[i] && getenv_fn && getenv_fn(OPTS[i].env)) {
                size_t l = strlen(err);
                snprintf(err + l, err_len - l, " (from %s)", OPTS[i].env);
            }
            return -EINVAL;
        }
    }

    if (!cfg->name[0]) {
        char host[256];
        if (gethostname(host, sizeof(host)) != 0 || !name_valid(host)) {
            snprintf(err, err_len,
                     "--name: not given, POD_NAME unset and the hostname is not a valid pod name");
            return -EINVAL;
        }
        copy_str(cfg->name, sizeof(cfg->name), host);
    }
    return 0;
}
