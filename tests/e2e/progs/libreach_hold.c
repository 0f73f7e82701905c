/*
 * libreach_hold.so: loaded by reach (mode shlib). reach_hold(p) keeps p in
 * a static variable of this library, which stays loaded until exit.
 */
#include "common.h"

NOINLINE void reach_hold(void *p);

static void *held;

NOINLINE void reach_hold(void *p)
{
	held = p;
	ESCAPE(&held);
}
