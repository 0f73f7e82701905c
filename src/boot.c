/*
 * Everything about rcleak's place in the process: finding the next
 * allocator with dlsym(RTLD_NEXT), a static arena that serves dlsym's own
 * calloc while that happens, the per-thread guard, set-up on first use,
 * fork handlers, and the report at exit, made after every library's
 * destructor has run.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

struct rcl_real_fns rcl_real;
volatile int rcl_ready;
__thread int rcl_guard __attribute__((tls_model("initial-exec")));
__thread int rcl_disabled __attribute__((tls_model("initial-exec")));

/* ---- bootstrap arena: serves allocations made while dlsym runs ---- */

#define ARENA_BYTES (256 * 1024)
static char arena[ARENA_BYTES] __attribute__((aligned(64)));
static atomic_size_t arena_used;

void *rcl_boot_alloc(size_t size, size_t align)
{
	size_t start, end, cur;

	if (align < 16)
		align = 16;
	cur = atomic_load(&arena_used);
	do {
		start = (cur + 16 + align - 1) & ~(align - 1);
		end = start + size;
		if (end > ARENA_BYTES || end < start) {
			errno = ENOMEM;
			return NULL;
		}
	} while (!atomic_compare_exchange_weak(&arena_used, &cur, end));
	memcpy(arena + start - sizeof(size_t), &size, sizeof(size_t));
	return arena + start;
}

bool rcl_boot_owns(const void *p)
{
	return (const char *)p >= arena &&
	       (const char *)p < arena + ARENA_BYTES;
}

size_t rcl_boot_size(const void *p)
{
	size_t size;

	memcpy(&size, (const char *)p - sizeof(size_t), sizeof(size_t));
	return size;
}

/* ---- rcleak's own stderr ---- */

/*
 * The report goes to a duplicate of the stderr the program started with,
 * so a program that closes fd 2 and reuses it for data gets no report in
 * its file. The identity (device, inode) is kept to notice when even the
 * duplicate has been closed and its number reused.
 */
static int err_fd = -1;
static dev_t err_dev;
static ino_t err_ino;

static bool same_file(int fd)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == err_dev &&
	       st.st_ino == err_ino;
}

static void dup_stderr(void)
{
	struct stat st;

	if (fstat(2, &st) != 0)
		return;
	err_dev = st.st_dev;
	err_ino = st.st_ino;
	err_fd = fcntl(2, F_DUPFD_CLOEXEC, 900);
	if (err_fd < 0)
		err_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
}

int rcl_stderr_fd(void)
{
	if (same_file(err_fd))
		return err_fd;
	if (same_file(2))
		return 2;
	return -1;
}

/* ---- set-up ---- */

static atomic_int boot_state; /* 0 not started, 1 running, 2 done */
static pid_t image_pid;        /* 0 in a child of fork(): see _exit() */
static __thread bool booting_here __attribute__((tls_model("initial-exec")));

static void *next_fn(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

static void resolve(void)
{
	rcl_real.calloc = next_fn("calloc");
	rcl_real.free = next_fn("free");
	rcl_real.realloc = next_fn("realloc");
	rcl_real.memalign = next_fn("memalign");
	rcl_real.usable_size = next_fn("malloc_usable_size");
	/* malloc last: its presence tells the hooks the arena is done. */
	rcl_real.malloc = next_fn("malloc");
	if (!rcl_real.malloc || !rcl_real.free || !rcl_real.calloc ||
	    !rcl_real.memalign) {
		static const char msg[] =
		    "rcleak: cannot find the next malloc with dlsym\n";
		(void)!write(2, msg, sizeof(msg) - 1);
		_exit(1);
	}
}

static void parse_options(void)
{
	const char *env = getenv("RCLEAK_OPTIONS");
	char msg[256];

	rcl_options_defaults(&rcl_opt);
	if (env && rcl_options_parse(&rcl_opt, env, msg, sizeof(msg)) != 0) {
		struct rcl_out o;

		rcl_out_init_fd(&o, 2);
		rcl_out_str(&o, "rcleak: bad RCLEAK_OPTIONS: ");
		rcl_out_str(&o, msg);
		rcl_out_chr(&o, '\n');
		rcl_out_flush(&o);
		_exit(1);
	}
	rcl_options_absolute_paths(&rcl_opt);
}

/*
 * A setuid or setgid program: the user who set RCLEAK_OPTIONS must not
 * make it write or read files with its privileges.
 */
static void drop_privileged_paths(void)
{
	if (getauxval(AT_SECURE) && rcl_options_drop_paths(&rcl_opt))
		rcl_warn("the program runs with elevated privileges: log_path, "
		         "json_path and suppressions are ignored, the report "
		         "goes to stderr");
}

static void fork_prepare(void);
static void fork_parent(void);
static void fork_child(void);

static void boot(void)
{
	int cancel_state;

	/* A cancellation point here would leave boot_state at "running". */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	rcl_guard = 1;
	resolve();
	/* First: a bad option exits, and rcleak-run must know we were here. */
	rcl_run_dir_mark();
	parse_options();
	dup_stderr();
	drop_privileged_paths();
	rcl_suppress_load(); /* its messages need rcleak's stderr */
	rcl_stack_init();
	rcl_threads_init();
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	image_pid = getpid();
	rcl_guard = 0;
	pthread_setcancelstate(cancel_state, NULL);
}

bool rcl_boot(void)
{
	int expected = 0;

	if (rcl_ready)
		return true;
	if (booting_here)
		return rcl_real.malloc != NULL;
	if (atomic_compare_exchange_strong(&boot_state, &expected, 1)) {
		booting_here = true;
		boot();
		booting_here = false;
		rcl_ready = 1;
		atomic_store(&boot_state, 2);
		return true;
	}
	while (atomic_load(&boot_state) != 2)
		sched_yield();
	return true;
}

/*
 * ---- fork: no rcleak lock may be held by a thread the child lacks ----
 * glibc's fork takes the stream list lock after these handlers, and a
 * thread in fflush(NULL) holds it while a stream's writer may call malloc,
 * so it is taken here first, in the order every other path takes it.
 */

static void fork_prepare(void)
{
	rcl_stdio_lock();
	rcl_report_lock();
	rcl_unwind_lock();
	rcl_mmaps_lock();
	rcl_errors_lock();
	rcl_quarantine_lock();
	rcl_table_lock_all();
	rcl_depot_lock_all();
	rcl_meta_lock();
}

static void unlock_after_fork(void)
{
	rcl_meta_unlock();
	rcl_depot_unlock_all();
	rcl_table_unlock_all();
	rcl_quarantine_unlock();
	rcl_errors_unlock();
	rcl_mmaps_unlock();
	rcl_unwind_unlock();
	rcl_report_unlock();
}

static void fork_parent(void)
{
	unlock_after_fork();
	rcl_stdio_unlock();
}

static void fork_child(void)
{
	image_pid = 0;
	unlock_after_fork();
	rcl_threads_after_fork();
	rcl_stdio_reset_in_child();
}

/* ---- the report at exit ---- */

extern void __libc_freeres(void);

/* The process's threads, from the kernel's count; -1 if unknown. */
int rcl_thread_count(void)
{
	char buf[4096];
	ssize_t n;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	const char *p;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strstr(buf, "\nThreads:");
	return p ? atoi(p + 9) : -1;
}

/*
 * Lets glibc and libstdc++ free the caches they keep for the life of the
 * process, as valgrind does, so they are not reported. glibc's is only safe
 * when no other thread could still be using those caches.
 */
static void free_runtime_caches(void)
{
	void (*gnu_cxx_freeres)(void);

	gnu_cxx_freeres =
	    (void (*)(void))dlsym(RTLD_DEFAULT, "_ZN9__gnu_cxx9__freeresEv");
	if (gnu_cxx_freeres)
		gnu_cxx_freeres();
	if (rcl_thread_count() == 1)
		__libc_freeres();
}

static atomic_bool exit_reported;

static bool sigpipe_pending(void)
{
	sigset_t pending;

	return sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
}

/* libc's exit, not a PLT slot of a non-PIE program that took &exit. */
static uintptr_t libc_exit(void)
{
	return (uintptr_t)dlsym(RTLD_NEXT, "exit");
}

/* rcleak's _exit, not what the name resolves to in the program. */
extern void own_underscore_exit(int status)
    __attribute__((visibility("hidden"), noreturn));

/*
 * The report at exit, after every destructor. SIGPIPE is held back
 * meanwhile: the program's last flush (in __libc_freeres) into a closed
 * pipe must not kill the process before the report is written, and a
 * report into a closed stderr must not kill a program that would have
 * exited cleanly. A SIGPIPE the program's own output caused is raised
 * again afterwards, so it ends as it would have without rcleak.
 */
static bool report_at_end(bool by_exit)
{
	static const struct timespec no_wait = {0, 0};
	sigset_t pipe_only, old_mask;
	bool found, program_pipe;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask);
	if (by_exit) { /* __libc_freeres would flush what _exit() drops */
		rcl_guard = 1;
		free_runtime_caches();
		rcl_leave();
	}
	program_pipe = sigpipe_pending();
	found = rcl_report_write_at_exit(by_exit ? libc_exit()
	                                         : (uintptr_t)own_underscore_exit);
	if (by_exit && found && rcl_opt.exitcode != 0) {
		/* exit() would flush stdio after us; _exit() does not. */
		rcl_stdio_flush();
		program_pipe = program_pipe || sigpipe_pending();
	}
	while (sigtimedwait(&pipe_only, NULL, &no_wait) > 0)
		;
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	if (program_pipe && !sigismember(&old_mask, SIGPIPE))
		raise(SIGPIPE);
	return found && rcl_opt.exitcode != 0;
}

static void report_at_exit(void *arg)
{
	(void)arg;
	if (atomic_exchange(&exit_reported, true))
		return;
	if (report_at_end(true))
		_exit((int)rcl_opt.exitcode);
}

/*
 * _exit() and _Exit() run no exit handlers, yet a program that ends with
 * them (dash does) gets its report, as under valgrind. Not a child that
 * fork() made and that did not exec: it would list as lost what only the
 * parent's other threads held. Nor a vfork() child, which runs in the
 * parent's memory: getpid() tells it from the process rcleak started in.
 */
RCLEAK_EXPORT void _exit(int status)
{
	if (rcl_ready && image_pid == getpid() &&
	    !atomic_exchange(&exit_reported, true) && report_at_end(false))
		status = (int)rcl_opt.exitcode;
	for (;;)
		syscall(SYS_exit_group, status);
}

RCLEAK_EXPORT void _Exit(int status) __attribute__((alias("_exit")));
void own_underscore_exit(int status) __attribute__((alias("_exit")));

extern int __cxa_atexit(void (*fn)(void *), void *arg, void *dso);

__attribute__((constructor)) static void rcleak_ctor(void)
{
	rcl_boot();
}

/*
 * A preloaded library's destructor runs before the destructors of the
 * program's other libraries, which may still free memory. A handler
 * registered from here runs after every ELF destructor, because glibc's
 * exit re-checks its handler list once _dl_fini returns.
 */
__attribute__((destructor)) static void rcleak_dtor(void)
{
	bool entered = rcl_enter();

	__cxa_atexit(report_at_exit, NULL, NULL);
	if (entered)
		rcl_leave();
}

void rcl_assert_fail(const char *what, const char *file, int line)
{
	struct rcl_out o;

	rcl_out_init_fd(&o, rcl_stderr_fd());
	rcl_out_str(&o, "rcleak: assertion failed: ");
	rcl_out_str(&o, what);
	rcl_out_str(&o, " at ");
	rcl_out_str(&o, file);
	rcl_out_chr(&o, ':');
	rcl_out_i64(&o, line);
	rcl_out_chr(&o, '\n');
	rcl_out_flush(&o);
	abort();
}
