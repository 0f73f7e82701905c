/*
 * rcl_mutex (internal.h, lock.c): mutual exclusion when threads do meet on
 * it, including those that went to sleep on the futex, and errno kept.
 */
#include <errno.h>
#include <unistd.h>

#include "internal.h"
#include "unit.h"

static void unit_setup(void)
{
	rcl_opt.log_path = (char *)"/dev/null";
	rcl_opt.exitcode = 0;
}

#define THREADS 4
#define ROUNDS  200000

static rcl_mutex lock = RCL_MUTEX_INIT;
static long counter; /* changed only under lock, non-atomically */
static int errno_changed;

static void *add_many(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		errno = 1234;
		rcl_mutex_lock(&lock);
		long v = counter;
		/* Now and then hold on long enough that others sleep. */
		if (i % 1024 == 0)
			usleep(200);
		counter = v + 1;
		rcl_mutex_unlock(&lock);
		if (errno != 1234)
			__atomic_fetch_add(&errno_changed, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void threads_count_exactly(void)
{
	pthread_t th[THREADS];

	for (int t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, add_many, NULL);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	CHECK_EQ(counter, (long)THREADS * ROUNDS);
	CHECK_EQ(errno_changed, 0);
	CHECK_EQ(lock.state, 0);
	CHECK_EQ(rcl_locks_held, 0);
}

TEST_MAIN("lock", TEST(threads_count_exactly))
