/*
 * cancel_check: a thread calls rcleak_check() in a loop (each writes a
 * report: cancellation points inside rcleak) and pthread_testcancel();
 * main cancels and joins it, prints "joined" and returns.
 *
 * Expect: no hang; stdout "joined\n"; the exit report is written; exit 0
 * with exitcode=0.
 */
#include "common.h"
#include <pthread.h>

static void *checker(void *arg)
{
	for (;;) {
		RCLEAK_CHECK();
		pthread_testcancel();
	}
	return arg;
}

int main(void)
{
	pthread_t th;

	REQUIRE(pthread_create(&th, NULL, checker, NULL) == 0);
	usleep(200000);
	REQUIRE(pthread_cancel(th) == 0);
	REQUIRE(pthread_join(th, NULL) == 0);
	say("joined\n");
	return 0;
}
