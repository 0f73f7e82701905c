/*
 * fork_while_flushing: a thread writes to a fopencookie stream whose
 * writer calls malloc and free, and calls fflush(NULL) in a loop (glibc
 * holds its stream list lock meanwhile); main forks 300 children that
 * _exit(0) at once, then prints "done".
 *
 * Expect: no deadlock; stdout "done\n"; exit 0 (the process ends with
 * _exit, so no report is needed).
 */
#include "common.h"
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>

static ssize_t writer(void *cookie, const char *buf, size_t n)
{
	void *p = malloc(n + 1);

	(void)cookie;
	(void)buf;
	ESCAPE(p);
	free(p);
	return (ssize_t)n;
}

static void *flusher(void *arg)
{
	cookie_io_functions_t io = {.write = writer};
	FILE *f = fopencookie(NULL, "w", io);

	REQUIRE(f != NULL);
	for (;;) {
		fputc('x', f);
		fflush(NULL);
	}
	return arg;
}

int main(void)
{
	pthread_t th;

	REQUIRE(pthread_create(&th, NULL, flusher, NULL) == 0);
	for (int i = 0; i < 300; i++) {
		pid_t pid = fork();

		REQUIRE(pid >= 0);
		if (pid == 0)
			_exit(0);
		REQUIRE(waitpid(pid, NULL, 0) == pid);
	}
	say("done\n");
	_exit(0);
}
