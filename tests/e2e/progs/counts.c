/*
 * counts: malloc, malloc, calloc; two frees; free(NULL) three times (not
 * counted); the malloc(17) from keep_one is leaked.
 *
 * Expect: allocations 3, frees 2, definitely_lost 17 bytes in 1 block, no
 * errors; exit 0 (run with exitcode=0).
 */
#include "common.h"

static NOINLINE void *keep_one(void)
{
	void *p = malloc(17);
	ESCAPE(p);
	SINK();
	return p;
}

int main(void)
{
	char *a = malloc(5);
	keep_one();
	char *c = calloc(2, 2);
	free(a);
	free(NULL);
	free(NULL);
	free(c);
	free(NULL);
	clobber_stack();
	return 0;
}
