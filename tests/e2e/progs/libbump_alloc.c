/*
 * libbump_alloc.so: a minimal replacement allocator (never frees), to be
 * preloaded after rcleak, that gets its arenas with mmap as jemalloc and
 * tcmalloc do. Those arenas hold every block and must not be roots.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

static char *cur, *end;

static void *get(size_t n, size_t align)
{
	uintptr_t at;

	if (align < 16)
		align = 16;
	n = (n + 15) & ~(size_t)15;
	at = ((uintptr_t)cur + 16 + align - 1) & ~(align - 1);
	if (cur == NULL || at + n > (uintptr_t)end) {
		size_t size = n + align + 16 > (1 << 20) ? n + align + 16
		                                         : (1 << 20);

		cur = mmap(NULL, size, PROT_READ | PROT_WRITE,
		           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (cur == MAP_FAILED)
			return NULL;
		end = cur + size;
		at = ((uintptr_t)cur + 16 + align - 1) & ~(align - 1);
	}
	((size_t *)at)[-1] = n;
	cur = (char *)(at + n);
	return (void *)at;
}

void *malloc(size_t n)
{
	return get(n, 16);
}

void free(void *p)
{
	(void)p;
}

void *calloc(size_t a, size_t b)
{
	void *p = get(a * b, 16);

	if (p)
		memset(p, 0, a * b);
	return p;
}

void *memalign(size_t align, size_t n)
{
	return get(n, align);
}

size_t malloc_usable_size(void *p)
{
	return p ? ((size_t *)p)[-1] : 0;
}

void *realloc(void *p, size_t n)
{
	void *q = get(n, 16);

	if (p && q) {
		size_t old = ((size_t *)p)[-1];

		memcpy(q, p, old < n ? old : n);
	}
	return q;
}
