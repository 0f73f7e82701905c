/* The sharded block table: insert, find, remove, iterate, interior search. */
#include "internal.h"
#include "unit.h"

/* The exit report of these binaries is not what they test. */
static void unit_setup(void)
{
	rcl_opt.log_path = (char *)"/dev/null";
	rcl_opt.exitcode = 0;
}

static void count_live(struct rcl_block *b, void *arg)
{
	if (!(b->flags & RCL_INTERNAL) && b->addr >= 0x10000000 &&
	    b->addr < 0x20000000)
		++*(long *)arg;
}

static uint64_t allocs, frees;

static void visit_all(void (*fn)(struct rcl_block *b, void *arg), void *arg)
{
	rcl_table_lock_all();
	rcl_table_visit(fn, arg, &allocs, &frees);
	rcl_table_unlock_all();
}

static void insert_find_remove(void)
{
	const uintptr_t base = 0x10000000;
	long live = 0;

	for (uintptr_t i = 0; i < 100000; i++) {
		struct rcl_shard *s = rcl_table_shard(base + i * 32);
		struct rcl_block *b;

		rcl_table_lock(s);
		b = rcl_table_insert(s, base + i * 32);
		CHECK(b != NULL);
		rcl_block_set_size(b, 16);
		rcl_table_unlock(s);
	}
	visit_all(count_live, &live);
	CHECK_EQ(live, 100000);
	/* Issue 4's target is 40 bytes of table per live block at most. */
	rcl_table_lock_all();
	CHECK(rcl_table_bytes() <= 40 * rcl_table_size());
	rcl_table_unlock_all();
	for (uintptr_t i = 0; i < 100000; i += 2) {
		struct rcl_shard *s = rcl_table_shard(base + i * 32);
		struct rcl_block *b;

		rcl_table_lock(s);
		b = rcl_table_find(s, base + i * 32);
		CHECK(b != NULL && b->addr == base + i * 32);
		if (b)
			rcl_table_remove(s, b);
		CHECK(rcl_table_find(s, base + i * 32) == NULL);
		rcl_table_unlock(s);
	}
	live = 0;
	visit_all(count_live, &live);
	CHECK_EQ(live, 50000);
}

static void interior_pointer_finds_its_block(void)
{
	struct rcl_block found;

	/* Blocks at odd multiples of 32 are still there, 16 bytes each. */
	CHECK(rcl_table_find_containing(0x10000000 + 32 + 5, &found));
	CHECK_EQ(found.addr, 0x10000000 + 32);
	CHECK(!rcl_table_find_containing(0x10000000 + 32 + 16, &found));
	CHECK(!rcl_table_find_containing(0x10000000 + 32, &found));
}

static void remove_one(struct rcl_block *b, void *arg)
{
	(void)arg;
	if (b->addr >= 0x10000000 && b->addr < 0x20000000)
		b->flags |= RCL_INTERNAL; /* not real memory: never reported */
}

static void forget_fake_blocks(void)
{
	visit_all(remove_one, NULL);
}

TEST_MAIN("table", TEST(insert_find_remove),
          TEST(interior_pointer_finds_its_block), TEST(forget_fake_blocks))
