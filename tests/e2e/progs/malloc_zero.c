/*
 * malloc_zero: malloc(0) from make_empty is a 0-byte block and is leaked;
 * a second malloc(0) is freed without error.
 *
 * Expect: definitely_lost 0 bytes in 1 block, frame 0 make_empty,
 * allocator "malloc"; no errors; exit 23 (a 0-byte block is still a lost
 * block).
 */
#include "common.h"
#include <malloc.h>

static NOINLINE void *make_empty(void)
{
	void *p = malloc(0);

	REQUIRE(p != NULL);
	ESCAPE(p);
	SINK();
	return p;
}

int main(void)
{
	make_empty();
	void *q = malloc(0);
	REQUIRE(q != NULL);
	if (under_rcleak())
		REQUIRE(malloc_usable_size(q) == 0);
	free(q);
	clobber_stack();
	return 0;
}
