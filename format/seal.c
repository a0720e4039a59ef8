/*
 * seal.c: the gossip key file and the AEAD envelope (format in seal.h).
 *
 * Parsing is strict: a line that is not exactly the base64 (standard
 * alphabet, with padding) of 32 bytes, a duplicate key, too many keys or no
 * key at all rejects the whole file with its name and line, because running
 * unauthenticated, or with a key the operator did not mean, must never happen
 * silently. Keys live in one calloc'd struct, wiped with sodium_memzero before
 * it is freed or replaced.
 *
 * Replay: the envelope has no sequence number. A replayed datagram still
 * opens, but gossip merges are idempotent (count by max, the newer
 * (generation, heartbeat) wins), so replaying what a pod once said can never
 * raise anything beyond what that pod itself said; it can only repeat old
 * news, which the merge ignores.
 */
#include "format/seal.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct seal_key {
    uint8_t key[SEAL_KEY_BYTES];
    uint8_t id[SEAL_ID_BYTES];
};

/* What identifies one version of the file, to notice a rotation. */
struct seal_ident {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
};

struct seal {
    char path[4096];
    struct seal_key keys[SEAL_MAX_KEYS];
    size_t n_keys;
    struct seal_ident loaded; /* the version in use */
    struct seal_ident failed; /* the last version rejected, not to report twice */
    bool has_failed;
    bool world_readable;
};

static void seal_ident_from(struct seal_ident *id, const struct stat *st)
{
    memset(id, 0, sizeof(*id));
    id->dev = st->st_dev;
    id->ino = st->st_ino;
    id->size = st->st_size;
    id->mtime = st->st_mtim;
    id->ctime = st->st_ctim;
}

static bool seal_ident_eq(const struct seal_ident *a, const struct seal_ident *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
           a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

static void seal_key_id_compute(struct seal_key *k)
{
    uint8_t h[crypto_generichash_BYTES];
    crypto_generichash(h, sizeof(h), k->key, sizeof(k->key), NULL, 0);
    memcpy(k->id, h, SEAL_ID_BYTES);
}

/* One line (without its newline) into k. Returns 0, 1 for a line to skip, or
 * -EINVAL with the reason in why. */
static int seal_line_parse(const char *line, size_t len, struct seal_key *k, char *why,
                           size_t why_len)
{
    uint8_t bin[64];
    size_t bin_len = 0;
    const char *end = NULL;
    while (len > 0 && (line[0] == ' ' || line[0] == '\t')) {
        line++;
        len--;
    }
    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
        len--;
    if (len == 0 || line[0] == '#')
        return 1;
    /* 32 bytes are 44 base64 characters; 64 bytes' worth is plenty to say
     * how long a wrong key is. */
    if (len > 88) {
        snprintf(why, why_len, "not a key: %zu characters, a key is 44 (base64 of 32 bytes)", len);
        return -EINVAL;
    }
    if (sodium_base642bin(bin, sizeof(bin), line, len, NULL, &bin_len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != line + len) {
        snprintf(why, why_len, "not base64 (make a key with: head -c 32 /dev/urandom | base64)");
        sodium_memzero(bin, sizeof(bin));
        return -EINVAL;
    }
    if (bin_len != SEAL_KEY_BYTES) {
        snprintf(why, why_len, "a key is 32 bytes, this line decodes to %zu", bin_len);
        sodium_memzero(bin, sizeof(bin));
        return -EINVAL;
    }
    memcpy(k->key, bin, SEAL_KEY_BYTES);
    sodium_memzero(bin, sizeof(bin));
    seal_key_id_compute(k);
    return 0;
}

/* Parse text into keys; on error msg names path and the line. */
static int seal_text_parse(const char *path, const char *text, size_t len, struct seal_key *keys,
                           size_t *n_keys, char *msg, size_t msg_len)
{
    char why[160];
    size_t line_no = 0, lines_of[SEAL_MAX_KEYS];
    const char *p = text, *stop = text + len;
    *n_keys = 0;
    while (p < stop) {
        const char *nl = memchr(p, '\n', (size_t)(stop - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(stop - p);
        struct seal_key k;
        line_no++;
        if (memchr(p, '\0', l)) {
            snprintf(msg, msg_len, "key file %s line %zu: holds a NUL byte (not a text file)", path,
                     line_no);
            return -EINVAL;
        }
        int rc = seal_line_parse(p, l, &k, why, sizeof(why));
        p += l + (nl != NULL);
        if (rc == 1)
            continue;
        if (rc < 0) {
            snprintf(msg, msg_len, "key file %s line %zu: %s", path, line_no, why);
            return rc;
        }
        if (*n_keys == SEAL_MAX_KEYS) {
            sodium_memzero(&k, sizeof(k));
            snprintf(msg, msg_len, "key file %s line %zu: more than %d keys", path, line_no,
                     SEAL_MAX_KEYS);
            return -EINVAL;
        }
        for (size_t i = 0; i < *n_keys; i++) {
            if (memcmp(keys[i].id, k.id, SEAL_ID_BYTES) != 0)
                continue;
            bool same = sodium_memcmp(keys[i].key, k.key, SEAL_KEY_BYTES) == 0;
            sodium_memzero(&k, sizeof(k));
            snprintf(msg, msg_len, "key file %s line %zu: %s line %zu%s", path, line_no,
                     same ? "the same key as" : "key id collides with the key on", lines_of[i],
                     same ? "" : " (generate a new key)");
            return -EINVAL;
        }
        lines_of[*n_keys] = line_no;
        keys[(*n_keys)++] = k;
        sodium_memzero(&k, sizeof(k));
    }
    if (*n_keys == 0) {
        snprintf(msg, msg_len,
                 "key file %s holds no key (one base64 key per line: head -c 32 /dev/urandom | "
                 "base64)",
                 path);
        return -EINVAL;
    }
    return 0;
}

/* Read path whole (at most SEAL_FILE_MAX bytes) and parse it into keys. */
static int seal_file_read(const char *path, struct seal_key *keys, size_t *n_keys,
                          struct seal_ident *ident, bool *world_readable, char *msg, size_t msg_len)
{
    struct stat st;
    char *text = NULL;
    ssize_t got = 0;
    int rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        snprintf(msg, msg_len, "key file %s: %s", path, strerror(errno));
        return rc;
    }
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        snprintf(msg, msg_len, "key file %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = -EINVAL;
        snprintf(msg, msg_len, "key file %s: not a regular file", path);
        goto out;
    }
    if (st.st_size > SEAL_FILE_MAX) {
        rc = -EINVAL;
        snprintf(msg, msg_len, "key file %s: %lld bytes, more than a key file holds (%d)", path,
                 (long long)st.st_size, SEAL_FILE_MAX);
        goto out;
    }
    text = malloc(SEAL_FILE_MAX + 1);
    if (!text) {
        rc = -ENOMEM;
        snprintf(msg, msg_len, "key file %s: out of memory", path);
        goto out;
    }
    /* Read to EOF, not st_size: the file may be mid-rewrite. */
    for (;;) {
        ssize_t n = read(fd, text + got, (size_t)(SEAL_FILE_MAX + 1 - got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            snprintf(msg, msg_len, "key file %s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        got += n;
        if (got > SEAL_FILE_MAX) {
            rc = -EINVAL;
            snprintf(msg, msg_len, "key file %s: more than %d bytes", path, SEAL_FILE_MAX);
            goto out;
        }
    }
    seal_ident_from(ident, &st);
    *world_readable = (st.st_mode & S_IROTH) != 0;
    rc = seal_text_parse(path, text, (size_t)got, keys, n_keys, msg, msg_len);
out:
    if (text) {
        sodium_memzero(text, SEAL_FILE_MAX + 1);
        free(text);
    }
    close(fd);
    return rc;
}

int seal_load(const char *path, struct seal **out, char *msg, size_t msg_len)
{
    if (sodium_init() < 0) {
        snprintf(msg, msg_len, "libsodium failed to initialise");
        return -EIO;
    }
    struct seal *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(msg, msg_len, "key file %s: out of memory", path);
        return -ENOMEM;
    }
    if (snprintf(s->path, sizeof(s->path), "%s", path) >= (int)sizeof(s->path)) {
        free(s);
        snprintf(msg, msg_len, "key file path too long");
        return -ENAMETOOLONG;
    }
    int rc =
        seal_file_read(path, s->keys, &s->n_keys, &s->loaded, &s->world_readable, msg, msg_len);
    if (rc < 0) {
        seal_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int seal_reload_if_changed(struct seal *s, char *msg, size_t msg_len)
{
    struct stat st;
    struct seal_ident now;
    if (stat(s->path, &st) != 0) {
        /* Gone for a moment (a Secret's symlink swap) or for good: keep the
         * keys we have either way; report each disappearance once. */
        int rc = -errno;
        memset(&now, 0, sizeof(now));
        if (s->has_failed && seal_ident_eq(&s->failed, &now))
            return 0;
        s->failed = now;
        s->has_failed = true;
        snprintf(msg, msg_len, "key file %s: %s (still using the keys read before)", s->path,
                 strerror(-rc));
        return rc;
    }
    seal_ident_from(&now, &st);
    if (seal_ident_eq(&now, &s->loaded) || (s->has_failed && seal_ident_eq(&now, &s->failed)))
        return 0;

    struct seal_key *keys = calloc(SEAL_MAX_KEYS, sizeof(*keys));
    size_t n = 0;
    struct seal_ident read_id;
    bool wr = false;
    if (!keys) {
        snprintf(msg, msg_len, "key file %s: out of memory", s->path);
        return -ENOMEM;
    }
    int rc = seal_file_read(s->path, keys, &n, &read_id, &wr, msg, msg_len);
    if (rc < 0) {
        s->failed = now;
        s->has_failed = true;
        size_t used = strlen(msg);
        if (used < msg_len)
            snprintf(msg + used, msg_len - used, " (still using the keys read before)");
    } else {
        sodium_memzero(s->keys, sizeof(s->keys));
        memcpy(s->keys, keys, n * sizeof(*keys));
        s->n_keys = n;
        s->loaded = read_id;
        s->world_readable = wr;
        s->has_failed = false;
        rc = 1;
    }
    sodium_memzero(keys, SEAL_MAX_KEYS * sizeof(*keys));
    free(keys);
    return rc;
}

int seal_seal_nonce(const struct seal *s, const uint8_t nonce[SEAL_NONCE_BYTES], const uint8_t *in,
                    size_t len, uint8_t *out, size_t cap)
{
    unsigned long long clen = 0;
    if (cap < SEAL_OVERHEAD || len > cap - SEAL_OVERHEAD || len > INT32_MAX - SEAL_OVERHEAD)
        return -ENOSPC;
    out[0] = SEAL_VERSION;
    memcpy(out + 1, s->keys[0].id, SEAL_ID_BYTES);
    memcpy(out + SEAL_HEADER_BYTES, nonce, SEAL_NONCE_BYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + SEAL_HEADER_BYTES + SEAL_NONCE_BYTES, &clen,
                                               in, len, out, SEAL_HEADER_BYTES, NULL, nonce,
                                               s->keys[0].key);
    return (int)(SEAL_HEADER_BYTES + SEAL_NONCE_BYTES + clen);
}

int seal_seal(const struct seal *s, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    /* 192 random bits: XChaCha's nonce is long enough that random nonces
     * never collide in practice, so no counter state is needed. */
    uint8_t nonce[SEAL_NONCE_BYTES];
    randombytes_buf(nonce, sizeof(nonce));
    return seal_seal_nonce(s, nonce, in, len, out, cap);
}

int seal_open(const struct seal *s, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    unsigned long long mlen = 0;
    if (len < SEAL_OVERHEAD || in[0] != SEAL_VERSION)
        return -EBADMSG;
    if (len - SEAL_OVERHEAD > cap)
        return -ENOSPC;
    const struct seal_key *k = NULL;
    for (size_t i = 0; i < s->n_keys && !k; i++)
        if (memcmp(s->keys[i].id, in + 1, SEAL_ID_BYTES) == 0)
            k = &s->keys[i];
    if (!k)
        return -ENOKEY;
    const uint8_t *nonce = in + SEAL_HEADER_BYTES;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &mlen, NULL, nonce + SEAL_NONCE_BYTES,
                                                   len - SEAL_HEADER_BYTES - SEAL_NONCE_BYTES, in,
                                                   SEAL_HEADER_BYTES, nonce, k->key) != 0)
        return -EBADMSG;
    return (int)mlen;
}

size_t seal_key_count(const struct seal *s)
{
    return s->n_keys;
}

void seal_key_id_hex(const struct seal *s, size_t i, char out[2 * SEAL_ID_BYTES + 1])
{
    if (i >= s->n_keys) {
        out[0] = '\0';
        return;
    }
    sodium_bin2hex(out, 2 * SEAL_ID_BYTES + 1, s->keys[i].id, SEAL_ID_BYTES);
}

bool seal_world_readable(const struct seal *s)
{
    return s->world_readable;
}

const char *seal_path(const struct seal *s)
{
    return s->path;
}

void seal_free(struct seal *s)
{
    if (!s)
        return;
    sodium_memzero(s, sizeof(*s));
    free(s);
}
