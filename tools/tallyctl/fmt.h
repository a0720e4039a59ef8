/*
 * fmt.h: small human formats shared by the commands: "0.4s ago", uptimes,
 * round-trip times, and escaping of network strings for the terminal. Pure
 * functions of their inputs, so tests pin them.
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

/* A string that came from the network (a pod name, an address, a reason,
 * a DNS answer) made safe for a terminal: control characters (C0, DEL, C1)
 * and bytes that are not valid UTF-8 as \xNN, bidirectional overrides as
 * \uNNNN, a backslash as \\ (so the escaping reads back unambiguously);
 * valid UTF-8 stays itself. Writes at most cap bytes with the NUL, never
 * half an escape; returns the length. */
size_t fmt_safe(const char *in, char *out, size_t cap);
/* The escaped text can be this many times longer than the input. */
#define FMT_SAFE_GROWTH 4
/* fmt_safe into a new allocation the caller frees; NULL when out of memory. */
char *fmt_safe_dup(const char *in);
/* Terminal columns of valid UTF-8 text, one per character. */
size_t fmt_width(const char *s);

#endif
