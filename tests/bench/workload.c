/*
 * Synthetic allocation workloads for `make bench` (tests/bench/bench.py).
 *
 * usage: workload MODE [SCALE]
 *   MODE  churn | threads | tree | deep
 *   SCALE multiplies the iteration counts (default 1.0); bench.py uses a
 *         smaller one for the slowest tools (valgrind, lsan-dwarf).
 *
 * Each mode is deterministic (a fixed-seed xorshift, never rand()), prints
 * "pairs N" on stdout (malloc+free pairs done; blocks left live for tree),
 * and, as the very last thing main does, "bench-main-done T" on stderr with
 * T = CLOCK_MONOTONIC in seconds: bench.py takes the same clock when wait()
 * returns, so the difference is the time spent after main (the exit-time
 * leak report of the tool under test).
 *
 * Built with plain -O2 -g: on x86-64 that omits frame pointers, as most
 * distribution binaries do, so frame-pointer unwinders see what they would
 * see in the field.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Iteration counts at scale 1.0, tuned for 0.5-2 s natively on 2 cores. */
#define CHURN_PAIRS   10000000L
#define THREADS_N     4
#define THREADS_PAIRS 2500000L /* per thread: 10 M in all, as churn */
#define TREE_NODES    1000000L /* two blocks each: node and key */
#define DEEP_PAIRS    3000000L
#define DEEP_LEVELS   48   /* frames between main and the allocation */
#define DEEP_BATCH    1    /* pairs per descent */
#define RING_SLOTS    4096 /* live working set of churn and threads */

static double scale = 1.0;

static long scaled(long n)
{
	long v = (long)(n * scale);
	return v > 0 ? v : 1;
}

/* xorshift64: fast, deterministic, and the same on every libc. */
static uint64_t next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* 16 B .. 4 KiB, log-uniform: as many 16-31 B blocks as 2-4 KiB ones. */
static size_t mixed_size(uint64_t r)
{
	size_t base = (size_t)16 << (r % 8);
	return base + (size_t)((r >> 8) % base);
}

/* Written so the compiler cannot drop the allocation. */
static unsigned long sink;

static void touch(void *p, size_t n)
{
	unsigned char *c = p;
	c[0] = (unsigned char)n;
	c[n - 1] = (unsigned char)(n >> 3);
	sink += c[0];
}

/*
 * One ring of live blocks; each step replaces a random slot. Every 16th
 * step is a calloc, every 16th (offset by 8) a realloc of the slot in place
 * of the free+malloc: both count as one pair.
 */
static long churn_ring(long pairs, uint64_t seed)
{
	void **ring = calloc(RING_SLOTS, sizeof *ring);
	uint64_t s = seed;
	for (long i = 0; i < pairs; i++) {
		uint64_t r = next(&s);
		size_t slot = (r >> 40) % RING_SLOTS;
		size_t n = mixed_size(r);
		if ((i & 15) == 8 && ring[slot]) {
			void *q = realloc(ring[slot], n);
			if (!q)
				abort();
			ring[slot] = q;
		} else {
			free(ring[slot]);
			ring[slot] = (i & 15) == 0 ? calloc(1, n) : malloc(n);
			if (!ring[slot])
				abort();
		}
		touch(ring[slot], n);
	}
	for (size_t i = 0; i < RING_SLOTS; i++)
		free(ring[i]);
	free(ring);
	return pairs;
}

static long run_churn(void)
{
	return churn_ring(scaled(CHURN_PAIRS), 0x9e3779b97f4a7c15ull);
}

struct worker {
	pthread_t tid;
	long pairs;
	uint64_t seed;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	churn_ring(w->pairs, w->seed);
	return NULL;
}

/* The same churn in 4 threads at once, to show lock contention. */
static long run_threads(void)
{
	struct worker w[THREADS_N];
	long total = 0;
	for (int i = 0; i < THREADS_N; i++) {
		w[i].pairs = scaled(THREADS_PAIRS);
		w[i].seed = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]))
			abort();
		total += w[i].pairs;
	}
	for (int i = 0; i < THREADS_N; i++)
		pthread_join(w[i].tid, NULL);
	return total;
}

/* 40 bytes with the padding: a typical small node. prefix holds the key's
 * first 8 bytes in big-endian order, so most comparisons never touch the
 * key block (it keeps the native run short; the key is still compared on
 * a tie). */
struct node {
	struct node *left, *right;
	char *key;
	uint64_t prefix;
	uint64_t value;
};

/* Still reachable at exit: the tool's report must classify every block. */
struct node *tree_root;

static char *random_key(uint64_t *s)
{
	uint64_t r = next(s);
	size_t len = 7 + r % 33; /* 8..40 bytes with the NUL */
	char *k = malloc(len + 1);
	if (!k)
		abort();
	for (size_t i = 0; i < len; i++) {
		if (i % 8 == 0)
			r = next(s);
		k[i] = (char)('a' + (r >> (i % 8 * 8)) % 26);
	}
	k[len] = 0;
	return k;
}

/*
 * An iterative insert, as most trees are written. tree measures what each
 * live block costs; a recursive insert would give nearly every node a
 * stack of its own (each of 20 frames a left or a right call), which
 * measures the stack depot instead: `deep` is the workload for stacks.
 */
static void insert(struct node **root, char *key, uint64_t prefix,
                   uint64_t value)
{
	struct node **at = root, *n;

	while (*at) {
		struct node *t = *at;
		int less = prefix != t->prefix ? prefix < t->prefix
		                               : strcmp(key, t->key) < 0;
		at = less ? &t->left : &t->right;
	}
	n = malloc(sizeof *n);
	if (!n)
		abort();
	n->left = n->right = NULL;
	n->key = key;
	n->prefix = prefix;
	n->value = value;
	*at = n;
}

static long run_tree(void)
{
	uint64_t s = 0x2545f4914f6cdd1dull;
	long n = scaled(TREE_NODES);
	for (long i = 0; i < n; i++) {
		char *key = random_key(&s);
		uint64_t prefix = 0;
		for (int j = 0; j < 8; j++) /* key has at least 7 chars + NUL */
			prefix = prefix << 8 | (unsigned char)key[j];
		insert(&tree_root, key, prefix, (uint64_t)i);
	}
	return 2 * n;
}

/*
 * deep: every allocation is made DEEP_LEVELS frames below main. noipa keeps
 * each level a real call (no inlining, cloning or IPA shortcuts) and the
 * empty asm after the call keeps it out of tail position, so no level turns
 * into a jump. Two functions alternate by the bits of a 12-bit path number,
 * so the program has 4096 distinct stacks, as a real one might.
 */
static void *deep_ring[256];

__attribute__((noipa)) static long deep_leaf(uint64_t *s)
{
	for (int i = 0; i < DEEP_BATCH; i++) {
		uint64_t r = next(s);
		size_t slot = (r >> 40) % 256;
		size_t n = mixed_size(r) / 4 + 1;
		free(deep_ring[slot]);
		deep_ring[slot] = malloc(n);
		if (!deep_ring[slot])
			abort();
		touch(deep_ring[slot], n);
	}
	return DEEP_BATCH;
}

__attribute__((noipa)) static long deep_b(int level, uint64_t path,
                                          uint64_t *s);

__attribute__((noipa)) static long deep_a(int level, uint64_t path, uint64_t *s)
{
	long r = level == 0
	             ? deep_leaf(s)
	             : (path & 1 ? deep_b : deep_a)(level - 1, path >> 1, s);
	__asm__ volatile("" ::: "memory");
	return r;
}

__attribute__((noipa)) static long deep_b(int level, uint64_t path, uint64_t *s)
{
	long r = level == 0
	             ? deep_leaf(s)
	             : (path & 1 ? deep_a : deep_b)(level - 1, path >> 1, s);
	__asm__ volatile("" ::: "memory");
	return r;
}

static long run_deep(void)
{
	uint64_t s = 0xda942042e4dd58b5ull;
	long want = scaled(DEEP_PAIRS), done = 0;
	for (uint64_t d = 0; done < want; d++)
		done +=
		    deep_a(DEEP_LEVELS, (d * 0x9e3779b97f4a7c15ull) >> 52, &s);
	for (int i = 0; i < 256; i++)
		free(deep_ring[i]);
	return done;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s churn|threads|tree|deep [scale]\n",
		        argv[0]);
		return 2;
	}
	if (argc == 3 && (scale = strtod(argv[2], NULL)) <= 0) {
		fprintf(stderr, "workload: bad scale '%s'\n", argv[2]);
		return 2;
	}
	long pairs;
	if (!strcmp(argv[1], "churn"))
		pairs = run_churn();
	else if (!strcmp(argv[1], "threads"))
		pairs = run_threads();
	else if (!strcmp(argv[1], "tree"))
		pairs = run_tree();
	else if (!strcmp(argv[1], "deep"))
		pairs = run_deep();
	else {
		fprintf(stderr, "workload: unknown mode '%s'\n", argv[1]);
		return 2;
	}
	printf("pairs %ld\n", pairs);
	fflush(stdout);
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	fprintf(stderr, "bench-main-done %ld.%09ld\n", (long)t.tv_sec,
	        t.tv_nsec);
	fflush(stderr);
	return 0;
}
