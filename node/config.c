/*
 * config.c: parse tallyd's flags and their environment fallbacks.
 *
 * Order of precedence: flag, then environment variable, then default. Every
 * value is validated here so that a typo stops the start with a message naming
 * the flag, instead of surfacing later as a confusing runtime failure.
 */
#include "node/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum opt_kind { OPT_STR, OPT_PORT, OPT_MS, OPT_U32, OPT_FLAG };

struct opt {
    const char *flag;
    const char *env;
    enum opt_kind kind;
    const char *def; /* default as text, for --help and parsing alike */
};

/* The one table of options; --help is generated from it so it cannot drift. */
static const struct opt OPTS[] = {
    {"--name", "POD_NAME", OPT_STR, NULL},
    {"--bind", "TALLY_BIND", OPT_STR, ""},
    {"--advertise", "POD_IP", OPT_STR, ""},
    {"--http-port", "TALLY_HTTP_PORT", OPT_PORT, "8000"},
    {"--gossip-port", "TALLY_GOSSIP_PORT", OPT_PORT, "7946"},
    {"--data-dir", "DATA_DIR", OPT_STR, "/data"},
    {"--service", "TALLY_SERVICE", OPT_STR, ""},
    {"--dns-server", "TALLY_DNS_SERVER", OPT_STR, ""},
    {"--peers", "TALLY_PEERS", OPT_STR, ""},
    {"--sync", "TALLY_SYNC", OPT_STR, "always"},
    {"--sync-interval", "TALLY_SYNC_INTERVAL", OPT_MS, "1000"},
    {"--gossip-interval", "TALLY_GOSSIP_INTERVAL", OPT_MS, "1000"},
    {"--recovery-wait", "TALLY_RECOVERY_WAIT", OPT_MS, "5000"},
    {"--dns-interval", "TALLY_DNS_INTERVAL", OPT_MS, "5000"},
    {"--max-conns", "TALLY_MAX_CONNS", OPT_U32, "4096"},
    {"--max-members", "TALLY_MAX_MEMBERS", OPT_U32, "10000"},
    {"--idle-timeout", "TALLY_IDLE_TIMEOUT", OPT_MS, "30000"},
    {"--key-file", "TALLY_KEY_FILE", OPT_STR, ""},
    {"--log-level", "TALLY_LOG_LEVEL", OPT_STR, "info"},
    {"--log-format", "TALLY_LOG_FORMAT", OPT_STR, "logfmt"},
};
#define N_OPTS (sizeof(OPTS) / sizeof(OPTS[0]))

static const char USAGE[] =
    "Usage: tallyd [OPTION]...\n"
    "Count visits for one pod of a StatefulSet, persist them, and gossip them to its siblings.\n"
    "Each option may also come from the environment variable in brackets.\n"
    "\n"
    "  --name NAME              pod name [POD_NAME]; default: the hostname\n"
    "  --bind ADDR              listen only on this IP for HTTP and gossip [TALLY_BIND];\n"
    "                           default: every address, IPv6 and IPv4 (so kubectl\n"
    "                           port-forward, which connects to localhost, works)\n"
    "  --advertise ADDR         the IP peers reach our gossip port at [POD_IP]; default:\n"
    "                           --bind when it names one address, else what peers see\n"
    "  --http-port N            HTTP port [TALLY_HTTP_PORT]; default: 8000\n"
    "  --gossip-port N          UDP gossip port [TALLY_GOSSIP_PORT]; default: 7946\n"
    "  --data-dir DIR           volume holding visits.txt [DATA_DIR]; default: /data\n"
    "  --service DNSNAME        headless service to discover siblings through, e.g.\n"
    "                           myapp-headless.default.svc.cluster.local [TALLY_SERVICE];\n"
    "                           default: none\n"
    "  --dns-server ADDR[:PORT] DNS server instead of /etc/resolv.conf [TALLY_DNS_SERVER]\n"
    "  --peers HOST:PORT,...    static gossip peers, beside DNS [TALLY_PEERS]; without\n"
    "                           --key-file only listed addresses (and the members\n"
    "                           they introduce) are heard: list every pod\n"
    "  --sync MODE              when a visit is acknowledged [TALLY_SYNC]; default: always\n"
    "                             always    only after the count holding it is on disk\n"
    "                                       (fsync; group commit). Nothing acknowledged\n"
    "                                       is lost, even by a power cut.\n"
    "                             interval  at once; the count is written and fsynced at\n"
    "                                       most every --sync-interval. A crash loses up\n"
    "                                       to that much of acknowledged visits.\n"
    "                             none      at once; written without fsync at most every\n"
    "                                       --sync-interval and on exit. A process crash\n"
    "                                       loses up to --sync-interval of visits, a power\n"
    "                                       cut whatever the kernel had not written.\n"
    "                                       For throwaway runs.\n"
    "  --sync-interval MS       write period for interval and none [TALLY_SYNC_INTERVAL];\n"
    "                           default: 1000\n"
    "  --gossip-interval MS     gossip round length [TALLY_GOSSIP_INTERVAL]; default: 1000\n"
    "  --recovery-wait MS       longest wait at start for a peer's whole table before\n"
    "                           /readyz says ready when no peer answers (a first pod)\n"
    "                           [TALLY_RECOVERY_WAIT]; default: 5000\n"
    "  --dns-interval MS        how often to resolve --service [TALLY_DNS_INTERVAL];\n"
    "                           default: 5000\n"
    "  --max-conns N            open HTTP connections at most [TALLY_MAX_CONNS]; default: 4096\n"
    "  --max-members N          gossip members kept at most (~0.5 KB each)\n"
    "                           [TALLY_MAX_MEMBERS]; default: 10000\n"
    "  --idle-timeout MS        close HTTP connections idle or slow this long\n"
    "                           [TALLY_IDLE_TIMEOUT]; default: 30000\n"
    "  --key-file PATH          cluster key(s) for authenticated gossip [TALLY_KEY_FILE];\n"
    "                           default: none (unauthenticated)\n"
    "  --log-level LEVEL        error, warn, info or debug [TALLY_LOG_LEVEL]; default: info\n"
    "  --log-format FORMAT      logfmt (ts=... level=... msg=EVENT key=value...) or json,\n"
    "                           one line per event on stderr [TALLY_LOG_FORMAT];\n"
    "                           default: logfmt\n"
    "  --version                print the version and exit\n"
    "  --help                   print this help and exit\n"
    "\n"
    "HTTP routes: GET / counts a visit; /count, /cluster, /status, /healthz, /livez, /readyz\n"
    "and /metrics have no side effect. The count is kept in DIR/visits.txt as a decimal\n"
    "number.\n";

const char *config_usage(void)
{
    return USAGE;
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
    if (!strcmp(f, "--dns-server") && *v && !ip_valid(v) && !hostport_valid(v))
        return fail(err, err_len, f, v, "expected ADDR or ADDR:PORT with an IP address");
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
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            *action = CONFIG_HELP;
            return 0;
        }
        if (!strcmp(a, "--version")) {
            *action = CONFIG_VERSION;
            return 0;
        }
        const char *eq = strchr(a, '=');
        size_t n = eq ? (size_t)(eq - a) : strlen(a);
        const struct opt *o = strncmp(a, "--", 2) ? NULL : opt_find(a, n);
        if (!o) {
            snprintf(err, err_len, "%s: unknown option (see --help)", a);
            return -EINVAL;
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
