/*
 * fds_reused DATAFILE: like a daemon, closes every file descriptor from 3
 * up (whatever rcleak may have opened for itself), then opens DATAFILE,
 * which gets the lowest free descriptor, writes data to it, leaks
 * malloc(19) from leak_it and exits.
 *
 * Expect: DATAFILE holds exactly "daemon data\n" (rcleak never writes into
 * a descriptor it no longer owns); the JSON report has the 19-byte leak;
 * exit 23.
 */
#include "common.h"
#include <fcntl.h>

static NOINLINE void *leak_it(void)
{
	void *p = malloc(19);
	ESCAPE(p);
	SINK();
	return p;
}

int main(int argc, char **argv)
{
	REQUIRE(argc == 2);
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	REQUIRE(fd == 3);
	for (int i = 4; i < 40; i++)
		REQUIRE(dup2(fd, i) == i); /* whatever number rcleak had */
	const char *msg = "daemon data\n";
	REQUIRE(write(fd, msg, strlen(msg)) == (ssize_t)strlen(msg));
	leak_it();
	clobber_stack();
	return 0;
}
