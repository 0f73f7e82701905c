/*
 * heap_overflow VARIANT: bytes just past the end of blocks are written.
 *   free     four blocks, each overflowed then freed in its own function:
 *            malloc(10)         [10]   offset 0   freed in free_a
 *            malloc(20)         [23]   offset 3   freed in free_b
 *            calloc(3, 5)       [16]   offset 1   freed in free_c
 *            aligned_alloc(64,64) [64] offset 0   freed in free_d
 *            => 4 errors in that order, stack[0] free_a..free_d,
 *            alloc_stack[0] alloc_a..alloc_d; no leaks.
 *   never    malloc(16) from alloc_never, bytes [21] and [22] written (first
 *            changed: offset 5), never freed => 1 error (one per block),
 *            offset 5, size 16, found at exit; definitely_lost 16 bytes in
 *            1 block.
 *   realloc  malloc(8) from alloc_r, [8] written, realloc(p, 100) in grow_r
 *            => 1 error, offset 0, size 8, stack[0] grow_r; the new block
 *            is freed cleanly: no second error, no leaks.
 * Run with exitcode=0: exit 0.
 */
#include "common.h"

static NOINLINE char *alloc_a(void)
{
	char *p = malloc(10);
	memset(p, 1, 10);
	SINK();
	return p;
}
static NOINLINE char *alloc_b(void)
{
	char *p = malloc(20);
	memset(p, 1, 20);
	SINK();
	return p;
}
static NOINLINE char *alloc_c(void)
{
	char *p = calloc(3, 5);
	SINK();
	return p;
}
static NOINLINE char *alloc_d(void)
{
	char *p = aligned_alloc(64, 64);
	memset(p, 1, 64);
	SINK();
	return p;
}
static NOINLINE char *alloc_never(void)
{
	char *p = malloc(16);
	memset(p, 1, 16);
	SINK();
	return p;
}
static NOINLINE char *alloc_r(void)
{
	char *p = malloc(8);
	memset(p, 1, 8);
	SINK();
	return p;
}
static NOINLINE void free_a(char *p)
{
	free(p);
	SINK();
}
static NOINLINE void free_b(char *p)
{
	free(p);
	SINK();
}
static NOINLINE void free_c(char *p)
{
	free(p);
	SINK();
}
static NOINLINE void free_d(char *p)
{
	free(p);
	SINK();
}
static NOINLINE char *grow_r(char *p)
{
	p = realloc(p, 100);
	SINK();
	return p;
}

int main(int argc, char **argv)
{
	const char *v = argc > 1 ? argv[1] : "";

	if (strcmp(v, "free") == 0) {
		volatile char *a = alloc_a(), *b = alloc_b(), *c = alloc_c(),
		              *d = alloc_d();
		a[10] = 'X';
		b[23] = 'Y';
		c[16] = 'Z';
		d[64] = 'W';
		free_a((char *)a);
		free_b((char *)b);
		free_c((char *)c);
		free_d((char *)d);
	} else if (strcmp(v, "never") == 0) {
		volatile char *p = alloc_never();
		p[21] = 'N';
		p[22] = 'N';
		p = NULL;
	} else if (strcmp(v, "realloc") == 0) {
		volatile char *p = alloc_r();
		p[8] = 'R';
		char *q = grow_r((char *)p);
		REQUIRE(q != NULL && q[0] == 1 && q[7] == 1);
		memset(q, 3, 100);
		free(q);
	} else {
		say("usage: heap_overflow free|never|realloc\n");
		return 2;
	}
	clobber_stack();
	return 0;
}
