/*
 * fs_counters.h -- counting what the library refuses and corrects, per app
 * and kind, and the `requests.refused` summary line.
 *
 * Every check calls fs_count() where it finds the policy broken (never on
 * a request where the policy holds): the counter of the app's slot in the
 * record (fs_record_file.h) moves with one atomic addition.  A refusal
 * also feeds the summary: at most one `requests.refused` line per app and
 * minute while its refusals change, with the counts since the line before
 * (the first refusal of a quiet app is logged at once; later ones wait
 * for the minute to pass, and the request guard's fs_counters_tick()
 * writes them out; what is left is written at exit).
 */
#ifndef FS_COUNTERS_H
#define FS_COUNTERS_H

#include <stdbool.h>
#include <stdint.h>

#include "fs_record.h"

/* Seconds between two summary lines of an app. */
#define FS_SUMMARY_SECONDS 60

/* Slots with refusals not yet in a summary line (bit per slot). */
extern uint32_t fs_counters_pending;

/* One more of counter c for the app in `slot` (0: the process);
 * enforced: the library acted (false: it only reported). */
void fs_count(int slot, enum fs_counter c, bool enforced);

/* Write the summary lines that are due (the guard calls it when
 * fs_counters_pending is not 0). */
void fs_counters_tick(void);

#endif /* FS_COUNTERS_H */
