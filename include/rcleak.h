/*
 * rcleak's public calls. A program may include this header and call these
 * whether or not it runs under rcleak: they are weak, so without the
 * library preloaded their addresses are NULL. Always call them through the
 * RCLEAK_* macros below, or test the address first:
 *
 *     if (rcleak_check) rcleak_check();
 *
 * Weak references resolve to the preloaded library only in dynamically
 * linked programs; a static program always sees NULL.
 */
#ifndef RCLEAK_H
#define RCLEAK_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Writes a full report now ("when": "check" in the JSON), to the same
 * places as the report at exit, which still happens later. Returns 1 when
 * the report found leaks or errors, 0 when not. Without rcleak: absent.
 */
int rcleak_check(void) __attribute__((weak));

/*
 * Marks the block that starts at p as leaked on purpose: it is counted as
 * still reachable, never as lost, and does not fail the run. Returns 0, or
 * -1 when p is not a live block. Without rcleak: absent.
 */
int rcleak_ignore(const void *p) __attribute__((weak));

/*
 * Between rcleak_disable() and rcleak_enable() (they nest, per thread),
 * blocks this thread allocates are treated as if passed to
 * rcleak_ignore(). Errors are still reported. Without rcleak: absent.
 */
void rcleak_disable(void) __attribute__((weak));
void rcleak_enable(void) __attribute__((weak));

#define RCLEAK_CHECK()   (rcleak_check ? rcleak_check() : 0)
#define RCLEAK_IGNORE(p) (rcleak_ignore ? rcleak_ignore(p) : -1)
#define RCLEAK_DISABLE() (rcleak_disable ? rcleak_disable() : (void)0)
#define RCLEAK_ENABLE()  (rcleak_enable ? rcleak_enable() : (void)0)

#ifdef __cplusplus
}
#endif

#endif
