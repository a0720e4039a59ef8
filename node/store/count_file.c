/*
 * store/count_file.c: the durable count file DATA_DIR/visits.txt (see count_file.h).
 *
 * Creating the file uses atomic replace: write "N\n" to visits.txt.tmp, fsync
 * it, rename it over visits.txt, fsync the directory. rename() is atomic, so a
 * reader (or a restart after a crash at any instant) sees either the whole old
 * file or the whole new one; the temp file is only ever a candidate and never
 * holds data that was acknowledged, so a leftover one is simply removed at load.
 *
 * Later writes overwrite the count in place (store_count_overwrite): pwrite at
 * offset 0, then fdatasync. Why a crash still leaves old or new is written out
 * beside that function.
 *
 * Every system call is made directly on libc (open, write, pwrite, fsync,
 * fdatasync, close, rename, unlink, read) so the unit test can intercept each
 * step with -Wl,--wrap and simulate a crash or an error after any of them.
 *
 * Reading is strict (format/count.c, shared with tallyctl): a file that is
 * not exactly a canonical decimal count is corrupt and stops the start with a
 * message naming the file and the bytes found. It is never read as 0: losing
 * a count silently is the one failure a visit counter must not have.
 */
#include "node/store/count_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* ------------------------------------------------------------------------ */
/* Paths and small helpers                                                   */
/* ------------------------------------------------------------------------ */

static int store_path_join(char *out, size_t out_len, const char *dir, const char *name)
{
    int n = snprintf(out, out_len, "%s/%s", dir, name);

    if (n < 0 || (size_t)n >= out_len)
        return -ENAMETOOLONG;
    return 0;
}

/* Write all of buf, through short writes and EINTR. */
static int store_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO; /* a regular file never does this; do not spin */
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* close() errors matter (NFS reports deferred write errors there), but on Linux
 * the descriptor is gone even on EINTR, so EINTR is not retried. */
static int store_fd_close(int fd)
{
    if (close(fd) < 0 && errno != EINTR)
        return -errno;
    return 0;
}

static int store_file_read(int fd, char *buf, size_t cap, size_t *got);

static int store_dir_fsync(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0)
        return -errno;
    if (fsync(fd) < 0)
        rc = -errno;
    if (store_fd_close(fd) < 0 && rc == 0)
        rc = -EIO;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

int store_file_replace(const char *dir, const char *name, const char *text, size_t len,
                       int do_fsync)
{
    char tmp[PATH_MAX], dst[PATH_MAX], tmp_name[NAME_MAX + 1];
    int fd, rc;

    if ((size_t)snprintf(tmp_name, sizeof(tmp_name), "%s.tmp", name) >= sizeof(tmp_name))
        return -ENAMETOOLONG;
    rc = store_path_join(tmp, sizeof(tmp), dir, tmp_name);
    if (rc == 0)
        rc = store_path_join(dst, sizeof(dst), dir, name);
    if (rc < 0)
        return rc;

    /* O_NONBLOCK: a FIFO put at the temp name fails (ENXIO) instead of
     * blocking the writer until someone reads it; a regular file ignores it */
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0644);
    if (fd < 0)
        return -errno;
    rc = store_write_all(fd, text, len);
    if (rc == 0 && do_fsync && fsync(fd) < 0)
        rc = -errno;
    if (rc < 0) {
        store_fd_close(fd);
        goto fail;
    }
    rc = store_fd_close(fd);
    if (rc < 0)
        goto fail;
    if (rename(tmp, dst) < 0) {
        rc = -errno;
        goto fail;
    }
    /* From here the file holds the new text. If the directory fsync fails
     * the rename may not survive a power loss, so the write is reported as
     * failed and nothing is acknowledged; the file still holds old or new,
     * and for visits.txt the count only grows, so either is safe to read. */
    if (do_fsync)
        return store_dir_fsync(dir);
    return 0;

fail:
    /* The temp file is only a candidate; removing it leaves the old file as
     * the single truth. An unlink failure changes nothing for the reader. */
    unlink(tmp);
    return rc;
}

int store_count_write(const char *dir, uint64_t count, int do_fsync)
{
    char text[24];
    int len = snprintf(text, sizeof(text), "%" PRIu64 "\n", count);
    return store_file_replace(dir, STORE_FILE_NAME, text, (size_t)len, do_fsync);
}

int store_file_slurp(const char *dir, const char *name, char *buf, size_t cap, size_t *got)
{
    char path[PATH_MAX];
    struct stat st;
    int rc = store_path_join(path, sizeof(path), dir, name);
    if (rc < 0)
        return rc;
    /* O_NONBLOCK: a FIFO put in its place must not hang the start */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
    } else if (!S_ISREG(st.st_mode)) {
        rc = -EINVAL;
    } else {
        rc = store_file_read(fd, buf, cap, got);
        if (rc == 0 && *got == cap)
            rc = -EFBIG;
    }
    store_fd_close(fd);
    return rc;
}

int store_count_open(const char *dir, int *fd, struct store_file_id *id)
{
    char path[PATH_MAX];
    struct stat st;
    int f, rc;

    rc = store_path_join(path, sizeof(path), dir, STORE_FILE_NAME);
    if (rc < 0)
        return rc;
    f = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block us */
    if (f < 0)
        return -errno;
    if (fstat(f, &st) < 0) {
        rc = -errno;
        store_fd_close(f);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        store_fd_close(f);
        return -EINVAL;
    }
    id->dev = (uint64_t)st.st_dev;
    id->ino = (uint64_t)st.st_ino;
    *fd = f;
    return 0;
}

/* Why overwriting in place leaves the old or the new count after a crash at
 * any instant (the same reasoning PostgreSQL relies on to overwrite pg_control,
 * which it keeps under 512 bytes, in place):
 *
 *  1. The count only grows (the caller guarantees count >= prev, checked
 *     here), so its decimal string never gets shorter: each write covers
 *     every byte of the previous one and never leaves stale trailing bytes.
 *  2. The at most 21 bytes ("18446744073709551615\n") lie in the first
 *     512-byte sector, which the device writes atomically: after power loss
 *     the sector holds the whole old content or the whole new one.
 *  3. When the count gains a digit ("99\n" -> "100\n") the file grows by one
 *     byte. ext4 in ordered mode (the default) commits a new size only after
 *     the data it covers, so a crash can leave the new data with the OLD size
 *     ("100", no newline: count_text_parse accepts a count without its
 *     newline), never the new size with old data ("99\n" plus a byte that was
 *     never written). The file's first block is already allocated, so the
 *     write needs no new block and works on a full volume too.
 *  4. A kill -9 loses nothing the kernel has taken: the page cache survives
 *     the process and reaches the disk later. Copying at most 21 bytes into
 *     one page is not split: Linux returns a short count for a regular-file
 *     write only when copying from the caller's buffer faults (ours is on the
 *     stack) or an error stops it between pages (this write crosses none).
 *     Should a short count come anyway, the rest is written at once, before
 *     the fdatasync that makes the count acknowledgeable.
 *  5. The count is acknowledged only after fdatasync returned 0, and a crash
 *     before that leaves old or new by 2-4; either is safe to read back
 *     (acknowledged visits are <= the old count).
 *  6. After the write, fstat tells whether the file still has a name. If it
 *     was removed or replaced under us the count reached a file no restart
 *     will read: -ESTALE makes the caller re-create it by atomic replace
 *     before anything is acknowledged.
 *
 * What this does not give, unlike atomic replace: a reader of the LIVE file
 * that needs two read() calls (cat reads until EOF) can straddle a write that
 * adds a digit and see a mix ("99\n" then "\n"). Crashes are unaffected; tallyd
 * reads the file only before it writes; tallyctl file reads until two reads
 * agree.
 */
int store_count_overwrite(int fd, uint64_t prev, uint64_t count, int do_fsync)
{
    char text[24];
    struct stat st;
    size_t len, off = 0;

    if (count < prev)
        return -EINVAL;
    len = (size_t)snprintf(text, sizeof(text), "%" PRIu64 "\n", count);
    while (off < len) {
        ssize_t n = pwrite(fd, text + off, len - off, (off_t)off);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO; /* a regular file never does this; do not spin */
        off += (size_t)n;
    }
    if (do_fsync && fdatasync(fd) < 0)
        return -errno;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (st.st_nlink == 0)
        return -ESTALE;
    return 0;
}

/* `mv visits.txt elsewhere` keeps the inode linked (st_nlink stays 1), so
 * store_count_overwrite() cannot see it from the descriptor: the count would
 * go on reaching a file no restart reads, and a restart would start from a
 * missing file (0). Only the name tells: it must still lead to our inode. */
int store_count_check_name(const char *dir, const struct store_file_id *id)
{
    char path[PATH_MAX];
    struct stat st;
    int rc;

    rc = store_path_join(path, sizeof(path), dir, STORE_FILE_NAME);
    if (rc < 0)
        return rc;
    if (stat(path, &st) < 0)
        return errno == ENOENT ? -ESTALE : -errno;
    if ((uint64_t)st.st_dev != id->dev || (uint64_t)st.st_ino != id->ino)
        return -ESTALE;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                   */
/* ------------------------------------------------------------------------ */

/* Check the directory exists and that we can create the temp file in it.
 * access(W_OK) is not the honest check: it answers for the real uid, passes
 * for root on any directory, and says nothing about full inode tables or
 * security modules. Creating the temp file is exactly the first step of every
 * write, so if it works here writes can start. It also replaces a leftover
 * temp file from a crash: that file never holds acknowledged data (a count is
 * acknowledged only after the rename and directory fsync), so dropping it
 * loses nothing. */
static int store_dir_check(const char *dir, char *msg, size_t msg_len)
{
    char tmp[PATH_MAX];
    struct stat st;
    int fd, rc;

    if (stat(dir, &st) < 0) {
        rc = -errno;
        if (rc == -ENOENT)
            snprintf(msg, msg_len, "data dir %s does not exist (is the volume mounted?)", dir);
        else
            snprintf(msg, msg_len, "data dir %s: %s", dir, strerror(-rc));
        return rc;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(msg, msg_len, "data dir %s is not a directory", dir);
        return -ENOTDIR;
    }
    rc = store_path_join(tmp, sizeof(tmp), dir, STORE_TEMP_NAME);
    if (rc < 0) {
        snprintf(msg, msg_len, "data dir %s: path too long", dir);
        return rc;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0644);
    if (fd < 0) {
        rc = -errno;
        if (rc == -ENXIO) /* a FIFO nobody reads: never wait on it */
            snprintf(msg, msg_len, "%s is a FIFO, not a file tallyd wrote: remove it", tmp);
        else
            snprintf(msg, msg_len, "data dir %s is not writable: cannot create %s: %s", dir, tmp,
                     strerror(-rc));
        return rc;
    }
    store_fd_close(fd);
    if (unlink(tmp) < 0) {
        rc = -errno;
        snprintf(msg, msg_len, "data dir %s: cannot remove %s: %s", dir, tmp, strerror(-rc));
        return rc;
    }
    return 0;
}

static const char *store_file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "directory";
    if (S_ISFIFO(mode))
        return "FIFO (named pipe)";
    if (S_ISSOCK(mode))
        return "socket";
    if (S_ISCHR(mode))
        return "character device";
    if (S_ISBLK(mode))
        return "block device";
    return "special file";
}

/* Read at most COUNT_TEXT_MAX + 1 bytes, so an oversized file is detected
 * without reading all of it. */
static int store_file_read(int fd, char *buf, size_t cap, size_t *got)
{
    size_t n = 0;

    while (n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);

        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *got = n;
    return 0;
}

int store_count_load(const char *dir, uint64_t *count, char *msg, size_t msg_len)
{
    char path[PATH_MAX], buf[COUNT_TEXT_MAX + 1], why[160];
    char dummy[1];
    struct stat st;
    size_t got = 0;
    int fd, rc;

    if (!msg || msg_len == 0) {
        msg = dummy;
        msg_len = sizeof(dummy);
    }
    msg[0] = '\0';
    rc = store_dir_check(dir, msg, msg_len);
    if (rc < 0)
        return rc;
    rc = store_path_join(path, sizeof(path), dir, STORE_FILE_NAME);
    if (rc < 0) {
        snprintf(msg, msg_len, "data dir %s: path too long", dir);
        return rc;
    }
    /* O_NONBLOCK: opening a FIFO for reading would wait for a writer and
     * hang the start; this way fstat below refuses it at once */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        rc = -errno;
        if (rc == -ENOENT) { /* a fresh volume */
            *count = 0;
            return 0;
        }
        snprintf(msg, msg_len, "cannot open count file %s: %s", path, strerror(-rc));
        return rc;
    }
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        snprintf(msg, msg_len, "cannot stat count file %s: %s", path, strerror(-rc));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = -EINVAL;
        snprintf(msg, msg_len,
                 "count file %s is not a regular file but a %s: move it away (tallyd neither "
                 "reads nor replaces it)",
                 path, store_file_kind(st.st_mode));
        goto out;
    }
    rc = store_file_read(fd, buf, sizeof(buf), &got);
    if (rc < 0) {
        snprintf(msg, msg_len, "cannot read count file %s: %s", path, strerror(-rc));
        goto out;
    }
    if (got > COUNT_TEXT_MAX) {
        rc = -EINVAL;
        snprintf(msg, msg_len,
                 "count file %s is corrupt: more than %d bytes (a count is at most 21)", path,
                 COUNT_TEXT_MAX);
        goto out;
    }
    rc = count_text_parse(buf, got, count, why, sizeof(why));
    if (rc < 0)
        snprintf(msg, msg_len, "count file %s is corrupt: %s", path, why);
out:
    store_fd_close(fd);
    return rc;
}
