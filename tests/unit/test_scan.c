/*
 * The reachability scan on synthetic heaps: blocks carved from a static
 * arena, roots given as word arrays, verdicts checked block by block.
 */
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>

#include "internal.h"
#include "unit.h"

#define MAX_BLOCKS 1000

static uint64_t arena[4096];
static struct rcl_snap v[MAX_BLOCKS];
static uint32_t work[2 * MAX_BLOCKS + 1];
static size_t nblocks, used;

static void unit_setup(void)
{
}

static void reset(void)
{
	memset(arena, 0, sizeof(arena));
	nblocks = used = 0;
}

/* A block of size bytes at the next free place; returns its address. */
static uintptr_t *block(size_t size, enum rcl_alloc_kind kind)
{
	uintptr_t *p = (uintptr_t *)&arena[used];

	v[nblocks++] = (struct rcl_snap){
	    .addr = (uintptr_t)p, .size = size, .alloc_kind = (uint8_t)kind};
	used += (size + 7) / 8 + 2; /* a gap, like a real chunk header */
	return p;
}

/* Runs the scan with the given root words; returns nothing, sets kinds. */
static void classify(const uintptr_t *roots, size_t nroots)
{
	struct rcl_scan s;

	rcl_scan_init(&s, v, nblocks, work);
	rcl_scan_root_words(&s, roots, nroots);
	rcl_scan_finish(&s);
}

static void leaked_list_is_head_definite_rest_indirect(void)
{
	uintptr_t *a, *b, *c;

	reset();
	a = block(16, RCL_MALLOC);
	b = block(16, RCL_MALLOC);
	c = block(16, RCL_MALLOC);
	a[0] = (uintptr_t)b;
	b[0] = (uintptr_t)c;
	classify(NULL, 0);
	CHECK_EQ(v[0].kind, RCL_DEFINITE);
	CHECK_EQ(v[1].kind, RCL_INDIRECT);
	CHECK_EQ(v[2].kind, RCL_INDIRECT);
	CHECK_EQ(v[1].leader, 0);
	CHECK_EQ(v[2].leader, 0);
}

static void rooted_list_is_reachable(void)
{
	uintptr_t *a, *b, *c, root;

	reset();
	a = block(16, RCL_MALLOC);
	b = block(16, RCL_MALLOC);
	c = block(16, RCL_MALLOC);
	a[1] = (uintptr_t)b; /* any aligned word of the block counts */
	b[0] = (uintptr_t)c;
	root = (uintptr_t)a;
	classify(&root, 1);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(v[i].kind, RCL_REACHABLE);
}

static void interior_pointer_is_possible_and_spreads(void)
{
	uintptr_t *a, *b, root;

	reset();
	a = block(64, RCL_MALLOC);
	b = block(16, RCL_MALLOC);
	a[2] = (uintptr_t)b; /* a start pointer, but from a possible block */
	root = (uintptr_t)a + 24;
	classify(&root, 1);
	CHECK_EQ(v[0].kind, RCL_POSSIBLE);
	CHECK_EQ(v[1].kind, RCL_POSSIBLE);
}

static void start_pointer_wins_over_interior(void)
{
	uintptr_t *a, roots[2];

	reset();
	a = block(64, RCL_MALLOC);
	roots[0] = (uintptr_t)a + 8;
	roots[1] = (uintptr_t)a;
	classify(roots, 2);
	CHECK_EQ(v[0].kind, RCL_REACHABLE);
}

static void cycle_without_outside_pointer_is_lost(void)
{
	uintptr_t *a, *b;

	reset();
	a = block(16, RCL_MALLOC);
	b = block(16, RCL_MALLOC);
	a[0] = (uintptr_t)b;
	b[0] = (uintptr_t)a;
	classify(NULL, 0);
	CHECK_EQ(v[0].kind, RCL_DEFINITE);
	CHECK_EQ(v[1].kind, RCL_INDIRECT);
}

/* w <- x <- y, in that address order: only y is definitely lost. */
static void later_leader_takes_earlier_ones(void)
{
	uintptr_t *w, *x, *y;

	reset();
	w = block(16, RCL_MALLOC);
	x = block(16, RCL_MALLOC);
	y = block(16, RCL_MALLOC);
	x[0] = (uintptr_t)w;
	y[0] = (uintptr_t)x;
	classify(NULL, 0);
	CHECK_EQ(v[0].kind, RCL_INDIRECT);
	CHECK_EQ(v[1].kind, RCL_INDIRECT);
	CHECK_EQ(v[2].kind, RCL_DEFINITE);
	CHECK_EQ(v[0].leader, 2);
	CHECK_EQ(v[1].leader, 2);
}

static void xored_pointer_does_not_count(void)
{
	uintptr_t *a, root;

	reset();
	a = block(32, RCL_MALLOC);
	root = (uintptr_t)a ^ 0x5555;
	classify(&root, 1);
	CHECK_EQ(v[0].kind, RCL_DEFINITE);
}

static void pointer_past_the_end_does_not_count(void)
{
	uintptr_t *a, root;

	reset();
	a = block(32, RCL_MALLOC);
	block(32, RCL_MALLOC);
	root = (uintptr_t)a + 32;
	classify(&root, 1);
	CHECK_EQ(v[0].kind, RCL_DEFINITE);
}

static void zero_size_block_reached_at_its_start(void)
{
	uintptr_t *a, root;

	reset();
	a = block(0, RCL_MALLOC);
	root = (uintptr_t)a;
	classify(&root, 1);
	CHECK_EQ(v[0].kind, RCL_REACHABLE);
}

/* valgrind's heuristics: new[] element count, 64-bit length prefix. */
static void length_prefixes_count_as_start(void)
{
	uintptr_t *arr, *str, *plain, roots[3];

	reset();
	arr = block(8 + 3 * 16, RCL_NEW_ARRAY);
	arr[0] = 3;
	str = block(8 + 40, RCL_MALLOC);
	str[0] = 40;
	plain = block(48, RCL_MALLOC);
	plain[0] = 7; /* not the length: stays an interior pointer */
	roots[0] = (uintptr_t)arr + 8;
	roots[1] = (uintptr_t)str + 8;
	roots[2] = (uintptr_t)plain + 8;
	classify(roots, 3);
	CHECK_EQ(v[0].kind, RCL_REACHABLE);
	CHECK_EQ(v[1].kind, RCL_REACHABLE);
	CHECK_EQ(v[2].kind, RCL_POSSIBLE);
}

static void root_blocks_keep_what_they_point_to(void)
{
	uintptr_t *ignored, *kept;
	struct rcl_scan s;

	reset();
	ignored = block(16, RCL_MALLOC);
	kept = block(16, RCL_MALLOC);
	ignored[0] = (uintptr_t)kept;
	rcl_scan_init(&s, v, nblocks, work);
	rcl_scan_root_block(&s, 0);
	rcl_scan_finish(&s);
	CHECK_EQ(v[0].kind, RCL_REACHABLE);
	CHECK_EQ(v[1].kind, RCL_REACHABLE);
}

static void root_range_is_scanned_word_by_word(void)
{
	uintptr_t *a, *b, range[4] = {0};

	reset();
	a = block(16, RCL_MALLOC);
	b = block(16, RCL_MALLOC);
	range[3] = (uintptr_t)b;
	{
		struct rcl_scan s;

		rcl_scan_init(&s, v, nblocks, work);
		rcl_scan_root_range(&s, (uintptr_t)range,
		                    (uintptr_t)(range + 4));
		rcl_scan_finish(&s);
	}
	(void)a;
	CHECK_EQ(v[0].kind, RCL_DEFINITE);
	CHECK_EQ(v[1].kind, RCL_REACHABLE);
}

/*
 * Enough blocks for find() to go through its sampled index (every 64th
 * start): a chain of 1000, cut at 500, and a root pointing into the
 * middle of block 777 and at the start of block 64 (a sample boundary).
 */
static void many_blocks_found_through_the_index(void)
{
	uintptr_t *b[MAX_BLOCKS], roots[3];

	reset();
	for (int i = 0; i < MAX_BLOCKS; i++)
		b[i] = block(16, RCL_MALLOC);
	for (int i = 0; i + 1 < MAX_BLOCKS; i++)
		if (i != 499)
			b[i][0] = (uintptr_t)b[i + 1];
	roots[0] = (uintptr_t)b[0];
	roots[1] = (uintptr_t)b[777] + 9;
	roots[2] = (uintptr_t)b[64];
	classify(roots, 3);
	for (int i = 0; i < 500; i++)
		CHECK_EQ(v[i].kind, RCL_REACHABLE);
	CHECK_EQ(v[500].kind, RCL_DEFINITE);
	for (int i = 501; i < 777; i++)
		CHECK_EQ(v[i].kind, RCL_INDIRECT);
	for (int i = 777; i < MAX_BLOCKS; i++)
		CHECK_EQ(v[i].kind, RCL_POSSIBLE);
}

/* Blocks 8 GiB apart in one index window: searched among the blocks. */
static void window_wider_than_4_gib(void)
{
	uintptr_t *near[30], *far[30], roots[2];
	void *hint =
	    (void *)(((uintptr_t)arena + ((uintptr_t)8 << 30)) & ~(uintptr_t)4095);
	uint64_t *region = mmap(hint, 4096, PROT_READ | PROT_WRITE,
	                        MAP_PRIVATE | MAP_ANONYMOUS |
	                            MAP_FIXED_NOREPLACE,
	                        -1, 0);

	CHECK(region != MAP_FAILED);
	if (region == MAP_FAILED)
		return;
	reset();
	for (int i = 0; i < 30; i++)
		near[i] = block(16, RCL_MALLOC);
	for (int i = 0; i < 30; i++) {
		far[i] = (uintptr_t *)&region[4 * i];
		v[nblocks++] = (struct rcl_snap){.addr = (uintptr_t)far[i],
		                                 .size = 16,
		                                 .alloc_kind = RCL_MALLOC};
	}
	for (int i = 0; i < 29; i++)
		near[i][0] = (uintptr_t)far[i];
	for (int i = 0; i < 28; i++)
		far[i][0] = (uintptr_t)near[i + 1];
	roots[0] = (uintptr_t)near[0];
	roots[1] = (uintptr_t)far[29] + 8;
	classify(roots, 2);
	for (int i = 0; i < 29; i++) {
		CHECK_EQ(v[i].kind, RCL_REACHABLE);
		CHECK_EQ(v[30 + i].kind, RCL_REACHABLE);
	}
	CHECK_EQ(v[29].kind, RCL_DEFINITE);
	CHECK_EQ(v[59].kind, RCL_POSSIBLE);
	munmap(region, 4096);
}

static void sort_orders_by_address(void)
{
	static struct rcl_snap many[5000];
	unsigned seed = 12345;

	for (size_t i = 0; i < 5000; i++) {
		seed = seed * 1103515245u + 12345u;
		many[i].addr = ((uintptr_t)seed << 4) + i; /* unique */
	}
	rcl_scan_sort(many, 5000);
	for (size_t i = 1; i < 5000; i++)
		CHECK(many[i - 1].addr < many[i].addr);
	rcl_scan_sort(many, 5000); /* already sorted: no quadratic case */
	for (size_t i = 1; i < 5000; i++)
		CHECK(many[i - 1].addr < many[i].addr);
}

TEST_MAIN("scan", TEST(leaked_list_is_head_definite_rest_indirect),
          TEST(rooted_list_is_reachable),
          TEST(interior_pointer_is_possible_and_spreads),
          TEST(start_pointer_wins_over_interior),
          TEST(cycle_without_outside_pointer_is_lost),
          TEST(later_leader_takes_earlier_ones),
          TEST(xored_pointer_does_not_count),
          TEST(pointer_past_the_end_does_not_count),
          TEST(zero_size_block_reached_at_its_start),
          TEST(length_prefixes_count_as_start),
          TEST(root_blocks_keep_what_they_point_to),
          TEST(root_range_is_scanned_word_by_word),
          TEST(sort_orders_by_address),
          TEST(many_blocks_found_through_the_index),
          TEST(window_wider_than_4_gib))
