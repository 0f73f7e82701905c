/*
 * threads: 8 threads each do 1,000,000 malloc/free pairs of varied sizes
 * and leak exactly 100 malloc(48) blocks from leak_one.
 *
 * Expect: loss records from the program (frame 0 in the executable) total
 * exactly 38400 bytes in 800 blocks, frame 0 leak_one; no errors;
 * allocations >= 8,000,800, frees >= 8,000,000; exit 0 (run with
 * exitcode=0: libc's per-thread blocks may count as leaks for now).
 */
#include "common.h"
#include <pthread.h>

#define THREADS 8
#define PAIRS   1000000
#define LEAKS   100

static NOINLINE void *leak_one(void)
{
	char *p = malloc(48);

	REQUIRE(p != NULL);
	p[0] = 1;
	ESCAPE(p);
	SINK();
	return p;
}

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u;

	for (int i = 0; i < PAIRS; i++) {
		seed = seed * 1103515245u + 12345u;
		size_t n = 1 + (seed >> 16) % 256;
		char *p = malloc(n);
		REQUIRE(p != NULL);
		p[0] = (char)i;
		p[n - 1] = (char)i;
		free(p);
		if (i % (PAIRS / LEAKS) == 0)
			leak_one();
	}
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];

	for (int i = 0; i < THREADS; i++)
		REQUIRE(pthread_create(&t[i], NULL, worker,
		                       (void *)(uintptr_t)(i + 1)) == 0);
	for (int i = 0; i < THREADS; i++)
		REQUIRE(pthread_join(t[i], NULL) == 0);
	clobber_stack();
	return 0;
}
