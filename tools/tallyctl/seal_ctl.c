/*
 * seal_ctl.c: the gossip envelope for tallyctl (format in seal_ctl.h). Key
 * file rules are tallyd's, so a file tallyd refuses is refused here too, with
 * the line named.
 */
#include "tools/tallyctl/seal_ctl.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define CTL_SEAL_FILE_MAX 16384

/* One line: 0 a key added, 1 nothing to add, -1 an error in why. */
static int ctl_seal_line(struct ctl_seal *s, const char *p, size_t l, char *why, size_t why_len)
{
    uint8_t h[crypto_generichash_BYTES];
    size_t bin_len = 0;
    const char *end = NULL;
    while (l && (*p == ' ' || *p == '\t'))
        p++, l--;
    while (l && (p[l - 1] == ' ' || p[l - 1] == '\t' || p[l - 1] == '\r'))
        l--;
    if (l == 0 || *p == '#')
        return 1;
    if (s->n == CTL_SEAL_KEYS) {
        snprintf(why, why_len, "more than %d keys", CTL_SEAL_KEYS);
        return -1;
    }
    if (sodium_base642bin(s->key[s->n], CTL_SEAL_KEY, p, l, NULL, &bin_len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != p + l || bin_len != CTL_SEAL_KEY) {
        snprintf(why, why_len, "not the base64 of a 32-byte key");
        return -1;
    }
    crypto_generichash(h, sizeof(h), s->key[s->n], CTL_SEAL_KEY, NULL, 0);
    memcpy(s->id[s->n], h, CTL_SEAL_ID);
    for (size_t i = 0; i < s->n; i++) {
        if (memcmp(s->id[i], s->id[s->n], CTL_SEAL_ID) == 0) {
            snprintf(why, why_len, "the same key (id) as an earlier line");
            return -1;
        }
    }
    s->n++;
    return 0;
}

int ctl_seal_load(const char *path, struct ctl_seal *s, char *err, size_t err_len)
{
    static char text[CTL_SEAL_FILE_MAX + 1];
    char why[96];
    size_t len, line = 0;
    memset(s, 0, sizeof(*s));
    if (sodium_init() < 0) {
        snprintf(err, err_len, "libsodium failed to initialise");
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "key file %s: %s", path, strerror(errno));
        return -1;
    }
    len = fread(text, 1, sizeof(text), f);
    int bad = ferror(f);
    fclose(f);
    int rc = -1;
    if (bad || len > CTL_SEAL_FILE_MAX) {
        snprintf(err, err_len, "key file %s: %s", path, bad ? "read error" : "too big");
        goto out;
    }
    for (const char *p = text, *stop = text + len; p < stop;) {
        const char *nl = memchr(p, '\n', (size_t)(stop - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(stop - p);
        line++;
        if (ctl_seal_line(s, p, l, why, sizeof(why)) < 0) {
            snprintf(err, err_len, "key file %s line %zu: %s", path, line, why);
            goto out;
        }
        p += l + (nl != NULL);
    }
    if (s->n == 0)
        snprintf(err, err_len, "key file %s holds no key", path);
    else
        rc = 0;
out:
    sodium_memzero(text, sizeof(text));
    if (rc)
        ctl_seal_clear(s);
    return rc;
}

int ctl_seal_seal_nonce(const struct ctl_seal *s, const uint8_t nonce[CTL_SEAL_NONCE],
                        const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    unsigned long long clen = 0;
    if (cap < CTL_SEAL_OVERHEAD || len > cap - CTL_SEAL_OVERHEAD || len > 65536)
        return -1;
    out[0] = 0x01;
    memcpy(out + 1, s->id[0], CTL_SEAL_ID);
    memcpy(out + 1 + CTL_SEAL_ID, nonce, CTL_SEAL_NONCE);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + 1 + CTL_SEAL_ID + CTL_SEAL_NONCE, &clen, in,
                                               len, out, 1 + CTL_SEAL_ID, NULL, nonce, s->key[0]);
    return (int)(1 + CTL_SEAL_ID + CTL_SEAL_NONCE + clen);
}

int ctl_seal_seal(const struct ctl_seal *s, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    uint8_t nonce[CTL_SEAL_NONCE];
    randombytes_buf(nonce, sizeof(nonce));
    return ctl_seal_seal_nonce(s, nonce, in, len, out, cap);
}

int ctl_seal_open(const struct ctl_seal *s, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    unsigned long long mlen = 0;
    if (len < CTL_SEAL_OVERHEAD || in[0] != 0x01 || len - CTL_SEAL_OVERHEAD > cap)
        return -1;
    for (size_t i = 0; i < s->n; i++) {
        if (memcmp(s->id[i], in + 1, CTL_SEAL_ID) != 0)
            continue;
        const uint8_t *nonce = in + 1 + CTL_SEAL_ID;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &mlen, NULL, nonce + CTL_SEAL_NONCE,
                                                       len - 1 - CTL_SEAL_ID - CTL_SEAL_NONCE, in,
                                                       1 + CTL_SEAL_ID, nonce, s->key[i]) != 0)
            return -1;
        return (int)mlen;
    }
    return -1;
}

void ctl_seal_clear(struct ctl_seal *s)
{
    sodium_memzero(s, sizeof(*s));
}
