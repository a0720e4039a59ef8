/*
 * countfile.c: the strict count-file reader behind `tallyctl file`. It must
 * agree byte for byte with tallyd's own parse, so the operator's verdict
 * ("corrupt") is tallyd's verdict; the unit test walks the same table of
 * files.
 */
#include "tools/tallyctl/countfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Show up to 24 bytes of what the file holds, escaped, for the message. */
static void countfile_quote(const char *buf, size_t len, char *out, size_t cap)
{
    size_t o = 0, shown = len < 24 ? len : 24;
    for (size_t i = 0; i < shown && o + 5 < cap; i++) {
        unsigned char ch = (unsigned char)buf[i];
        if (ch == '\n')
            o += (size_t)snprintf(out + o, cap - o, "\\n");
        else if (ch == '"' || ch == '\\')
            o += (size_t)snprintf(out + o, cap - o, "\\%c", ch);
        else if (ch < 0x20 || ch >= 0x7f)
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
        else
            out[o++] = (char)ch;
    }
    if (shown < len && o + 4 < cap)
        o += (size_t)snprintf(out + o, cap - o, "...");
    out[o < cap ? o : cap - 1] = '\0';
}

static int countfile_bad(const char *buf, size_t len, char *why, size_t why_len, const char *reason)
{
    char quoted[24 * 4 + 8];
    countfile_quote(buf, len, quoted, sizeof(quoted));
    snprintf(why, why_len, "found \"%s\" (%s)", quoted, reason);
    return -EINVAL;
}

int countfile_parse(const char *buf, size_t len, uint64_t *count, char *why, size_t why_len)
{
    char reason[64];
    uint64_t v = 0;
    size_t digits = len;

    if (len == 0) {
        snprintf(why, why_len, "empty file");
        return -EINVAL;
    }
    if (len > COUNTFILE_MAX)
        return countfile_bad(buf, len, why, why_len, "more than 64 bytes");
    if (buf[len - 1] == '\n')
        digits--;
    if (digits == 0)
        return countfile_bad(buf, len, why, why_len, "no digits");
    for (size_t i = 0; i < digits; i++) {
        if (buf[i] < '0' || buf[i] > '9') {
            snprintf(reason, sizeof(reason), "byte %zu is not a digit", i + 1);
            return countfile_bad(buf, len, why, why_len, reason);
        }
    }
    if (buf[0] == '0' && digits > 1)
        return countfile_bad(buf, len, why, why_len, "leading zero");
    for (size_t i = 0; i < digits; i++) {
        unsigned d = (unsigned)(buf[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return countfile_bad(buf, len, why, why_len, "value above 18446744073709551615");
        v = v * 10 + d;
    }
    *count = v;
    why[0] = '\0';
    return 0;
}

/* Read the whole (small) file from offset 0 into buf. */
static int countfile_pread_all(int fd, char *buf, size_t cap, size_t *got)
{
    *got = 0;
    while (*got < cap) {
        ssize_t n = pread(fd, buf + *got, cap - *got, (off_t)*got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        *got += (size_t)n;
    }
    return 0;
}

/* tallyd overwrites the number in place while it runs, so a read that spans
 * two read() calls can straddle a write that adds a digit ("99\n" then
 * "100\n" reads as "99\n\n" or "1\n0\n"). Read until two reads agree. */
static int countfile_snapshot(int fd, char *buf, size_t cap, size_t *got)
{
    char again[COUNTFILE_MAX + 1];
    size_t got2;
    int rc = countfile_pread_all(fd, buf, cap, got);
    for (int tries = 0; rc == 0 && tries < 8; tries++) {
        rc = countfile_pread_all(fd, again, cap < sizeof(again) ? cap : sizeof(again), &got2);
        if (rc < 0 || (got2 == *got && memcmp(again, buf, got2) == 0))
            break;
        memcpy(buf, again, got2);
        *got = got2;
    }
    return rc;
}

void countfile_read(const char *dir, struct countfile *cf)
{
    struct stat st;
    char buf[COUNTFILE_MAX + 1];
    size_t got = 0;

    memset(cf, 0, sizeof(*cf));
    if (snprintf(cf->path, sizeof(cf->path), "%s/%s", dir, COUNTFILE_NAME) >=
        (int)sizeof(cf->path)) {
        cf->state = COUNTFILE_UNREADABLE;
        snprintf(cf->why, sizeof(cf->why), "path too long");
        return;
    }
    if (stat(dir, &st) < 0) {
        cf->state = COUNTFILE_NO_DIR;
        snprintf(cf->why, sizeof(cf->why), "data directory %s: %s (is the volume mounted?)", dir,
                 errno == ENOENT ? "does not exist" : strerror(errno));
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        cf->state = COUNTFILE_NO_DIR;
        snprintf(cf->why, sizeof(cf->why), "data directory %s is not a directory", dir);
        return;
    }
    int fd = open(cf->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        cf->state = errno == ENOENT ? COUNTFILE_MISSING : COUNTFILE_UNREADABLE;
        snprintf(cf->why, sizeof(cf->why), "%s", strerror(errno));
        return;
    }
    if (fstat(fd, &st) < 0) {
        cf->state = COUNTFILE_UNREADABLE;
        snprintf(cf->why, sizeof(cf->why), "%s", strerror(errno));
        close(fd);
        return;
    }
    cf->size = (uint64_t)st.st_size;
    cf->mtime = (int64_t)st.st_mtime;
    if (!S_ISREG(st.st_mode)) {
        cf->state = COUNTFILE_CORRUPT;
        snprintf(cf->why, sizeof(cf->why), "not a regular file");
        close(fd);
        return;
    }
    /* One byte more than the limit tells "too large" from "exactly 64". */
    int rc = countfile_snapshot(fd, buf, sizeof(buf), &got);
    if (rc < 0) {
        cf->state = COUNTFILE_UNREADABLE;
        snprintf(cf->why, sizeof(cf->why), "%s", strerror(-rc));
        close(fd);
        return;
    }
    close(fd);
    if (countfile_parse(buf, got, &cf->count, cf->why, sizeof(cf->why)) < 0)
        cf->state = COUNTFILE_CORRUPT;
    else
        cf->state = COUNTFILE_OK;
}

enum countfile_verdict countfile_compare(uint64_t file, uint64_t visits, uint64_t durable,
                                         uint64_t *behind)
{
    *behind = 0;
    if (file > durable || file > visits)
        return COUNTFILE_AHEAD;
    if (file == visits)
        return COUNTFILE_MATCHES;
    *behind = visits - file;
    return COUNTFILE_BEHIND;
}
