/*
 * fmt.h: small human formats shared by the commands: "0.4s ago", uptimes,
 * round-trip times. Pure functions of their inputs, so tests pin them.
 */
#ifndef TALLYCTL_FMT_H
#define TALLYCTL_FMT_H

#include <stddef.h>
#include <stdint.h>

/* "0.4s ago", "12s ago", "3m 05s ago", "2h 03m ago", "4d 01h ago"; "now" at 0. */
void fmt_ago(uint64_t ms, char *out, size_t cap);
/* "850ms", "12.3s", "3m 05s", "2h 03m 10s", "4d 01h 00m". */
void fmt_duration(uint64_t ms, char *out, size_t cap);
/* "0.123 ms" from microseconds. */
void fmt_rtt(uint64_t us, char *out, size_t cap);
/* "2025-01-31 12:00:05 UTC". */
void fmt_utc(int64_t unix_s, char *out, size_t cap);

#endif
