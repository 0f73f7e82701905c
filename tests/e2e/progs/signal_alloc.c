/*
 * A signal handler that allocates, reallocates and frees while the main
 * thread is busy in malloc and free: undefined in C, but real programs do
 * it, and rcleak must not deadlock on a lock the interrupted call holds.
 * (glibc alone is not reentrant either: natively this may crash.)
 * Every block is freed in the end but one of 77 bytes.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define KEPT 64

static volatile sig_atomic_t handled;
static void *volatile kept[KEPT];

static void on_alarm(int sig)
{
	int i = handled % KEPT;
	char *p;

	(void)sig;
	switch (handled % 3) {
	case 0: p = malloc(100 + handled % 300); break;
	case 1: p = calloc(1, 40); break;
	default: p = realloc(kept[(i + 1) % KEPT], 200); kept[(i + 1) % KEPT] = NULL; break;
	}
	if (p)
		memset(p, 1, 40);
	free(kept[i]);
	kept[i] = p;
	handled++;
}

__attribute__((noinline)) static void *leak_after_signals(void)
{
	return malloc(77);
}

int main(void)
{
	struct sigaction sa = {0};
	struct itimerval every = {{0, 100}, {0, 100}}, off = {{0, 0}, {0, 0}};
	void *ring[256] = {0};
	static void *volatile leaked;

	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &every, NULL);
	for (long i = 0; i < 1000000; i++) {
		int k = i % 256;

		if (i % 5 == 0) {
			ring[k] = realloc(ring[k], 16 + i % 1000);
			continue;
		}
		free(ring[k]);
		ring[k] = (i % 3) ? malloc(16 + i % 2000) : calloc(2, 24);
	}
	setitimer(ITIMER_REAL, &off, NULL);
	for (int k = 0; k < 256; k++)
		free(ring[k]);
	for (int k = 0; k < KEPT; k++)
		free(kept[k]);
	leaked = leak_after_signals();
	printf("signals handled: %s\n", handled > 10 ? "many" : "few");
	return 0;
}
