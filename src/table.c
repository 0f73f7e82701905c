/*
 * The live-block table: every block the program holds (and rcleak's own,
 * marked internal), keyed by address; freed blocks wait in the quarantine,
 * which keeps their records. It is split into shards by address region,
 * each with its own lock, so threads that allocate at the same time
 * rarely meet on a lock.
 *
 * It is built for this one job, as LeakSanitizer keeps its per-chunk
 * metadata, because a general hash table costs more than the block it
 * describes: uthash's handle alone is 56 bytes. A shard keeps its records
 * (24 bytes each) in one array and chains them by 4-byte index from a
 * bucket array of 4-byte heads at one to two records per bucket, so a live
 * block costs 26 to 28 bytes. Both arrays grow by doubling in mappings of
 * their own: the record array by mremap, which may move it, so a record
 * pointer is good only while its shard is locked.
 */
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define SHARDS        64
#define SHARD_BITS    6
#define FIRST_RECORDS 1024 /* records mapped at first, per shard (24 KiB) */
#define FIRST_BUCKETS 512
#define MAX_RECORDS   ((uint32_t)1 << 31) /* indexes stay below 2^32 */

struct rcl_shard {
	rcl_mutex lock;
	struct rcl_block *recs; /* recs[0] unused: index 0 is "none" */
	uint32_t *heads;        /* bucket -> index of its first record */
	uint32_t mask;          /* buckets - 1 */
	uint32_t count;         /* records in the table */
	uint32_t used;          /* records ever handed out, recs[1..used] */
	uint32_t cap;           /* records mapped */
	uint32_t free_head;     /* removed records, chained by next */
	uint64_t allocs, frees; /* successful calls, for the summary */
} __attribute__((aligned(64)));

static struct rcl_shard shards[SHARDS] = {
    [0 ... SHARDS - 1] = {.lock = RCL_MUTEX_INIT}};

/* Blocks are at least 16-byte aligned: the low bits carry nothing. */
static uint64_t hash_addr(uintptr_t addr)
{
	return (uint64_t)(addr >> 4) * 0x9e3779b97f4a7c15ull;
}

static uint32_t *bucket_of(const struct rcl_shard *s, uintptr_t addr)
{
	return &s->heads[(uint32_t)(hash_addr(addr) >> 32) & s->mask];
}

/*
 * The shard by 64 MiB region: glibc gives each thread an arena of its own
 * (64 MiB heaps, up to 8 per core), so threads that allocate at once
 * mostly use different shards, and their locks and records stay in their
 * own core's cache instead of moving between cores on every call.
 */
#define REGION_SHIFT 26

struct rcl_shard *rcl_table_shard(uintptr_t addr)
{
	uint64_t region = (uint64_t)(addr >> REGION_SHIFT);

	return &shards[(region * 0x9e3779b97f4a7c15ull) >> (64 - SHARD_BITS)];
}

/*
 * A hint, taken before the stack is captured, so that the lookup after it
 * finds the bucket head in the cache: one of its two misses hidden. It
 * reads the shard without its lock, which is harmless for a prefetch: the
 * fields are written atomically, and a stale answer only brings in a
 * wrong line (prefetching the record the head names as well measured no
 * better).
 */
void rcl_table_prefetch(uintptr_t addr)
{
	struct rcl_shard *s = rcl_table_shard(addr);
	uint32_t *heads = __atomic_load_n(&s->heads, __ATOMIC_RELAXED);
	uint32_t mask = __atomic_load_n(&s->mask, __ATOMIC_RELAXED);

	if (heads)
		__builtin_prefetch(
		    &heads[(uint32_t)(hash_addr(addr) >> 32) & mask]);
}

/* The shards this thread holds or is taking, one bit each. */
_Static_assert(SHARDS <= 64, "one bit a shard");
static __thread uint64_t shards_mine __attribute__((tls_model("initial-exec")));

static uint64_t shard_bit(const struct rcl_shard *s)
{
	return (uint64_t)1 << (s - shards);
}

void rcl_table_lock(struct rcl_shard *s)
{
	shards_mine |= shard_bit(s);
	rcl_mutex_lock(&s->lock);
}

void rcl_table_unlock(struct rcl_shard *s)
{
	rcl_mutex_unlock(&s->lock);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	shards_mine &= ~shard_bit(s);
}

/* For a signal handler on top of rcleak: false if this thread holds it. */
bool rcl_table_lock_unless_mine(struct rcl_shard *s)
{
	if (shards_mine & shard_bit(s))
		return false;
	rcl_table_lock(s);
	return true;
}

struct rcl_block *rcl_table_find(struct rcl_shard *s, uintptr_t addr)
{
	if (s->heads == NULL)
		return NULL;
	for (uint32_t i = *bucket_of(s, addr); i; i = s->recs[i].next)
		if (s->recs[i].addr == addr)
			return &s->recs[i];
	return NULL;
}

/* Doubles the bucket array and relinks every record into it. */
static bool grow_buckets(struct rcl_shard *s)
{
	uint32_t n = s->heads ? (s->mask + 1) * 2 : FIRST_BUCKETS;
	uint32_t *old = s->heads, old_n = s->heads ? s->mask + 1 : 0;
	uint32_t *heads = rcl_meta_alloc((size_t)n * sizeof(*heads));

	if (heads == NULL)
		return false;
	/* Atomic for rcl_table_prefetch, which reads them unlocked. */
	__atomic_store_n(&s->heads, heads, __ATOMIC_RELAXED);
	__atomic_store_n(&s->mask, n - 1, __ATOMIC_RELAXED);
	for (uint32_t i = 1; i <= s->used; i++) {
		struct rcl_block *b = &s->recs[i];

		if (b->addr == 0)
			continue;
		uint32_t *head = bucket_of(s, b->addr);

		b->next = *head;
		*head = i;
	}
	rcl_meta_free(old, (size_t)old_n * sizeof(*old));
	return true;
}

/* Pages of the array past `used` are never touched, so never resident. */
static bool grow_records(struct rcl_shard *s)
{
	uint32_t n = s->cap ? s->cap * 2 : FIRST_RECORDS;
	size_t old_bytes = (size_t)s->cap * sizeof(struct rcl_block);
	size_t bytes = (size_t)n * sizeof(struct rcl_block);
	void *p;

	if (n > MAX_RECORDS) {
		rcl_meta_note_failure();
		return false;
	}
	if (s->recs == NULL) {
		/* Mapped here, not by meta.c: mremap moves it. */
		p = rcl_sys_mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			rcl_meta_note_failure();
			p = NULL;
		}
	} else {
		p = (void *)syscall(SYS_mremap, s->recs, old_bytes, bytes,
		                    MREMAP_MAYMOVE);
		if (p == MAP_FAILED) {
			rcl_meta_note_failure();
			p = NULL;
		}
	}
	if (p == NULL)
		return false;
	s->recs = p;
	s->cap = n;
	return true;
}

static uint32_t new_record(struct rcl_shard *s)
{
	uint32_t i = s->free_head;

	if (i) {
		s->free_head = s->recs[i].next;
		return i;
	}
	if (s->used + 1 >= s->cap && !grow_records(s))
		return 0;
	return ++s->used;
}

/* Caller holds the shard lock and fills in everything but the address. */
struct rcl_block *rcl_table_insert(struct rcl_shard *s, uintptr_t addr)
{
	uint32_t i, *head;
	struct rcl_block *b;

	if ((s->heads == NULL || s->count >= 2 * (s->mask + 1)) &&
	    !grow_buckets(s) && s->heads == NULL)
		return NULL; /* with old buckets, chains just get longer */
	i = new_record(s);
	if (i == 0)
		return NULL;
	b = &s->recs[i];
	head = bucket_of(s, addr);
	memset(b, 0, sizeof(*b));
	b->addr = addr;
	b->next = *head;
	*head = i;
	s->count++;
	return b;
}

void rcl_table_remove(struct rcl_shard *s, struct rcl_block *b)
{
	uint32_t i = (uint32_t)(b - s->recs);
	uint32_t *link = bucket_of(s, b->addr);

	while (*link != i)
		link = &s->recs[*link].next;
	*link = b->next;
	b->addr = 0;
	b->next = s->free_head;
	s->free_head = i;
	s->count--;
}

void rcl_table_count(struct rcl_shard *s, int allocs, int frees)
{
	s->allocs += allocs;
	s->frees += frees;
}

/* Records in the table (any state); every shard locked by the caller. */
size_t rcl_table_size(void)
{
	size_t n = 0;

	for (int i = 0; i < SHARDS; i++)
		n += shards[i].count;
	return n;
}

/*
 * Resident bytes of the table: the records up to each shard's high-water
 * mark and the bucket heads. Every shard locked by the caller.
 */
size_t rcl_table_bytes(void)
{
	size_t n = 0;

	for (int i = 0; i < SHARDS; i++) {
		const struct rcl_shard *s = &shards[i];

		n += (size_t)(s->used + 1) * sizeof(struct rcl_block);
		if (s->heads)
			n += (size_t)(s->mask + 1) * sizeof(uint32_t);
	}
	return n;
}

static void visit_shard(struct rcl_shard *s,
                        void (*fn)(struct rcl_block *b, void *arg), void *arg)
{
	for (uint32_t i = 1; i <= s->used; i++)
		if (s->recs[i].addr != 0)
			fn(&s->recs[i], arg);
}

/*
 * Calls fn for every block with every shard already locked by the caller,
 * so the report sees one moment: a block freed in one shard and another
 * allocated in a later one are never both seen live. The totals of that
 * same moment are returned.
 */
void rcl_table_visit(void (*fn)(struct rcl_block *b, void *arg), void *arg,
                     uint64_t *allocs, uint64_t *frees)
{
	*allocs = *frees = 0;
	for (int i = 0; i < SHARDS; i++) {
		visit_shard(&shards[i], fn, arg);
		*allocs += shards[i].allocs;
		*frees += shards[i].frees;
	}
}

static atomic_bool drained;

/* Gives back the records before `upto` (page-aligned, not yet given). */
static void give_back(struct rcl_shard *s, size_t *given, size_t upto)
{
	upto &= ~(size_t)4095;
	if (upto > *given) {
		madvise((char *)s->recs + *given, upto - *given, MADV_DONTNEED);
		*given = upto;
	}
}

static void empty_shard(struct rcl_shard *s)
{
	uint32_t *heads = s->heads;
	size_t nheads = heads ? (size_t)s->mask + 1 : 0;

	/* rcl_table_prefetch reads heads unlocked: NULL before it goes. */
	__atomic_store_n(&s->heads, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&s->mask, 0, __ATOMIC_RELAXED);
	rcl_meta_free(heads, nheads * sizeof(*heads));
	if (s->recs)
		rcl_sys_munmap(s->recs, (size_t)s->cap * sizeof(*s->recs));
	s->recs = NULL;
	s->count = s->used = s->cap = s->free_head = 0;
}

/*
 * The snapshot of a process's last report would otherwise come on top of
 * the whole table (tree: 54 MB of table, 48 MB of snapshot). Every shard
 * is locked by the caller, and it has one thread left.
 */
void rcl_table_drain(void (*fn)(struct rcl_block *b, void *arg), void *arg,
                     uint64_t *allocs, uint64_t *frees)
{
	*allocs = *frees = 0;
	atomic_store(&drained, true);
	for (int i = 0; i < SHARDS; i++) {
		struct rcl_shard *s = &shards[i];
		size_t given = 0;

		for (uint32_t r = 1; r <= s->used; r++) {
			if (s->recs[r].addr != 0)
				fn(&s->recs[r], arg);
			if (r % 16384 == 0)
				give_back(s, &given, r * sizeof(*s->recs));
		}
		empty_shard(s);
		*allocs += s->allocs;
		*frees += s->frees;
	}
}

bool rcl_table_drained(void)
{
	return atomic_load_explicit(&drained, memory_order_relaxed);
}

void rcl_table_totals(uint64_t *allocs, uint64_t *frees)
{
	rcl_table_lock_all();
	*allocs = *frees = 0;
	for (int i = 0; i < SHARDS; i++) {
		*allocs += shards[i].allocs;
		*frees += shards[i].frees;
	}
	rcl_table_unlock_all();
}

/*
 * Calls fn on every block of one shard at a time, that shard locked, until
 * fn returns false; a pass that must not stop the whole table at once.
 */
void rcl_table_walk(bool (*fn)(struct rcl_block *b, void *arg), void *arg)
{
	for (int i = 0; i < SHARDS; i++) {
		struct rcl_shard *s = &shards[i];
		bool more = true;

		rcl_table_lock(s);
		for (uint32_t r = 1; r <= s->used && more; r++)
			if (s->recs[r].addr != 0)
				more = fn(&s->recs[r], arg);
		rcl_table_unlock(s);
		if (!more)
			return;
	}
}

struct containing {
	uintptr_t addr;
	struct rcl_block *out;
	bool found;
};

static bool contains(struct rcl_block *b, void *arg)
{
	struct containing *c = arg;

	size_t size = rcl_block_size(b);

	if (!(b->flags & RCL_INTERNAL) && c->addr > b->addr &&
	    c->addr < b->addr + (size ? size : 1)) {
		*c->out = *b;
		c->found = true;
	}
	return !c->found;
}

/*
 * Finds the live or quarantined block whose bytes contain addr. It scans
 * every shard: only an invalid free, which is rare, asks.
 */
bool rcl_table_find_containing(uintptr_t addr, struct rcl_block *out)
{
	struct containing c = {.addr = addr, .out = out};

	rcl_table_walk(contains, &c);
	return c.found;
}

void rcl_table_lock_all(void)
{
	for (int i = 0; i < SHARDS; i++)
		rcl_table_lock(&shards[i]);
}

void rcl_table_unlock_all(void)
{
	for (int i = 0; i < SHARDS; i++)
		rcl_table_unlock(&shards[i]);
}
