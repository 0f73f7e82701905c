/*
 * The libc and C++ allocation names rcleak replaces. Each one only checks
 * that rcleak is set up and forwards to heap.c; <stdlib.h> and <malloc.h>
 * are included so the compiler checks these signatures against libc's.
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <threads.h>
#include <unistd.h>

#include "internal.h"

/* Until the real allocator is known, allocations come from the arena. */
#define BOOTSTRAP(size, align)                                                 \
	do {                                                                   \
		if (RCL_UNLIKELY(!rcl_ready) && !rcl_boot())                   \
			return rcl_boot_alloc((size), (align));                \
	} while (0)

RCLEAK_EXPORT void *malloc(size_t size)
{
	BOOTSTRAP(size, 0);
	return rcl_heap_alloc(size, 0, RCL_MALLOC);
}

RCLEAK_EXPORT void *calloc(size_t n, size_t size)
{
	size_t total;

	if (RCL_UNLIKELY(!rcl_ready) && !rcl_boot()) {
		if (__builtin_mul_overflow(n, size, &total)) {
			errno = ENOMEM;
			return NULL;
		}
		return rcl_boot_alloc(total, 0); /* static memory is zeroed */
	}
	return rcl_heap_calloc(n, size);
}

RCLEAK_EXPORT void *realloc(void *p, size_t size)
{
	BOOTSTRAP(size, 0);
	return rcl_heap_realloc(p, size, RCL_REALLOC);
}

RCLEAK_EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	BOOTSTRAP(total, 0);
	return rcl_heap_realloc(p, total, RCL_REALLOCARRAY);
}

RCLEAK_EXPORT void free(void *p)
{
	if (RCL_UNLIKELY(!rcl_ready) && !rcl_boot())
		return; /* only arena blocks exist yet */
	rcl_heap_free(p, RCL_FREE);
}

/* glibc's cfree, still linked by some old binaries. */
RCLEAK_EXPORT void cfree(void *p);
RCLEAK_EXPORT void cfree(void *p)
{
	free(p);
}

static bool power_of_two(size_t x)
{
	return x && !(x & (x - 1));
}

RCLEAK_EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;
	int saved_errno = errno;

	if (!power_of_two(align) || align % sizeof(void *))
		return EINVAL;
	if (RCL_UNLIKELY(!rcl_ready) && !rcl_boot()) {
		p = rcl_boot_alloc(size, align);
	} else {
		p = rcl_heap_alloc(size, align, RCL_POSIX_MEMALIGN);
	}
	if (p == NULL) {
		int err = errno ? errno : ENOMEM;

		errno = saved_errno;
		return err;
	}
	*out = p;
	return 0;
}

/* glibc's memalign rounds a non-power-of-two alignment up. */
static size_t round_align(size_t align)
{
	size_t a = 16;

	while (a < align && a)
		a <<= 1;
	return a ? a : align;
}

/*
 * Up to 2.37, glibc's aligned_alloc is memalign: any alignment is rounded
 * up to a power of two (2.38 rejects those). rcleak does as the glibc of
 * Debian 12 does.
 */
RCLEAK_EXPORT void *aligned_alloc(size_t align, size_t size)
{
	align = round_align(align);
	BOOTSTRAP(size, align);
	return rcl_heap_alloc(size, align, RCL_ALIGNED_ALLOC);
}

RCLEAK_EXPORT void *memalign(size_t align, size_t size)
{
	align = round_align(align);
	BOOTSTRAP(size, align);
	return rcl_heap_alloc(size, align, RCL_MEMALIGN);
}

RCLEAK_EXPORT void *valloc(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	BOOTSTRAP(size, page);
	return rcl_heap_alloc(size, page, RCL_VALLOC);
}

RCLEAK_EXPORT void *pvalloc(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t rounded = (size + page - 1) & ~(page - 1);

	/*
	 * The program may use every byte up to the page boundary, so that is
	 * the block's size; pvalloc(0) asks for nothing and gets 0 bytes.
	 */
	if (rounded < size) {
		errno = ENOMEM;
		return NULL;
	}
	BOOTSTRAP(rounded, page);
	return rcl_heap_alloc(rounded, page, RCL_PVALLOC);
}

RCLEAK_EXPORT size_t malloc_usable_size(void *p)
{
	if (RCL_UNLIKELY(!rcl_ready) && !rcl_boot())
		return p ? rcl_boot_size(p) : 0;
	return rcl_heap_usable_size(p);
}

/* ---- C++ operator new and delete, by their mangled names ---- */

typedef void (*new_handler_fn)(void);

static new_handler_fn current_new_handler(void)
{
	new_handler_fn (*get)(void) = (new_handler_fn(*)(void))dlsym(
	    RTLD_DEFAULT, "_ZSt15get_new_handlerv");

	return get ? get() : NULL;
}

/*
 * What operator new does when memory runs out: call the installed
 * new_handler and retry, then throw std::bad_alloc. Both live in
 * libstdc++, which is loaded whenever a program calls operator new.
 */
static RCL_NOINLINE void *new_failed(size_t size, size_t align,
                                     enum rcl_alloc_kind kind)
{
	void (*throw_bad_alloc)(void) =
	    (void (*)(void))dlsym(RTLD_DEFAULT, "_ZSt17__throw_bad_allocv");
	new_handler_fn handler;

	while ((handler = current_new_handler()) != NULL) {
		void *p;

		handler();
		p = rcl_heap_alloc(size, align, kind);
		if (p)
			return p;
	}
	if (throw_bad_alloc)
		throw_bad_alloc();
	abort();
}

/*
 * A nothrow new must return NULL even when the new_handler throws, and C
 * cannot catch. With a handler installed, the call goes on to libstdc++'s
 * own nothrow operator (name), which catches around a call to rcleak's
 * throwing one, so the block is still tracked as new or new[].
 */
static RCL_NOINLINE void *nothrow_failed(size_t size, size_t align,
                                         const char *name, const void *nt)
{
	void *fn;

	if (current_new_handler() == NULL)
		return NULL;
	fn = dlsym(RTLD_NEXT, name);
	if (fn == NULL)
		return NULL; /* not libstdc++: the handler is not called */
	if (align)
		return ((void *(*)(size_t, size_t, const void *))fn)(size,
		                                                     align, nt);
	return ((void *(*)(size_t, const void *))fn)(size, nt);
}

static inline void *cxx_new(size_t size, size_t align, enum rcl_alloc_kind kind)
{
	void *p;

	if (RCL_UNLIKELY(!rcl_ready) && !rcl_boot())
		return rcl_boot_alloc(size, align);
	p = rcl_heap_alloc(size, align, kind);
	if (RCL_UNLIKELY(p == NULL))
		return new_failed(size, align, kind);
	return p;
}

static inline void *cxx_new_nothrow(size_t size, size_t align,
                                    enum rcl_alloc_kind kind, const char *name,
                                    const void *nt)
{
	void *p;

	if (RCL_UNLIKELY(!rcl_ready) && !rcl_boot())
		return rcl_boot_alloc(size, align);
	p = rcl_heap_alloc(size, align, kind);
	if (RCL_UNLIKELY(p == NULL))
		return nothrow_failed(size, align, name, nt);
	return p;
}

static inline void cxx_delete(void *p, enum rcl_free_kind how)
{
	if (RCL_UNLIKELY(!rcl_ready) && !rcl_boot())
		return;
	rcl_heap_free(p, how);
}

struct nothrow_t;
#define NT const struct nothrow_t *

/* The prototypes keep -Wmissing-prototypes quiet for these C names. */
RCLEAK_EXPORT void *_Znwm(size_t size);
RCLEAK_EXPORT void *_Znam(size_t size);
RCLEAK_EXPORT void *_ZnwmRKSt9nothrow_t(size_t size, NT nt);
RCLEAK_EXPORT void *_ZnamRKSt9nothrow_t(size_t size, NT nt);
RCLEAK_EXPORT void *_ZnwmSt11align_val_t(size_t size, size_t align);
RCLEAK_EXPORT void *_ZnamSt11align_val_t(size_t size, size_t align);
RCLEAK_EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t size,
                                                       size_t align, NT nt);
RCLEAK_EXPORT void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t size,
                                                       size_t align, NT nt);
RCLEAK_EXPORT void _ZdlPv(void *p);
RCLEAK_EXPORT void _ZdaPv(void *p);
RCLEAK_EXPORT void _ZdlPvm(void *p, size_t size);
RCLEAK_EXPORT void _ZdaPvm(void *p, size_t size);
RCLEAK_EXPORT void _ZdlPvRKSt9nothrow_t(void *p, NT nt);
RCLEAK_EXPORT void _ZdaPvRKSt9nothrow_t(void *p, NT nt);
RCLEAK_EXPORT void _ZdlPvSt11align_val_t(void *p, size_t align);
RCLEAK_EXPORT void _ZdaPvSt11align_val_t(void *p, size_t align);
RCLEAK_EXPORT void _ZdlPvmSt11align_val_t(void *p, size_t size, size_t align);
RCLEAK_EXPORT void _ZdaPvmSt11align_val_t(void *p, size_t size, size_t align);
RCLEAK_EXPORT void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align,
                                                       NT nt);
RCLEAK_EXPORT void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align,
                                                       NT nt);

void *_Znwm(size_t size)
{
	return cxx_new(size, 0, RCL_NEW);
}

void *_Znam(size_t size)
{
	return cxx_new(size, 0, RCL_NEW_ARRAY);
}

/* In these, __func__ is the mangled name: libstdc++'s own operator. */
void *_ZnwmRKSt9nothrow_t(size_t size, NT nt)
{
	return cxx_new_nothrow(size, 0, RCL_NEW, __func__, nt);
}

void *_ZnamRKSt9nothrow_t(size_t size, NT nt)
{
	return cxx_new_nothrow(size, 0, RCL_NEW_ARRAY, __func__, nt);
}

void *_ZnwmSt11align_val_t(size_t size, size_t align)
{
	return cxx_new(size, align, RCL_NEW);
}

void *_ZnamSt11align_val_t(size_t size, size_t align)
{
	return cxx_new(size, align, RCL_NEW_ARRAY);
}

void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t size, size_t align, NT nt)
{
	return cxx_new_nothrow(size, align, RCL_NEW, __func__, nt);
}

void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t size, size_t align, NT nt)
{
	return cxx_new_nothrow(size, align, RCL_NEW_ARRAY, __func__, nt);
}

void _ZdlPv(void *p)
{
	cxx_delete(p, RCL_DELETE);
}

void _ZdaPv(void *p)
{
	cxx_delete(p, RCL_DELETE_ARRAY);
}

void _ZdlPvm(void *p, size_t size)
{
	(void)size;
	cxx_delete(p, RCL_DELETE);
}

void _ZdaPvm(void *p, size_t size)
{
	(void)size;
	cxx_delete(p, RCL_DELETE_ARRAY);
}

void _ZdlPvRKSt9nothrow_t(void *p, NT nt)
{
	(void)nt;
	cxx_delete(p, RCL_DELETE);
}

void _ZdaPvRKSt9nothrow_t(void *p, NT nt)
{
	(void)nt;
	cxx_delete(p, RCL_DELETE_ARRAY);
}

void _ZdlPvSt11align_val_t(void *p, size_t align)
{
	(void)align;
	cxx_delete(p, RCL_DELETE);
}

void _ZdaPvSt11align_val_t(void *p, size_t align)
{
	(void)align;
	cxx_delete(p, RCL_DELETE_ARRAY);
}

void _ZdlPvmSt11align_val_t(void *p, size_t size, size_t align)
{
	(void)size;
	(void)align;
	cxx_delete(p, RCL_DELETE);
}

void _ZdaPvmSt11align_val_t(void *p, size_t size, size_t align)
{
	(void)size;
	(void)align;
	cxx_delete(p, RCL_DELETE_ARRAY);
}

void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, NT nt)
{
	(void)align;
	(void)nt;
	cxx_delete(p, RCL_DELETE);
}

void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, NT nt)
{
	(void)align;
	(void)nt;
	cxx_delete(p, RCL_DELETE_ARRAY);
}

/* ---- what the leak check needs to know: threads and mappings ---- */

RCLEAK_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                                 void *(*fn)(void *), void *arg)
{
	return rcl_threads_create(thread, attr, fn, arg);
}

/*
 * glibc's thrd_create calls its pthread_create internally, past rcleak's:
 * C11 threads are started through the wrapper instead. Their start
 * function returns int where a pthread one returns a pointer; thrd_join
 * keeps only the low 32 bits, so the result comes through.
 */
RCLEAK_EXPORT int thrd_create(thrd_t *thread, thrd_start_t fn, void *arg)
{
	int err =
	    rcl_threads_create((pthread_t *)thread, NULL,
	                       (void *(*)(void *))(void (*)(void))fn, arg);

	if (err == 0)
		return thrd_success;
	return err == ENOMEM ? thrd_nomem : thrd_error;
}

RCLEAK_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd,
                         off_t off)
{
	return rcl_mmaps_map(addr, len, prot, flags, fd, off);
}

RCLEAK_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
                           off_t off)
{
	return rcl_mmaps_map(addr, len, prot, flags, fd, off);
}

RCLEAK_EXPORT int munmap(void *addr, size_t len)
{
	return rcl_mmaps_unmap(addr, len);
}

RCLEAK_EXPORT void *mremap(void *old, size_t old_len, size_t len, int flags,
                           ...)
{
	void *new_addr = NULL;

	if (flags & MREMAP_FIXED) {
		va_list ap;

		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	return rcl_mmaps_remap(old, old_len, len, flags, new_addr);
}
