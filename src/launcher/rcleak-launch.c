/*
 * rcleak-launch: the part of rcleak-run that starts the program and waits
 * for it, in C because a shell cannot do it without losing signals.
 *
 * usage: rcleak-launch PRELOAD SHELL SCRIPT RUNDIR NAME PROG [ARGS...]
 *
 * rcleak-run execs this, so the launcher keeps rcleak-run's pid: a signal
 * meant for rcleak-run (a CI runner's timeout, kill) comes here and is
 * passed on to the program. The signals passed on are blocked before the
 * fork and unblocked only once the program's pid is known, so one that
 * comes while the program starts is held, then passed on, never lost (bash
 * set its traps after forking, and a signal in between killed rcleak-run
 * and left the program running). The program starts with the launcher's
 * original mask and dispositions, LD_PRELOAD=PRELOAD and argv[0] NAME.
 *
 * A signal the kernel sent (a terminal's Ctrl-C goes to the whole
 * foreground process group) reached the program too and is not sent
 * again. When the program ends, the launcher execs
 * "SHELL SCRIPT --launched RUNDIR PID STATUS NAME" (rcleak-run, to sum up
 * its reports), STATUS being the exit status, or 128 + the signal that
 * killed it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const int passed_on[] = {SIGINT,  SIGTERM, SIGHUP,
                                SIGQUIT, SIGUSR1, SIGUSR2};
#define NPASSED (int)(sizeof(passed_on) / sizeof(passed_on[0]))

static volatile pid_t child;

static void pass_on(int sig, siginfo_t *info, void *ctx)
{
	int saved_errno = errno; /* main's waitpid may be about to read it */

	(void)ctx;
	if (info->si_code != SI_KERNEL)
		kill(child, sig);
	errno = saved_errno;
}

/* Like exit status in a shell: 128 + N for a program killed by signal N. */
static int shell_status(int st)
{
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

/* In the child: argv is PROG [ARGS...]; PROG runs under the name NAME. */
static void start_program(const char *preload, const char *name, char **argv,
                          const sigset_t *mask)
{
	const char *prog = argv[0];

	if (setenv("LD_PRELOAD", preload, 1) != 0) {
		perror("rcleak-run: LD_PRELOAD");
		_exit(125);
	}
	sigprocmask(SIG_SETMASK, mask, NULL);
	argv[0] = (char *)name; /* as bash's exec -a gives it */
	/* execvp: a script without "#!" runs under /bin/sh, as from a shell. */
	execvp(prog, argv);
	fprintf(stderr, "rcleak-run: cannot run '%s': %s\n", name,
	        strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

int main(int argc, char **argv)
{
	sigset_t block, orig;
	struct sigaction sa = {.sa_sigaction = pass_on,
	                       .sa_flags = SA_SIGINFO | SA_RESTART};
	char pid_text[24], status_text[24];
	const char *preload, *shell, *script, *rundir, *name;
	int st;

	if (argc < 7) {
		fprintf(stderr,
		        "usage: rcleak-launch PRELOAD SHELL SCRIPT RUNDIR "
		        "NAME PROG [ARGS...] (run by rcleak-run)\n");
		return 125;
	}
	preload = argv[1];
	shell = argv[2];
	script = argv[3];
	rundir = argv[4];
	name = argv[5];
	sigemptyset(&block);
	for (int i = 0; i < NPASSED; i++)
		sigaddset(&block, passed_on[i]);
	sigprocmask(SIG_BLOCK, &block, &orig);

	child = fork();
	if (child < 0) {
		perror("rcleak-run: fork");
		return 125;
	}
	if (child == 0)
		start_program(preload, name, argv + 6, &orig);

	sigfillset(&sa.sa_mask);
	for (int i = 0; i < NPASSED; i++) {
		struct sigaction old;

		/* Ignored from the start: the program ignores it too. */
		if (sigaction(passed_on[i], NULL, &old) == 0 &&
		    old.sa_handler != SIG_IGN)
			sigaction(passed_on[i], &sa, NULL);
	}
	sigprocmask(SIG_SETMASK, &orig, NULL);

	while (waitpid(child, &st, 0) < 0)
		if (errno != EINTR) {
			perror("rcleak-run: waitpid");
			return 125;
		}

	snprintf(pid_text, sizeof(pid_text), "%d", (int)child);
	snprintf(status_text, sizeof(status_text), "%d", shell_status(st));
	/* exec puts the handled signals back to their default. */
	execl(shell, shell, script, "--launched", rundir, pid_text, status_text,
	      name, (char *)NULL);
	fprintf(stderr, "rcleak-run: cannot run '%s': %s\n", shell,
	        strerror(errno));
	return shell_status(st);
}
