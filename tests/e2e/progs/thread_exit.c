/*
 * thread_exit: main leaks malloc(21) from main_leak and blocks in
 * pthread_join; the other thread calls exit(3).
 *
 * Expect: the exit report is written (from the non-main thread), a record
 * of 21 bytes with frame 0 main_leak, no errors; exit 3 (run with
 * exitcode=0).
 */
#include "common.h"
#include <pthread.h>

static void *quitter(void *arg)
{
	(void)arg;
	char *p = malloc(64);
	free(p);
	exit(3);
}

static NOINLINE void *main_leak(void)
{
	void *p = malloc(21);
	ESCAPE(p);
	SINK();
	return p;
}

int main(void)
{
	pthread_t t;

	main_leak();
	clobber_stack();
	REQUIRE(pthread_create(&t, NULL, quitter, NULL) == 0);
	pthread_join(t, NULL);
	return 0;
}
