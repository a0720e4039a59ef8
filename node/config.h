/*
 * config.h: tallyd's settings from flags, with environment fallbacks (the
 * Kubernetes downward API sets POD_NAME and POD_IP). Parsing is pure so it can
 * be unit tested: it never exits and never prints; the caller does.
 */
#ifndef TALLY_CONFIG_H
#define TALLY_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "node/log.h"
#include "node/store/sync_mode.h"

#define CONFIG_MAX_PEERS 64
#define CONFIG_STR_MAX   256

struct config {
    char name[64];
    char bind[64];      /* listen address; "" = every address (:: and 0.0.0.0) */
    char advertise[64]; /* gossip IP peers reach us at; "" = bind if specific */
    int http_port;
    int gossip_port;
    char data_dir[CONFIG_STR_MAX];
    char service[CONFIG_STR_MAX]; /* "" = no DNS discovery */
    char dns_server[CONFIG_STR_MAX];
    char peers[CONFIG_MAX_PEERS][CONFIG_STR_MAX]; /* "host:port" each */
    size_t n_peers;
    enum commit_sync sync;
    uint32_t sync_interval_ms;
    uint32_t gossip_interval_ms;
    uint32_t recovery_ms;
    uint32_t dns_interval_ms;
    uint32_t max_conns;
    uint32_t max_members;
    uint32_t idle_ms;
    char key_file[CONFIG_STR_MAX];
    enum log_level log_level;
    enum log_format log_format;
};

/* What parsing asked for beyond running. */
enum config_action { CONFIG_RUN = 0, CONFIG_HELP = 1, CONFIG_VERSION = 2 };

/* Fill cfg from argv, then the environment (envp-style lookup through
 * getenv_fn so tests can pass their own), then defaults. On error returns
 * -EINVAL with a message naming the flag in err. */
int config_parse(struct config *cfg, int argc, char **argv, const char *(*getenv_fn)(const char *),
                 enum config_action *action, char *err, size_t err_len);

/* The --help text, generated from the option table: every flag with its
 * argument, environment variable and default. */
const char *config_usage(void);
/* The option table, for tests that hold --help and parsing to each other:
 * i in [0, config_opt_count()); env is NULL for --help and --version, the
 * default NULL when there is none. */
size_t config_opt_count(void);
const char *config_opt_flag(size_t i);
const char *config_opt_env(size_t i);
const char *config_opt_default(size_t i);
const char *config_sync_str(enum commit_sync s);

#endif
