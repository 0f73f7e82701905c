/*
 * heap.c and quarantine.c without the preload: canaries, poison checks on
 * eviction, and each kind of bad free, called directly.
 */
#include <semaphore.h>

#include "internal.h"
#include "unit.h"

static void unit_setup(void)
{
	rcl_boot();
	rcl_opt.quarantine_mb = 1;
	rcl_opt.exitcode = 0;
	rcl_opt.log_path = (char *)"/dev/null";
}

static size_t error_count(void)
{
	size_t n;

	rcl_errors_list(&n);
	return n;
}

static const struct rcl_error *error_at(size_t i)
{
	size_t n;
	const struct rcl_error *e = rcl_errors_list(&n);

	while (e && i--)
		e = e->next;
	return e;
}

/* Frees enough 64 KiB blocks to push everything older out of 1 MiB. */
static void flush_quarantine(void)
{
	for (int i = 0; i < 40; i++)
		rcl_heap_free(rcl_heap_alloc(64 * 1024, 0, RCL_MALLOC),
		              RCL_FREE);
}

static void write_after_free_found_on_eviction(void)
{
	size_t before = error_count();
	char *p = rcl_heap_alloc(100, 0, RCL_MALLOC);
	const struct rcl_error *e;

	rcl_heap_free(p, RCL_FREE);
	CHECK_EQ((unsigned char)p[37], RCL_POISON_BYTE);
	p[37] = 1;
	flush_quarantine();
	CHECK_EQ(error_count(), before + 1);
	e = error_at(before);
	CHECK(e != NULL);
	if (e) {
		CHECK_EQ(e->kind, RCL_WRITE_AFTER_FREE);
		CHECK_EQ(e->offset, 37);
		CHECK_EQ(e->size, 100);
		CHECK(e->alloc_stack != 0);
		CHECK(e->free_stack != 0);
	}
}

static void double_free_keeps_both_stacks(void)
{
	size_t before = error_count();
	void *p = rcl_heap_alloc(24, 0, RCL_MALLOC);
	const struct rcl_error *e;

	rcl_heap_free(p, RCL_FREE);
	rcl_heap_free(p, RCL_FREE);
	CHECK_EQ(error_count(), before + 1);
	e = error_at(before);
	if (e) {
		CHECK_EQ(e->kind, RCL_DOUBLE_FREE);
		CHECK_EQ(e->size, 24);
		CHECK(e->stack && e->alloc_stack && e->free_stack);
	}
}

static void invalid_frees(void)
{
	size_t before = error_count();
	int local = 0;
	char *p = rcl_heap_alloc(64, 0, RCL_MALLOC);
	const struct rcl_error *e;

	rcl_heap_free(&local, RCL_FREE);
	rcl_heap_free(p + 8, RCL_FREE);
	CHECK_EQ(error_count(), before + 2);
	e = error_at(before);
	if (e) {
		CHECK_EQ(e->kind, RCL_INVALID_FREE);
		CHECK(!e->has_block);
	}
	e = error_at(before + 1);
	if (e) {
		CHECK_EQ(e->kind, RCL_INVALID_FREE);
		CHECK(e->has_block);
		CHECK_EQ(e->offset, 8);
		CHECK_EQ(e->size, 64);
	}
	CHECK_EQ(rcl_heap_usable_size(p), 64); /* p itself is untouched */
	rcl_heap_free(p, RCL_FREE);
	CHECK_EQ(error_count(), before + 2);
}

static void overflow_offsets(void)
{
	size_t before = error_count();
	char *p = rcl_heap_alloc(10, 0, RCL_MALLOC);
	char *q = rcl_heap_alloc(10, 0, RCL_MALLOC);
	const struct rcl_error *e;

	p[10] ^= 0x5a;
	q[12] ^= 0x5a;
	rcl_heap_free(p, RCL_FREE);
	rcl_heap_free(q, RCL_FREE);
	/* Quarantined: their canaries are checked as they leave, or here. */
	CHECK_EQ(error_count(), before);
	rcl_quarantine_check_all();
	CHECK_EQ(error_count(), before + 2);
	e = error_at(before);
	if (e) {
		CHECK_EQ(e->kind, RCL_HEAP_OVERFLOW);
		CHECK_EQ(e->offset, 0);
	}
	e = error_at(before + 1);
	if (e)
		CHECK_EQ(e->offset, 2);
}

static void mismatched_pairs(void)
{
	size_t before = error_count();

	rcl_heap_free(rcl_heap_alloc(4, 0, RCL_NEW), RCL_FREE);
	rcl_heap_free(rcl_heap_alloc(4, 0, RCL_NEW_ARRAY), RCL_DELETE);
	rcl_heap_free(rcl_heap_alloc(4, 0, RCL_MALLOC), RCL_DELETE_ARRAY);
	rcl_heap_free(rcl_heap_alloc(4, 0, RCL_NEW), RCL_DELETE);
	rcl_heap_free(rcl_heap_alloc(4, 0, RCL_NEW_ARRAY), RCL_DELETE_ARRAY);
	rcl_heap_free(rcl_heap_alloc(4, 64, RCL_ALIGNED_ALLOC), RCL_FREE);
	CHECK_EQ(error_count(), before + 3);
	for (size_t i = 0; i < 3; i++) {
		const struct rcl_error *e = error_at(before + i);

		if (e)
			CHECK_EQ(e->kind, RCL_MISMATCHED_FREE);
	}
}

static void realloc_moves_and_keeps_data(void)
{
	size_t before = error_count();
	char *p = rcl_heap_alloc(10, 0, RCL_MALLOC);
	char *q;

	memcpy(p, "0123456789", 10);
	q = rcl_heap_realloc(p, 100000, RCL_REALLOC);
	CHECK(q != NULL && q != p);
	CHECK(memcmp(q, "0123456789", 10) == 0);
	CHECK_EQ(rcl_heap_usable_size(q), 100000);
	CHECK_EQ(rcl_heap_usable_size(p), 0); /* p is in the quarantine */
	q = rcl_heap_realloc(q, 5, RCL_REALLOC);
	CHECK(q && memcmp(q, "01234", 5) == 0);
	CHECK_EQ(rcl_heap_usable_size(q), 5);
	CHECK(rcl_heap_realloc(q, 0, RCL_REALLOC) == NULL); /* frees q */
	CHECK_EQ(error_count(), before);
}

static void poison_is_bounded(void)
{
	unsigned char *p = rcl_heap_alloc(512 * 1024, 0, RCL_MALLOC);

	memset(p, 0, 512 * 1024);
	rcl_heap_free(p, RCL_FREE);
	CHECK_EQ(p[0], RCL_POISON_BYTE);
	CHECK_EQ(p[rcl_opt.poison_bytes - 1], RCL_POISON_BYTE);
	CHECK_EQ(p[rcl_opt.poison_bytes], 0);
	flush_quarantine();
}

static void calloc_overflow_records_nothing(void)
{
	uint64_t allocs, frees, allocs2, frees2;

	rcl_table_totals(&allocs, &frees);
	CHECK(rcl_heap_calloc((size_t)1 << 33, (size_t)1 << 33) == NULL);
	rcl_table_totals(&allocs2, &frees2);
	CHECK_EQ(allocs2, allocs);
}

static void no_quarantine_frees_at_once(void)
{
	size_t before = error_count();
	void *p;

	rcl_opt.quarantine_mb = 0;
	p = rcl_heap_alloc(32, 0, RCL_MALLOC);
	rcl_heap_free(p, RCL_FREE);
	CHECK_EQ(rcl_heap_usable_size(p), 0);
	CHECK_EQ(error_count(), before);
	rcl_opt.quarantine_mb = 1;
}

/*
 * Without the quarantine, a block the program freed goes straight back to
 * the allocator. What rcleak's own libraries allocate next (libdw reading
 * unwind rules) must not get that address: the program's second free of
 * its stale pointer is then reported, not taken for rcleak's block.
 */
static void internal_blocks_never_reuse_program_addresses(void)
{
	size_t before = error_count();
	void *p, *q;

	rcl_opt.quarantine_mb = 0;
	p = rcl_heap_alloc(40, 0, RCL_MALLOC);
	rcl_heap_free(p, RCL_FREE);
	rcl_guard = 1;
	q = rcl_heap_alloc(40, 0, RCL_MALLOC);
	rcl_guard = 0;
	CHECK(q != p);
	rcl_heap_free(p, RCL_FREE);
	CHECK_EQ(error_count(), before + 1);
	if (error_at(before))
		CHECK_EQ(error_at(before)->kind, RCL_INVALID_FREE);
	CHECK_EQ(rcl_heap_usable_size(q), 40);
	/* Freed from outside the guard, as glibc frees its dlerror text. */
	rcl_heap_free(q, RCL_FREE);
	CHECK_EQ(rcl_heap_usable_size(q), 0);
	CHECK_EQ(error_count(), before + 1);
	rcl_opt.quarantine_mb = 1;
}

/*
 * A block another thread freed waits in that thread's own batch, not yet
 * in the shared queue: a second free here is still a double free, and the
 * exit check still sees a write into it.
 */
static sem_t freed, checked;

static void *free_and_wait(void *p)
{
	rcl_heap_free(p, RCL_FREE);
	sem_post(&freed);
	sem_wait(&checked); /* stays alive: its batch is not flushed */
	return NULL;
}

static void other_threads_batch_is_seen(void)
{
	size_t before = error_count();
	char *p = rcl_heap_alloc(48, 0, RCL_MALLOC);
	const struct rcl_error *e;
	pthread_t t;

	sem_init(&freed, 0, 0);
	sem_init(&checked, 0, 0);
	pthread_create(&t, NULL, free_and_wait, p);
	sem_wait(&freed);
	rcl_heap_free(p, RCL_FREE);
	p[5] = 0;
	rcl_quarantine_check_all();
	sem_post(&checked);
	pthread_join(t, NULL);
	CHECK_EQ(error_count(), before + 2);
	e = error_at(before);
	if (e) {
		CHECK_EQ(e->kind, RCL_DOUBLE_FREE);
		CHECK_EQ(e->size, 48);
		CHECK(e->free_stack != 0);
	}
	e = error_at(before + 1);
	if (e) {
		CHECK_EQ(e->kind, RCL_WRITE_AFTER_FREE);
		CHECK_EQ(e->offset, 5);
	}
}

/*
 * A thread's quarantined blocks outlive it (its FIFO joins the orphans):
 * a write into one after the thread ended, and a second free of it, are
 * still seen.
 */
static void *free_and_exit(void *p)
{
	rcl_heap_free(p, RCL_FREE);
	rcl_quarantine_flush(); /* what the thread-exit destructor does */
	return NULL;
}

static void ended_threads_blocks_stay_quarantined(void)
{
	size_t before = error_count();
	char *p = rcl_heap_alloc(72, 0, RCL_MALLOC);
	pthread_t t;

	pthread_create(&t, NULL, free_and_exit, p);
	pthread_join(t, NULL);
	p[3] = 0;
	rcl_quarantine_check_all();
	rcl_heap_free(p, RCL_FREE);
	CHECK_EQ(error_count(), before + 2);
	if (error_at(before)) {
		CHECK_EQ(error_at(before)->kind, RCL_WRITE_AFTER_FREE);
		CHECK_EQ(error_at(before)->offset, 3);
	}
	if (error_at(before + 1))
		CHECK_EQ(error_at(before + 1)->kind, RCL_DOUBLE_FREE);
}

TEST_MAIN("heap", TEST(write_after_free_found_on_eviction),
          TEST(double_free_keeps_both_stacks), TEST(invalid_frees),
          TEST(overflow_offsets), TEST(mismatched_pairs),
          TEST(realloc_moves_and_keeps_data), TEST(poison_is_bounded),
          TEST(calloc_overflow_records_nothing),
          TEST(no_quarantine_frees_at_once),
          TEST(other_threads_batch_is_seen),
          TEST(internal_blocks_never_reuse_program_addresses),
          TEST(ended_threads_blocks_stay_quarantined))
