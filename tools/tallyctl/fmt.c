/*
 * fmt.c: human-readable durations and times for tallyctl's tables.
 * Durations are integers all the way (ms in, text out): no rounding surprises.
 */
#include "tools/tallyctl/fmt.h"

#include <stdio.h>
#include <time.h>

#define MS_MIN  (60ull * 1000)
#define MS_HOUR (60ull * MS_MIN)
#define MS_DAY  (24ull * MS_HOUR)

void fmt_duration(uint64_t ms, char *out, size_t cap)
{
    unsigned long long v = ms;
    if (v < 1000)
        snprintf(out, cap, "%llums", v);
    else if (v < MS_MIN)
        snprintf(out, cap, "%llu.%llus", v / 1000, v % 1000 / 100);
    else if (v < MS_HOUR)
        snprintf(out, cap, "%llum %02llus", v / MS_MIN, v % MS_MIN / 1000);
    else if (v < MS_DAY)
        snprintf(out, cap, "%lluh %02llum %02llus", v / MS_HOUR, v % MS_HOUR / MS_MIN,
                 v % MS_MIN / 1000);
    else
        snprintf(out, cap, "%llud %02lluh %02llum", v / MS_DAY, v % MS_DAY / MS_HOUR,
                 v % MS_HOUR / MS_MIN);
}

void fmt_ago(uint64_t ms, char *out, size_t cap)
{
    unsigned long long v = ms;
    if (v == 0)
        snprintf(out, cap, "now");
    else if (v < 100)
        snprintf(out, cap, "<0.1s ago");
    else if (v < 10 * 1000)
        snprintf(out, cap, "%llu.%llus ago", v / 1000, v % 1000 / 100);
    else if (v < MS_MIN)
        snprintf(out, cap, "%llus ago", v / 1000);
    else if (v < MS_HOUR)
        snprintf(out, cap, "%llum %02llus ago", v / MS_MIN, v % MS_MIN / 1000);
    else if (v < MS_DAY)
        snprintf(out, cap, "%lluh %02llum ago", v / MS_HOUR, v % MS_HOUR / MS_MIN);
    else
        snprintf(out, cap, "%llud %02lluh ago", v / MS_DAY, v % MS_DAY / MS_HOUR);
}

void fmt_rtt(uint64_t us, char *out, size_t cap)
{
    unsigned long long v = us;
    snprintf(out, cap, "%llu.%03llu ms", v / 1000, v % 1000);
}

void fmt_utc(int64_t unix_s, char *out, size_t cap)
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(out, cap, "%lld", (long long)unix_s);
}
