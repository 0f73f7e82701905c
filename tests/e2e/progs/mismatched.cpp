/*
 * mismatched: every wrong allocate/release pair, each in its own function
 * (which both allocates and releases). The block is still released.
 *   malloc_delete       malloc  -> delete
 *   malloc_delete_arr   malloc  -> delete[]
 *   new_free            new     -> free
 *   newarr_free         new[]   -> free
 *   newarr_delete       new[]   -> delete
 *   new_deletearr       new     -> delete[]
 *
 * Expect: exactly 6 errors, all mismatched_free, in that order, with
 * "allocator"/"deallocator" as above and stack[0] and alloc_stack[0] the
 * function named; no leaks from the program; exit 0 (run with exitcode=0).
 */
#include "common.h"

static NOINLINE void malloc_delete(void)
{
	int *p = (int *)malloc(sizeof(int));
	*p = 1;
	delete p;
	SINK();
}

static NOINLINE void malloc_delete_arr(void)
{
	int *p = (int *)malloc(4 * sizeof(int));
	p[0] = 1;
	delete[] p;
	SINK();
}

static NOINLINE void new_free(void)
{
	int *p = new int(2);
	free(p);
	SINK();
}

static NOINLINE void newarr_free(void)
{
	int *p = new int[8]();
	free(p);
	SINK();
}

static NOINLINE void newarr_delete(void)
{
	int *p = new int[8]();
	delete p;
	SINK();
}

static NOINLINE void new_deletearr(void)
{
	int *p = new int(3);
	delete[] p;
	SINK();
}

int main()
{
	malloc_delete();
	malloc_delete_arr();
	new_free();
	newarr_free();
	newarr_delete();
	new_deletearr();
	say("done\n");
	clobber_stack();
	return 0;
}
