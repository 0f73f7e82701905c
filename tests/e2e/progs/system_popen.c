/*
 * system_popen: runs system("/bin/true; exit 3") and
 * popen("/bin/echo hello from sh; :") / pclose(); the shells, true and echo
 * run preloaded too (true and echo end with exit(), so they write reports;
 * the shells may end with _exit() and write none). Prints
 * "system=3 popen=hello from sh".
 *
 * Expect (exitcode=0): that stdout; exit 0; the program's report has no
 * errors and no program leaks; every report from the shells has no errors.
 */
#include "common.h"
#include <stdio.h>
#include <sys/wait.h>

int main(void)
{
	int st = system("/bin/true; exit 3");
	REQUIRE(WIFEXITED(st));
	char line[64] = {0};
	FILE *f = popen("/bin/echo hello from sh; :", "r");
	REQUIRE(f != NULL);
	REQUIRE(fgets(line, sizeof line, f) != NULL);
	REQUIRE(pclose(f) == 0);
	line[strcspn(line, "\n")] = 0;
	say("system=");
	say_num(WEXITSTATUS(st));
	say(" popen=");
	say(line);
	say("\n");
	return 0;
}
