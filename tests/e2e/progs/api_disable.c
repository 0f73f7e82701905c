/*
 * api_disable: between rcleak_disable() and rcleak_enable() the main thread
 * leaks malloc(60) (hidden_leak) and allocates malloc(70) (freed after
 * rcleak_enable(): no invalid free). Meanwhile another thread, which is not
 * disabled, leaks malloc(9) (thread_leak). After rcleak_enable(), make_six
 * leaks malloc(6).
 *
 * Expect: program loss records (frame 0 in the executable) are exactly
 * 15 bytes in 2 blocks: thread_leak 9 and make_six 6; no lost record of
 * 60 bytes; no errors; exit 0 (run with exitcode=0).
 */
#include "common.h"
#include "rcleak.h"
#include <pthread.h>

static NOINLINE void *thread_leak(void *arg)
{
	(void)arg;
	void *p = malloc(9);
	ESCAPE(p);
	SINK();
	return NULL;
}

static NOINLINE void hidden_leak(void)
{
	void *p = malloc(60);
	ESCAPE(p);
	SINK();
}

static NOINLINE void make_six(void)
{
	void *p = malloc(6);
	ESCAPE(p);
	SINK();
}

int main(void)
{
	pthread_t t;

	RCLEAK_DISABLE();
	hidden_leak();
	char *later = malloc(70);
	REQUIRE(later != NULL);
	memset(later, 7, 70);
	REQUIRE(pthread_create(&t, NULL, thread_leak, NULL) == 0);
	REQUIRE(pthread_join(t, NULL) == 0);
	RCLEAK_ENABLE();
	free(later);
	make_six();
	clobber_stack();
	return 0;
}
