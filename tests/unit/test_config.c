/*
 * test_config.c: tallyd's command line: defaults, flags over environment,
 * every bad value rejected with a message naming the flag, and --help listing
 * every flag the manifests and scripts rely on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node/config.h"

static const char *const *g_env; /* "NAME=value" pairs, NULL-terminated */

static const char *fake_getenv(const char *name)
{
    size_t n = strlen(name);
    for (const char *const *e = g_env; e && *e; e++)
        if (!strncmp(*e, name, n) && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

static int parse(struct config *cfg, char *err, size_t err_len, ...)
{
    char *argv[32] = {"tallyd"};
    int argc = 1;
    va_list ap;
    va_start(ap, err_len);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 31;)
        argv[argc++] = a;
    va_end(ap);
    enum config_action action;
    return config_parse(cfg, argc, argv, fake_getenv, &action, err, err_len);
}

static void test_defaults(void **state)
{
    struct config cfg;
    char err[256];
    static const char *env[] = {"POD_NAME=myapp-stateful-0", NULL};
    g_env = env;
    assert_int_equal(parse(&cfg, err, sizeof(err), NULL), 0);
    assert_string_equal(cfg.name, "myapp-stateful-0");
    assert_string_equal(cfg.bind, ""); /* every address */
    assert_string_equal(cfg.advertise, "");
    assert_int_equal(cfg.log_format, LOG_FORMAT_LOGFMT);
    assert_int_equal(cfg.http_port, 8000);
    assert_int_equal(cfg.gossip_port, 7946);
    assert_string_equal(cfg.data_dir, "/data");
    assert_int_equal(cfg.sync, COMMIT_SYNC_ALWAYS);
    assert_int_equal(cfg.gossip_interval_ms, 1000);
    assert_int_equal(cfg.n_peers, 0);
    assert_string_equal(cfg.service, "");
}

static void test_flags_beat_environment(void **state)
{
    struct config cfg;
    char err[256];
    static const char *env[] = {"POD_NAME=from-env", "POD_IP=10.244.0.10", "DATA_DIR=/env", NULL};
    g_env = env;
    assert_int_equal(parse(&cfg, err, sizeof(err), "--name", "from-flag", "--data-dir=/flag",
                           "--sync", "interval", "--peers",
                           "10.0.0.1:7946,[::1]:7000,pod-1.svc:7946", NULL),
                     0);
    assert_string_equal(cfg.name, "from-flag");
    /* POD_IP is what peers are told, not where we listen (port-forward). */
    assert_string_equal(cfg.bind, "");
    assert_string_equal(cfg.advertise, "10.244.0.10");
    assert_string_equal(cfg.data_dir, "/flag");
    assert_int_equal(cfg.sync, COMMIT_SYNC_INTERVAL);
    assert_int_equal(cfg.n_peers, 3);
    assert_string_equal(cfg.peers[1], "[::1]:7000");
    assert_string_equal(cfg.peers[2], "pod-1.svc:7946");
}

static void test_bad_values_name_the_flag(void **state)
{
    static const struct {
        const char *flag, *value;
    } bad[] = {
        {"--http-port", "0"},    {"--http-port", "65536"},   {"--http-port", "80x"},
        {"--gossip-port", "-1"}, {"--bind", "localhost"},    {"--bind", "10.0.0.256"},
        {"--sync", "sometimes"}, {"--gossip-interval", "5"}, {"--log-level", "loud"},
        {"--peers", "10.0.0.1"}, {"--peers", "a:0"},         {"--name", "bad name"},
        {"--name", ""},          {"--data-dir", ""},         {"--dns-server", "dns.local"},
        {"--max-conns", "0"},    {"--recovery-wait", "1e3"}, {"--advertise", "pod-0"},
        {"--log-format", "xml"},
    };
    static const char *env[] = {"POD_NAME=p", NULL};
    g_env = env;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct config cfg;
        char err[256] = "";
        assert_int_equal(parse(&cfg, err, sizeof(err), bad[i].flag, bad[i].value, NULL), -22);
        assert_non_null(strstr(err, bad[i].flag));
    }
}

static void test_bad_environment_names_flag_and_variable(void **state)
{
    struct config cfg;
    char err[256];
    static const char *env[] = {"POD_NAME=p", "TALLY_HTTP_PORT=http", NULL};
    g_env = env;
    assert_int_equal(parse(&cfg, err, sizeof(err), NULL), -22);
    assert_non_null(strstr(err, "--http-port"));
    assert_non_null(strstr(err, "TALLY_HTTP_PORT"));
}

static void test_unknown_and_missing(void **state)
{
    struct config cfg;
    char err[256];
    g_env = NULL;
    assert_int_equal(parse(&cfg, err, sizeof(err), "--colour", "red", NULL), -22);
    assert_non_null(strstr(err, "--colour"));
    assert_int_equal(parse(&cfg, err, sizeof(err), "--http-port", NULL), -22);
    assert_non_null(strstr(err, "missing value"));
}

static void test_help_and_version(void **state)
{
    struct config cfg;
    char err[256];
    enum config_action action;
    char *help[] = {"tallyd", "--http-port", "1", "--help"};
    char *version[] = {"tallyd", "--version"};
    assert_int_equal(config_parse(&cfg, 4, help, fake_getenv, &action, err, sizeof(err)), 0);
    assert_int_equal(action, CONFIG_HELP);
    assert_int_equal(config_parse(&cfg, 2, version, fake_getenv, &action, err, sizeof(err)), 0);
    assert_int_equal(action, CONFIG_VERSION);
    static const char *const flags[] = {
        "--name",        "--bind",        "--http-port",    "--gossip-port",   "--data-dir",
        "--service",     "--dns-server",  "--peers",        "--sync",          "--gossip-interval",
        "--key-file",    "--log-level",   "--version",      "--help",          "POD_NAME",
        "POD_IP",        "--advertise",   "--log-format",   "TALLY_BIND",      "/status",
        "default: 8000", "default: 7946", "default: /data", "default: always",
    };
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        assert_non_null(strstr(config_usage(), flags[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_flags_beat_environment),
        cmocka_unit_test(test_bad_values_name_the_flag),
        cmocka_unit_test(test_bad_environment_names_flag_and_variable),
        cmocka_unit_test(test_unknown_and_missing),
        cmocka_unit_test(test_help_and_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
