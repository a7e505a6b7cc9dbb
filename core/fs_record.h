/*
 * fs_record.h -- what a process with the library publishes about itself:
 * the layout of its record file, and the names of its counters.
 *
 * A process that imports Flask keeps one small file in the runtime
 * directory (`runtime_dir`, /run/flaskshield by default) named PID.rec,
 * mapped shared into its memory: a header (pid, command, Python version,
 * policy path, digest and mode) and one slot per Flask app (its
 * import_name, mode and counters).  The process writes it (shim/
 * fs_record_file.c, fs_counters.c); `flaskshield ps` and `flaskshield
 * metrics` read it (cli/cli_records.c) -- no thread, socket or signal in
 * the process.  The process holds a shared flock() on the file while it
 * lives: a reader that can take an exclusive one knows the writer is gone
 * and removes the file.
 *
 * Counters are 64-bit, changed with relaxed atomic additions and read with
 * atomic loads; the header's strings change only on a policy reload,
 * between two increments of `seq` (odd while writing): a reader copies the
 * header and takes the copy when `seq` was even and unchanged across it.
 */
#ifndef FS_RECORD_H
#define FS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FS_RECORD_MAGIC   0x3143455253534b46ull    /* "FKSSREC1" */
#define FS_RECORD_VERSION 1u
#define FS_RECORD_APPS    32        /* slots; slot 0 is the process */
#define FS_RECORD_SUFFIX  ".rec"

/* What is counted.  A refusal is a request the library answered with an
 * error (or, in report mode, would have); a correction is a setting or a
 * behaviour of the app the library changed (or would have). */
enum fs_counter {
    FS_CNT_REFUSED_BODY,        /* 413: body over max_content_length */
    FS_CNT_REFUSED_SECRET_KEY,  /* 500: the key is refused */
    FS_CNT_FIX_DEBUG,           /* DEBUG/TESTING/PROPAGATE_EXCEPTIONS */
    FS_CNT_FIX_DEBUGGER,        /* the interactive debugger asked for */
    FS_CNT_FIX_DEV_SERVER,      /* the development server */
    FS_CNT_FIX_BODY_LIMIT,      /* a body limit raised or unset */
    FS_CNT_FIX_PIN,             /* a pinned config key had another value */
    FS_CNT_FIX_HEADER,          /* a security header added to a response */
    FS_CNT_COUNT
};

/* The first counter that is a correction. */
#define FS_CNT_FIRST_FIX FS_CNT_FIX_DEBUG

/* The label of a counter: `reason` of a refusal, `kind` of a correction
 * ("body_too_large", "debug", ...). */
extern const char *const fs_counter_names[FS_CNT_COUNT];

struct fs_record_app {
    char name[120];             /* the app's import_name; "" in slot 0 */
    char mode[8];               /* "enforce", "report", "off" */
    /* [counter][enforced]: enforced = 1 when the library acted, 0 when
     * it only reported (report mode, dev_server = "warn") */
    uint64_t count[FS_CNT_COUNT][2];
};

struct fs_record {
    uint64_t magic;
    uint32_t version;
    uint32_t size;              /* sizeof(struct fs_record) */
    uint32_t seq;               /* odd while the strings below change */
    uint32_t napps;             /* slots in use, slot 0 included */
    int64_t pid;
    int64_t started;            /* time(NULL) when the record was made */
    char python[32];            /* "3.11.7" */
    char command[256];          /* argv, NULs made spaces */
    char policy[256];           /* the policy file, "" for built-ins */
    char digest[17];
    char mode[8];               /* the global mode */
    char pad[7];
    struct fs_record_app app[FS_RECORD_APPS];
};

/* The counters of processes that are gone, per user: RETIRED_PREFIX UID
 * ".rec" beside the records, owned by that user, a record of this layout
 * with pid 0 and the apps' summed counters.  A record leaves the folder
 * only through fs_record_retire(), so that `flaskshield metrics`, which
 * adds these to the live counters, never sees a counter go down when a
 * worker is replaced. */
#define FS_RECORD_RETIRED "retired-"

struct stat;

/* *sum += n, held at the largest value instead of wrapping (a record's
 * owner can write any count into it: it must not take others' away). */
static inline void
fs_record_add(uint64_t *sum, uint64_t n)
{
    *sum = *sum + n < *sum ? UINT64_MAX : *sum + n;
}

/* flock(fd, op) without blocking for long: any user can open a record or
 * a retired file (0644) and hold a lock on it, and a process's exit must
 * never wait on that.  Tries for about 200 ms; 0, or -1. */
int fs_record_lock(int fd, int op);

/* Add the counters of record r, whose file is `name` in folder dfd (still
 * the file of *st), to the retired counters of user uid, and remove the
 * file: both under an exclusive flock() of the retired file, so that two
 * readers that found the same dead record count it once (the one that
 * finds the name gone counts nothing).  The file goes first: a failure
 * after that loses counts, never counts twice.  Only by root or uid
 * itself (the file is made for uid).  0, or -1 with the record left where
 * it is (a later scan counts it as dead and retires it). */
int fs_record_retire(int dfd, const char *name, const struct stat *st,
                     const struct fs_record *r, unsigned uid);

/* Is buf[0..len) a record of this layout (pid 0: retired counters)?
 * Strings are checked to be NUL-terminated UTF-8 without control
 * characters, and napps in range, so a reader can print them as they are. */
bool fs_record_valid(const struct fs_record *r, size_t len);

/* Copy src into dst as the fixed-size string fields are filled: at most
 * size-1 bytes, cut before a character that does not fit whole, every
 * byte that is not UTF-8 and every control character made '?',
 * NUL-terminated -- what fs_record_valid() accepts. */
void fs_record_strcpy(char *dst, size_t size, const char *src);

#endif /* FS_RECORD_H */
