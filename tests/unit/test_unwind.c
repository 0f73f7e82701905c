/*
 * The hot-path unwinder (unwind.c) against libunwind on the same stack:
 * plain frames and alloca frames (whose CFA is rbp-based) in turn.
 */
#include <alloca.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "internal.h"
#include "unit.h"

static void unit_setup(void)
{
	rcl_opt.log_path = (char *)"/dev/null";
	rcl_opt.exitcode = 0;
	rcl_opt.unwind_cache = 1;
}

static uintptr_t fast[40];
static void *slow[40];
static int nfast, nslow;
static volatile int sink;

static __attribute__((noinline)) void leaf(void)
{
	nfast = rcl_unwind_ips(fast, 30);
	nslow = unw_backtrace(slow, 30);
	sink++;
}

static void with_alloca(size_t n, int depth);

static __attribute__((noinline)) void plain(int depth)
{
	if (depth == 0)
		leaf();
	else
		with_alloca((size_t)depth * 24, depth - 1);
	sink++;
}

static __attribute__((noinline)) void with_alloca(size_t n, int depth)
{
	char *buf = alloca(n);

	buf[0] = 1;
	__asm__ volatile("" : : "r"(buf) : "memory");
	plain(depth);
	sink++;
}

/*
 * Both lists start at their own call in leaf(); from leaf's caller on
 * they must be the same frames: 14 levels of plain and with_alloca, then
 * main and libc's.
 */
static void same_frames_as_libunwind(void)
{
	plain(14);
	CHECK_EQ(nfast, nslow);
	CHECK(nfast > 20);
	for (int i = 1; i < nfast && i < nslow; i++)
		CHECK_EQ(fast[i], (uintptr_t)slow[i]);
}

/* A second walk from the same place gives the same frames again. */
static void same_frames_twice(void)
{
	uintptr_t first[40];

	plain(14);
	memcpy(first, fast, sizeof(first));
	plain(14);
	for (int i = 0; i < nfast; i++)
		CHECK_EQ(fast[i], first[i]);
}

TEST_MAIN("unwind", TEST(same_frames_as_libunwind), TEST(same_frames_twice))
