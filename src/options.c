/*
 * RCLEAK_OPTIONS="key=value:key=value", the sanitizer convention. Every
 * key and its bounds come from options.def. A bad key or value is never
 * ignored: the message names the key and what it allows.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct rcl_options rcl_opt;

/* Values of STR options are copied here: no malloc while booting. */
static char str_store[8192];
static size_t str_used;

enum type { INT, BOOL, STR, KINDS, LIST };

struct spec {
	const char *name;
	enum type type;
	long lo, hi;
	size_t offset;
};

static const struct spec specs[] = {
#define X(t, name, def, lo, hi, help)                                          \
	{#name, t, lo, hi, offsetof(struct rcl_options, name)},
#include "options.def"
#undef X
};

static const char *const kind_words[] = {"definite", "indirect", "possible",
                                         "reachable"};

/* "definite,indirect" -> a bit per kind; false on an unknown word. */
static bool parse_kinds(const char *s, size_t n, unsigned *out)
{
	unsigned kinds = 0;
	size_t i = 0;

	if (n == 0)
		return false;
	while (i < n) {
		size_t len = 0;
		bool known = false;

		while (i + len < n && s[i + len] != ',')
			len++;
		for (unsigned k = 0; k < 4; k++)
			if (strlen(kind_words[k]) == len &&
			    memcmp(kind_words[k], s + i, len) == 0) {
				kinds |= 1u << k;
				known = true;
			}
		if (len == 3 && memcmp(s + i, "all", 3) == 0)
			kinds = 15, known = true;
		else if (len == 4 && memcmp(s + i, "none", 4) == 0)
			known = true;
		if (!known)
			return false;
		i += len + 1;
	}
	*out = kinds;
	return true;
}

static unsigned default_kinds(const char *s)
{
	unsigned kinds = 0;

	parse_kinds(s, strlen(s), &kinds);
	return kinds;
}

void rcl_options_defaults(struct rcl_options *o)
{
#define INT(def)   (def)
#define BOOL(def)  (def)
#define STR(def)   ((char *)(def))
#define KINDS(def) default_kinds(def)
#define LIST(def)                                                              \
	(struct rcl_list)                                                      \
	{                                                                      \
		{0}, 0                                                         \
	}
#define X(t, name, def, lo, hi, help) o->name = t(def);
#include "options.def"
#undef X
#undef INT
#undef BOOL
#undef STR
#undef KINDS
#undef LIST
}

/* Appends s to the message buffer, always NUL-terminated. */
static void say(char *msg, size_t msglen, size_t *at, const char *s)
{
	while (*s && *at + 1 < msglen)
		msg[(*at)++] = *s++;
	msg[*at] = 0;
}

/*
 * Appends n bytes of the user's text, a control character as '?': the
 * message stays one line whatever RCLEAK_OPTIONS holds.
 */
static void say_text(char *msg, size_t msglen, size_t *at, const char *s,
                     size_t n)
{
	for (size_t j = 0; j < n && *at + 1 < msglen; j++)
		msg[(*at)++] = rcl_printable(s[j]);
	msg[*at] = 0;
}

static void say_num(char *msg, size_t msglen, size_t *at, long v)
{
	char tmp[24];
	int n = 0;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;

	do
		tmp[n++] = (char)('0' + u % 10);
	while ((u /= 10) && n < 22);
	if (v < 0)
		tmp[n++] = '-';
	char rev[24];
	for (int i = 0; i < n; i++)
		rev[i] = tmp[n - 1 - i];
	rev[n] = 0;
	say(msg, msglen, at, rev);
}

static bool parse_long(const char *s, size_t n, long *out)
{
	long v = 0;

	if (n == 0 || n > 12)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* "key=value" of a rejected value, to start the message with. */
static void bad_value(char *msg, size_t msglen, size_t *at, const char *key,
                      const char *val, size_t vlen)
{
	say(msg, msglen, at, key);
	say(msg, msglen, at, "=");
	say_text(msg, msglen, at, val, vlen);
}

static int set_one(struct rcl_options *o, const char *key, size_t klen,
                   const char *val, size_t vlen, char *msg, size_t msglen)
{
	size_t at = 0;
	long v;

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		const struct spec *sp = &specs[i];
		char *field = (char *)o + sp->offset;

		if (strlen(sp->name) != klen || memcmp(sp->name, key, klen))
			continue;
		if (sp->type == STR || sp->type == LIST) {
			struct rcl_list *list = (struct rcl_list *)field;

			if (str_used + vlen + 1 > sizeof(str_store)) {
				say(msg, msglen, &at, sp->name);
				say(msg, msglen, &at, ": value too long");
				return -EINVAL;
			}
			if (sp->type == LIST && list->n == RCL_LIST_MAX) {
				say(msg, msglen, &at, sp->name);
				say(msg, msglen, &at, ": given more than ");
				say_num(msg, msglen, &at, RCL_LIST_MAX);
				say(msg, msglen, &at, " times");
				return -EINVAL;
			}
			memcpy(str_store + str_used, val, vlen);
			str_store[str_used + vlen] = 0;
			if (sp->type == LIST)
				list->v[list->n++] = str_store + str_used;
			else
				*(char **)field = str_store + str_used;
			str_used += vlen + 1;
			return 0;
		}
		if (sp->type == KINDS) {
			if (parse_kinds(val, vlen, (unsigned *)field))
				return 0;
			bad_value(msg, msglen, &at, sp->name, val, vlen);
			say(msg, msglen, &at,
			    ": allowed is a comma list of definite, indirect, "
			    "possible, reachable, or all or none");
			return -EINVAL;
		}
		if (!parse_long(val, vlen, &v) || v < sp->lo || v > sp->hi) {
			bad_value(msg, msglen, &at, sp->name, val, vlen);
			if (sp->type == BOOL) {
				say(msg, msglen, &at,
				    ": allowed values are 0 "
				    "and 1");
			} else {
				say(msg, msglen, &at,
				    ": allowed values are "
				    "whole numbers from ");
				say_num(msg, msglen, &at, sp->lo);
				say(msg, msglen, &at, " to ");
				say_num(msg, msglen, &at, sp->hi);
			}
			return -EINVAL;
		}
		*(long *)field = v;
		return 0;
	}
	say(msg, msglen, &at, "unknown key '");
	say_text(msg, msglen, &at, key, klen);
	say(msg, msglen, &at, "'; known keys:");
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		say(msg, msglen, &at, " ");
		say(msg, msglen, &at, specs[i].name);
	}
	return -EINVAL;
}

int rcl_options_parse(struct rcl_options *o, const char *s, char *msg,
                      size_t msglen)
{
	msg[0] = 0;
	while (*s) {
		const char *end = strchr(s, ':');
		const char *eq;
		size_t len = end ? (size_t)(end - s) : strlen(s);
		size_t at = 0;
		int err;

		if (len == 0) { /* empty entries, as in "a=1::b=2", are fine */
			s++;
			continue;
		}
		eq = memchr(s, '=', len);
		if (eq == NULL) {
			say(msg, msglen, &at, "'");
			say_text(msg, msglen, &at, s, len);
			say(msg, msglen, &at, "' is not key=value");
			return -EINVAL;
		}
		err = set_one(o, s, (size_t)(eq - s), eq + 1,
		              len - (size_t)(eq - s) - 1, msg, msglen);
		if (err)
			return err;
		s += len;
	}
	return 0;
}

/* Forgets the strings of every earlier parse (for the fuzzer). */
void rcl_options_forget_strings(void)
{
	str_used = 0;
}

/*
 * Report paths are opened at exit, when the program may have changed its
 * directory (a daemon's chdir("/")): relative ones are made absolute now,
 * against the directory the program started in.
 */
void rcl_options_absolute_paths(struct rcl_options *o)
{
	char **paths[] = {&o->log_path, &o->json_path};
	char cwd[4096];

	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		char *p = *paths[i];
		size_t clen = strlen(cwd), plen = strlen(p);

		if (p[0] == 0 || p[0] == '/' ||
		    str_used + clen + plen + 2 > sizeof(str_store))
			continue;
		memcpy(str_store + str_used, cwd, clen);
		str_store[str_used + clen] = '/';
		memcpy(str_store + str_used + clen + 1, p, plen + 1);
		*paths[i] = str_store + str_used;
		str_used += clen + plen + 2;
	}
}

bool rcl_options_drop_paths(struct rcl_options *o)
{
	bool had = o->log_path[0] || o->json_path[0] || o->suppressions.n;

	o->log_path = (char *)"";
	o->json_path = (char *)"";
	o->suppressions.n = 0;
	return had;
}
