/*
 * Memory errors seen during the run, in the order they happened, kept in
 * rcleak's own memory until a report prints them. With halt_on_error the
 * first one is reported at once and the process aborts.
 */
#include <signal.h>
#include <stdlib.h>

#include "internal.h"

#define ERRORS_MAX 10000 /* kept; later ones are only counted */

static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rcl_error *err_head, *err_tail;
static size_t err_count, err_dropped;

const char *rcl_error_name(enum rcl_error_kind kind)
{
	static const char *const names[] = {"double_free", "invalid_free",
	                                    "write_after_free", "heap_overflow",
	                                    "mismatched_free"};

	return names[kind];
}

void rcl_error_raise(const struct rcl_error *e)
{
	struct rcl_error *copy = NULL;

	rcl_lock(&err_lock);
	if (err_count < ERRORS_MAX)
		copy = rcl_meta_alloc(sizeof(*copy));
	if (copy) {
		*copy = *e;
		copy->next = NULL;
		if (err_tail)
			err_tail->next = copy;
		else
			err_head = copy;
		err_tail = copy;
		err_count++;
	} else {
		err_dropped++;
	}
	rcl_unlock(&err_lock);

	if (rcl_opt.halt_on_error && !rcl_report_busy()) {
		/* Nothing may cancel this thread between here and abort(). */
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		rcl_report_write("exit", true);
		rcl_stdio_flush();
		/* abort() in glibc unblocks SIGABRT; a handler may still run.
		 */
		signal(SIGABRT, SIG_DFL);
		abort();
	}
}

struct rcl_error *rcl_errors_list(size_t *count)
{
	rcl_lock(&err_lock);
	*count = err_count;
	rcl_unlock(&err_lock);
	return err_head;
}

size_t rcl_errors_dropped(void)
{
	return err_dropped;
}

void rcl_errors_lock(void)
{
	rcl_lock(&err_lock);
}

void rcl_errors_unlock(void)
{
	rcl_unlock(&err_lock);
}
