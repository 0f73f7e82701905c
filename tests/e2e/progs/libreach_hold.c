/*
 * libreach_hold.so: loaded by reach (modes shlib, shlib_tls). reach_hold(p)
 * keeps p in a static variable of this library, reach_hold_tls(p) in a
 * __thread variable (dynamic TLS: the loader allocates the block for it
 * on first use); the library stays loaded until exit.
 */
#include "common.h"

NOINLINE void reach_hold(void *p);
NOINLINE void reach_hold_tls(void *p);

static void *held;
__thread void *tls_held;

NOINLINE void reach_hold(void *p)
{
	held = p;
	ESCAPE(&held);
}

NOINLINE void reach_hold_tls(void *p)
{
	tls_held = p;
}
