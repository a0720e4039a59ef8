/*
 * tallyctl.h: the operator's tool, run in a pod with
 * `kubectl exec myapp-stateful-0 -- tallyctl COMMAND`.
 *
 * main.c parses the command line (args.c) and hands the options to one
 * cmd_*.c file per command. Every command prints a readable table, or JSON
 * with --json, and returns one of the exit codes below. Rendering is split
 * from fetching (ctl_*_render take already-parsed JSON) so the unit tests can
 * check the output from canned answers without a running tallyd.
 */
#ifndef TALLYCTL_H
#define TALLYCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tools/tallyctl/json.h"

/* Exit codes: what a script can rely on. */
#define CTL_EXIT_OK    0 /* the command worked and its check passed */
#define CTL_EXIT_FAIL  1 /* a failed check: tallyd not answering, no ACK, corrupt file... */
#define CTL_EXIT_USAGE 2 /* bad command line */

#define CTL_DEFAULT_PORT_HTTP   8000
#define CTL_DEFAULT_PORT_GOSSIP 7946
#define CTL_DEFAULT_TIMEOUT_MS  2000
#define CTL_DEFAULT_PINGS       3
#define CTL_DEFAULT_DATA_DIR    "/data"
#define CTL_URL_MAX             256
/* A ping count above this is a typo, not a measurement. */
#define CTL_MAX_PINGS 1000

enum ctl_cmd {
    CTL_CMD_NONE = 0,
    CTL_CMD_STATUS,
    CTL_CMD_PEERS,
    CTL_CMD_COUNT,
    CTL_CMD_CLUSTER,
    CTL_CMD_DNS,
    CTL_CMD_PING,
    CTL_CMD_FILE,
    CTL_CMD_VERSION,
};

/* The environment variables tallyctl reads, passed in so tests control them. */
struct ctl_env {
    const char *tallyctl_url;   /* TALLYCTL_URL */
    const char *pod_ip;         /* POD_IP: the address tallyd advertises in a pod */
    const char *tally_service;  /* TALLY_SERVICE */
    const char *data_dir;       /* DATA_DIR */
    const char *tally_key_file; /* TALLY_KEY_FILE: tallyd's gossip key file */
};

struct ctl_opts {
    enum ctl_cmd cmd;
    const char *arg;         /* the command's one positional argument, or NULL */
    char url[CTL_URL_MAX];   /* tallyd's base URL, e.g. http://127.0.0.1:8000 */
    const char *url_source;  /* where url came from: "--url", "TALLYCTL_URL", ... */
    bool json;               /* --json */
    bool watch;              /* cluster --watch */
    bool no_headers;         /* --no-headers: tables without header and summary lines */
    const char *state;       /* peers --state: only members in this state, NULL: all */
    bool help;               /* --help or `help`: print usage, exit 0 */
    bool version;            /* --version */
    int timeout_ms;          /* --timeout */
    int count;               /* ping --count */
    const char *dns_server;  /* dns/ping --dns-server ADDR[:PORT], NULL: /etc/resolv.conf */
    int gossip_port;         /* dns/ping --gossip-port */
    const char *service_env; /* TALLY_SERVICE, for dns */
    const char *data_dir;    /* file: DIR, else DATA_DIR, else /data */
    const char *key_file;    /* dns/ping --key-file, else TALLY_KEY_FILE; NULL: unsealed */
};

/* args.c: parse argv into *o. Returns 0, or CTL_EXIT_USAGE with a one-line
 * reason in err. */
int ctl_args_parse(int argc, char **argv, const struct ctl_env *env, struct ctl_opts *o, char *err,
                   size_t err_len);
void ctl_usage_print(FILE *out);
const char *ctl_cmd_name(enum ctl_cmd cmd);

/* fetch.c: GET path from tallyd and parse the JSON it answers. Returns 0 and
 * sets *doc (caller frees with json_free), or -1 after writing a plain
 * sentence about what went wrong into err ("tallyd is not answering on ..."). */
int ctl_fetch_json(const struct ctl_opts *o, const char *path, struct json **doc, char **body,
                   char *err, size_t err_len);
/* The sentence for an answer other than 200: tallyd's reason (the body's
 * first line, escaped), or for a 404 that is not tallyd's, that the server on
 * url is not a tallyd serving path. Pure, for the tests. */
void ctl_fetch_status_explain(const char *url, const char *path, int status, const char *body,
                              char *err, size_t err_len);
/* GET path and print it: tallyd's JSON unchanged with --json, else render()'s
 * table. A fetch failure is one line on errout and CTL_EXIT_FAIL; otherwise
 * render()'s code (with --json, json_code() of the document if given). */
int ctl_fetch_show(const struct ctl_opts *o, const char *path,
                   int (*render)(const struct json *, FILE *),
                   int (*json_code)(const struct json *), FILE *out, FILE *errout);

/* pods.c: the members of a /cluster "pods" array sorted by name; *n gets
 * the count. Caller frees the array (not the members). NULL when out of
 * memory. */
const struct json **ctl_pods_sorted(const struct json *pods, size_t *n);

/* Renderers (pure: JSON in, text out). Return a CTL_EXIT_* code. */
int ctl_status_render(const struct json *status, FILE *out);
int ctl_peers_render(const struct json *cluster, FILE *out);
/* Only the members in state (NULL: all); ctl_peers_render is state NULL. */
int ctl_peers_render_state(const struct json *cluster, const char *state, FILE *out);
/* tallyctl version: own version and protocol range; status is tallyd's
 * /status, or NULL with why it could not be had. */
int ctl_version_render(const struct json *status, const char *url, const char *why, FILE *out);
int ctl_count_render(const struct json *count, FILE *out);
int ctl_cluster_render(const struct json *cluster, FILE *out);

/* Commands: print to out, complaints to errout; return a CTL_EXIT_* code. */
int cmd_status(const struct ctl_opts *o, FILE *out, FILE *errout);
int cmd_peers(const struct ctl_opts *o, FILE *out, FILE *errout);
int cmd_count(const struct ctl_opts *o, FILE *out, FILE *errout);
int cmd_cluster(const struct ctl_opts *o, FILE *out, FILE *errout);
int cmd_dns(const struct ctl_opts *o, FILE *out, FILE *errout);
int cmd_ping(const struct ctl_opts *o, FILE *out, FILE *errout);
int cmd_file(const struct ctl_opts *o, FILE *out, FILE *errout);
/* cmd_watch.c: `cluster --watch`; returns only when out cannot be written. */
int cmd_cluster_watch(const struct ctl_opts *o, FILE *out, FILE *errout);
/* The change lines between two /cluster answers (prev NULL: the first, a
 * line per pod), each starting with stamp. Returns how many lines, or
 * -EINVAL when cur lacks pods or total, -ENOMEM. */
int ctl_watch_changes(const struct json *prev, const struct json *cur, const char *stamp,
                      FILE *out);
int cmd_version(const struct ctl_opts *o, FILE *out, FILE *errout);

#endif
