/*
 * Unit tests for core/gb_buf.c: bounded buffers (the cap is exact: max
 * bytes fit, max + 1 is refused and the buffer is unchanged), JSON
 * escaping, hex and constant-time comparison.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/mman.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/gb_buf.h"

/*
 * A copy of p[0..n) that ends right before a PROT_NONE page, so reading
 * one byte past the input crashes (picohttpparser test.c).
 */
struct guard {
	uint8_t	*map;
	size_t	 maplen;
	char	*p;
};

static char *
guard_copy(struct guard *g, const void *p, size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t data = (n + pg - 1) / pg * pg;

	if (data == 0)
		data = pg;
	g->maplen = data + pg;
	g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->map != MAP_FAILED);
	assert_int_equal(mprotect(g->map + data, pg, PROT_NONE), 0);
	g->p = (char *)g->map + data - n;
	if (n > 0)
		memcpy(g->p, p, n);
	return g->p;
}

static void
guard_free(struct guard *g)
{
	munmap(g->map, g->maplen);
}

/* The unread contents equal s[0..n). */
static void
assert_contents(const struct gb_buf *b, const void *s, size_t n)
{
	assert_int_equal(gb_buf_used(b), n);
	if (n > 0)
		assert_memory_equal(gb_buf_head(b), s, n);
}

static void
test_init_empty(void **state)
{
	struct gb_buf b;

	(void)state;
	gb_buf_init(&b, 0);
	assert_int_equal(gb_buf_used(&b), 0);
	assert_int_equal(gb_buf_room(&b), SIZE_MAX / 2);
	assert_string_equal(gb_buf_cstr(&b), "");
	gb_buf_free(&b);

	gb_buf_init(&b, 100);
	assert_int_equal(gb_buf_room(&b), 100);
	gb_buf_free(&b);
	gb_buf_free(NULL);
}

static void
test_append(void **state)
{
	struct gb_buf b;

	(void)state;
	gb_buf_init(&b, 0);
	assert_int_equal(gb_buf_append(&b, "abc", 3), 0);
	assert_int_equal(gb_buf_append(&b, "", 0), 0);
	assert_int_equal(gb_buf_puts(&b, "def"), 0);
	assert_int_equal(gb_buf_putc(&b, 'g'), 0);
	assert_int_equal(gb_buf_putc(&b, 0x1ff), 0);	/* as a byte */
	assert_contents(&b, "abcdefg\xff", 8);
	assert_string_equal(gb_buf_cstr(&b), "abcdefg\xff");
	/* The NUL is not counted. */
	assert_int_equal(gb_buf_used(&b), 8);
	gb_buf_free(&b);
	/* A literal: its length, without its NUL; "" appends nothing. */
	gb_buf_init(&b, 5);
	assert_int_equal(GB_BUF_PUTLIT(&b, "ab\r\n"), 0);
	assert_int_equal(GB_BUF_PUTLIT(&b, ""), 0);
	assert_contents(&b, "ab\r\n", 4);
	assert_int_equal(GB_BUF_PUTLIT(&b, "cd"), -1);	/* past max */
	assert_contents(&b, "ab\r\n", 4);
	gb_buf_free(&b);
}

static void
test_append_grows(void **state)
{
	struct gb_buf b;
	char chunk[100];
	size_t i;

	(void)state;
	memset(chunk, 'x', sizeof(chunk));
	gb_buf_init(&b, 0);
	for (i = 0; i < 1000; i++)
		assert_int_equal(gb_buf_append(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(gb_buf_used(&b), 100000);
	assert_true(b.cap >= 100000);
	for (i = 0; i < 100000; i++)
		assert_int_equal(gb_buf_head(&b)[i], 'x');
	gb_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(gb_buf_used(&b), 0);
	/* Reusable after free. */
	assert_int_equal(gb_buf_puts(&b, "again"), 0);
	assert_string_equal(gb_buf_cstr(&b), "again");
	gb_buf_free(&b);
}

static void
test_reserve_commit(void **state)
{
	struct gb_buf b;
	uint8_t *p;

	(void)state;
	gb_buf_init(&b, 0);
	assert_int_equal(gb_buf_puts(&b, "ab"), 0);
	p = gb_buf_reserve(&b, 10);
	assert_non_null(p);
	assert_ptr_equal(p, gb_buf_head(&b) + 2);
	memcpy(p, "cdefg", 5);
	gb_buf_commit(&b, 5);
	assert_contents(&b, "abcdefg", 7);
	/* Reserving does not change the contents. */
	assert_non_null(gb_buf_reserve(&b, 1000));
	assert_contents(&b, "abcdefg", 7);
	gb_buf_free(&b);
}

static void
test_consume_compact(void **state)
{
	struct gb_buf b;

	(void)state;
	gb_buf_init(&b, 0);
	assert_int_equal(gb_buf_puts(&b, "hello world"), 0);
	gb_buf_consume(&b, 6);
	assert_contents(&b, "world", 5);
	assert_string_equal(gb_buf_cstr(&b), "world");
	gb_buf_compact(&b);
	assert_int_equal(b.off, 0);
	assert_memory_equal(b.data, "world", 5);
	assert_contents(&b, "world", 5);
	gb_buf_compact(&b);	/* nothing to do */
	assert_contents(&b, "world", 5);

	gb_buf_consume(&b, 0);
	assert_contents(&b, "world", 5);
	gb_buf_consume(&b, 5);
	assert_int_equal(gb_buf_used(&b), 0);
	assert_int_equal(gb_buf_puts(&b, "x"), 0);
	assert_contents(&b, "x", 1);

	gb_buf_reset(&b);
	assert_int_equal(gb_buf_used(&b), 0);
	assert_non_null(b.data);	/* reset keeps the memory */
	assert_int_equal(gb_buf_puts(&b, "y"), 0);
	assert_contents(&b, "y", 1);
	gb_buf_free(&b);
}

/* Consumed space is reclaimed instead of growing past max. */
static void
test_reserve_reclaims(void **state)
{
	struct gb_buf b;
	char want[16];

	(void)state;
	gb_buf_init(&b, 16);
	assert_int_equal(gb_buf_append(&b, "0123456789abcdef", 16), 0);
	gb_buf_consume(&b, 10);
	assert_int_equal(gb_buf_room(&b), 10);
	assert_int_equal(gb_buf_append(&b, "ghijklmnop", 10), 0);
	memcpy(want, "abcdefghijklmnop", 16);
	assert_contents(&b, want, 16);
	assert_true(b.cap <= 16);
	assert_int_equal(gb_buf_putc(&b, 'q'), -1);
	assert_contents(&b, want, 16);
	gb_buf_free(&b);
}

static void
test_max_exact(void **state)
{
	struct gb_buf b;
	char big[65];
	size_t cap;

	(void)state;
	memset(big, 'm', sizeof(big));

	/* max accepted in one append. */
	gb_buf_init(&b, 64);
	assert_int_equal(gb_buf_append(&b, big, 64), 0);
	assert_contents(&b, big, 64);
	assert_int_equal(gb_buf_room(&b), 0);
	assert_true(b.cap <= 64);
	cap = b.cap;
	/* One more byte, by any path, is refused and changes nothing. */
	assert_int_equal(gb_buf_append(&b, "z", 1), -1);
	assert_int_equal(gb_buf_putc(&b, 'z'), -1);
	assert_int_equal(gb_buf_puts(&b, "z"), -1);
	assert_int_equal(gb_buf_printf(&b, "%c", 'z'), -1);
	assert_int_equal(gb_buf_json_str(&b, "z", 1), -1);
	assert_null(gb_buf_reserve(&b, 1));
	/* No room for the NUL either (documented). */
	assert_null(gb_buf_cstr(&b));
	assert_contents(&b, big, 64);
	assert_int_equal(b.cap, cap);
	/* Appending nothing to a full buffer is fine. */
	assert_int_equal(gb_buf_append(&b, "", 0), 0);
	assert_int_equal(gb_buf_printf(&b, "%s", ""), 0);
	assert_contents(&b, big, 64);
	gb_buf_free(&b);

	/* max + 1 in one append is refused; the buffer stays empty. */
	gb_buf_init(&b, 64);
	assert_int_equal(gb_buf_append(&b, big, 65), -1);
	assert_int_equal(gb_buf_used(&b), 0);
	assert_null(gb_buf_reserve(&b, 65));
	assert_non_null(gb_buf_reserve(&b, 64));
	assert_int_equal(gb_buf_used(&b), 0);
	gb_buf_free(&b);

	/* In pieces: 63 + 2 refused, 63 + 1 accepted. */
	gb_buf_init(&b, 64);
	assert_int_equal(gb_buf_append(&b, big, 63), 0);
	assert_int_equal(gb_buf_append(&b, "zz", 2), -1);
	assert_contents(&b, big, 63);
	assert_int_equal(gb_buf_append(&b, "m", 1), 0);
	assert_contents(&b, big, 64);
	gb_buf_free(&b);

	/* A cap below the first allocation size. */
	gb_buf_init(&b, 3);
	assert_int_equal(gb_buf_puts(&b, "abc"), 0);
	assert_int_equal(gb_buf_putc(&b, 'd'), -1);
	assert_contents(&b, "abc", 3);
	assert_true(b.cap <= 3);
	gb_buf_free(&b);
}

static void
test_printf(void **state)
{
	struct gb_buf b;

	(void)state;
	gb_buf_init(&b, 0);
	assert_int_equal(gb_buf_printf(&b, "%d-%s-%04x", 42, "x", 0xbeef), 0);
	assert_int_equal(gb_buf_printf(&b, "|%5.1f", 2.5), 0);
	assert_string_equal(gb_buf_cstr(&b), "42-x-beef|  2.5");
	assert_int_equal(gb_buf_used(&b), 15);
	gb_buf_free(&b);
}

/* printf is an append like any other: exactly max fits. */
static void
test_printf_max(void **state)
{
	struct gb_buf b;

	(void)state;
	gb_buf_init(&b, 10);
	assert_int_equal(gb_buf_printf(&b, "%s", "0123456789"), 0);
	assert_contents(&b, "0123456789", 10);
	gb_buf_free(&b);

	gb_buf_init(&b, 10);
	assert_int_equal(gb_buf_printf(&b, "%s", "0123456789a"), -1);
	assert_int_equal(gb_buf_used(&b), 0);
	assert_int_equal(gb_buf_puts(&b, "ab"), 0);
	assert_int_equal(gb_buf_printf(&b, "%d", 12345678), 0);
	assert_contents(&b, "ab12345678", 10);
	assert_int_equal(gb_buf_printf(&b, "%d", 1), -1);
	assert_contents(&b, "ab12345678", 10);
	gb_buf_free(&b);

	/* Exactly max after consumed space is reclaimed. */
	gb_buf_init(&b, 10);
	assert_int_equal(gb_buf_puts(&b, "0123456789"), 0);
	gb_buf_consume(&b, 4);
	assert_int_equal(gb_buf_printf(&b, "%s", "abcd"), 0);
	assert_contents(&b, "456789abcd", 10);
	gb_buf_free(&b);
}

static void
test_cstr(void **state)
{
	struct gb_buf b;
	const char *s;

	(void)state;
	gb_buf_init(&b, 8);
	assert_int_equal(gb_buf_puts(&b, "abcdefg"), 0);
	s = gb_buf_cstr(&b);
	assert_non_null(s);
	assert_string_equal(s, "abcdefg");
	assert_int_equal(gb_buf_used(&b), 7);
	gb_buf_consume(&b, 3);
	assert_string_equal(gb_buf_cstr(&b), "defg");
	/* Still appendable up to max after cstr. */
	assert_int_equal(gb_buf_puts(&b, "hijk"), 0);
	assert_contents(&b, "defghijk", 8);
	assert_null(gb_buf_cstr(&b));
	gb_buf_free(&b);
}

static void
test_buf_json_str(void **state)
{
	struct gb_buf b;

	(void)state;
	gb_buf_init(&b, 0);
	assert_int_equal(gb_buf_putc(&b, '"'), 0);
	assert_int_equal(gb_buf_json_str(&b, "a\"b\\c\n\x01", 7), 0);
	assert_int_equal(gb_buf_putc(&b, '"'), 0);
	assert_string_equal(gb_buf_cstr(&b), "\"a\\\"b\\\\c\\n\\u0001\"");
	gb_buf_free(&b);

	/* All or nothing: a string that does not fit leaves no partial. */
	gb_buf_init(&b, 10);
	assert_int_equal(gb_buf_puts(&b, "ab"), 0);
	assert_int_equal(gb_buf_json_str(&b, "\"\"\"\"", 4), 0);
	assert_contents(&b, "ab\\\"\\\"\\\"\\\"", 10);
	gb_buf_reset(&b);
	assert_int_equal(gb_buf_puts(&b, "ab"), 0);
	assert_int_equal(gb_buf_json_str(&b, "\x01\x02", 2), -1);
	assert_contents(&b, "ab", 2);
	gb_buf_free(&b);

	/* Runs of plain bytes and escapes, random: the same text as the
	 * byte-by-byte gb_json_escape(). */
	{
		static const char pick[] = "aZ09 \"\\\n\x01\x7f\xc3\xa9\xe2"
		    "\x82\xac\xff/";
		char in[64], want[512];
		uint32_t x = 12345;
		size_t i, k, n;

		for (i = 0; i < 2000; i++) {
			n = i % sizeof(in);
			for (k = 0; k < n; k++) {
				x = x * 1103515245 + 12345;
				in[k] = pick[(x >> 16) % (sizeof(pick) - 1)];
			}
			gb_json_escape(want, sizeof(want), in, n);
			gb_buf_init(&b, 0);
			assert_int_equal(gb_buf_json_str(&b, in, n), 0);
			assert_string_equal(gb_buf_cstr(&b), want);
			gb_buf_free(&b);
		}
	}
}

/*
 * A failing gb_buf_json_str() after consumed space was reclaimed part way
 * must still leave the buffer as it was.
 */
static void
test_buf_json_str_unchanged_after_compact(void **state)
{
	struct gb_buf b;
	char want[10], s[30];

	(void)state;
	memset(want, 'A', sizeof(want));
	memset(s, 'b', sizeof(s));
	gb_buf_init(&b, 32);
	assert_int_equal(gb_buf_append(&b, "AAAAAAAAAAAAAAAAAAAA", 20), 0);
	gb_buf_consume(&b, 10);
	assert_int_equal(gb_buf_json_str(&b, s, sizeof(s)), -1);
	assert_contents(&b, want, 10);
	/* And the buffer still works. */
	assert_int_equal(gb_buf_json_str(&b, s, 22), 0);
	assert_int_equal(gb_buf_used(&b), 32);
	assert_memory_equal(gb_buf_head(&b), want, 10);
	assert_memory_equal(gb_buf_head(&b) + 10, s, 22);
	gb_buf_free(&b);
}

/* gb_json_escape() of s[0..n) into a large buffer, compared with want. */
static void
check_escape(const char *s, size_t n, const char *want)
{
	struct guard g;
	char out[512];
	size_t r;

	r = gb_json_escape(out, sizeof(out), guard_copy(&g, s, n), n);
	assert_string_equal(out, want);
	assert_int_equal(r, strlen(want));
	guard_free(&g);
}

#define ESC(lit, want)	check_escape(lit, sizeof(lit) - 1, want)

static void
test_json_escape_ascii(void **state)
{
	(void)state;
	ESC("", "");
	ESC("plain text 123", "plain text 123");
	ESC("say \"hi\"", "say \\\"hi\\\"");
	ESC("C:\\dir\\", "C:\\\\dir\\\\");
	ESC("a\nb\rc\td", "a\\nb\\rc\\td");
	ESC("/", "/");
	ESC("'", "'");
}

static void
test_json_escape_control(void **state)
{
	(void)state;
	ESC("\x01", "\\u0001");
	ESC("\x08\x0c", "\\u0008\\u000c");
	ESC("\x1b[31m", "\\u001b[31m");
	ESC("\x1f", "\\u001f");
	ESC("a\0b", "a\\u0000b");
	ESC("\x7f", "\\u007f");	/* DEL */
	ESC(" ~", " ~");
}

static void
test_json_escape_utf8_valid(void **state)
{
	(void)state;
	ESC("caf\xc3\xa9", "caf\xc3\xa9");			/* U+00E9 */
	ESC("\xc2\x80", "\xc2\x80");				/* U+0080 */
	ESC("\xdf\xbf", "\xdf\xbf");				/* U+07FF */
	ESC("\xe0\xa0\x80", "\xe0\xa0\x80");			/* U+0800 */
	ESC("\xe2\x82\xac", "\xe2\x82\xac");			/* euro */
	ESC("\xed\x9f\xbf", "\xed\x9f\xbf");			/* U+D7FF */
	ESC("\xee\x80\x80", "\xee\x80\x80");			/* U+E000 */
	ESC("\xef\xbf\xbf", "\xef\xbf\xbf");			/* U+FFFF */
	ESC("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");		/* emoji */
	ESC("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");	/* U+10FFFF */
	ESC("Jl. Sudirman \xe2\x80\x94 \"Jakarta\"",
	    "Jl. Sudirman \xe2\x80\x94 \\\"Jakarta\\\"");
}

#define FFFD	"\\ufffd"

static void
test_json_escape_utf8_invalid(void **state)
{
	(void)state;
	/* Stray continuation and bytes that never start a character. */
	ESC("\x80", FFFD);
	ESC("a\xbfz", "a" FFFD "z");
	ESC("\xfe\xff", FFFD FFFD);
	ESC("\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD);
	/* Overlong forms. */
	ESC("\xc0\xaf", FFFD FFFD);
	ESC("\xc1\xbf", FFFD FFFD);
	ESC("\xe0\x80\xaf", FFFD FFFD FFFD);
	ESC("\xe0\x9f\xbf", FFFD FFFD FFFD);
	ESC("\xf0\x80\x80\xaf", FFFD FFFD FFFD FFFD);
	ESC("\xf0\x8f\xbf\xbf", FFFD FFFD FFFD FFFD);
	/* UTF-16 surrogates. */
	ESC("\xed\xa0\x80", FFFD FFFD FFFD);
	ESC("\xed\xbf\xbf", FFFD FFFD FFFD);
	/* Past U+10FFFF. */
	ESC("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);
	/* Bad continuation: the lead is replaced, the rest re-read. */
	ESC("\xc3(", FFFD "(");
	ESC("\xe2\x82(", FFFD FFFD "(");
	ESC("\xe2\x28\xa1", FFFD "(" FFFD);
	/* Truncated at the end of the input (guard page right after). */
	ESC("\xc3", FFFD);
	ESC("x\xe2\x82", "x" FFFD FFFD);
	ESC("\xf0\x9f\x98", FFFD FFFD FFFD);
	/* Valid next to invalid. */
	ESC("\xff\xc3\xa9\xff", FFFD "\xc3\xa9" FFFD);
}

/*
 * When dst is too small the output is cut at a character boundary: it is
 * the escape of the longest input prefix that fits, never half an escape
 * or half a UTF-8 sequence.
 */
static void
test_json_escape_cut(void **state)
{
	/* a, ", euro, ^A, emoji, a bad byte, backslash, z */
	static const char s[] = "a\"\xe2\x82\xac\x01\xf0\x9f\x98\x80\xff\\z";
	static const size_t bounds[] = { 0, 1, 2, 5, 6, 10, 11, 12, 13 };
	size_t n = sizeof(s) - 1, pts[9], npts = 9, dl, i, best, r;
	char full[256], out[256];

	(void)state;
	assert_int_equal(bounds[npts - 1], n);
	gb_json_escape(full, sizeof(full), s, n);
	/* The escape of each input prefix that ends between characters. */
	for (i = 0; i < npts; i++) {
		pts[i] = gb_json_escape(out, sizeof(out), s, bounds[i]);
		assert_memory_equal(out, full, pts[i]);
	}
	assert_int_equal(pts[npts - 1], strlen(full));
	for (dl = 1; dl <= strlen(full) + 2; dl++) {
		memset(out, 'X', sizeof(out));
		r = gb_json_escape(out, dl, s, n);
		best = 0;
		for (i = 0; i < npts; i++)
			if (pts[i] < dl)
				best = pts[i];
		assert_int_equal(r, best);
		assert_int_equal(out[r], '\0');
		assert_memory_equal(out, full, r);
		assert_int_equal(out[dl], 'X');	/* nothing past dstlen */
	}

	/* Hand-checked cuts. */
	assert_int_equal(gb_json_escape(out, 4, "\xe2\x82\xac\xe2\x82\xac",
	    6), 3);
	assert_string_equal(out, "\xe2\x82\xac");
	assert_int_equal(gb_json_escape(out, 3, "\xe2\x82\xac", 3), 0);
	assert_string_equal(out, "");
	assert_int_equal(gb_json_escape(out, 6, "\x01", 1), 0);
	assert_string_equal(out, "");
	assert_int_equal(gb_json_escape(out, 7, "\x01", 1), 6);
	assert_string_equal(out, "\\u0001");
	assert_int_equal(gb_json_escape(out, 2, "\"", 1), 0);
	assert_int_equal(gb_json_escape(out, 3, "\"", 1), 2);
	assert_int_equal(gb_json_escape(out, 1, "abc", 3), 0);
	assert_string_equal(out, "");

	/* dstlen 0: nothing written at all. */
	out[0] = 'X';
	assert_int_equal(gb_json_escape(out, 0, "abc", 3), 0);
	assert_int_equal(out[0], 'X');
}

static void
test_hex(void **state)
{
	static const uint8_t in[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	char out[2 * sizeof(in) + 1];

	(void)state;
	memset(out, 'X', sizeof(out));
	gb_hex(out, in, sizeof(in));
	assert_string_equal(out, "00017f80abff");
	gb_hex(out, in, 0);
	assert_string_equal(out, "");
	gb_hex(out, "gb", 2);
	assert_string_equal(out, "6762");
}

static void
test_secret_eq(void **state)
{
	char a[32], b[32];

	(void)state;
	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	assert_int_equal(gb_secret_eq(a, b, sizeof(a)), 1);
	b[31] ^= 1;
	assert_int_equal(gb_secret_eq(a, b, sizeof(a)), 0);
	assert_int_equal(gb_secret_eq(a, b, 31), 1);
	b[0] ^= 0x80;
	assert_int_equal(gb_secret_eq(a, b, 31), 0);
	assert_int_equal(gb_secret_eq(a, b, 0), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_empty),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_append_grows),
		cmocka_unit_test(test_reserve_commit),
		cmocka_unit_test(test_consume_compact),
		cmocka_unit_test(test_reserve_reclaims),
		cmocka_unit_test(test_max_exact),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_printf_max),
		cmocka_unit_test(test_cstr),
		cmocka_unit_test(test_buf_json_str),
		cmocka_unit_test(test_buf_json_str_unchanged_after_compact),
		cmocka_unit_test(test_json_escape_ascii),
		cmocka_unit_test(test_json_escape_control),
		cmocka_unit_test(test_json_escape_utf8_valid),
		cmocka_unit_test(test_json_escape_utf8_invalid),
		cmocka_unit_test(test_json_escape_cut),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_secret_eq),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
