/*
 * The live-block table: every block the program holds, and every block
 * waiting in the quarantine, keyed by address. It is split into shards by
 * address, each with its own lock, uthash table and record slab, so
 * threads that allocate at the same time rarely meet on a lock.
 */
#include <string.h>

#include "internal.h"

#define SHARDS     256
#define SLAB_BYTES (256 * 1024)

struct rcl_shard {
	pthread_mutex_t lock;
	struct rcl_block *map;       /* uthash head */
	struct rcl_block *free_recs; /* recycled records, linked by qnext */
	struct rcl_block *slab_cur, *slab_end;
	uint64_t allocs, frees; /* successful calls, for the summary */
} __attribute__((aligned(64)));

static struct rcl_shard shards[SHARDS] = {
    [0 ... SHARDS - 1] = {.lock = PTHREAD_MUTEX_INITIALIZER}};

/*
 * uthash hashes the key bytes with Jenkins by default; an address needs only
 * a multiply to spread its significant bits.
 */
#undef HASH_FUNCTION
#define HASH_FUNCTION(keyptr, keylen, hashv)                                   \
	do {                                                                   \
		uint64_t k_ = *(const uint64_t *)(keyptr);                     \
		(hashv) = (unsigned)((k_ * 0x9e3779b97f4a7c15ull) >> 32);      \
	} while (0)

/* Set by uthash when it could not allocate; read right after an add. */
static __thread bool add_failed __attribute__((tls_model("initial-exec")));
#undef uthash_nonfatal_oom
#define uthash_nonfatal_oom(obj) (add_failed = true)

struct rcl_shard *rcl_table_shard(uintptr_t addr)
{
	uint64_t h = (addr >> 4) * 0x9e3779b97f4a7c15ull;

	return &shards[h >> 56];
}

void rcl_table_lock(struct rcl_shard *s)
{
	pthread_mutex_lock(&s->lock);
}

void rcl_table_unlock(struct rcl_shard *s)
{
	pthread_mutex_unlock(&s->lock);
}

struct rcl_block *rcl_table_find(struct rcl_shard *s, uintptr_t addr)
{
	struct rcl_block *b;

	HASH_FIND(hh, s->map, &addr, sizeof(addr), b);
	return b;
}

static struct rcl_block *new_record(struct rcl_shard *s)
{
	struct rcl_block *b = s->free_recs;

	if (b) {
		s->free_recs = b->qnext;
		return b;
	}
	if (s->slab_cur == s->slab_end) {
		s->slab_cur = rcl_meta_alloc(SLAB_BYTES);
		if (s->slab_cur == NULL) {
			s->slab_end = NULL;
			return NULL;
		}
		s->slab_end = s->slab_cur + SLAB_BYTES / sizeof(*b);
	}
	return s->slab_cur++;
}

/* Caller holds the shard lock and fills in everything but the address. */
struct rcl_block *rcl_table_insert(struct rcl_shard *s, uintptr_t addr)
{
	struct rcl_block *b = new_record(s);

	if (b == NULL)
		return NULL;
	memset(b, 0, sizeof(*b));
	b->addr = addr;
	add_failed = false;
	HASH_ADD(hh, s->map, addr, sizeof(b->addr), b);
	if (RCL_UNLIKELY(add_failed)) {
		/* uthash could not grow its buckets: keep the record out. */
		rcl_meta_note_failure();
		b->qnext = s->free_recs;
		s->free_recs = b;
		return NULL;
	}
	return b;
}

void rcl_table_remove(struct rcl_shard *s, struct rcl_block *b)
{
	HASH_DELETE(hh, s->map, b);
	b->qnext = s->free_recs;
	s->free_recs = b;
}

void rcl_table_count(struct rcl_shard *s, int allocs, int frees)
{
	s->allocs += allocs;
	s->frees += frees;
}

/*
 * Calls fn for every block with every shard locked, so the report sees one
 * moment: a block freed in one shard and another allocated in a later one
 * are never both seen live. Threads that allocate wait meanwhile. The
 * totals of that same moment are returned.
 */
void rcl_table_foreach(void (*fn)(struct rcl_block *b, void *arg), void *arg,
                       uint64_t *allocs, uint64_t *frees)
{
	rcl_table_lock_all();
	rcl_table_visit(fn, arg, allocs, frees);
	rcl_table_unlock_all();
}

/* Records in the table (any state); every shard locked by the caller. */
size_t rcl_table_size(void)
{
	size_t n = 0;

	for (int i = 0; i < SHARDS; i++)
		n += HASH_COUNT(shards[i].map);
	return n;
}

/* As rcl_table_foreach, with every shard already locked by the caller. */
void rcl_table_visit(void (*fn)(struct rcl_block *b, void *arg), void *arg,
                     uint64_t *allocs, uint64_t *frees)
{
	struct rcl_block *b, *tmp;

	*allocs = *frees = 0;
	for (int i = 0; i < SHARDS; i++) {
		HASH_ITER(hh, shards[i].map, b, tmp) {
			fn(b, arg);
		}
		*allocs += shards[i].allocs;
		*frees += shards[i].frees;
	}
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
 * Finds the live or quarantined block whose bytes contain addr. It scans
 * every shard: only an invalid free, which is rare, asks.
 */
bool rcl_table_find_containing(uintptr_t addr, struct rcl_block *out)
{
	struct rcl_block *b, *tmp;
	bool found = false;

	for (int i = 0; i < SHARDS && !found; i++) {
		pthread_mutex_lock(&shards[i].lock);
		HASH_ITER(hh, shards[i].map, b, tmp) {
			if (b->state != RCL_INTERNAL && addr > b->addr &&
			    addr < b->addr + (b->size ? b->size : 1)) {
				*out = *b;
				found = true;
				break;
			}
		}
		pthread_mutex_unlock(&shards[i].lock);
	}
	return found;
}

void rcl_table_lock_all(void)
{
	for (int i = 0; i < SHARDS; i++)
		pthread_mutex_lock(&shards[i].lock);
}

void rcl_table_unlock_all(void)
{
	for (int i = 0; i < SHARDS; i++)
		pthread_mutex_unlock(&shards[i].lock);
}
