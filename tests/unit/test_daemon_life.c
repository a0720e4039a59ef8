/*
 * test_daemon_life.c: tallyd's life cycle in one process (node/daemon.c), on
 * 127.0.45.30: start with a cluster key (so the transport watches SIGHUP),
 * drain as SIGTERM does, run the loop until every handle has closed. What it
 * promises: the loop ends with nothing left open (tallyd_close freed every
 * part, the gossip core included; valgrind sees no leak), the stop is clean,
 * and from tallyd_close until exit SIGTERM, SIGINT and SIGHUP are ignored
 * (libuv gives a signal back to SIG_DFL when its last handle closes, and
 * SIG_DFL would kill a process that is exiting cleanly). The same after a
 * start that fails. It listens on sockets: label process.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "node/tallyd.h"

#define IP "127.0.45.30"

static char dir[64];

static const char *no_env(const char *name)
{
    (void)name;
    return NULL;
}

static void config_from(struct config *cfg, int argc, char **argv)
{
    enum config_action action;
    char err[512];
    int rc = config_parse(cfg, argc, argv, no_env, &action, err, sizeof(err));
    if (rc != 0)
        fail_msg("config: %s", err);
    assert_int_equal(action, CONFIG_RUN);
}

static bool ignored(int signum)
{
    struct sigaction sa;
    assert_int_equal(sigaction(signum, NULL, &sa), 0);
    return sa.sa_handler == SIG_IGN;
}

/* What a signal does after tallyd_close: nothing. Were it SIG_DFL, raise()
 * would end this test process (and ctest would report it). */
static void signals_harmless(void)
{
    assert_true(ignored(SIGTERM));
    assert_true(ignored(SIGINT));
    assert_true(ignored(SIGHUP));
    raise(SIGHUP);
    raise(SIGTERM);
    raise(SIGINT);
}

static int setup(void **state)
{
    (void)state;
    /* as tallyd's main leaves them, whatever an earlier test left */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_IGN);
    snprintf(dir, sizeof(dir), "/tmp/test_daemon_life.XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void test_drain_then_signals_ignored(void **state)
{
    (void)state;
    char data[96], key[96];
    snprintf(data, sizeof(data), "%s/data", dir);
    snprintf(key, sizeof(key), "%s/key", dir);
    assert_int_equal(mkdir(data, 0700), 0);
    FILE *f = fopen(key, "w");
    assert_non_null(f);
    fputs("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", f);
    fclose(f);
    chmod(key, 0600);
    char *argv[] = {"tallyd", "--name",        "pod-life", "--bind",      IP,      "--http-port",
                    "8030",   "--gossip-port", "7030",     "--data-dir",  data,    "--key-file",
                    key,      "--peers",       IP ":7031", "--log-level", "error", NULL};
    static struct config cfg;
    config_from(&cfg, (int)(sizeof(argv) / sizeof(argv[0])) - 1, argv);

    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    static struct tallyd d;
    assert_int_equal(tallyd_start(&d, &loop, &cfg), 0);
    assert_non_null(d.gossip);
    assert_non_null(d.udp);
    assert_false(ignored(SIGHUP)); /* the key watch holds it */
    assert_false(ignored(SIGTERM));
    uv_run(&loop, UV_RUN_NOWAIT);
    tallyd_drain(&d); /* what SIGTERM does */
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(d.exit_code, 0);
    assert_null(d.gossip); /* freed by tallyd_close, not left to main */
    assert_null(d.udp);
    assert_null(d.dns);
    assert_int_equal(uv_loop_close(&loop), 0);
    signals_harmless();
}

static void test_failed_start_then_signals_ignored(void **state)
{
    (void)state;
    char data[96];
    /* a data dir that is a file: the store cannot load */
    snprintf(data, sizeof(data), "%s/file", dir);
    FILE *f = fopen(data, "w");
    assert_non_null(f);
    fclose(f);
    char *argv[] = {"tallyd", "--name",     "pod-life", "--bind",      IP,      "--http-port",
                    "8030",   "--data-dir", data,       "--log-level", "error", NULL};
    static struct config cfg;
    config_from(&cfg, (int)(sizeof(argv) / sizeof(argv[0])) - 1, argv);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    static struct tallyd d;
    assert_true(tallyd_start(&d, &loop, &cfg) < 0);
    tallyd_close(&d);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    signals_harmless();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_drain_then_signals_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_start_then_signals_ignored, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
