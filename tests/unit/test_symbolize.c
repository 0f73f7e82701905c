/*
 * The symbolizer on addresses inside this binary (built with -g): function,
 * source file and the exact line of a call, and the chain of frames that an
 * inlined call gives. Lines come from __LINE__ next to each call, so
 * editing this file cannot make them stale. Built at the Makefile's -O2:
 * the always_inline function is inlined at any level, the callee that
 * takes the return address never is.
 */
#include <elfutils/libdwfl.h>
#include <limits.h>
#include <unistd.h>

#include "internal.h"
#include "unit.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))
#if defined(__clang__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE __attribute__((noinline, noipa)) /* no clones, no IPA */
#endif

static void unit_setup(void)
{
	rcl_opt.log_path = (char *)"/dev/null";
	rcl_opt.exitcode = 0;
}

/* The return address into the call below the caller's __LINE__. */
static NOINLINE uintptr_t here(void)
{
	return (uintptr_t)__builtin_return_address(0);
}

static const char *basename_of(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path;
}

static void check_this_file(const struct rcl_frame *f, int line)
{
	CHECK_STR(basename_of(f->file), "test_symbolize.c");
	/* Compiled as a relative path: made absolute with the comp_dir. */
	CHECK(f->file && f->file[0] == '/');
	CHECK(f->file && access(f->file, R_OK) == 0);
	CHECK_EQ(f->line, line);
}

static NOINLINE void function_file_line(void)
{
	const struct rcl_frame *f, *again;
	int line = __LINE__ + 1;
	uintptr_t ip = here();
	char exe[PATH_MAX] = "";
	size_t n;

	CHECK(readlink("/proc/self/exe", exe, sizeof(exe) - 1) > 0);
	rcl_symbolize_begin();
	n = rcl_symbolize(ip, &f);
	CHECK_EQ(n, 1);
	CHECK_STR(f[0].function, "function_file_line");
	check_this_file(&f[0], line);
	CHECK(!f[0].inlined);
	CHECK_EQ(f[0].ip, ip - 1);
	CHECK_STR(f[0].module, exe);
	/* Once per address: the same frames from the cache. */
	CHECK_EQ(rcl_symbolize(ip, &again), 1);
	CHECK(again == f);
	rcl_symbolize_end();
}

static int inner_line;

static ALWAYS_INLINE uintptr_t inlined_here(void)
{
	inner_line = __LINE__ + 1;
	return here();
}

static NOINLINE void inlined_chain(void)
{
	const struct rcl_frame *f;
	int line = __LINE__ + 1;
	uintptr_t ip = inlined_here();
	size_t n;

	rcl_symbolize_begin();
	n = rcl_symbolize(ip, &f);
	CHECK_EQ(n, 2);
	if (n == 2) {
		CHECK_STR(f[0].function, "inlined_here");
		CHECK(f[0].inlined);
		check_this_file(&f[0], inner_line);
		CHECK_STR(f[1].function, "inlined_chain");
		CHECK(!f[1].inlined);
		check_this_file(&f[1], line);
		/* One address: both frames share it. */
		CHECK_EQ(f[1].ip, f[0].ip);
		CHECK_EQ(f[1].offset, f[0].offset);
		CHECK_STR(f[1].module, f[0].module);
	}
	rcl_symbolize_end();
}

/* Each report starts afresh: the second gives the same answer. */
static void two_reports_agree(void)
{
	for (int i = 0; i < 2; i++) {
		function_file_line();
		inlined_chain();
	}
}

static void unknown_address(void)
{
	const struct rcl_frame *f;

	rcl_symbolize_begin();
	CHECK_EQ(rcl_symbolize(0x11, &f), 1);
	CHECK(f[0].function == NULL);
	CHECK(f[0].file == NULL);
	CHECK_EQ(f[0].line, 0);
	CHECK_STR(f[0].module, "?");
	rcl_symbolize_end();
}

/* rcleak's own lookup of symbol names against libdwfl's. */
static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_build_id_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

/* Versions and C++ names are rewritten by rcleak: compare the others. */
static bool plain(const char *name)
{
	return name && strchr(name, '@') == NULL && strncmp(name, "_Z", 2);
}

static int compare_module(Dwfl_Module *m, void **userdata, const char *name,
                          Dwarf_Addr start, void *arg)
{
	Dwarf_Addr end;
	int *compared = arg;

	(void)userdata;
	(void)name;
	dwfl_module_info(m, NULL, NULL, &end, NULL, NULL, NULL, NULL);
	for (Dwarf_Addr pc = start; pc < end; pc += (end - start) / 3000 + 1) {
		const char *want = dwfl_module_addrname(m, pc);
		const struct rcl_frame *f;
		size_t n = rcl_symbolize(pc + 1, &f); /* a return address */

		if (!plain(want))
			continue;
		CHECK_STR(f[n - 1].function, want);
		(*compared)++;
	}
	return DWARF_CB_OK;
}

static void names_as_libdwfl_gives_them(void)
{
	Dwfl *ref = dwfl_begin(&callbacks);
	int compared = 0;

	dwfl_report_begin(ref);
	CHECK_EQ(dwfl_linux_proc_report(ref, getpid()), 0);
	dwfl_report_end(ref, NULL, NULL);
	rcl_symbolize_begin();
	dwfl_getmodules(ref, compare_module, &compared, 0);
	rcl_symbolize_end();
	dwfl_end(ref);
	CHECK(compared > 1000);
}

TEST_MAIN("symbolize", TEST(function_file_line), TEST(inlined_chain),
          TEST(two_reports_agree), TEST(unknown_address),
          TEST(names_as_libdwfl_gives_them))
