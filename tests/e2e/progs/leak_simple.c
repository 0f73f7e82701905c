/*
 * leak_simple: three malloc(32) blocks from the static function make_node
 * are never freed.
 *
 * Expect: definitely_lost 96 bytes in 3 blocks, one loss record (one call
 * site) with frame 0 make_node, frame 1 main, allocator "malloc";
 * allocations 3, frees 0, no errors; exit status 23 (default exitcode).
 * Also built with -O2 and with clang: frames must be the same.
 */
#include "common.h"

struct node {
	struct node *next;
	char payload[24];
};

static NOINLINE struct node *make_node(void)
{
	struct node *n = malloc(sizeof *n);

	if (n) {
		memset(n->payload, 0x5a, sizeof n->payload);
		n->next = NULL;
	}
	ESCAPE(n);
	return n;
}

static volatile int count = 3; /* no unrolling: one call site */

int main(void)
{
	for (int i = 0; i < count; i++) {
		make_node();
		SINK();
	}
	clobber_stack();
	return 0;
}
