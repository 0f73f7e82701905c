/*
 * reach MODE [LIB]: one reachability situation per mode, for the scanner.
 * Every block is made in a helper and the stack is clobbered afterwards,
 * so no stale copy of a pointer is left where the scan would see it.
 *
 *   list       a leaked 5-node list of malloc(32) nodes: 32 bytes in 1
 *              block definitely lost (the head), 128 in 4 indirectly lost
 *   cycle      two malloc(24) blocks pointing to each other, nothing else:
 *              24 definitely lost, 24 indirectly lost
 *   interior   only a pointer to byte 40 of a malloc(100) block is kept in
 *              a global: 100 bytes in 1 block possibly lost
 *   xor        only the pointer XOR 0x5555 to a malloc(64) is kept: 64
 *              definitely lost
 *   global     a global holds a malloc(48) list head of 3 nodes: nothing
 *              lost, 3 blocks of 48 still reachable (frame 0 make_node)
 *   shlib      a static in LIB (libreach_hold.so, dlopened) holds a
 *              malloc(56): nothing lost
 *   shlib_tls  a __thread variable of LIB holds malloc(60): nothing lost
 *   tls        a __thread variable of the main thread holds malloc(72):
 *              nothing lost
 *   thread_tls another thread, still running at exit, holds malloc(88) in
 *              its __thread variable: nothing lost
 *   thread_stack  another thread, still running at exit, holds malloc(96)
 *              only in a local variable: nothing lost; threads_not_stopped 0
 *   c11_thread as thread_stack, with a C11 thrd_create thread and
 *              malloc(92): nothing lost
 *   blocked_thread  as thread_stack (malloc(104)), but the thread blocks
 *              every signal: nothing lost, threads_not_stopped 1
 *   exited_thread  a thread kept malloc(112) on its stack and then exited
 *              (joined): 112 definitely lost
 *   mmap       a malloc(120) pointer is stored only in an anonymous page
 *              the program mmap()ed: nothing lost
 *   churn_check  4 threads malloc and free in a loop while main calls
 *              rcleak_check() 5 times, then joins them: nothing lost, every
 *              report has threads_not_stopped 0
 *   spin_checks  3 threads spin (no system calls) while main calls
 *              rcleak_check() 100 times, then stops and joins them: every
 *              report has threads_not_stopped 0, and the program ends
 *   guard_page a global holds a 3-page aligned_alloc block whose middle
 *              page is PROT_NONE: the scan survives; 12288 bytes in 1
 *              block still reachable
 *   concurrent_checks  a global array holds 1000 malloc(32); 4 threads
 *              call rcleak_check() 10 times each: nothing lost in any report
 *   leaks_with_thread  2000 malloc(24) dropped at once, one thread asleep
 *              while main calls rcleak_check(): 48000 bytes in 2000 blocks
 *              definitely lost in the check and at exit
 *   munmap     as mmap (malloc(128)), but the page is unmapped before
 *              exit: 128 definitely lost
 * Prints "ok" last; exit status 0 unless rcleak finds lost blocks.
 */
#include "common.h"
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <threads.h>

struct node {
	struct node *next;
	char pad[24];
};

void *global_root;
void *global_interior;
uintptr_t global_xored;
__thread void *tls_root; /* not static: the stores must stay */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int ready;

static NOINLINE struct node *make_node(size_t size, struct node *next)
{
	struct node *n = malloc(size);

	REQUIRE(n != NULL);
	memset(n, 0, size);
	n->next = next;
	return n;
}

static NOINLINE void make_list(int n, size_t size, void **keep)
{
	struct node *head = NULL;

	for (int i = 0; i < n; i++)
		head = make_node(size, head);
	if (keep)
		*keep = head;
	ESCAPE(head);
	head = NULL;
	SINK();
}

static NOINLINE void make_cycle(void)
{
	struct node *a = make_node(24, NULL), *b = make_node(24, a);

	a->next = b;
	ESCAPE(a);
	SINK();
}

static NOINLINE void keep_interior(void)
{
	char *p = malloc(100);

	REQUIRE(p != NULL);
	global_interior = p + 40;
	SINK();
}

static NOINLINE void keep_xored(void)
{
	global_xored = (uintptr_t)malloc(64) ^ 0x5555;
	SINK();
}

static NOINLINE void keep_in_lib(const char *lib, const char *fn,
                                 size_t size)
{
	void *h = dlopen(lib, RTLD_NOW);
	void (*hold)(void *);

	REQUIRE(h != NULL);
	hold = (void (*)(void *))dlsym(h, fn);
	REQUIRE(hold != NULL);
	hold(malloc(size));
	SINK();
}

static NOINLINE void keep_in_tls(void)
{
	tls_root = malloc(72);
	SINK();
}

static void signal_ready(void)
{
	pthread_mutex_lock(&lock);
	ready = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

static void wait_ready(void)
{
	pthread_mutex_lock(&lock);
	while (!ready)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
}

static void *tls_worker(void *arg)
{
	(void)arg;
	tls_root = malloc(88);
	signal_ready();
	for (;;)
		pause();
	return NULL;
}

static void *stack_worker(void *arg)
{
	size_t size = (size_t)(uintptr_t)arg;
	void *volatile mine = malloc(size);
	sigset_t all;

	if (size == 104) { /* blocked_thread */
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, NULL);
	}
	signal_ready();
	for (;;) {
		ESCAPE(mine);
		pause();
	}
	return NULL;
}

static int c11_worker(void *arg)
{
	void *volatile mine = malloc(92);

	(void)arg;
	signal_ready();
	for (;;) {
		ESCAPE(mine);
		pause();
	}
	return 0;
}

static NOINLINE void start_c11(void)
{
	thrd_t t;

	REQUIRE(thrd_create(&t, c11_worker, NULL) == thrd_success);
	wait_ready();
}

static void *exiting_worker(void *arg)
{
	void *volatile mine = malloc(112);

	(void)arg;
	ESCAPE(mine);
	return NULL;
}

static NOINLINE void start(void *(*fn)(void *), size_t arg, bool join)
{
	pthread_t t;

	REQUIRE(pthread_create(&t, NULL, fn, (void *)(uintptr_t)arg) == 0);
	if (join)
		REQUIRE(pthread_join(t, NULL) == 0);
	else
		wait_ready();
}

static void *churner(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200000; i++) {
		void *volatile p = malloc(16 + i % 512);

		free(p);
	}
	return NULL;
}

static NOINLINE void check_while_churning(void)
{
	pthread_t t[4];

	for (int i = 0; i < 4; i++)
		REQUIRE(pthread_create(&t[i], NULL, churner, NULL) == 0);
	for (int i = 0; i < 5 && under_rcleak(); i++)
		rcleak_check();
	for (int i = 0; i < 4; i++)
		REQUIRE(pthread_join(t[i], NULL) == 0);
}

static atomic_int spinning = 1;

static void *spinner(void *arg)
{
	while (atomic_load(&spinning))
		for (volatile int i = 0; i < 1000; i++)
			;
	return arg;
}

static NOINLINE void spin_checks(void)
{
	pthread_t t[3];

	for (int i = 0; i < 3; i++)
		REQUIRE(pthread_create(&t[i], NULL, spinner, NULL) == 0);
	for (int i = 0; i < 100 && under_rcleak(); i++)
		rcleak_check();
	atomic_store(&spinning, 0);
	for (int i = 0; i < 3; i++)
		REQUIRE(pthread_join(t[i], NULL) == 0);
}

static NOINLINE void keep_guarded(void)
{
	char *p = aligned_alloc(4096, 3 * 4096);

	REQUIRE(p != NULL);
	REQUIRE(mprotect(p + 4096, 4096, PROT_NONE) == 0);
	global_root = p;
}

static void *held[1000];

static void *checker(void *arg)
{
	for (int i = 0; i < 10; i++)
		rcleak_check();
	return arg;
}

static NOINLINE void concurrent_checks(void)
{
	pthread_t t[4];

	for (int i = 0; i < 1000; i++)
		held[i] = malloc(32);
	if (!under_rcleak())
		return;
	for (int i = 0; i < 4; i++)
		REQUIRE(pthread_create(&t[i], NULL, checker, NULL) == 0);
	for (int i = 0; i < 4; i++)
		REQUIRE(pthread_join(t[i], NULL) == 0);
}

static void *sleeper(void *arg)
{
	usleep(1000000);
	return arg;
}

static NOINLINE void drop_many(void)
{
	for (int i = 0; i < 2000; i++) {
		void *volatile p = malloc(24);

		ESCAPE(p);
	}
}

static NOINLINE void leaks_with_thread(void)
{
	pthread_t t;

	drop_many();
	clobber_stack();
	REQUIRE(pthread_create(&t, NULL, sleeper, NULL) == 0);
	usleep(100000); /* it has started, and sleeps */
	if (under_rcleak())
		rcleak_check();
	REQUIRE(pthread_join(t, NULL) == 0);
}

static NOINLINE void *keep_in_mmap(size_t size)
{
	void **page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	REQUIRE(page != MAP_FAILED);
	page[100] = malloc(size);
	SINK();
	return page;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (strcmp(mode, "list") == 0)
		make_list(5, 32, NULL);
	else if (strcmp(mode, "cycle") == 0)
		make_cycle();
	else if (strcmp(mode, "interior") == 0)
		keep_interior();
	else if (strcmp(mode, "xor") == 0)
		keep_xored();
	else if (strcmp(mode, "global") == 0)
		make_list(3, 48, &global_root);
	else if (strcmp(mode, "shlib") == 0 && argc > 2)
		keep_in_lib(argv[2], "reach_hold", 56);
	else if (strcmp(mode, "shlib_tls") == 0 && argc > 2)
		keep_in_lib(argv[2], "reach_hold_tls", 60);
	else if (strcmp(mode, "tls") == 0)
		keep_in_tls();
	else if (strcmp(mode, "thread_tls") == 0)
		start(tls_worker, 0, false);
	else if (strcmp(mode, "thread_stack") == 0)
		start(stack_worker, 96, false);
	else if (strcmp(mode, "c11_thread") == 0)
		start_c11();
	else if (strcmp(mode, "blocked_thread") == 0)
		start(stack_worker, 104, false);
	else if (strcmp(mode, "exited_thread") == 0)
		start(exiting_worker, 0, true);
	else if (strcmp(mode, "churn_check") == 0)
		check_while_churning();
	else if (strcmp(mode, "spin_checks") == 0)
		spin_checks();
	else if (strcmp(mode, "guard_page") == 0)
		keep_guarded();
	else if (strcmp(mode, "concurrent_checks") == 0)
		concurrent_checks();
	else if (strcmp(mode, "leaks_with_thread") == 0)
		leaks_with_thread();
	else if (strcmp(mode, "mmap") == 0)
		ESCAPE(keep_in_mmap(120));
	else if (strcmp(mode, "munmap") == 0)
		REQUIRE(munmap(keep_in_mmap(128), 4096) == 0);
	else
		REQUIRE(!"unknown mode");
	clobber_stack();
	say("ok\n");
	return 0;
}
