/*
 * Turns return addresses into module, offset and function name, at report
 * time only, with elfutils' libdwfl: it reads the full ELF symbol table
 * (static functions included, and the .gnu_debugdata mini debuginfo of
 * stripped Debian binaries) and finds separate debug files by build-id.
 * Each distinct
 * address is looked up once per report; C++ names are demangled with the
 * program's own libstdc++ when it has one.
 */
#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct cached {
	UT_hash_handle hh;
	uintptr_t ip; /* the return address looked up */
	size_t n;
	struct rcl_frame frames[];
};

/*
 * Separate debug files, found locally: by build-id under /usr/lib/debug,
 * then by .gnu_debuglink next to the module, in its .debug/ and under
 * /usr/lib/debug (gdb's places). dwfl_standard_find_debuginfo would also
 * start elfutils' debuginfod client, which loads libcurl and runs its
 * initialisers in a process that is exiting (ssh -V crashed in OpenSSL,
 * already torn down).
 */
static int find_debuginfo(Dwfl_Module *mod, void **userdata,
                          const char *modname, Dwarf_Addr base,
                          const char *file_name, const char *debuglink_file,
                          GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	/* prefix + the module's directory + infix + the debuglink name */
	static const char *const places[][2] = {
	    {"", "/"}, {"", "/.debug/"}, {"/usr/lib/debug", "/"}};
	const char *slash;
	char path[PATH_MAX];
	int fd;

	fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base,
	                                  file_name, debuglink_file,
	                                  debuglink_crc, debuginfo_file_name);
	if (fd >= 0 || debuglink_file == NULL || file_name == NULL ||
	    (slash = strrchr(file_name, '/')) == NULL)
		return fd;
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		int dirlen = (int)(slash - file_name);
		int n =
		    snprintf(path, sizeof(path), "%s%.*s%s%s", places[i][0],
		             dirlen, file_name, places[i][1], debuglink_file);

		/* The stripped file may name itself: that has no debug info. */
		if (n < 0 || (size_t)n >= sizeof(path) ||
		    strcmp(path, file_name) == 0)
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			*debuginfo_file_name = strdup(path); /* libdwfl frees */
			return fd;
		}
	}
	return -1;
}

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};
static Dwfl *dwfl;        /* the modules loaded now */
static Dwfl *closed_dwfl; /* modules dlclose()d earlier, from their files */
static struct cached *cache;
static char *(*demangle)(const char *, char *, size_t *, int *);

/*
 * The newest module at an address wins; an older one whose range overlaps
 * it is left out (dwfl refuses overlaps, and fails them all).
 */
static bool overlaps_newer(const struct rcl_closed_module *first,
                           const struct rcl_closed_module *m)
{
	for (const struct rcl_closed_module *n = first; n != m; n = n->next)
		if (n->lo < m->hi && m->lo < n->hi)
			return true;
	return false;
}

static void report_closed_modules(void)
{
	const struct rcl_closed_module *first = rcl_modules_closed();

	if (first == NULL)
		return;
	closed_dwfl = dwfl_begin(&callbacks);
	if (closed_dwfl == NULL)
		return;
	dwfl_report_begin(closed_dwfl);
	for (const struct rcl_closed_module *m = first; m; m = m->next)
		if (!overlaps_newer(first, m))
			dwfl_report_elf(closed_dwfl, m->path, m->path, -1,
			                m->bias, false);
	dwfl_report_end(closed_dwfl, NULL, NULL);
}

void rcl_symbolize_begin(void)
{
	if (dwfl)
		return;
	dwfl = dwfl_begin(&callbacks);
	if (dwfl == NULL)
		return;
	dwfl_report_begin(dwfl);
	if (dwfl_linux_proc_report(dwfl, getpid()) != 0) {
		dwfl_end(dwfl);
		dwfl = NULL;
		return;
	}
	dwfl_report_end(dwfl, NULL, NULL);
	report_closed_modules();
	demangle = (char *(*)(const char *, char *, size_t *, int *))dlsym(
	    RTLD_DEFAULT, "__cxa_demangle");
}

/* Names made for this report; freed with the cache at the end. */
struct name_copy {
	struct name_copy *next;
	size_t size; /* of the whole allocation */
	char name[];
};
static struct name_copy *copies;

static const char *copy_name(const char *name, size_t len)
{
	size_t size = sizeof(struct name_copy) + len + 1;
	struct name_copy *c = rcl_meta_alloc(size);

	if (c == NULL)
		return NULL;
	c->size = size;
	memcpy(c->name, name, len);
	c->next = copies;
	copies = c;
	return c->name;
}

/* "memcpy@@GLIBC_2.14" -> "memcpy": symbol versions are noise here. */
static const char *unversioned(const char *name)
{
	const char *at = name ? strchr(name, '@') : NULL;
	const char *copy;

	if (at == NULL || at == name)
		return name;
	copy = copy_name(name, (size_t)(at - name));
	return copy ? copy : name;
}

static const char *pretty(const char *name)
{
	char *out;
	int status = -1;

	name = unversioned(name);
	if (name == NULL || demangle == NULL || name[0] != '_' ||
	    name[1] != 'Z')
		return name;
	out = demangle(name, NULL, NULL, &status);
	if (status == 0 && out) {
		const char *copy = copy_name(out, strlen(out));

		free(out); /* the demangler's malloc, made under the guard */
		return copy ? copy : name;
	}
	return name;
}

/*
 * A return address points after the call; the frame shows the call itself
 * (the return address minus one, as LeakSanitizer and valgrind do), so
 * module + offset is what addr2line needs for the call's line.
 */
static void lookup(uintptr_t ip, struct rcl_frame *f)
{
	Dwarf_Addr pc = ip - 1, bias = 0;
	Dwfl_Module *m = dwfl ? dwfl_addrmodule(dwfl, pc) : NULL;
	const char *name;

	if (m == NULL && closed_dwfl)
		m = dwfl_addrmodule(closed_dwfl, pc);

	f->ip = pc;
	f->inlined = false;
	f->function = NULL;
	f->file = NULL;
	f->line = 0;
	f->module = "?";
	f->offset = pc;
	if (m == NULL)
		return;
	name = dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	if (name)
		f->module = name;
	if (dwfl_module_getelf(m, &bias))
		f->offset = pc - bias;
	f->function = pretty(dwfl_module_addrname(m, pc));
}

static size_t cached_size(size_t n)
{
	return sizeof(struct cached) + n * sizeof(struct rcl_frame);
}

size_t rcl_symbolize(uintptr_t ip, const struct rcl_frame **frames)
{
	static struct rcl_frame unknown; /* when out of memory */
	struct cached *c;
	struct rcl_frame f;

	HASH_FIND(hh, cache, &ip, sizeof(ip), c);
	if (c == NULL) {
		lookup(ip, &f);
		c = rcl_meta_alloc(cached_size(1));
		if (c == NULL) {
			unknown = f;
			*frames = &unknown;
			return 1;
		}
		c->ip = ip;
		c->n = 1;
		c->frames[0] = f;
		HASH_ADD(hh, cache, ip, sizeof(c->ip), c);
	}
	*frames = c->frames;
	return c->n;
}

/*
 * Names returned by rcl_symbolize point into the Dwfl: they are valid until
 * here. Each report starts afresh, since modules come and go between two.
 */
void rcl_symbolize_end(void)
{
	struct cached *c, *tmp;

	HASH_ITER(hh, cache, c, tmp) {
		HASH_DEL(cache, c);
		rcl_meta_free(c, cached_size(c->n));
	}
	while (copies) {
		struct name_copy *next = copies->next;

		rcl_meta_free(copies, copies->size);
		copies = next;
	}
	if (dwfl)
		dwfl_end(dwfl);
	if (closed_dwfl)
		dwfl_end(closed_dwfl);
	dwfl = closed_dwfl = NULL;
}
