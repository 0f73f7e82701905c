/*
 * What each interposed call does to a block: allocate it with a canary
 * after its last byte, record it with its stack, and on release check the
 * canary, catch double, invalid and mismatched frees, poison the bytes and
 * hand the block to the quarantine. The interposed names in interpose.c
 * only forward here.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static uint64_t canary_value(uintptr_t addr)
{
	return (addr * 0x9e3779b97f4a7c15ull) ^ 0xa5c3e1f0b4d29687ull;
}

static void write_canary(uintptr_t addr, size_t size)
{
	uint64_t v = canary_value(addr);

	memcpy((void *)(addr + size), &v, RCL_CANARY_SIZE);
}

bool rcl_heap_canary_ok(const struct rcl_block *b, size_t *offset)
{
	if (b->flags & RCL_NO_CANARY)
		return true;
	return rcl_heap_canary_at(b->addr, rcl_block_size(b), offset);
}

/* The canary after the size bytes at addr; false and *offset if damaged. */
bool rcl_heap_canary_at(uintptr_t addr, size_t size, size_t *offset)
{
	uint64_t want = canary_value(addr);
	const unsigned char *got = (const unsigned char *)(addr + size);

	if (memcmp(got, &want, RCL_CANARY_SIZE) == 0)
		return true;
	for (size_t i = 0; i < RCL_CANARY_SIZE; i++) {
		if (got[i] != ((const unsigned char *)&want)[i]) {
			*offset = i;
			break;
		}
	}
	return false;
}

/*
 * Poisoning is bounded per block: the memset at free and the check at
 * eviction read and write what the quarantine holds, and past what the
 * cache keeps that costs more than the allocation itself. Writes after
 * free land mostly near the start of a block (a reference count, a list
 * link, a vtable pointer).
 */
size_t rcl_heap_poison_len(size_t size)
{
	size_t max = (size_t)rcl_opt.poison_bytes;

	return size < max ? size : max;
}

/* What a poisoned stretch holds, for memcmp: vector compares, no loop here. */
#define POISON_CHUNK 512
static const unsigned char poisoned[POISON_CHUNK] = {
    [0 ... POISON_CHUNK - 1] = RCL_POISON_BYTE};

bool rcl_heap_poison_ok(const struct rcl_block *b, size_t *offset)
{
	const unsigned char *p = (const unsigned char *)b->addr;
	size_t n = rcl_heap_poison_len(rcl_block_size(b));

	for (size_t at = 0; at < n; at += POISON_CHUNK) {
		size_t len = n - at < POISON_CHUNK ? n - at : POISON_CHUNK;

		if (RCL_LIKELY(memcmp(p + at, poisoned, len) == 0))
			continue;
		for (size_t i = at;; i++) {
			if (p[i] != RCL_POISON_BYTE) {
				*offset = i;
				return false;
			}
		}
	}
	return true;
}

enum rcl_family rcl_family_of(enum rcl_alloc_kind kind)
{
	if (kind == RCL_NEW)
		return RCL_FAMILY_NEW;
	if (kind == RCL_NEW_ARRAY)
		return RCL_FAMILY_NEW_ARRAY;
	return RCL_FAMILY_MALLOC;
}

static enum rcl_family family_of_free(enum rcl_free_kind how)
{
	if (how == RCL_DELETE)
		return RCL_FAMILY_NEW;
	if (how == RCL_DELETE_ARRAY)
		return RCL_FAMILY_NEW_ARRAY;
	return RCL_FAMILY_MALLOC;
}

const char *rcl_alloc_name(enum rcl_alloc_kind kind)
{
	static const char *const names[RCL_ALLOC_KINDS] = {
	    "malloc",         "calloc",        "realloc",  "reallocarray",
	    "posix_memalign", "aligned_alloc", "memalign", "valloc",
	    "pvalloc",        "new",           "new[]"};

	return kind < RCL_ALLOC_KINDS ? names[kind] : "?";
}

const char *rcl_free_name(enum rcl_free_kind kind)
{
	static const char *const names[] = {"free", "delete", "delete[]",
	                                    "realloc"};

	return names[kind];
}

/*
 * Records a block made from inside rcleak: kept apart, never reported.
 * false: no room for the record (rcleak's own memory ran out).
 */
static bool track_internal(void *p, size_t size, uint8_t flags)
{
	struct rcl_shard *s = rcl_table_shard((uintptr_t)p);
	struct rcl_block *b;

	rcl_table_lock(s);
	b = rcl_table_insert(s, (uintptr_t)p);
	if (b) {
		rcl_block_set_size(b, size);
		b->flags = RCL_INTERNAL | RCL_NO_CANARY | flags;
	}
	rcl_table_unlock(s);
	return b != NULL;
}

/*
 * false: no room for the record. The caller then fails the allocation
 * rather than hand out a block whose free() would look invalid.
 */
static bool track(void *p, size_t size, enum rcl_alloc_kind kind,
                  rcl_stack_id stack)
{
	struct rcl_shard *s = rcl_table_shard((uintptr_t)p);
	struct rcl_block *b;

	write_canary((uintptr_t)p, size);
	rcl_table_lock(s);
	b = rcl_table_insert(s, (uintptr_t)p);
	if (b) {
		rcl_block_set_size(b, size);
		b->alloc_stack = stack;
		b->kind = (uint8_t)kind;
		b->flags = rcl_disabled ? RCL_IGNORED : 0;
		rcl_table_count(s, 1, 0);
	}
	rcl_table_unlock(s);
	return b != NULL;
}

/*
 * The next allocator runs under the guard: a replacement one (jemalloc, a
 * bump allocator preloaded after rcleak) maps its arenas with mmap, and
 * those must not become roots of the leak check (mmaps.c).
 */
static void *real_alloc(size_t size, size_t align, bool zero)
{
	size_t total = size + RCL_CANARY_SIZE;
	int saved = rcl_guard;
	void *p;

	if (total < size) {
		errno = ENOMEM;
		return NULL;
	}
	rcl_guard = RCL_GUARD_IN_NEXT;
	if (zero)
		p = rcl_real.calloc(1, total);
	else if (align)
		p = rcl_real.memalign(align, total);
	else
		p = rcl_real.malloc(total);
	rcl_guard = saved;
	return p;
}

static void next_free(void *p)
{
	int saved = rcl_guard;

	rcl_guard = RCL_GUARD_IN_NEXT;
	rcl_real.free(p);
	rcl_guard = saved;
}

/*
 * What libraries allocate while rcleak calls them (libdw, libunwind, the
 * loader) comes from rcleak's own memory, not the program's allocator: a
 * block the program just freed must not come back as rcleak's, or a
 * second free of it (a double free without the quarantine) would free
 * rcleak's memory instead of being reported. meta.c aligns to 16 bytes;
 * a larger alignment goes to the allocator.
 */
static void *internal_alloc(size_t size, size_t align, bool zero)
{
	void *p;

	if (rcl_reentry_unsafe())
		return rcl_reentry_alloc(size, align);
	if (align > 16 || size > ((size_t)1 << 40)) {
		p = real_alloc(size, align, zero);
		if (p && !track_internal(p, size, 0)) {
			next_free(p);
			errno = ENOMEM;
			return NULL;
		}
		return p;
	}
	p = rcl_meta_alloc(size ? size : 1); /* zeroed */
	if (p && !track_internal(p, size, RCL_OWN_MEMORY)) {
		rcl_meta_free(p, size ? size : 1);
		p = NULL;
	}
	if (p == NULL)
		errno = ENOMEM;
	return p;
}

static void internal_free(void *p, const struct rcl_block *b)
{
	size_t size = rcl_block_size(b);

	if (b->flags & RCL_OWN_MEMORY)
		rcl_meta_free(p, size ? size : 1);
	else
		next_free(p);
}

static void *alloc(size_t size, size_t align, bool zero,
                   enum rcl_alloc_kind kind)
{
	void *p;
	int saved_errno;

	if (!rcl_enter())
		return internal_alloc(size, align, zero);
	p = real_alloc(size, align, zero);
	if (p) {
		/*
		 * The canary's line, for writing, while the stack is taken:
		 * a store that misses there stalls the table lock's atomic
		 * after it (it was half of track()'s time with 4 threads).
		 */
		__builtin_prefetch((char *)p + size, 1);
		rcl_table_prefetch((uintptr_t)p);
		saved_errno = errno;
		if (!track(p, size, kind, rcl_stack_capture())) {
			next_free(p);
			p = NULL;
			saved_errno = ENOMEM;
		}
		errno = saved_errno;
	}
	rcl_leave();
	return p;
}

void *rcl_heap_alloc(size_t size, size_t align, enum rcl_alloc_kind kind)
{
	return alloc(size, align, false, kind);
}

void *rcl_heap_calloc(size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return alloc(total, 0, true, RCL_CALLOC);
}

static void block_error(enum rcl_error_kind kind, const struct rcl_block *b,
                        rcl_stack_id free_stack, enum rcl_free_kind how,
                        size_t offset, rcl_stack_id stack);

/*
 * A pointer the table does not hold: a block already freed and still in
 * the quarantine (a double free), or no block at all (an invalid free),
 * told with the block it points into when there is one.
 */
static RCL_NOINLINE void unknown_free(uintptr_t addr, enum rcl_free_kind how,
                                      rcl_stack_id stack)
{
	struct rcl_error e = {.kind = RCL_INVALID_FREE,
	                      .free_kind = (uint8_t)how,
	                      .address = addr,
	                      .stack = stack};
	struct rcl_freed inside = {0};

	/* After the last report every earlier block is unknown. */
	if (rcl_table_drained())
		return;
	if (rcl_quarantine_find(addr, false, &inside)) {
		block_error(RCL_DOUBLE_FREE, &inside.block, inside.free_stack,
		            how, 0, stack);
		return;
	}
	if (rcl_table_find_containing(addr, &inside.block) ||
	    rcl_quarantine_find(addr, true, &inside)) {
		e.has_block = true;
		e.size = rcl_block_size(&inside.block);
		e.offset = addr - inside.block.addr;
		e.alloc_kind = inside.block.kind;
		e.alloc_stack = inside.block.alloc_stack;
		e.free_stack = inside.free_stack;
	}
	rcl_error_raise(&e);
}

struct rcl_error rcl_block_error(enum rcl_error_kind kind,
                                 const struct rcl_block *b,
                                 rcl_stack_id free_stack,
                                 enum rcl_free_kind how, size_t offset,
                                 rcl_stack_id stack)
{
	return (struct rcl_error){.kind = (uint8_t)kind,
	                          .alloc_kind = b->kind,
	                          .free_kind = (uint8_t)how,
	                          .has_block = true,
	                          .address = b->addr,
	                          .size = rcl_block_size(b),
	                          .offset = offset,
	                          .stack = stack,
	                          .alloc_stack = b->alloc_stack,
	                          .free_stack = free_stack};
}

static void block_error(enum rcl_error_kind kind, const struct rcl_block *b,
                        rcl_stack_id free_stack, enum rcl_free_kind how,
                        size_t offset, rcl_stack_id stack)
{
	struct rcl_error e =
	    rcl_block_error(kind, b, free_stack, how, offset, stack);

	rcl_error_raise(&e);
}

static size_t quarantine_budget(void)
{
	return (size_t)rcl_opt.quarantine_mb << 20;
}

/*
 * The common release path of free, delete and a moving realloc. "traced"
 * is false when rcleak's own code is the caller: an unknown pointer is then
 * dropped quietly instead of being reported.
 */
static void release(void *p, enum rcl_free_kind how, rcl_stack_id stack,
                    bool traced)
{
	struct rcl_shard *s = rcl_table_shard((uintptr_t)p);
	struct rcl_block *b;
	struct rcl_freed copy;
	size_t overflow_at = 0, size;
	bool overflow, quarantined;

	rcl_table_lock(s);
	b = rcl_table_find(s, (uintptr_t)p);
	if (RCL_UNLIKELY(b == NULL)) {
		rcl_table_unlock(s);
		if (traced)
			unknown_free((uintptr_t)p, how, stack);
		return;
	}
	/* The loader and libc free what they allocated while rcleak ran. */
	if (b->flags & RCL_INTERNAL) {
		struct rcl_block rec = *b;

		rcl_table_remove(s, b);
		rcl_table_unlock(s);
		internal_free(p, &rec);
		return;
	}
	size = rcl_block_size(b);
	quarantined = size <= quarantine_budget() && quarantine_budget() != 0;
	/*
	 * A quarantined block's canary is checked when it leaves (or at the
	 * report), with its poison: there its line is prefetched, while here,
	 * past the end of what the program touched, it is a miss of its own.
	 */
	overflow = !quarantined && !rcl_heap_canary_ok(b, &overflow_at);
	if (overflow)
		b->flags |= RCL_DAMAGED;
	rcl_table_count(s, 0, 1);
	copy.block = *b;
	copy.free_stack = stack;
	rcl_table_remove(s, b);
	rcl_table_unlock(s);

	if (RCL_UNLIKELY(rcl_family_of(copy.block.kind) != family_of_free(how)))
		block_error(RCL_MISMATCHED_FREE, &copy.block, stack, how, 0,
		            stack);
	if (RCL_UNLIKELY(overflow))
		block_error(RCL_HEAP_OVERFLOW, &copy.block, stack, how,
		            overflow_at, stack);
	if (!quarantined) {
		next_free(p);
		return;
	}
	memset(p, RCL_POISON_BYTE, rcl_heap_poison_len(size));
	rcl_quarantine_push(&copy);
}

void rcl_heap_free(void *p, enum rcl_free_kind how)
{
	int saved_errno;

	if (p == NULL || rcl_boot_owns(p))
		return;
	saved_errno = errno;
	if (rcl_reentry_free(p)) {
		/* a block a signal handler got (reentry.c) */
	} else if (rcl_enter()) {
		/* Where the poison goes (its size is not known yet). */
		__builtin_prefetch(p, 1);
		rcl_table_prefetch((uintptr_t)p);
		release(p, how, rcl_stack_capture(), true);
		rcl_leave();
	} else if (rcl_reentry_unsafe()) {
		rcl_reentry_defer_free(p, how);
	} else {
		release(p, how, 0, false);
	}
	errno = saved_errno;
}

/* A free a signal handler made on top of rcleak, done afterwards. */
void rcl_heap_free_deferred(void *p, enum rcl_free_kind how)
{
	if (!rcl_enter())
		return;
	release(p, how, 0, false);
	rcl_guard = 0; /* not rcl_leave(): reentry.c is draining already */
}

/*
 * The quarantine lets go of a block: check its poison and free it. The
 * table no longer holds it, and nothing else frees a quarantined block.
 */
void rcl_heap_release(const struct rcl_freed *rec)
{
	struct rcl_error e;

	if (rcl_heap_freed_damaged(rec, &e))
		rcl_error_raise(&e);
	next_free((void *)rec->block.addr);
}

/*
 * A quarantined block, checked once: its canary (an overflow before the
 * free), then its poison (a write after it). false when intact.
 */
bool rcl_heap_freed_damaged(const struct rcl_freed *rec, struct rcl_error *e)
{
	const struct rcl_block *b = &rec->block;
	size_t offset = 0;

	if (b->flags & RCL_DAMAGED)
		return false;
	if (!rcl_heap_canary_ok(b, &offset))
		*e = rcl_block_error(RCL_HEAP_OVERFLOW, b, rec->free_stack,
		                     RCL_FREE, offset, rec->free_stack);
	else if (!rcl_heap_poison_ok(b, &offset))
		*e = rcl_block_error(RCL_WRITE_AFTER_FREE, b, rec->free_stack,
		                     RCL_FREE, offset, 0);
	else
		return false;
	return true;
}

/*
 * realloc from inside rcleak (a library it calls, under the guard): the new
 * block is internal like the old one.
 */
static void *realloc_internal(void *p, size_t size)
{
	struct rcl_shard *s = rcl_table_shard((uintptr_t)p);
	struct rcl_block *b;
	size_t old = 0;
	void *q;

	rcl_table_lock(s);
	b = rcl_table_find(s, (uintptr_t)p);
	if (b)
		old = rcl_block_size(b);
	rcl_table_unlock(s);
	if (b == NULL)
		return NULL;
	q = internal_alloc(size, 0, false);
	if (q == NULL)
		return NULL;
	memcpy(q, p, old < size ? old : size);
	release(p, RCL_REALLOC_FREE, 0, false);
	return q;
}

/* Grows or shrinks b in place when the real chunk already has room. */
static bool resize_in_place(struct rcl_block *b, size_t size,
                            enum rcl_alloc_kind kind, rcl_stack_id stack)
{
	if (rcl_real.usable_size == NULL ||
	    size + RCL_CANARY_SIZE < size ||
	    rcl_real.usable_size((void *)b->addr) < size + RCL_CANARY_SIZE)
		return false;
	rcl_block_set_size(b, size);
	b->kind = (uint8_t)kind;
	b->alloc_stack = stack;
	write_canary(b->addr, size);
	return true;
}

static void *realloc_traced(void *p, size_t size, enum rcl_alloc_kind kind)
{
	rcl_stack_id stack = rcl_stack_capture();
	struct rcl_shard *s = rcl_table_shard((uintptr_t)p);
	struct rcl_block *b;
	size_t overflow_at = 0, old;
	void *q;

	rcl_table_lock(s);
	b = rcl_table_find(s, (uintptr_t)p);
	if (RCL_UNLIKELY(b == NULL)) {
		rcl_table_unlock(s);
		unknown_free((uintptr_t)p, RCL_REALLOC_FREE, stack);
		errno = ENOMEM;
		return NULL;
	}
	old = rcl_block_size(b);
	if (!(b->flags & RCL_INTERNAL) &&
	    rcl_family_of(b->kind) == RCL_FAMILY_MALLOC &&
	    rcl_heap_canary_ok(b, &overflow_at) &&
	    resize_in_place(b, size, kind, stack)) {
		rcl_table_unlock(s);
		return p;
	}
	rcl_table_unlock(s);

	/* Move: a new block, then the old one goes the way of free(). */
	q = real_alloc(size, 0, false);
	if (q == NULL)
		return NULL; /* p stays live, errno from the allocator */
	if (!track(q, size, kind, stack)) {
		next_free(q);
		errno = ENOMEM;
		return NULL;
	}
	memcpy(q, p, old < size ? old : size);
	release(p, RCL_REALLOC_FREE, stack, true);
	return q;
}

/*
 * realloc from a signal handler on top of rcleak (reentry.c): the new
 * block comes from reentry.c and the old one is freed later. The old size
 * is the record's, unless the interrupted call holds the record's shard.
 */
static void *realloc_reentered(void *p, size_t size)
{
	struct rcl_shard *s = rcl_table_shard((uintptr_t)p);
	struct rcl_block *b;
	size_t old = 0;
	void *q;

	if (rcl_table_lock_unless_mine(s)) {
		b = rcl_table_find(s, (uintptr_t)p);
		if (b)
			old = rcl_block_size(b);
		rcl_table_unlock(s);
		if (b == NULL)
			return NULL; /* not a block: as realloc_internal */
	} else if (!rcl_meta_span(p, &old)) {
		/*
		 * The interrupted call holds p's shard. Copying up to the
		 * chunk's end is more than the block, never less; realloc
		 * leaves what follows the old size undefined anyway.
		 */
		if (rcl_real.usable_size == NULL) {
			errno = ENOMEM;
			return NULL;
		}
		old = rcl_real.usable_size(p);
	}
	q = rcl_reentry_alloc(size, 0);
	if (q == NULL)
		return NULL;
	memcpy(q, p, old < size ? old : size);
	rcl_reentry_defer_free(p, RCL_REALLOC_FREE);
	return q;
}

void *rcl_heap_realloc(void *p, size_t size, enum rcl_alloc_kind kind)
{
	int saved_errno = errno;
	size_t old;
	void *q;

	if (p == NULL)
		return rcl_heap_alloc(size, 0, kind);
	if (rcl_boot_owns(p)) {
		old = rcl_boot_size(p);
		q = rcl_heap_alloc(size, 0, kind);
		if (q)
			memcpy(q, p, old < size ? old : size);
		return q;
	}
	if (rcl_reentry_owns(p, &old)) {
		q = size ? rcl_heap_alloc(size, 0, kind) : NULL;
		if (q)
			memcpy(q, p, old < size ? old : size);
		if (q || size == 0)
			rcl_reentry_free(p);
		return q;
	}
	if (size == 0) { /* glibc: frees p and returns NULL */
		rcl_heap_free(p, RCL_REALLOC_FREE);
		return NULL;
	}
	if (!rcl_enter())
		return rcl_reentry_unsafe() ? realloc_reentered(p, size)
		                            : realloc_internal(p, size);
	q = realloc_traced(p, size, kind);
	rcl_leave();
	if (q)
		errno = saved_errno;
	return q;
}

size_t rcl_heap_usable_size(void *p)
{
	struct rcl_shard *s;
	struct rcl_block *b;
	size_t n = 0;

	if (p == NULL)
		return 0;
	if (rcl_boot_owns(p))
		return rcl_boot_size(p);
	if (rcl_reentry_owns(p, &n))
		return n;
	s = rcl_table_shard((uintptr_t)p);
	/* A signal handler on top of rcleak, which holds p's shard. */
	if (!rcl_table_lock_unless_mine(s))
		return 0;
	b = rcl_table_find(s, (uintptr_t)p);
	if (b)
		n = rcl_block_size(b);
	rcl_table_unlock(s);
	return n;
}
