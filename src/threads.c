/*
 * The program's threads, so that the leak check can use the stacks,
 * registers and thread-local storage of those still running as roots.
 *
 * Threads are registered by the pthread_create wrapper, from inside the
 * new thread, and forgotten by a thread-specific-data destructor when they
 * exit. To read a running thread's registers and stack pointer the report
 * stops it without ptrace (which fails under gdb, strace and in many
 * containers), the way conservative collectors do: a signal whose handler
 * publishes the interrupted context and waits until the report is done.
 * A thread that blocks the signal is given up on after a timeout.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "internal.h"

/*
 * SIGPWR, as the Boehm collector uses: programs rarely handle it. It is
 * only installed while a report stops threads.
 */
#define STOP_SIGNAL     SIGPWR
#define STOP_TIMEOUT_MS 3000

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rcl_thread *threads; /* every record, live or not */
static pthread_key_t exit_key;
static __thread struct rcl_thread *self
    __attribute__((tls_model("initial-exec")));

static _Atomic unsigned stop_gen, resume_gen, acks;
static _Atomic int in_handler; /* threads not yet out of on_stop */
static int (*real_create)(pthread_t *, const pthread_attr_t *,
                          void *(*)(void *), void *);

static pid_t gettid_raw(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/*
 * Runs at thread exit (pthread_exit, return, cancellation), among the
 * program's own key destructors, which may still use blocks only this
 * thread's stack holds: it re-arms itself until glibc's last round.
 */
static void forget(void *arg)
{
	struct rcl_thread *t = arg;

	if (++t->exit_rounds < PTHREAD_DESTRUCTOR_ITERATIONS) {
		pthread_setspecific(exit_key, t);
		return;
	}
	pthread_mutex_lock(&registry_lock);
	t->alive = false;
	pthread_mutex_unlock(&registry_lock);
	self = NULL;
	rcl_quarantine_flush();
	rcl_unwind_thread_exit();
}

/* The calling thread's stack, when it was registered with it. */
bool rcl_threads_stack_of_self(uintptr_t *lo, uintptr_t *hi)
{
	struct rcl_thread *t = self;

	if (t == NULL || t->stack_hi == 0)
		return false;
	*lo = t->stack_lo;
	*hi = t->stack_hi;
	return true;
}

pid_t rcl_threads_gettid(void)
{
	return gettid_raw();
}

/*
 * Registers the calling thread; lo == hi == 0 when its stack is unknown.
 * All under the lock: a thread the report can see already knows itself.
 */
static void register_self(uintptr_t lo, uintptr_t hi)
{
	struct rcl_thread *t;

	pthread_mutex_lock(&registry_lock);
	for (t = threads; t && t->alive; t = t->next)
		;
	if (t == NULL) {
		t = rcl_meta_alloc(sizeof(*t));
		if (t) {
			memset(t, 0, sizeof(*t));
			t->next = threads;
			threads = t;
		}
	}
	if (t) {
		t->tid = gettid_raw();
		t->tp = (uintptr_t)pthread_self();
		t->stack_lo = lo;
		t->stack_hi = hi;
		t->stopped_gen = 0;
		t->exit_rounds = 0;
		t->alive = true;
		self = t;
	}
	pthread_mutex_unlock(&registry_lock);
	if (t)
		pthread_setspecific(exit_key, t);
}

void rcl_threads_init(void)
{
	pthread_key_create(&exit_key, forget);
	real_create =
	    (int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
	             void *))dlsym(RTLD_NEXT, "pthread_create");
	/* The main thread's stack is found in /proc/self/maps when needed. */
	register_self(0, 0);
}

struct start {
	void *(*fn)(void *);
	void *arg;
};

static void *start_thread(void *p)
{
	struct start st = *(struct start *)p;
	uintptr_t lo = 0, hi = 0;
	pthread_attr_t attr;
	void *addr;
	size_t size;

	rcl_meta_free(p, sizeof(st));
	rcl_guard = 1; /* pthread_getattr_np may allocate */
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
			lo = (uintptr_t)addr;
			hi = lo + size;
		}
		pthread_attr_destroy(&attr);
	}
	register_self(lo, hi);
	rcl_guard = 0;
	return st.fn(st.arg);
}

int rcl_threads_create(pthread_t *thread, const pthread_attr_t *attr,
                       void *(*fn)(void *), void *arg)
{
	struct start *st;
	int err;

	if (!rcl_boot())
		return EAGAIN;
	if (real_create == NULL) /* called while rcleak itself boots */
		real_create =
		    (int (*)(pthread_t *, const pthread_attr_t *,
		             void *(*)(void *), void *))dlsym(RTLD_NEXT,
		                                              "pthread_create");
	st = rcl_meta_alloc(sizeof(*st));
	if (st == NULL)
		return real_create(thread, attr, fn, arg);
	st->fn = fn;
	st->arg = arg;
	err = real_create(thread, attr, start_thread, st);
	if (err)
		rcl_meta_free(st, sizeof(*st));
	return err;
}

/* In a forked child only the forking thread is left. */
void rcl_threads_after_fork(void)
{
	pthread_mutex_init(&registry_lock, NULL);
	for (struct rcl_thread *t = threads; t; t = t->next)
		t->alive = t == self;
	if (self)
		self->tid = gettid_raw();
}

/*
 * The stop signal's handler: publishes the interrupted registers and
 * waits until the report resumes the world. Only async-signal-safe calls.
 */
static void on_stop(int sig, siginfo_t *info, void *context)
{
	ucontext_t *uc = context;
	struct rcl_thread *t = self;
	unsigned gen = atomic_load(&stop_gen);
	int saved_errno = errno;

	(void)sig;
	(void)info;
	/* A late signal, after the report gave up on this thread. */
	if (t == NULL || atomic_load(&resume_gen) == gen ||
	    t->stopped_gen == gen)
		return;
	atomic_fetch_add(&in_handler, 1);
	_Static_assert(sizeof(t->regs) ==
	                   sizeof(uc->uc_mcontext.gregs) +
	                       sizeof(uc->uc_mcontext.fpregs->_xmm),
	               "rcl_thread.regs holds the general and xmm registers");
	memcpy(t->regs, uc->uc_mcontext.gregs, sizeof(uc->uc_mcontext.gregs));
	if (uc->uc_mcontext.fpregs)
		memcpy(t->regs + NGREG, uc->uc_mcontext.fpregs->_xmm,
		       sizeof(uc->uc_mcontext.fpregs->_xmm));
	t->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
	t->stopped_gen = gen;
	atomic_fetch_add(&acks, 1);
	rcl_futex(&acks, FUTEX_WAKE, 1, NULL);
	/* Resumed by this report or any later one (a late wake-up). */
	for (unsigned seen; (int)((seen = atomic_load(&resume_gen)) - gen) < 0;)
		rcl_futex(&resume_gen, FUTEX_WAIT, seen, NULL);
	atomic_fetch_sub(&in_handler, 1);
	errno = saved_errno;
}

/*
 * A thread that blocks the stop signal would only cost the timeout: its
 * mask is in /proc/self/task/TID/status ("SigBlk:", hex, bit n-1 for
 * signal n).
 */
static bool blocks_stop_signal(pid_t tid)
{
	char path[64], buf[2048];
	const char *p;
	ssize_t n;
	size_t len;
	int fd, bit = STOP_SIGNAL - 1, digit;

	memcpy(path, "/proc/self/task/", 16);
	len = 16 + rcl_fmt_u64(path + 16, (uint64_t)tid);
	memcpy(path + len, "/status", 8);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	p = strstr(buf, "\nSigBlk:");
	if (p == NULL)
		return false;
	p += 8;
	while (*p == ' ' || *p == '\t')
		p++;
	len = strspn(p, "0123456789abcdef");
	if ((size_t)(bit / 4) >= len)
		return false;
	digit = p[len - 1 - bit / 4];
	digit = digit <= '9' ? digit - '0' : digit - 'a' + 10;
	return digit >> (bit % 4) & 1;
}

static struct sigaction saved_action;
static sigset_t reporter_mask; /* under registry_lock */
static bool handler_left;      /* a thread may still get a late signal */

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 +
	       (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * Stops every other live thread; returns how many could not be stopped.
 * The registry stays locked until rcl_threads_resume, so no thread starts
 * or ends meanwhile.
 */
size_t rcl_threads_stop(void)
{
	struct sigaction sa;
	sigset_t stop_only;
	unsigned gen, expected = 0;
	struct timespec t0;
	size_t missed = 0;
	pid_t me = gettid_raw();

	pthread_mutex_lock(&registry_lock);
	/* A stray stop signal must not stop the reporter itself. */
	sigemptyset(&stop_only);
	sigaddset(&stop_only, STOP_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &stop_only, &reporter_mask);
	gen = atomic_fetch_add(&stop_gen, 1) + 1;
	atomic_store(&acks, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_stop;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);
	sigaction(STOP_SIGNAL, &sa, handler_left ? NULL : &saved_action);
	for (struct rcl_thread *t = threads; t; t = t->next) {
		t->stopped = false;
		if (!t->alive || t->tid == me || blocks_stop_signal(t->tid))
			continue;
		if (syscall(SYS_tgkill, getpid(), t->tid, STOP_SIGNAL) != 0) {
			t->alive = false; /* gone without its destructor */
			continue;
		}
		expected++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		unsigned got = atomic_load(&acks);
		long left = STOP_TIMEOUT_MS - ms_since(&t0);
		struct timespec wait = {0, 10 * 1000000};

		if (got >= expected || left <= 0)
			break;
		rcl_futex(&acks, FUTEX_WAIT, got, &wait);
	}
	for (struct rcl_thread *t = threads; t; t = t->next) {
		if (!t->alive || t->tid == me)
			continue;
		t->stopped = t->stopped_gen == gen;
		missed += !t->stopped;
	}
	return missed;
}

void rcl_threads_resume(size_t missed)
{
	struct timespec t0;

	atomic_store(&resume_gen, atomic_load(&stop_gen));
	rcl_futex(&resume_gen, FUTEX_WAKE, 0x7fffffff, NULL);
	/*
	 * Let them leave the handler before the next report may stop them
	 * again (a thread still in it has the signal blocked). Bounded: a
	 * thread may be descheduled for long.
	 */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (atomic_load(&in_handler) > 0 && ms_since(&t0) < STOP_TIMEOUT_MS)
		sched_yield();
	pthread_sigmask(SIG_SETMASK, &reporter_mask, NULL);
	/*
	 * A thread that did not answer may still take the signal later: our
	 * handler then returns at once, where the default action would kill.
	 */
	if (missed)
		handler_left = true;
	if (!handler_left)
		sigaction(STOP_SIGNAL, &saved_action, NULL);
	pthread_mutex_unlock(&registry_lock);
}

/* With the world stopped: the registry, read-only. */
const struct rcl_thread *rcl_threads_list(void)
{
	return threads;
}
