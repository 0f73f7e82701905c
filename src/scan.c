/*
 * Reachability, as valgrind's memcheck and LeakSanitizer classify blocks:
 * a conservative scan of every aligned word of the roots, then a flood fill
 * through the blocks found.
 *
 *  - reached through a pointer to its start from the roots, or from a block
 *    so reached: still reachable;
 *  - reached, but only through pointers into its interior (or through
 *    possibly lost blocks): possibly lost;
 *  - not reached, but pointed to by another lost block: indirectly lost;
 *  - otherwise: definitely lost. Of a group of lost blocks that point only
 *    to each other (a cycle), the one with the lowest address is definitely
 *    lost and the rest indirectly, as valgrind counts.
 *
 * The blocks come sorted by address, so finding the block a word points
 * into is a binary search. Nothing here allocates or locks: the report
 * calls it while the program's other threads are stopped.
 */
#include <setjmp.h>
#include <signal.h>

#include "internal.h"

/*
 * Some memory faults when read: a page of a block the program protected
 * (a guard page), a shared file mapping past the end of its file. As in
 * valgrind, a fault while scanning skips the rest of that range.
 */
static __thread sigjmp_buf *fault_env
    __attribute__((tls_model("initial-exec")));
static struct sigaction old_segv, old_bus;

static void on_fault(int sig, siginfo_t *info, void *context)
{
	(void)info;
	(void)context;
	if (fault_env)
		siglongjmp(*fault_env, 1);
	/* Not the scan's: the program's handler gets the repeated fault. */
	sigaction(sig, sig == SIGSEGV ? &old_segv : &old_bus, NULL);
}

void rcl_scan_guard_begin(void)
{
	struct sigaction sa = {.sa_sigaction = on_fault,
	                       .sa_flags = SA_SIGINFO | SA_NODEFER};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
}

void rcl_scan_guard_end(void)
{
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
}

enum mark {
	UNREACHED,
	POSSIBLE, /* only interior pointers, or reached from POSSIBLE */
	REACHED,
	INDIRECT, /* lost, but pointed to by another lost block */
};

static void swap(struct rcl_snap *a, struct rcl_snap *b)
{
	struct rcl_snap t = *a;

	*a = *b;
	*b = t;
}

/*
 * Sorts blocks by address. Not qsort: glibc's allocates a buffer for big
 * arrays, and the table is locked here. Quicksort on the median of three,
 * recursing into the smaller side only, so the depth stays logarithmic.
 */
void rcl_scan_sort(struct rcl_snap *v, size_t n)
{
	while (n > 16) {
		struct rcl_snap *mid = &v[n / 2], *last = &v[n - 1];
		uintptr_t pivot;
		size_t i = 0, j = n - 1;

		if (mid->addr < v[0].addr)
			swap(mid, &v[0]);
		if (last->addr < v[0].addr)
			swap(last, &v[0]);
		if (last->addr < mid->addr)
			swap(last, mid);
		pivot = mid->addr;
		for (;;) { /* Hoare partition: [0, j] <= pivot <= [j+1, n) */
			while (v[i].addr < pivot)
				i++;
			while (v[j].addr > pivot)
				j--;
			if (i >= j)
				break;
			swap(&v[i++], &v[j--]);
		}
		if (j + 1 < n - j - 1) {
			rcl_scan_sort(v, j + 1);
			v += j + 1;
			n -= j + 1;
		} else {
			rcl_scan_sort(v + j + 1, n - j - 1);
			n = j + 1;
		}
	}
	for (size_t i = 1; i < n; i++) /* insertion sort for the rest */
		for (size_t j = i; j > 0 && v[j].addr < v[j - 1].addr; j--)
			swap(&v[j], &v[j - 1]);
}

/*
 * Every word scanned is looked up among the blocks: with millions of them
 * a plain binary search over the snapshot misses the cache at nearly every
 * step. A search first among every INDEX_STEP-th start address (small
 * enough to stay cached), then among INDEX_STEP addresses packed in a few
 * cache lines, touches about four lines instead of twenty. The packed
 * addresses are 32-bit offsets from their window's first: the exit report
 * of a big heap holds one per block on top of the snapshot.
 */
#define INDEX_STEP 64
/*
 * keys has INDEX_STEP per window, the last window's tail filled with
 * KEY_PAD, which no offset searched for reaches: every search in a window
 * takes the same six steps.
 */
#define KEY_PAD UINT32_MAX

static void free_index(struct rcl_scan *s)
{
	rcl_meta_free(s->keys, s->nsample * INDEX_STEP * sizeof(*s->keys));
	rcl_meta_free(s->sample, s->nsample * sizeof(*s->sample));
	rcl_meta_free(s->wide, s->nsample * sizeof(*s->wide));
	s->keys = NULL;
	s->sample = NULL;
	s->wide = NULL;
}

static void build_index(struct rcl_scan *s)
{
	s->nsample = (s->n + INDEX_STEP - 1) / INDEX_STEP;
	s->keys = rcl_meta_alloc(s->nsample * INDEX_STEP * sizeof(*s->keys));
	s->sample = rcl_meta_alloc(s->nsample * sizeof(*s->sample));
	s->wide = rcl_meta_alloc(s->nsample * sizeof(*s->wide));
	if (!s->keys || !s->sample || !s->wide) { /* a slower search, then */
		free_index(s);
		return;
	}
	for (size_t k = 0; k < s->nsample; k++)
		s->sample[k] = s->v[k * INDEX_STEP].addr;
	for (size_t i = 0; i < s->n; i++) {
		size_t k = i / INDEX_STEP;
		uintptr_t off = s->v[i].addr - s->sample[k];

		if (off >= KEY_PAD - 1)
			s->wide[k] = true;
		s->keys[i] = (uint32_t)off;
	}
	for (size_t i = s->n; i < s->nsample * INDEX_STEP; i++)
		s->keys[i] = KEY_PAD;
}

/* The last i in [lo, hi) with v[i].addr <= addr, given v[lo] is. */
static size_t last_block_at_or_below(const struct rcl_scan *s, size_t lo,
                                     size_t hi, uintptr_t addr)
{
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

void rcl_scan_init(struct rcl_scan *s, struct rcl_snap *v, size_t n,
                   uint32_t *stack)
{
	*s = (struct rcl_scan){.v = v, .n = n, .stack = stack};
	if (n) {
		s->lo = v[0].addr;
		for (size_t i = 0; i < n; i++)
			if (v[i].addr + v[i].size + 1 > s->hi)
				s->hi = v[i].addr + v[i].size + 1;
		build_index(s);
	}
	for (size_t i = 0; i < n; i++)
		v[i].mark = UNREACHED;
}

/*
 * Interior pointers that valgrind's default heuristics count as pointers
 * to the start (its newarray and length64; not stdstring or
 * multipleinheritance): new[] of objects with destructors hands out the
 * address just past an element count, and length-prefixed strings
 * (sqlite, some string libraries) the address just past a 64-bit length.
 */
static bool start_by_heuristic(const struct rcl_snap *b, uintptr_t addr)
{
	uint64_t head;

	if (addr != b->addr + sizeof(uint64_t) || b->size < sizeof(uint64_t))
		return false;
	head = *(const uint64_t *)b->addr;
	return head > 0 && (head == b->size - sizeof(uint64_t) ||
	                    (b->size - sizeof(uint64_t)) % head == 0);
}

static void push(struct rcl_scan *s, size_t i)
{
	s->stack[s->top++] = (uint32_t)i;
}

/* A word seen in a root (definite) or in a block found by index i. */
static void reach_index(struct rcl_scan *s, uintptr_t word, ptrdiff_t i,
                        bool definite)
{
	struct rcl_snap *b;

	if (i < 0)
		return;
	b = &s->v[i];
	if (b->mark == REACHED)
		return;
	if (definite && (word == b->addr || start_by_heuristic(b, word))) {
		b->mark = REACHED;
		push(s, (size_t)i);
	} else if (b->mark == UNREACHED) {
		b->mark = POSSIBLE;
		push(s, (size_t)i);
	}
}

/* i, when block i (the last starting at or before addr) holds it; or -1. */
static ptrdiff_t if_inside(const struct rcl_scan *s, size_t i, uintptr_t addr)
{
	const struct rcl_snap *b = &s->v[i];

	/* A 0-byte block is reached by a pointer to where it starts. */
	return addr < b->addr + (b->size ? b->size : 1) ? (ptrdiff_t)i : -1;
}

/*
 * find() for several words at once, each search a step at a time in
 * turn, every step's line prefetched for all of them first: their cache
 * misses overlap instead of coming one after another.
 */
#define BATCH 16

static void find_batch(const struct rcl_scan *s, const uintptr_t *words,
                       ptrdiff_t *found, int n)
{
	size_t at[BATCH];
	uint32_t off[BATCH];
	bool wide[BATCH];

	/* The window: the last sample at or below each word. */
	for (int i = 0; i < n; i++)
		at[i] = 0;
	for (size_t len = s->nsample; len > 1; len -= len / 2) {
		size_t half = len / 2;

		for (int i = 0; i < n; i++)
			at[i] = s->sample[at[i] + half] <= words[i] ? at[i] + half
			                                            : at[i];
	}
	for (int i = 0; i < n; i++) {
		size_t k = at[i];
		uintptr_t o = words[i] - s->sample[k];

		at[i] = k * INDEX_STEP;
		wide[i] = s->wide[k];
		if (wide[i]) {
			size_t end = at[i] + INDEX_STEP < s->n ? at[i] + INDEX_STEP
			                                       : s->n;

			at[i] = last_block_at_or_below(s, at[i], end, words[i]);
			continue;
		}
		/* Below the padding: past every block of the window is its last. */
		off[i] = o < KEY_PAD ? (uint32_t)o : KEY_PAD - 1;
		for (int line = 0; line < INDEX_STEP; line += 16)
			__builtin_prefetch(&s->keys[at[i] + line]);
	}
	/* Within it, a fixed number of steps: no branch to mispredict. */
	for (size_t half = INDEX_STEP / 2; half > 0; half /= 2)
		for (int i = 0; i < n; i++)
			if (!wide[i])
				at[i] += s->keys[at[i] + half] <= off[i] ? half : 0;
	for (int i = 0; i < n; i++)
		__builtin_prefetch(&s->v[at[i]]);
	for (int i = 0; i < n; i++)
		found[i] = if_inside(s, at[i], words[i]);
}

/* The index of the block whose bytes hold addr, or -1. */
static ptrdiff_t find(const struct rcl_scan *s, uintptr_t addr)
{
	size_t lo = 0, hi = s->n;
	ptrdiff_t found;

	if (addr < s->lo || addr >= s->hi)
		return -1;
	if (s->keys) {
		find_batch(s, &addr, &found, 1);
		return found;
	}
	return if_inside(s, last_block_at_or_below(s, lo, hi, addr), addr);
}

static void reach(struct rcl_scan *s, uintptr_t word, bool definite)
{
	reach_index(s, word, find(s, word), definite);
}

static void reach_batch(struct rcl_scan *s, const uintptr_t *words, int n,
                        bool definite)
{
	ptrdiff_t found[BATCH];

	if (s->keys == NULL) {
		for (int i = 0; i < n; i++)
			reach(s, words[i], definite);
		return;
	}
	find_batch(s, words, found, n);
	for (int i = 0; i < n; i++)
		reach_index(s, words[i], found[i], definite);
}

static void scan_words(struct rcl_scan *s, uintptr_t lo, uintptr_t hi,
                       bool definite)
{
	uintptr_t words[BATCH];
	int n = 0;

	lo = (lo + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
	for (; lo + sizeof(uintptr_t) <= hi; lo += sizeof(uintptr_t)) {
		uintptr_t word = *(const uintptr_t *)lo;

		if (word < s->lo || word >= s->hi)
			continue;
		words[n++] = word;
		if (n == BATCH) {
			reach_batch(s, words, n, definite);
			n = 0;
		}
	}
	reach_batch(s, words, n, definite);
}

static void scan_guarded(struct rcl_scan *s, uintptr_t lo, uintptr_t hi,
                         bool definite)
{
	sigjmp_buf env;

	if (sigsetjmp(env, 0) == 0) {
		fault_env = &env;
		scan_words(s, lo, hi, definite);
	} else {
		s->faults++;
	}
	fault_env = NULL;
}

void rcl_scan_check_canary(struct rcl_snap *b)
{
	size_t at = 0;

	if (b->canary != RCL_CANARY_CHECK)
		return;
	if (rcl_heap_canary_at(b->addr, b->size, &at)) {
		b->canary = RCL_CANARY_NONE;
	} else {
		b->canary = RCL_CANARY_BAD;
		b->canary_at = (uint8_t)at;
	}
}

/* Follows everything reached so far, until nothing new is. */
static void drain(struct rcl_scan *s)
{
	while (s->top) {
		struct rcl_snap *b = &s->v[s->stack[--s->top]];

		/* The next block's bytes are on their way while this one's are read. */
		if (s->top)
			__builtin_prefetch(
			    (const void *)s->v[s->stack[s->top - 1]].addr);
		scan_guarded(s, b->addr, b->addr + b->size, b->mark == REACHED);
		rcl_scan_check_canary(b);
	}
}

void rcl_scan_root_range(struct rcl_scan *s, uintptr_t lo, uintptr_t hi)
{
	scan_guarded(s, lo, hi, true);
	drain(s);
}

void rcl_scan_root_words(struct rcl_scan *s, const uintptr_t *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (w[i] >= s->lo && w[i] < s->hi)
			reach(s, w[i], true);
	drain(s);
}

void rcl_scan_root_block(struct rcl_scan *s, size_t i)
{
	if (s->v[i].mark == REACHED)
		return;
	s->v[i].mark = REACHED;
	push(s, i);
	drain(s);
}

/* What one lost block points to joins leader's group. */
static void clique_words(struct rcl_scan *s, const struct rcl_snap *b,
                         size_t leader)
{
	uintptr_t at = b->addr, end = b->addr + b->size;

	for (; at + sizeof(uintptr_t) <= end; at += sizeof(uintptr_t)) {
		ptrdiff_t i = find(s, *(const uintptr_t *)at);

		if (i < 0 || (size_t)i == leader || s->v[i].mark != UNREACHED)
			continue;
		s->v[i].mark = INDIRECT;
		s->v[i].leader = (uint32_t)leader;
		push(s, (size_t)i);
	}
}

/* Marks what the lost block leader points to, directly or not. */
static void clique(struct rcl_scan *s, size_t leader)
{
	push(s, leader);
	while (s->top) {
		struct rcl_snap *b = &s->v[s->stack[--s->top]];
		sigjmp_buf env;

		if (sigsetjmp(env, 0) == 0) {
			fault_env = &env;
			clique_words(s, b, leader);
			rcl_scan_check_canary(b);
		} else {
			s->faults++;
		}
		fault_env = NULL;
	}
}

/*
 * After the roots: sorts the lost blocks into definite and indirect, and
 * writes each block's verdict into its kind. A leader found later by
 * another leader's fill becomes indirect too, so a lost structure has one
 * definitely lost block however its blocks lie in memory.
 */
void rcl_scan_finish(struct rcl_scan *s)
{
	static const uint8_t verdict[] = {
	    [UNREACHED] = RCL_DEFINITE,
	    [POSSIBLE] = RCL_POSSIBLE,
	    [REACHED] = RCL_REACHABLE,
	    [INDIRECT] = RCL_INDIRECT,
	};

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].mark == UNREACHED) {
			s->v[i].leader = (uint32_t)i;
			clique(s, i);
		}
	/* A leader taken in by a later one passes its blocks on. */
	for (size_t i = 0; i < s->n; i++) {
		struct rcl_snap *b = &s->v[i];

		if (b->mark == INDIRECT)
			while (s->v[b->leader].mark == INDIRECT)
				b->leader = s->v[b->leader].leader;
		b->kind = verdict[b->mark];
	}
	free_index(s);
}
