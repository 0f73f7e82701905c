/*
 * cxx_new: each form of operator new leaks one object from its own function.
 *   make_int            new int                       4 bytes  "new"
 *   make_arr            new int[10]                  40 bytes  "new[]"
 *   make_nothrow        new (std::nothrow) long       8 bytes  "new"
 *   make_nothrow_arr    new (std::nothrow) char[5]    5 bytes  "new[]"
 *   make_aligned        new Big (alignas(64))        64 bytes  "new"
 *   make_aligned_arr    new Big[2]                  128 bytes  "new[]"
 *
 * Expect: 6 loss records from the program (frame 0 in the executable),
 * 249 bytes in 6 blocks, with the allocators above; alignment kept; no
 * errors; exit 0 (run with exitcode=0).
 */
#include "common.h"
#include <new>

struct alignas(64) Big {
	char c[64];
};

static NOINLINE void *make_int()
{
	int *p = new int(1);
	ESCAPE(p);
	SINK();
	return p;
}
static NOINLINE void *make_arr()
{
	int *p = new int[10]();
	ESCAPE(p);
	SINK();
	return p;
}
static NOINLINE void *make_nothrow()
{
	long *p = new (std::nothrow) long(5);
	REQUIRE(p);
	ESCAPE(p);
	SINK();
	return p;
}
static NOINLINE void *make_nothrow_arr()
{
	char *p = new (std::nothrow) char[5]();
	REQUIRE(p);
	ESCAPE(p);
	SINK();
	return p;
}

static NOINLINE void *make_aligned()
{
	Big *p = new Big();
	REQUIRE(((uintptr_t)p & 63) == 0);
	ESCAPE(p);
	SINK();
	return p;
}

static NOINLINE void *make_aligned_arr()
{
	Big *p = new Big[2]();
	REQUIRE(((uintptr_t)p & 63) == 0);
	ESCAPE(p);
	SINK();
	return p;
}

int main()
{
	make_int();
	make_arr();
	make_nothrow();
	make_nothrow_arr();
	make_aligned();
	make_aligned_arr();
	clobber_stack();
	return 0;
}
