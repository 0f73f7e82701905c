/*
 * inline_leak: malloc(33) in fill, inlined into wrap, inlined into holder,
 * a real function called from main; the block is never freed.
 *
 * Expect: one definitely lost 33-byte record whose stack starts with
 * fill (inlined) at "@alloc", wrap (inlined) at "@wrap", holder at
 * "@holder" (not inlined; frames 0-2 share one ip and offset), then main at
 * "@main". always_inline makes the chain the same at every -O level.
 */
#include "common.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

static ALWAYS_INLINE void *fill(size_t n)
{
	void *p = malloc(n); /* @alloc */

	ESCAPE(p);
	return p;
}

static ALWAYS_INLINE void *wrap(size_t n)
{
	void *p = fill(n + 1); /* @wrap */

	SINK();
	return p;
}

static NOINLINE void *holder(void)
{
	void *p = wrap(32); /* @holder */

	SINK();
	return p;
}

int main(void)
{
	holder(); /* @main */
	SINK();
	clobber_stack();
	return 0;
}
