/*
 * halt_keeps_output: prints "output before the bug" through stdio into a
 * pipe (fully buffered, no fflush), then frees a block twice.
 *
 * Expect with halt_on_error=1: the process aborts (SIGABRT) after the
 * report, and stdout still holds "output before the bug\n".
 */
#include "common.h"
#include <stdio.h>

int main(void)
{
	char *p = malloc(8);

	ESCAPE(p);
	printf("output before the bug\n");
	free(p);
	free(p);
	printf("after the double free\n");
	return 0;
}
