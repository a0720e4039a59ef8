/*
 * test_config.c: tallyd's command line: defaults, flags over environment,
 * every bad value rejected with a message naming the flag, and --help listing
 * every flag the manifests and scripts rely on: generated from the option
 * table, so every option appears in it and every flag it names parses.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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
        {"--http-port", "0"},
        {"--http-port", "65536"},
        {"--http-port", "80x"},
        {"--gossip-port", "-1"},
        {"--bind", "localhost"},
        {"--bind", "10.0.0.256"},
        {"--sync", "sometimes"},
        {"--gossip-interval", "5"},
        {"--log-level", "loud"},
        {"--peers", "10.0.0.1"},
        {"--peers", "a:0"},
        {"--name", "bad name"},
        {"--name", ""},
        {"--data-dir", ""},
        {"--dns-server", "dns.local"},
        {"--dns-server", "foo:53"},
        {"--dns-server", "10.0.0.1:0"},
        {"--dns-server", "10.0.0.1,"},
        {"--dns-server", "[::1]"},
        {"--dns-server", "10.0.0.1,kube-dns:53"},
        {"--max-conns", "0"},
        {"--recovery-wait", "1e3"},
        {"--advertise", "pod-0"},
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

/* The forms c-ares takes are accepted, so a valid setting still starts. */
static void test_dns_server_forms(void **state)
{
    static const char *const good[] = {
        "10.96.0.10", "10.96.0.10:53", "::1", "[::1]:5353", "10.0.0.1,[fd00::a]:53",
    };
    static const char *env[] = {"POD_NAME=p", NULL};
    g_env = env;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct config cfg;
        char err[256] = "";
        assert_int_equal(parse(&cfg, err, sizeof(err), "--dns-server", good[i], NULL), 0);
        assert_string_equal(cfg.dns_server, good[i]);
    }
    /* and from the environment, the error names both */
    static const char *bad_env[] = {"POD_NAME=p", "TALLY_DNS_SERVER=kube-dns:53", NULL};
    struct config cfg;
    char err[256] = "";
    g_env = bad_env;
    assert_int_equal(parse(&cfg, err, sizeof(err), NULL), -22);
    assert_non_null(strstr(err, "--dns-server"));
    assert_non_null(strstr(err, "TALLY_DNS_SERVER"));
}

/* The text of one option's entry in --help: from "  --flag" at a line start
 * to the next line that starts another option. */
static const char *help_entry(const char *help, const char *flag, char *out, size_t cap)
{
    char start[64];
    snprintf(start, sizeof(start), "\n  %s ", flag);
    const char *p = strstr(help, start);
    if (!p) {
        snprintf(start, sizeof(start), "\n  %s\n", flag);
        p = strstr(help, start);
    }
    if (!p)
        return NULL;
    p++;
    const char *end = strstr(p + 1, "\n  --");
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    /* joined into one line, so a wrapped "default: X" still reads whole */
    for (char *q = out; *q; q++)
        if (*q == '\n')
            *q = ' ';
    for (char *q = strstr(out, "  "); q; q = strstr(out, "  "))
        memmove(q, q + 1, strlen(q));
    return out;
}

static void test_help_lists_every_option(void **state)
{
    const char *help = config_usage();
    assert_true(config_opt_count() > 20);
    for (size_t i = 0; i < config_opt_count(); i++) {
        const char *flag = config_opt_flag(i), *env = config_opt_env(i);
        const char *def = config_opt_default(i);
        char entry[2048], want[300];
        assert_non_null(help_entry(help, flag, entry, sizeof(entry)));
        if (env) {
            snprintf(want, sizeof(want), "[%s]", env);
            assert_non_null(strstr(entry, want));
        }
        if (def && def[0]) {
            snprintf(want, sizeof(want), "default: %s", def);
            assert_non_null(strstr(entry, want));
        }
    }
    for (const char *l = help; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l))
        assert_true(strcspn(l, "\n") < 80);
}

/* Every --flag the help names, in an entry or in prose, is one the parser
 * knows; an option taking a value parses with its own default. */
static void test_every_flag_in_help_parses(void **state)
{
    static const char *env[] = {"POD_NAME=p", NULL};
    const char *help = config_usage();
    size_t seen = 0;
    g_env = env;
    for (const char *p = strstr(help, "--"); p; p = strstr(p + 2, "--")) {
        char flag[64];
        size_t n = 2 + strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-");
        assert_true(n > 2 && n < sizeof(flag));
        memcpy(flag, p, n);
        flag[n] = '\0';
        const char *value = NULL;
        bool in_table = false;
        for (size_t i = 0; i < config_opt_count(); i++) {
            if (strcmp(config_opt_flag(i), flag))
                continue;
            in_table = true;
            /* "" is valid wherever the default is empty; --name has none */
            if (config_opt_env(i))
                value = config_opt_default(i) ? config_opt_default(i) : "p";
        }
        assert_true(in_table);
        struct config cfg;
        char err[256] = "";
        char *argv[] = {"tallyd", flag, (char *)value, NULL};
        enum config_action action;
        int rc = config_parse(&cfg, value ? 3 : 2, argv, fake_getenv, &action, err, sizeof(err));
        if (rc != 0)
            print_error("%s %s: %s\n", flag, value ? value : "", err);
        assert_int_equal(rc, 0);
        if (!value)
            assert_int_not_equal(action, CONFIG_RUN);
        seen++;
    }
    assert_true(seen >= config_opt_count());
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
        cmocka_unit_test(test_dns_server_forms),
        cmocka_unit_test(test_help_lists_every_option),
        cmocka_unit_test(test_every_flag_in_help_parses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
