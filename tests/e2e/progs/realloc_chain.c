/*
 * realloc_chain: a block grown one byte at a time from 1 to 3000 bytes by
 * realloc (last byte written each time, contents checked), shrunk back,
 * then freed; blocks of every size 0..300 from malloc and calloc written in
 * full and freed.
 *
 * Expect: no errors, no leaks, exit 0 with the default exitcode.
 */
#include "common.h"

int main(void)
{
	unsigned char *p = malloc(1);

	REQUIRE(p != NULL);
	p[0] = 1;
	for (size_t n = 2; n <= 3000; n++) {
		p = realloc(p, n);
		REQUIRE(p != NULL);
		p[n - 1] = (unsigned char)n;
	}
	for (size_t n = 2; n <= 3000; n += 97)
		REQUIRE(p[n - 1] == (unsigned char)n);
	for (size_t n = 3000; n >= 1; n -= 7) {
		p = realloc(p, n);
		REQUIRE(p != NULL && p[0] == 1);
		if (n < 8)
			break;
	}
	free(p);

	for (size_t n = 0; n <= 300; n++) {
		char *a = malloc(n), *b = calloc(1, n);
		REQUIRE(a != NULL && b != NULL);
		for (size_t i = 0; i < n; i++)
			REQUIRE(b[i] == 0);
		memset(a, 0xab, n);
		memset(b, 0xcd, n);
		free(a);
		free(b);
	}
	clobber_stack();
	return 0;
}
