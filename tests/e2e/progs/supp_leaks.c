/*
 * supp_leaks [check]: leaks from three call sites, for the suppression
 * cases: make_node 3 x malloc(24) = 72 bytes, make_buffer 1 x malloc(100),
 * cache_entry_new 2 x calloc(1, 16) = 32 bytes. Each pointer is dropped
 * as soon as it is made, so no block is referenced from anywhere. With
 * "check", rcleak_check() runs after the leaks, before the exit report.
 * Prints "done" last.
 *
 * Expect without suppressions: definitely lost 204 bytes in 6 blocks in
 * three loss records (frame 0 make_node, make_buffer, cache_entry_new,
 * frame 1 main); no errors; exit status 23. A suppression moves exactly
 * its records' bytes and blocks to "suppressed"; with all three
 * suppressed the exit status is 0.
 */
#include "common.h"

static NOINLINE void make_node(void)
{
	char *p = malloc(24);

	REQUIRE(p != NULL);
	memset(p, 1, 24);
	ESCAPE(p);
	p = NULL;
	SINK();
}

static NOINLINE void make_buffer(void)
{
	char *p = malloc(100);

	REQUIRE(p != NULL);
	memset(p, 2, 100);
	ESCAPE(p);
	p = NULL;
	SINK();
}

static NOINLINE void cache_entry_new(void)
{
	char *p = calloc(1, 16);

	REQUIRE(p != NULL);
	ESCAPE(p);
	p = NULL;
	SINK();
}

static volatile int three = 3, two = 2; /* one call site each */

int main(int argc, char **argv)
{
	for (int i = 0; i < three; i++) {
		make_node();
		SINK();
	}
	make_buffer();
	SINK();
	for (int i = 0; i < two; i++) {
		cache_entry_new();
		SINK();
	}
	clobber_stack();
	if (argc > 1 && strcmp(argv[1], "check") == 0 && under_rcleak())
		rcleak_check();
	say("done\n");
	return 0;
}
