/*
 * check.c: the rules a gossip message obeys beyond being well-formed msgpack.
 *
 * Both directions run the same checks: the encoder before it writes a byte (so
 * tally never sends what a peer would drop) and the decoder after it has
 * parsed a datagram (so the gossip core never sees a message that breaks them).
 */
#include "proto/proto.h"

#include <stdio.h>
#include <string.h>

/* Fills err with code and a field path such as "e[3].name" (idx < 0: no index). */
static int check_fail(struct proto_error *err, int code, const char *arr, int idx,
                      const char *member)
{
    if (err != NULL) {
        err->code = code;
        if (idx < 0)
            snprintf(err->field, sizeof(err->field), "%s", arr);
        else
            snprintf(err->field, sizeof(err->field), "%s[%d].%s", arr, idx, member);
    }
    return code;
}

/* A name is a NUL-terminated string of 1..PROTO_NAME_MAX bytes inside its array. */
static int check_name(const char name[PROTO_NAME_MAX + 1])
{
    size_t n = strnlen(name, PROTO_NAME_MAX + 1);
    return n >= 1 && n <= PROTO_NAME_MAX;
}

int proto_msg_check(const struct proto_msg *msg, struct proto_error *err)
{
    if (msg->type < PROTO_HEARTBEAT || msg->type > PROTO_ACK)
        return check_fail(err, PROTO_ERR_RANGE, "t", -1, NULL);
    if (!check_name(msg->from))
        return check_fail(err, PROTO_ERR_RANGE, "f", -1, NULL);
    if (msg->reply > 1)
        return check_fail(err, PROTO_ERR_RANGE, "r", -1, NULL);
    if (msg->n_entries > PROTO_MAX_ENTRIES)
        return check_fail(err, PROTO_ERR_RANGE, "e", -1, NULL);
    if (msg->n_digest > PROTO_MAX_DIGEST)
        return check_fail(err, PROTO_ERR_RANGE, "d", -1, NULL);
    for (uint32_t i = 0; i < msg->n_entries; i++) {
        const struct proto_entry *e = &msg->entries[i];
        if (!check_name(e->name))
            return check_fail(err, PROTO_ERR_RANGE, "e", (int)i, "name");
        if (strnlen(e->addr, PROTO_ADDR_MAX + 1) > PROTO_ADDR_MAX)
            return check_fail(err, PROTO_ERR_RANGE, "e", (int)i, "addr");
        if (e->state > PROTO_STATE_LEFT)
            return check_fail(err, PROTO_ERR_RANGE, "e", (int)i, "state");
    }
    for (uint32_t i = 0; i < msg->n_digest; i++) {
        if (!check_name(msg->digest[i].name))
            return check_fail(err, PROTO_ERR_RANGE, "d", (int)i, "name");
    }
    /* A heartbeat or an ack speaks for its sender: its first entry is the
     * sender's own, so a receiver can refresh the sender without a lookup. */
    if (msg->type == PROTO_HEARTBEAT || msg->type == PROTO_ACK) {
        if (msg->n_entries == 0)
            return check_fail(err, PROTO_ERR_MISSING, "e", -1, NULL);
        if (strcmp(msg->entries[0].name, msg->from) != 0)
            return check_fail(err, PROTO_ERR_RANGE, "e", 0, "name");
    }
    if (err != NULL) {
        err->code = PROTO_OK;
        err->field[0] = '\0';
    }
    return PROTO_OK;
}
