/*
 * reallocarray: reallocarray(NULL, 5, 12) from make_array (60 bytes) and
 * malloc(8) grown by reallocarray(p, 10, 10) in grow_array (100 bytes) are
 * leaked. reallocarray(NULL, SIZE_MAX/2, 4) and reallocarray(live, ...)
 * overflow: NULL with ENOMEM, nothing recorded, the live block untouched
 * (then freed).
 *
 * Expect: definitely_lost 160 bytes in 2 blocks, both allocator
 * "reallocarray", frame 0 make_array and grow_array; no errors; exit 0
 * (run with exitcode=0).
 */
#include "common.h"

static NOINLINE void *make_array(void)
{
	char *p = reallocarray(NULL, 5, 12);

	REQUIRE(p != NULL);
	memset(p, 3, 60);
	SINK();
	return p;
}

static NOINLINE void *grow_array(void)
{
	char *p = malloc(8);

	REQUIRE(p != NULL);
	memcpy(p, "abcdefg", 8);
	p = reallocarray(p, 10, 10);
	REQUIRE(p != NULL);
	REQUIRE(memcmp(p, "abcdefg", 8) == 0);
	memset(p + 8, 4, 92);
	SINK();
	return p;
}

static NOINLINE void overflow(void)
{
	errno = 0;
	REQUIRE(reallocarray(NULL, vsize_max / 2, 4) == NULL);
	REQUIRE(errno == ENOMEM);

	char *p = malloc(12);
	REQUIRE(p != NULL);
	memset(p, 'z', 12);
	errno = 0;
	REQUIRE(reallocarray(p, vsize_max / 2, 4) == NULL);
	REQUIRE(errno == ENOMEM);
	for (int i = 0; i < 12; i++)
		REQUIRE(p[i] == 'z');
	free(p);
}

int main(void)
{
	make_array();
	grow_array();
	overflow();
	clobber_stack();
	return 0;
}
