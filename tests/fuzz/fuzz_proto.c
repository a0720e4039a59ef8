/*
 * fuzz_proto.c: libFuzzer target for the gossip decoder. Any bytes go straight
 * into proto_msg_decode(); whatever it accepts must re-encode, and decode again
 * to the same message (the encoder and decoder agree on every valid datagram).
 * The one field that may differ is the version range "w": it says what the
 * sender speaks, so the encoder always writes this build's own.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct proto_msg a, b;
    static uint8_t buf[PROTO_MAX_DATAGRAM];
    if (proto_msg_decode(data, size, &a, NULL) != PROTO_OK)
        return 0;
    int n = proto_msg_encode(&a, buf, sizeof(buf));
    /* Re-encoding never grows a message (smallest encodings, unknown keys and
     * extra elements dropped), so it must fit whatever the input was. */
    if (n < 0 || proto_msg_decode(buf, (size_t)n, &b, NULL) != PROTO_OK)
        abort();
    a.vmin = PROTO_VERSION_MIN;
    a.vmax = PROTO_VERSION_MAX;
    if (memcmp(&a, &b, sizeof(a)) != 0)
        abort();
    return 0;
}
