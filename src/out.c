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
			o->error = n < 0 ? errno : ENOSPC;
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
	o->error = fd < 0 ? EBADF : 0;
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

/* The user's text, a control character as '?', so it stays one line. */
void rcl_out_text(struct rcl_out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rcl_out_chr(o, rcl_printable(s[i]));
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

/* Length of the valid UTF-8 sequence at s, or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0; /* overlong, out of range or a surrogate */
	return n;
}

static void json_escape(struct rcl_out *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

	rcl_out_mem(o, esc, sizeof(esc));
}

/*
 * A JSON string. Paths and symbol names are bytes, not always UTF-8: a
 * byte that does not start a valid sequence is written as the code point
 * of the same value (\u00ff), so the document stays valid JSON.
 */
void rcl_out_json_str(struct rcl_out *o, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	if (s == NULL) {
		rcl_out_str(o, "null");
		return;
	}
	rcl_out_chr(o, '"');
	while (*s) {
		size_t n = utf8_len(s);

		if (*s == '"' || *s == '\\') {
			rcl_out_chr(o, '\\');
			rcl_out_chr(o, (char)*s);
		} else if (*s < 0x20 || n == 0) {
			json_escape(o, *s);
		} else {
			rcl_out_mem(o, (const char *)s, n);
			s += n;
			continue;
		}
		s++;
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
