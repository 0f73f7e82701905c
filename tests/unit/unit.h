/*
 * A tiny test harness: CHECK records a failure and goes on, TEST_MAIN runs
 * the listed tests and prints one PASS/FAIL line per test for tests/run.sh.
 */
#ifndef RCLEAK_UNIT_H
#define RCLEAK_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failures;
static const char *unit_current;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			unit_failures++;                                       \
			fprintf(stderr, "  %s:%d: %s: CHECK(%s) failed\n",     \
			        __FILE__, __LINE__, unit_current, #cond);      \
		}                                                              \
	} while (0)

#define CHECK_EQ(a, b)                                                         \
	do {                                                                   \
		long long a_ = (long long)(a), b_ = (long long)(b);            \
		if (a_ != b_) {                                                \
			unit_failures++;                                       \
			fprintf(stderr,                                        \
			        "  %s:%d: %s: %s == %lld, want %lld\n",        \
			        __FILE__, __LINE__, unit_current, #a, a_, b_); \
		}                                                              \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *a_ = (a), *b_ = (b);                               \
		if (a_ == NULL || strcmp(a_, b_) != 0) {                       \
			unit_failures++;                                       \
			fprintf(stderr,                                        \
			        "  %s:%d: %s: %s == \"%s\", want \"%s\"\n",    \
			        __FILE__, __LINE__, unit_current, #a,          \
			        a_ ? a_ : "(null)", b_);                       \
		}                                                              \
	} while (0)

struct unit_test {
	const char *name;
	void (*fn)(void);
};

static int unit_run(const char *file, const struct unit_test *tests, int n)
{
	int failed = 0;

	for (int i = 0; i < n; i++) {
		int before = unit_failures;

		unit_current = tests[i].name;
		tests[i].fn();
		if (unit_failures == before) {
			printf("PASS unit/%s/%s\n", file, tests[i].name);
		} else {
			printf("FAIL unit/%s/%s\n", file, tests[i].name);
			failed++;
		}
		fflush(stdout);
	}
	return failed ? 1 : 0;
}

#define TEST(name)                                                             \
	{                                                                      \
#name, name                                                    \
	}
#define TEST_MAIN(file, ...)                                                   \
	int main(void)                                                         \
	{                                                                      \
		static const struct unit_test tests_[] = {__VA_ARGS__};        \
		unit_setup();                                                  \
		return unit_run(file, tests_,                                  \
		                sizeof(tests_) / sizeof(tests_[0]));           \
	}

#endif
