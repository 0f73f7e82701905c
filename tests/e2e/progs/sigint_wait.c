/*
 * sigint_wait [handle|count]: leaks 10 bytes, says "ready", then waits for
 * a signal. With "handle", SIGINT runs a handler that calls exit(3), as
 * daemons do; with "count", SIGINT is counted, and 300 ms after the first
 * one the program says "sigints N" and exits 0 (a Ctrl-C must come once);
 * without either, SIGINT kills the process.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common.h"

static void *volatile kept;
static volatile sig_atomic_t sigints;

static void on_int(int sig)
{
	(void)sig;
	exit(3);
}

static void count_int(int sig)
{
	(void)sig;
	sigints++;
}

NOINLINE static void leak_before_waiting(void)
{
	kept = malloc(10);
	kept = NULL;
}

int main(int argc, char **argv)
{
	bool counting = argc > 1 && strcmp(argv[1], "count") == 0;

	if (counting)
		signal(SIGINT, count_int);
	else if (argc > 1)
		signal(SIGINT, on_int);
	leak_before_waiting();
	clobber_stack();
	say("ready\n");
	while (!sigints)
		pause();
	if (counting) {
		struct timespec rest = {0, 300 * 1000 * 1000};

		while (nanosleep(&rest, &rest) != 0)
			;
		say("sigints ");
		say_num(sigints);
		say("\n");
	}
	return 0;
}
