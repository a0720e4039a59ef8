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

#include "node/config.h"

void log_level_set(enum config_log_level level);
void log_format_set(enum config_log_format format);
int log_enabled(enum config_log_level level);
/* fmt is the event and its fields, e.g. "store_loaded count=%llu". */
void log_line(enum config_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Render one event's text (body, as a call site wrote it) as a line without
 * its newline into buf; returns its length. Pure, for the unit tests. */
size_t log_render(char *buf, size_t cap, enum config_log_format f, const char *ts,
                  const char *level, const char *body);

#define log_error(...) log_line(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_line(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_line(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_line(LOG_DEBUG, __VA_ARGS__)

#endif
