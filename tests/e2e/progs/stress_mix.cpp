/*
 * 8 threads call every interposed allocation function at once and trade
 * blocks through shared slots, so most blocks are freed, reallocated or
 * deleted by another thread than the one that made them. Each block's
 * first bytes carry a pattern checked before it is released. At the end
 * every slot is emptied and each thread has lost exactly 100 + 50 + 30
 * bytes in 3 blocks (leak_three).
 *
 * Expect: no errors, own losses (1440, 24), allocations - frees == 24.
 */
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <pthread.h>

#include "common.h"

#define THREADS 8
#define SLOTS   512
#define ROUNDS  30000

enum how { FREE = 0, DELETE = 1, DELETE_ARRAY = 2 };

/* A block and how it must go: the low bits of its (16-aligned) address. */
static std::atomic<uintptr_t> slots[SLOTS];
static std::atomic<int> bad;

static uint8_t mark(uintptr_t p)
{
	return (uint8_t)(p >> 4 ^ p >> 12);
}

/* The first bytes, as many as release() will check. */
static size_t stamped(void *p)
{
	size_t n = malloc_usable_size(p);

	return n < 16 ? n : 16;
}

static void stamp(void *p)
{
	memset(p, mark((uintptr_t)p), stamped(p));
}

static void release(uintptr_t tagged)
{
	unsigned char *p = (unsigned char *)(tagged & ~(uintptr_t)15);

	if (p == NULL)
		return;
	for (size_t i = 0, n = stamped(p); i < n; i++)
		if (p[i] != mark((uintptr_t)p))
			bad++;
	switch (tagged & 15) {
	case DELETE: delete (char *)p; break;
	case DELETE_ARRAY: delete[] (char *)p; break;
	default: free(p);
	}
}

static void put(uint64_t *rng, void *p, enum how how)
{
	if (p == NULL) {
		bad++;
		return;
	}
	if ((uintptr_t)p & 15)
		how = FREE; /* cannot tag: not 16-aligned, so malloc family */
	stamp(p);
	release(slots[*rng % SLOTS].exchange((uintptr_t)p | how));
}

/* A malloc-family block of another thread, grown or shrunk here. */
static void realloc_one(uint64_t *rng, size_t size, bool array)
{
	uintptr_t t = slots[*rng % SLOTS].exchange(0);
	void *old = (void *)(t & ~(uintptr_t)15), *q;

	if (t != 0 && (t & 15) != FREE) { /* new/new[]: not realloc's */
		release(t);
		old = NULL;
	}
	q = array ? reallocarray(old, size / 8 + 1, 8) : realloc(old, size);
	put(rng, q, FREE);
}

static uint64_t next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

NOINLINE static void leak_three(void)
{
	void *volatile a = malloc(100);
	char *volatile b = new char[50];
	void *volatile c = calloc(1, 30);

	ESCAPE(a);
	ESCAPE(b);
	ESCAPE(c);
	a = c = NULL;
	b = NULL;
	SINK();
}

static void *worker(void *arg)
{
	uint64_t rng = (uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 1;

	for (int i = 0; i < ROUNDS; i++) {
		size_t size = 1 + next(&rng) % 700;
		void *p = NULL;

		switch (next(&rng) % 13) {
		case 0: put(&rng, malloc(size), FREE); break;
		case 1: put(&rng, calloc(size, 1), FREE); break;
		case 2: realloc_one(&rng, size, false); break;
		case 3: realloc_one(&rng, size, true); break;
		case 4:
			if (posix_memalign(&p, 64, size) == 0)
				put(&rng, p, FREE);
			break;
		case 5: put(&rng, aligned_alloc(32, 32 * (size / 32 + 1)), FREE); break;
		case 6: put(&rng, memalign(128, size), FREE); break;
		case 7: put(&rng, valloc(size), FREE); break;
		case 8: put(&rng, pvalloc(size), FREE); break;
		case 9: put(&rng, strdup("a string to copy around"), FREE); break;
		case 10: put(&rng, new char[size], DELETE_ARRAY); break;
		case 11: put(&rng, new char, DELETE); break;
		default:
			p = malloc(size);
			if (malloc_usable_size(p) < size)
				bad++;
			free(p);
		}
	}
	leak_three();
	clobber_stack();
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];

	for (uintptr_t i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)(i + 1));
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < SLOTS; i++)
		release(slots[i].exchange(0));
	printf("%s\n", bad ? "CORRUPTED" : "intact");
	return 0;
}
