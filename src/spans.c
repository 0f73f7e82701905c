/*
 * A fixed set of address ranges, changed and read without a lock, so that
 * a signal handler on top of rcleak can ask about them (reentry.c): the
 * pages reentry.c hands out, the mappings meta.c makes.
 */
#include "internal.h"

#define CLAIMED 1 /* a slot being filled: not a range yet */

bool rcl_spans_add(struct rcl_spans *s, uintptr_t base, size_t len)
{
	for (size_t i = 0; i < s->n; i++) {
		uintptr_t none = 0;

		if (__atomic_compare_exchange_n(&s->v[i].base, &none, CLAIMED,
		                                false, __ATOMIC_ACQ_REL,
		                                __ATOMIC_RELAXED)) {
			s->v[i].len = len;
			__atomic_store_n(&s->v[i].base, base, __ATOMIC_RELEASE);
			__atomic_fetch_add(&s->live, 1, __ATOMIC_RELAXED);
			return true;
		}
	}
	return false;
}

const struct rcl_span *rcl_spans_find(struct rcl_spans *s, uintptr_t addr)
{
	if (RCL_LIKELY(__atomic_load_n(&s->live, __ATOMIC_RELAXED) == 0))
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		uintptr_t base = __atomic_load_n(&s->v[i].base, __ATOMIC_ACQUIRE);

		if (base > CLAIMED && addr >= base && addr - base < s->v[i].len)
			return &s->v[i];
	}
	return NULL;
}

void rcl_spans_remove(struct rcl_spans *s, const struct rcl_span *span)
{
	__atomic_store_n(&((struct rcl_span *)span)->base, 0, __ATOMIC_RELEASE);
	__atomic_fetch_sub(&s->live, 1, __ATOMIC_RELAXED);
}
