/*
 * Where the leak check looks for pointers (the roots), on Linux/glibc:
 *  - the writable segments of every loaded module (.data, .bss, GOT),
 *    except rcleak's own;
 *  - memory the program mapped itself (mmaps.c), where it is writable;
 *  - the stacks and registers of the live threads, and their static TLS
 *    (dynamic TLS blocks are heap blocks the loader made, scanned as such);
 *  - the reporting thread's own registers and the program's part of its
 *    stack.
 * Ranges are collected before the world stops (dl_iterate_phdr takes the
 * loader's lock, which a stopped thread may hold) and clipped against
 * /proc/self/maps read after it stopped, so nothing unmapped or
 * inaccessible is ever read.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define RED_ZONE 128 /* bytes below the stack pointer a leaf may use */
/* sizeof(struct pthread) in glibc 2.3x on x86-64: the TCB after TLS. */
#define PTHREAD_DESCRIPTOR 2304

static bool push_range(struct rcl_range **v, size_t *n, size_t *cap,
                       uintptr_t lo, uintptr_t hi)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct rcl_range *nv = rcl_meta_alloc(ncap * sizeof(*nv));

		if (nv == NULL)
			return false;
		if (*n)
			memcpy(nv, *v, *n * sizeof(*nv));
		rcl_meta_free(*v, *cap * sizeof(**v));
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = (struct rcl_range){lo, hi};
	return true;
}

struct module_walk {
	struct rcl_roots *rt;
	uintptr_t own; /* rcleak's load address */
};

static int add_module(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct module_walk *walk = arg;
	struct rcl_roots *rt = walk->rt;
	uintptr_t own = walk->own;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
			continue;
		/* rcleak's tables hold every block's address. */
		if (info->dlpi_addr == own && info->dlpi_addr != 0)
			continue;
		push_range(&rt->data, &rt->ndata, &rt->datacap, lo,
		           lo + ph->p_memsz);
	}
	return 0;
}

static uintptr_t own_base(void)
{
	Dl_info info;

	return dladdr((void *)own_base, &info) ? (uintptr_t)info.dli_fbase : 0;
}

/* Reads /proc/self/maps into rt->maps (no allocation: room is made). */
static void read_maps(struct rcl_roots *rt)
{
	static char buf[65536];
	size_t have = 0;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	rt->nmaps = 0;
	if (fd < 0)
		return;
	for (;;) {
		ssize_t got = read(fd, buf + have, sizeof(buf) - 1 - have);
		char *line = buf, *nl;

		if (got <= 0)
			break;
		have += (size_t)got;
		buf[have] = 0;
		while ((nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
			struct rcl_map m = {0};
			char *p = line;

			*nl = 0;
			m.lo = strtoul(p, &p, 16);
			m.hi = strtoul(p + 1, &p, 16);
			m.readable = p[1] == 'r';
			m.writable = p[2] == 'w';
			m.main_stack = strstr(p, "[stack]") != NULL;
			/* Reading a device's mapping may hang or fault. */
			if (strstr(p, " /dev/") && !strstr(p, " /dev/zero"))
				m.readable = false;
			if (rt->nmaps < rt->mapcap)
				rt->maps[rt->nmaps++] = m;
			line = nl + 1;
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
	}
	close(fd);
}

static size_t count_maps(void)
{
	char buf[4096];
	size_t lines = 0;
	ssize_t got;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < got; i++)
			lines += buf[i] == '\n';
	close(fd);
	return lines;
}

/*
 * glibc's static TLS block and thread descriptor (which holds the DTV and
 * pthread_getspecific values) end near the thread pointer; the loader
 * tells their total size. Both sides of it are scanned, clipped.
 */
static size_t static_tls_size(void)
{
	void (*info)(size_t *, size_t *);
	size_t size = 0, align;

	info = (void (*)(size_t *, size_t *))dlsym(RTLD_DEFAULT,
	                                           "_dl_get_tls_static_info");
	if (info)
		info(&size, &align);
	return size ? size : 16384;
}

/* Before the world stops: everything that needs a lock or memory. */
void rcl_roots_prepare(struct rcl_roots *rt)
{
	struct module_walk walk = {rt, own_base()};

	memset(rt, 0, sizeof(*rt));
	dl_iterate_phdr(add_module, &walk);
	rt->tls_size = static_tls_size(); /* dlsym may free: no lock held */
	rt->mmaps = rcl_mmaps_copy(&rt->nmmaps);
	/* Room for the maps as they are now, and for some more to come. */
	rt->mapcap = count_maps() * 2 + 256;
	rt->maps = rcl_meta_alloc(rt->mapcap * sizeof(*rt->maps));
	if (rt->maps == NULL)
		rt->mapcap = 0;
}

void rcl_roots_release(struct rcl_roots *rt)
{
	rcl_meta_free(rt->data, rt->datacap * sizeof(*rt->data));
	rcl_meta_free(rt->mmaps,
	              (rt->nmmaps ? rt->nmmaps : 1) * sizeof(*rt->mmaps));
	rcl_meta_free(rt->maps, rt->mapcap * sizeof(*rt->maps));
	memset(rt, 0, sizeof(*rt));
}

/* The first map that ends above addr. */
static size_t first_map(const struct rcl_roots *rt, uintptr_t addr)
{
	size_t lo = 0, hi = rt->nmaps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rt->maps[mid].hi <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Scans the readable (and, if asked, writable) parts of [lo, hi). */
static void scan_clipped(const struct rcl_roots *rt, struct rcl_scan *s,
                         uintptr_t lo, uintptr_t hi, bool need_write)
{
	for (size_t i = first_map(rt, lo); i < rt->nmaps; i++) {
		const struct rcl_map *m = &rt->maps[i];

		if (m->lo >= hi)
			break;
		if (!m->readable || (need_write && !m->writable))
			continue;
		rcl_scan_root_range(s, m->lo > lo ? m->lo : lo,
		                    m->hi < hi ? m->hi : hi);
	}
}

static const struct rcl_map *main_stack(const struct rcl_roots *rt)
{
	for (size_t i = 0; i < rt->nmaps; i++)
		if (rt->maps[i].main_stack)
			return &rt->maps[i];
	return NULL;
}

/* The stack of a thread that runs (or ran) from sp; sp 0 if unknown. */
static void scan_stack(const struct rcl_roots *rt, struct rcl_scan *s,
                       const struct rcl_thread *t, uintptr_t sp)
{
	uintptr_t lo = t->stack_lo, hi = t->stack_hi;

	if (hi == 0) { /* the main thread: its stack is [stack] */
		const struct rcl_map *m = main_stack(rt);

		/*
		 * Stopped on another stack (a coroutine's, maybe in the
		 * heap): that one is not known, [stack] is scanned whole.
		 */
		if (m == NULL)
			return;
		lo = m->lo;
		hi = m->hi;
	}
	if (sp > lo + RED_ZONE && sp < hi)
		lo = sp - RED_ZONE; /* below that is dead */
	scan_clipped(rt, s, lo, hi, false);
}

/*
 * glibc's static TLS block ends at the thread pointer, and the thread
 * descriptor (its DTV, pthread_getspecific values) follows it. For a
 * thread with a known stack both lie at the top of it, already scanned;
 * for the main thread they are elsewhere. What lies past the descriptor
 * may be rcleak's own memory, which holds every block's address.
 */
static void scan_tls(const struct rcl_roots *rt, struct rcl_scan *s,
                     const struct rcl_thread *t)
{
	uintptr_t lo = t->tp - rt->tls_size, hi = t->tp + PTHREAD_DESCRIPTOR;

	if (t->stack_hi && t->stack_lo <= lo && hi <= t->stack_hi)
		return;
	scan_clipped(rt, s, lo, hi, false);
}

/*
 * With the other threads stopped (or given up on). self_sp and self_regs
 * are the reporting thread's, as they were when the program called into
 * rcleak: its frames below that are rcleak's own.
 */
void rcl_roots_scan(struct rcl_roots *rt, struct rcl_scan *s, uintptr_t self_sp,
                    const uintptr_t *self_regs, size_t nregs)
{
	int me = (int)gettid();
	bool self_known = false;

	read_maps(rt);
	for (size_t i = 0; i < rt->ndata; i++)
		scan_clipped(rt, s, rt->data[i].lo, rt->data[i].hi, false);
	for (size_t i = 0; i < rt->nmmaps; i++)
		scan_clipped(rt, s, rt->mmaps[i].lo, rt->mmaps[i].hi, true);
	rcl_scan_root_words(s, self_regs, nregs);
	for (const struct rcl_thread *t = rcl_threads_list(); t; t = t->next) {
		if (!t->alive)
			continue;
		if (t->tid == me) {
			scan_stack(rt, s, t, self_sp);
			self_known = true;
		} else if (t->stopped) {
			rcl_scan_root_words(
			    s, t->regs, sizeof(t->regs) / sizeof(t->regs[0]));
			scan_stack(rt, s, t, t->sp);
		} else {
			scan_stack(rt, s, t, 0);
		}
		scan_tls(rt, s, t);
	}
	if (!self_known) { /* a thread not made by pthread_create */
		struct rcl_thread unknown = {.tp = (uintptr_t)pthread_self()};

		scan_stack(rt, s, &unknown, self_sp);
		scan_tls(rt, s, &unknown);
	}
}
