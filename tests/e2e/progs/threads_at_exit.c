/*
 * threads_at_exit: two threads keep allocating and freeing forever; main
 * leaks malloc(77) from main_leak, sleeps 100 ms and returns while they
 * still run.
 *
 * Expect: the process ends promptly (no hang, no crash), the report is
 * written, a loss record of 77 bytes with frame 0 main_leak, no errors;
 * exit 0 (run with exitcode=0).
 */
#include "common.h"
#include <pthread.h>
#include <time.h>

static void *spin(void *arg)
{
	size_t n = (uintptr_t)arg;

	for (;;) {
		char *p = malloc(n);
		p[0] = 1;
		p = realloc(p, n * 2);
		free(p);
		n = n % 1000 + 1;
	}
	return NULL;
}

static NOINLINE void *main_leak(void)
{
	void *p = malloc(77);
	ESCAPE(p);
	SINK();
	return p;
}

int main(void)
{
	pthread_t t;

	REQUIRE(pthread_create(&t, NULL, spin, (void *)16) == 0);
	REQUIRE(pthread_create(&t, NULL, spin, (void *)300) == 0);
	main_leak();
	struct timespec ts = {0, 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	clobber_stack();
	return 0;
}
