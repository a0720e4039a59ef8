/*
 * test_tallyctl_watch.c: `tallyctl cluster --watch` when piped: the lines a
 * log or a script reads, from pairs of canned /cluster answers (in tallyd's
 * format, fields it may add later included); and --watch on the command line.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tools/tallyctl/tallyctl.h"

#define T "2026-12-01T16:00:00Z"

/* A /cluster answer as tallyd writes it: pods listed in its own order. */
static const char C1[] =
    "{\"pod\": \"myapp-stateful-0\", \"total\": 9, \"pods\": [\n"
    "  {\"name\": \"myapp-stateful-1\", \"visits\": 3, \"state\": \"alive\", \"address\": "
    "\"10.244.0.13:7946\", \"last_seen_ms\": 412, \"generation\": 2},\n"
    "  {\"name\": \"myapp-stateful-0\", \"visits\": 2, \"state\": \"alive\", \"address\": "
    "\"10.244.0.12:7946\", \"last_seen_ms\": 0, \"generation\": 1, \"self\": true},\n"
    "  {\"name\": \"myapp-stateful-2\", \"visits\": 4, \"state\": \"alive\", \"address\": "
    "\"10.244.0.14:7946\", \"last_seen_ms\": 100, \"generation\": 3}\n"
    "]}\n";
/* A second later: a visit on 1, 2 suspect, a newcomer with slots and an
 * incarnation (fields tallyctl does not know), and only last_seen_ms moved on 0. */
static const char C2[] =
    "{\"pod\": \"myapp-stateful-0\", \"total\": 11, \"pods\": [\n"
    "  {\"name\": \"myapp-stateful-1\", \"visits\": 4, \"state\": \"alive\", \"address\": "
    "\"10.244.0.13:7946\", \"last_seen_ms\": 10, \"generation\": 2},\n"
    "  {\"name\": \"myapp-stateful-0\", \"visits\": 2, \"state\": \"alive\", \"address\": "
    "\"10.244.0.12:7946\", \"last_seen_ms\": 0, \"generation\": 1, \"self\": true},\n"
    "  {\"name\": \"myapp-stateful-2\", \"visits\": 4, \"state\": \"suspect\", \"address\": "
    "\"10.244.0.14:7946\", \"last_seen_ms\": 2100, \"generation\": 3},\n"
    "  {\"name\": \"myapp-stateful-3\", \"visits\": 1, \"state\": \"alive\", \"address\": "
    "\"10.244.0.15:7946\", \"last_seen_ms\": 5, \"generation\": 4, \"incarnation\": 2, "
    "\"slots\": [{\"id\": \"0a1b\", \"visits\": 1}]}\n"
    "]}\n";
/* Then: 2 dead with a count that went up before it died, 3 gone from the list,
 * a name with a terminal escape in it. */
static const char C3[] =
    "{\"pod\": \"myapp-stateful-0\", \"total\": 11, \"pods\": [\n"
    "  {\"name\": \"myapp-stateful-1\", \"visits\": 4, \"state\": \"alive\"},\n"
    "  {\"name\": \"myapp-stateful-0\", \"visits\": 2, \"state\": \"alive\", \"self\": true},\n"
    "  {\"name\": \"myapp-stateful-2\", \"visits\": 5, \"state\": \"dead\"},\n"
    "  {\"name\": \"evil\\u001b[2J\", \"visits\": 0, \"state\": \"alive\"}\n"
    "]}\n";

static struct json *parse(const char *text)
{
    struct json *v;
    char err[128];
    assert_int_equal(json_parse(text, strlen(text), &v, err, sizeof(err)), 0);
    return v;
}

/* The lines ctl_watch_changes prints for prev -> cur; *lines gets its return. */
static char *changes(const char *prev, const char *cur, int *lines)
{
    struct json *p = prev ? parse(prev) : NULL, *c = parse(cur);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    *lines = ctl_watch_changes(p, c, T, f);
    fclose(f);
    json_free(p);
    json_free(c);
    return text;
}

static void test_first_answer(void **state)
{
    int n;
    char *s = changes(NULL, C1, &n);
    assert_int_equal(n, 4);
    assert_string_equal(s, T " myapp-stateful-0 alive 2 visits\n" T
                             " myapp-stateful-1 alive 3 visits\n" T
                             " myapp-stateful-2 alive 4 visits\n" T
                             " total 9 visits (as seen by myapp-stateful-0)\n");
    free(s);
}

static void test_changes_only(void **state)
{
    int n;
    char *s = changes(C1, C1, &n);
    assert_int_equal(n, 0);
    assert_string_equal(s, "");
    free(s);
    s = changes(C1, C2, &n);
    assert_int_equal(n, 4);
    assert_string_equal(s, T " myapp-stateful-1 alive 4 visits (+1)\n" T
                             " myapp-stateful-2 suspect 4 visits (was alive)\n" T
                             " myapp-stateful-3 alive 1 visit (new)\n" T
                             " total 11 visits (+2) (as seen by myapp-stateful-0)\n");
    free(s);
    s = changes(C2, C3, &n);
    assert_int_equal(n, 3);
    assert_string_equal(s, T " evil\\x1b[2J alive 0 visits (new)\n" T
                             " myapp-stateful-2 dead 5 visits (was suspect, +1)\n" T
                             " myapp-stateful-3 no longer listed\n");
    free(s);
}

static void test_not_cluster(void **state)
{
    int n;
    char *s = changes(NULL, "{\"pod\": \"x\", \"visits\": 3}", &n);
    assert_int_equal(n, -EINVAL);
    free(s);
}

static int parse_args(struct ctl_opts *o, char *err, size_t cap, int argc, ...)
{
    char *argv[8] = {"tallyctl"};
    va_list ap;
    va_start(ap, argc);
    for (int i = 1; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    struct ctl_env env = {0};
    return ctl_args_parse(argc, argv, &env, o, err, cap);
}

static void test_args(void **state)
{
    struct ctl_opts o;
    char err[256];
    assert_int_equal(parse_args(&o, err, sizeof(err), 3, "cluster", "--watch"), 0);
    assert_true(o.watch);
    assert_int_equal(o.cmd, CTL_CMD_CLUSTER);
    assert_int_equal(parse_args(&o, err, sizeof(err), 3, "--watch", "cluster"), 0);
    assert_true(o.watch);
    assert_int_equal(parse_args(&o, err, sizeof(err), 2, "cluster"), 0);
    assert_false(o.watch);
    assert_int_equal(parse_args(&o, err, sizeof(err), 3, "peers", "--watch"), CTL_EXIT_USAGE);
    assert_string_equal(err, "--watch does not apply to peers (only to cluster)");
    assert_int_equal(parse_args(&o, err, sizeof(err), 4, "cluster", "--watch", "--json"),
                     CTL_EXIT_USAGE);
    assert_non_null(strstr(err, "--watch and --json do not go together"));
    assert_int_equal(parse_args(&o, err, sizeof(err), 3, "cluster", "--watch=1"), CTL_EXIT_USAGE);
    assert_string_equal(err, "--watch takes no value");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_answer),
        cmocka_unit_test(test_changes_only),
        cmocka_unit_test(test_not_cluster),
        cmocka_unit_test(test_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
