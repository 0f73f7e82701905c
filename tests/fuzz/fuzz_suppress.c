/*
 * libFuzzer harness for suppression files (make fuzz): the parser and the
 * LeakSanitizer-style pattern matcher. Each ignored line must be told in
 * exactly one line of the error output, and matching must terminate
 * without reading out of bounds for any pattern.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

/* What suppress.c and meta.c link against, and parsing never uses. */
struct rcl_options rcl_opt;
__thread int rcl_locks_held;

int rcl_stderr_fd(void)
{
	return -1;
}

void *rcl_sys_mmap(void *addr, size_t len, int prot, int flags, int fd,
                   long off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

int rcl_sys_munmap(void *addr, size_t len)
{
	return munmap(addr, len);
}

const struct rcl_stack *rcl_depot_get(rcl_stack_id id)
{
	(void)id;
	return NULL;
}

size_t rcl_symbolize(uintptr_t ip, const struct rcl_frame **frames)
{
	(void)ip, (void)frames;
	return 0;
}

static size_t newlines;

static void count_lines(struct rcl_out *o, const char *buf, size_t len)
{
	(void)o;
	for (size_t i = 0; i < len; i++)
		newlines += buf[i] == '\n';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
	    "main", "make_node", "/usr/lib/x86_64-linux-gnu/libc.so.6",
	    "operator new(unsigned long)", "", "a*b$^"};
	char *text = malloc(size + 1);
	struct rcl_out err;
	int bad;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	rcl_out_init_fd(&err, -1);
	err.failed = false;
	err.write = count_lines;
	newlines = 0;
	bad = rcl_suppress_parse(text, size, "fuzz.supp", "/fuzz.supp", &err);
	rcl_out_flush(&err);
	if ((size_t)bad != newlines)
		abort();
	for (const struct rcl_suppression *s = rcl_suppress_list(); s;
	     s = s->next) {
		if (s->pattern[0] == 0)
			abort();
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			(void)rcl_suppress_template_match(s->pattern, names[i]);
		(void)rcl_suppress_template_match(s->pattern, s->pattern);
	}
	rcl_suppress_forget();
	free(text);
	return 0;
}
