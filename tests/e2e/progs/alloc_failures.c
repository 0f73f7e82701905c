/*
 * Allocations that fail: sizes no allocator can give, then a program that
 * runs out of address space (RLIMIT_AS) with small blocks, so that
 * rcleak's own record table runs out as well. Every NULL must come with
 * ENOMEM, nothing may be reported as an error, and the 40 bytes leaked
 * afterwards are found.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>

#include "common.h"

#define MAX_BLOCKS (4 << 20)

static void *volatile kept;
/* volatile: the compiler must not see the sizes it would warn about. */
static volatile size_t huge = SIZE_MAX;

NOINLINE static void leak_after_running_out(void)
{
	kept = malloc(40);
	kept = NULL;
}

static int check(const char *what, void *p, int want_errno)
{
	if (p == NULL && errno == want_errno)
		return 0;
	printf("%s: %p errno %d\n", what, p, errno);
	return 1;
}

static long vm_bytes(void)
{
	long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return pages * 4096;
}

int main(void)
{
	static void *blocks[MAX_BLOCKS];
	struct rlimit old, low;
	int bad = 0, got_null = 0;
	long n = 0;
	void *p = malloc(100), *q;

	errno = 0;
	bad += check("malloc(SIZE_MAX)", malloc(huge), ENOMEM);
	bad += check("malloc(SIZE_MAX - 8)", malloc(huge - 8), ENOMEM);
	bad += check("calloc overflow", calloc(huge / 2, 3), ENOMEM);
	bad += check("malloc(1 << 60)", malloc((size_t)1 << 60), ENOMEM);
	q = realloc(p, huge - 100);
	bad += check("realloc huge", q, ENOMEM);
	memset(p, 7, 100); /* still ours after the failed realloc */
	if (posix_memalign(&q, 64, huge - 64) != ENOMEM) {
		printf("posix_memalign huge did not fail with ENOMEM\n");
		bad++;
	}
	free(p);

	getrlimit(RLIMIT_AS, &old);
	low = old;
	low.rlim_cur = (rlim_t)vm_bytes() + (48 << 20);
	setrlimit(RLIMIT_AS, &low);
	while (n < MAX_BLOCKS) {
		errno = 0;
		blocks[n] = malloc(24);
		if (blocks[n] == NULL) {
			got_null = errno == ENOMEM;
			break;
		}
		n++;
	}
	setrlimit(RLIMIT_AS, &old);
	while (n > 0) { /* no stale copy may point at the block leaked next */
		free(blocks[--n]);
		blocks[n] = NULL;
	}
	leak_after_running_out();
	printf("huge sizes: %s\n", bad ? "WRONG" : "NULL with errno");
	printf("out of address space: %s\n", got_null ? "NULL with ENOMEM" : "no");
	return 0;
}
