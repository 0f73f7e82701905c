/*
 * unwind_paths: stacks the cached unwinder (unwind.c) must get exactly
 * right, compared by the test with unwind_cache=0 (libunwind throughout).
 *
 * - path_a and path_b have the same frame shape, so mid() calls malloc at
 *   the very same stack pointer from either: a cache keyed by the stack
 *   pointer alone would give path_b's blocks path_a's stack. Each leaks 3
 *   blocks, alternately: 3 x 100 bytes from path_a, 3 x 200 from path_b.
 * - in_alloca: a frame with alloca, whose CFA is rbp-based: 2 x 50 bytes.
 * - a thread: thread_leaf leaks 60 bytes.
 * - a signal handler (on the thread's stack, then on an alternate stack)
 *   leaks 70 and 80 bytes: the signal frame goes to libunwind.
 *
 * Expect: definitely lost 300+600+100+60+70 bytes in 10 blocks (the 80
 * bytes stay reachable from the dead frame in the static alternate
 * stack); exit 0.
 */
#include <alloca.h>
#include <pthread.h>
#include <signal.h>

#include "common.h"

static void *kept[16];
static int nkept;

static NOINLINE void leak(size_t n)
{
	void *p = malloc(n);

	ESCAPE(p);
	SINK();
}

static NOINLINE void mid(size_t n)
{
	leak(n);
	SINK();
}

static NOINLINE void path_a(void)
{
	mid(100);
	SINK();
}

static NOINLINE void path_b(void)
{
	mid(200);
	SINK();
}

static NOINLINE void in_alloca(size_t n)
{
	char *buf = alloca(n);

	ESCAPE(buf);
	leak(50);
	SINK();
}

static NOINLINE void thread_leaf(void)
{
	leak(60);
	SINK();
}

static void *thread_main(void *arg)
{
	(void)arg;
	thread_leaf();
	return NULL;
}

static size_t handler_size = 70;

static void on_signal(int sig)
{
	(void)sig;
	leak(handler_size);
}

int main(void)
{
	static char altstack[64 * 1024];
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
	struct sigaction sa = {.sa_handler = on_signal};
	pthread_t t;

	for (int i = 0; i < 3; i++) {
		path_a();
		path_b();
	}
	in_alloca(16);
	in_alloca(4000);
	pthread_create(&t, NULL, thread_main, NULL);
	pthread_join(t, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	sigaltstack(&ss, NULL);
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	handler_size = 80;
	raise(SIGUSR1);
	(void)kept;
	(void)nkept;
	return 0;
}
