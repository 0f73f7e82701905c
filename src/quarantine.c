/*
 * Freed blocks wait here, poisoned, until the byte budget evicts them;
 * eviction re-checks the poison, which is how a write after free is seen.
 * Keeping them also keeps their addresses from being handed out again, so
 * a second free of the same pointer is recognised as a double free.
 */
#include "internal.h"

#define EVICT_BATCH 32

/*
 * What a quarantined block really holds: its bytes, its canary, the
 * allocator's chunk header and rcleak's record. Counting only the bytes
 * would let a quarantine of tiny blocks keep several times its budget.
 */
static size_t held(const struct rcl_block *b)
{
	return b->size + RCL_CANARY_SIZE + 16 + sizeof(*b);
}

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rcl_block *q_head, *q_tail; /* oldest first */
static size_t q_bytes;

void rcl_quarantine_push(struct rcl_block *b)
{
	size_t budget = (size_t)rcl_opt.quarantine_mb << 20;
	struct rcl_block *evicted[EVICT_BATCH];
	int n;

	RCL_ASSERT(b->state == RCL_FREED);
	b->qnext = NULL;
	pthread_mutex_lock(&q_lock);
	if (q_tail)
		q_tail->qnext = b;
	else
		q_head = b;
	q_tail = b;
	q_bytes += held(b);
	do {
		n = 0;
		while (q_bytes > budget && n < EVICT_BATCH && q_head) {
			struct rcl_block *old = q_head;

			q_head = old->qnext;
			if (q_head == NULL)
				q_tail = NULL;
			q_bytes -= held(old);
			evicted[n++] = old;
		}
		/* Checking and freeing happen outside the lock. */
		pthread_mutex_unlock(&q_lock);
		for (int i = 0; i < n; i++)
			rcl_heap_release(evicted[i]);
		if (n < EVICT_BATCH)
			return;
		pthread_mutex_lock(&q_lock);
	} while (1);
}

/*
 * Errors are raised outside the lock (raising may write a report), so
 * damaged blocks are marked and copied in batches; a marked block is
 * skipped by the next pass.
 */
void rcl_quarantine_check_all(void)
{
	struct rcl_error found[EVICT_BATCH];
	size_t offset;
	int n;

	do {
		n = 0;
		pthread_mutex_lock(&q_lock);
		for (struct rcl_block *b = q_head; b && n < EVICT_BATCH;
		     b = b->qnext) {
			if ((b->flags & RCL_DAMAGED) ||
			    rcl_heap_poison_ok(b, &offset))
				continue;
			b->flags |= RCL_DAMAGED;
			found[n++] =
			    (struct rcl_error){.kind = RCL_WRITE_AFTER_FREE,
			                       .alloc_kind = b->kind,
			                       .free_kind = RCL_FREE,
			                       .has_block = true,
			                       .address = b->addr,
			                       .size = b->size,
			                       .offset = offset,
			                       .alloc_stack = b->alloc_stack,
			                       .free_stack = b->free_stack};
		}
		pthread_mutex_unlock(&q_lock);
		for (int i = 0; i < n; i++)
			rcl_error_raise(&found[i]);
	} while (n == EVICT_BATCH);
}

void rcl_quarantine_lock(void)
{
	pthread_mutex_lock(&q_lock);
}

void rcl_quarantine_unlock(void)
{
	pthread_mutex_unlock(&q_lock);
}
