/*
 * count.h: the text of DATA_DIR/visits.txt, which tallyd writes and reads and
 * `tallyctl file` checks. One definition, so the operator's verdict on a file
 * ("corrupt") is always tallyd's own. The rules: decimal digits, one optional
 * trailing newline, no leading zero, fits a uint64, at most COUNT_TEXT_MAX
 * bytes; an empty file is corrupt (never read as 0).
 */
#ifndef TALLY_FORMAT_COUNT_H
#define TALLY_FORMAT_COUNT_H

#include <stddef.h>
#include <stdint.h>

#define COUNT_TEXT_FILE "visits.txt"
/* A count is at most 20 digits and a newline; a larger file is corrupt and is
 * not worth reading further. */
#define COUNT_TEXT_MAX 64

/* Parse the file's bytes. Returns 0 with *count, or -EINVAL with a reason in
 * why (may be NULL): "empty file", "found \"12a\" (byte 3 is not a digit)". */
int count_text_parse(const char *buf, size_t len, uint64_t *count, char *why, size_t why_len);

#endif
