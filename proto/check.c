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
    if (msg->type < PROTO_HEARTBEAT || msg->type > PROTO_NACK)
        return check_fail(err, PROTO_ERR_RANGE, "t", -1, NULL);
    if (!check_name(msg->from))
        return check_fail(err, PROTO_ERR_RANGE, "f", -1, NULL);
    if (msg->version != 0 && (msg->version < PROTO_VERSION_MIN || msg->version > PROTO_VERSION_MAX))
        return check_fail(err, PROTO_ERR_RANGE, "v", -1, NULL);
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
        if (e->incarnation > PROTO_VALUE_MAX)
            return check_fail(err, PROTO_ERR_RANGE, "e", (int)i, "incarnation");
        if (e->heartbeat > PROTO_VALUE_MAX)
            return check_fail(err, PROTO_ERR_RANGE, "e", (int)i, "heartbeat");
        if (e->n_slots > PROTO_MAX_SLOTS)
            return check_fail(err, PROTO_ERR_RANGE, "e", (int)i, "slots");
        /* Only a suspicion has an accuser. */
        size_t acc = strnlen(e->accuser, PROTO_NAME_MAX + 1);
        if (acc > PROTO_NAME_MAX || (acc != 0 && e->state != PROTO_STATE_SUSPECT))
            return check_fail(err, PROTO_ERR_RANGE, "e", (int)i, "accuser");
        /* A slot is a volume: its id is never 0 and appears once. */
        for (unsigned k = 0; k < e->n_slots; k++) {
            if (e->slots[k].vol == 0 || e->slots[k].count > PROTO_VALUE_MAX)
                return check_fail(err, PROTO_ERR_RANGE, "e", (int)i, "slots");
            for (unsigned j = 0; j < k; j++)
                if (e->slots[j].vol == e->slots[k].vol)
                    return check_fail(err, PROTO_ERR_RANGE, "e", (int)i, "slots");
        }
    }
    for (uint32_t i = 0; i < msg->n_digest; i++) {
        const struct proto_digest_item *d = &msg->digest[i];
        if (!check_name(d->name))
            return check_fail(err, PROTO_ERR_RANGE, "d", (int)i, "name");
        if (d->incarnation > PROTO_VALUE_MAX)
            return check_fail(err, PROTO_ERR_RANGE, "d", (int)i, "incarnation");
        if (d->heartbeat > PROTO_VALUE_MAX)
            return check_fail(err, PROTO_ERR_RANGE, "d", (int)i, "heartbeat");
        /* The sum of a member's slots: at most PROTO_MAX_SLOTS of them. */
        if (d->count > PROTO_VALUE_MAX * PROTO_MAX_SLOTS)
            return check_fail(err, PROTO_ERR_RANGE, "d", (int)i, "count");
    }
    /* Compact counts exist from version 3 on, ride on what carries entries
     * to be merged (HEARTBEAT, DELTA), and name each slot once. */
    if (msg->n_counts > PROTO_MAX_COUNTS ||
        (msg->n_counts != 0 && ((msg->version != 0 && msg->version < 3) ||
                                (msg->type != PROTO_HEARTBEAT && msg->type != PROTO_DELTA))))
        return check_fail(err, PROTO_ERR_RANGE, "c", -1, NULL);
    for (uint32_t i = 0; i < msg->n_counts; i++) {
        if (msg->counts[i].count > PROTO_VALUE_MAX)
            return check_fail(err, PROTO_ERR_RANGE, "c", (int)i, "count");
        for (uint32_t j = 0; j < i; j++)
            if (msg->counts[j].sid == msg->counts[i].sid)
                return check_fail(err, PROTO_ERR_RANGE, "c", (int)i, "sid");
    }
    /* Buckets belong to a SYNC and a SYNC is nothing but its buckets: one
     * hash per bucket, none missing. */
    if (msg->n_buckets != 0 && (msg->type != PROTO_SYNC || msg->n_buckets != PROTO_BUCKETS))
        return check_fail(err, PROTO_ERR_RANGE, "b", -1, NULL);
    if (msg->type == PROTO_SYNC && msg->n_buckets != PROTO_BUCKETS)
        return check_fail(err, PROTO_ERR_MISSING, "b", -1, NULL);
    /* Parts belong to a DELTA answering a SYNC. Without parts the encoder
     * writes no "p", so a stray part or whole flag would be lost on the way:
     * refuse it rather than send something else than was asked. */
    if (msg->parts != 0 &&
        (msg->type != PROTO_DELTA || msg->part == 0 || msg->part > msg->parts || msg->whole > 1))
        return check_fail(err, PROTO_ERR_RANGE, "p", -1, NULL);
    if (msg->parts == 0 && (msg->part != 0 || msg->whole != 0))
        return check_fail(err, PROTO_ERR_RANGE, "p", -1, NULL);
    /* A PING_REQ names the member to probe, and only a PING_REQ does. */
    size_t target_len = strnlen(msg->target, PROTO_ADDR_MAX + 1);
    if (target_len > PROTO_ADDR_MAX || (target_len != 0 && msg->type != PROTO_PING_REQ))
        return check_fail(err, PROTO_ERR_RANGE, "a", -1, NULL);
    if (msg->type == PROTO_PING_REQ && target_len == 0)
        return check_fail(err, PROTO_ERR_MISSING, "a", -1, NULL);
    /* A heartbeat or an ack speaks for its sender: its first entry is the
     * sender's own, so a receiver can refresh the sender without a lookup.
     * From version 4 an ACK may be bare: a probe wants only the nonce. */
    if (msg->type == PROTO_HEARTBEAT || msg->type == PROTO_ACK) {
        uint8_t v = msg->version ? msg->version : PROTO_VERSION;
        if (msg->n_entries == 0 && (msg->type == PROTO_HEARTBEAT || v < 4))
            return check_fail(err, PROTO_ERR_MISSING, "e", -1, NULL);
        if (msg->n_entries > 0 && strcmp(msg->entries[0].name, msg->from) != 0)
            return check_fail(err, PROTO_ERR_RANGE, "e", 0, "name");
    }
    if (err != NULL) {
        err->code = PROTO_OK;
        err->field[0] = '\0';
    }
    return PROTO_OK;
}
