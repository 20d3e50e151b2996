/* What this machine charges for the two kernel services the inspection verbs lean on, so that
 * a bench run can be read against another machine's (BENCHMARKS.md, session 20): `stat` of
 * every revision file, as the metadata index does (relative to the opened folder), and a fresh
 * anonymous page, as every allocation and every read into new memory costs. Built and run by
 * scripts/bench: `machine-probe VERSIONS_DIR FILE_NAME`; prints the medians of 7 rounds, in µs
 * per 1,000. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

enum { ROUNDS = 7, PAGES = 1000, PAGE = 4096 };

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *values) {
    qsort(values, ROUNDS, sizeof *values, by_value);
    return values[ROUNDS / 2];
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: machine-probe VERSIONS_DIR FILE_NAME\n");
        return 2;
    }
    DIR *listing = opendir(argv[1]);
    int dir = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (!listing || dir < 0) {
        perror(argv[1]);
        return 1;
    }
    size_t count = 0, capacity = 1024;
    char **paths = malloc(capacity * sizeof *paths);
    for (struct dirent *entry; (entry = readdir(listing));) {
        if (entry->d_name[0] == '.')
            continue;
        if (count == capacity)
            paths = realloc(paths, (capacity *= 2) * sizeof *paths);
        if (asprintf(&paths[count], "%s/%s", entry->d_name, argv[2]) < 0)
            return 1;
        count++;
    }
    if (count == 0) {
        fprintf(stderr, "%s: no revision folders\n", argv[1]);
        return 1;
    }
    double stats[ROUNDS], pages[ROUNDS];
    for (int round = 0; round < ROUNDS; round++) {
        struct stat seen;
        double start = now_us();
        for (size_t i = 0; i < count; i++)
            fstatat(dir, paths[i], &seen, 0);
        stats[round] = (now_us() - start) * 1000.0 / count;

        char *memory = mmap(NULL, (size_t)PAGES * PAGE, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (memory == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        start = now_us();
        for (int i = 0; i < PAGES; i++)
            memory[(size_t)i * PAGE] = 1;
        pages[round] = now_us() - start;
        munmap(memory, (size_t)PAGES * PAGE);
    }
    printf("%.0f %.0f\n", median(stats), median(pages));
    return 0;
}
