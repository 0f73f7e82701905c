/*
 * The program's stdio streams, as glibc keeps them (libio.h): flushing them
 * when rcleak ends the process itself, and naming the heap blocks behind
 * them (the FILE objects fopen made, their buffers) that glibc still uses.
 * Every stream is on _IO_list_all, guarded by a recursive lock that glibc
 * exports for fork.
 */
#include <stdio.h>
#include <wchar.h>

#include "internal.h"

extern FILE *_IO_list_all;
extern void _IO_list_lock(void);
extern void _IO_list_unlock(void);
extern void _IO_list_resetlock(void);

/* The head of glibc's struct _IO_wide_data, the same since glibc 2.2. */
struct wide_head {
	wchar_t *read_ptr, *read_end, *read_base;
	wchar_t *write_base, *write_ptr, *write_end;
	wchar_t *buf_base, *buf_end;
	wchar_t *save_base, *backup_base, *save_end;
};

static const struct wide_head *wide(const FILE *f)
{
	return f->_mode > 0 ? (const struct wide_head *)f->_wide_data : NULL;
}

static bool pending_output(const FILE *f)
{
	const struct wide_head *w = wide(f);

	if (w)
		return w->write_ptr > w->write_base;
	return f->_IO_write_ptr > f->_IO_write_base;
}

/*
 * Flushes the program's stdio buffers before rcleak ends the process with
 * _exit() or abort(). fflush(NULL) would wait for every stream's lock, and
 * a thread blocked in fgets(stdin) holds one forever: a stream that
 * another thread is using is skipped, as glibc's own exit path never waits
 * for one either.
 */
void rcl_stdio_flush(void)
{
	_IO_list_lock();
	for (FILE *f = _IO_list_all; f; f = f->_chain) {
		if (!pending_output(f) || ftrylockfile(f))
			continue;
		fflush_unlocked(f);
		funlockfile(f);
	}
	_IO_list_unlock();
}

/* While held, no stream is opened or closed (and fork waits). */
void rcl_stdio_lock(void)
{
	_IO_list_lock();
}

void rcl_stdio_unlock(void)
{
	_IO_list_unlock();
}

/* In a forked child: glibc may have reset the lock already; so do we. */
void rcl_stdio_reset_in_child(void)
{
	_IO_list_resetlock();
}

/* With rcl_stdio_lock held: how many addresses rcl_stdio_blocks gives. */
size_t rcl_stdio_count(void)
{
	size_t n = 0;

	for (FILE *f = _IO_list_all; f; f = f->_chain)
		n += 5;
	return n;
}

/*
 * With rcl_stdio_lock held: the FILE of each open stream and the buffers
 * glibc allocated for it (narrow and wide).
 */
size_t rcl_stdio_blocks(uintptr_t *out, size_t max)
{
	size_t n = 0;

	for (FILE *f = _IO_list_all; f && n + 5 <= max; f = f->_chain) {
		const struct wide_head *w = wide(f);
		uintptr_t found[5] = {(uintptr_t)f, (uintptr_t)f->_IO_buf_base,
		                      (uintptr_t)f->_IO_save_base,
		                      w ? (uintptr_t)w->buf_base : 0,
		                      w ? (uintptr_t)w->save_base : 0};

		for (int i = 0; i < 5; i++)
			if (found[i])
				out[n++] = found[i];
	}
	return n;
}
