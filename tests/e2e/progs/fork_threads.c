/*
 * fork_threads: while 3 threads keep calling malloc/free/realloc, main
 * forks 20 children one after another. Each child allocates and frees a
 * few blocks, leaks one malloc(12) from child_leak and exits with exit(0).
 * Whatever lock a thread held at fork time, the child must not deadlock.
 *
 * Expect (exitcode=0): exit 0 within the timeout, 21 reports (parent and
 * 20 children); each child has a 12-byte record from child_leak and no
 * errors; the parent has no errors.
 */
#include "common.h"
#include <pthread.h>
#include <sys/wait.h>

static volatile int stop;

static void *churn(void *arg)
{
	size_t n = (uintptr_t)arg;

	while (!stop) {
		char *p = malloc(n);
		p[0] = 1;
		p = realloc(p, n + 100);
		free(p);
		n = n % 4000 + 1;
	}
	return NULL;
}

static NOINLINE void *child_leak(void)
{
	void *p = malloc(12);
	ESCAPE(p);
	SINK();
	return p;
}

int main(void)
{
	pthread_t t[3];

	for (int i = 0; i < 3; i++)
		REQUIRE(pthread_create(&t[i], NULL, churn,
		                       (void *)(uintptr_t)(i * 50 + 1)) == 0);
	for (int i = 0; i < 20; i++) {
		pid_t pid = fork();
		REQUIRE(pid >= 0);
		if (pid == 0) {
			for (int j = 0; j < 100; j++)
				free(malloc((size_t)j * 7));
			child_leak();
			exit(0);
		}
		int status;
		REQUIRE(waitpid(pid, &status, 0) == pid);
		REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	stop = 1;
	for (int i = 0; i < 3; i++)
		REQUIRE(pthread_join(t[i], NULL) == 0);
	return 0;
}
