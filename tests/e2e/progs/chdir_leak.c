/*
 * chdir_leak: leaks malloc(5) from leak_five, then changes into the
 * directory "sub" (the test makes it) and returns.
 *
 * Expect: relative json_path/log_path name files in the directory the
 * program started in, not in "sub"; a 5-byte loss record.
 */
#include "common.h"

static NOINLINE void *leak_five(void)
{
	void *p = malloc(5);

	ESCAPE(p);
	SINK();
	return p;
}

int main(void)
{
	leak_five();
	REQUIRE(chdir("sub") == 0);
	clobber_stack();
	return 0;
}
