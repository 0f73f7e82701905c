/*
 * many_sizes: one call site in leak_sized leaks 1000 blocks of sizes 1..1000
 * (500500 bytes); then 1,000,000 blocks of 8 bytes from leak_small.
 *
 * Expect (exitcode=0): a record of 500500 bytes in 1000 blocks from
 * leak_sized, a record of 8000000 bytes in 1000000 blocks from leak_small,
 * nothing else lost; no errors; exit 0; the report in reasonable time.
 */
#include "common.h"

static NOINLINE void *leak_sized(size_t n)
{
	char *p = malloc(n);
	p[n - 1] = 1;
	ESCAPE(p);
	SINK();
	return p;
}

static NOINLINE void *leak_small(void)
{
	char *p = malloc(8);
	p[0] = 1;
	ESCAPE(p);
	SINK();
	return p;
}

int main(void)
{
	for (size_t n = 1; n <= 1000; n++)
		leak_sized(n);
	for (int i = 0; i < 1000000; i++)
		leak_small();
	clobber_stack();
	return 0;
}
