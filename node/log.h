/*
 * log.h: one line per event on stderr, logfmt by default
 * ("ts=... level=info msg=store_loaded dir=/data count=0") or JSON
 * (--log-format json), so `kubectl logs` is greppable and a log shipper
 * parses every line. Call sites write "event key=value..." (values with
 * spaces as key="..."); log.c turns that into either format.
 */
#ifndef TALLY_LOG_H
#define TALLY_LOG_H

#include <stddef.h>

/* Named LOG_LEVEL_* so they never meet <syslog.h>'s LOG_INFO and friends. */
enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN = 1, LOG_LEVEL_INFO = 2, LOG_LEVEL_DEBUG = 3 };
enum log_format { LOG_FORMAT_LOGFMT = 0, LOG_FORMAT_JSON = 1 };

/* "error", "warn", "info", "debug" ("?" for anything else). */
const char *log_level_str(enum log_level level);
/* The level named s; -EINVAL if none is. */
int log_level_parse(const char *s, enum log_level *out);
void log_level_set(enum log_level level);
void log_format_set(enum log_format format);
int log_enabled(enum log_level level);
/* fmt is the event and its fields, e.g. "store_loaded count=%llu". */
void log_line(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Render one event's text (body, as a call site wrote it) as a line without
 * its newline into buf; returns its length. Pure, for the unit tests. */
size_t log_render(char *buf, size_t cap, enum log_format f, const char *ts, const char *level,
                  const char *body);

#define log_error(...) log_line(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_line(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_line(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_line(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
