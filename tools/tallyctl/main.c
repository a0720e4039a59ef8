/*
 * main.c: tallyctl's entry point. Reads the environment once, parses the
 * command line, runs one command. Exit: 0 ok, 1 a failed check, 2 bad usage.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tools/tallyctl/tallyctl.h"

#include "tools/tallyctl/ping.h"
#include "tools/tallyctl/table.h"

int main(int argc, char **argv)
{
    struct ctl_env env = {
        .tallyctl_url = getenv("TALLYCTL_URL"),
        .pod_ip = getenv("POD_IP"),
        .tally_service = getenv("TALLY_SERVICE"),
        .data_dir = getenv("DATA_DIR"),
        .tally_key_file = getenv("TALLY_KEY_FILE"),
    };
    struct ctl_opts o;
    char err[512];

    if (ctl_args_parse(argc, argv, &env, &o, err, sizeof(err)) != 0) {
        fprintf(stderr, "tallyctl: %s\n", err);
        fprintf(stderr, "usage: tallyctl [OPTIONS] COMMAND [ARG] (tallyctl --help for more)\n");
        return CTL_EXIT_USAGE;
    }
    if (o.help) {
        ctl_usage_print(stdout);
        return CTL_EXIT_OK;
    }
    if (o.version) {
        printf("tallyctl %s\n", TALLY_VERSION);
        return CTL_EXIT_OK;
    }
    /* Before any PING leaves: a bad key file is named, not a silent timeout. */
    if ((o.cmd == CTL_CMD_PING || o.cmd == CTL_CMD_DNS) &&
        ping_key_file_set(o.key_file, err, sizeof(err)) != 0) {
        fprintf(stderr, "tallyctl: %s\n", err);
        return CTL_EXIT_FAIL;
    }
    table_headers_set(!o.no_headers);
    int rc;
    switch (o.cmd) {
    case CTL_CMD_STATUS:
        rc = cmd_status(&o, stdout, stderr);
        break;
    case CTL_CMD_PEERS:
        rc = cmd_peers(&o, stdout, stderr);
        break;
    case CTL_CMD_COUNT:
        rc = cmd_count(&o, stdout, stderr);
        break;
    case CTL_CMD_CLUSTER:
        rc = o.watch ? cmd_cluster_watch(&o, stdout, stderr) : cmd_cluster(&o, stdout, stderr);
        break;
    case CTL_CMD_DNS:
        rc = cmd_dns(&o, stdout, stderr);
        break;
    case CTL_CMD_PING:
        rc = cmd_ping(&o, stdout, stderr);
        break;
    case CTL_CMD_FILE:
        rc = cmd_file(&o, stdout, stderr);
        break;
    case CTL_CMD_VERSION:
        rc = cmd_version(&o, stdout, stderr);
        break;
    default:
        rc = CTL_EXIT_USAGE;
    }
    if (fflush(stdout) != 0 && rc == CTL_EXIT_OK)
        rc = CTL_EXIT_FAIL; /* e.g. a closed pipe: the output did not arrive */
    return rc;
}
