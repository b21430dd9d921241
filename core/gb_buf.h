/*
 * gb_buf: growable byte buffers with a hard cap, and the few string helpers
 * every module needs (JSON escaping, hex).
 *
 * A buffer is a plain struct the caller owns (on the stack or inside another
 * object); gb_buf_init() sets its cap. Data lives in [data + off, data + len):
 * gb_buf_consume() advances off, and space is reclaimed by gb_buf_compact()
 * or on the next append that needs room. Appends never grow a buffer past
 * max: they fail with -1 and leave it unchanged, so a peer can never make a
 * buffer grow without bound. Not thread-safe: one owner at a time.
 */
#ifndef GB_BUF_H
#define GB_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct gb_buf {
	uint8_t	*data;
	size_t	 off;	/* first unread byte */
	size_t	 len;	/* end of valid data */
	size_t	 cap;	/* allocated size */
	size_t	 max;	/* hard cap on cap; 0 = SIZE_MAX / 2 */
};

/* Initialise an empty buffer that will never hold more than max bytes. */
void	gb_buf_init(struct gb_buf *b, size_t max);
/* Release the memory; the buffer is empty and reusable. NULL is a no-op. */
void	gb_buf_free(struct gb_buf *b);
/* Forget the contents, keep the memory. */
void	gb_buf_reset(struct gb_buf *b);

/* Bytes readable: len - off. */
static inline size_t
gb_buf_used(const struct gb_buf *b)
{
	return b->len - b->off;
}

/* The first unread byte; NULL for a buffer that never held data. */
static inline uint8_t *
gb_buf_head(const struct gb_buf *b)
{
	return b->data != NULL ? b->data + b->off : NULL;
}

/* Room that can still be appended before hitting max. */
size_t	gb_buf_room(const struct gb_buf *b);

/*
 * Make room for n more bytes at the tail (compacting or growing). Returns a
 * pointer to the tail, or NULL when that would pass max or memory is short.
 * Call gb_buf_commit(b, k) after writing k <= n bytes there.
 */
uint8_t	*gb_buf_reserve(struct gb_buf *b, size_t n);
void	 gb_buf_commit(struct gb_buf *b, size_t n);

/* Append; 0 on success, -1 (buffer unchanged) past max or out of memory. */
int	gb_buf_append(struct gb_buf *b, const void *p, size_t n);
int	gb_buf_puts(struct gb_buf *b, const char *s);
/* gb_buf_puts() of a string literal, whose length is known: no strlen(). */
#define GB_BUF_PUTLIT(b, lit)	gb_buf_append((b), "" lit, sizeof(lit) - 1)
int	gb_buf_putc(struct gb_buf *b, int c);
int	gb_buf_printf(struct gb_buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	gb_buf_vprintf(struct gb_buf *b, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));
/* Append v in decimal / lower-case hex, without printf. 0 or -1. */
int	gb_buf_put_u64(struct gb_buf *b, uint64_t v);
int	gb_buf_put_hex(struct gb_buf *b, uint64_t v);
/* Append s[0..n) as the inside of a JSON string (no quotes added). */
int	gb_buf_json_str(struct gb_buf *b, const char *s, size_t n);

/* Drop n bytes from the head (n <= gb_buf_used()). */
void	gb_buf_consume(struct gb_buf *b, size_t n);
/* Move unread bytes to the start of the allocation. */
void	gb_buf_compact(struct gb_buf *b);
/*
 * NUL-terminate the contents (not counted in len) and return them as a C
 * string; NULL when there is no room for the NUL. Borrowed, valid until the
 * next change to b.
 */
const char *gb_buf_cstr(struct gb_buf *b);

/*
 * Escape s[0..n) as the inside of a JSON string into dst (size dstlen,
 * always NUL-terminated when dstlen > 0). Control bytes become \u00XX and
 * bytes that are not valid UTF-8 become \ufffd. Returns the length written,
 * cut at a character boundary when dst is too small.
 */
size_t	gb_json_escape(char *dst, size_t dstlen, const char *s, size_t n);

/* Value of hex digit c (either case), or -1. */
int	gb_hexval(int c);

/* Lower-case hex of p[0..n) into dst (2n + 1 bytes). */
void	gb_hex(char *dst, const void *p, size_t n);

/* Constant-time comparison of two equal-length secrets: 1 if equal. */
int	gb_secret_eq(const void *a, const void *b, size_t n);

#endif /* GB_BUF_H */
