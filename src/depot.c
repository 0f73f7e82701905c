/*
 * The stack depot: each distinct backtrace is stored once and named by a
 * 4-byte id, so a block carries an id rather than a copy of its frames.
 * Records are carved from one large reserved mapping and never freed; an id
 * is a record's offset in that mapping, in 8-byte units, so turning an id
 * back into frames needs no lock.
 *
 * Finding a stack is sharded by its hash. A shard is an open-addressed
 * array of (hash, id) pairs, 8 bytes each and at most half full, so a
 * lookup reads one or two lines of it and then the one record whose hash
 * matches. It was uthash, whose chains run through the records themselves:
 * cc1 (21,709 stacks, a lookup for each of its 1.7 M calls the memo does
 * not know) spent 10% of its time there, a cache miss per link.
 */
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#define REGION_BYTES ((size_t)1 << 30) /* address space reserved */
#define SHARD_BITS   6
#define SHARDS       (1 << SHARD_BITS)
#define FIRST_SLOTS  256
#define LONG_PROBE   64 /* a lookup this long means a bad hash */

struct slot {
	uint32_t hash;   /* the stack hash's low half */
	rcl_stack_id id; /* 0: empty */
};

struct depot_shard {
	pthread_mutex_t lock;
	struct slot *slots;
	uint32_t mask;    /* slots - 1 */
	uint32_t count;   /* slots in use */
	uint32_t longest; /* probes of the longest lookup */
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

static struct rcl_stack *carve(uint32_t depth, rcl_stack_id *id)
{
	size_t size = sizeof(struct rcl_stack) + depth * sizeof(uintptr_t);
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
	*id = (rcl_stack_id)(off / 8);
	return (struct rcl_stack *)(region + off);
}

static uint64_t hash_ips(const uintptr_t *ips, uint32_t depth)
{
	uint64_t h = 0xcbf29ce484222325ull ^ depth;

	for (uint32_t i = 0; i < depth; i++)
		h = (h ^ ips[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

/* Doubles a shard's slots (or makes its first), placing each anew. */
static bool grow(struct depot_shard *s)
{
	uint32_t n = s->slots ? (s->mask + 1) * 2 : FIRST_SLOTS;
	struct slot *slots = rcl_meta_alloc((size_t)n * sizeof(*slots));

	if (slots == NULL)
		return false;
	for (uint32_t i = 0; s->slots && i <= s->mask; i++) {
		uint32_t at = s->slots[i].hash & (n - 1);

		if (s->slots[i].id == 0)
			continue;
		while (slots[at].id != 0)
			at = (at + 1) & (n - 1);
		slots[at] = s->slots[i];
	}
	rcl_meta_free(s->slots, ((size_t)s->mask + 1) * sizeof(*slots));
	s->slots = slots;
	s->mask = n - 1;
	return true;
}

static bool same_stack(rcl_stack_id id, const uintptr_t *ips, uint32_t depth)
{
	const struct rcl_stack *st = rcl_depot_get(id);

	return st->depth == depth &&
	       memcmp(st->ips, ips, depth * sizeof(uintptr_t)) == 0;
}

/*
 * The caller holds the shard's lock. 0: no room for a new stack. When the
 * slots cannot grow (rcleak's memory ran out), the old ones fill up while
 * they last, and a stack already among them is still found: a slot is
 * always left empty, which ends every probe.
 */
static rcl_stack_id find_or_add(struct depot_shard *s, const uintptr_t *ips,
                                uint32_t depth, uint32_t hash)
{
	uint32_t at, probes = 1;
	struct rcl_stack *st;
	rcl_stack_id id;
	bool room = true;

	if ((s->slots == NULL || (s->count + 1) * 2 > s->mask + 1) &&
	    !grow(s)) {
		if (s->slots == NULL)
			return 0;
		room = s->count + 1 <= s->mask;
	}
	for (at = hash & s->mask; s->slots[at].id != 0;
	     at = (at + 1) & s->mask, probes++)
		if (s->slots[at].hash == hash &&
		    same_stack(s->slots[at].id, ips, depth))
			return s->slots[at].id;
	if (!room)
		return 0;
	st = carve(depth, &id);
	if (st == NULL)
		return 0;
	st->depth = depth;
	memcpy(st->ips, ips, depth * sizeof(uintptr_t));
	s->slots[at] = (struct slot){.hash = hash, .id = id};
	s->count++;
	if (probes > s->longest)
		s->longest = probes;
	atomic_fetch_add(&stacks, 1);
	return id;
}

rcl_stack_id rcl_depot_put(const uintptr_t *ips, uint32_t depth)
{
	uint64_t hash = hash_ips(ips, depth);
	/* The shard from the top bits, the slot from the low ones. */
	struct depot_shard *s = &shards[hash >> (64 - SHARD_BITS)];
	rcl_stack_id id;

	if (depth == 0)
		return 0;
	rcl_lock(&s->lock);
	id = find_or_add(s, ips, depth, (uint32_t)hash);
	rcl_unlock(&s->lock);
	return id;
}

const struct rcl_stack *rcl_depot_get(rcl_stack_id id)
{
	static const struct rcl_stack empty = {0};

	if (id == 0 || region == NULL)
		return &empty;
	return (const struct rcl_stack *)(region + (size_t)id * 8);
}

/* Distinct stacks stored, and the bytes their records take. */
void rcl_depot_usage(uint64_t *count, uint64_t *bytes)
{
	*count = atomic_load(&stacks);
	*bytes = atomic_load(&region_used);
}

/* True when some lookup probed so long that the hash must be bad. */
bool rcl_depot_degenerate(void)
{
	for (int i = 0; i < SHARDS; i++)
		if (shards[i].longest > LONG_PROBE)
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
