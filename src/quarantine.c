/*
 * Freed blocks wait here, poisoned, until the byte budget evicts them;
 * eviction re-checks the poison, which is how a write after free is seen.
 * Keeping them also keeps their addresses from being handed out again, so
 * a second free of the same pointer is recognised as a double free.
 *
 * A freed block leaves the live-block table and its record comes here, so
 * the table stays as small as the program's live set: tens of megabytes of
 * quarantine in a hash table made every lookup a cache miss. The records
 * sit in batches of BATCH, written and read in order. Each thread fills a
 * batch of its own and adds the whole batch to its own FIFO at once, so
 * the lock is taken once per BATCH frees. Each thread keeps its share of
 * the budget and evicts its own oldest blocks: with one shared FIFO a
 * thread freed the blocks of others, into their glibc arenas and from
 * their cores' caches (4 threads: 8.7x native against 5.3x for one). A
 * thread's FIFO outlives it among the orphans, evicted first. Finding one
 * address here (a double free, which is an error and rare) is a walk over
 * all of them.
 */
#include <stdatomic.h>

#include "internal.h"

#define BATCH       63           /* a batch is 2 KiB */
#define BATCH_BYTES (256 * 1024) /* a thread holds no more than this */

struct batch {
	struct batch *next;
	size_t bytes;       /* what its blocks hold, by held() */
	_Atomic uint32_t n; /* records [0, n) are complete */
	struct rcl_freed rec[BATCH];
};

struct fifo {
	struct batch *head, *tail; /* oldest first */
	size_t bytes;
};

/*
 * A thread's batch being filled, where other threads can find it (with
 * q_lock held): only its owner writes it, and only past n. Then its
 * published batches, under q_lock.
 */
struct holder {
	struct batch *_Atomic cur;
	struct fifo fifo;
	struct holder *next;
	_Atomic bool in_use;
};

/*
 * What a quarantined block really holds: its bytes, its canary, the
 * allocator's chunk header and rcleak's record. Counting only the bytes
 * would let a quarantine of tiny blocks keep several times its budget.
 */
static size_t held(size_t size)
{
	return size + RCL_CANARY_SIZE + 16 + sizeof(struct rcl_freed);
}

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fifo orphans;    /* of threads that ended */
static struct batch *spare;    /* emptied batches, for reuse */
static struct holder *holders; /* every thread's, never freed */
static size_t q_bytes;         /* in every FIFO */
static size_t active;          /* holders in use */

static __thread struct holder *mine __attribute__((tls_model("initial-exec")));
/* Set once the thread's exit flushed its batch: nothing would flush again. */
static __thread bool flushed __attribute__((tls_model("initial-exec")));

#define PREFETCH_AHEAD 6
#define RECORDS_AHEAD  (2 * PREFETCH_AHEAD)

/*
 * The memory of a block about to be released: the poisoned start (every
 * line the check reads), where glibc's free also reads the chunk header,
 * and the next chunk's header, which it reads to merge free neighbours.
 */
static void prefetch_block(const struct rcl_freed *rec)
{
	const char *p = (const char *)rec->block.addr;
	size_t size = rcl_block_size(&rec->block);
	size_t poisoned = rcl_heap_poison_len(size);

	for (size_t off = 0; off < poisoned + 16; off += 64)
		__builtin_prefetch(p - 16 + off);
	__builtin_prefetch(p + size + RCL_CANARY_SIZE);
}

/*
 * Frees what an evicted batch holds, checking the poison first. The
 * blocks, and the batch's own records, left the cache long ago: their
 * misses are overlapped by prefetching a few blocks ahead (the records
 * further ahead, as the blocks' prefetch reads them), instead of taken
 * one after the other.
 */
static void release_all(struct batch *b)
{
	uint32_t n = atomic_load_explicit(&b->n, memory_order_relaxed);

	for (uint32_t i = 0; i < n && i < RECORDS_AHEAD; i++)
		__builtin_prefetch(&b->rec[i]);
	for (uint32_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
		prefetch_block(&b->rec[i]);
	for (uint32_t i = 0; i < n; i++) {
		if (i + RECORDS_AHEAD < n)
			__builtin_prefetch(&b->rec[i + RECORDS_AHEAD]);
		if (i + PREFETCH_AHEAD < n)
			prefetch_block(&b->rec[i + PREFETCH_AHEAD]);
		rcl_heap_release(&b->rec[i]);
	}
}

static void fifo_push(struct fifo *f, struct batch *b)
{
	b->next = NULL;
	if (f->tail)
		f->tail->next = b;
	else
		f->head = b;
	f->tail = b;
	f->bytes += b->bytes;
}

static struct batch *fifo_pop(struct fifo *f)
{
	struct batch *b = f->head;

	f->head = b->next;
	if (f->head == NULL)
		f->tail = NULL;
	f->bytes -= b->bytes;
	b->next = NULL;
	return b;
}

/* q_lock held: moves the oldest batches of f to *out while over limit. */
static void evict_over(struct fifo *f, size_t limit, struct batch ***out)
{
	while (f->bytes > limit && f->head) {
		struct batch *old = fifo_pop(f);

		q_bytes -= old->bytes;
		**out = old;
		*out = &old->next;
	}
}

/*
 * Adds the calling thread's full batch b to its FIFO and evicts what is
 * over budget: the orphans first, then the thread's own oldest blocks
 * past its share.
 */
static void publish(struct batch *b)
{
	size_t budget = (size_t)rcl_opt.quarantine_mb << 20;
	struct batch *evicted = NULL, **tail = &evicted;
	size_t over;

	rcl_lock(&q_lock);
	/* A signal handler's free may have started the next one already. */
	if (atomic_load_explicit(&mine->cur, memory_order_relaxed) == b)
		atomic_store_explicit(&mine->cur, NULL, memory_order_relaxed);
	fifo_push(&mine->fifo, b);
	q_bytes += b->bytes;
	over = q_bytes > budget ? q_bytes - budget : 0;
	evict_over(&orphans, orphans.bytes > over ? orphans.bytes - over : 0,
	           &tail);
	evict_over(&mine->fifo, budget / (active ? active : 1), &tail);
	rcl_unlock(&q_lock);

	/* Checking and freeing happen outside the lock. */
	while (evicted) {
		struct batch *next = evicted->next;

		release_all(evicted);
		rcl_lock(&q_lock);
		evicted->next = spare;
		spare = evicted;
		rcl_unlock(&q_lock);
		evicted = next;
	}
}

/* The calling thread's holder: a free one, or a new one. */
static struct holder *take_holder(void)
{
	struct holder *h;

	rcl_lock(&q_lock);
	for (h = holders; h; h = h->next)
		if (!atomic_load(&h->in_use))
			break;
	if (h == NULL) {
		h = rcl_meta_alloc(sizeof(*h));
		if (h) {
			h->next = holders;
			holders = h;
		}
	}
	if (h) {
		atomic_store(&h->in_use, true);
		active++;
	}
	rcl_unlock(&q_lock);
	return h;
}

/* A batch for the calling thread, published in its holder. */
static struct batch *new_batch(void)
{
	struct batch *b;

	if (mine == NULL && (mine = take_holder()) == NULL)
		return NULL;
	rcl_lock(&q_lock);
	b = spare;
	if (b)
		spare = b->next;
	rcl_unlock(&q_lock);
	if (b == NULL)
		b = rcl_meta_alloc(sizeof(*b));
	if (b) {
		atomic_store_explicit(&b->n, 0, memory_order_relaxed);
		b->bytes = 0;
		atomic_store_explicit(&mine->cur, b, memory_order_release);
	}
	return b;
}

static bool is_full(const struct batch *b)
{
	return atomic_load_explicit(&b->n, memory_order_relaxed) == BATCH ||
	       b->bytes >= BATCH_BYTES;
}

/*
 * Takes a copy of the freed block's record and its free stack. The
 * thread's batch is changed without a lock: held as one (rcl_hold), so
 * that a signal handler's free on top of this waits (reentry.c).
 */
void rcl_quarantine_push(const struct rcl_freed *rec)
{
	struct batch *b;
	uint32_t n;
	bool full;

	rcl_hold();
	b = mine ? atomic_load_explicit(&mine->cur, memory_order_relaxed)
	         : NULL;
	if (b && is_full(b)) /* a handler interrupted its publishing */
		b = NULL;
	if (RCL_UNLIKELY(flushed) || (b == NULL && (b = new_batch()) == NULL)) {
		rcl_unhold();
		rcl_heap_release(rec); /* no batch to hold it: let it go now */
		return;
	}
	n = atomic_load_explicit(&b->n, memory_order_relaxed);
	b->rec[n] = *rec;
	b->bytes += held(rcl_block_size(&rec->block));
	atomic_store_explicit(&b->n, n + 1, memory_order_release);
	full = is_full(b);
	rcl_unhold();
	if (full)
		publish(b);
}

/* At thread exit: what the thread still holds joins the orphans. */
void rcl_quarantine_flush(void)
{
	struct batch *b = mine ? atomic_load(&mine->cur) : NULL;

	flushed = true;
	if (mine == NULL)
		return;
	if (b)
		publish(b);
	rcl_lock(&q_lock);
	while (mine->fifo.head)
		fifo_push(&orphans, fifo_pop(&mine->fifo));
	atomic_store(&mine->in_use, false);
	active--;
	rcl_unlock(&q_lock);
	mine = NULL;
}

/*
 * Calls fn on every quarantined record, q_lock held, until it returns
 * false: the queue's batches, then those the threads are filling.
 */
static bool walk_batch(struct batch *b,
                       bool (*fn)(struct rcl_freed *rec, void *arg),
                       void *arg)
{
	uint32_t n = b ? atomic_load_explicit(&b->n, memory_order_acquire) : 0;

	for (uint32_t i = 0; i < n; i++)
		if (!fn(&b->rec[i], arg))
			return false;
	return true;
}

static bool walk_fifo(const struct fifo *f,
                      bool (*fn)(struct rcl_freed *rec, void *arg), void *arg)
{
	for (struct batch *b = f->head; b; b = b->next)
		if (!walk_batch(b, fn, arg))
			return false;
	return true;
}

static void walk(bool (*fn)(struct rcl_freed *rec, void *arg), void *arg)
{
	if (!walk_fifo(&orphans, fn, arg))
		return;
	for (struct holder *h = holders; h; h = h->next)
		if (!walk_fifo(&h->fifo, fn, arg) ||
		    !walk_batch(atomic_load_explicit(&h->cur,
		                                     memory_order_acquire),
		                fn, arg))
			return;
}

struct lookup {
	uintptr_t addr;
	bool containing; /* any byte of the block, not just its start */
	struct rcl_freed *out;
	bool found;
};

static bool match(struct rcl_freed *rec, void *arg)
{
	struct lookup *l = arg;
	uintptr_t start = rec->block.addr;
	size_t size = rcl_block_size(&rec->block);
	uintptr_t end = start + (size ? size : 1);

	if (l->containing ? l->addr > start && l->addr < end
	                  : l->addr == start) {
		*l->out = *rec;
		l->found = true;
	}
	return !l->found;
}

bool rcl_quarantine_find(uintptr_t addr, bool containing,
                         struct rcl_freed *out)
{
	struct lookup l = {.addr = addr, .containing = containing, .out = out};

	rcl_lock(&q_lock);
	walk(match, &l);
	rcl_unlock(&q_lock);
	return l.found;
}

size_t rcl_quarantine_bytes(void)
{
	size_t n;

	rcl_lock(&q_lock);
	n = q_bytes;
	rcl_unlock(&q_lock);
	return n;
}

/*
 * Errors are raised with no lock held (raising may write a report), so
 * damaged blocks are marked and copied in groups, and a marked block is
 * skipped by the next pass.
 */
#define CHECK_GROUP 32

struct check {
	struct rcl_error found[CHECK_GROUP];
	int n;
};

static bool check_one(struct rcl_freed *rec, void *arg)
{
	struct check *c = arg;

	if (!rcl_heap_freed_damaged(rec, &c->found[c->n]))
		return true;
	rec->block.flags |= RCL_DAMAGED;
	return ++c->n < CHECK_GROUP;
}

void rcl_quarantine_check_all(void)
{
	struct check c;

	do {
		c.n = 0;
		rcl_lock(&q_lock);
		walk(check_one, &c);
		rcl_unlock(&q_lock);
		for (int i = 0; i < c.n; i++)
			rcl_error_raise(&c.found[i]);
	} while (c.n == CHECK_GROUP);
}

void rcl_quarantine_lock(void)
{
	rcl_lock(&q_lock);
}

void rcl_quarantine_unlock(void)
{
	rcl_unlock(&q_lock);
}
