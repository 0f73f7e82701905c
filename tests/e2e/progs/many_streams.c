/*
 * many_streams: opens 120 streams on /dev/null, writes to each (glibc
 * gives each a buffer), calls rcleak_check(), prints "check=<result>",
 * closes them all and returns.
 *
 * Expect: the check report ("when": "check") has nothing definitely lost:
 * the open streams and their buffers are in use; stdout "check=0".
 */
#include "common.h"
#include <stdio.h>

int main(void)
{
	static FILE *f[120];
	int r;

	for (int i = 0; i < 120; i++) {
		f[i] = fopen("/dev/null", "w");
		REQUIRE(f[i] != NULL);
		fputs("x", f[i]);
	}
	r = RCLEAK_CHECK();
	printf("check=%d\n", r);
	for (int i = 0; i < 120; i++)
		fclose(f[i]);
	return 0;
}
