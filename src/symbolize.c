/*
 * Turns return addresses into module, offset, function name, source file
 * and line, at report time only, with elfutils' libdwfl: it reads the full
 * ELF symbol table (static functions included, and the .gnu_debugdata mini
 * debuginfo of stripped Debian binaries) and finds separate debug files by
 * build-id. Where DWARF says the call was inlined, one address gives a
 * frame per inlined function, as addr2line -i does. Each distinct address
 * is looked up once per report; C++ names are demangled with the program's
 * own libstdc++ when it has one.
 */
#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "internal.h"

/* Frames shown for one address at most: inlined calls nest this deep. */
#define MAX_FRAMES 32
/* Lexical blocks and inlined calls followed down from a function. */
#define MAX_SCOPES 64

struct cached {
	UT_hash_handle hh;
	uintptr_t ip; /* the return address looked up */
	size_t n;     /* frames: the inlined functions, then the real one */
	struct rcl_frame frames[];
};

/* The code range of a function (or one part of it), or of a CU. */
struct range {
	Dwarf_Addr lo, hi; /* [lo, hi), in the module's DWARF addresses */
	Dwarf_Die die;     /* its DW_TAG_subprogram, or the CU's DIE */
};

/*
 * Ranges sorted by address, made the first time a report needs them: a
 * module's CUs, and a CU's functions, so that each address finds its
 * function by binary search instead of a walk over the whole CU
 * (dwarf_getscopes' way, too slow for reports with many thousands of
 * distinct addresses).
 */
struct ranges {
	UT_hash_handle hh;
	const void *key; /* a CU DIE's place in the debug data, or a module */
	size_t n, cap;   /* ranges used, allocated */
	struct range *r;
};

/*
 * One symbol of a module, for the name of an address. libdwfl's own
 * lookup (dwfl_module_addrname) reads the whole symbol table for each
 * address: a minute for 100,000 addresses in a program of 20,000
 * functions. These are sorted once per report and chosen among with
 * libdwfl's rules, so the names stay the same.
 */
struct sym {
	GElf_Addr lo, hi; /* [st_value, + st_size), adjusted as libdwfl does */
	GElf_Addr reach;  /* the highest hi of this and all syms before it */
	const char *name; /* in the Dwfl's symbol table */
	int ndx;          /* symbol table order: libdwfl's ties go by it */
	int bind;         /* libdwfl's preference: global 3, weak 2, local 1 */
	bool global;      /* among the globals, which libdwfl searches first */
};

struct symtab {
	UT_hash_handle hh;
	const Dwfl_Module *mod; /* key */
	size_t n, cap;          /* symbols kept, allocated */
	struct sym *s;          /* sorted by lo */
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
static struct ranges *cu_funcs;   /* by CU */
static struct ranges *module_cus; /* by module */
static struct symtab *symtabs;    /* by module */
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

/*
 * The vdso, whose headers lie in its first page: libdwfl reads its image
 * from memory when the module has this name, as its own maps reader
 * names it.
 */
static void report_vdso(Dwfl *d, const struct dl_phdr_info *info)
{
	uintptr_t lo, hi;
	char name[32];

	rcl_module_range(info, &lo, &hi);
	snprintf(name, sizeof(name), "[vdso: %d]", (int)getpid());
	dwfl_report_module(d, name, lo, rcl_page_round(hi));
}

/*
 * The file mapped at addr, from /proc/self/maps: for a module whose name
 * no longer leads to it (dlopen("./x.so"), then chdir). false if none.
 */
static bool mapped_file(uintptr_t addr, char *path, size_t size)
{
	FILE *maps = fopen("/proc/self/maps", "re");
	char line[PATH_MAX + 128];
	bool found = false;

	if (maps == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), maps)) {
		unsigned long lo, hi;
		char *file = strchr(line, '/');

		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2 || addr < lo ||
		    addr >= hi || file == NULL)
			continue;
		file[strcspn(file, "\n")] = '\0';
		found = snprintf(path, size, "%s", file) < (int)size;
	}
	fclose(maps);
	return found;
}

/*
 * A loaded module, at the bias the loader gave it. Not from
 * /proc/self/maps (dwfl_linux_proc_report): the unwinder maps module
 * files to read their CFI, and a mapping of libc.so.6 that landed below
 * the loaded one made libdwfl take it for the module's start, giving
 * every libc frame a wrong offset and no name. The path is the file's
 * real one, as the maps would name it.
 */
static int report_loaded(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR), lo, hi;
	char path[PATH_MAX];
	const char *name = info->dlpi_name;

	(void)size;
	if (vdso && (uintptr_t)info->dlpi_phdr - vdso < 4096) {
		report_vdso(arg, info);
		return 0;
	}
	if (name == NULL || name[0] == '\0') { /* the program */
		ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

		if (n <= 0)
			return 0;
		path[n] = '\0';
	} else if (realpath(name, path) == NULL) {
		rcl_module_range(info, &lo, &hi);
		if (!mapped_file(lo, path, sizeof(path)))
			return 0;
	}
	dwfl_report_elf(arg, path, path, -1, info->dlpi_addr, false);
	return 0;
}

void rcl_symbolize_begin(void)
{
	if (dwfl)
		return;
	dwfl = dwfl_begin(&callbacks);
	if (dwfl == NULL)
		return;
	dwfl_report_begin(dwfl);
	dl_iterate_phdr(report_loaded, dwfl);
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

static int bind_value(const GElf_Sym *sym)
{
	switch (GELF_ST_BIND(sym->st_info)) {
	case STB_GLOBAL:
		return 3;
	case STB_WEAK:
		return 2;
	case STB_LOCAL:
		return 1;
	default:
		return 0;
	}
}

static int by_lo_ndx(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->ndx - y->ndx;
}

/* The symbols libdwfl would consider for an address, sorted. */
static struct symtab *symtab_of(Dwfl_Module *m)
{
	struct symtab *t;
	int n = dwfl_module_getsymtab(m);
	int first_global = dwfl_module_getsymtab_first_global(m);
	GElf_Addr reach = 0;

	HASH_FIND_PTR(symtabs, &m, t);
	if (t || n < 0 || first_global < 0)
		return t;
	t = rcl_meta_alloc(sizeof(*t));
	if (t == NULL)
		return NULL;
	t->mod = m;
	t->cap = (size_t)n;
	t->s = rcl_meta_alloc(t->cap * sizeof(*t->s));
	if (t->s == NULL && n > 0) {
		rcl_meta_free(t, sizeof(*t));
		return NULL;
	}
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		const char *name = dwfl_module_getsym(m, i, &sym, NULL);
		int type = GELF_ST_TYPE(sym.st_info);

		if (name == NULL || name[0] == '\0' ||
		    sym.st_shndx == SHN_UNDEF || type == STT_SECTION ||
		    type == STT_FILE || type == STT_TLS)
			continue;
		t->s[t->n++] = (struct sym){
		    .lo = sym.st_value,
		    .hi = sym.st_value + sym.st_size,
		    .name = name,
		    .ndx = i,
		    .bind = bind_value(&sym),
		    .global = i >= first_global,
		};
	}
	qsort(t->s, t->n, sizeof(*t->s), by_lo_ndx);
	for (size_t i = 0; i < t->n; i++) {
		if (t->s[i].hi > reach)
			reach = t->s[i].hi;
		t->s[i].reach = reach;
	}
	HASH_ADD_PTR(symtabs, mod, t);
	return t;
}

/*
 * libdwfl's choice among the sized symbols holding pc, taken in symbol
 * table order: the closest start, else the stronger binding, else at the
 * same start the smaller size.
 */
static const struct sym *better(const struct sym *best, const struct sym *s)
{
	if (best == NULL || best->lo < s->lo || best->bind < s->bind)
		return s;
	if (best->lo == s->lo && ((best->hi > s->hi && best->bind <= s->bind) ||
	                          (best->hi >= s->hi && best->bind < s->bind)))
		return s;
	return best;
}

/*
 * The name of the symbol holding pc, as dwfl_module_addrname gives it:
 * the best global, else the best local. Anything else (only sizeless
 * assembly labels, or a crowd of aliases) is left to libdwfl itself.
 */
static const char *sym_name(Dwfl_Module *m, Dwarf_Addr pc)
{
	const struct symtab *t = symtab_of(m);
	const struct sym *cand[16], *best = NULL;
	size_t lo = 0, hi = t ? t->n : 0, n = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->s[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0 && t->s[i].reach > pc;) {
		if (t->s[i].hi <= pc)
			continue;
		if (n == sizeof(cand) / sizeof(cand[0]))
			return dwfl_module_addrname(m, pc);
		cand[n++] = &t->s[i];
	}
	/* A sizeless symbol at pc itself would change libdwfl's search. */
	for (size_t i = lo; i-- > 0 && t->s[i].lo == pc;)
		if (t->s[i].hi == pc)
			return dwfl_module_addrname(m, pc);
	/* Into symbol table order (the scan went by address, downwards). */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && cand[j - 1]->ndx > cand[j]->ndx;
		     j--) {
			const struct sym *tmp = cand[j];

			cand[j] = cand[j - 1];
			cand[j - 1] = tmp;
		}
	for (size_t i = 0; i < n; i++)
		if (cand[i]->global)
			best = better(best, cand[i]);
	for (size_t i = 0; i < n && best == NULL; i++)
		if (!cand[i]->global)
			best = better(best, cand[i]);
	return best ? best->name : dwfl_module_addrname(m, pc);
}

/* The last relative name made absolute: frames mostly share a few files. */
static const char *abs_from, *abs_to;

/*
 * As addr2line prints it: a name relative to the compilation directory
 * (the line table's include directories may be) is joined to it.
 */
static const char *absolute(const char *file, Dwarf_Die *cudie)
{
	Dwarf_Attribute a;
	const char *dir;
	char path[PATH_MAX];
	int n;

	if (file == NULL || file[0] == '/')
		return file;
	if (file == abs_from)
		return abs_to;
	dir = dwarf_formstring(dwarf_attr(cudie, DW_AT_comp_dir, &a));
	if (dir == NULL || dir[0] == '\0')
		return file;
	n = snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (n < 0 || (size_t)n >= sizeof(path))
		return file;
	abs_to = copy_name(path, (size_t)n);
	if (abs_to == NULL)
		return file;
	abs_from = file;
	return abs_to;
}

static int by_lo(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int grow(struct ranges *rs)
{
	size_t cap = rs->cap ? 2 * rs->cap : 64;
	struct range *r = rcl_meta_alloc(cap * sizeof(*r));

	if (r == NULL)
		return -ENOMEM;
	if (rs->n)
		memcpy(r, rs->r, rs->n * sizeof(*r));
	rcl_meta_free(rs->r, rs->cap * sizeof(*r));
	rs->r = r;
	rs->cap = cap;
	return 0;
}

/* Each range of die's code; also dwarf_getfuncs' callback. */
static int add_ranges(Dwarf_Die *die, void *arg)
{
	struct ranges *rs = arg;
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off = 0;

	while ((off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0) {
		if (rs->n == rs->cap && grow(rs) != 0)
			return DWARF_CB_ABORT;
		rs->r[rs->n++] = (struct range){lo, hi, *die};
	}
	return DWARF_CB_OK;
}

static struct ranges *new_ranges(struct ranges **head, const void *key)
{
	struct ranges *rs = rcl_meta_alloc(sizeof(*rs));

	if (rs) {
		rs->key = key;
		HASH_ADD_PTR(*head, key, rs);
	}
	return rs;
}

static void sort_ranges(struct ranges *rs)
{
	if (rs)
		qsort(rs->r, rs->n, sizeof(*rs->r), by_lo);
}

static void free_ranges(struct ranges **head)
{
	struct ranges *rs, *tmp;

	HASH_ITER(hh, *head, rs, tmp) {
		HASH_DEL(*head, rs);
		rcl_meta_free(rs->r, rs->cap * sizeof(*rs->r));
		rcl_meta_free(rs, sizeof(*rs));
	}
}

/* The DIE of the range holding addr, or NULL. */
static Dwarf_Die *range_at(struct ranges *rs, Dwarf_Addr addr)
{
	size_t lo = 0, hi = rs ? rs->n : 0;

	/* The last range starting at or before addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rs->r[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr >= rs->r[lo - 1].hi)
		return NULL;
	return &rs->r[lo - 1].die;
}

/* The DW_TAG_subprogram whose code holds addr, or NULL. */
static Dwarf_Die *func_at(Dwarf_Die *cudie, Dwarf_Addr addr)
{
	struct ranges *rs;

	HASH_FIND_PTR(cu_funcs, &cudie->addr, rs);
	if (rs == NULL) {
		rs = new_ranges(&cu_funcs, cudie->addr);
		if (rs)
			dwarf_getfuncs(cudie, add_ranges, rs, 0);
		sort_ranges(rs);
	}
	return range_at(rs, addr);
}

/*
 * The CU holding pc, found by the ranges of the module's CU DIEs: libdwfl's
 * own lookup reads .debug_aranges, which clang does not emit, and then
 * hands out a neighbouring CU for an address in a CU without them.
 */
static Dwarf_Die *cu_at(Dwfl_Module *m, Dwarf_Addr pc, Dwarf_Addr *bias)
{
	struct ranges *rs;

	if (dwfl_module_getdwarf(m, bias) == NULL)
		return NULL;
	HASH_FIND_PTR(module_cus, &m, rs);
	if (rs == NULL) {
		rs = new_ranges(&module_cus, m);
		for (Dwarf_Die *cu = NULL;
		     rs && (cu = dwfl_module_nextcu(m, cu, bias)) != NULL;)
			add_ranges(cu, rs);
		sort_ranges(rs);
	}
	return range_at(rs, pc - *bias);
}

/*
 * The scopes holding addr, outermost first: its function, then each
 * lexical block or inlined call nested in it that holds addr. Returns how
 * many, 0 when the DWARF names no function there.
 */
static int scopes_at(Dwarf_Die *cudie, Dwarf_Addr addr, Dwarf_Die *path)
{
	const Dwarf_Die *fn = func_at(cudie, addr);
	int n = 0;

	if (fn == NULL)
		return 0;
	path[n++] = *fn;
	while (n < MAX_SCOPES) {
		Dwarf_Die c;
		bool found = false;

		if (dwarf_child(&path[n - 1], &c) != 0)
			break;
		do {
			int tag = dwarf_tag(&c);

			found = (tag == DW_TAG_lexical_block ||
			         tag == DW_TAG_inlined_subroutine) &&
			        dwarf_haspc(&c, addr) > 0;
		} while (!found && dwarf_siblingof(&c, &c) == 0);
		if (!found)
			break;
		path[n++] = c;
	}
	return n;
}

/*
 * An inlined function's name comes from its abstract origin: the
 * linkage name demangled, as the symbol table would give it, else the
 * plain name (C has no linkage names).
 */
static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *name;

	name =
	    dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
	if (name == NULL)
		name = dwarf_formstring(
		    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a));
	if (name)
		return pretty(name);
	return dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
}

/* Where the inlined call was written: the caller's file and line. */
static void call_site(Dwarf_Die *inl, Dwarf_Die *cudie, struct rcl_frame *f)
{
	Dwarf_Attribute a;
	Dwarf_Files *files;
	Dwarf_Word file, line;

	f->file = NULL;
	f->line = 0;
	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &a), &file) != 0 ||
	    dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &a), &line) != 0 ||
	    dwarf_getsrcfiles(cudie, &files, NULL) != 0)
		return;
	f->file = absolute(dwarf_filesrc(files, file, NULL, NULL), cudie);
	f->line = f->file ? (int)line : 0;
}

/*
 * f[0] holds the real function with the line table's file:line for addr.
 * When addr is in inlined code, the inlined functions come first, the
 * innermost with that file:line, each outer one (and last the real
 * function) at the call of the one inside it. Returns the frame count.
 */
static size_t with_inlined(Dwarf_Die *cudie, Dwarf_Addr addr,
                           struct rcl_frame *f)
{
	Dwarf_Die path[MAX_SCOPES];
	struct rcl_frame real = f[0];
	int depth = scopes_at(cudie, addr, path);
	size_t n = 0;

	if (depth > 0 && real.function == NULL)
		real.function = die_name(&path[0]);
	for (int i = depth - 1; i > 0; i--) {
		if (dwarf_tag(&path[i]) != DW_TAG_inlined_subroutine)
			continue;
		/* Too deep: keep the innermost, but still find the caller. */
		if (n < MAX_FRAMES - 1) {
			f[n] = real;
			f[n].function = die_name(&path[i]);
			f[n].inlined = true;
			n++;
		}
		call_site(&path[i], cudie, &real);
	}
	f[n++] = real;
	return n;
}

/*
 * With split DWARF (-gsplit-dwarf) the CU in the module is a skeleton
 * with the line table; the functions and inlined calls are in the unit
 * of its .dwo file, which libdw finds and opens.
 */
static Dwarf_Die *split_unit(Dwarf_Die *cudie, Dwarf_Die *split)
{
	uint8_t type;

	if (dwarf_cu_info(cudie->cu, NULL, &type, NULL, split, NULL, NULL,
	                  NULL) == 0 &&
	    type == DW_UT_skeleton && split->addr)
		return split;
	return cudie;
}

/*
 * A return address points after the call; the frame shows the call itself
 * (the return address minus one, as LeakSanitizer and valgrind do), so
 * module + offset is what addr2line needs for the call's line. The line
 * comes from the table of the CU that cu_at finds (dwfl_module_getsrc
 * would go through libdwfl's .debug_aranges lookup).
 */
static size_t lookup(uintptr_t ip, struct rcl_frame *f)
{
	Dwarf_Addr pc = ip - 1, bias = 0;
	Dwfl_Module *m = dwfl ? dwfl_addrmodule(dwfl, pc) : NULL;
	Dwarf_Line *line;
	Dwarf_Die *cudie, split;
	const char *name;
	int lineno = 0;

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
		return 1;
	name = dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	if (name)
		f->module = name;
	if (dwfl_module_getelf(m, &bias))
		f->offset = pc - bias;
	f->function = pretty(sym_name(m, pc));

	cudie = cu_at(m, pc, &bias);
	if (cudie == NULL)
		return 1;
	line = dwarf_getsrc_die(cudie, pc - bias);
	if (line && dwarf_lineno(line, &lineno) == 0) {
		f->file = absolute(dwarf_linesrc(line, NULL, NULL), cudie);
		f->line = f->file ? lineno : 0;
	}
	return with_inlined(split_unit(cudie, &split), pc - bias, f);
}

static size_t cached_size(size_t n)
{
	return sizeof(struct cached) + n * sizeof(struct rcl_frame);
}

size_t rcl_symbolize(uintptr_t ip, const struct rcl_frame **frames)
{
	static struct rcl_frame spare[MAX_FRAMES]; /* when out of memory */
	struct cached *c;
	struct rcl_frame f[MAX_FRAMES];
	size_t n;

	HASH_FIND(hh, cache, &ip, sizeof(ip), c);
	if (c == NULL) {
		n = lookup(ip, f);
		c = rcl_meta_alloc(cached_size(n));
		if (c == NULL) {
			memcpy(spare, f, n * sizeof(f[0]));
			*frames = spare;
			return n;
		}
		c->ip = ip;
		c->n = n;
		memcpy(c->frames, f, n * sizeof(f[0]));
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
	struct symtab *t, *ttmp;

	HASH_ITER(hh, cache, c, tmp) {
		HASH_DEL(cache, c);
		rcl_meta_free(c, cached_size(c->n));
	}
	free_ranges(&cu_funcs);
	free_ranges(&module_cus);
	HASH_ITER(hh, symtabs, t, ttmp) {
		HASH_DEL(symtabs, t);
		rcl_meta_free(t->s, t->cap * sizeof(*t->s));
		rcl_meta_free(t, sizeof(*t));
	}
	abs_from = abs_to = NULL;
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
