/*
 * The calls of include/rcleak.h, for programs that want to check for leaks
 * at a point of their choosing or mark a block as leaked on purpose.
 */
#include "../include/rcleak.h"
#include "internal.h"

RCLEAK_EXPORT int rcleak_check(void)
{
	if (!rcl_boot())
		return 0;
	return rcl_report_write("check", false) ? 1 : 0;
}

RCLEAK_EXPORT int rcleak_ignore(const void *p)
{
	struct rcl_shard *s;
	struct rcl_block *b;
	int ret = -1;

	if (p == NULL || !rcl_boot())
		return -1;
	s = rcl_table_shard((uintptr_t)p);
	rcl_table_lock(s);
	b = rcl_table_find(s, (uintptr_t)p);
	if (b && !(b->flags & RCL_INTERNAL)) {
		b->flags |= RCL_IGNORED;
		ret = 0;
	}
	rcl_table_unlock(s);
	return ret;
}

RCLEAK_EXPORT void rcleak_disable(void)
{
	rcl_disabled++;
}

RCLEAK_EXPORT void rcleak_enable(void)
{
	if (rcl_disabled > 0)
		rcl_disabled--;
}
