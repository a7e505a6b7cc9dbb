/*
 * fs_counters.c -- the counters and the `requests.refused` summary line
 * (see fs_counters.h).
 *
 * The summary keeps, per slot, the refusal counts of its last line and
 * when the next may be written; everything runs under the GIL, or at exit.
 * A fork() child starts from zero: its record is renewed with counters at
 * zero, and so is what it has reported.
 */
#include "fs_counters.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fs_log.h"
#include "fs_record_file.h"

uint32_t fs_counters_pending;

/* Per slot: refusal counts at the last line, [counter][enforced]. */
static uint64_t fs_reported[FS_RECORD_APPS][FS_CNT_FIRST_FIX][2];
static time_t fs_next_line[FS_RECORD_APPS];   /* monotonic seconds */
static time_t fs_last_line[FS_RECORD_APPS];
static const struct fs_record *fs_counted;    /* the record they are of */

static time_t
fs_counters_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return ts.tv_sec;
}

/* The record to count into: a fork child's own (its summary state made
 * new with it). */
static struct fs_record *
fs_counters_record(void)
{
    if (fs_record_own() != fs_counted) {
        memset(fs_reported, 0, sizeof(fs_reported));
        memset(fs_next_line, 0, sizeof(fs_next_line));
        memset(fs_last_line, 0, sizeof(fs_last_line));
        fs_counters_pending = 0;
        fs_counted = fs_record;
    }
    return fs_record;
}

/* The summary line of one slot: the refusals since its last line. */
static void
fs_counters_line(const struct fs_record *r, int slot, time_t now)
{
    const struct fs_record_app *a = &r->app[slot];
    unsigned long long total[2] = {0, 0};
    long long delta[FS_CNT_FIRST_FIX][2];
    struct fs_logline l;
    char key[64];
    int c, e;

    fs_counters_pending &= ~(1u << slot);
    for (c = 0; c < FS_CNT_FIRST_FIX; c++) {
        for (e = 0; e < 2; e++) {
            uint64_t now_count = __atomic_load_n(&a->count[c][e],
                                                 __ATOMIC_RELAXED);
            delta[c][e] = (long long)(now_count - fs_reported[slot][c][e]);
            fs_reported[slot][c][e] = now_count;
            total[e] += (unsigned long long)delta[c][e];
        }
    }
    if (total[0] + total[1] == 0) {
        return;
    }
    fs_log_begin(&l, FS_WARN, "requests.refused",
                 a->name[0] != '\0' ? a->name : NULL, a->mode);
    fs_log_int(&l, "refused", (long long)total[1]);
    fs_log_int(&l, "would_refuse", (long long)total[0]);
    for (c = 0; c < FS_CNT_FIRST_FIX; c++) {
        for (e = 1; e >= 0; e--) {
            if (delta[c][e] != 0) {
                snprintf(key, sizeof(key), "%s_%s",
                         e ? "refused" : "would_refuse", fs_counter_names[c]);
                fs_log_int(&l, key, delta[c][e]);
            }
        }
    }
    fs_log_int(&l, "seconds", fs_last_line[slot] != 0
                              ? (long long)(now - fs_last_line[slot]) : 0);
    fs_log_end(&l);
    fs_last_line[slot] = now;
    fs_next_line[slot] = now + FS_SUMMARY_SECONDS;
}

void
fs_count(int slot, enum fs_counter c, bool enforced)
{
    struct fs_record *r = fs_counters_record();
    time_t now;

    if (r == NULL || slot < 0 || (uint32_t)slot >= r->napps) {
        return;
    }
    __atomic_add_fetch(&r->app[slot].count[c][enforced ? 1 : 0], 1,
                       __ATOMIC_RELAXED);
    if (c >= FS_CNT_FIRST_FIX) {
        return;
    }
    now = fs_counters_now();
    if (now >= fs_next_line[slot]) {
        fs_counters_line(r, slot, now);
    }
    else {
        fs_counters_pending |= 1u << slot;
    }
}

void
fs_counters_tick(void)
{
    struct fs_record *r = fs_counters_record();
    time_t now = fs_counters_now();
    int slot;

    for (slot = 0; r != NULL && slot < FS_RECORD_APPS; slot++) {
        if ((fs_counters_pending & (1u << slot)) && now >= fs_next_line[slot]) {
            fs_counters_line(r, slot, now);
        }
    }
}

/* At exit: the refusals not yet logged, then the record file goes. */
__attribute__((destructor)) static void
fs_counters_exit(void)
{
    int slot;

    if (fs_record != NULL && fs_record == fs_counted && !fs_record_forked) {
        for (slot = 0; slot < FS_RECORD_APPS; slot++) {
            if (fs_counters_pending & (1u << slot)) {
                fs_counters_line(fs_record, slot, fs_counters_now());
            }
        }
    }
    fs_record_close();
}
