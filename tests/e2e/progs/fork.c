/*
 * fork: before fork, before_fork leaks malloc(100) (inherited by both
 * processes). The child leaks 2 x malloc(20) from child_work and exits
 * with exit(0); the parent leaks 3 x malloc(30) from parent_work, waits
 * for the child, and prints "child=<pid>".
 *
 * Expect (run with exitcode=0 and json_path=...-%p.json): two reports.
 * Parent: pid = the program's pid, definitely_lost 190 bytes in 4 blocks.
 * Child: pid = the printed pid, ppid = the parent's pid, definitely_lost
 * 140 bytes in 3 blocks. No errors; exit 0.
 */
#include "common.h"
#include <sys/wait.h>

static NOINLINE void before_fork(void)
{
	void *p = malloc(100);
	ESCAPE(p);
	SINK();
}

static NOINLINE void *child_work(void)
{
	void *p = malloc(20);
	ESCAPE(p);
	SINK();
	return p;
}

static NOINLINE void *parent_work(void)
{
	void *p = malloc(30);
	ESCAPE(p);
	SINK();
	return p;
}

int main(void)
{
	before_fork();
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		for (int i = 0; i < 2; i++)
			child_work();
		clobber_stack();
		exit(0);
	}
	for (int i = 0; i < 3; i++)
		parent_work();
	int status = 0;
	REQUIRE(waitpid(pid, &status, 0) == pid);
	REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	say("child=");
	say_num(pid);
	say("\n");
	clobber_stack();
	return 0;
}
