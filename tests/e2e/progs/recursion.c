/*
 * recursion: recurse(100) calls itself down to recurse(0), which leaks
 * malloc(31).
 *
 * Expect (exitcode=0): one 31-byte record whose stack has exactly
 * `depth` frames (default 20; 64 with depth=64), all recurse; exit 0.
 */
#include "common.h"

static NOINLINE void *recurse(int n)
{
	void *p;

	if (n == 0) {
		p = malloc(31);
		ESCAPE(p);
	} else {
		p = recurse(n - 1);
	}
	SINK();
	return p;
}

int main(void)
{
	recurse(100);
	clobber_stack();
	return 0;
}
