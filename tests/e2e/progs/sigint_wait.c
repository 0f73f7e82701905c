/*
 * sigint_wait [handle]: leaks 10 bytes, says "ready", then waits for a
 * signal. With "handle", SIGINT runs a handler that calls exit(3), as
 * daemons do; without, SIGINT kills the process.
 */
#include <signal.h>
#include <stdio.h>

#include "common.h"

static void *volatile kept;

static void on_int(int sig)
{
	(void)sig;
	exit(3);
}

NOINLINE static void leak_before_waiting(void)
{
	kept = malloc(10);
	kept = NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		signal(SIGINT, on_int);
	leak_before_waiting();
	clobber_stack();
	say("ready\n");
	for (;;)
		pause();
}
