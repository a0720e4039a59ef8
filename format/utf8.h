/*
 * utf8.h: strict UTF-8 decoding, shared by tallyd and tallyctl.
 */
#ifndef TALLY_FORMAT_UTF8_H
#define TALLY_FORMAT_UTF8_H

#include <stddef.h>

/* The length (1-4) of the valid UTF-8 sequence at s[0..n) and its code point
 * in *cp, or 0 for bytes that start none (overlong, surrogate, past U+10FFFF,
 * truncated, a stray continuation byte) and for n == 0. */
size_t utf8_seq(const unsigned char *s, size_t n, unsigned *cp);

#endif
