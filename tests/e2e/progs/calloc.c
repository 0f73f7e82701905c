/*
 * calloc: calloc(7, 9) from make_table is leaked; calloc(3, 4) is checked
 * to be zeroed and freed; calloc(SIZE_MAX/2, 3) overflows: NULL, ENOMEM,
 * nothing recorded.
 *
 * Expect: definitely_lost 63 bytes in 1 block, frame 0 make_table,
 * allocator "calloc"; allocations 2, frees 1; no errors; exit 0
 * (run with exitcode=0).
 */
#include "common.h"

static NOINLINE void *make_table(void)
{
	unsigned char *t = calloc(7, 9);

	REQUIRE(t != NULL);
	for (int i = 0; i < 63; i++)
		REQUIRE(t[i] == 0);
	memset(t, 1, 63);
	SINK();
	return t;
}

static NOINLINE void zeroed_and_freed(void)
{
	int *a = calloc(3, 4);

	REQUIRE(a && a[0] == 0 && a[1] == 0 && a[2] == 0);
	free(a);
}

static NOINLINE void overflow(void)
{
	errno = 0;
	void *p = calloc(vsize_max / 2, 3);
	REQUIRE(p == NULL);
	REQUIRE(errno == ENOMEM);
}

int main(void)
{
	make_table();
	zeroed_and_freed();
	overflow();
	clobber_stack();
	return 0;
}
