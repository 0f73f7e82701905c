/*
 * The hot-path unwinder: DWARF-correct stacks at close to frame-pointer
 * cost, exact, with libunwind as the fallback for anything unusual.
 *
 * Two per-thread caches do the work:
 *
 * - Rules. For each code address, the rule that finds the caller's frame,
 *   from the module's .eh_frame through elfutils' libdw: the canonical
 *   frame address (CFA) is rsp or rbp plus an offset, the return address
 *   is at CFA-8, and rbp is unchanged or saved at CFA plus an offset. A
 *   step is then two loads. Anything else (a signal frame, a DWARF
 *   expression, code without CFI such as the vdso or JIT code) gives the
 *   whole stack to libunwind instead.
 *
 * - Whole stacks ("memo"). A stack is a function of the starting
 *   registers (pc, rsp, and rbp when a rule used it before it was
 *   restored) and of the stack words the steps read. A memo entry keeps
 *   those words and their values; when the same call path calls again at
 *   the same stack depth, re-reading the words (about two per frame, no
 *   rule lookups) proves the unwind would give the same frames, and the
 *   stored depot id is the answer. Nothing is guessed: one word differs
 *   and the stack is unwound again.
 *
 * Every word read lies between the starting rsp and the top of the
 * thread's stack, both known before any read; a thread whose stack bounds
 * are unknown uses libunwind. dlclose() makes every thread drop its caches
 * (a new module may come where the old one was).
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <libelf.h>
#include <link.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "internal.h"

#define RULE_SLOTS  4096 /* per thread, direct-mapped by address */
#define MEMO_SET_BITS 8 /* 256 sets per thread, by starting rsp and pc ... */
#define MEMO_SETS   (1 << MEMO_SET_BITS)
#define MEMO_WAYS   2   /* ... two stacks each */
#define MEMO_READS  48  /* stack words a memoized stack may depend on */
#define MAX_FRAMES  (RCL_MAX_DEPTH + 16) /* rcleak's own frames too */
#define OWN_CHAIN_MAX 16 /* rcleak frames over a capture: a bound */
#define DWARF_RBP   6
#define DWARF_RSP   7
#define DWARF_RA    16

enum rule_kind { RULE_NONE, RULE_STEP, RULE_END, RULE_UNKNOWN };
enum cfa_base { CFA_RSP, CFA_RBP };
enum rbp_rule { RBP_SAME, RBP_SAVED, RBP_LOST };

struct rule {
	uintptr_t addr;  /* the code address it is for; 0 = empty slot */
	int32_t cfa_off; /* CFA = base + cfa_off */
	int16_t rbp_off; /* RBP_SAVED: the caller's rbp at CFA + rbp_off */
	uint8_t kind, base, rbp;
};

struct memo {
	uintptr_t pc, sp, bp; /* starting registers; bp if bp_used */
	uintptr_t caller;     /* where rcleak's capture was called from */
	bool bp_used;
	uint8_t nreads;
	rcl_stack_id id;
	uint32_t off[MEMO_READS]; /* word at sp + off ... */
	uintptr_t val[MEMO_READS]; /* ... held this */
};

/*
 * Per thread, from meta.c: about 380 KiB of address space, of which only
 * the entries a thread uses become resident. 256 sets rather than 32 made
 * python3 (deep and varied interpreter stacks) 17% faster, 4096 rules
 * rather than 512 cc1 (much code) 5%.
 */
struct cache {
	unsigned gen; /* of `generation` when filled */
	uintptr_t lo, hi; /* the thread's stack */
	struct rule rules[RULE_SLOTS];
	struct memo memo[MEMO_SETS][MEMO_WAYS];
	uint8_t newest[MEMO_SETS]; /* the way filled last */
};

static _Atomic unsigned generation = 1; /* bumped by dlclose */
static __thread struct cache *tcache
    __attribute__((tls_model("initial-exec")));
/* 1: set up; -1: no fast path in this thread (exited, or no bounds). */
static __thread int tstate __attribute__((tls_model("initial-exec")));

/* ---- rules shared by every thread, from libdw ---- */

struct shared_rule {
	UT_hash_handle hh;
	unsigned gen;
	struct rule r;
};

struct module {
	struct module *next;
	uintptr_t bias, lo, hi;
	Elf *elf;
	Dwarf_CFI *cfi; /* NULL: the file has no usable CFI */
};

static pthread_mutex_t rules_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shared_rule *shared; /* uthash, keyed by r.addr */
static pthread_mutex_t cfi_lock = PTHREAD_MUTEX_INITIALIZER;
static struct module *modules;
static unsigned modules_gen;

struct where {
	uintptr_t addr, bias, lo, hi;
	char path[256];
	bool found;
};

static int find_module(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct where *w = arg;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	bool inside = false;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD)
			continue;
		if (start < lo)
			lo = start;
		if (start + ph->p_memsz > hi)
			hi = start + ph->p_memsz;
		if (w->addr >= start && w->addr < start + ph->p_memsz)
			inside = true;
	}
	if (!inside)
		return 0;
	w->bias = info->dlpi_addr;
	w->lo = lo;
	w->hi = hi;
	/* The main program's name is empty. */
	strncpy(w->path,
	        info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name
	                                              : "/proc/self/exe",
	        sizeof(w->path) - 1);
	w->found = true;
	return 1;
}

static void drop_modules(void)
{
	while (modules) {
		struct module *m = modules;

		modules = m->next;
		if (m->cfi)
			dwarf_cfi_end(m->cfi);
		if (m->elf)
			elf_end(m->elf);
		rcl_meta_free(m, sizeof(*m));
	}
}

/* cfi_lock held. The module at w, opened on first use. */
static struct module *module_at(const struct where *w, unsigned gen)
{
	struct module *m;
	int fd;

	if (modules_gen != gen) {
		drop_modules();
		modules_gen = gen;
	}
	for (m = modules; m; m = m->next)
		if (m->bias == w->bias && m->lo == w->lo)
			return m;
	m = rcl_meta_alloc(sizeof(*m));
	if (m == NULL)
		return NULL;
	m->bias = w->bias;
	m->lo = w->lo;
	m->hi = w->hi;
	/*
	 * The file is mapped whole and its descriptor closed at once: the
	 * program may close or reuse any descriptor number it does not know.
	 */
	fd = open(w->path, O_RDONLY | O_CLOEXEC);
	elf_version(EV_CURRENT);
	if (fd >= 0) {
		m->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
		if (m->elf)
			elf_cntl(m->elf, ELF_C_FDDONE);
		close(fd);
	}
	if (m->elf)
		m->cfi = dwarf_getcfi_elf(m->elf);
	m->next = modules;
	modules = m;
	return m;
}

/* An "offset(N)" register rule: saved at CFA + N. */
static bool saved_at(const Dwarf_Op *ops, size_t nops, int64_t *off)
{
	if (nops == 1 && ops[0].atom == DW_OP_call_frame_cfa) {
		*off = 0;
		return true;
	}
	if (nops == 2 && ops[0].atom == DW_OP_call_frame_cfa &&
	    ops[1].atom == DW_OP_plus_uconst) {
		*off = (int64_t)ops[1].number;
		return true;
	}
	return false;
}

/* Reads libdw's answer for one address into the few shapes rcleak steps. */
static void read_frame(Dwarf_Frame *f, struct rule *r)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;
	bool signal = false;
	int64_t off;

	r->kind = RULE_UNKNOWN;
	if (dwarf_frame_info(f, NULL, NULL, &signal) != DWARF_RA || signal)
		return;
	if (dwarf_frame_register(f, DWARF_RA, mem, &ops, &nops) != 0)
		return;
	if (nops == 0 && ops != NULL) { /* undefined: the outermost frame */
		r->kind = RULE_END;
		return;
	}
	if (!saved_at(ops, nops, &off) || off != -8)
		return;
	if (dwarf_frame_register(f, DWARF_RSP, mem, &ops, &nops) != 0 ||
	    nops != 2 || ops[0].atom != DW_OP_call_frame_cfa ||
	    ops[1].atom != DW_OP_stack_value)
		return; /* the caller's rsp is not simply the CFA */
	if (dwarf_frame_cfa(f, &ops, &nops) != 0 || nops != 1 ||
	    ops[0].atom != DW_OP_bregx ||
	    (ops[0].number != DWARF_RSP && ops[0].number != DWARF_RBP) ||
	    (int64_t)ops[0].number2 != (int32_t)ops[0].number2)
		return;
	r->base = ops[0].number == DWARF_RSP ? CFA_RSP : CFA_RBP;
	r->cfa_off = (int32_t)ops[0].number2;
	if (dwarf_frame_register(f, DWARF_RBP, mem, &ops, &nops) != 0)
		return;
	if (ops == NULL) {
		r->rbp = RBP_SAME;
	} else if (saved_at(ops, nops, &off) && off == (int16_t)off) {
		r->rbp = RBP_SAVED;
		r->rbp_off = (int16_t)off;
	} else {
		r->rbp = RBP_LOST; /* a stack that needs it goes to libunwind */
	}
	r->kind = RULE_STEP;
}

/* The rule for addr from libdw. No rcleak lock may be held on entry. */
static struct rule compute_rule(uintptr_t addr, unsigned gen)
{
	struct rule r = {.addr = addr, .kind = RULE_UNKNOWN};
	struct where w = {.addr = addr};
	struct module *m;
	Dwarf_Frame *f;

	/* The loader's lock is taken here: not under any lock of ours. */
	dl_iterate_phdr(find_module, &w);
	if (!w.found)
		return r;
	pthread_mutex_lock(&cfi_lock);
	m = module_at(&w, gen);
	if (m && m->cfi && dwarf_cfi_addrframe(m->cfi, addr - m->bias, &f) == 0) {
		read_frame(f, &r);
		free(f); /* libdw's, from the allocator under the guard */
	}
	pthread_mutex_unlock(&cfi_lock);
	return r;
}

static struct rule shared_rule(uintptr_t addr, unsigned gen)
{
	struct shared_rule *s;
	struct rule r;

	pthread_mutex_lock(&rules_lock);
	HASH_FIND(hh, shared, &addr, sizeof(addr), s);
	if (s && s->gen == gen) {
		r = s->r;
		pthread_mutex_unlock(&rules_lock);
		return r;
	}
	pthread_mutex_unlock(&rules_lock);

	r = compute_rule(addr, gen);

	pthread_mutex_lock(&rules_lock);
	HASH_FIND(hh, shared, &addr, sizeof(addr), s);
	if (s == NULL && (s = rcl_meta_alloc(sizeof(*s))) != NULL) {
		s->r = r;
		HASH_ADD(hh, shared, r.addr, sizeof(s->r.addr), s);
		if (s->hh.tbl == NULL) { /* uthash out of memory */
			rcl_meta_free(s, sizeof(*s));
			s = NULL;
		}
	}
	if (s) {
		s->r = r;
		s->gen = gen;
	}
	pthread_mutex_unlock(&rules_lock);
	return r;
}

static const struct rule *rule_for(struct cache *c, uintptr_t addr)
{
	struct rule *slot = &c->rules[(addr ^ (addr >> 9)) % RULE_SLOTS];

	if (slot->addr != addr)
		*slot = shared_rule(addr, c->gen);
	return slot;
}

/* ---- the per-thread caches ---- */

extern void *__libc_stack_end;

/* A thread's first capture: its cache, or NULL where none can go. */
static RCL_NOINLINE struct cache *cache_setup(unsigned gen)
{
	struct cache *c;
	uintptr_t lo, hi;

	if (tstate < 0 || !rcl_opt.unwind_cache)
		return NULL;
	if (!rcl_threads_stack_of_self(&lo, &hi)) {
		struct rlimit rl;

		/* The main thread: its stack starts under __libc_stack_end. */
		if (getpid() != rcl_threads_gettid() || !__libc_stack_end ||
		    getrlimit(RLIMIT_STACK, &rl) != 0) {
			tstate = -1;
			return NULL;
		}
		hi = (uintptr_t)__libc_stack_end;
		lo = hi - (rl.rlim_cur < ((rlim_t)8 << 20) ? rl.rlim_cur
		                                             : ((rlim_t)8 << 20));
	}
	c = rcl_meta_alloc(sizeof(*c));
	if (c == NULL) {
		tstate = -1;
		return NULL;
	}
	c->gen = gen;
	c->lo = lo;
	c->hi = hi;
	tcache = c;
	tstate = 1;
	return c;
}

static RCL_NOINLINE void cache_forget(struct cache *c, unsigned gen)
{
	memset(c->rules, 0, sizeof(c->rules));
	memset(c->memo, 0, sizeof(c->memo));
	c->gen = gen;
}

/* The calling thread's cache, or NULL where the fast path cannot go. */
static inline struct cache *cache_here(void)
{
	unsigned gen = atomic_load_explicit(&generation, memory_order_acquire);
	struct cache *c = tcache;

	if (RCL_UNLIKELY(c == NULL))
		return cache_setup(gen);
	if (RCL_UNLIKELY(c->gen != gen))
		cache_forget(c, gen);
	return c;
}

void rcl_unwind_thread_exit(void)
{
	struct cache *c = tcache;

	tcache = NULL;
	tstate = -1;
	if (c)
		rcl_meta_free(c, sizeof(*c));
}

void rcl_unwind_forget_modules(void)
{
	atomic_fetch_add_explicit(&generation, 1, memory_order_release);
}

/* ---- unwinding ---- */

struct walk {
	struct cache *c;
	uintptr_t pc, sp, bp;
	/*
	 * Where bp came from: 0 for the starting register, else the stack
	 * word it was restored from. Most code uses rbp as a plain register,
	 * so its value changes from call to call; it is part of the memo only
	 * when a rule reads it, or every memo check would fail.
	 */
	uintptr_t bp_from;
	bool bp_noted;
	bool bp_lost;
	struct memo *m; /* records what was read, or NULL */
};

static void note_read(struct walk *w, uintptr_t start_sp, uintptr_t addr,
                      uintptr_t val)
{
	struct memo *m = w->m;

	if (m == NULL)
		return;
	if (m->nreads == MEMO_READS) {
		w->m = NULL; /* too many to check quickly: not memoized */
		return;
	}
	m->off[m->nreads] = (uint32_t)(addr - start_sp);
	m->val[m->nreads++] = val;
}

/*
 * One step from the frame at w: false when the stack must go to
 * libunwind, *done when the outermost frame was reached.
 */
static bool step(struct walk *w, uintptr_t start_sp, bool first, bool *done)
{
	const struct rule *r = rule_for(w->c, first ? w->pc : w->pc - 1);
	uintptr_t cfa, ra;

	*done = false;
	if (r->kind == RULE_END) {
		*done = true;
		return true;
	}
	if (r->kind != RULE_STEP)
		return false;
	if (r->base == CFA_RBP) {
		if (w->bp_lost)
			return false;
		if (w->bp_from == 0 && w->m)
			w->m->bp_used = true;
		else if (!w->bp_noted)
			note_read(w, start_sp, w->bp_from, w->bp);
		w->bp_noted = true;
		cfa = w->bp + (uintptr_t)(intptr_t)r->cfa_off;
	} else {
		cfa = w->sp + (uintptr_t)(intptr_t)r->cfa_off;
	}
	/* Every word read: above where the walk started, under the top. */
	if (cfa <= w->sp || cfa - 8 < start_sp || cfa > w->c->hi ||
	    cfa - start_sp > UINT32_MAX)
		return false;
	ra = *(const uintptr_t *)(cfa - 8);
	note_read(w, start_sp, cfa - 8, ra);
	if (r->rbp == RBP_SAVED) {
		uintptr_t at = cfa + (uintptr_t)(intptr_t)r->rbp_off;

		if (at < start_sp || at + 8 > w->c->hi ||
		    at - start_sp > UINT32_MAX)
			return false;
		w->bp = *(const uintptr_t *)at;
		w->bp_from = at;
		w->bp_noted = false;
	} else if (r->rbp == RBP_LOST) {
		w->bp_lost = true;
	}
	w->sp = cfa;
	w->pc = ra;
	*done = ra == 0;
	return true;
}

/*
 * Unwinds from the registers in w, keeping up to max frames outside
 * rcleak (or any frames, for the tests). w->pc is where the code stands,
 * or with at_return a return address, itself the first frame. -1: give
 * it to libunwind.
 */
static int walk_stack(struct walk *w, uintptr_t *ips, int max, bool keep_own,
                      bool at_return)
{
	uintptr_t start_sp = w->sp;
	int kept = 0;

	if (at_return && max > 0 && (keep_own || !rcl_stack_is_own(w->pc)))
		ips[kept++] = w->pc;
	for (int i = 0; i < MAX_FRAMES && kept < max; i++) {
		bool done;

		if (!step(w, start_sp, i == 0 && !at_return, &done))
			return -1;
		if (done)
			break;
		if (keep_own || !rcl_stack_is_own(w->pc))
			ips[kept++] = w->pc;
	}
	return kept;
}

/*
 * rcleak is built with frame pointers, so its own frames over the capture
 * point are a chain of saved rbp: followed to the first return address
 * outside rcleak, it gives the registers of the program's call into
 * rcleak without a rule lookup or a memo word for any of rcleak's frames.
 * The program's pc is that return address, its rsp the frame's end, its
 * rbp the one rcleak's outermost frame saved. False when the chain leaves
 * the stack or does not go up; the walk then starts at the capture point,
 * through rcleak's frames as through any.
 */
static bool program_entry(const struct cache *c, uintptr_t sp, uintptr_t bp,
                          struct walk *w)
{
	for (int i = 0; i < OWN_CHAIN_MAX; i++) {
		const uintptr_t *frame = (const uintptr_t *)bp;

		if (bp < sp || bp % 8 != 0 || bp + 16 > c->hi)
			return false;
		if (!rcl_stack_is_own(frame[1])) {
			w->pc = frame[1];
			w->sp = bp + 16;
			w->bp = frame[0];
			return true;
		}
		sp = bp + 16;
		bp = frame[0];
	}
	return false;
}

/* Every word is read (no branch per word): most checks hold. */
static bool memo_holds(const struct memo *m, uintptr_t sp)
{
	uintptr_t differ = 0;

	for (unsigned i = 0; i < m->nreads; i++)
		differ |= *(const uintptr_t *)(sp + m->off[i]) ^ m->val[i];
	return differ == 0;
}

/*
 * The stack of the caller, from the registers at the capture point: the
 * depot id, or false when libunwind must do it.
 */
static RCL_NOINLINE bool capture(uintptr_t pc, uintptr_t sp, uintptr_t bp,
                                 uintptr_t caller, rcl_stack_id *id)
{
	struct cache *c = cache_here();
	uintptr_t ips[RCL_MAX_DEPTH];
	struct memo *set, fresh;
	unsigned s;
	struct walk w = {0};
	bool at_return;
	int n;

	if (c == NULL || sp < c->lo || sp >= c->hi)
		return false;
	/* The memo tells the two starts apart by caller, 0 for the entry. */
	at_return = program_entry(c, sp, bp, &w);
	if (at_return)
		caller = 0;
	else
		w.pc = pc, w.sp = sp, w.bp = bp;
	/*
	 * The set by call site and depth: the malloc, free and realloc one
	 * function calls start at the same rsp and differ in their pc.
	 */
	s = (unsigned)((((w.sp >> 4) ^ w.pc) * 0x9e3779b97f4a7c15ull) >>
	               (64 - MEMO_SET_BITS));
	set = c->memo[s];
	for (int i = 0; i < MEMO_WAYS; i++) {
		const struct memo *m = &set[i];

		if (m->sp == w.sp && m->caller == caller && m->pc == w.pc &&
		    (!m->bp_used || m->bp == w.bp) && memo_holds(m, w.sp)) {
			*id = m->id;
			return true;
		}
	}
	fresh.pc = w.pc;
	fresh.caller = caller;
	fresh.sp = w.sp;
	fresh.bp = w.bp;
	fresh.bp_used = false;
	fresh.nreads = 0;
	w.c = c;
	w.m = &fresh;
	n = walk_stack(&w, ips, (int)rcl_opt.depth, false, at_return);
	if (n < 0)
		return false;
	*id = rcl_depot_put(ips, (uint32_t)n);
	if (w.m) { /* every read fitted: memoize over the older way */
		fresh.id = *id;
		c->newest[s] = (uint8_t)((c->newest[s] + 1) % MEMO_WAYS);
		set[c->newest[s]] = fresh;
	}
	return true;
}

/* The registers here, as the CFI of this very spot describes them. */
bool rcl_unwind_capture(rcl_stack_id *id)
{
	uintptr_t pc, sp, bp;

	__asm__ volatile("lea 0(%%rip), %0\n\t"
	                 "mov %%rsp, %1\n\t"
	                 "mov %%rbp, %2"
	                 : "=&r"(pc), "=&r"(sp), "=&r"(bp));
	return capture(pc, sp, bp, (uintptr_t)__builtin_return_address(0), id);
}

/*
 * For the tests: unwinds from here with the rule cache, no memo, keeping
 * rcleak's frames too (a unit test is linked with rcleak's objects). Never
 * inlined, so that the walk starts in a frame of its own, as libunwind's.
 */
RCL_NOINLINE int rcl_unwind_ips(uintptr_t *ips, int max)
{
	struct cache *c = cache_here();
	uintptr_t pc, sp, bp;
	struct walk w;

	if (c == NULL)
		return -1;
	__asm__ volatile("lea 0(%%rip), %0\n\t"
	                 "mov %%rsp, %1\n\t"
	                 "mov %%rbp, %2"
	                 : "=&r"(pc), "=&r"(sp), "=&r"(bp));
	if (sp < c->lo || sp >= c->hi)
		return -1;
	w = (struct walk){.c = c, .pc = pc, .sp = sp, .bp = bp};
	return walk_stack(&w, ips, max, true, false);
}

void rcl_unwind_lock(void)
{
	pthread_mutex_lock(&cfi_lock);
	pthread_mutex_lock(&rules_lock);
}

void rcl_unwind_unlock(void)
{
	pthread_mutex_unlock(&rules_lock);
	pthread_mutex_unlock(&cfi_lock);
}
