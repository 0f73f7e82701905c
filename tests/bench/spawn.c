/*
 * spawn OUT PROG [ARG...]: runs PROG as a child, waits for it, and writes
 * "PID STATUS MAXRSS_KIB" to the file OUT; exits 0 when it could.
 *
 * Why bench.py does not fork PROG itself: Linux carries the peak RSS of
 * the process image that exec replaces into the new one, so a program
 * started by the Python harness (tens of MiB) would report at least the
 * harness's size as its own ru_maxrss. This launcher is static and tiny,
 * so the floor it leaves is far below any program's own RSS, and being
 * static, an LD_PRELOAD meant for PROG does not load into it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: spawn OUT PROG [ARG...]\n");
		return 2;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("spawn: fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("spawn: wait4");
		return 2;
	}
	/* ru_maxrss covers PROG and, when it waited for them, its children. */
	FILE *f = fopen(argv[1], "w");
	if (!f ||
	    fprintf(f, "%d %d %ld\n", (int)pid, status, ru.ru_maxrss) < 0 ||
	    fclose(f)) {
		perror(argv[1]);
		return 2;
	}
	return 0;
}
