/*
 * LeakSanitizer-format suppressions: "leak:PATTERN" lines, read from the
 * files of option suppressions once at start-up, matched against the
 * allocation stacks of lost blocks at report time. A pattern matches a
 * stack when it matches the function, source file or module path of any of
 * its frames (inlined frames included), with LSan's wildcards: '*' is any
 * run of characters, a leading '^' and a trailing '$' anchor, and otherwise
 * a pattern may match anywhere (lsan_common.cpp, TemplateMatch in
 * sanitizer_common.cpp). A bad line is reported and skipped: a typo in a
 * suppression file must not stop the program under test.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/*
 * Allocations the C runtime or the dynamic loader make for themselves and
 * keep for the life of the process, which no user can fix. Each entry says
 * why. None is needed yet: python3 -c pass, perl -e 1, bash -c true and
 * git --version report no such block as lost (the loader's own blocks are
 * still reachable in report.c; the rest is the programs' own data).
 */
static const char *const builtin[] = {
    NULL, /* end */
};

static struct rcl_suppression *head, *tail;

/* The answer for each allocation stack, for the current report. */
struct cached {
	UT_hash_handle hh;
	rcl_stack_id stack;
	struct rcl_suppression *s; /* NULL: none matches */
};
static struct cached *cache;

/* Answers cached before a suppression was added, or in an earlier report. */
static void drop_cache(void)
{
	struct cached *c, *tmp;

	HASH_ITER(hh, cache, c, tmp) {
		HASH_DEL(cache, c);
		rcl_meta_free(c, sizeof(*c));
	}
}

static bool space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * p..pend against the whole of s, '*' matching any run. open_start and
 * open_end stand for an implied '*' before and after the pattern. On a
 * mismatch the last '*' takes one more character and the rest is tried
 * again (the classic wildcard match: no recursion, no allocation).
 */
static bool star_match(const char *p, const char *pend, const char *s,
                       bool open_start, bool open_end)
{
	const char *after_star = open_start ? p : NULL, *retry = s;

	while (*s) {
		if (p == pend && open_end)
			return true;
		if (p < pend && *p == '*') {
			after_star = ++p;
			retry = s;
			continue;
		}
		if (p < pend && *p == *s) {
			p++;
			s++;
			continue;
		}
		if (after_star == NULL)
			return false;
		p = after_star;
		s = ++retry;
	}
	while (p < pend && *p == '*')
		p++;
	return p == pend;
}

/*
 * LSan's TemplateMatch: an unknown (NULL) or empty string never matches;
 * an empty pattern matches any other. Unlike TemplateMatch, "a*b$" also
 * matches "abab": the part after the last '*' is tried at every place,
 * not only at the first one found.
 */
bool rcl_suppress_template_match(const char *templ, const char *str)
{
	bool anchor_start = false, anchor_end = false;
	size_t len;

	if (str == NULL || str[0] == 0)
		return false;
	if (templ[0] == '^') {
		anchor_start = true;
		templ++;
	}
	len = strlen(templ);
	if (len > 0 && templ[len - 1] == '$') {
		anchor_end = true;
		len--;
	}
	return star_match(templ, templ + len, str, !anchor_start, !anchor_end);
}

static void append(struct rcl_suppression *s)
{
	s->next = NULL;
	if (tail)
		tail->next = s;
	else
		head = s;
	tail = s;
}

static struct rcl_suppression *add(const char *pattern, const char *file,
                                   const char *path, unsigned line)
{
	struct rcl_suppression *s = rcl_meta_alloc(sizeof(*s));

	if (s == NULL)
		return NULL;
	*s = (struct rcl_suppression){
	    .pattern = pattern, .file = file, .path = path, .line = line};
	append(s);
	drop_cache();
	return s;
}

/* Forgets every suppression (the tests and the fuzzer start afresh). */
void rcl_suppress_forget(void)
{
	while (head) {
		struct rcl_suppression *next = head->next;

		rcl_meta_free(head, sizeof(*head));
		head = next;
	}
	tail = NULL;
	drop_cache();
}

/*
 * "rcleak: FILE:LINE: 'TEXT' ignored (WHY); allowed: ..." as one line;
 * why_arg, when not NULL, is quoted after why.
 */
static void malformed(struct rcl_out *err, const char *file, unsigned line,
                      const char *text, size_t len, const char *why,
                      const char *why_arg, size_t arg_len)
{
	rcl_out_str(err, "rcleak: ");
	rcl_out_str(err, file);
	rcl_out_chr(err, ':');
	rcl_out_u64(err, line);
	rcl_out_str(err, ": '");
	rcl_out_text(err, text, len);
	rcl_out_str(err, "' ignored (");
	rcl_out_str(err, why);
	if (why_arg) {
		rcl_out_str(err, " '");
		rcl_out_text(err, why_arg, arg_len);
		rcl_out_chr(err, '\'');
	}
	rcl_out_str(err, "); allowed: 'leak:PATTERN' lines, '#' comments, "
	                 "empty lines\n");
	rcl_out_flush(err);
}

/*
 * Parses one file's text in place: the patterns stay in text, cut out
 * with NULs, so text must live as long as the suppressions, and text[len]
 * must be writable. file names it in messages and the text report; path
 * is its absolute form. Returns the number of lines ignored.
 */
int rcl_suppress_parse(char *text, size_t len, const char *file,
                       const char *path, struct rcl_out *err)
{
	char *end = text + len, *p = text;
	unsigned line = 0;
	int bad = 0;

	while (p < end) {
		char *eol = memchr(p, '\n', (size_t)(end - p));
		char *next = eol ? eol + 1 : end, *colon, *type_end, *pat;

		line++;
		if (eol == NULL)
			eol = end;
		while (p < eol && space(*p))
			p++;
		while (eol > p && space(eol[-1]))
			eol--;
		if (p == eol || *p == '#') {
			p = next;
			continue;
		}
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon == NULL) {
			malformed(err, file, line, p, (size_t)(eol - p),
			          "not TYPE:PATTERN", NULL, 0);
			bad++;
			p = next;
			continue;
		}
		for (type_end = colon; type_end > p && space(type_end[-1]);)
			type_end--;
		for (pat = colon + 1; pat < eol && space(*pat);)
			pat++;
		if (type_end - p != 4 || memcmp(p, "leak", 4) != 0) {
			malformed(err, file, line, p, (size_t)(eol - p),
			          "unknown type", p, (size_t)(type_end - p));
			bad++;
		} else if (pat == eol) {
			malformed(err, file, line, p, (size_t)(eol - p),
			          "no pattern after 'leak:'", NULL, 0);
			bad++;
		} else if (memchr(pat, 0, (size_t)(eol - pat))) {
			/* cut short there, it would match every stack */
			malformed(err, file, line, p, (size_t)(eol - p),
			          "a NUL byte in the pattern", NULL, 0);
			bad++;
		} else {
			*eol = 0; /* text[len] is writable for the last line */
			add(pat, file, path, line);
		}
		p = next;
	}
	return bad;
}

/* Reads all of fd into rcleak's memory, with one byte to spare. */
static char *slurp(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = rcl_meta_alloc(cap);

	while (buf) {
		ssize_t got = read(fd, buf + n, cap - n - 1);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;

			rcl_meta_free(buf, cap);
			errno = e;
			return NULL;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n + 1 == cap) {
			char *bigger = rcl_meta_alloc(cap * 2);

			if (bigger)
				memcpy(bigger, buf, n);
			rcl_meta_free(buf, cap);
			buf = bigger;
			cap *= 2;
		}
	}
	if (buf == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

/* The absolute form of path, against the directory the program began in. */
static const char *absolute(const char *path)
{
	char cwd[4096];
	size_t clen, plen = strlen(path);
	char *abs;

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return path;
	clen = strlen(cwd);
	abs = rcl_meta_alloc(clen + plen + 2);
	if (abs == NULL)
		return path;
	memcpy(abs, cwd, clen);
	abs[clen] = '/';
	memcpy(abs + clen + 1, path, plen + 1);
	return abs;
}

int rcl_suppress_load_file(const char *file, struct rcl_out *err)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	char *text = NULL;
	int e;

	if (fd >= 0) {
		text = slurp(fd, &len);
		e = errno;
		close(fd);
		errno = e;
	}
	if (text == NULL) {
		e = errno;
		rcl_out_str(err, "rcleak: cannot read suppressions file '");
		rcl_out_str(err, file);
		rcl_out_str(err, "': ");
		rcl_out_str(err, strerror(e));
		rcl_out_str(err, "; it is ignored\n");
		rcl_out_flush(err);
		return -e;
	}
	rcl_suppress_parse(text, len, file, absolute(file), err);
	return 0;
}

/*
 * At start-up, before the program runs: every file of option
 * suppressions, in order, then the built-in list, so a user's pattern is
 * the one credited when both match.
 */
void rcl_suppress_load(void)
{
	struct rcl_out *err = rcl_meta_alloc(sizeof(*err));

	if (err == NULL)
		return;
	rcl_out_init_fd(err, rcl_stderr_fd());
	for (int i = 0; i < rcl_opt.suppressions.n; i++)
		if (rcl_opt.suppressions.v[i][0]) /* "suppressions=": none */
			rcl_suppress_load_file(rcl_opt.suppressions.v[i], err);
	for (unsigned i = 0; builtin[i]; i++) {
		struct rcl_suppression *s =
		    add(builtin[i], RCL_SUPPRESS_BUILTIN, RCL_SUPPRESS_BUILTIN,
		        i + 1);

		if (s)
			s->builtin = true;
	}
	rcl_meta_free(err, sizeof(*err));
}

const struct rcl_suppression *rcl_suppress_list(void)
{
	return head;
}

/* The first suppression that matches str, in file order. */
static struct rcl_suppression *match_str(const char *str)
{
	if (str == NULL || str[0] == 0)
		return NULL;
	for (struct rcl_suppression *s = head; s; s = s->next)
		if (rcl_suppress_template_match(s->pattern, str))
			return s;
	return NULL;
}

/*
 * Frame by frame from the innermost, as LSan does: the module path, then
 * the function, then the source file. "?" is no module.
 */
static struct rcl_suppression *match_stack(rcl_stack_id stack)
{
	const struct rcl_stack *st = rcl_depot_get(stack);
	struct rcl_suppression *s;

	for (uint32_t i = 0; i < st->depth; i++) {
		const struct rcl_frame *fr;
		size_t n = rcl_symbolize(st->ips[i], &fr);

		for (size_t j = 0; j < n; j++) {
			if (strcmp(fr[j].module, "?") != 0 &&
			    (s = match_str(fr[j].module)))
				return s;
			if ((s = match_str(fr[j].function)) ||
			    (s = match_str(fr[j].file)))
				return s;
		}
	}
	return NULL;
}

struct rcl_suppression *rcl_suppress_match(rcl_stack_id stack)
{
	struct cached *c;
	struct rcl_suppression *s;

	if (head == NULL)
		return NULL;
	HASH_FIND(hh, cache, &stack, sizeof(stack), c);
	if (c)
		return c->s;
	s = match_stack(stack);
	c = rcl_meta_alloc(sizeof(*c));
	if (c) {
		c->stack = stack;
		c->s = s;
		HASH_ADD(hh, cache, stack, sizeof(c->stack), c);
	}
	return s;
}

void rcl_suppress_count(struct rcl_suppression *s, uint64_t blocks,
                        uint64_t bytes)
{
	s->blocks += blocks;
	s->bytes += bytes;
}

/*
 * Lost records (definitely, indirectly, possibly) whose allocation stack
 * matches a suppression become suppressed, and their blocks move to that
 * total; still reachable blocks are never suppressed, as in LSan.
 */
void rcl_suppress_apply(struct rcl_snap *v, size_t n)
{
	/*
	 * A new report: counts start from zero, and symbolizing starts
	 * afresh too (modules come and go between two reports).
	 */
	drop_cache();
	for (struct rcl_suppression *s = head; s; s = s->next)
		s->blocks = s->bytes = 0;
	if (head == NULL)
		return;
	/* First each lost block's own stack... */
	for (size_t i = 0; i < n; i++) {
		struct rcl_suppression *s;

		if (v[i].kind != RCL_DEFINITE && v[i].kind != RCL_INDIRECT &&
		    v[i].kind != RCL_POSSIBLE)
			continue;
		s = rcl_suppress_match(v[i].stack);
		if (s == NULL)
			continue;
		rcl_suppress_count(s, 1, v[i].size);
		v[i].kind = RCL_SUPPRESSED;
	}
	/* ...then what a suppressed definitely lost block kept. */
	for (size_t i = 0; i < n; i++) {
		const struct rcl_snap *lead = &v[v[i].leader];

		if (v[i].kind != RCL_INDIRECT || lead->kind != RCL_SUPPRESSED)
			continue;
		rcl_suppress_count(rcl_suppress_match(lead->stack), 1,
		                   v[i].size);
		v[i].kind = RCL_SUPPRESSED;
	}
}

/*
 * The C runtime's own libraries. A pattern naming one of their functions
 * (strdup, std::string's _M_create) would suppress every leak made
 * through it, so suggestions name the caller instead.
 */
static bool runtime_module(const char *module)
{
	static const char *const names[] = {"libc.so", "libstdc++.so",
	                                    "ld-linux", "libgcc_s.so"};
	const char *base = strrchr(module, '/');

	base = base ? base + 1 : module;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strncmp(base, names[i], strlen(names[i])) == 0)
			return true;
	return false;
}

/*
 * gen_suppressions: one line that suppresses this stack and little else.
 * It names the innermost frame outside the C runtime (frame 0 when all
 * are inside): its function, anchored at both ends, or when that is
 * unknown its module path.
 */
void rcl_suppress_suggest(struct rcl_out *o, rcl_stack_id stack)
{
	const struct rcl_stack *st = rcl_depot_get(stack);
	const char *fn = NULL, *module = NULL;
	bool found = false;

	for (uint32_t i = 0; i < st->depth && !found; i++) {
		const struct rcl_frame *fr;
		size_t n = rcl_symbolize(st->ips[i], &fr);

		for (size_t j = 0; j < n && !found; j++) {
			found = !runtime_module(fr[j].module);
			if (found || (i == 0 && j == 0)) {
				fn = fr[j].function;
				module = fr[j].module;
			}
		}
	}
	if (fn && fn[0]) {
		rcl_out_str(o, "leak:^");
		rcl_out_str(o, fn);
		rcl_out_str(o, "$\n");
	} else if (module && strcmp(module, "?") != 0) {
		rcl_out_str(o, "leak:^");
		rcl_out_str(o, module);
		rcl_out_str(o, "$\n");
	} else {
		rcl_out_str(o, "# rcleak: no function or module is known for "
		               "this stack; it cannot be suppressed\n");
	}
}
