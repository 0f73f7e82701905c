/* The stack depot: one id per distinct stack, frames back from an id. */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "internal.h"
#include "unit.h"

/* The exit report of these binaries is not what they test. */
static void unit_setup(void)
{
	rcl_opt.log_path = (char *)"/dev/null";
	rcl_opt.exitcode = 0;
}

static void same_stack_same_id(void)
{
	uintptr_t a[3] = {0x1000, 0x2000, 0x3000};
	uintptr_t b[3] = {0x1000, 0x2000, 0x3001};
	rcl_stack_id ia = rcl_depot_put(a, 3), ib = rcl_depot_put(b, 3);

	CHECK(ia != 0);
	CHECK(ib != 0);
	CHECK(ia != ib);
	CHECK_EQ(rcl_depot_put(a, 3), ia);
	CHECK(rcl_depot_put(a, 2) != ia); /* a prefix is another stack */
	CHECK_EQ(rcl_depot_get(ia)->depth, 3);
	CHECK_EQ(rcl_depot_get(ib)->ips[2], 0x3001);
}

static void empty_stack_is_zero(void)
{
	CHECK_EQ(rcl_depot_put(NULL, 0), 0);
	CHECK_EQ(rcl_depot_get(0)->depth, 0);
}

#define THREADS 4
#define STACKS  2000
static rcl_stack_id seen[THREADS][STACKS];

static void *put_many(void *arg)
{
	long t = (long)arg;

	for (uintptr_t i = 0; i < STACKS; i++) {
		uintptr_t ips[4] = {i, i * 7, 0xabc, i ^ 0x55};

		seen[t][i] = rcl_depot_put(ips, 4);
	}
	return NULL;
}

static void threads_agree_on_ids(void)
{
	pthread_t th[THREADS];

	for (long t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, put_many, (void *)t);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	for (int i = 0; i < STACKS; i++) {
		for (int t = 1; t < THREADS; t++)
			CHECK_EQ(seen[t][i], seen[0][i]);
		CHECK_EQ(rcl_depot_get(seen[0][i])->ips[1], (uintptr_t)i * 7);
	}
}

/*
 * A recursive function called from two places gives a distinct stack per
 * path: hundreds of thousands. Lookups must stay hashed, not turn into a
 * walk down one chain (the shard and the bucket once came from the same
 * bits of the hash).
 */
static void many_distinct_stacks_stay_hashed(void)
{
	uintptr_t ips[20];

	for (uint32_t n = 0; n < 200000; n++) {
		for (int i = 0; i < 20; i++)
			ips[i] =
			    0x401000 + ((n >> i & 1) ? 0x40 : 0x20) + i * 8;
		ips[19] = 0x500000 + n;
		CHECK(rcl_depot_put(ips, 20) != 0);
	}
	CHECK(!rcl_depot_degenerate());
}

/*
 * Once a shard's slots are full and cannot grow (rcleak's own memory ran
 * out), a stack stored before still gets its id; only a new one gets
 * none (it once got 0 too). In a child whose address space is capped at
 * what it has, so that no slot array can grow.
 */
#define KNOWN 4000000
static uintptr_t known_ips[KNOWN][2];
static rcl_stack_id known_ids[KNOWN];

static size_t mapped_bytes(void)
{
	char line[256];
	size_t kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %zu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb * 1024;
}

static void known_stacks_found_when_full(void)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		struct rlimit cap;
		size_t n;

		cap.rlim_cur = cap.rlim_max = mapped_bytes();
		if (cap.rlim_cur == 0 || setrlimit(RLIMIT_AS, &cap) != 0)
			_exit(3);
		for (n = 0; n < KNOWN; n++) {
			known_ips[n][0] = 0x7100000 + n;
			known_ips[n][1] = n * 13;
			known_ids[n] = rcl_depot_put(known_ips[n], 2);
			if (known_ids[n] == 0)
				break;
		}
		if (n == KNOWN)
			_exit(2); /* never ran out: nothing was tested */
		for (size_t i = 0; i < n; i++)
			if (rcl_depot_put(known_ips[i], 2) != known_ids[i])
				_exit(1);
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
}

TEST_MAIN("depot", TEST(many_distinct_stacks_stay_hashed),
          TEST(known_stacks_found_when_full),
          TEST(same_stack_same_id), TEST(empty_stack_is_zero),
          TEST(threads_agree_on_ids))
