/*
 * fuzz_count_file.c: libFuzzer target for count_text_parse(), the reader of
 * DATA_DIR/visits.txt. Beyond "no crash", it checks the parser is strict: any
 * accepted input must be exactly the canonical decimal of the value, with or
 * without one trailing newline, and a rejection must always explain itself.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/count.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[160], canon[32];
    uint64_t v = 0;
    int n;

    if (count_text_parse((const char *)data, size, &v, why, sizeof(why)) != 0) {
        if (why[0] == '\0')
            abort();
        return 0;
    }
    n = snprintf(canon, sizeof(canon), "%" PRIu64 "\n", v);
    if (size != (size_t)n && size != (size_t)n - 1)
        abort();
    if (memcmp(canon, data, size) != 0)
        abort();
    return 0;
}
