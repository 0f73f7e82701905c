/*
 * Backtraces for the hot path: libunwind's unw_backtrace into a fixed array
 * on the stack (DWARF-correct through code without frame pointers), with
 * rcleak's own frames dropped so frame 0 is the program's call to malloc.
 */
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <libunwind.h>
#include <link.h>

#include "internal.h"

#define OWN_FRAMES_MAX 8 /* rcleak frames above the program's: a bound */

uintptr_t rcl_own_lo, rcl_own_hi; /* rcleak's mapped range */

static int find_own(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	if (info->dlpi_addr != (uintptr_t)arg)
		return 0;
	rcl_module_range(info, &rcl_own_lo, &rcl_own_hi);
	return 1;
}

/*
 * Finds rcleak's own address range and runs the unwinder once, so that its
 * one-time set-up (and any allocation it makes) happens here, under the
 * guard, and not inside the first traced malloc.
 */
void rcl_stack_init(void)
{
	Dl_info info;
	uintptr_t ips[4];

	if (dladdr((void *)rcl_stack_init, &info) && info.dli_fbase)
		dl_iterate_phdr(find_own, info.dli_fbase);
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	rcl_stack_unwind(ips, 4);
}

int rcl_stack_unwind(uintptr_t *ips, int max)
{
	void *raw[RCL_MAX_DEPTH + OWN_FRAMES_MAX];
	int n, skip = 0;

	if (max > RCL_MAX_DEPTH)
		max = RCL_MAX_DEPTH;
	int kept = 0;

	n = unw_backtrace(raw, max + OWN_FRAMES_MAX);
	while (skip < n && rcl_stack_is_own((uintptr_t)raw[skip]))
		skip++;
	/* rcleak's frames further out too: a thread's start wrapper. */
	for (int i = skip; i < n && kept < max; i++)
		if (!rcl_stack_is_own((uintptr_t)raw[i]))
			ips[kept++] = (uintptr_t)raw[i];
	return kept;
}

rcl_stack_id rcl_stack_capture(void)
{
	uintptr_t ips[RCL_MAX_DEPTH];
	rcl_stack_id id;
	int n;

	if (rcl_unwind_capture(&id))
		return id;
	n = rcl_stack_unwind(ips, (int)rcl_opt.depth);
	return rcl_depot_put(ips, (uint32_t)n);
}

/*
 * Where the program's part of this thread's stack begins when it called
 * fn: the stack pointer and callee-saved registers of fn's caller, found
 * by unwinding. At exit the frames of exit() and its handlers lie over
 * the program's dead frames (and rcleak's), whose stale pointers must not
 * count as roots. False when fn is not on the stack.
 */
bool rcl_stack_caller_of(uintptr_t fn, uintptr_t *sp, uintptr_t *regs)
{
	static const int saved[] = {UNW_X86_64_RBX, UNW_X86_64_RBP,
	                            UNW_X86_64_R12, UNW_X86_64_R13,
	                            UNW_X86_64_R14, UNW_X86_64_R15};
	unw_context_t uc;
	unw_cursor_t c;
	unw_proc_info_t pi;

	if (unw_getcontext(&uc) != 0 || unw_init_local(&c, &uc) != 0)
		return false;
	while (unw_step(&c) > 0) {
		unw_word_t v;

		if (unw_get_proc_info(&c, &pi) != 0 || pi.start_ip != fn)
			continue;
		if (unw_step(&c) <= 0 || unw_get_reg(&c, UNW_REG_SP, &v) != 0)
			return false;
		*sp = v;
		for (int i = 0; i < 6; i++)
			regs[i] = unw_get_reg(&c, saved[i], &v) == 0 ? v : 0;
		return true;
	}
	return false;
}
