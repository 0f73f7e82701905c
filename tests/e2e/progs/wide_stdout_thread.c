/*
 * wide_stdout_thread: a thread sleeps forever while main prints "hello
 * wide" with wprintf (stdout becomes wide-oriented: glibc allocates a wide
 * buffer) and returns.
 *
 * Expect: stdout "hello wide\n"; nothing definitely lost (the wide buffer
 * belongs to stdout); exit 0.
 */
#include "common.h"
#include <pthread.h>
#include <wchar.h>

static void *sleeper(void *arg)
{
	for (;;)
		pause();
	return arg;
}

int main(void)
{
	pthread_t th;

	REQUIRE(pthread_create(&th, NULL, sleeper, NULL) == 0);
	wprintf(L"hello wide\n");
	return 0;
}
