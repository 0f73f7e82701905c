/*
 * exit_status VARIANT: says "main ran" first, then:
 *   leak    leaks one malloc(11) block from lose_one and returns 5
 *           => exit 23 by default, 5 with exitcode=0, 42 with exitcode=42
 *   clean   mallocs and frees, returns 7  => exit 7 (nothing found)
 *   exit    mallocs and frees, calls exit(7) from a nested function => 7
 * Also the target of the bad-option cases: with a bad RCLEAK_OPTIONS the
 * process exits 1 before main, so "main ran" is never printed.
 */
#include "common.h"

static NOINLINE void *lose_one(void)
{
	void *p = malloc(11);

	ESCAPE(p);
	SINK();
	return p;
}

static NOINLINE void leave(int status)
{
	exit(status);
}

int main(int argc, char **argv)
{
	const char *v = argc > 1 ? argv[1] : "";

	say("main ran\n");
	free(malloc(100));
	if (strcmp(v, "leak") == 0) {
		lose_one();
		clobber_stack();
		return 5;
	}
	if (strcmp(v, "clean") == 0)
		return 7;
	if (strcmp(v, "exit") == 0)
		leave(7);
	say("usage: exit_status leak|clean|exit\n");
	return 2;
}
