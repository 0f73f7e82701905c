/*
 * churn_at_exit: two threads loop malloc(32)/free while main sleeps 100 ms
 * and returns, so the exit report is made while they allocate.
 *
 * Expect: the report is one consistent moment: the blocks it lists (every
 * kind) number exactly allocations - frees, and at most the two blocks
 * the threads hold at that moment are lost.
 */
#include "common.h"
#include <pthread.h>

static void *churn(void *arg)
{
	for (;;) {
		void *p = malloc(32);

		ESCAPE(p);
		free(p);
	}
	return arg;
}

int main(void)
{
	pthread_t th[2];

	for (int i = 0; i < 2; i++)
		REQUIRE(pthread_create(&th[i], NULL, churn, NULL) == 0);
	usleep(100000);
	return 0;
}
