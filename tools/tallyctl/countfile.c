/*
 * countfile.c: reading DATA_DIR/visits.txt for `tallyctl file`. The bytes are
 * judged by format/count.c, tallyd's own parser, so the operator's verdict
 * ("corrupt") is tallyd's verdict.
 */
#include "tools/tallyctl/countfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    char again[COUNT_TEXT_MAX + 1];
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
    char buf[COUNT_TEXT_MAX + 1];
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
    if (count_text_parse(buf, got, &cf->count, cf->why, sizeof(cf->why)) < 0)
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
