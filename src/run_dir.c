/*
 * What scripts/rcleak-run learns of each process, through the directory it
 * names in RCLEAK_RUN_DIR: "active.<pid>" once the library runs in a
 * program, "report.<pid>" with one line of totals once its exit report is
 * written. From these it tells which processes leaked what, and which
 * ended without a report.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "internal.h"

/*
 * Kept from the start: __libc_freeres, run before the exit report, clears
 * the environment.
 */
static char dir[4096];

/* <dir>/<name><pid>, opened for writing; -1 when there is no directory. */
static int create(const char *name)
{
	char path[sizeof(dir) + 64];
	size_t len = strlen(dir), nlen = strlen(name);

	if (len == 0 || nlen > 32)
		return -1;
	memcpy(path, dir, len);
	path[len++] = '/';
	memcpy(path + len, name, nlen);
	len += nlen;
	len += rcl_fmt_u64(path + len, (uint64_t)getpid());
	path[len] = 0;
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	            0600);
}

void rcl_run_dir_mark(void)
{
	const char *env = getenv("RCLEAK_RUN_DIR");
	int fd;

	/* A privileged program writes nowhere the user names. */
	if (env == NULL || getauxval(AT_SECURE) || strlen(env) >= sizeof(dir))
		return;
	strcpy(dir, env);
	fd = create("active.");
	if (fd >= 0) { /* the program's path, for "pid N PATH: no report" */
		char exe[4096];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

		if (n > 0) {
			exe[n++] = '\n';
			(void)!write(fd, exe, (size_t)n);
		}
		close(fd);
	}
}

static void total(struct rcl_out *o, const char *key,
                  const struct rcl_total *t)
{
	rcl_out_chr(o, ' ');
	rcl_out_str(o, key);
	rcl_out_chr(o, '=');
	rcl_out_u64(o, t->bytes);
	rcl_out_chr(o, '/');
	rcl_out_u64(o, t->blocks);
}

/*
 * found=0|1 exitcode=N definite=B/N indirect=B/N possible=B/N
 * reachable=B/N errors=N exe=PATH (the path last: it may hold spaces).
 */
void rcl_run_dir_note(const struct rcl_report *r, bool found)
{
	struct rcl_out o;
	int fd = create("report.");

	if (fd < 0)
		return;
	rcl_out_init_fd(&o, fd);
	rcl_out_str(&o, found ? "found=1" : "found=0");
	rcl_out_str(&o, " exitcode=");
	rcl_out_u64(&o, (uint64_t)rcl_opt.exitcode);
	total(&o, "definite", &r->total[RCL_DEFINITE]);
	total(&o, "indirect", &r->total[RCL_INDIRECT]);
	total(&o, "possible", &r->total[RCL_POSSIBLE]);
	total(&o, "reachable", &r->total[RCL_REACHABLE]);
	rcl_out_str(&o, " errors=");
	rcl_out_u64(&o, r->nerrors + rcl_errors_dropped());
	rcl_out_str(&o, " exe=");
	rcl_out_str(&o, r->exe ? r->exe : "?");
	rcl_out_chr(&o, '\n');
	rcl_out_flush(&o);
	close(fd);
}
