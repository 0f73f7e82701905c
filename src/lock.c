/*
 * The slow half of rcl_mutex (internal.h): a thread that finds the lock
 * held spins briefly, as a shard is held for tens of nanoseconds, then
 * sleeps on a futex until the holder's unlock wakes it. And the futex
 * call itself, which threads.c's stop and resume also use.
 */
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define SPINS 64

long rcl_futex(void *word, int op, uint32_t val,
               const struct timespec *timeout)
{
	return syscall(SYS_futex, word, op | FUTEX_PRIVATE_FLAG, val, timeout,
	               NULL, 0);
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ volatile("pause");
#endif
}

void rcl_mutex_wait(rcl_mutex *m)
{
	int saved_errno = errno; /* malloc must not change it */

	for (int i = 0; i < SPINS; i++) {
		uint32_t free_state = 0;

		cpu_relax();
		if (__atomic_load_n(&m->state, __ATOMIC_RELAXED) == 0 &&
		    __atomic_compare_exchange_n(&m->state, &free_state, 1, false,
		                                __ATOMIC_ACQUIRE,
		                                __ATOMIC_RELAXED))
			return;
	}
	/* Taken as 2: its unlock then wakes whoever else is asleep. */
	while (__atomic_exchange_n(&m->state, 2, __ATOMIC_ACQUIRE) != 0)
		rcl_futex(&m->state, FUTEX_WAIT, 2, NULL);
	errno = saved_errno;
}

void rcl_mutex_wake(rcl_mutex *m)
{
	int saved_errno = errno;

	rcl_futex(&m->state, FUTEX_WAKE, 1, NULL);
	errno = saved_errno;
}
