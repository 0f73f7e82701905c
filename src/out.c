/*
 * A buffered writer and the few formatting routines reports need. No
 * stdio and no malloc: reports are written at exit, after libraries may
 * have torn their state down, and from inside the allocator.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static void write_fd(struct rcl_out *o, const char *buf, size_t len)
{
	while (len > 0 && !o->failed) {
		ssize_t n = write(o->fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			o->failed = true;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

void rcl_out_init_fd(struct rcl_out *o, int fd)
{
	o->write = write_fd;
	o->fd = fd;
	o->failed = fd < 0;
	o->len = 0;
}

void rcl_out_flush(struct rcl_out *o)
{
	if (o->len)
		o->write(o, o->buf, o->len);
	o->len = 0;
}

void rcl_out_mem(struct rcl_out *o, const char *s, size_t n)
{
	while (n > 0) {
		size_t room = sizeof(o->buf) - o->len;
		size_t take = n < room ? n : room;

		memcpy(o->buf + o->len, s, take);
		o->len += take;
		s += take;
		n -= take;
		if (o->len == sizeof(o->buf))
			rcl_out_flush(o);
	}
}

void rcl_out_str(struct rcl_out *o, const char *s)
{
	rcl_out_mem(o, s, strlen(s));
}

void rcl_out_chr(struct rcl_out *o, char c)
{
	rcl_out_mem(o, &c, 1);
}

void rcl_out_u64(struct rcl_out *o, uint64_t v)
{
	char tmp[24];
	int n = sizeof(tmp);

	do
		tmp[--n] = (char)('0' + v % 10);
	while (v /= 10);
	rcl_out_mem(o, tmp + n, sizeof(tmp) - (size_t)n);
}

void rcl_out_i64(struct rcl_out *o, int64_t v)
{
	if (v < 0) {
		rcl_out_chr(o, '-');
		rcl_out_u64(o, -(uint64_t)v);
	} else {
		rcl_out_u64(o, (uint64_t)v);
	}
}

void rcl_out_hex(struct rcl_out *o, uint64_t v)
{
	char tmp[18];
	int n = sizeof(tmp);

	do
		tmp[--n] = "0123456789abcdef"[v & 15];
	while (v >>= 4);
	tmp[--n] = 'x';
	tmp[--n] = '0';
	rcl_out_mem(o, tmp + n, sizeof(tmp) - (size_t)n);
}

void rcl_out_grouped(struct rcl_out *o, uint64_t v)
{
	char tmp[32];
	int n = sizeof(tmp), digits = 0;

	do {
		if (digits && digits % 3 == 0)
			tmp[--n] = ',';
		tmp[--n] = (char)('0' + v % 10);
		digits++;
	} while (v /= 10);
	rcl_out_mem(o, tmp + n, sizeof(tmp) - (size_t)n);
}

void rcl_out_json_str(struct rcl_out *o, const char *s)
{
	if (s == NULL) {
		rcl_out_str(o, "null");
		return;
	}
	rcl_out_chr(o, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			rcl_out_chr(o, '\\');
			rcl_out_chr(o, (char)c);
		} else if (c < 0x20) {
			static const char hex[] = "0123456789abcdef";
			char esc[6] = {'\\', 'u',         '0',
			               '0',  hex[c >> 4], hex[c & 15]};

			rcl_out_mem(o, esc, sizeof(esc));
		} else {
			rcl_out_chr(o, (char)c);
		}
	}
	rcl_out_chr(o, '"');
}

size_t rcl_fmt_u64(char *dst, uint64_t v)
{
	char tmp[24];
	int n = sizeof(tmp);

	do
		tmp[--n] = (char)('0' + v % 10);
	while (v /= 10);
	memcpy(dst, tmp + n, sizeof(tmp) - (size_t)n);
	return sizeof(tmp) - (size_t)n;
}

bool rcl_expand_path(const char *pattern, char *dst, size_t dstlen)
{
	size_t at = 0;

	for (const char *s = pattern; *s; s++) {
		if (s[0] == '%' && s[1] == 'p') {
			if (at + 24 >= dstlen)
				return false;
			at += rcl_fmt_u64(dst + at, (uint64_t)getpid());
			s++;
			continue;
		}
		if (at + 1 >= dstlen)
			return false;
		dst[at++] = *s;
	}
	dst[at] = 0;
	return true;
}

void rcl_warn(const char *msg)
{
	struct rcl_out o;

	rcl_out_init_fd(&o, rcl_stderr_fd());
	rcl_out_str(&o, "rcleak: ");
	rcl_out_str(&o, msg);
	rcl_out_chr(&o, '\n');
	rcl_out_flush(&o);
}
