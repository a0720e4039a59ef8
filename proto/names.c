/*
 * names.c: human-readable names for proto's error codes, message types and
 * member states, for logs, metrics labels and tallyctl. All static strings.
 */
#include "proto/proto.h"

const char *proto_err_str(int code)
{
    switch (code) {
    case PROTO_OK:
        return "ok";
    case PROTO_ERR_TRUNCATED:
        return "truncated";
    case PROTO_ERR_TRAILING:
        return "trailing bytes";
    case PROTO_ERR_TYPE:
        return "wrong type";
    case PROTO_ERR_RANGE:
        return "out of range";
    case PROTO_ERR_MISSING:
        return "missing field";
    case PROTO_ERR_VERSION:
        return "unsupported version";
    case PROTO_ERR_TOO_BIG:
        return "datagram too big";
    case PROTO_ERR_NOSPACE:
        return "no space";
    default:
        return "unknown error";
    }
}

const char *proto_type_str(int type)
{
    switch (type) {
    case PROTO_HEARTBEAT:
        return "heartbeat";
    case PROTO_DIGEST:
        return "digest";
    case PROTO_DELTA:
        return "delta";
    case PROTO_LEAVE:
        return "leave";
    case PROTO_PING:
        return "ping";
    case PROTO_ACK:
        return "ack";
    case PROTO_SYNC:
        return "sync";
    case PROTO_PING_REQ:
        return "ping_req";
    case PROTO_NACK:
        return "nack";
    default:
        return "unknown";
    }
}

const char *proto_state_str(int state)
{
    switch (state) {
    case PROTO_STATE_ALIVE:
        return "alive";
    case PROTO_STATE_SUSPECT:
        return "suspect";
    case PROTO_STATE_DEAD:
        return "dead";
    case PROTO_STATE_LEFT:
        return "left";
    default:
        return "unknown";
    }
}
