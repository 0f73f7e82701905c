/*
 * Helpers shared by the e2e test programs. Everything here avoids stdio and
 * any other libc call that allocates, so that the only heap blocks a test
 * program makes are the ones its own code asks for.
 */
#ifndef RCLEAK_E2E_COMMON_H
#define RCLEAK_E2E_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rcleak.h"

/*
 * Keep a function a real frame of its own at any -O level: no inlining, no
 * cloning (gcc would rename it "f.constprop.0"), no IPA tricks.
 */
#if defined(__clang__)
#define NOINLINE __attribute__((noinline, used))
#else
#define NOINLINE __attribute__((noipa, used))
#endif
#define UNUSED __attribute__((unused))

/* Make the compiler believe p escapes, so a malloc is never optimised out. */
#define ESCAPE(p) __asm__ volatile("" : : "r"(p) : "memory")

/* Ends a call so that it is not in tail position (keeps the frame). */
static volatile int sink;
#define SINK() ((void)sink++)

/* Size arguments the compiler cannot fold (huge-size warnings, calloc). */
static volatile size_t vsize_max = SIZE_MAX;

/*
 * Overwrite stale copies of pointers left below the stack pointer, so that
 * a lost block really is unreferenced once reachability analysis exists.
 */
static NOINLINE UNUSED void clobber_stack(void)
{
	volatile char buf[16384];

	memset((char *)buf, 0, sizeof buf);
	SINK();
}

/* True when running with librcleak.so preloaded (its API is then bound). */
static inline UNUSED int under_rcleak(void)
{
	return rcleak_check != NULL;
}

/* Hide a pointer from a conservative scan: no word equals the block. */
#define HIDE_KEY ((uintptr_t)0xa5a5a5a5a5a5a5a5ULL)
static inline UNUSED uintptr_t hide(void *p)
{
	return (uintptr_t)p ^ HIDE_KEY;
}
static inline UNUSED void *unhide(uintptr_t h)
{
	return (void *)(h ^ HIDE_KEY);
}

static UNUSED void say(const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t w = write(1, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static UNUSED void say_num(long v)
{
	char buf[32];
	char *e = buf + sizeof buf - 1;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;

	*e = 0;
	do {
		*--e = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--e = '-';
	say(e);
}

/*
 * A test program that finds its own assumption broken says so on stdout
 * ("SELF-CHECK FAILED") and exits with 100 + line % 100; check.py looks for
 * the marker, because rcleak's exitcode may replace the status.
 */
#define REQUIRE(cond)                                                          \
	do {                                                                   \
		if (!(cond)) {                                                 \
			say("SELF-CHECK FAILED: " #cond " at line ");          \
			say_num(__LINE__);                                     \
			say("\n");                                             \
			exit(100 + __LINE__ % 100);                            \
		}                                                              \
	} while (0)

#endif
