/*
 * big_alloc: blocks bigger than the 64 KiB poison window and bigger than
 * the whole default quarantine (64 MiB) are written in full and freed;
 * calloc of 200 MiB reads as zero. Then 100 small blocks are allocated and
 * freed to show the heap still works.
 *
 * Expect: no errors, no leaks, exit 0 with the default exitcode.
 */
#include "common.h"

int main(void)
{
	size_t sizes[] = {70000, 1 << 20, 50u << 20, 100u << 20};

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		char *p = malloc(sizes[i]);
		REQUIRE(p != NULL);
		memset(p, (int)i + 1, sizes[i]);
		free(p);
	}
	char *z = calloc(200, 1 << 20);
	REQUIRE(z != NULL);
	for (size_t off = 0; off < (200u << 20); off += 1 << 20)
		REQUIRE(z[off] == 0);
	free(z);
	for (int i = 0; i < 100; i++)
		free(malloc(64));
	clobber_stack();
	return 0;
}
