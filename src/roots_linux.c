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

struct map {
	uintptr_t lo, hi;
	bool readable, writable, main_stack;
};

struct roots {
	struct rcl_range *data; /* modules' writable segments */
	size_t ndata, datacap;
	struct rcl_range *mmaps; /* the program's own mappings */
	size_t nmmaps;
	struct map *maps; /* /proc/self/maps, sorted */
	size_t nmaps, mapcap;
	size_t tls_size;
};

static struct roots roots;

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

static int add_module(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t own = (uintptr_t)arg;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
			continue;
		/* rcleak's tables hold every block's address. */
		if (info->dlpi_addr == own && info->dlpi_addr != 0)
			continue;
		push_range(&roots.data, &roots.ndata, &roots.datacap, lo,
		           lo + ph->p_memsz);
	}
	return 0;
}

static uintptr_t own_base(void)
{
	Dl_info info;

	return dladdr((void *)own_base, &info) ? (uintptr_t)info.dli_fbase : 0;
}

/* Reads /proc/self/maps into roots.maps (no allocation: room is made). */
static void read_maps(void)
{
	static char buf[65536];
	size_t have = 0;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	roots.nmaps = 0;
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
			struct map m = {0};
			char *p = line;

			*nl = 0;
			m.lo = strtoul(p, &p, 16);
			m.hi = strtoul(p + 1, &p, 16);
			m.readable = p[1] == 'r';
			m.writable = p[2] == 'w';
			m.main_stack = strstr(p, "[stack]") != NULL;
			if (roots.nmaps < roots.mapcap)
				roots.maps[roots.nmaps++] = m;
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
void rcl_roots_prepare(void)
{
	memset(&roots, 0, sizeof(roots));
	dl_iterate_phdr(add_module, (void *)own_base());
	roots.tls_size = static_tls_size(); /* dlsym may free: no lock held */
	roots.mmaps = rcl_mmaps_copy(&roots.nmmaps);
	/* Room for the maps as they are now, and for some more to come. */
	roots.mapcap = count_maps() * 2 + 256;
	roots.maps = rcl_meta_alloc(roots.mapcap * sizeof(*roots.maps));
	if (roots.maps == NULL)
		roots.mapcap = 0;
}

void rcl_roots_release(void)
{
	rcl_meta_free(roots.data, roots.datacap * sizeof(*roots.data));
	rcl_meta_free(roots.mmaps,
	              (roots.nmmaps ? roots.nmmaps : 1) * sizeof(*roots.mmaps));
	rcl_meta_free(roots.maps, roots.mapcap * sizeof(*roots.maps));
	memset(&roots, 0, sizeof(roots));
}

/* The first map that ends above addr. */
static size_t first_map(uintptr_t addr)
{
	size_t lo = 0, hi = roots.nmaps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (roots.maps[mid].hi <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Scans the readable (and, if asked, writable) parts of [lo, hi). */
static void scan_clipped(struct rcl_scan *s, uintptr_t lo, uintptr_t hi,
                         bool need_write)
{
	for (size_t i = first_map(lo); i < roots.nmaps; i++) {
		const struct map *m = &roots.maps[i];

		if (m->lo >= hi)
			break;
		if (!m->readable || (need_write && !m->writable))
			continue;
		rcl_scan_root_range(s, m->lo > lo ? m->lo : lo,
		                    m->hi < hi ? m->hi : hi);
	}
}

static const struct map *map_of(uintptr_t addr)
{
	size_t i = first_map(addr);

	if (i < roots.nmaps && roots.maps[i].lo <= addr)
		return &roots.maps[i];
	return NULL;
}

static const struct map *main_stack(void)
{
	for (size_t i = 0; i < roots.nmaps; i++)
		if (roots.maps[i].main_stack)
			return &roots.maps[i];
	return NULL;
}

/* The stack of a thread that runs (or ran) from sp; sp 0 if unknown. */
static void scan_stack(struct rcl_scan *s, const struct rcl_thread *t,
                       uintptr_t sp)
{
	uintptr_t lo = t->stack_lo, hi = t->stack_hi;

	if (hi == 0) { /* the main thread: its stack is a mapping */
		const struct map *m = sp ? map_of(sp) : main_stack();

		if (m == NULL)
			return;
		lo = m->lo;
		hi = m->hi;
	}
	if (sp > lo + RED_ZONE && sp < hi)
		lo = sp - RED_ZONE; /* below that is dead */
	scan_clipped(s, lo, hi, false);
}

/*
 * With the other threads stopped (or given up on). self_sp and self_regs
 * are the reporting thread's, as they were when the program called into
 * rcleak: its frames below that are rcleak's own.
 */
void rcl_roots_scan(struct rcl_scan *s, uintptr_t self_sp,
                    const uintptr_t *self_regs, size_t nregs)
{
	size_t tls = roots.tls_size;
	int me = (int)gettid();
	bool self_known = false;

	read_maps();
	for (size_t i = 0; i < roots.ndata; i++)
		scan_clipped(s, roots.data[i].lo, roots.data[i].hi, false);
	for (size_t i = 0; i < roots.nmmaps; i++)
		scan_clipped(s, roots.mmaps[i].lo, roots.mmaps[i].hi, true);
	rcl_scan_root_words(s, self_regs, nregs);
	for (const struct rcl_thread *t = rcl_threads_list(); t; t = t->next) {
		if (!t->alive)
			continue;
		if (t->tid == me) {
			scan_stack(s, t, self_sp);
			self_known = true;
		} else if (t->stopped) {
			rcl_scan_root_words(
			    s, t->regs, sizeof(t->regs) / sizeof(t->regs[0]));
			scan_stack(s, t, t->sp);
		} else {
			scan_stack(s, t, 0);
		}
		scan_clipped(s, t->tp - tls, t->tp + tls, false);
	}
	if (!self_known) { /* a thread not made by pthread_create */
		struct rcl_thread unknown = {.tp = (uintptr_t)pthread_self()};

		scan_stack(s, &unknown, self_sp);
		scan_clipped(s, unknown.tp - tls, unknown.tp + tls, false);
	}
}
