/*
 * volume.h: DATA_DIR/volume, the file that says which counter slot this volume
 * is. It sits beside visits.txt, is created together with it, and holds:
 *
 *   id=5f2c9a0e41d7b3c8     the slot's random 64-bit id (16 hex digits, not 0)
 *   base=0                  what visits.txt held when this volume took the id
 *   incarnation=4           raised at each start of tallyd on this volume
 *
 * The slot's count is visits.txt minus base (base is 0 unless the pod had to
 * move to a new slot: docs/DESIGN.md, "A volume that went back in time").
 * Lines starting with '#' and unknown keys are ignored, so later versions may
 * add keys; a known key twice, a bad value or a missing id is an error.
 */
#ifndef TALLY_FORMAT_VOLUME_H
#define TALLY_FORMAT_VOLUME_H

#include <stddef.h>
#include <stdint.h>

#define VOLUME_FILE      "volume"
#define VOLUME_TEXT_MAX  256
#define VOLUME_ID_HEXLEN 16

struct volume_info {
    uint64_t id;
    uint64_t base;
    uint64_t incarnation;
};

/* Parse the file's text. Returns 0, or -EINVAL with why filled. */
int volume_parse(const char *text, size_t len, struct volume_info *out, char *why, size_t why_len);
/* Render it; returns the length, or -ENOSPC when cap is too small. */
int volume_format(const struct volume_info *v, char *out, size_t cap);
/* 16 lowercase hex digits and a NUL. */
void volume_id_hex(uint64_t id, char out[VOLUME_ID_HEXLEN + 1]);
/* A decimal of 1..16 digits, nothing else, at most PROTO_VALUE_MAX (2^53):
 * how every count and incarnation is written on a volume. 0 or -EINVAL. */
int volume_dec_parse(const char *s, size_t len, uint64_t *out);
/* Exactly 16 hex digits, not all zero; returns 0 or -EINVAL. */
int volume_id_parse(const char *s, size_t len, uint64_t *id);

#endif
