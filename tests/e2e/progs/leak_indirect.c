/*
 * leak_indirect: a linked list of 4 nodes (24 bytes each) built by push()
 * is dropped by build_and_drop() without freeing it.
 *
 * Expect: definitely_lost + indirectly_lost = 96 bytes in 4 blocks, of which
 * at least 1 block definitely lost (before reachability analysis all 4 are
 * definitely lost; after it, the head is definitely lost and the other 3
 * indirectly lost). Frame 0 push, frame 1 build_and_drop. No errors.
 */
#include "common.h"

struct node {
	struct node *next;
	long v[2];
};

static NOINLINE struct node *push(struct node *head, long v)
{
	struct node *n = malloc(sizeof *n);

	n->next = head;
	n->v[0] = v;
	n->v[1] = -v;
	SINK();
	return n;
}

static NOINLINE void build_and_drop(void)
{
	struct node *head = NULL;

	for (long i = 0; i < 4; i++)
		head = push(head, i);
	ESCAPE(head);
	SINK();
}

int main(void)
{
	build_and_drop();
	clobber_stack();
	return 0;
}
