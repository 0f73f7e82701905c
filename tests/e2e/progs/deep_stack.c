/*
 * deep_stack: main -> level1 -> level2 -> level3 -> leaf -> malloc(123),
 * leaked. Built with gcc and clang, -O0 and -O2 (without frame pointers),
 * to check unwinding.
 *
 * Expect: definitely_lost 123 bytes in 1 block; the stack starts leaf,
 * level3, level2, level1, main. With depth=2: exactly leaf, level3.
 * Exit 0 (run with exitcode=0).
 */
#include "common.h"

static NOINLINE void *leaf(void)
{
	void *p = malloc(123);
	ESCAPE(p);
	SINK();
	return p;
}

static NOINLINE void *level3(void)
{
	void *p = leaf();
	SINK();
	return p;
}

static NOINLINE void *level2(void)
{
	void *p = level3();
	SINK();
	return p;
}

static NOINLINE void *level1(void)
{
	void *p = level2();
	SINK();
	return p;
}

int main(void)
{
	level1();
	SINK();
	clobber_stack();
	return 0;
}
