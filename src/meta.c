/*
 * rcleak's own memory. Block records, hash tables and report buffers come
 * from mmap, never from the allocator being traced, so tracking cannot
 * recurse into itself and the program's heap holds only the program's data.
 * Small requests are served from power-of-two free lists carved out of
 * 64 KiB chunks; larger ones are whole mappings.
 */
#include <stdatomic.h>
#include <sys/mman.h>

#include "internal.h"

#define SMALL_MAX 2048
#define CHUNK     (64 * 1024)
#define CLASSES   8 /* 16, 32, ..., 2048 */

struct free_obj {
	struct free_obj *next;
};

/*
 * Every mapping, so that a signal handler on top of rcleak can tell one of
 * these blocks from the program's without a lock (rcl_meta_span).
 */
RCL_SPANS(maps, 16384);

static struct free_obj *free_lists[CLASSES];
static char *chunk_cur, *chunk_end;
static pthread_mutex_t meta_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool failed;

static int size_class(size_t size)
{
	int c = 0;

	while ((size_t)16 << c < size)
		c++;
	return c;
}

static void *map(size_t size)
{
	void *p = rcl_sys_mmap(NULL, size, PROT_READ | PROT_WRITE,
	                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		rcl_meta_note_failure();
		return NULL;
	}
	rcl_spans_add(&maps, (uintptr_t)p, size); /* full: not findable */
	return p;
}

static void unmap(void *p, size_t size)
{
	const struct rcl_span *m = rcl_spans_find(&maps, (uintptr_t)p);

	if (m)
		rcl_spans_remove(&maps, m);
	rcl_sys_munmap(p, size);
}

bool rcl_meta_span(const void *p, size_t *bytes_to_end)
{
	const struct rcl_span *m = rcl_spans_find(&maps, (uintptr_t)p);

	if (m == NULL)
		return false;
	*bytes_to_end = m->len - ((uintptr_t)p - m->base);
	return true;
}

void *rcl_meta_alloc(size_t size)
{
	struct free_obj *o;
	size_t csize;
	int c;

	if (size > SMALL_MAX)
		return map(rcl_page_round(size));
	c = size_class(size);
	csize = (size_t)16 << c;
	rcl_lock(&meta_lock);
	o = free_lists[c];
	if (o) {
		free_lists[c] = o->next;
	} else {
		if (chunk_cur == NULL || chunk_end - chunk_cur < (long)csize) {
			chunk_cur = map(CHUNK);
			chunk_end = chunk_cur ? chunk_cur + CHUNK : NULL;
		}
		if (chunk_cur) {
			o = (struct free_obj *)chunk_cur;
			chunk_cur += csize;
		}
	}
	rcl_unlock(&meta_lock);
	if (o)
		__builtin_memset(o, 0, csize);
	return o;
}

void rcl_meta_free(void *p, size_t size)
{
	struct free_obj *o = p;
	int c;

	if (p == NULL)
		return;
	if (size > SMALL_MAX) {
		unmap(p, rcl_page_round(size));
		return;
	}
	c = size_class(size);
	rcl_lock(&meta_lock);
	o->next = free_lists[c];
	free_lists[c] = o;
	rcl_unlock(&meta_lock);
}

void rcl_meta_note_failure(void)
{
	if (!atomic_exchange(&failed, true))
		rcl_warn("out of internal memory: tracking is incomplete from "
		         "here on");
}

bool rcl_meta_failed(void)
{
	return atomic_load(&failed);
}

void rcl_meta_lock(void)
{
	rcl_lock(&meta_lock);
}

void rcl_meta_unlock(void)
{
	rcl_unlock(&meta_lock);
}
