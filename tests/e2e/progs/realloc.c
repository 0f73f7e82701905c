/*
 * realloc: each use of realloc.
 *  - grow_shrink: malloc(16) -> realloc 4096 (grow) -> realloc 8 (shrink),
 *    contents kept; the 8-byte block is leaked.
 *  - realloc_null: realloc(NULL, 40) acts as malloc; leaked.
 *  - realloc_zero: realloc(p, 0) frees p and returns NULL.
 *  - realloc_fail: realloc(p, SIZE_MAX - 100) fails with ENOMEM and leaves p
 *    live and intact; p is then freed normally.
 *
 * Expect: definitely_lost 48 bytes in 2 blocks: 8 bytes (frame 0
 * grow_shrink, allocator "realloc") and 40 bytes (frame 0 realloc_null,
 * allocator "realloc", or "malloc" as realloc(NULL, n) is malloc(n)); no
 * errors; exit 0 (run with exitcode=0).
 */
#include "common.h"
#include <malloc.h>

static NOINLINE void *grow_shrink(void)
{
	unsigned char *p = malloc(16);

	REQUIRE(p != NULL);
	for (int i = 0; i < 16; i++)
		p[i] = (unsigned char)(i + 1);
	p = realloc(p, 4096);
	REQUIRE(p != NULL);
	for (int i = 0; i < 16; i++)
		REQUIRE(p[i] == i + 1);
	memset(p + 16, 0x77, 4096 - 16);
	p = realloc(p, 8);
	REQUIRE(p != NULL);
	for (int i = 0; i < 8; i++)
		REQUIRE(p[i] == i + 1);
	if (under_rcleak())
		REQUIRE(malloc_usable_size(p) == 8);
	SINK();
	return p;
}

static NOINLINE void *realloc_null(void)
{
	char *p = realloc(NULL, 40);

	REQUIRE(p != NULL);
	memset(p, 1, 40);
	SINK();
	return p;
}

static NOINLINE void realloc_zero(void)
{
	char *p = malloc(10);

	REQUIRE(p != NULL);
	memset(p, 2, 10);
	p = realloc(p, 0);
	REQUIRE(p == NULL);
}

static NOINLINE void realloc_fail(void)
{
	char *p = malloc(20);

	REQUIRE(p != NULL);
	memset(p, 'q', 20);
	errno = 0;
	char *q = realloc(p, vsize_max - 100);
	REQUIRE(q == NULL);
	REQUIRE(errno == ENOMEM);
	for (int i = 0; i < 20; i++)
		REQUIRE(p[i] == 'q');
	free(p);
}

int main(void)
{
	grow_shrink();
	realloc_null();
	realloc_zero();
	realloc_fail();
	clobber_stack();
	return 0;
}
