/*
 * cross_thread_free: 2 producer threads malloc 100,000 blocks each and hand
 * them through a mutex-protected ring to 2 consumer threads, which check
 * and free them. Every block is freed by a thread other than its
 * allocator.
 *
 * Expect: no errors, no program leaks; exit 0 (run with exitcode=0).
 */
#include "common.h"
#include <pthread.h>

#define PER_PRODUCER 100000
#define RING         1024

static void *ring[RING];
static int head, tail, count;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;

static void put(void *p)
{
	pthread_mutex_lock(&mu);
	while (count == RING)
		pthread_cond_wait(&not_full, &mu);
	ring[head] = p;
	head = (head + 1) % RING;
	count++;
	pthread_cond_signal(&not_empty);
	pthread_mutex_unlock(&mu);
}

static void *get(void)
{
	pthread_mutex_lock(&mu);
	while (count == 0)
		pthread_cond_wait(&not_empty, &mu);
	void *p = ring[tail];
	tail = (tail + 1) % RING;
	count--;
	pthread_cond_signal(&not_full);
	pthread_mutex_unlock(&mu);
	return p;
}

static void *producer(void *arg)
{
	(void)arg;
	for (int i = 0; i < PER_PRODUCER; i++) {
		size_t n = 8 + (size_t)(i % 200);
		unsigned char *p = malloc(n);
		REQUIRE(p != NULL);
		p[0] = (unsigned char)n;
		p[n - 1] = (unsigned char)n;
		put(p);
	}
	put(NULL);
	return NULL;
}

static void *consumer(void *arg)
{
	(void)arg;
	for (;;) {
		unsigned char *p = get();
		if (!p)
			return NULL;
		size_t n = p[0];
		REQUIRE(n >= 8 && p[n - 1] == (unsigned char)n);
		free(p);
	}
}

int main(void)
{
	pthread_t t[4];

	for (int i = 0; i < 2; i++)
		REQUIRE(pthread_create(&t[i], NULL, producer, NULL) == 0);
	for (int i = 2; i < 4; i++)
		REQUIRE(pthread_create(&t[i], NULL, consumer, NULL) == 0);
	for (int i = 0; i < 4; i++)
		REQUIRE(pthread_join(t[i], NULL) == 0);
	return 0;
}
