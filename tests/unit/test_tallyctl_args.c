/*
 * test_tallyctl_args.c: tallyctl's command line. Each command parses with its
 * options; every kind of mistake is a usage error (exit 2) whose message names
 * the mistake; tallyd's URL comes from --url, TALLYCTL_URL, POD_IP, then the
 * loopback default, in that order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tools/tallyctl/tallyctl.h"

static const struct ctl_env no_env = {0};
static char err[512];

/* Parse a NULL-terminated list of words with env. */
static int parse_env(const struct ctl_env *env, struct ctl_opts *o, ...)
{
    char *argv[32] = {"tallyctl"};
    int argc = 1;
    va_list ap;
    va_start(ap, o);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 31;)
        argv[argc++] = a;
    va_end(ap);
    return ctl_args_parse(argc, argv, env, o, err, sizeof(err));
}

#define parse(o, ...) parse_env(&no_env, o, __VA_ARGS__, NULL)

static void test_each_command(void **state)
{
    static const struct {
        const char *word;
        enum ctl_cmd cmd;
    } cases[] = {{"status", CTL_CMD_STATUS},   {"peers", CTL_CMD_PEERS}, {"count", CTL_CMD_COUNT},
                 {"cluster", CTL_CMD_CLUSTER}, {"dns", CTL_CMD_DNS},     {"file", CTL_CMD_FILE},
                 {"version", CTL_CMD_VERSION}};
    struct ctl_opts o;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(parse(&o, (char *)cases[i].word), 0);
        assert_int_equal(o.cmd, cases[i].cmd);
        assert_null(o.arg);
        assert_false(o.json);
        assert_int_equal(o.timeout_ms, 2000);
        assert_string_equal(o.url, "http://127.0.0.1:8000");
    }
    assert_int_equal(parse(&o, "ping", "myapp-stateful-1"), 0);
    assert_int_equal(o.cmd, CTL_CMD_PING);
    assert_string_equal(o.arg, "myapp-stateful-1");
    assert_int_equal(o.count, 3);
    assert_int_equal(o.gossip_port, 7946);
}

static void test_options_anywhere(void **state)
{
    struct ctl_opts o;
    assert_int_equal(parse(&o, "--json", "ping", "10.0.0.1:7000", "--count", "5", "--timeout=250",
                           "--dns-server", "10.96.0.10:53", "--gossip-port", "7000"),
                     0);
    assert_true(o.json);
    assert_int_equal(o.count, 5);
    assert_int_equal(o.timeout_ms, 250);
    assert_string_equal(o.dns_server, "10.96.0.10:53");
    assert_int_equal(o.gossip_port, 7000);
    assert_string_equal(o.arg, "10.0.0.1:7000");

    assert_int_equal(parse(&o, "status", "--url", "http://10.1.2.3:9000/"), 0);
    assert_string_equal(o.url, "http://10.1.2.3:9000/");
    assert_string_equal(o.url_source, "--url");
    assert_int_equal(parse(&o, "dns", "myapp-headless", "--json"), 0);
    assert_string_equal(o.arg, "myapp-headless");
}

static void test_url_precedence(void **state)
{
    struct ctl_opts o;
    struct ctl_env env = {.pod_ip = "10.244.0.12"};
    assert_int_equal(parse_env(&env, &o, "status", NULL), 0);
    assert_string_equal(o.url, "http://10.244.0.12:8000");
    assert_string_equal(o.url_source, "POD_IP");

    env.pod_ip = "fd00::12";
    assert_int_equal(parse_env(&env, &o, "status", NULL), 0);
    assert_string_equal(o.url, "http://[fd00::12]:8000");

    env.tallyctl_url = "http://10.9.9.9:8080";
    assert_int_equal(parse_env(&env, &o, "status", NULL), 0);
    assert_string_equal(o.url, "http://10.9.9.9:8080");
    assert_string_equal(o.url_source, "TALLYCTL_URL");

    assert_int_equal(parse_env(&env, &o, "status", "--url", "http://127.0.0.2:1", NULL), 0);
    assert_string_equal(o.url, "http://127.0.0.2:1");
}

static void test_file_dir(void **state)
{
    struct ctl_opts o;
    struct ctl_env env = {.data_dir = "/var/tally"};
    assert_int_equal(parse(&o, "file"), 0);
    assert_string_equal(o.data_dir, "/data");
    assert_int_equal(parse_env(&env, &o, "file", NULL), 0);
    assert_string_equal(o.data_dir, "/var/tally");
    assert_int_equal(parse_env(&env, &o, "file", "/mnt/x", NULL), 0);
    assert_string_equal(o.data_dir, "/mnt/x");
}

static void test_service_env(void **state)
{
    struct ctl_opts o;
    struct ctl_env env = {.tally_service = "myapp-headless"};
    assert_int_equal(parse_env(&env, &o, "dns", NULL), 0);
    assert_string_equal(o.service_env, "myapp-headless");
    assert_null(o.arg);
}

static void test_help_version(void **state)
{
    struct ctl_opts o;
    assert_int_equal(parse(&o, "--help"), 0);
    assert_true(o.help);
    assert_int_equal(parse(&o, "help"), 0);
    assert_true(o.help);
    assert_int_equal(parse(&o, "ping", "--help"), 0);
    assert_true(o.help);
    assert_int_equal(parse(&o, "--version"), 0);
    assert_true(o.version);
}

/* Every mistake: exit 2, and the message says what the mistake was. */
static void test_bad_usage(void **state)
{
    static const struct {
        const char *argv[6];
        const char *says;
    } cases[] = {
        {{NULL}, "no command given"},
        {{"stauts"}, "unknown command 'stauts'"},
        {{"status", "--bogus"}, "unknown option '--bogus'"},
        {{"status", "extra"}, "unexpected argument 'extra' for status"},
        {{"ping"}, "ping needs a pod name or an address"},
        {{"ping", "a", "b"}, "unexpected argument 'b' for ping"},
        {{"ping", "a", "--count"}, "--count needs a value"},
        {{"ping", "a", "--count", "0"}, "--count wants a number from 1 to 1000, not '0'"},
        {{"ping", "a", "--count", "5x"}, "--count wants a number"},
        {{"ping", "a", "--count", "-3"}, "--count wants a number"},
        {{"ping", "a", "--count", "1001"}, "--count wants a number"},
        {{"status", "--timeout", "0"}, "--timeout wants milliseconds"},
        {{"status", "--timeout", ""}, "--timeout wants milliseconds"},
        {{"status", "--timeout", "99999999999999999999"}, "--timeout wants milliseconds"},
        {{"dns", "--gossip-port", "70000"}, "--gossip-port wants a port"},
        {{"status", "--count", "2"}, "--count does not apply to status"},
        {{"file", "--dns-server", "1.1.1.1"}, "--dns-server does not apply to file"},
        {{"dns", "--dns-server="}, "--dns-server wants ADDR[:PORT]"},
        {{"status", "--json=yes"}, "--json takes no value"},
        {{"status", "--url", "https://x:1"}, "only http:// is supported"},
        {{"status", "--url", "http://:80"}, "no host"},
        {{"status", "--url", "http://h:0"}, "bad port"},
        {{"status", "--url", "http://h:99999"}, "bad port"},
        {{"status", "--url", "http://h:80/status"}, "give the base URL only"},
        {{"status", "--url", "http://[::1:80"}, "missing ']'"},
        {{"peers", "--state", "zombie"},
         "--state wants alive, suspect, dead or left, not 'zombie'"},
        {{"cluster", "--state", "alive"}, "--state does not apply to cluster"},
        {{"peers", "--no-headers=1"}, "--no-headers takes no value"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *argv[8] = {"tallyctl"};
        int argc = 1;
        struct ctl_opts o;
        for (int k = 0; cases[i].argv[k]; k++)
            argv[argc++] = (char *)cases[i].argv[k];
        err[0] = '\0';
        int rc = ctl_args_parse(argc, argv, &no_env, &o, err, sizeof(err));
        if (rc != CTL_EXIT_USAGE || !strstr(err, cases[i].says))
            fail_msg("case %zu: rc %d, message '%s', want '%s'", i, rc, err, cases[i].says);
    }
}

static void test_state_and_no_headers(void **state)
{
    struct ctl_opts o;
    assert_int_equal(parse(&o, "peers", "--state", "dead", "--no-headers"), 0);
    assert_string_equal(o.state, "dead");
    assert_true(o.no_headers);
    assert_int_equal(parse(&o, "--no-headers", "cluster"), 0);
    assert_null(o.state);
    assert_true(o.no_headers);
    assert_int_equal(parse(&o, "peers", "--state=left"), 0);
    assert_string_equal(o.state, "left");
    assert_false(o.no_headers);
}

static void test_bad_env_url(void **state)
{
    struct ctl_opts o;
    struct ctl_env env = {.tallyctl_url = "ftp://x"};
    assert_int_equal(parse_env(&env, &o, "status", NULL), CTL_EXIT_USAGE);
    assert_non_null(strstr(err, "from TALLYCTL_URL"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_command),   cmocka_unit_test(test_options_anywhere),
        cmocka_unit_test(test_url_precedence), cmocka_unit_test(test_file_dir),
        cmocka_unit_test(test_service_env),    cmocka_unit_test(test_help_version),
        cmocka_unit_test(test_bad_usage),      cmocka_unit_test(test_state_and_no_headers),
        cmocka_unit_test(test_bad_env_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
