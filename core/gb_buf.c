/* gb_buf: bounded growable buffers and string helpers. See gb_buf.h. */
#include "core/gb_buf.h"

#include <openssl/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GB_BUF_MIN	256

static size_t
buf_max(const struct gb_buf *b)
{
	return b->max ? b->max : SIZE_MAX / 2;
}

void
gb_buf_init(struct gb_buf *b, size_t max)
{
	b->data = NULL;
	b->off = b->len = b->cap = 0;
	b->max = max;
}

void
gb_buf_free(struct gb_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->off = b->len = b->cap = 0;
}

void
gb_buf_reset(struct gb_buf *b)
{
	b->off = b->len = 0;
}

size_t
gb_buf_room(const struct gb_buf *b)
{
	return buf_max(b) - gb_buf_used(b);
}

void
gb_buf_compact(struct gb_buf *b)
{
	if (b->off == 0)
		return;
	if (b->len > b->off)
		memmove(b->data, b->data + b->off, b->len - b->off);
	b->len -= b->off;
	b->off = 0;
}

uint8_t *
gb_buf_reserve(struct gb_buf *b, size_t n)
{
	size_t need, ncap;
	uint8_t *p;

	if (n > gb_buf_room(b))
		return NULL;
	if (b->cap - b->len >= n)
		return b->data + b->len;
	/* Reclaim consumed space before growing. */
	if (b->off > 0 && b->cap - gb_buf_used(b) >= n) {
		gb_buf_compact(b);
		return b->data + b->len;
	}
	need = gb_buf_used(b) + n;
	ncap = b->cap ? b->cap : GB_BUF_MIN;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 4 ? need : ncap * 2;
	if (ncap > buf_max(b))
		ncap = buf_max(b);
	gb_buf_compact(b);
	if ((p = realloc(b->data, ncap)) == NULL)
		return NULL;
	b->data = p;
	b->cap = ncap;
	return b->data + b->len;
}

void
gb_buf_commit(struct gb_buf *b, size_t n)
{
	b->len += n;
}

int
gb_buf_append(struct gb_buf *b, const void *p, size_t n)
{
	uint8_t *dst;

	if (n == 0)
		return 0;
	/* Room at the tail (cap never exceeds max): no call, no checks. */
	if (b->cap - b->len >= n)
		dst = b->data + b->len;
	else if ((dst = gb_buf_reserve(b, n)) == NULL)
		return -1;
	memcpy(dst, p, n);
	b->len += n;
	return 0;
}

int
gb_buf_puts(struct gb_buf *b, const char *s)
{
	return gb_buf_append(b, s, strlen(s));
}

int
gb_buf_putc(struct gb_buf *b, int c)
{
	uint8_t ch = (uint8_t)c;

	return gb_buf_append(b, &ch, 1);
}

int
gb_buf_put_u64(struct gb_buf *b, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return gb_buf_append(b, tmp + i, sizeof(tmp) - i);
}

int
gb_buf_put_hex(struct gb_buf *b, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[16];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = hex[v & 15];
		v >>= 4;
	} while (v != 0);
	return gb_buf_append(b, tmp + i, sizeof(tmp) - i);
}

int
gb_buf_vprintf(struct gb_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	uint8_t *dst;
	char *tmp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return -1;
	if (n == 0)
		return 0;
	if ((dst = gb_buf_reserve(b, (size_t)n)) == NULL)
		return -1;
	if (b->cap - b->len > (size_t)n) {
		/* Room for the NUL vsnprintf writes; it is not committed. */
		vsnprintf((char *)dst, (size_t)n + 1, fmt, ap);
	} else {
		/* The text ends exactly at max: no room for the NUL. */
		if ((tmp = malloc((size_t)n + 1)) == NULL)
			return -1;
		vsnprintf(tmp, (size_t)n + 1, fmt, ap);
		memcpy(dst, tmp, (size_t)n);
		free(tmp);
	}
	b->len += (size_t)n;
	return 0;
}

int
gb_buf_printf(struct gb_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = gb_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void
gb_buf_consume(struct gb_buf *b, size_t n)
{
	if (n >= gb_buf_used(b)) {
		b->off = b->len = 0;
		return;
	}
	b->off += n;
}

const char *
gb_buf_cstr(struct gb_buf *b)
{
	uint8_t *t;

	if ((t = gb_buf_reserve(b, 1)) == NULL)
		return NULL;
	*t = '\0';
	return (const char *)gb_buf_head(b);
}

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when the
 * bytes there are not one (overlong, surrogate, past U+10FFFF, truncated).
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need, i;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		cp = c & 0x07;
	} else
		return 0;
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return need;
}

/* Escape of one input character into out (<= 7 bytes); returns its length. */
static size_t
json_escape_one(char out[8], const unsigned char *s, size_t n, size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c = s[0];
	size_t k;

	*used = 1;
	switch (c) {
	case '"':  memcpy(out, "\\\"", 2); return 2;
	case '\\': memcpy(out, "\\\\", 2); return 2;
	case '\n': memcpy(out, "\\n", 2); return 2;
	case '\r': memcpy(out, "\\r", 2); return 2;
	case '\t': memcpy(out, "\\t", 2); return 2;
	default:
		break;
	}
	if (c < 0x20 || c == 0x7f) {
		memcpy(out, "\\u00", 4);
		out[4] = hex[c >> 4];
		out[5] = hex[c & 15];
		return 6;
	}
	if ((k = utf8_len(s, n)) == 0) {
		memcpy(out, "\\ufffd", 6);
		return 6;
	}
	memcpy(out, s, k);
	*used = k;
	return k;
}

size_t
gb_json_escape(char *dst, size_t dstlen, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, k, used;
	char tmp[8];

	if (dstlen == 0)
		return 0;
	while (i < n) {
		k = json_escape_one(tmp, p + i, n - i, &used);
		if (o + k >= dstlen)
			break;
		memcpy(dst + o, tmp, k);
		o += k;
		i += used;
	}
	dst[o] = '\0';
	return o;
}

int
gb_buf_json_str(struct gb_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, used, start = gb_buf_used(b);
	char tmp[8];

	while (i < n) {
		/* Printable ASCII other than '"' and '\\' goes as one run. */
		for (k = i; k < n && p[k] >= 0x20 && p[k] < 0x7f &&
		    p[k] != '"' && p[k] != '\\'; k++)
			;
		if (k > i) {
			if (gb_buf_append(b, p + i, k - i) == -1)
				goto fail;
			i = k;
			continue;
		}
		k = json_escape_one(tmp, p + i, n - i, &used);
		if (gb_buf_append(b, tmp, k) == -1)
			goto fail;
		i += used;
	}
	return 0;
fail:
	/* An append may have compacted: off can have moved. */
	b->len = b->off + start;
	return -1;
}

int
gb_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
gb_hex(char *dst, const void *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++) {
		dst[2 * i] = hex[s[i] >> 4];
		dst[2 * i + 1] = hex[s[i] & 15];
	}
	dst[2 * n] = '\0';
}

int
gb_secret_eq(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
