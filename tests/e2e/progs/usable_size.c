/*
 * usable_size: malloc_usable_size() returns the size that was asked for
 * (pvalloc: the page-rounded size; natively at least that), and every usable
 * byte can be written without an error. free() keeps errno. Everything is
 * freed.
 *
 * Expect: no leaks, no errors, exit 0 with the default exitcode.
 */
#include "common.h"
#include <malloc.h>

/* Under rcleak exactly the size asked for; glibc alone may give more. */
static int usable_is(void *p, size_t n)
{
	size_t u = malloc_usable_size(p);

	return under_rcleak() ? u == n : u >= n;
}

static void fill(void *p)
{
	memset(p, 0xee, malloc_usable_size(p));
}

int main(void)
{
	char *p = malloc(13);
	REQUIRE(usable_is(p, 13));
	fill(p);
	p = realloc(p, 100);
	REQUIRE(usable_is(p, 100));
	fill(p);
	p = realloc(p, 3);
	REQUIRE(usable_is(p, 3));
	fill(p);
	errno = EEXIST;
	free(p);
	REQUIRE(errno == EEXIST);

	p = calloc(7, 9);
	REQUIRE(usable_is(p, 63));
	fill(p);
	free(p);

	p = memalign(64, 24);
	REQUIRE(usable_is(p, 24));
	fill(p);
	free(p);

	p = pvalloc(100);
	REQUIRE(usable_is(p, 4096));
	fill(p);
	free(p);

	p = malloc(0);
	REQUIRE(usable_is(p, 0));
	free(p);

	REQUIRE(malloc_usable_size(NULL) == 0);

	errno = ENOENT;
	free(NULL);
	REQUIRE(errno == ENOENT);
	clobber_stack();
	return 0;
}
