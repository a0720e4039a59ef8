/*
 * seal.h: authenticated gossip. With --key-file every datagram is sealed with
 * libsodium's XChaCha20-Poly1305 (IETF) AEAD; a datagram that does not open
 * with one of our keys is dropped by the caller and counted as an auth drop.
 *
 * The key file (a Kubernetes Secret, mounted as a directory so it updates in
 * place) is text: one key per line, the base64 of 32 random bytes
 * (`head -c 32 /dev/urandom | base64`); blank lines and lines starting with
 * '#' are ignored. The FIRST key seals what we send; EVERY key is accepted on
 * receipt, so a key can be rotated without downtime (docs/key-rotation.md).
 *
 * Envelope (45 bytes around the msgpack datagram):
 *
 *  +------+-------------+---------------------+----------------------------+
 *  | 0x01 | key id (4)  | nonce (24, random)  | ciphertext (n) + tag (16)  |
 *  +------+-------------+---------------------+----------------------------+
 *   version  first 4 bytes of crypto_generichash (BLAKE2b, 32-byte output,
 *            no key) of the key: the receiver picks the key without trial
 *            decryption; the id reveals nothing usable about the key.
 *   The 5 header bytes (version + key id) are the AEAD's additional data, so
 *   neither can be altered without failing the tag.
 *
 * Nothing here touches libuv: the daemon calls seal_reload_if_changed() on a
 * timer and on SIGHUP (node/peer/udp.c); tallyctl seals its PINGs with the
 * same code (tools/tallyctl/ping.c), so the envelope is defined once.
 */
#ifndef TALLY_FORMAT_SEAL_H
#define TALLY_FORMAT_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEAL_VERSION      0x01
#define SEAL_KEY_BYTES    32
#define SEAL_ID_BYTES     4
#define SEAL_NONCE_BYTES  24
#define SEAL_TAG_BYTES    16
#define SEAL_HEADER_BYTES (1 + SEAL_ID_BYTES)
/* 1 + 4 + 24 + 16 = 45 bytes added to every datagram. */
#define SEAL_OVERHEAD (SEAL_HEADER_BYTES + SEAL_NONCE_BYTES + SEAL_TAG_BYTES)
/* One to send with, the rest still accepted: two or three during a rotation.
 * More is a mistake (e.g. the wrong file), so it is an error, not a silent
 * slowdown. */
#define SEAL_MAX_KEYS 8
/* A key file is a few lines; anything bigger is the wrong file. */
#define SEAL_FILE_MAX 16384

struct seal;

/* Read and validate the key file at path. Returns 0 and *out (free with
 * seal_free), or a negative errno with a sentence naming the file (and the
 * line, for a bad key) in msg: -ENOENT/-EACCES/... when it cannot be read,
 * -EINVAL when its content is wrong. Never half-loads. */
int seal_load(const char *path, struct seal **out, char *msg, size_t msg_len);

/* If the file changed since it was read (device, inode, size, mtime or ctime:
 * Kubernetes swaps a symlink to a new file, an editor rewrites it in place),
 * read it again. Returns 1 when the new keys are in use, 0 when nothing
 * changed, or a negative errno with msg filled when the new content is bad:
 * the old keys stay in use and the same bad version is not reported again. */
int seal_reload_if_changed(struct seal *s, char *msg, size_t msg_len);

/* Seal in[0..len) into out. Returns the sealed length (len + SEAL_OVERHEAD)
 * or -ENOSPC when cap is too small. */
int seal_seal(const struct seal *s, const uint8_t *in, size_t len, uint8_t *out, size_t cap);
/* The same with a given nonce. A nonce must never repeat under one key:
 * seal_seal draws a random one; tallyd's sender lays out boot, sequence and
 * random bytes (node/peer/replay.h) so receivers can also refuse replays. */
int seal_seal_nonce(const struct seal *s, const uint8_t nonce[SEAL_NONCE_BYTES], const uint8_t *in,
                    size_t len, uint8_t *out, size_t cap);
/* Open a sealed datagram into out. Returns the plaintext length, -EBADMSG when
 * it is not a well-formed envelope or fails authentication, -ENOKEY when its
 * key id is none of ours, -ENOSPC when cap is too small. */
int seal_open(const struct seal *s, const uint8_t *in, size_t len, uint8_t *out, size_t cap);

/* Keys loaded (1..SEAL_MAX_KEYS). */
size_t seal_key_count(const struct seal *s);
/* Key i's id as 8 hex digits (for logs; key 0 is the one we send with). */
void seal_key_id_hex(const struct seal *s, size_t i, char out[2 * SEAL_ID_BYTES + 1]);
/* The file was readable by anyone when it was last read. */
bool seal_world_readable(const struct seal *s);
const char *seal_path(const struct seal *s);

/* Wipe the keys and free. NULL is fine. */
void seal_free(struct seal *s);

#endif
