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

#define DEFERRED 64 /* frees put off per thread */
#define PAGE     4096

__thread int rcl_locks_held __attribute__((tls_model("initial-exec")));
__thread int rcl_deferred_frees __attribute__((tls_model("initial-exec")));

static __thread struct deferred {
	void *p;
	enum rcl_free_kind how;
} deferred[DEFERRED] __attribute__((tls_model("initial-exec")));

/* The mapped blocks; len is the size asked for. */
RCL_SPANS(blocks, 1024);
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
	if (rcl_spans_add(&blocks, (uintptr_t)p, size))
		return p; /* zeroed: good for calloc too */
	rcl_sys_munmap(p, map_len(size));
	errno = ENOMEM;
	return NULL;
}

/* The block that starts at p; only its start was handed out. */
static const struct rcl_span *block_at(const void *p)
{
	const struct rcl_span *b = rcl_spans_find(&blocks, (uintptr_t)p);

	return b && b->base == (uintptr_t)p ? b : NULL;
}

bool rcl_reentry_owns(const void *p, size_t *size)
{
	const struct rcl_span *b = block_at(p);

	if (b == NULL)
		return false;
	*size = b->len;
	return true;
}

bool rcl_reentry_free(void *p)
{
	const struct rcl_span *b = block_at(p);

	if (b == NULL)
		return false;
	rcl_sys_munmap(p, map_len(b->len));
	rcl_spans_remove(&blocks, b);
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
