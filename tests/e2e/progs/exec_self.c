/*
 * exec_self: the first image leaks malloc(1000) from first_leak and then
 * execs itself with the argument "second"; the second image leaks malloc(5)
 * from second_leak and returns 0.
 *
 * Expect (exitcode=0): exactly one report for the pid (the first image
 * writes none at exec): its only program record is 5 bytes from
 * second_leak; nothing of 1000 bytes; exit 0.
 */
#include "common.h"

static NOINLINE void *first_leak(void)
{
	void *p = malloc(1000);
	ESCAPE(p);
	SINK();
	return p;
}

static NOINLINE void *second_leak(void)
{
	void *p = malloc(5);
	ESCAPE(p);
	SINK();
	return p;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "second") == 0) {
		second_leak();
		clobber_stack();
		return 0;
	}
	first_leak();
	char *args[] = {argv[0], "second", NULL};
	execv("/proc/self/exe", args);
	REQUIRE(!"execv failed");
	return 1;
}
