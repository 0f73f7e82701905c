/*
 * An rcl_out whose writes land in memory, for the tests of the writers:
 * mem_out() starts it empty; captured holds what was written, NUL-ended.
 */
#ifndef RCLEAK_UNIT_CAPTURE_H
#define RCLEAK_UNIT_CAPTURE_H

#include <string.h>

#include "internal.h"

static char captured[65536];
static size_t captured_len;

static void capture(struct rcl_out *o, const char *buf, size_t len)
{
	(void)o;
	if (captured_len + len < sizeof(captured)) {
		memcpy(captured + captured_len, buf, len);
		captured_len += len;
		captured[captured_len] = 0;
	}
}

static void mem_out(struct rcl_out *o)
{
	rcl_out_init_fd(o, -1);
	o->failed = false;
	o->write = capture;
	captured_len = 0;
	captured[0] = 0;
}

#endif
