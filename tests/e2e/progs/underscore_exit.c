/*
 * A program that ends with _exit(5) after leaking 48 bytes. Its fork()
 * child leaks 16 bytes and _exit()s; its vfork() child fails to exec and
 * _exit()s: neither may report (the vfork one runs in our memory).
 */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static void *volatile kept;

NOINLINE static void leak_before_underscore_exit(void)
{
	kept = malloc(48);
	kept = NULL;
}

int main(void)
{
	pid_t pid;

	leak_before_underscore_exit();
	pid = fork();
	if (pid == 0) {
		kept = malloc(16);
		kept = NULL;
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	pid = vfork();
	if (pid == 0) {
		char *argv[] = {(char *)"/nonexistent/rcleak-test", NULL};

		execv(argv[0], argv);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	printf("parent ends with _exit(5)\n");
	fflush(stdout);
	_exit(5);
}
