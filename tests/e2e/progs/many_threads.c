/*
 * many_threads: 300 short-lived threads, created and joined 30 at a time.
 * Each allocates and frees, stores a malloc(40) block as thread-specific
 * data whose key destructor frees it at thread exit, and leaks exactly one
 * malloc(13) from thread_leak.
 *
 * Expect (exitcode=0): program loss records are exactly 3900 bytes in 300
 * blocks, all from thread_leak (the TSD blocks freed by the key
 * destructor are not lost); no errors; exit 0.
 */
#include "common.h"
#include <pthread.h>

static pthread_key_t key;

static void tsd_free(void *p)
{
	free(p);
}

static NOINLINE void *thread_leak(void)
{
	void *p = malloc(13);
	ESCAPE(p);
	SINK();
	return p;
}

static void *body(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100; i++)
		free(malloc((size_t)i + 1));
	char *tsd = malloc(40);
	memset(tsd, 1, 40);
	REQUIRE(pthread_setspecific(key, tsd) == 0);
	thread_leak();
	return NULL;
}

int main(void)
{
	REQUIRE(pthread_key_create(&key, tsd_free) == 0);
	for (int round = 0; round < 10; round++) {
		pthread_t t[30];
		for (int i = 0; i < 30; i++)
			REQUIRE(pthread_create(&t[i], NULL, body, NULL) == 0);
		for (int i = 0; i < 30; i++)
			REQUIRE(pthread_join(t[i], NULL) == 0);
	}
	clobber_stack();
	return 0;
}
