/*
 * cancel_halt: a worker leaves "pending output from worker" in stdout's
 * buffer, cancels itself (deferred), then frees a block twice; main joins
 * it and prints "main after join".
 *
 * Expect with halt_on_error=1: the process aborts (SIGABRT) at the double
 * free, cancellation notwithstanding; stdout holds only the worker's line.
 */
#include "common.h"
#include <pthread.h>
#include <stdio.h>

static void *worker(void *arg)
{
	char *p;

	printf("pending output from worker\n");
	pthread_cancel(pthread_self());
	p = malloc(8);
	ESCAPE(p);
	free(p);
	free(p);
	return arg;
}

int main(void)
{
	pthread_t th;

	REQUIRE(pthread_create(&th, NULL, worker, NULL) == 0);
	REQUIRE(pthread_join(th, NULL) == 0);
	printf("main after join\n");
	return 0;
}
