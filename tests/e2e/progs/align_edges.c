/*
 * align_edges: the alignments glibc 2.36 accepts beyond powers of two, and
 * pvalloc(0). Each leaked block comes from its own function:
 *   odd_alignment     aligned_alloc(24, 48)   48 bytes, 32-byte aligned
 *   zero_alignment    aligned_alloc(0, 10)    10 bytes
 *   odd_memalign      memalign(48, 20)        20 bytes, 64-byte aligned
 *   empty_pvalloc     pvalloc(0)               0 bytes
 *
 * Expect: those 4 loss records (78 bytes in 4 blocks), no errors; the
 * program checks the alignments itself.
 */
#include "common.h"
#include <malloc.h>

static NOINLINE void *odd_alignment(void)
{
	void *p = aligned_alloc(24, 48);

	REQUIRE(p != NULL && (uintptr_t)p % 32 == 0);
	SINK();
	return p;
}

static NOINLINE void *zero_alignment(void)
{
	void *p = aligned_alloc(0, 10);

	REQUIRE(p != NULL);
	SINK();
	return p;
}

static NOINLINE void *odd_memalign(void)
{
	void *p = memalign(48, 20);

	REQUIRE(p != NULL && (uintptr_t)p % 64 == 0);
	SINK();
	return p;
}

static NOINLINE void *empty_pvalloc(void)
{
	void *p = pvalloc(0);

	REQUIRE(p != NULL);
	SINK();
	return p;
}

int main(void)
{
	ESCAPE(odd_alignment());
	ESCAPE(zero_alignment());
	ESCAPE(odd_memalign());
	ESCAPE(empty_pvalloc());
	clobber_stack();
	return 0;
}
