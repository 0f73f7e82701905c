/*
 * Calls that arrive from a signal handler while the same thread is inside
 * rcleak. Real programs allocate in handlers (undefined in C, but done);
 * the interrupted call may hold a lock the handler's call would wait for
 * forever, or be inside the next allocator, which is not reentrant either.
 * Then an allocation gets pages of its own from mmap (async-signal-safe)
 * and a free is put off until the interrupted call leaves rcleak.
 *
 * Such blocks are not tracked: their leaks are not reported and what they
 * point to is not scanned. The window is a few hundred nanoseconds per
 * call, so this is rare.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "internal.h"

#define SLOTS    1024 /* mapped blocks alive at once */
#define DEFERRED 64   /* frees put off per thread */
#define PAGE     4096

__thread int rcl_locks_held __attribute__((tls_model("initial-exec")));
__thread int rcl_deferred_frees __attribute__((tls_model("initial-exec")));

static __thread struct deferred {
	void *p;
	enum rcl_free_kind how;
} deferred[DEFERRED] __attribute__((tls_model("initial-exec")));

/* The mapped blocks: claimed and released with compare-and-swap. */
static struct {
	_Atomic uintptr_t addr;
	size_t size;
} slots[SLOTS];
static atomic_int live;
static atomic_bool overflowed;

static size_t map_len(size_t size)
{
	return (size + PAGE - 1) & ~(size_t)(PAGE - 1);
}

void *rcl_reentry_alloc(size_t size, size_t align)
{
	void *p;

	if (align > PAGE || size > ((size_t)1 << 40)) {
		errno = ENOMEM;
		return NULL;
	}
	if (size == 0)
		size = 1;
	p = rcl_sys_mmap(NULL, map_len(size), PROT_READ | PROT_WRITE,
	                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		errno = ENOMEM;
		return NULL;
	}
	for (int i = 0; i < SLOTS; i++) {
		uintptr_t none = 0;

		if (atomic_compare_exchange_strong(&slots[i].addr, &none,
		                                   (uintptr_t)p)) {
			slots[i].size = size;
			atomic_fetch_add(&live, 1);
			return p; /* zeroed: good for calloc too */
		}
	}
	rcl_sys_munmap(p, map_len(size));
	errno = ENOMEM;
	return NULL;
}

static int slot_of(const void *p)
{
	if (RCL_LIKELY(atomic_load_explicit(&live, memory_order_relaxed) == 0))
		return -1;
	for (int i = 0; i < SLOTS; i++)
		if (atomic_load_explicit(&slots[i].addr,
		                         memory_order_acquire) == (uintptr_t)p)
			return i;
	return -1;
}

bool rcl_reentry_owns(const void *p, size_t *size)
{
	int i = slot_of(p);

	if (i < 0)
		return false;
	*size = slots[i].size;
	return true;
}

bool rcl_reentry_free(void *p)
{
	int i = slot_of(p);
	size_t size;

	if (i < 0)
		return false;
	size = slots[i].size;
	rcl_sys_munmap(p, map_len(size));
	atomic_store(&slots[i].addr, 0);
	atomic_fetch_sub(&live, 1);
	return true;
}

void rcl_reentry_defer_free(void *p, enum rcl_free_kind how)
{
	int n = rcl_deferred_frees;

	if (n == DEFERRED) {
		/* Kept, not freed: a leak at worst, never a deadlock. */
		if (!atomic_exchange(&overflowed, true))
			rcl_warn("a signal handler freed too many blocks while "
			         "interrupting rcleak; some stay allocated");
		return;
	}
	deferred[n] = (struct deferred){p, how};
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	rcl_deferred_frees = n + 1;
}

/*
 * Runs the frees a handler put off, now that this thread holds nothing.
 * Signals stay blocked meanwhile, so no handler adds to the list as it is
 * taken apart.
 */
void rcl_reentry_drain(void)
{
	sigset_t all, old;
	int saved_errno = errno;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	while (rcl_deferred_frees > 0) {
		struct deferred d = deferred[--rcl_deferred_frees];

		rcl_heap_free_deferred(d.p, d.how);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved_errno;
}
