/*
 * write_after_free VARIANT: a block from alloc_buf is freed by release_buf,
 * then written to.
 *   exit   malloc(100); bytes 37 and 50 written after the free; found at
 *          exit (default quarantine): 1 error, offset 37, size 100.
 *   evict  malloc(64); byte 5 written; run with quarantine_mb=1, then 8 MiB
 *          of other blocks go through the quarantine so the damaged one is
 *          evicted: 1 error, offset 5, size 64 (found at eviction).
 *   large  malloc(1 MiB); byte 65535 written, run with poison_bytes=65536
 *          (the last poisoned byte): 1 error, offset 65535, size 1048576.
 *   far    malloc(1000); byte 300 written: past the default 256 poisoned
 *          bytes, so no error; with poison_bytes=1000, offset 300.
 *
 * Expect: exactly 1 error, write_after_free, with the offset and size above,
 * alloc_stack[0] alloc_buf, free_stack[0] release_buf; no leaks; exit 0
 * (run with exitcode=0).
 */
#include "common.h"

static NOINLINE unsigned char *alloc_buf(size_t size)
{
	unsigned char *p = malloc(size);

	REQUIRE(p != NULL);
	memset(p, 0x42, size);
	SINK();
	return p;
}

static NOINLINE void release_buf(unsigned char *p)
{
	free(p);
	SINK();
}

static NOINLINE void churn(void)
{
	for (int i = 0; i < 8192; i++) {
		char *q = malloc(1024);
		REQUIRE(q != NULL);
		memset(q, i, 1024);
		free(q);
	}
}

int main(int argc, char **argv)
{
	const char *v = argc > 1 ? argv[1] : "";
	volatile unsigned char *p;

	if (strcmp(v, "exit") == 0) {
		p = alloc_buf(100);
		release_buf((unsigned char *)p);
		p[37] = 1;
		p[50] = 2;
	} else if (strcmp(v, "evict") == 0) {
		p = alloc_buf(64);
		release_buf((unsigned char *)p);
		p[5] = 9;
		churn();
	} else if (strcmp(v, "far") == 0) {
		p = alloc_buf(1000);
		release_buf((unsigned char *)p);
		p[300] = 3;
	} else if (strcmp(v, "large") == 0) {
		p = alloc_buf(1 << 20);
		release_buf((unsigned char *)p);
		p[65535] = 7;
	} else {
		say("usage: write_after_free exit|evict|large|far\n");
		return 2;
	}
	p = NULL;
	clobber_stack();
	return 0;
}
