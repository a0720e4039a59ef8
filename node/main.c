/*
 * main.c: tallyd's entry point: parse the configuration, run the daemon on
 * the default libuv loop until it has stopped, and exit with its status
 * (0 after a clean SIGTERM drain, 1 if the start or the final flush failed,
 * 2 for a bad command line).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "node/log.h"
#include "node/tallyd.h"

static const char *env_get(const char *name)
{
    return getenv(name);
}

int main(int argc, char **argv)
{
    struct config cfg;
    enum config_action action;
    char err[512];
    if (config_parse(&cfg, argc, argv, env_get, &action, err, sizeof(err)) != 0) {
        fprintf(stderr, "tallyd: %s\n", err);
        return 2;
    }
    if (action == CONFIG_HELP) {
        fputs(config_usage(), stdout);
        return 0;
    }
    if (action == CONFIG_VERSION) {
        printf("tallyd %s\n", TALLY_VERSION);
        return 0;
    }
    /* A client that hangs up mid-response must not kill the pod, nor must a
     * stray SIGHUP (with --key-file, node/peer/udp.c handles it: key reload). */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    log_level_set(cfg.log_level);
    log_format_set(cfg.log_format);

    static struct tallyd d; /* large (per-route counters, buffers): not on the stack */
    uv_loop_t *loop = uv_default_loop();
    int rc = tallyd_start(&d, loop, &cfg);
    if (rc < 0) {
        tallyd_close(&d);
        uv_run(loop, UV_RUN_DEFAULT);
        d.exit_code = 1;
    } else {
        uv_run(loop, UV_RUN_DEFAULT);
    }
    if (uv_loop_close(loop) != 0)
        log_warn("loop_close_busy");
    return d.exit_code;
}
