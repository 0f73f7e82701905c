/*
 * stdio_thread_running: a thread sleeps forever while main prints "hello"
 * and "world" through stdout (libc allocates stdout's buffer), opens
 * /dev/null with fopen and never closes it, and returns.
 *
 * Expect: stdout "hello\nworld\n"; nothing definitely or indirectly lost
 * (stdout's buffer and the open FILE belong to libc's stream list, which
 * cannot be freed while another thread runs); exit 0.
 */
#include "common.h"
#include <pthread.h>
#include <stdio.h>

static void *sleeper(void *arg)
{
	for (;;)
		pause();
	return arg;
}

int main(void)
{
	pthread_t th;
	FILE *f;

	REQUIRE(pthread_create(&th, NULL, sleeper, NULL) == 0);
	printf("hello\n");
	f = fopen("/dev/null", "w");
	REQUIRE(f != NULL);
	fputs("data", f);
	printf("world\n");
	return 0;
}
