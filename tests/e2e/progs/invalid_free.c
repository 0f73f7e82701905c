/*
 * invalid_free VARIANT: free() of a pointer that malloc never handed out.
 * The call is ignored (never reaches the real free) and the program goes on
 * (prints "after invalid free").
 *   stack     free of a local array, in free_stack_ptr
 *   global    free of a global array, in free_global_ptr
 *   interior  free of p + 16 where p = malloc(64) from alloc_interior, in
 *             free_interior_ptr; p itself is then freed correctly
 *   never     free of a pointer into an mmap()ed page, in free_never_ptr
 *
 * Expect: exactly 1 error, invalid_free, stack[0] the function above;
 * interior: also offset 16 and alloc_stack[0] alloc_interior; no leaks;
 * exit 23.
 */
#include "common.h"
#include <sys/mman.h>

static char global_buf[64];

static NOINLINE void free_stack_ptr(void)
{
	char local[64];

	memset(local, 1, sizeof local);
	ESCAPE(local);
	free(local + 0);
	SINK();
}

static NOINLINE void free_global_ptr(void)
{
	free(global_buf + 0);
	SINK();
}

static NOINLINE char *alloc_interior(void)
{
	char *p = malloc(64);

	REQUIRE(p != NULL);
	memset(p, 2, 64);
	SINK();
	return p;
}

static NOINLINE void free_interior_ptr(char *p)
{
	free(p + 16);
	SINK();
}

static NOINLINE void free_never_ptr(char *page)
{
	free(page + 32);
	SINK();
}

int main(int argc, char **argv)
{
	const char *v = argc > 1 ? argv[1] : "";

	if (strcmp(v, "stack") == 0) {
		free_stack_ptr();
	} else if (strcmp(v, "global") == 0) {
		free_global_ptr();
	} else if (strcmp(v, "interior") == 0) {
		char *p = alloc_interior();
		free_interior_ptr(p);
		REQUIRE(p[20] == 2);
		free(p);
	} else if (strcmp(v, "never") == 0) {
		char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		REQUIRE(page != MAP_FAILED);
		free_never_ptr(page);
		munmap(page, 4096);
	} else {
		say("usage: invalid_free stack|global|interior|never\n");
		return 2;
	}
	say("after invalid free\n");
	clobber_stack();
	return 0;
}
