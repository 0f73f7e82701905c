/*
 * Pointers no allocator gave out, passed to free, realloc, delete and
 * malloc_usable_size: a small number, an unmapped address, a page from
 * mmap, glibc's own block made behind rcleak's back, a read-only page.
 * Each is reported and nothing is dereferenced or passed on, so the
 * program goes on (natively most of these would crash it).
 */
#include <malloc.h>
#include <stdio.h>
#include <sys/mman.h>

#include "common.h"

extern void *__libc_malloc(size_t size);

NOINLINE static void free_bad(void *p)
{
	free(p);
	SINK();
}

int main(void)
{
	char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
	                -1, 0);
	char *gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *glibc_own = __libc_malloc(40);
	void *q;

	munmap(gone, 4096);
	free_bad((void *)0x10);
	free_bad(gone + 64);
	free_bad(page);
	free_bad(ro + 16);
	free_bad(glibc_own);
	q = realloc(page + 8, 100);
	printf("realloc of an mmap page: %s\n", q ? "a block" : "NULL");
	printf("usable size of an unmapped address: %zu\n",
	       malloc_usable_size(gone));
	page[0] = 1; /* still the program's, untouched */
	printf("survived\n");
	return 0;
}
