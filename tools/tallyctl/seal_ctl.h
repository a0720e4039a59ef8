/*
 * seal_ctl.h: tallyd's gossip envelope, for tallyctl's PINGs to a cluster
 * that runs with --key-file. A short reimplementation of node/seal.c (tools
 * may not include node/); tests/unit/seal_golden.h pins both to the same
 * bytes. Format: [0x01][key id: 4 bytes of BLAKE2b-256(key)][nonce 24]
 * [XChaCha20-Poly1305 ciphertext + 16-byte tag], the first 5 bytes as
 * additional data. Key file: one base64 32-byte key per line, '#' comments
 * and blank lines ignored; the first key seals, every key opens.
 */
#ifndef TALLYCTL_SEAL_CTL_H
#define TALLYCTL_SEAL_CTL_H

#include <stddef.h>
#include <stdint.h>

#define CTL_SEAL_KEYS     8
#define CTL_SEAL_KEY      32
#define CTL_SEAL_ID       4
#define CTL_SEAL_NONCE    24
#define CTL_SEAL_OVERHEAD (1 + CTL_SEAL_ID + CTL_SEAL_NONCE + 16)

struct ctl_seal {
    uint8_t key[CTL_SEAL_KEYS][CTL_SEAL_KEY];
    uint8_t id[CTL_SEAL_KEYS][CTL_SEAL_ID];
    size_t n;
};

/* Read the key file at path into s. Returns 0, or -1 with a sentence naming
 * the file (and line) in err. */
int ctl_seal_load(const char *path, struct ctl_seal *s, char *err, size_t err_len);
/* Seal in with the first key and the given nonce (seal_ctl_seal draws a
 * random one). Return the sealed length, or -1 when cap is too small. */
int ctl_seal_seal_nonce(const struct ctl_seal *s, const uint8_t nonce[CTL_SEAL_NONCE],
                        const uint8_t *in, size_t len, uint8_t *out, size_t cap);
int ctl_seal_seal(const struct ctl_seal *s, const uint8_t *in, size_t len, uint8_t *out,
                  size_t cap);
/* Open with whichever key the id names. Returns the plaintext length or -1. */
int ctl_seal_open(const struct ctl_seal *s, const uint8_t *in, size_t len, uint8_t *out,
                  size_t cap);
/* Wipe the keys. */
void ctl_seal_clear(struct ctl_seal *s);

#endif
