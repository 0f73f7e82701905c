/*
 * aligned: every aligned allocator, each leaking one block from its own
 * function, and each also used with a large alignment, written in full and
 * freed with free() or grown/shrunk by realloc() and then freed (no
 * invalid_free, no heap_overflow may follow).
 *   use_posix_memalign  posix_memalign(&p, 64, 100)  100 bytes
 *   use_aligned_alloc   aligned_alloc(128, 256)      256 bytes
 *   use_memalign        memalign(32, 50)              50 bytes
 *   use_valloc          valloc(10)                    10 bytes
 *   use_pvalloc         pvalloc(100)                4096 bytes (page-rounded)
 * posix_memalign(&p, 3, 10) fails with EINVAL and records nothing.
 *
 * Expect: definitely_lost 4512 bytes in 5 blocks, one record per function
 * with the allocator names above; no errors; exit 0 (run with exitcode=0).
 */
#include "common.h"
#include <malloc.h>

#define ALIGNED(p, a) (((uintptr_t)(p) & ((a)-1)) == 0)

static NOINLINE void *use_posix_memalign(size_t align, size_t size)
{
	void *p = NULL;

	REQUIRE(posix_memalign(&p, align, size) == 0);
	REQUIRE(ALIGNED(p, align));
	memset(p, 0x11, size);
	SINK();
	return p;
}

static NOINLINE void *use_aligned_alloc(size_t align, size_t size)
{
	void *p = aligned_alloc(align, size);

	REQUIRE(p && ALIGNED(p, align));
	memset(p, 0x22, size);
	SINK();
	return p;
}

static NOINLINE void *use_memalign(size_t align, size_t size)
{
	void *p = memalign(align, size);

	REQUIRE(p && ALIGNED(p, align));
	memset(p, 0x33, size);
	SINK();
	return p;
}

static NOINLINE void *use_valloc(size_t size)
{
	void *p = valloc(size);

	REQUIRE(p && ALIGNED(p, 4096));
	memset(p, 0x44, size);
	SINK();
	return p;
}

static NOINLINE void *use_pvalloc(size_t size)
{
	void *p = pvalloc(size);

	REQUIRE(p && ALIGNED(p, 4096));
	/* pvalloc rounds up to a page: the whole page is the program's. */
	memset(p, 0x55, 4096);
	SINK();
	return p;
}

static NOINLINE void freed_ones(void)
{
	free(use_posix_memalign(4096, 5000));
	free(use_aligned_alloc(8192, 8192));
	free(use_memalign(1024, 3));
	free(use_valloc(4097));
	free(use_pvalloc(1));
	free(use_posix_memalign(sizeof(void *), 1));
	free(use_memalign(16, 0));
	free(use_posix_memalign(1 << 20, 100)); /* a 1 MiB alignment */
	free(use_aligned_alloc(1 << 16, 1 << 16));
	/* realloc of an aligned block: a plain block afterwards, no error */
	char *r = realloc(use_aligned_alloc(256, 100), 1000);
	REQUIRE(r != NULL && (unsigned char)r[99] == 0x22);
	memset(r, 0, 1000);
	free(r);
	r = realloc(use_posix_memalign(4096, 10), 5);
	REQUIRE(r != NULL && r[4] == 0x11);
	free(r);
}

static NOINLINE void bad_alignment(void)
{
	void *p = (void *)1;

	REQUIRE(posix_memalign(&p, 3, 10) == EINVAL);
}

int main(void)
{
	use_posix_memalign(64, 100);
	use_aligned_alloc(128, 256);
	use_memalign(32, 50);
	use_valloc(10);
	use_pvalloc(100);
	freed_ones();
	bad_alignment();
	clobber_stack();
	return 0;
}
