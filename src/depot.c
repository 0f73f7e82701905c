/*
 * The stack depot: each distinct backtrace is stored once and named by a
 * 4-byte id, so a block carries an id rather than a copy of its frames.
 * Records are carved from one large reserved mapping and never freed; an id
 * is a record's offset in that mapping, in 8-byte units, so turning an id
 * back into frames needs no lock. Lookups are sharded by stack hash.
 */
#include <stdatomic.h>
#include <sys/mman.h>

#include "internal.h"

#define REGION_BYTES ((size_t)1 << 30) /* address space reserved */
#define SHARDS       64

struct record {
	UT_hash_handle hh; /* keyed by the ips bytes */
	struct rcl_stack stack;
};

struct depot_shard {
	pthread_mutex_t lock;
	struct record *map;
} __attribute__((aligned(64)));

static struct depot_shard shards[SHARDS] = {
    [0 ... SHARDS - 1] = {.lock = PTHREAD_MUTEX_INITIALIZER}};
static char *region;
static atomic_size_t region_used = 8; /* offset 0 means "no stack" */
static atomic_size_t stacks;
static pthread_once_t region_once = PTHREAD_ONCE_INIT;

static void reserve(void)
{
	void *p =
	    rcl_sys_mmap(NULL, REGION_BYTES, PROT_READ | PROT_WRITE,
	                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		rcl_meta_note_failure();
	else
		region = p;
}

static struct record *carve(uint32_t depth)
{
	size_t size = sizeof(struct record) + depth * sizeof(uintptr_t);
	size_t off;

	size = (size + 7) & ~(size_t)7;
	pthread_once(&region_once, reserve);
	if (region == NULL)
		return NULL;
	off = atomic_fetch_add(&region_used, size);
	if (off + size > REGION_BYTES) {
		rcl_meta_note_failure();
		return NULL;
	}
	return (struct record *)(region + off);
}

static unsigned hash_ips(const uintptr_t *ips, uint32_t depth)
{
	uint64_t h = 0xcbf29ce484222325ull ^ depth;

	for (uint32_t i = 0; i < depth; i++)
		h = (h ^ ips[i]) * 0x100000001b3ull;
	return (unsigned)(h ^ (h >> 29));
}

rcl_stack_id rcl_depot_put(const uintptr_t *ips, uint32_t depth)
{
	unsigned hash = hash_ips(ips, depth);
	/*
	 * The shard from the top bits: uthash picks buckets from the low
	 * ones, which would all be equal within a shard, and then gives up
	 * expanding (every lookup a walk down one chain).
	 */
	struct depot_shard *s = &shards[(hash >> 24) % SHARDS];
	struct record *r;
	rcl_stack_id id = 0;

	if (depth == 0)
		return 0;
	rcl_lock(&s->lock);
	HASH_FIND_BYHASHVALUE(hh, s->map, ips, depth * sizeof(uintptr_t), hash,
	                      r);
	if (r == NULL) {
		r = carve(depth);
		if (r) {
			r->stack.depth = depth;
			__builtin_memcpy(r->stack.ips, ips,
			                 depth * sizeof(uintptr_t));
			HASH_ADD_KEYPTR_BYHASHVALUE(hh, s->map, r->stack.ips,
			                            depth * sizeof(uintptr_t),
			                            hash, r);
			if (r->hh.tbl == NULL)
				r = NULL; /* uthash out of memory */
			else
				atomic_fetch_add(&stacks, 1);
		}
	}
	if (r)
		id = (rcl_stack_id)(((char *)r - region) / 8);
	rcl_unlock(&s->lock);
	return id;
}

const struct rcl_stack *rcl_depot_get(rcl_stack_id id)
{
	static const struct rcl_stack empty = {0};

	if (id == 0 || region == NULL)
		return &empty;
	return &((struct record *)(region + (size_t)id * 8))->stack;
}

/* Distinct stacks stored, and the bytes their records take. */
void rcl_depot_usage(uint64_t *count, uint64_t *bytes)
{
	*count = atomic_load(&stacks);
	*bytes = atomic_load(&region_used);
}

/* True when uthash found a shard's hash so bad it stopped expanding. */
bool rcl_depot_degenerate(void)
{
	for (int i = 0; i < SHARDS; i++)
		if (shards[i].map && shards[i].map->hh.tbl->noexpand)
			return true;
	return false;
}

void rcl_depot_lock_all(void)
{
	for (int i = 0; i < SHARDS; i++)
		rcl_lock(&shards[i].lock);
}

void rcl_depot_unlock_all(void)
{
	for (int i = 0; i < SHARDS; i++)
		rcl_unlock(&shards[i].lock);
}
