/*
 * Unit tests for core/gb_mask.c: the examples and rules of gb_mask.h, and
 * output cut to a small dst that never shows more than the full mask.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/mman.h>

#include <string.h>
#include <unistd.h>

#include "core/gb_mask.h"

/* s copied to end right before a PROT_NONE page: an over-read crashes. */
static void
mask_guarded(char *dst, size_t dstlen, const char *s, size_t n, size_t *ret)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *map;

	assert_true(n < pg);
	map = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + pg, pg, PROT_NONE), 0);
	memcpy(map + pg - n, s, n);
	*ret = gb_mask(dst, dstlen, (const char *)map + pg - n, n);
	munmap(map, 2 * pg);
}

static void
check_mask(const char *in, const char *want)
{
	char out[256];
	size_t n = strlen(in), r;

	memset(out, 'X', sizeof(out));
	mask_guarded(out, sizeof(out), in, n, &r);
	if (strcmp(out, want) != 0)
		fail_msg("gb_mask(\"%s\") = \"%s\", want \"%s\"", in, out,
		    want);
	assert_int_equal(r, n);
}

/* The examples in gb_mask.h. */
static void
test_header_examples(void **state)
{
	(void)state;
	check_mask("3171015708450001", "3171********0001");
	check_mask("budi.santoso@example.id", "b***********@example.id");
	/*
	 * NPWP, 15 digits with separators kept. By the rule in gb_mask.h
	 * (12 or more significant characters: first 4 and last 4 stay) the
	 * digits 0812 and 2000 stay. NOTE: the example line in gb_mask.h,
	 * "08.1**.***.*-*12.000", keeps the first 3 and last 5 digits and
	 * contradicts that rule; the rule is what is tested here.
	 */
	check_mask("08.123.456.7-012.000", "08.12*.***.*-**2.000");
}

static void
test_rule_lengths(void **state)
{
	(void)state;
	/* Fewer than 6 significant characters: all masked. */
	check_mask("", "");
	check_mask("1", "*");
	check_mask("ab", "**");
	check_mask("12345", "*****");
	check_mask("1-2-3-4-5", "*-*-*-*-*");
	/* 6 to 11: first 2 and last 2 stay. */
	check_mask("123456", "12**56");
	check_mask("A1B2C3D", "A1***3D");
	check_mask("12345678901", "12*******01");
	check_mask("12 34 56", "12 ** 56");
	/* 12 or more: first 4 and last 4. */
	check_mask("123456789012", "1234****9012");
	check_mask("B1234XYZ5678", "B123****5678");
	check_mask("3171-0157-0845-0001", "3171-****-****-0001");
	check_mask("ID 3171015708450001.", "ID 31**********0001.");
	/* Only ASCII letters and digits are significant. */
	check_mask("+62 812-3456-7890", "+62 81*-****-7890");
	check_mask("----", "----");
}

static void
test_email(void **state)
{
	(void)state;
	check_mask("a@example.id", "*@example.id");	/* nothing of it */
	check_mask("ab@example.id", "a*@example.id");
	check_mask("x.y+tag@mail.example.co.id", "x******@mail.example.co.id");
	/* Only the first @ splits local part and domain. */
	check_mask("siti@a@b", "s***@a@b");
}

/*
 * A cut output is NUL-terminated, dstlen - 1 long, and never shows a
 * character in clear that the full mask hides.
 */
static void
check_cut(const char *in)
{
	char full[256], out[256];
	size_t n = strlen(in), dl, i, r;

	gb_mask(full, sizeof(full), in, n);
	for (dl = 1; dl <= n; dl++) {
		memset(out, 'X', sizeof(out));
		mask_guarded(out, dl, in, n, &r);
		assert_int_equal(r, n);
		assert_int_equal(strlen(out), dl - 1);
		assert_int_equal(out[dl], 'X');
		for (i = 0; i < dl - 1; i++)
			if (out[i] != full[i] && out[i] != '*')
				fail_msg("cut %zu of \"%s\" shows \"%s\"", dl,
				    in, out);
	}
	/* dstlen n + 1 is the full mask. */
	mask_guarded(out, n + 1, in, n, &r);
	assert_string_equal(out, full);
}

static void
test_truncated_dst(void **state)
{
	char out[8];
	size_t r;

	(void)state;
	check_cut("3171015708450001");
	check_cut("08.123.456.7-012.000");
	check_cut("budi.santoso@example.id");
	check_cut("123456");
	check_cut("abc");

	mask_guarded(out, sizeof(out), "3171015708450001", 16, &r);
	assert_int_equal(r, 16);
	assert_string_equal(out, "3171***");
	mask_guarded(out, 5, "budi.santoso@example.id", 23, &r);
	assert_int_equal(r, 23);
	assert_string_equal(out, "b***");
	mask_guarded(out, 1, "3171015708450001", 16, &r);
	assert_string_equal(out, "");
	/* dstlen 0: nothing written, the length is still n. */
	out[0] = 'X';
	assert_int_equal(gb_mask(out, 0, "3171015708450001", 16), 16);
	assert_int_equal(out[0], 'X');
}

/* Not NUL-terminated input: only s[0..n) is read and masked. */
static void
test_length_bounded(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(gb_mask(out, sizeof(out), "3171015708450001TAIL", 16),
	    16);
	assert_string_equal(out, "3171********0001");
	assert_int_equal(gb_mask(out, sizeof(out), "ab@x.id@@", 7), 7);
	assert_string_equal(out, "a*@x.id");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_examples),
		cmocka_unit_test(test_rule_lengths),
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_truncated_dst),
		cmocka_unit_test(test_length_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
