/*
 * log.h: one line per event on stderr, "ts level event key=value...", so
 * `kubectl logs` is greppable and a log shipper can split fields on spaces.
 */
#ifndef TALLY_LOG_H
#define TALLY_LOG_H

#include "node/config.h"

void log_level_set(enum config_log_level level);
int log_enabled(enum config_log_level level);
/* fmt is the event and its fields, e.g. "store_loaded count=%llu". */
void log_line(enum config_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_line(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_line(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_line(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_line(LOG_DEBUG, __VA_ARGS__)

#endif
