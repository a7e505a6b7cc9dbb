/*
 * fs_test.h -- the smallest test harness for the C unit tests.
 *
 * CHECK(cond) records a pass or a failure (with file and line); FS_TEST_MAIN
 * prints "unit: N passed, N failed" and exits non-zero on any failure.
 */
#ifndef FS_TEST_H
#define FS_TEST_H

#include <stdio.h>
#include <stdlib.h>

static int fs_test_passed, fs_test_failed;

#define CHECK(cond)                                                     \
    do {                                                                \
        if (cond) {                                                     \
            fs_test_passed++;                                           \
        }                                                               \
        else {                                                          \
            fs_test_failed++;                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n",                \
                    __FILE__, __LINE__, #cond);                         \
        }                                                               \
    } while (0)

static inline int
fs_test_report(void)
{
    printf("unit: %d passed, %d failed\n", fs_test_passed, fs_test_failed);
    return fs_test_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif /* FS_TEST_H */
