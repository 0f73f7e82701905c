/* The RCLEAK_OPTIONS parser: defaults, every type, and each bad input. */
#include "internal.h"
#include "unit.h"

/* The exit report of these binaries is not what they test. */
static void unit_setup(void)
{
	rcl_opt.log_path = (char *)"/dev/null";
	rcl_opt.exitcode = 0;
}

static void defaults(void)
{
	struct rcl_options o;

	rcl_options_defaults(&o);
	CHECK_EQ(o.depth, 20);
	CHECK_EQ(o.quarantine_mb, 4);
	CHECK_EQ(o.poison_bytes, 256);
	CHECK_EQ(o.unwind_cache, 1);
	CHECK_EQ(o.exitcode, 23);
	CHECK_EQ(o.halt_on_error, 0);
	CHECK_STR(o.log_path, "");
	CHECK_STR(o.json_path, "");
}

static void parses_all_types(void)
{
	struct rcl_options o;
	char msg[256];

	rcl_options_defaults(&o);
	CHECK_EQ(rcl_options_parse(&o,
	                           "depth=5::quarantine_mb=0:exitcode=0:"
	                           "halt_on_error=1:json_path=/tmp/r-%p.json",
	                           msg, sizeof(msg)),
	         0);
	CHECK_EQ(o.depth, 5);
	CHECK_EQ(o.quarantine_mb, 0);
	CHECK_EQ(o.exitcode, 0);
	CHECK_EQ(o.halt_on_error, 1);
	CHECK_STR(o.json_path, "/tmp/r-%p.json");
	CHECK_STR(msg, "");
}

static void unknown_key_is_named(void)
{
	struct rcl_options o;
	char msg[256];

	rcl_options_defaults(&o);
	CHECK(rcl_options_parse(&o, "depth=3:colour=red", msg, sizeof(msg)) <
	      0);
	CHECK(strstr(msg, "unknown key 'colour'") != NULL);
	CHECK(strstr(msg, "quarantine_mb") != NULL); /* lists known keys */
}

static void bad_values_name_key_and_range(void)
{
	struct rcl_options o;
	char msg[256];

	rcl_options_defaults(&o);
	CHECK(rcl_options_parse(&o, "depth=0", msg, sizeof(msg)) < 0);
	CHECK_STR(msg, "depth=0: allowed values are whole numbers from 1 to "
	               "64");
	CHECK(rcl_options_parse(&o, "exitcode=abc", msg, sizeof(msg)) < 0);
	CHECK(strstr(msg, "exitcode=abc") != NULL);
	CHECK(rcl_options_parse(&o, "halt_on_error=yes", msg, sizeof(msg)) < 0);
	CHECK_STR(msg, "halt_on_error=yes: allowed values are 0 and 1");
	CHECK(rcl_options_parse(&o, "depth=", msg, sizeof(msg)) < 0);
	CHECK(rcl_options_parse(&o, "depth=-1", msg, sizeof(msg)) < 0);
	CHECK(rcl_options_parse(&o, "depth=99999999999999999999", msg,
	                        sizeof(msg)) < 0);
	CHECK(rcl_options_parse(&o, "depth", msg, sizeof(msg)) < 0);
	CHECK_STR(msg, "'depth' is not key=value");
	CHECK_EQ(o.depth, 20); /* nothing half-applied by the failures */
}

static void tiny_message_buffer_is_safe(void)
{
	struct rcl_options o;
	char msg[8];

	rcl_options_defaults(&o);
	CHECK(rcl_options_parse(&o, "nonsense_key_that_is_long=1", msg,
	                        sizeof(msg)) < 0);
	CHECK_EQ(strlen(msg), 7);
}

/* Found by make fuzz: a newline in RCLEAK_OPTIONS split the message. */
static void message_is_one_line(void)
{
	struct rcl_options o;
	char msg[256];

	rcl_options_defaults(&o);
	CHECK(rcl_options_parse(&o, "dep\nth=1", msg, sizeof(msg)) < 0);
	CHECK(strncmp(msg, "unknown key 'dep?th'", 20) == 0);
	CHECK(rcl_options_parse(&o, "depth=1\r\n", msg, sizeof(msg)) < 0);
	CHECK(strncmp(msg, "depth=1??: allowed", 18) == 0);
	CHECK(rcl_options_parse(&o, "\x1b[31m", msg, sizeof(msg)) < 0);
	CHECK_STR(msg, "'?[31m' is not key=value");
}

TEST_MAIN("options", TEST(defaults), TEST(parses_all_types),
          TEST(unknown_key_is_named), TEST(bad_values_name_key_and_range),
          TEST(tiny_message_buffer_is_safe), TEST(message_is_one_line))
