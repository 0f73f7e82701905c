/*
 * api_ignore VARIANT: make_ignored leaks malloc(40) on purpose and passes
 * it to rcleak_ignore().
 *   only   nothing else is leaked => still_reachable 40 bytes in 1 block,
 *          nothing lost, exit 0 with the default exitcode.
 *   both   make_lost also leaks malloc(8) => still_reachable 40/1,
 *          definitely_lost 8/1 (frame 0 make_lost), exit 23.
 * rcleak_ignore() returns 0 for the block and -1 for a stack address or a
 * pointer into the block. No errors either way. Also runs without the
 * library (weak symbols).
 */
#include "common.h"
#include "rcleak.h"

static NOINLINE void make_ignored(void)
{
	char *p = malloc(40);

	REQUIRE(p != NULL);
	memset(p, 4, 40);
	if (under_rcleak()) {
		char local[8];
		REQUIRE(rcleak_ignore(p) == 0);
		REQUIRE(rcleak_ignore(local) == -1); /* not a block */
		REQUIRE(rcleak_ignore(p + 1) == -1); /* not its start */
	}
	ESCAPE(p);
	SINK();
}

static NOINLINE void make_lost(void)
{
	void *p = malloc(8);

	ESCAPE(p);
	SINK();
}

int main(int argc, char **argv)
{
	const char *v = argc > 1 ? argv[1] : "";

	make_ignored();
	if (strcmp(v, "both") == 0)
		make_lost();
	else
		REQUIRE(strcmp(v, "only") == 0);
	clobber_stack();
	return 0;
}
