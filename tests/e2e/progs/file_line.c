/*
 * file_line: one malloc(21) in make_leak, called from main, never freed.
 *
 * Expect: one definitely lost 21-byte record; frame 0 make_leak at the line
 * marked "@alloc" below, frame 1 main at the line marked "@call", both in
 * file_line.c given as an absolute path; neither frame inlined. Built with
 * -O0 and -O2, gcc and clang: the lines must be the same.
 */
#include "common.h"

static NOINLINE void *make_leak(void)
{
	void *p = malloc(21); /* @alloc */

	ESCAPE(p);
	SINK();
	return p;
}

int main(void)
{
	make_leak(); /* @call */
	SINK();
	clobber_stack();
	return 0;
}
