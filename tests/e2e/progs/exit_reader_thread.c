/*
 * exit_reader_thread: a thread blocks in fgets(stdin) (holding stdin's
 * lock) while main prints "main done" through stdio into a pipe, leaks
 * malloc(10) from leak_ten and returns.
 *
 * Expect: no hang (rcleak flushes stdout without waiting on stdin's lock);
 * stdout is "main done\n"; a 10-byte loss record from leak_ten; exit 23.
 */
#include "common.h"
#include <pthread.h>
#include <stdio.h>

static void *reader(void *arg)
{
	char buf[100];

	while (fgets(buf, sizeof buf, stdin))
		;
	return arg;
}

static NOINLINE void *leak_ten(void)
{
	void *p = malloc(10);

	ESCAPE(p);
	SINK();
	return p;
}

int main(void)
{
	pthread_t th;

	REQUIRE(pthread_create(&th, NULL, reader, NULL) == 0);
	usleep(100000); /* let the reader take stdin's lock */
	printf("main done\n");
	leak_ten();
	clobber_stack();
	return 0;
}
