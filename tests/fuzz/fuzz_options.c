/*
 * libFuzzer harness for the RCLEAK_OPTIONS parser (make fuzz). Any input
 * either parses or is refused with one line that names the problem: a
 * message never empty, never more than one line, never unterminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int rcl_stderr_fd(void)
{
	return -1; /* options.c needs it only for messages it never prints */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rcl_options o;
	char *text = malloc(size + 1);
	char msg[256];

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	memset(msg, 'x', sizeof(msg));
	rcl_options_defaults(&o);
	if (rcl_options_parse(&o, text, msg, sizeof(msg)) != 0) {
		size_t len = strnlen(msg, sizeof(msg));

		if (len == 0 || len == sizeof(msg) || strchr(msg, '\n'))
			abort();
	} else {
		if (o.depth < 1 || o.depth > 64 || o.exitcode < 0 ||
		    o.exitcode > 255 || o.suppressions.n > RCL_LIST_MAX)
			abort();
	}
	rcl_options_forget_strings();
	free(text);
	return 0;
}
