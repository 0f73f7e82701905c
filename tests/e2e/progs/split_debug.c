/*
 * split_debug: hidden_alloc, a static function, leaks malloc(17). The test
 * moves the debug information to a separate file named by .gnu_debuglink
 * and strips the binary (objcopy), so only that file names hidden_alloc.
 *
 * Expect: a 17-byte loss record whose frame 0 is hidden_alloc.
 */
#include "common.h"

static NOINLINE void *hidden_alloc(size_t n)
{
	void *p = malloc(n);

	ESCAPE(p);
	SINK();
	return p;
}

int main(void)
{
	hidden_alloc(17);
	clobber_stack();
	return 0;
}
