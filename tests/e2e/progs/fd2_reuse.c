/*
 * fd2_reuse DATAFILE: closes fd 2, opens DATAFILE (which gets fd 2), writes
 * two lines of data to it around a leak (malloc(33) from leak_some) and a
 * double free (double_it), and exits.
 *
 * Expect: DATAFILE holds exactly "program data line 1\nprogram data line
 * 2\n": rcleak writes nothing into the program's fd 2 once the program has
 * reused it. The JSON has the 33-byte leak and 1 double_free error; exit 23.
 */
#include "common.h"
#include <fcntl.h>

static NOINLINE void *leak_some(void)
{
	void *p = malloc(33);

	ESCAPE(p);
	SINK();
	return p;
}

static NOINLINE void double_it(void)
{
	char *p = malloc(5);

	free(p);
	free(p);
	SINK();
}

int main(int argc, char **argv)
{
	REQUIRE(argc == 2);
	close(2);
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	REQUIRE(fd == 2);
	const char *l1 = "program data line 1\n", *l2 = "program data line 2\n";
	REQUIRE(write(fd, l1, strlen(l1)) == (ssize_t)strlen(l1));
	leak_some();
	double_it();
	REQUIRE(write(fd, l2, strlen(l2)) == (ssize_t)strlen(l2));
	clobber_stack();
	return 0;
}
