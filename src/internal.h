/*
 * Cross-file declarations of rcleak, grouped under the file that defines
 * them. Nothing here is public: the public calls are in include/rcleak.h.
 */
#ifndef RCLEAK_INTERNAL_H
#define RCLEAK_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* uthash tables live in rcleak's own memory, never in the traced heap. */
#define uthash_malloc(sz)    rcl_meta_alloc(sz)
#define uthash_free(ptr, sz) rcl_meta_free((ptr), (sz))
#define HASH_NONFATAL_OOM    1
void *rcl_meta_alloc(size_t size);
void rcl_meta_free(void *p, size_t size);
#include <uthash.h>
/*
 * uthash lets a chain reach ten entries before it grows the table; each
 * is a cache miss, and the stack depot looks up a stack on every memo
 * miss (cc1: a fifth of its time in the chains). Grow sooner.
 */
#undef HASH_BKT_CAPACITY_THRESH
#define HASH_BKT_CAPACITY_THRESH 3U

#define RCLEAK_VERSION  "0.1.0"
#define RCLEAK_EXPORT   __attribute__((visibility("default")))
#define RCL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define RCL_LIKELY(x)   __builtin_expect(!!(x), 1)
#define RCL_NOINLINE    __attribute__((noinline))

#ifdef RCL_DEBUG
#define RCL_ASSERT(x) ((x) ? (void)0 : rcl_assert_fail(#x, __FILE__, __LINE__))
#else
#define RCL_ASSERT(x) ((void)0)
#endif
void rcl_assert_fail(const char *what, const char *file, int line);

/* Which call made a block, and which call released it. */
enum rcl_alloc_kind {
	RCL_MALLOC,
	RCL_CALLOC,
	RCL_REALLOC,
	RCL_REALLOCARRAY,
	RCL_POSIX_MEMALIGN,
	RCL_ALIGNED_ALLOC,
	RCL_MEMALIGN,
	RCL_VALLOC,
	RCL_PVALLOC,
	RCL_NEW,
	RCL_NEW_ARRAY,
	RCL_ALLOC_KINDS
};

enum rcl_free_kind { RCL_FREE, RCL_DELETE, RCL_DELETE_ARRAY, RCL_REALLOC_FREE };

/* The family a block must be released with: free, delete or delete[]. */
enum rcl_family { RCL_FAMILY_MALLOC, RCL_FAMILY_NEW, RCL_FAMILY_NEW_ARRAY };

typedef uint32_t rcl_stack_id; /* 0 = no stack recorded */

/* ---- boot.c: real allocator, bootstrap arena, guard, process life ---- */

struct rcl_real_fns {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void *(*memalign)(size_t, size_t);
	size_t (*usable_size)(void *); /* NULL if the next allocator has none */
};
extern struct rcl_real_fns rcl_real;
extern volatile int rcl_ready; /* 1 once the real allocator is resolved */

/*
 * Set while this thread runs rcleak's own code: allocations it makes then
 * are internal (kept apart, never reported) and nothing recurses.
 */
extern __thread int rcl_guard __attribute__((tls_model("initial-exec")));
/* Per-thread rcleak_disable() depth: blocks made meanwhile are ignored. */
extern __thread int rcl_disabled __attribute__((tls_model("initial-exec")));

/* rcl_guard while the next allocator runs (heap.c real_alloc, next_free). */
#define RCL_GUARD_IN_NEXT 2

/*
 * How many of rcleak's locks (table, depot, quarantine, meta, errors) this
 * thread holds or is taking, counting the quarantine batch it is filling.
 * A signal handler that allocates on top of rcleak must not wait for one
 * of them: reentry.c serves it instead.
 */
extern __thread int rcl_locks_held __attribute__((tls_model("initial-exec")));
/* Frees a signal handler made on top of rcleak, done at rcl_leave(). */
extern __thread int rcl_deferred_frees __attribute__((tls_model("initial-exec")));

/*
 * Around a lock or a per-thread structure changed without one: counted
 * before it is taken and after it is let go, so a signal in between sees
 * it as held.
 */
static inline void rcl_hold(void)
{
	rcl_locks_held++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static inline void rcl_unhold(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	rcl_locks_held--;
}

static inline void rcl_lock(pthread_mutex_t *m)
{
	rcl_hold();
	pthread_mutex_lock(m);
}

static inline void rcl_unlock(pthread_mutex_t *m)
{
	pthread_mutex_unlock(m);
	rcl_unhold();
}

/*
 * The live-block table's shard lock, which every malloc and every free
 * takes: without contention it is one compare-and-swap and one exchange,
 * where pthread_mutex_lock and unlock ran 55 instructions (lock kinds,
 * elision, robust lists). 0 free, 1 held, 2 held with a thread asleep on
 * it (Drepper, "Futexes Are Tricky", mutex 2); lock.c sleeps and wakes.
 */
typedef struct {
	uint32_t state; /* only through __atomic builtins */
} rcl_mutex;
#define RCL_MUTEX_INIT {0}

struct timespec;
/* syscall(SYS_futex) on a word of this process (FUTEX_PRIVATE_FLAG added). */
long rcl_futex(void *word, int op, uint32_t val,
               const struct timespec *timeout);
RCL_NOINLINE __attribute__((cold)) void rcl_mutex_wait(rcl_mutex *m);
RCL_NOINLINE __attribute__((cold)) void rcl_mutex_wake(rcl_mutex *m);

static inline void rcl_mutex_lock(rcl_mutex *m)
{
	uint32_t free_state = 0;

	rcl_hold();
	if (RCL_UNLIKELY(!__atomic_compare_exchange_n(
	        &m->state, &free_state, 1, false, __ATOMIC_ACQUIRE,
	        __ATOMIC_RELAXED)))
		rcl_mutex_wait(m);
}

static inline void rcl_mutex_unlock(rcl_mutex *m)
{
	if (RCL_UNLIKELY(__atomic_exchange_n(&m->state, 0, __ATOMIC_RELEASE) ==
	                 2))
		rcl_mutex_wake(m);
	rcl_unhold();
}

static inline bool rcl_enter(void)
{
	if (rcl_guard)
		return false;
	rcl_guard = 1;
	return true;
}

void rcl_reentry_drain(void);

static inline void rcl_leave(void)
{
	rcl_guard = 0;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (RCL_UNLIKELY(rcl_deferred_frees))
		rcl_reentry_drain();
}

bool rcl_boot(void); /* true when the real allocator may be used */
void *rcl_boot_alloc(size_t size, size_t align);
bool rcl_boot_owns(const void *p);
size_t rcl_boot_size(const void *p);
int rcl_stderr_fd(void);
int rcl_thread_count(void); /* -1 if unknown */

/* ---- stdio.c: the program's streams, as glibc keeps them ---- */

/* Flushes the program's stdio buffers without waiting on a stream lock. */
void rcl_stdio_flush(void);
void rcl_stdio_lock(void);
void rcl_stdio_unlock(void);
void rcl_stdio_reset_in_child(void);
/* With the lock held: FILEs and stdio buffers of the open streams. */
size_t rcl_stdio_count(void);
size_t rcl_stdio_blocks(uintptr_t *out, size_t max);

/* ---- options.c ---- */

#define RCL_LIST_MAX 16
struct rcl_list {
	const char *v[RCL_LIST_MAX];
	int n;
};

struct rcl_options {
#define X(type, name, def, lo, hi, help) RCL_OPT_##type name;
#define RCL_OPT_INT                      long
#define RCL_OPT_BOOL                     long
#define RCL_OPT_STR                      char *
#define RCL_OPT_KINDS                    unsigned /* bit 1 << rcl_leak_kind */
#define RCL_OPT_LIST                     struct rcl_list
#include "options.def"
#undef X
};
extern struct rcl_options rcl_opt;
/* Parses "k=v:k=v" over the defaults; 0 or -EINVAL with a message. */
int rcl_options_parse(struct rcl_options *o, const char *s, char *msg,
                      size_t msglen);
void rcl_options_defaults(struct rcl_options *o);
/* Makes relative log_path and json_path absolute (from the cwd now). */
void rcl_options_absolute_paths(struct rcl_options *o);
/* Forgets log_path, json_path and suppressions; true if any was set. */
bool rcl_options_drop_paths(struct rcl_options *o);
void rcl_options_forget_strings(void); /* values parsed so far go stale */

/* ---- spans.c: address ranges that a signal handler may ask about ---- */

struct rcl_span {
	uintptr_t base; /* 0: a free slot */
	size_t len;
};
struct rcl_spans {
	struct rcl_span *v;
	size_t n;
	size_t live; /* ranges in v */
};
#define RCL_SPANS(name, slots)                                                 \
	static struct rcl_span name##_slots[slots];                            \
	static struct rcl_spans name = {name##_slots, slots, 0}
bool rcl_spans_add(struct rcl_spans *s, uintptr_t base, size_t len);
const struct rcl_span *rcl_spans_find(struct rcl_spans *s, uintptr_t addr);
void rcl_spans_remove(struct rcl_spans *s, const struct rcl_span *span);

/* ---- meta.c: rcleak's own memory, from mmap, never the interposed heap */

void *rcl_meta_alloc(size_t size);
void rcl_meta_free(void *p, size_t size);
void rcl_meta_note_failure(void);
bool rcl_meta_failed(void); /* tracking was incomplete at some point */
/* Whether p is in rcleak's memory, and how many bytes follow it there. */
bool rcl_meta_span(const void *p, size_t *bytes_to_end);
void rcl_meta_lock(void);
void rcl_meta_unlock(void);

/* n rounded up to whole 4 KiB pages. */
static inline size_t rcl_page_round(size_t n)
{
	return (n + 4095) & ~(size_t)4095;
}

/* ---- stack.c ---- */

#define RCL_MAX_DEPTH 64
void rcl_stack_init(void);
rcl_stack_id rcl_stack_capture(void);
int rcl_stack_unwind(uintptr_t *ips, int max); /* skips rcleak's frames */
extern uintptr_t rcl_own_lo, rcl_own_hi; /* rcleak's mapped range */
static inline bool rcl_stack_is_own(uintptr_t ip)
{
	return ip >= rcl_own_lo && ip < rcl_own_hi;
}
bool rcl_stack_caller_of(uintptr_t fn, uintptr_t *sp, uintptr_t *regs);

/* ---- unwind.c: the cached DWARF unwinder of the hot path ---- */

/* The caller's stack in the depot; false: use libunwind instead. */
bool rcl_unwind_capture(rcl_stack_id *id);
int rcl_unwind_ips(uintptr_t *ips, int max); /* for the tests; -1: no */
void rcl_unwind_thread_exit(void);
void rcl_unwind_forget_modules(void); /* after a dlclose */
void rcl_unwind_lock(void);
void rcl_unwind_unlock(void);

/* ---- depot.c ---- */

struct rcl_stack {
	uint32_t depth;
	uintptr_t ips[]; /* return addresses, innermost first */
};
rcl_stack_id rcl_depot_put(const uintptr_t *ips, uint32_t depth);
const struct rcl_stack *rcl_depot_get(rcl_stack_id id);
bool rcl_depot_degenerate(void); /* for the tests */
void rcl_depot_usage(uint64_t *stacks, uint64_t *bytes);
void rcl_depot_lock_all(void);
void rcl_depot_unlock_all(void);

/* ---- table.c: live and quarantined blocks, sharded by address ---- */

enum rcl_block_flag {
	RCL_IGNORED = 1,   /* rcleak_ignore() or allocated while disabled */
	RCL_DAMAGED = 2,   /* an overflow or write after free was reported */
	RCL_NO_CANARY = 4, /* no canary was written after this block */
	RCL_INTERNAL = 8,  /* allocated under rcleak's guard: never reported */
	RCL_OWN_MEMORY = 16 /* RCL_INTERNAL, in rcleak's memory (meta.c) */
};

/*
 * 24 bytes: the table keeps one per live block. The size is split so the
 * record packs; 48 bits exceed any x86-64 user address space.
 */
struct rcl_block {
	uintptr_t addr;   /* 0 in a record on the free list */
	uint32_t size_lo; /* rcl_block_size(): what the program asked for */
	rcl_stack_id alloc_stack;
	uint32_t next; /* table.c: the next record in its chain or free list */
	uint16_t size_hi;
	uint8_t kind;  /* enum rcl_alloc_kind */
	uint8_t flags; /* enum rcl_block_flag */
};

static inline size_t rcl_block_size(const struct rcl_block *b)
{
	return (size_t)b->size_lo | (size_t)b->size_hi << 32;
}

static inline void rcl_block_set_size(struct rcl_block *b, size_t size)
{
	b->size_lo = (uint32_t)size;
	b->size_hi = (uint16_t)(size >> 32);
}

/* A freed block, as the quarantine keeps it. */
struct rcl_freed {
	struct rcl_block block;
	rcl_stack_id free_stack;
};

/*
 * A record pointer from find or insert is good only while its shard stays
 * locked: the shard's record array may move when it grows.
 */
struct rcl_shard;
struct rcl_shard *rcl_table_shard(uintptr_t addr);
void rcl_table_prefetch(uintptr_t addr); /* before a lookup, unlocked */
void rcl_table_lock(struct rcl_shard *s);
void rcl_table_unlock(struct rcl_shard *s);
bool rcl_table_lock_unless_mine(struct rcl_shard *s);
/*
 * rcl_table_visit for a process's last report: each block leaves the
 * table as it is visited, and the table's memory goes with it.
 */
void rcl_table_drain(void (*fn)(struct rcl_block *b, void *arg), void *arg,
                     uint64_t *allocs, uint64_t *frees);
bool rcl_table_drained(void); /* since then, unknown frees are not errors */
struct rcl_block *rcl_table_find(struct rcl_shard *s, uintptr_t addr);
struct rcl_block *rcl_table_insert(struct rcl_shard *s, uintptr_t addr);
void rcl_table_remove(struct rcl_shard *s, struct rcl_block *b);
void rcl_table_count(struct rcl_shard *s, int allocs, int frees);
size_t rcl_table_size(void);
void rcl_table_visit(void (*fn)(struct rcl_block *b, void *arg), void *arg,
                     uint64_t *allocs, uint64_t *frees);
void rcl_table_totals(uint64_t *allocs, uint64_t *frees);
void rcl_table_lock_all(void);
void rcl_table_unlock_all(void);
bool rcl_table_find_containing(uintptr_t addr, struct rcl_block *out);
/* Calls fn shard by shard, each locked in turn, until fn returns false. */
void rcl_table_walk(bool (*fn)(struct rcl_block *b, void *arg), void *arg);
size_t rcl_table_bytes(void); /* resident bytes; all shards locked */

/*
 * ---- reentry.c: calls from a signal handler that interrupted rcleak ----
 * Unsafe while this thread holds one of rcleak's locks or is inside the
 * next allocator: then a block comes from its own mapping, and a free
 * waits until the interrupted call leaves rcleak.
 */
static inline bool rcl_reentry_unsafe(void)
{
	return rcl_locks_held > 0 || rcl_guard == RCL_GUARD_IN_NEXT;
}
void *rcl_reentry_alloc(size_t size, size_t align);
bool rcl_reentry_owns(const void *p, size_t *size);
bool rcl_reentry_free(void *p); /* false: p is not one of its blocks */
void rcl_reentry_defer_free(void *p, enum rcl_free_kind how);

/* ---- heap.c: what each interposed call does ---- */

#define RCL_CANARY_SIZE 8
#define RCL_POISON_BYTE 0xfd

void *rcl_heap_alloc(size_t size, size_t align, enum rcl_alloc_kind kind);
void *rcl_heap_calloc(size_t n, size_t size);
void *rcl_heap_realloc(void *p, size_t size, enum rcl_alloc_kind kind);
void rcl_heap_free(void *p, enum rcl_free_kind how);
size_t rcl_heap_usable_size(void *p);
void rcl_heap_free_deferred(void *p, enum rcl_free_kind how);
/* Releases an evicted quarantine block for good: check, untrack, free. */
void rcl_heap_release(const struct rcl_freed *rec);
struct rcl_error;
bool rcl_heap_freed_damaged(const struct rcl_freed *rec, struct rcl_error *e);
bool rcl_heap_canary_ok(const struct rcl_block *b, size_t *offset);
bool rcl_heap_canary_at(uintptr_t addr, size_t size, size_t *offset);
bool rcl_heap_poison_ok(const struct rcl_block *b, size_t *offset);
size_t rcl_heap_poison_len(size_t size);
enum rcl_family rcl_family_of(enum rcl_alloc_kind kind);
const char *rcl_alloc_name(enum rcl_alloc_kind kind);
const char *rcl_free_name(enum rcl_free_kind kind);

/* ---- quarantine.c ---- */

void rcl_quarantine_push(const struct rcl_freed *rec);
/* A quarantined block at addr, or containing it when containing is set. */
bool rcl_quarantine_find(uintptr_t addr, bool containing,
                         struct rcl_freed *out);
/* Hands the calling thread's batch of freed blocks to the shared queue. */
void rcl_quarantine_flush(void);
size_t rcl_quarantine_bytes(void);
/* Checks every quarantined block's poison (at exit and on check). */
void rcl_quarantine_check_all(void);
void rcl_quarantine_lock(void);
void rcl_quarantine_unlock(void);

/* ---- errors.c: memory errors seen during the run ---- */

enum rcl_error_kind {
	RCL_DOUBLE_FREE,
	RCL_INVALID_FREE,
	RCL_WRITE_AFTER_FREE,
	RCL_HEAP_OVERFLOW,
	RCL_MISMATCHED_FREE,
};

struct rcl_error {
	struct rcl_error *next;
	uint8_t kind;       /* enum rcl_error_kind */
	uint8_t alloc_kind; /* enum rcl_alloc_kind, if has_block */
	uint8_t free_kind;  /* enum rcl_free_kind of the offending call */
	bool has_block;     /* a block is known: size and alloc_kind valid */
	uintptr_t address;  /* pointer the program passed, or the block */
	size_t size;
	size_t offset; /* see report-format.md; meaningful per kind */
	rcl_stack_id stack, alloc_stack, free_stack;
};

void rcl_error_raise(const struct rcl_error *e);
/* heap.c: the error of this kind about block b, found at stack in how. */
struct rcl_error rcl_block_error(enum rcl_error_kind kind,
                                 const struct rcl_block *b,
                                 rcl_stack_id free_stack,
                                 enum rcl_free_kind how, size_t offset,
                                 rcl_stack_id stack);
struct rcl_error *rcl_errors_list(size_t *count);
size_t rcl_errors_dropped(void);
void rcl_errors_lock(void);
void rcl_errors_unlock(void);
const char *rcl_error_name(enum rcl_error_kind kind);

/* ---- report.c ---- */

enum rcl_leak_kind {
	RCL_DEFINITE,
	RCL_INDIRECT,
	RCL_POSSIBLE,
	RCL_REACHABLE,
	RCL_SUPPRESSED,
	RCL_LEAK_KINDS
};

struct rcl_loss {
	uint8_t kind;       /* enum rcl_leak_kind */
	uint8_t alloc_kind; /* of the first block */
	bool same_size;     /* every block has size first_size */
	rcl_stack_id stack;
	size_t first_size;
	uint64_t bytes, blocks;
};

struct rcl_total {
	uint64_t bytes, blocks;
};

struct rcl_error_group {
	const struct rcl_error *first;
	size_t count;
	size_t order; /* index of the first occurrence */
};

/* One report: what both writers print. */
struct rcl_report {
	const char *when; /* "exit", "check" */
	int pid, ppid;
	const char *exe;
	struct rcl_total total[RCL_LEAK_KINDS];
	uint64_t allocations, frees;
	struct rcl_loss *losses;
	size_t nlosses;
	struct rcl_error *errors;
	size_t nerrors;
	/* The errors once per (kind, stacks), in order of first occurrence. */
	struct rcl_error_group *groups;
	size_t ngroups;
	size_t threads_not_stopped; /* scanned while they ran */
	struct rcl_memory {         /* rcleak's own, at the snapshot */
		uint64_t tracked_blocks, table_bytes;
		uint64_t depot_stacks, depot_bytes, quarantine_bytes;
	} memory;
	bool incomplete;            /* rcleak ran out of its own memory */
	bool halted;
};

/* Writes the report now; returns true when it found leaks or errors. */
bool rcl_report_write(const char *when, bool halted);
/* The exit report: the program's stack is what lies above its call to fn. */
bool rcl_report_write_at_exit(uintptr_t fn);
bool rcl_report_busy(void); /* this thread is writing a report */
void rcl_report_lock(void);
void rcl_report_unlock(void);
const char *rcl_leak_kind_name(enum rcl_leak_kind kind);

/* ---- run_dir.c: what rcleak-run learns of each process ---- */

void rcl_run_dir_mark(void); /* the library runs in this process */
void rcl_run_dir_note(const struct rcl_report *r, bool found);

/* ---- mmaps.c: mappings the program made itself ---- */

struct rcl_range {
	uintptr_t lo, hi;
};

/* System calls without libc's names, which rcleak interposes. */
void *rcl_sys_mmap(void *addr, size_t len, int prot, int flags, int fd,
                   long off);
int rcl_sys_munmap(void *addr, size_t len);
void *rcl_mmaps_map(void *addr, size_t len, int prot, int flags, int fd,
                    long off);
int rcl_mmaps_unmap(void *addr, size_t len);
void *rcl_mmaps_remap(void *old, size_t old_len, size_t len, int flags,
                      void *new_addr);
struct rcl_range *rcl_mmaps_copy(size_t *n);
void rcl_mmaps_lock(void);
void rcl_mmaps_unlock(void);

/* ---- threads.c: the program's threads, stopped for the leak check ---- */

struct rcl_thread {
	struct rcl_thread *next;
	int tid;
	bool alive;           /* started, and not yet exited */
	bool stopped;         /* by the current rcl_threads_stop */
	unsigned stopped_gen; /* written by the stop handler */
	unsigned exit_rounds; /* key destructor rounds seen at exit */
	uintptr_t tp;         /* pthread_self(): static TLS lies below */
	uintptr_t stack_lo;   /* 0, 0 for the main thread: see the maps */
	uintptr_t stack_hi;
	uintptr_t sp;            /* where it was stopped */
	uintptr_t regs[23 + 32]; /* general registers, then xmm0-15 */
};

void rcl_threads_init(void);
int rcl_threads_create(pthread_t *thread, const pthread_attr_t *attr,
                       void *(*fn)(void *), void *arg);
void rcl_threads_after_fork(void);
bool rcl_threads_stack_of_self(uintptr_t *lo, uintptr_t *hi);
pid_t rcl_threads_gettid(void);
/* Returns how many threads could not be stopped. */
size_t rcl_threads_stop(void);
void rcl_threads_resume(size_t missed);
const struct rcl_thread *rcl_threads_list(void);

/* ---- roots_linux.c: where the leak check looks for pointers ---- */

struct rcl_map { /* a line of /proc/self/maps */
	uintptr_t lo, hi;
	bool readable, writable, main_stack;
};

struct rcl_roots {
	struct rcl_range *data; /* modules' writable segments */
	size_t ndata, datacap;
	struct rcl_range *mmaps; /* the program's own mappings */
	size_t nmmaps;
	struct rcl_map *maps; /* /proc/self/maps, sorted */
	size_t nmaps, mapcap;
	size_t tls_size;
};

/*
 * One report's roots: prepared before the world stops, scanned with it
 * stopped, released after.
 */
struct rcl_scan;
void rcl_roots_prepare(struct rcl_roots *rt);
void rcl_roots_scan(struct rcl_roots *rt, struct rcl_scan *s, uintptr_t self_sp,
                    const uintptr_t *self_regs, size_t nregs);
void rcl_roots_release(struct rcl_roots *rt);

/* ---- scan.c: reachability of the live blocks ---- */

/*
 * A live block as the report sees it, in one consistent snapshot: 24
 * bytes, one per live block, on top of the table unless it was drained.
 */
struct rcl_snap {
	uintptr_t addr;
	uint64_t size : 48;      /* 48 bits: any x86-64 user address space */
	uint64_t alloc_kind : 4; /* enum rcl_alloc_kind */
	uint64_t kind : 3;       /* enum rcl_leak_kind: the verdict */
	uint64_t mark : 2;       /* scan.c's working state */
	uint64_t root : 1;       /* reachable by rule: ignored, loader, stdio */
	uint64_t canary : 2;     /* enum rcl_snap_canary */
	uint64_t canary_at : 3;  /* RCL_CANARY_BAD: its first damaged byte */
	rcl_stack_id stack;
	uint32_t leader; /* lost: the definitely lost block reaching it */
};

/*
 * A block's canary is checked when the scan reads the block anyway (it
 * lies just past the last byte): at the snapshot it was a cache miss of
 * its own for every block.
 */
enum rcl_snap_canary { RCL_CANARY_NONE, RCL_CANARY_CHECK, RCL_CANARY_BAD };
/* The canary check of the snapshot's block b, once. */
void rcl_scan_check_canary(struct rcl_snap *b);

struct rcl_scan {
	struct rcl_snap *v; /* sorted by address */
	size_t n;
	uintptr_t lo, hi; /* no block outside [lo, hi) */
	/*
	 * The start addresses alone, as offsets from their window's sample,
	 * or NULL. A "wide" window spans 4 GiB or more: searched in v.
	 */
	uint32_t *keys;
	uintptr_t *sample; /* every INDEX_STEP-th start address */
	bool *wide;        /* per window of INDEX_STEP */
	size_t nsample;
	uint32_t *stack;  /* room for 2 * n + 1 indexes */
	size_t top;
	size_t faults; /* ranges cut short by unreadable memory */
};

void rcl_scan_sort(struct rcl_snap *v, size_t n); /* by address */
/* While scanning: a fault in the memory read skips the rest of a range. */
void rcl_scan_guard_begin(void);
void rcl_scan_guard_end(void);
void rcl_scan_init(struct rcl_scan *s, struct rcl_snap *v, size_t n,
                   uint32_t *stack);
void rcl_scan_root_range(struct rcl_scan *s, uintptr_t lo, uintptr_t hi);
void rcl_scan_root_words(struct rcl_scan *s, const uintptr_t *w, size_t n);
void rcl_scan_root_block(struct rcl_scan *s, size_t i);
/* Classifies what the roots did not reach; sets every block's kind. */
void rcl_scan_finish(struct rcl_scan *s);

/* ---- symbolize.c ---- */

/*
 * One frame as printed. A return address whose call was inlined gives
 * several: the inlined functions first (inlined = true), each with the
 * file:line inside it, then the function that really holds the code.
 */
struct rcl_frame {
	uintptr_t ip;
	const char *function; /* NULL when unknown */
	const char *file;     /* NULL when unknown */
	int line;             /* 0 when unknown */
	const char *module;   /* never NULL: "?" when unknown */
	uintptr_t offset;     /* ip relative to the module's load address */
	bool inlined;         /* inlined into the frame that follows */
};

void rcl_symbolize_begin(void);
/* The frames of one return address (at least 1), valid until _end. */
size_t rcl_symbolize(uintptr_t ip, const struct rcl_frame **frames);
void rcl_symbolize_end(void);

/* ---- modules.c: modules unloaded with dlclose ---- */

struct dl_phdr_info;
/* Where a loaded module's segments lie, [lo, hi). */
void rcl_module_range(const struct dl_phdr_info *info, uintptr_t *lo,
                      uintptr_t *hi);

struct rcl_closed_module {
	struct rcl_closed_module *next;
	uintptr_t bias;   /* load bias: file address = ip - bias */
	uintptr_t lo, hi; /* mapped range while it was loaded */
	char path[];
};

const struct rcl_closed_module *rcl_modules_closed(void); /* newest first */
/* The dynamic loader's address range. */
bool rcl_modules_loader(uintptr_t *lo, uintptr_t *hi);

/* ---- out.c: buffered fd writer with a tiny formatter ---- */

struct rcl_out {
	void (*write)(struct rcl_out *o, const char *buf, size_t len);
	int fd;
	bool failed; /* a write failed: the rest is dropped */
	int error;   /* errno of the failed write */
	size_t len;
	char buf[8192];
};

void rcl_out_init_fd(struct rcl_out *o, int fd);
void rcl_out_str(struct rcl_out *o, const char *s);
void rcl_out_mem(struct rcl_out *o, const char *s, size_t n);
void rcl_out_text(struct rcl_out *o, const char *s, size_t n);

/* A byte of the user's text in a one-line message: controls as '?'. */
static inline char rcl_printable(char c)
{
	unsigned char u = (unsigned char)c;

	return u < 0x20 || u == 0x7f ? '?' : c;
}
void rcl_out_chr(struct rcl_out *o, char c);
void rcl_out_u64(struct rcl_out *o, uint64_t v);
void rcl_out_i64(struct rcl_out *o, int64_t v);
void rcl_out_hex(struct rcl_out *o, uint64_t v);         /* 0x... */
void rcl_out_grouped(struct rcl_out *o, uint64_t v);     /* 1,234,567 */
void rcl_out_json_str(struct rcl_out *o, const char *s); /* quoted, or null */
void rcl_out_flush(struct rcl_out *o);
/* Writes v in decimal to dst (no NUL); returns the length. */
size_t rcl_fmt_u64(char *dst, uint64_t v);
/* Expands %p in a path to the pid; returns false when it does not fit. */
bool rcl_expand_path(const char *pattern, char *dst, size_t dstlen);
/* Writes one line to rcleak's stderr, prefixed "rcleak: ". */
void rcl_warn(const char *msg);

/* ---- suppress.c ---- */

#define RCL_SUPPRESS_BUILTIN "<built-in>" /* file of the built-in ones */

/* One "leak:PATTERN" line; blocks and bytes count the current report. */
struct rcl_suppression {
	struct rcl_suppression *next; /* in match order: files, then built-in */
	const char *pattern;          /* after "leak:", trimmed */
	const char *file;             /* as given, or RCL_SUPPRESS_BUILTIN */
	const char *path;             /* absolute, or RCL_SUPPRESS_BUILTIN */
	unsigned line;                /* 1-based line (index if built-in) */
	bool builtin;                 /* from suppress.c's own list */
	uint64_t blocks, bytes;       /* suppressed by it in this report */
};

/* At start-up: the files of option suppressions, then the built-in ones. */
void rcl_suppress_load(void);
/* One file; says on err why it is unreadable (-errno) or a line is bad. */
int rcl_suppress_load_file(const char *file, struct rcl_out *err);
/* Parses text in place (text[len] writable); returns lines ignored. */
int rcl_suppress_parse(char *text, size_t len, const char *file,
                       const char *path, struct rcl_out *err);
bool rcl_suppress_template_match(const char *templ, const char *str);
const struct rcl_suppression *rcl_suppress_list(void);
void rcl_suppress_forget(void);
/* First suppression matching any frame of stack; needs symbolize_begin. */
struct rcl_suppression *rcl_suppress_match(rcl_stack_id stack);
void rcl_suppress_count(struct rcl_suppression *s, uint64_t blocks,
                        uint64_t bytes);
/*
 * Makes lost blocks whose stack matches suppressed, and with a definitely
 * lost one everything it alone keeps (its indirectly lost blocks), as
 * LeakSanitizer does; resets the counts first.
 */
void rcl_suppress_apply(struct rcl_snap *v, size_t n);
/* gen_suppressions: a "leak:" line that matches this stack. */
void rcl_suppress_suggest(struct rcl_out *o, rcl_stack_id stack);

/* ---- report_text.c, report_json.c ---- */

void rcl_text_write(struct rcl_out *o, const struct rcl_report *r);
void rcl_json_write(struct rcl_out *o, const struct rcl_report *r);

#endif
