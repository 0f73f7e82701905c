/*
 * api_check JSON COPY: leaks malloc(50) from leak_fifty (the pointer is
 * kept hidden, so nothing points to the block), calls rcleak_check(),
 * copies the file JSON (if it exists) to COPY, then frees the block and
 * calls rcleak_check() again. Prints "first=<result> second=<result>".
 *
 * Expect (run with json_path=JSON, default exitcode): first=1 second=0; a
 * report with "when": "check" (in JSON's directory, or COPY if the exit
 * report overwrites JSON) has a 50-byte loss record with frame 0
 * leak_fifty; a second check report, if kept, has no program leak; the
 * exit report ("when": "exit") has no leak from the program and no errors;
 * exit 0 (a check does not change the exit status).
 */
#include "common.h"
#include "rcleak.h"
#include <fcntl.h>

static NOINLINE uintptr_t leak_fifty(void)
{
	char *p = malloc(50);

	REQUIRE(p != NULL);
	memset(p, 5, 50);
	uintptr_t h = hide(p);
	p = NULL;
	SINK();
	return h;
}

static void copy_file(const char *from, const char *to)
{
	char buf[4096];
	int in = open(from, O_RDONLY);
	ssize_t n;

	if (in < 0)
		return; /* the check report went to another file */
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	REQUIRE(out >= 0);
	while ((n = read(in, buf, sizeof buf)) > 0)
		REQUIRE(write(out, buf, (size_t)n) == n);
	close(in);
	close(out);
}

int main(int argc, char **argv)
{
	REQUIRE(argc == 3);
	REQUIRE(rcleak_check != NULL);
	uintptr_t h = leak_fifty();
	clobber_stack();
	int first = rcleak_check();
	copy_file(argv[1], argv[2]);
	free(unhide(h));
	int second = rcleak_check();
	say("first=");
	say_num(first);
	say(" second=");
	say_num(second);
	say("\n");
	return 0;
}
