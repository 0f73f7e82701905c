/*
 * Memory the program mapped itself, through the interposed mmap, mremap
 * and munmap. Interpreters and compilers keep their own heaps there
 * (CPython's object arenas, gcc's garbage-collected pages), so the leak
 * check scans these mappings as roots. The allocator's own arenas and
 * chunks are mapped inside libc, not through these names, and rcleak's
 * own memory comes from raw system calls, so neither is seen here.
 */
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct rcl_range *regions; /* sorted, disjoint */
static size_t count, cap;

void *rcl_sys_mmap(void *addr, size_t len, int prot, int flags, int fd,
                   long off)
{
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

int rcl_sys_munmap(void *addr, size_t len)
{
	return (int)syscall(SYS_munmap, addr, len);
}

/* Removes [lo, hi) from the set, splitting a region it cuts in two. */
static void cut(uintptr_t lo, uintptr_t hi)
{
	for (size_t i = 0; i < count; i++) {
		struct rcl_range *r = &regions[i];

		if (r->hi <= lo || r->lo >= hi)
			continue;
		if (r->lo < lo && r->hi > hi) { /* a hole in the middle */
			if (count == cap)
				return; /* no room: keep it whole */
			memmove(r + 2, r + 1, (count - i - 1) * sizeof(*r));
			r[1] = (struct rcl_range){hi, r->hi};
			r->hi = lo;
			count++;
			return;
		}
		if (r->lo < lo)
			r->hi = lo;
		else if (r->hi > hi)
			r->lo = hi;
		else { /* wholly inside: drop it */
			memmove(r, r + 1, (count - i - 1) * sizeof(*r));
			count--;
			i--;
		}
	}
}

static bool grow(void)
{
	size_t ncap = cap ? cap * 2 : 64;
	struct rcl_range *n = rcl_meta_alloc(ncap * sizeof(*n));

	if (n == NULL)
		return false;
	if (count)
		memcpy(n, regions, count * sizeof(*n));
	rcl_meta_free(regions, cap * sizeof(*regions));
	regions = n;
	cap = ncap;
	return true;
}

static void add(uintptr_t lo, uintptr_t hi)
{
	size_t i = 0;

	/* Room first: the cut may split a region, and this one goes in. */
	if (count + 2 > cap && !grow())
		return;
	cut(lo, hi); /* MAP_FIXED may replace part of an old mapping */
	while (i < count && regions[i].lo < lo)
		i++;
	memmove(regions + i + 1, regions + i, (count - i) * sizeof(*regions));
	regions[i] = (struct rcl_range){lo, hi};
	count++;
}

/* Only the program's own calls count: rcleak's libraries map files too. */
static bool tracking(void)
{
	return rcl_ready && !rcl_guard;
}

void *rcl_mmaps_map(void *addr, size_t len, int prot, int flags, int fd,
                    long off)
{
	void *p;

	if (!tracking())
		return rcl_sys_mmap(addr, len, prot, flags, fd, off);
	pthread_mutex_lock(&lock);
	p = rcl_sys_mmap(addr, len, prot, flags, fd, off);
	if (p != MAP_FAILED)
		add((uintptr_t)p, (uintptr_t)p + rcl_page_round(len));
	pthread_mutex_unlock(&lock);
	return p;
}

int rcl_mmaps_unmap(void *addr, size_t len)
{
	int err;

	/* Under the guard too: a region it once tracked may go away. */
	if (!rcl_ready)
		return rcl_sys_munmap(addr, len);
	pthread_mutex_lock(&lock);
	err = rcl_sys_munmap(addr, len);
	if (err == 0 && (count + 1 <= cap || grow()))
		cut((uintptr_t)addr, (uintptr_t)addr + rcl_page_round(len));
	pthread_mutex_unlock(&lock);
	return err;
}

void *rcl_mmaps_remap(void *old, size_t old_len, size_t len, int flags,
                      void *new_addr)
{
	void *p;

	pthread_mutex_lock(&lock);
	p = (void *)syscall(SYS_mremap, old, old_len, len, flags, new_addr);
	if (p != MAP_FAILED && tracking()) {
		bool known = false;

		for (size_t i = 0; i < count; i++)
			known = known || (regions[i].lo <= (uintptr_t)old &&
			                  (uintptr_t)old < regions[i].hi);
		if (known) {
			cut((uintptr_t)old,
			    (uintptr_t)old + rcl_page_round(old_len));
			add((uintptr_t)p, (uintptr_t)p + rcl_page_round(len));
		}
	}
	pthread_mutex_unlock(&lock);
	return p;
}

/* A copy of the set, in rcleak's memory; *n regions. */
struct rcl_range *rcl_mmaps_copy(size_t *n)
{
	struct rcl_range *copy;

	pthread_mutex_lock(&lock);
	*n = count;
	copy = rcl_meta_alloc((count ? count : 1) * sizeof(*copy));
	if (copy && count)
		memcpy(copy, regions, count * sizeof(*copy));
	if (copy == NULL)
		*n = 0;
	pthread_mutex_unlock(&lock);
	return copy;
}

void rcl_mmaps_lock(void)
{
	pthread_mutex_lock(&lock);
}

void rcl_mmaps_unlock(void)
{
	pthread_mutex_unlock(&lock);
}
