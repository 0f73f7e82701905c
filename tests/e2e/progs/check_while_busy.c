/*
 * check_while_busy: 3 threads keep calling malloc/realloc/free while main
 * calls rcleak_check() 20 times; then the threads stop and are joined.
 * Prints "checks=20".
 *
 * Expect (exitcode=0): no deadlock (ends within the timeout), that stdout,
 * no errors, exit 0.
 */
#include "common.h"
#include <pthread.h>

static volatile int stop;

static void *churn(void *arg)
{
	size_t n = (uintptr_t)arg;

	while (!stop) {
		char *p = malloc(n);
		p[0] = 1;
		p = realloc(p, n * 3);
		p[n * 3 - 1] = 2;
		free(p);
		n = n % 3000 + 1;
	}
	return NULL;
}

int main(void)
{
	pthread_t t[3];
	int checks = 0;

	for (int i = 0; i < 3; i++)
		REQUIRE(pthread_create(&t[i], NULL, churn,
		                       (void *)(uintptr_t)(i * 100 + 1)) == 0);
	for (int i = 0; i < 20; i++) {
		if (rcleak_check)
			rcleak_check();
		checks++;
	}
	stop = 1;
	for (int i = 0; i < 3; i++)
		REQUIRE(pthread_join(t[i], NULL) == 0);
	say("checks=");
	say_num(checks);
	say("\n");
	return 0;
}
