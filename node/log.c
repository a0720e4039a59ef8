/*
 * log.c: timestamped single-line logging to stderr. Each line is formatted
 * into one buffer and written with one write(2) so lines from different
 * sources never interleave.
 */
#include "node/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static enum config_log_level g_level = LOG_INFO;

void log_level_set(enum config_log_level level)
{
    g_level = level;
}

int log_enabled(enum config_log_level level)
{
    return level <= g_level;
}

void log_line(enum config_log_level level, const char *fmt, ...)
{
    if (level > g_level)
        return;
    char line[1024];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03ldZ %s ", ts.tv_nsec / 1000000,
                  config_log_level_str(level));
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += m;
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w; /* nowhere to report a failed log write */
}
