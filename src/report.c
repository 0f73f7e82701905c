/*
 * The report model: a snapshot of the never-freed blocks grouped into loss
 * records by (kind, allocation stack), sorted by bytes, plus the errors and
 * the summary. report_text.c and report_json.c print the same model.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "internal.h"

_Static_assert(RCL_ALLOC_KINDS <= 16 && RCL_LEAK_KINDS <= 8 &&
                   RCL_CANARY_SIZE <= 8,
               "struct rcl_snap's bit fields hold them");

struct snapshot {
	struct rcl_snap *v;
	size_t n, cap;
	uintptr_t loader_lo, loader_hi; /* the dynamic loader's code */
	uintptr_t *stdio;               /* libc's stream blocks, sorted */
	size_t nstdio, stdio_cap;
	/* Blocks whose canary was found damaged, raised after unlocking. */
	struct rcl_error *damaged;
	size_t ndamaged, damaged_cap;
	/* loader_block() by stack id: most blocks share a few stacks. */
	rcl_stack_id seen[256];
	bool seen_loader[256];
};

static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int reporting __attribute__((tls_model("initial-exec")));

const char *rcl_leak_kind_name(enum rcl_leak_kind kind)
{
	static const char *const names[] = {"definitely_lost",
	                                    "indirectly_lost", "possibly_lost",
	                                    "still_reachable", "suppressed"};

	return names[kind];
}

static bool grow(struct snapshot *s, size_t want)
{
	size_t cap = s->cap ? s->cap * 2 : 4096;

	if (cap < want)
		cap = want;
	struct rcl_snap *v = rcl_meta_alloc(cap * sizeof(*v));

	if (v == NULL)
		return false;
	if (s->n)
		memcpy(v, s->v, s->n * sizeof(*v));
	rcl_meta_free(s->v, s->cap * sizeof(*v));
	s->v = v;
	s->cap = cap;
	return true;
}

/*
 * Blocks the dynamic loader allocated for itself (a thread's DTV, dlopen
 * bookkeeping, TLS of dlopened modules) belong to it for the life of the
 * process and are never lost, as with LeakSanitizer: the loader made the
 * call when frame 0 is in its code.
 */
static bool loader_block(struct snapshot *s, const struct rcl_block *b)
{
	rcl_stack_id id = b->alloc_stack;
	size_t slot = id % 256;
	const struct rcl_stack *st;

	if (s->seen[slot] == id && id != 0)
		return s->seen_loader[slot];
	st = rcl_depot_get(id);
	s->seen[slot] = id;
	s->seen_loader[slot] = st->depth > 0 && st->ips[0] >= s->loader_lo &&
	                       st->ips[0] < s->loader_hi;
	return s->seen_loader[slot];
}

static int by_address(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Open streams and their buffers are still in use by libc, which frees
 * them itself in __libc_freeres; when other threads still run at exit that
 * cannot be called, and without this they would count as lost.
 */
static bool stdio_block(const struct snapshot *s, const struct rcl_block *b)
{
	return s->nstdio && bsearch(&b->addr, s->stdio, s->nstdio,
	                            sizeof(s->stdio[0]), by_address);
}

static void take_stdio(struct snapshot *s)
{
	s->stdio_cap = rcl_stdio_count();
	s->stdio = s->stdio_cap
	               ? rcl_meta_alloc(s->stdio_cap * sizeof(*s->stdio))
	               : NULL;
	if (s->stdio == NULL)
		return;
	s->nstdio = rcl_stdio_blocks(s->stdio, s->stdio_cap);
	qsort(s->stdio, s->nstdio, sizeof(*s->stdio), by_address);
}

static void note_damaged(struct snapshot *s, const struct rcl_block *b,
                         size_t offset)
{
	if (s->ndamaged == s->damaged_cap) {
		size_t cap = s->damaged_cap ? 2 * s->damaged_cap : 16;
		struct rcl_error *d = rcl_meta_alloc(cap * sizeof(*d));

		if (d == NULL)
			return;
		if (s->ndamaged)
			memcpy(d, s->damaged, s->ndamaged * sizeof(*d));
		rcl_meta_free(s->damaged, s->damaged_cap * sizeof(*d));
		s->damaged = d;
		s->damaged_cap = cap;
	}
	s->damaged[s->ndamaged++] =
	    rcl_block_error(RCL_HEAP_OVERFLOW, b, 0, RCL_FREE, offset, 0);
}

/*
 * Runs with the block's shard locked: the copy the scan works on. Its
 * canary is checked when the scan reads the block (find_damaged).
 */
static void take(struct rcl_block *b, void *arg)
{
	struct snapshot *s = arg;
	struct rcl_snap *e;

	if (b->flags & RCL_INTERNAL)
		return;
	if (s->n == s->cap && !grow(s, 0))
		return;
	e = &s->v[s->n++];
	e->addr = b->addr;
	e->size = rcl_block_size(b);
	e->stack = b->alloc_stack;
	e->alloc_kind = b->kind;
	e->root =
	    (b->flags & RCL_IGNORED) || loader_block(s, b) || stdio_block(s, b);
	e->kind = RCL_DEFINITE;
	e->canary = (b->flags & (RCL_DAMAGED | RCL_NO_CANARY))
	                ? RCL_CANARY_NONE
	                : RCL_CANARY_CHECK;
}

/*
 * Blocks whose canary the scan found damaged (and any it did not read):
 * marked in the table, still locked, so each is reported once.
 */
static void find_damaged(struct snapshot *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct rcl_snap *e = &s->v[i];
		struct rcl_shard *shard;
		struct rcl_block *b;

		struct rcl_block gone = {.addr = e->addr,
		                         .alloc_stack = e->stack,
		                         .kind = e->alloc_kind};

		rcl_scan_check_canary(e);
		if (e->canary != RCL_CANARY_BAD)
			continue;
		shard = rcl_table_shard(e->addr);
		b = rcl_table_find(shard, e->addr);
		if (b) /* not in a drained table */
			b->flags |= RCL_DAMAGED;
		rcl_block_set_size(&gone, e->size);
		note_damaged(s, &gone, e->canary_at);
	}
}

/*
 * Sorts the blocks into the valgrind kinds. Runs with every table shard
 * locked, so no block is freed meanwhile; the program's other threads are
 * stopped while their stacks and registers are read. Blocks reachable by
 * rule (ignored, the loader's, stdio's) are roots themselves.
 */
static void classify(struct rcl_report *r, struct snapshot *s,
                     struct rcl_roots *roots, uintptr_t self_sp,
                     const uintptr_t *regs, size_t nregs)
{
	struct rcl_scan scan;
	uint32_t *stack;
	size_t cap = 2 * s->n + 1;

	rcl_scan_sort(s->v, s->n);
	stack = rcl_meta_alloc(cap * sizeof(*stack));
	if (stack == NULL) { /* cannot tell: call nothing lost */
		for (size_t i = 0; i < s->n; i++)
			s->v[i].kind = RCL_REACHABLE;
		return;
	}
	rcl_scan_init(&scan, s->v, s->n, stack);
	r->threads_not_stopped = rcl_threads_stop();
	rcl_scan_guard_begin();
	rcl_roots_scan(roots, &scan, self_sp, regs, nregs);
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].root)
			rcl_scan_root_block(&scan, i);
	rcl_scan_finish(&scan);
	rcl_scan_guard_end();
	rcl_threads_resume(r->threads_not_stopped);
	rcl_meta_free(stack, cap * sizeof(*stack));
}

static int by_bytes(const void *a, const void *b)
{
	const struct rcl_loss *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	if (x->blocks != y->blocks)
		return x->blocks < y->blocks ? 1 : -1;
	if (x->kind != y->kind)
		return x->kind - y->kind;
	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

/*
 * One loss record per (kind, stack), gathered in a hash table of record
 * indexes: sorting millions of blocks to group them took most of a big
 * report's time, and the records are few next to the blocks.
 */
static void group(struct rcl_report *r, struct snapshot *s)
{
	size_t slots = 64, mask;
	uint32_t *index; /* 0: empty, else a record's index + 1 */

	while (slots < 2 * s->n)
		slots *= 2;
	mask = slots - 1;
	r->losses = rcl_meta_alloc((s->n ? s->n : 1) * sizeof(*r->losses));
	index = rcl_meta_alloc(slots * sizeof(*index));
	r->nlosses = 0;
	if (r->losses == NULL || index == NULL) {
		rcl_meta_free(index, slots * sizeof(*index));
		return;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct rcl_snap *b = &s->v[i];
		size_t h = ((uint64_t)b->stack * 0x9e3779b97f4a7c15ull >> 20 ^
		            b->kind) & mask;
		struct rcl_loss *l;

		while (index[h] && (r->losses[index[h] - 1].kind != b->kind ||
		                    r->losses[index[h] - 1].stack != b->stack))
			h = (h + 1) & mask;
		if (index[h] == 0) {
			l = &r->losses[r->nlosses++];
			index[h] = (uint32_t)r->nlosses;
			*l = (struct rcl_loss){.kind = b->kind,
			                       .alloc_kind = b->alloc_kind,
			                       .same_size = true,
			                       .stack = b->stack,
			                       .first_size = b->size};
		}
		l = &r->losses[index[h] - 1];
		l->bytes += b->size;
		l->blocks++;
		if (b->size != l->first_size)
			l->same_size = false;
		r->total[b->kind].bytes += b->size;
		r->total[b->kind].blocks++;
	}
	rcl_meta_free(index, slots * sizeof(*index));
	qsort(r->losses, r->nlosses, sizeof(*r->losses), by_bytes);
}

struct indexed_error {
	const struct rcl_error *e;
	size_t index; /* order of occurrence */
};

static bool same_place(const struct rcl_error *p, const struct rcl_error *q)
{
	return p->kind == q->kind && p->stack == q->stack &&
	       p->alloc_stack == q->alloc_stack &&
	       p->free_stack == q->free_stack;
}

static int by_error_key(const void *a, const void *b)
{
	const struct indexed_error *x = a, *y = b;
	const struct rcl_error *p = x->e, *q = y->e;

	if (p->kind != q->kind)
		return p->kind - q->kind;
	if (p->stack != q->stack)
		return p->stack < q->stack ? -1 : 1;
	if (p->alloc_stack != q->alloc_stack)
		return p->alloc_stack < q->alloc_stack ? -1 : 1;
	if (p->free_stack != q->free_stack)
		return p->free_stack < q->free_stack ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int by_order(const void *a, const void *b)
{
	const struct rcl_error_group *x = a, *y = b;

	return x->order < y->order ? -1 : x->order > y->order;
}

/*
 * The same error at the same place, in a loop, is printed once with a
 * count (as valgrind does); the JSON still lists every occurrence.
 */
static void group_errors(struct rcl_report *r)
{
	const struct rcl_error *e = r->errors;
	struct indexed_error *v;
	size_t n = 0;

	r->ngroups = 0;
	r->groups = NULL;
	if (r->nerrors == 0)
		return;
	v = rcl_meta_alloc(r->nerrors * sizeof(*v));
	r->groups = rcl_meta_alloc(r->nerrors * sizeof(*r->groups));
	if (v == NULL || r->groups == NULL)
		goto out;
	for (size_t i = 0; i < r->nerrors && e; i++, e = e->next)
		v[n++] = (struct indexed_error){e, i};
	qsort(v, n, sizeof(*v), by_error_key);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && same_place(v[i].e, v[j].e); j++)
			;
		r->groups[r->ngroups++] = (struct rcl_error_group){
		    .first = v[i].e, .count = j - i, .order = v[i].index};
	}
	qsort(r->groups, r->ngroups, sizeof(*r->groups), by_order);
out:
	rcl_meta_free(v, r->nerrors * sizeof(*v));
}

static void raise_overflows(const struct snapshot *s)
{
	for (size_t i = 0; i < s->ndamaged; i++)
		rcl_error_raise(&s->damaged[i]);
}

static const char *exe_path(void)
{
	static char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

	path[n > 0 ? n : 0] = 0;
	return path;
}

/*
 * The JSON file of a report. The exit report goes to json_path itself; the
 * n-th check report to the same name with ".check<n>" before a ".json"
 * ending (out.json -> out.check1.json), so the exit report does not
 * overwrite it.
 */
static bool json_file(const struct rcl_report *r, char *path, size_t len)
{
	static unsigned checks;
	size_t n, ext;
	char num[24];
	size_t numlen;

	if (!rcl_expand_path(rcl_opt.json_path, path, len))
		return false;
	if (r->when[0] != 'c')
		return true;
	n = strlen(path);
	ext = n >= 5 && strcmp(path + n - 5, ".json") == 0 ? n - 5 : n;
	numlen = rcl_fmt_u64(num, ++checks);
	if (n + 6 + numlen + 1 > len)
		return false;
	memmove(path + ext + 6 + numlen, path + ext, n - ext + 1);
	memcpy(path + ext, ".check", 6);
	memcpy(path + ext + 6, num, numlen);
	return true;
}

/* "rcleak: cannot VERB OPTION 'PATH': WHY[; the report goes to stderr]" */
static void say_cannot(const char *verb, const char *option, const char *path,
                       int error)
{
	struct rcl_out o;

	rcl_out_init_fd(&o, rcl_stderr_fd());
	rcl_out_str(&o, "rcleak: cannot ");
	rcl_out_str(&o, verb);
	rcl_out_chr(&o, ' ');
	rcl_out_str(&o, option);
	rcl_out_str(&o, " '");
	rcl_out_str(&o, path);
	rcl_out_str(&o, "': ");
	rcl_out_str(&o, strerror(error));
	if (option[0] == 'l')
		rcl_out_str(&o, "; the report goes to stderr");
	rcl_out_chr(&o, '\n');
	rcl_out_flush(&o);
}

/*
 * Opens a report file; on failure says why and returns -1. The first text
 * report of a process truncates log_path, later ones (checks, then the
 * exit report) append to it.
 */
static int open_report(const char *option, const char *pattern,
                       const char *path)
{
	static int log_owner; /* pid that has truncated log_path */
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_TRUNC;
	int fd = -1;

	if (option[0] == 'l') {
		if (log_owner == getpid())
			flags = (flags & ~O_TRUNC) | O_APPEND;
		log_owner = getpid();
	}
	errno = ENAMETOOLONG;
	if (path)
		fd = open(path, flags, 0600);
	if (fd < 0)
		say_cannot("open", option, path ? path : pattern, errno);
	return fd;
}

static void emit(const struct rcl_report *r)
{
	struct rcl_out *o = rcl_meta_alloc(sizeof(*o));
	char path[4096];
	int fd = -1;

	if (o == NULL)
		return;
	if (rcl_opt.log_path[0])
		fd = open_report(
		    "log_path", rcl_opt.log_path,
		    rcl_expand_path(rcl_opt.log_path, path, sizeof(path))
		        ? path
		        : NULL);
	rcl_out_init_fd(o, fd >= 0 ? fd : rcl_stderr_fd());
	rcl_text_write(o, r);
	rcl_out_flush(o);
	if (fd >= 0) {
		close(fd);
		if (o->failed) { /* a full disk, /dev/full: stderr then */
			say_cannot("write", "log_path", path, o->error);
			rcl_out_init_fd(o, rcl_stderr_fd());
			rcl_text_write(o, r);
			rcl_out_flush(o);
		}
	}
	if (rcl_opt.json_path[0]) {
		fd =
		    open_report("json_path", rcl_opt.json_path,
		                json_file(r, path, sizeof(path)) ? path : NULL);
		if (fd >= 0) {
			rcl_out_init_fd(o, fd);
			rcl_json_write(o, r);
			rcl_out_flush(o);
			close(fd);
			if (o->failed)
				say_cannot("write", "json_path", path,
				           o->error);
		}
	}
	rcl_meta_free(o, sizeof(*o));
}

/* Errors, or blocks of a kind in option fail_on. */
static bool found_problems(const struct rcl_report *r)
{
	for (int k = RCL_DEFINITE; k <= RCL_REACHABLE; k++)
		if ((rcl_opt.fail_on >> k & 1) && r->total[k].blocks)
			return true;
	return r->nerrors > 0;
}

void rcl_report_lock(void)
{
	pthread_mutex_lock(&report_lock);
}

void rcl_report_unlock(void)
{
	pthread_mutex_unlock(&report_lock);
}

bool rcl_report_busy(void)
{
	return reporting;
}

/*
 * The registers a caller keeps its values in across a call; the others
 * hold only what earlier calls left there, which must not count.
 */
static const uintptr_t *callee_saved(const ucontext_t *uc, uintptr_t *out)
{
	static const int regs[] = {REG_RBX, REG_RBP, REG_R12,
	                           REG_R13, REG_R14, REG_R15};

	for (int i = 0; i < 6; i++)
		out[i] = (uintptr_t)uc->uc_mcontext.gregs[regs[i]];
	return out;
}

static bool write_report(const char *when, bool halted, uintptr_t self_sp,
                         const uintptr_t *self_regs);

bool rcl_report_write(const char *when, bool halted)
{
	ucontext_t entry;
	uintptr_t regs[6];

	/*
	 * The caller's registers as they are now, and the stack from here
	 * up, are roots: the program called in with them. Frames below are
	 * rcleak's own.
	 */
	getcontext(&entry);
	return write_report(when, halted, (uintptr_t)(&entry + 1),
	                    callee_saved(&entry, regs));
}

/*
 * The exit report, with the roots of the program as it called fn (libc's
 * exit, or rcleak's own _exit): the frames under that call are exit's and
 * rcleak's, and a stale word in them (a pointer rcleak's malloc left in
 * its frame at the same depth) must not keep a lost block reachable.
 */
bool rcl_report_write_at_exit(uintptr_t fn)
{
	uintptr_t sp, regs[6];
	int saved_guard = rcl_guard;
	bool found;

	rcl_guard = 1; /* what libunwind maps or allocates is rcleak's */
	found = fn && rcl_stack_caller_of(fn, &sp, regs);
	rcl_guard = saved_guard;
	if (!found)
		return rcl_report_write("exit", false);
	return write_report("exit", false, sp, regs);
}

/*
 * The exit report of a process with one thread: no code of the program
 * runs after it, so the table may go as the snapshot is taken.
 */
static bool last_report(const char *when)
{
	return strcmp(when, "exit") == 0 && rcl_thread_count() == 1;
}

static bool write_report(const char *when, bool halted, uintptr_t self_sp,
                         const uintptr_t *self_regs)
{
	struct rcl_report r = {.when = when, .halted = halted};
	struct snapshot s = {0};
	struct rcl_roots roots;
	int saved_guard = rcl_guard, saved_errno = errno, cancel_state;
	bool found;

	if (reporting)
		return false; /* raised while reporting: no recursion */
	/* open() and write() are cancellation points; our locks are held. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	reporting = 1;
	rcl_guard = 1;
	rcl_modules_loader(&s.loader_lo, &s.loader_hi);
	/*
	 * Halted mid-run, the blocks still in use are not leaks: as with
	 * LeakSanitizer after an error, the leak check is skipped. Otherwise
	 * no stream may open or close between the two snapshots; the stream
	 * list lock comes first, as in fork, and is held to the end: the
	 * symbolizer opens files, and a thread holding that lock while it
	 * waits for the report lock would deadlock us there.
	 */
	if (!halted) {
		rcl_roots_prepare(&roots);
		rcl_stdio_lock();
	}
	pthread_mutex_lock(&report_lock);
	if (!halted) {
		take_stdio(&s);
		rcl_quarantine_check_all();
		rcl_table_lock_all();
		grow(&s, rcl_table_size()); /* one array, not a doubling */
		r.memory.tracked_blocks = rcl_table_size();
		r.memory.table_bytes = rcl_table_bytes();
		if (last_report(when))
			rcl_table_drain(take, &s, &r.allocations, &r.frees);
		else
			rcl_table_visit(take, &s, &r.allocations, &r.frees);
		classify(&r, &s, &roots, self_sp, self_regs, 6);
		find_damaged(&s);
		rcl_table_unlock_all();
		rcl_roots_release(&roots);
	} else {
		rcl_table_totals(&r.allocations, &r.frees);
	}
	rcl_depot_usage(&r.memory.depot_stacks, &r.memory.depot_bytes);
	r.memory.quarantine_bytes = rcl_quarantine_bytes();
	raise_overflows(&s);
	rcl_symbolize_begin(); /* suppressions match symbolized frames */
	rcl_suppress_apply(s.v, s.n);
	group(&r, &s);
	r.errors = rcl_errors_list(&r.nerrors);
	group_errors(&r);
	r.pid = getpid();
	r.ppid = getppid();
	r.exe = exe_path();
	r.incomplete = rcl_meta_failed();
	emit(&r);
	rcl_symbolize_end();
	if (!halted)
		rcl_stdio_unlock();
	found = found_problems(&r);
	if (strcmp(when, "exit") == 0)
		rcl_run_dir_note(&r, found);
	rcl_meta_free(r.losses, (s.n ? s.n : 1) * sizeof(*r.losses));
	rcl_meta_free(r.groups, r.nerrors * sizeof(*r.groups));
	rcl_meta_free(s.v, s.cap * sizeof(*s.v));
	rcl_meta_free(s.stdio, s.stdio_cap * sizeof(*s.stdio));
	rcl_meta_free(s.damaged, s.damaged_cap * sizeof(*s.damaged));
	pthread_mutex_unlock(&report_lock);
	rcl_guard = saved_guard;
	reporting = 0;
	pthread_setcancelstate(cancel_state, NULL);
	errno = saved_errno;
	return found;
}
