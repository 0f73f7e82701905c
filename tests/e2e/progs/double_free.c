/*
 * double_free: a malloc(24) block from alloc_it is freed by free_once and
 * then again by free_twice. The second free is ignored and the program goes
 * on (it prints "after second free").
 *
 * Expect: 1 error, double_free, size 24, stack[0] free_twice,
 * alloc_stack[0] alloc_it, free_stack[0] free_once; no leaks; exit 23.
 * With halt_on_error=1: the report is written (1 error), then SIGABRT, and
 * "after second free" is never printed.
 */
#include "common.h"

static NOINLINE char *alloc_it(void)
{
	char *p = malloc(24);

	REQUIRE(p != NULL);
	memset(p, 'a', 24);
	SINK();
	return p;
}

static NOINLINE void free_once(char *p)
{
	free(p);
	SINK();
}

static NOINLINE void free_twice(char *p)
{
	free(p);
	SINK();
}

int main(void)
{
	char *p = alloc_it();

	free_once(p);
	free_twice(p);
	say("after second free\n");
	clobber_stack();
	return 0;
}
