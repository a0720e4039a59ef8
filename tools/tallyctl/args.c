/*
 * args.c: tallyctl's command line. Options may come before or after the
 * command; each is checked against the command it belongs to, so a typo is a
 * usage error (exit 2) with a sentence saying what was wrong, never a silent
 * default. The environment comes in as a struct so tests can set it.
 *
 * tallyd's URL: --url, else $TALLYCTL_URL, else http://$POD_IP:8000 (the
 * address tallyd advertises; it listens there even when --bind narrows it to
 * the pod IP), else http://127.0.0.1:8000.
 */
#include "tools/tallyctl/tallyctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tools/tallyctl/http_get.h"

#define CTL_CMDS_HINT " (try: status, peers, count, cluster, dns, ping, file, version)"

static const struct {
    const char *name;
    enum ctl_cmd cmd;
} ctl_cmds[] = {
    {"status", CTL_CMD_STATUS},   {"peers", CTL_CMD_PEERS},     {"count", CTL_CMD_COUNT},
    {"cluster", CTL_CMD_CLUSTER}, {"dns", CTL_CMD_DNS},         {"ping", CTL_CMD_PING},
    {"file", CTL_CMD_FILE},       {"version", CTL_CMD_VERSION},
};

const char *ctl_cmd_name(enum ctl_cmd cmd)
{
    for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
        if (ctl_cmds[i].cmd == cmd)
            return ctl_cmds[i].name;
    return "?";
}

void ctl_usage_print(FILE *out)
{
    fputs("usage: tallyctl [OPTIONS] COMMAND [ARG]\n"
          "\n"
          "An operator's view of one tally pod; run it in the pod:\n"
          "  kubectl exec myapp-stateful-0 -- tallyctl status\n"
          "\n"
          "commands:\n"
          "  status           this pod: incarnation, uptime, count, sync mode, ready or why not\n"
          "  peers            every member this pod knows: address, state, visits, last heard\n"
          "  count            this pod's count (GET /count)\n"
          "  cluster          the StatefulSet's total and each pod's count (GET /cluster)\n"
          "                   --watch: live, once a second until Ctrl-C; redrawn in place on\n"
          "                   a terminal, a line per change when piped\n"
          "  dns [NAME]       resolve the headless service (A, AAAA, SRV _gossip._udp.NAME)\n"
          "                   and ping every address found; NAME defaults to $TALLY_SERVICE,\n"
          "                   else the service tallyd was started with\n"
          "  ping POD|ADDR    send gossip PINGs to a pod (by name) or ADDR (ip or ip:port)\n"
          "  file [DIR]       check DIR/visits.txt (DIR: $DATA_DIR, else /data) and compare it\n"
          "                   with the running tallyd\n"
          "  version          tallyctl's version and gossip protocol range, and tallyd's\n"
          "                   when it answers\n"
          "\n"
          "options:\n"
          "  --url URL            tallyd's HTTP address (default: $TALLYCTL_URL, else\n"
          "                       http://$POD_IP:8000 when POD_IP is set, else\n"
          "                       http://127.0.0.1:8000)\n"
          "  --json               print JSON for scripts instead of a table\n"
          "  --no-headers         tables without their header and summary lines\n"
          "  --state STATE        peers: only members in STATE (alive, suspect, dead, left)\n"
          "  --timeout MS         how long to wait for any one answer (default 2000)\n"
          "  --count N            ping: how many PINGs (default 3)\n"
          "  --dns-server A[:P]   dns, ping: ask this DNS server, not /etc/resolv.conf's\n"
          "  --gossip-port N      dns, ping: gossip port when SRV or ADDR names none (7946)\n"
          "  --key-file PATH      dns, ping: seal PINGs with tallyd's gossip key file\n"
          "                       (default: $TALLY_KEY_FILE; see docs/key-rotation.md)\n"
          "  --help, --version\n"
          "\n"
          "exit status: 0 ok, 1 a failed check (tallyd not answering, not ready, no ACK,\n"
          "corrupt count file...), 2 bad usage.\n",
          out);
}

/* A whole decimal number in [lo, hi]; anything else is a usage error. */
static int ctl_int_parse(const char *s, long lo, long hi, int *out)
{
    char *end;
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < (unsigned long long)lo || v > (unsigned long long)hi)
        return -EINVAL;
    *out = (int)v;
    return 0;
}

__attribute__((format(printf, 3, 4))) static int ctl_usage(char *err, size_t err_len,
                                                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return CTL_EXIT_USAGE;
}

static int ctl_url_default(const struct ctl_env *env, struct ctl_opts *o)
{
    if (env->tallyctl_url && env->tallyctl_url[0]) {
        o->url_source = "TALLYCTL_URL";
        return snprintf(o->url, sizeof(o->url), "%s", env->tallyctl_url) < (int)sizeof(o->url)
                   ? 0
                   : -ENAMETOOLONG;
    }
    if (env->pod_ip && env->pod_ip[0]) {
        bool v6 = strchr(env->pod_ip, ':') != NULL;
        o->url_source = "POD_IP";
        return snprintf(o->url, sizeof(o->url), v6 ? "http://[%s]:%d" : "http://%s:%d", env->pod_ip,
                        CTL_DEFAULT_PORT_HTTP) < (int)sizeof(o->url)
                   ? 0
                   : -ENAMETOOLONG;
    }
    o->url_source = "default";
    snprintf(o->url, sizeof(o->url), "http://127.0.0.1:%d", CTL_DEFAULT_PORT_HTTP);
    return 0;
}

/* Which options a command takes, beyond the global ones. */
static bool ctl_opt_allowed(enum ctl_cmd cmd, const char *opt)
{
    if (!strcmp(opt, "--count"))
        return cmd == CTL_CMD_PING;
    if (!strcmp(opt, "--state"))
        return cmd == CTL_CMD_PEERS;
    if (!strcmp(opt, "--dns-server") || !strcmp(opt, "--gossip-port") || !strcmp(opt, "--key-file"))
        return cmd == CTL_CMD_DNS || cmd == CTL_CMD_PING;
    return true;
}

static bool ctl_takes_arg(enum ctl_cmd cmd)
{
    return cmd == CTL_CMD_DNS || cmd == CTL_CMD_PING || cmd == CTL_CMD_FILE;
}

int ctl_args_parse(int argc, char **argv, const struct ctl_env *env, struct ctl_opts *o, char *err,
                   size_t err_len)
{
    const char *url = NULL, *used[8];
    size_t nused = 0;

    memset(o, 0, sizeof(*o));
    o->timeout_ms = CTL_DEFAULT_TIMEOUT_MS;
    o->count = CTL_DEFAULT_PINGS;
    o->gossip_port = CTL_DEFAULT_PORT_GOSSIP;
    o->service_env = env->tally_service && env->tally_service[0] ? env->tally_service : NULL;
    o->data_dir = env->data_dir && env->data_dir[0] ? env->data_dir : CTL_DEFAULT_DATA_DIR;
    o->key_file = env->tally_key_file && env->tally_key_file[0] ? env->tally_key_file : NULL;
    err[0] = '\0';

    bool dir_given = false, dashdash = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (dashdash || a[0] != '-' || a[1] == '\0') {
            if (o->cmd == CTL_CMD_NONE && !o->help) {
                if (!strcmp(a, "help")) {
                    o->help = true;
                    continue;
                }
                for (size_t k = 0; k < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); k++)
                    if (!strcmp(a, ctl_cmds[k].name))
                        o->cmd = ctl_cmds[k].cmd;
                if (o->cmd == CTL_CMD_NONE)
                    return ctl_usage(err, err_len, "unknown command '%s'%s", a, CTL_CMDS_HINT);
                continue;
            }
            if (o->help)
                continue; /* `help ping`: the one usage text covers it */
            if (!ctl_takes_arg(o->cmd) || o->arg)
                return ctl_usage(err, err_len, "unexpected argument '%s' for %s", a,
                                 ctl_cmd_name(o->cmd));
            o->arg = a;
            if (o->cmd == CTL_CMD_FILE)
                dir_given = true;
            continue;
        }
        if (!strcmp(a, "--")) {
            dashdash = true;
            continue;
        }
        /* --opt=value or --opt value */
        char name[32];
        const char *val = NULL, *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        if (nlen >= sizeof(name))
            return ctl_usage(err, err_len, "unknown option '%s'", a);
        memcpy(name, a, nlen);
        name[nlen] = '\0';
        if (eq)
            val = eq + 1;

        if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
            o->help = true;
            continue;
        }
        if (!strcmp(name, "--version")) {
            o->version = true;
            continue;
        }
        if (!strcmp(name, "--watch")) {
            if (eq)
                return ctl_usage(err, err_len, "%s takes no value", name);
            o->watch = true;
            continue;
        }
        if (!strcmp(name, "--json") || !strcmp(name, "--no-headers")) {
            if (eq)
                return ctl_usage(err, err_len, "%s takes no value", name);
            if (name[2] == 'j')
                o->json = true;
            else
                o->no_headers = true;
            continue;
        }
        static const char *const valued[] = {"--url",        "--timeout",     "--count",
                                             "--dns-server", "--gossip-port", "--key-file",
                                             "--state"};
        const char *known = NULL;
        for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]); k++)
            if (!strcmp(name, valued[k]))
                known = valued[k];
        if (!known)
            return ctl_usage(err, err_len, "unknown option '%s'%s", name, " (see tallyctl --help)");
        if (!val) {
            if (i + 1 >= argc)
                return ctl_usage(err, err_len, "%s needs a value", name);
            val = argv[++i];
        }
        /* Command-specific options are checked once the command is known. */
        if (!ctl_opt_allowed(CTL_CMD_NONE, known) && nused < sizeof(used) / sizeof(used[0]))
            used[nused++] = known;
        if (!strcmp(name, "--url")) {
            url = val;
        } else if (!strcmp(name, "--timeout")) {
            if (ctl_int_parse(val, 1, 600000, &o->timeout_ms))
                return ctl_usage(err, err_len,
                                 "--timeout wants milliseconds from 1 to 600000, not '%s'", val);
        } else if (!strcmp(name, "--count")) {
            if (ctl_int_parse(val, 1, CTL_MAX_PINGS, &o->count))
                return ctl_usage(err, err_len, "--count wants a number from 1 to 1000, not '%s'",
                                 val);
        } else if (!strcmp(name, "--gossip-port")) {
            if (ctl_int_parse(val, 1, 65535, &o->gossip_port))
                return ctl_usage(err, err_len, "--gossip-port wants a port (1-65535), not '%s'",
                                 val);
        } else if (!strcmp(name, "--state")) {
            if (strcmp(val, "alive") && strcmp(val, "suspect") && strcmp(val, "dead") &&
                strcmp(val, "left"))
                return ctl_usage(err, err_len,
                                 "--state wants alive, suspect, dead or left, not '%s'", val);
            o->state = val;
        } else if (!strcmp(name, "--key-file")) {
            if (!*val)
                return ctl_usage(err, err_len, "--key-file wants a path");
            o->key_file = val;
        } else {
            if (!*val)
                return ctl_usage(err, err_len, "--dns-server wants ADDR[:PORT]");
            o->dns_server = val;
        }
    }
    if (o->help || o->version)
        return 0;
    if (o->cmd == CTL_CMD_NONE)
        return ctl_usage(err, err_len, "no command given%s", CTL_CMDS_HINT);
    for (size_t k = 0; k < nused; k++)
        if (!ctl_opt_allowed(o->cmd, used[k]))
            return ctl_usage(err, err_len, "%s does not apply to %s", used[k],
                             ctl_cmd_name(o->cmd));
    if (o->watch && o->cmd != CTL_CMD_CLUSTER)
        return ctl_usage(err, err_len, "--watch does not apply to %s (only to cluster)",
                         ctl_cmd_name(o->cmd));
    if (o->watch && o->json)
        return ctl_usage(err, err_len,
                         "--watch and --json do not go together (--watch prints a line per "
                         "change when piped)");
    if (o->cmd == CTL_CMD_PING && !o->arg)
        return ctl_usage(err, err_len, "ping needs a pod name or an address (POD|ADDR)");
    if (o->cmd == CTL_CMD_FILE && dir_given)
        o->data_dir = o->arg;
    if (url) {
        o->url_source = "--url";
        if (snprintf(o->url, sizeof(o->url), "%s", url) >= (int)sizeof(o->url))
            return ctl_usage(err, err_len, "--url is too long");
    } else if (ctl_url_default(env, o)) {
        return ctl_usage(err, err_len, "the URL from %s is too long", o->url_source);
    }
    struct http_url u;
    char why[128];
    if (http_url_parse(o->url, &u, why, sizeof(why))) {
        snprintf(err, err_len, "bad tallyd URL '%s' (from %s): %s", o->url, o->url_source, why);
        return CTL_EXIT_USAGE;
    }
    return 0;
}
