/*
 * pipe_output [leak]: waits until stdout's reader has gone (the test
 * closes it), prints a line through stdio, and with "leak" leaks malloc(5)
 * from leak_five.
 *
 * Expect, stdout a pipe with no reader: with "leak" the process still dies
 * of SIGPIPE at exit, as it does natively, but only after the report (with
 * the 5-byte leak) is written. With stderr a pipe with no reader and no
 * leak: exit 0, as natively (the report's own write must not kill it).
 */
#include "common.h"
#include <stdio.h>

static NOINLINE void *leak_five(void)
{
	void *p = malloc(5);

	ESCAPE(p);
	SINK();
	return p;
}

int main(int argc, char **argv)
{
	usleep(300000);
	printf("some output\n");
	if (argc > 1)
		leak_five();
	clobber_stack();
	return 0;
}
