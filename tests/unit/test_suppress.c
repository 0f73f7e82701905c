/*
 * Suppressions: LSan's wildcard matching, the file parser and its messages
 * (captured in memory), and matching real stacks of this binary. The list
 * only grows, so each test uses patterns no earlier test added.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"
#include "unit.h"
#include "capture.h"

/* The exit report of these binaries is not what they test. */
static void unit_setup(void)
{
	rcl_opt.log_path = (char *)"/dev/null";
	rcl_opt.exitcode = 0;
}

/* The last suppression in the list, to find the ones a call adds. */
static const struct rcl_suppression *last(void)
{
	const struct rcl_suppression *s = rcl_suppress_list();

	while (s && s->next)
		s = s->next;
	return s;
}

static const struct rcl_suppression *after(const struct rcl_suppression *s)
{
	return s ? s->next : rcl_suppress_list();
}

static bool m(const char *templ, const char *str)
{
	return rcl_suppress_template_match(templ, str);
}

static void substring(void)
{
	CHECK(m("make_node", "make_node"));
	CHECK(m("node", "make_node"));
	CHECK(m("ke_no", "make_node"));
	CHECK(!m("make_nodes", "make_node"));
	CHECK(!m("Make", "make_node")); /* case matters */
	CHECK(m("libc.so", "/usr/lib/x86_64-linux-gnu/libc.so.6"));
}

static void star(void)
{
	CHECK(m("make*node", "make_the_node"));
	CHECK(m("make*node", "makenode"));
	CHECK(m("*", "x"));
	CHECK(m("a*b*c", "xxaYYbZZcxx"));
	CHECK(!m("a*b*c", "xxaYYcZZbxx"));
	CHECK(m("std::*::push_back", "std::vector<int>::push_back(int)"));
	CHECK(!m("m*z", "make_node"));
	/* The part after the last '*' is tried at every place. */
	CHECK(m("a*b$", "abab"));
	CHECK(m("^a*a$", "abca"));
}

static void anchors(void)
{
	CHECK(m("^make", "make_node"));
	CHECK(!m("^node", "make_node"));
	CHECK(m("node$", "make_node"));
	CHECK(!m("make$", "make_node"));
	CHECK(m("^make_node$", "make_node"));
	CHECK(!m("^make_node$", "make_node2"));
	CHECK(!m("^make_node$", "xmake_node"));
	CHECK(m("^make*$", "make_node"));
	CHECK(m("^*node$", "make_node"));
	CHECK(m("a^b", "xa^bx")); /* '^' only anchors at the start */
	CHECK(m("a$b", "a$b"));   /* '$' only anchors at the end */
}

static void empty(void)
{
	CHECK(m("", "x"));
	CHECK(m("^", "x"));
	CHECK(!m("", ""));
	CHECK(!m("", NULL));
	CHECK(!m("x", NULL));
	CHECK(!m("^$", "x"));
	CHECK(!m("*", ""));
}

static void parser_lines_and_messages(void)
{
	static char text[] = "# a comment\n"
	                     "\n"
	                     "  leak:alpha_fn  \n"
	                     "foo:bar\n"
	                     "\t# indented comment\n"
	                     "leak:\n"
	                     "no colon here\n"
	                     "leak : spaced_fn*x \r\n"
	                     "   \n"
	                     "LEAK:upper\n"
	                     "leak:last_fn"; /* no final newline */
	const struct rcl_suppression *before = last(), *s;
	struct rcl_out o;

	mem_out(&o);
	CHECK_EQ(rcl_suppress_parse(text, sizeof(text) - 1, "t.supp",
	                            "/abs/t.supp", &o),
	         4);
	CHECK(strstr(captured, "rcleak: t.supp:4: 'foo:bar' ignored (unknown "
	                       "type 'foo'); allowed: 'leak:PATTERN' lines, "
	                       "'#' comments, empty lines\n") != NULL);
	CHECK(strstr(captured, "rcleak: t.supp:6: 'leak:' ignored (no pattern "
	                       "after 'leak:')") != NULL);
	CHECK(strstr(captured, "rcleak: t.supp:7: 'no colon here' ignored "
	                       "(not TYPE:PATTERN)") != NULL);
	CHECK(strstr(captured, "rcleak: t.supp:10: 'LEAK:upper' ignored "
	                       "(unknown type 'LEAK')") != NULL);
	/* One line per bad line, nothing about the good ones. */
	CHECK_EQ(captured_len > 0 && captured[captured_len - 1] == '\n', 1);
	{
		size_t lines = 0;

		for (size_t i = 0; i < captured_len; i++)
			lines += captured[i] == '\n';
		CHECK_EQ(lines, 4);
	}

	s = after(before);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_STR(s->pattern, "alpha_fn");
	CHECK_STR(s->file, "t.supp");
	CHECK_STR(s->path, "/abs/t.supp");
	CHECK_EQ(s->line, 3);
	CHECK_EQ(s->builtin, 0);
	s = s->next;
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_STR(s->pattern, "spaced_fn*x");
	CHECK_EQ(s->line, 8);
	s = s->next;
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_STR(s->pattern, "last_fn");
	CHECK_EQ(s->line, 11);
	CHECK(s->next == NULL);
}

static void unreadable_file(void)
{
	const struct rcl_suppression *before = last();
	struct rcl_out o;

	mem_out(&o);
	CHECK_EQ(rcl_suppress_load_file("/nonexistent/x.supp", &o), -ENOENT);
	CHECK_STR(captured, "rcleak: cannot read suppressions file "
	                    "'/nonexistent/x.supp': No such file or directory; "
	                    "it is ignored\n");
	mem_out(&o);
	CHECK_EQ(rcl_suppress_load_file("/", &o), -EISDIR);
	CHECK(strstr(captured, "'/': Is a directory") != NULL);
	CHECK(last() == before);
}

/* A relative name is kept for messages and made absolute for the JSON. */
static void file_is_read(void)
{
	char dir[] = "/tmp/rcl-supp-XXXXXX", cwd[4096], want[4200];
	const struct rcl_suppression *before = last(), *s;
	struct rcl_out o;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK_EQ(chdir(dir), 0);
	f = fopen("r.supp", "w");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs("leak:beta_fn\nbad line\n", f);
	for (int i = 0; i < 2000; i++) /* past the first read's 4 KiB */
		fputs("# filler filler filler\n", f);
	fputs("leak:^gamma_fn$", f);
	fclose(f);
	mem_out(&o);
	CHECK_EQ(rcl_suppress_load_file("r.supp", &o), 0);
	CHECK_STR(captured, "rcleak: r.supp:2: 'bad line' ignored (not "
	                    "TYPE:PATTERN); allowed: 'leak:PATTERN' lines, "
	                    "'#' comments, empty lines\n");
	snprintf(want, sizeof(want), "%s/r.supp", dir);
	s = after(before);
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK_STR(s->pattern, "beta_fn");
		CHECK_STR(s->file, "r.supp");
		CHECK_STR(s->path, want);
		CHECK_EQ(s->line, 1);
		s = s->next;
		CHECK(s != NULL);
		if (s != NULL) {
			CHECK_STR(s->pattern, "^gamma_fn$");
			CHECK_EQ(s->line, 2003);
		}
	}
	unlink("r.supp");
	CHECK_EQ(chdir(cwd), 0);
	rmdir(dir);
}

/* Static functions: the ELF symbol table names them. */
static __attribute__((noinline)) int delta_leaf(int x)
{
	return x * 3 + 1;
}

static __attribute__((noinline)) int delta_caller(int x)
{
	return delta_leaf(x) * 5 + 2;
}

static __attribute__((noinline)) int epsilon_leaf(int x)
{
	return x * 7 + 3;
}

static __attribute__((noinline)) int zeta_leaf(int x)
{
	return x * 11 + 5;
}

static __attribute__((noinline)) int eta_leaf(int x)
{
	return x * 13 + 6;
}

static rcl_stack_id stack_of(int (*leaf)(int), int (*caller)(int))
{
	uintptr_t ips[2] = {(uintptr_t)leaf + 4, (uintptr_t)caller + 4};

	return rcl_depot_put(ips, 2);
}

static void add_patterns(char *text)
{
	struct rcl_out o;

	mem_out(&o);
	CHECK_EQ(
	    rcl_suppress_parse(text, strlen(text), "m.supp", "/abs/m.supp", &o),
	    0);
}

/*
 * Any frame's function, not only frame 0's; frames are tried innermost
 * first, each against the patterns in file order (as LSan does).
 */
static void stacks_match_by_function(void)
{
	static char text[] = "leak:^delta_caller$\nleak:delta_l*f\n";
	rcl_stack_id a = stack_of(delta_leaf, delta_caller);
	rcl_stack_id b = stack_of(epsilon_leaf, delta_caller);
	rcl_stack_id c = stack_of(zeta_leaf, zeta_leaf);
	const struct rcl_suppression *before = last(), *first, *second;

	(void)delta_caller(1);
	(void)epsilon_leaf(1);
	(void)zeta_leaf(1);
	add_patterns(text);
	first = after(before);
	second = first ? first->next : NULL;
	CHECK(first != NULL && second != NULL);
	rcl_symbolize_begin();
	CHECK(rcl_suppress_match(a) == second); /* frame 0 first */
	CHECK(rcl_suppress_match(a) == second); /* cached */
	CHECK(rcl_suppress_match(b) == first);  /* by frame 1 */
	CHECK(rcl_suppress_match(c) == NULL);
	rcl_symbolize_end();
}

/*
 * Lost blocks that match become suppressed, and so do the indirectly lost
 * blocks a suppressed definitely lost one kept; a still reachable block
 * never is. The counts start again at each report.
 */
static void apply_suppresses_blocks_and_what_they_keep(void)
{
	static char text[] = "leak:epsilon_leaf\n";
	rcl_stack_id eps = stack_of(epsilon_leaf, epsilon_leaf);
	rcl_stack_id other = stack_of(zeta_leaf, zeta_leaf);
	const struct rcl_suppression *s;
	struct rcl_snap v[6];

	add_patterns(text);
	s = last();
	for (int round = 0; round < 2; round++) {
		v[0] = (struct rcl_snap){.kind = RCL_DEFINITE,
		                         .stack = eps,
		                         .size = 24,
		                         .leader = 0};
		v[1] = (struct rcl_snap){.kind = RCL_INDIRECT,
		                         .stack = other,
		                         .size = 5,
		                         .leader = 0};
		v[2] = (struct rcl_snap){
		    .kind = RCL_REACHABLE, .stack = eps, .size = 8};
		v[3] = (struct rcl_snap){.kind = RCL_DEFINITE,
		                         .stack = other,
		                         .size = 7,
		                         .leader = 3};
		v[4] = (struct rcl_snap){.kind = RCL_INDIRECT,
		                         .stack = other,
		                         .size = 3,
		                         .leader = 3};
		v[5] = (struct rcl_snap){
		    .kind = RCL_POSSIBLE, .stack = eps, .size = 11};
		rcl_symbolize_begin();
		rcl_suppress_apply(v, 6);
		rcl_symbolize_end();
		CHECK_EQ(v[0].kind, RCL_SUPPRESSED);
		CHECK_EQ(v[1].kind, RCL_SUPPRESSED); /* kept by v[0] */
		CHECK_EQ(v[2].kind, RCL_REACHABLE);
		CHECK_EQ(v[3].kind, RCL_DEFINITE);
		CHECK_EQ(v[4].kind, RCL_INDIRECT);
		CHECK_EQ(v[5].kind, RCL_SUPPRESSED);
		CHECK_EQ(s->blocks, 3);
		CHECK_EQ(s->bytes, 40);
	}
}

/*
 * Both writers: a suppressed record is in no JSON "leaks" entry and no
 * text loss record; the suppressions that matched are listed, with
 * counts, and the ones that did not are not.
 */
static void writers_list_matched_suppressions(void)
{
	static char text[] = "leak:^zeta_leaf$\nleak:never_matches_xyz\n";
	struct rcl_loss losses[2] = {
	    {.kind = RCL_DEFINITE,
	     .stack = stack_of(zeta_leaf, zeta_leaf),
	     .alloc_kind = RCL_MALLOC,
	     .bytes = 40,
	     .blocks = 2},
	    {.kind = RCL_DEFINITE,
	     .stack = stack_of(eta_leaf, eta_leaf),
	     .alloc_kind = RCL_MALLOC,
	     .bytes = 9,
	     .blocks = 1},
	};
	struct rcl_report r = {.when = "exit",
	                       .pid = 42,
	                       .ppid = 41,
	                       .exe = "/bin/x",
	                       .losses = losses,
	                       .nlosses = 2};
	struct rcl_out o;

	struct rcl_snap v[3] = {
	    {.kind = RCL_DEFINITE, .stack = losses[0].stack, .size = 20},
	    {.kind = RCL_DEFINITE,
	     .stack = losses[0].stack,
	     .size = 20,
	     .leader = 1},
	    {.kind = RCL_DEFINITE,
	     .stack = losses[1].stack,
	     .size = 9,
	     .leader = 2},
	};

	(void)eta_leaf(1);
	add_patterns(text);
	rcl_symbolize_begin();
	rcl_suppress_apply(v, 3);
	CHECK_EQ(v[0].kind, RCL_SUPPRESSED);
	CHECK_EQ(v[2].kind, RCL_DEFINITE);
	/* As report.c's grouping makes them from those blocks: */
	losses[0].kind = RCL_SUPPRESSED;
	r.total[RCL_SUPPRESSED] = (struct rcl_total){40, 2};
	r.total[RCL_DEFINITE] = (struct rcl_total){9, 1};
	mem_out(&o);
	rcl_json_write(&o, &r);
	rcl_out_flush(&o);
	CHECK(strstr(captured, "\"suppressed\": {\"bytes\": 40, "
	                       "\"blocks\": 2}") != NULL);
	CHECK(strstr(captured, "\"definitely_lost\": {\"bytes\": 9, "
	                       "\"blocks\": 1}") != NULL);
	CHECK(strstr(captured, "\"kind\": \"suppressed\"") == NULL);
	CHECK(strstr(captured, "\"leaks\": [\n    {\"kind\": "
	                       "\"definitely_lost\", \"bytes\": 9,") != NULL);
	CHECK(strstr(captured,
	             "\"suppressions\": [\n    {\"pattern\": "
	             "\"^zeta_leaf$\", \"file\": \"/abs/m.supp\", "
	             "\"line\": 1, \"blocks\": 2, \"bytes\": 40}\n  ]\n"
	             "}\n") != NULL);
	CHECK(strstr(captured, "never_matches") == NULL);
	if (unit_failures)
		fputs(captured, stderr);
	mem_out(&o);
	rcl_text_write(&o, &r);
	rcl_out_flush(&o);
	rcl_symbolize_end();
	CHECK(strstr(captured, "==42== Suppressions used:\n"
	                       "==42==   count      bytes template\n"
	                       "==42==       2         40 leak:^zeta_leaf$   "
	                       "(m.supp:1)\n") != NULL);
	CHECK(strstr(captured, "9 bytes in 1 block is definitely lost in loss "
	                       "record 1 of 1") != NULL);
	CHECK(strstr(captured, "40 bytes in 2 blocks are") == NULL);
	CHECK(strstr(captured, "never_matches") == NULL);
	if (unit_failures)
		fputs(captured, stderr);
}

/* gen_suppressions names frame 0's function, anchored. */
static void suggestion_names_frame0(void)
{
	rcl_stack_id delta = stack_of(delta_leaf, delta_caller);
	struct rcl_out o;

	mem_out(&o);
	rcl_symbolize_begin();
	rcl_suppress_suggest(&o, delta);
	rcl_symbolize_end();
	rcl_out_flush(&o);
	CHECK_STR(captured, "leak:^delta_leaf$\n");
	mem_out(&o);
	rcl_suppress_suggest(&o, 0);
	rcl_out_flush(&o);
	CHECK(strncmp(captured, "# rcleak: ", 10) == 0);
}

/* Last: this pattern matches every stack of this binary. */
static void stacks_match_by_module(void)
{
	static char text[] = "leak:test_suppress$\n";
	rcl_stack_id eps = stack_of(epsilon_leaf, epsilon_leaf);
	const struct rcl_suppression *before = last(), *s;

	add_patterns(text);
	rcl_symbolize_begin();
	s = rcl_suppress_match(eps);
	CHECK(s != NULL && s == after(before));
	rcl_symbolize_end();
}

/* Found by make fuzz: "leak:\0x" made an empty pattern, which matched
 * every stack. */
static void nul_byte_in_pattern_is_refused(void)
{
	char text[] = "leak:\0\0^main\nleak:nul_ok_fn\n";
	const struct rcl_suppression *before = last(), *s;
	struct rcl_out o;

	mem_out(&o);
	CHECK_EQ(rcl_suppress_parse(text, sizeof(text) - 1, "n.supp",
	                            "/abs/n.supp", &o),
	         1);
	CHECK_STR(captured, "rcleak: n.supp:1: 'leak:??^main' ignored (a NUL "
	                    "byte in the pattern); allowed: 'leak:PATTERN' "
	                    "lines, '#' comments, empty lines\n");
	s = after(before);
	CHECK(s != NULL && strcmp(s->pattern, "nul_ok_fn") == 0 &&
	      s->next == NULL);
}

TEST_MAIN("suppress", TEST(substring), TEST(star), TEST(anchors), TEST(empty),
          TEST(parser_lines_and_messages), TEST(unreadable_file),
          TEST(file_is_read), TEST(stacks_match_by_function),
          TEST(apply_suppresses_blocks_and_what_they_keep),
          TEST(writers_list_matched_suppressions),
          TEST(suggestion_names_frame0), TEST(stacks_match_by_module),
          TEST(nul_byte_in_pattern_is_refused))
