/*
 * stdout_preserved: writes 5000 'x' and then "partial line, no newline: 42"
 * through stdio into a pipe (fully buffered), without a final newline and
 * without fflush, and leaks malloc(10) from leak_ten.
 *
 * Expect: stdout is exactly those 5028 bytes; a loss record of 10 bytes
 * with frame 0 leak_ten; exit 23. (stdio's own buffer is libc's and is not
 * counted as the program's.)
 */
#include "common.h"
#include <stdio.h>

static NOINLINE void *leak_ten(void)
{
	void *p = malloc(10);

	ESCAPE(p);
	SINK();
	return p;
}

int main(void)
{
	for (int i = 0; i < 5000; i++)
		putchar('x');
	printf("partial line, no newline: %d", 42);
	leak_ten();
	clobber_stack();
	return 0;
}
