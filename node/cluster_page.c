/*
 * cluster_page.c: the headers that go with the live cluster page.
 *
 * The page carries its script and style inline (one response, a few KB, no
 * second request), and the Content-Security-Policy allows exactly those two
 * by hash: 'unsafe-inline' would also allow anything a pod name managed to
 * inject, and a nonce would have to be fresh per response. The hashes are
 * taken here from the embedded bytes, so editing the page can never leave a
 * stale policy behind; a page without its tags gets script-src 'none', which
 * the browser test would catch at once.
 */
#include "node/cluster_page.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* "sha256-BASE64" of the text between open and close in the page, or
 * "'none'" when the page has no such element. */
static void page_hash(const char *page, const char *open, const char *close, char *out, size_t cap)
{
    const char *start = strstr(page, open);
    const char *end = start ? strstr(start, close) : NULL;
    if (!end) {
        snprintf(out, cap, "'none'");
        return;
    }
    start += strlen(open);
    unsigned char digest[crypto_hash_sha256_BYTES];
    char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    crypto_hash_sha256(digest, (const unsigned char *)start, (unsigned long long)(end - start));
    sodium_bin2base64(b64, sizeof(b64), digest, sizeof(digest), sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, cap, "'sha256-%s'", b64);
}

const char *cluster_page_headers(void)
{
    static char headers[640];
    if (headers[0])
        return headers;
    const char *page = (const char *)cluster_page_html;
    char script[64], style[64];
    page_hash(page, "<script>", "</script>", script, sizeof(script));
    page_hash(page, "<style>", "</style>", style, sizeof(style));
    /* connect-src 'self': the page's fetch of /cluster; img-src data: its
     * empty favicon, so the browser asks for no /favicon.ico. */
    snprintf(headers, sizeof(headers),
             "Vary: Accept\r\n"
             "Content-Security-Policy: default-src 'none'; script-src %s; style-src %s; "
             "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
             "frame-ancestors 'none'\r\n"
             "X-Content-Type-Options: nosniff\r\n"
             "Referrer-Policy: no-referrer\r\n"
             "Cache-Control: no-cache\r\n",
             script, style);
    return headers;
}
