/*
 * Unit tests for core/gb_diag.c: diagnostics printed like a compiler,
 * the max_errors cap and its dropped count, warnings counted apart.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/gb_diag.h"
#include "core/gb_log.h"

static void
assert_diag(const struct gb_diags *d, size_t i, const char *want)
{
	char buf[1400];
	size_t n;

	assert_true(i < d->n);
	n = gb_diag_format(&d->v[i], buf, sizeof(buf));
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void
test_add_format(void **state)
{
	struct gb_diags d;

	(void)state;
	gb_diags_init(&d, 0);
	assert_int_equal(gb_diag_add(&d, GB_DIAG_ERROR, "policy/agencies.yaml",
	    12, 5, "unknown key \"%s\"", "contry"), 0);
	assert_int_equal(gb_diag_add(&d, GB_DIAG_ERROR, "file", 0, 0,
	    "msg"), 0);
	assert_int_equal(gb_diag_add(&d, GB_DIAG_WARNING, "w.yaml", 3, 1,
	    "unused %s %d", "rule", 7), 0);
	assert_int_equal(gb_diag_add(&d, GB_DIAG_NOTE, "n.yaml", 1, 1,
	    "first defined here"), 0);
	assert_int_equal(gb_diag_add(&d, GB_DIAG_ERROR, NULL, 2, 9, "x"), 0);
	assert_int_equal(gb_diag_add(&d, GB_DIAG_ERROR, "file", 0, 7,
	    "line 0 hides the column"), 0);

	assert_int_equal(d.n, 6);
	assert_diag(&d, 0, "policy/agencies.yaml:12:5: error: "
	    "unknown key \"contry\"");
	assert_diag(&d, 1, "file: error: msg");
	assert_diag(&d, 2, "w.yaml:3:1: warning: unused rule 7");
	assert_diag(&d, 3, "n.yaml:1:1: note: first defined here");
	assert_diag(&d, 4, "<input>:2:9: error: x");
	assert_diag(&d, 5, "file: error: line 0 hides the column");
	assert_int_equal(d.v[0].sev, GB_DIAG_ERROR);
	assert_int_equal(d.v[0].line, 12);
	assert_int_equal(d.v[0].col, 5);
	assert_string_equal(d.v[0].file, "policy/agencies.yaml");
	assert_string_equal(d.v[0].msg, "unknown key \"contry\"");
	assert_int_equal(d.nerrors, 4);
	assert_int_equal(d.nwarnings, 1);
	assert_int_equal(d.dropped, 0);
	gb_diags_free(&d);
}

/* The file name is copied, not borrowed. */
static void
test_file_copied(void **state)
{
	struct gb_diags d;
	char name[16];

	(void)state;
	gb_diags_init(&d, 0);
	strcpy(name, "a.yaml");
	gb_diag_add(&d, GB_DIAG_ERROR, name, 1, 2, "m");
	strcpy(name, "XXXXXX");
	assert_diag(&d, 0, "a.yaml:1:2: error: m");
	gb_diags_free(&d);
}

static void
test_format_truncated(void **state)
{
	struct gb_diags d;
	char buf[12];
	size_t n;

	(void)state;
	gb_diags_init(&d, 0);
	gb_diag_add(&d, GB_DIAG_ERROR, "file.yaml", 12, 5, "long message");
	memset(buf, 'X', sizeof(buf));
	n = gb_diag_format(&d.v[0], buf, 8);
	assert_int_equal(n, 7);
	assert_string_equal(buf, "file.ya");
	assert_int_equal(buf[8], 'X');
	n = gb_diag_format(&d.v[0], buf, 1);
	assert_int_equal(n, 0);
	assert_string_equal(buf, "");
	/* A zero-length buffer: nothing written, length 0. */
	buf[0] = 'X';
	n = gb_diag_format(&d.v[0], buf, 0);
	assert_int_equal(n, 0);
	assert_int_equal(buf[0], 'X');
	gb_diags_free(&d);
}

/* A message longer than the internal buffer is kept, cut. */
static void
test_long_message(void **state)
{
	struct gb_diags d;
	char *big;

	(void)state;
	big = malloc(5000);
	assert_non_null(big);
	memset(big, 'q', 4999);
	big[4999] = '\0';
	gb_diags_init(&d, 0);
	assert_int_equal(gb_diag_add(&d, GB_DIAG_ERROR, "f", 1, 1, "%s", big),
	    0);
	assert_int_equal(d.n, 1);
	assert_true(strlen(d.v[0].msg) > 0);
	assert_true(strlen(d.v[0].msg) < 4999);
	assert_int_equal(strspn(d.v[0].msg, "q"), strlen(d.v[0].msg));
	free(big);
	gb_diags_free(&d);
}

static void
test_max_errors(void **state)
{
	struct gb_diags d;
	char want[64];
	unsigned i;

	(void)state;
	gb_diags_init(&d, 3);
	assert_int_equal(d.max_errors, 3);
	for (i = 1; i <= 5; i++) {
		assert_int_equal(gb_diags_full(&d), i > 3);
		assert_int_equal(gb_diag_add(&d, GB_DIAG_ERROR, "f", i, 1,
		    "error %u", i), 0);
	}
	assert_true(gb_diags_full(&d));
	assert_int_equal(d.n, 3);
	assert_int_equal(d.nerrors, 3);
	assert_int_equal(d.dropped, 2);
	for (i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "f:%u:1: error: error %u", i + 1,
		    i + 1);
		assert_diag(&d, i, want);
	}

	/* Warnings and notes are kept past the cap, counted apart. */
	gb_diag_add(&d, GB_DIAG_WARNING, "f", 9, 1, "w1");
	gb_diag_add(&d, GB_DIAG_WARNING, "f", 9, 2, "w2");
	gb_diag_add(&d, GB_DIAG_NOTE, "f", 9, 3, "n");
	assert_int_equal(d.n, 6);
	assert_int_equal(d.nerrors, 3);
	assert_int_equal(d.nwarnings, 2);
	assert_int_equal(d.dropped, 2);
	assert_diag(&d, 3, "f:9:1: warning: w1");
	assert_diag(&d, 5, "f:9:3: note: n");

	/* Reset clears everything; the cap stays. */
	gb_diags_reset(&d);
	assert_int_equal(d.n, 0);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.nwarnings, 0);
	assert_int_equal(d.dropped, 0);
	assert_false(gb_diags_full(&d));
	assert_int_equal(d.max_errors, 3);
	gb_diag_add(&d, GB_DIAG_ERROR, "g", 1, 1, "again");
	assert_diag(&d, 0, "g:1:1: error: again");
	gb_diags_free(&d);
	gb_diags_free(NULL);
}

/* Warnings alone never make the list full. */
static void
test_warnings_not_errors(void **state)
{
	struct gb_diags d;
	unsigned i;

	(void)state;
	gb_diags_init(&d, 2);
	for (i = 0; i < 50; i++)
		gb_diag_add(&d, GB_DIAG_WARNING, "f", i + 1, 1, "w");
	assert_false(gb_diags_full(&d));
	assert_int_equal(d.nwarnings, 50);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.n, 50);
	gb_diags_free(&d);
}

static void
test_default_cap(void **state)
{
	struct gb_diags d;
	unsigned i;

	(void)state;
	gb_diags_init(&d, 0);
	assert_int_equal(d.max_errors, GB_DIAG_MAX_ERRORS);
	for (i = 0; i < GB_DIAG_MAX_ERRORS + 7; i++)
		gb_diag_add(&d, GB_DIAG_ERROR, "f", i + 1, 1, "e");
	assert_int_equal(d.n, GB_DIAG_MAX_ERRORS);
	assert_int_equal(d.dropped, 7);
	gb_diags_free(&d);
}

static char *
print_to_string(const struct gb_diags *d)
{
	char *s = NULL;
	size_t len = 0;
	FILE *fp;

	fp = open_memstream(&s, &len);
	assert_non_null(fp);
	gb_diags_print(d, fp);
	fclose(fp);
	return s;
}

static void
test_print(void **state)
{
	struct gb_diags d;
	char *s;

	(void)state;
	gb_diags_init(&d, 2);
	s = print_to_string(&d);
	assert_string_equal(s, "");
	free(s);

	gb_diag_add(&d, GB_DIAG_ERROR, "a.yaml", 1, 2, "one");
	gb_diag_add(&d, GB_DIAG_WARNING, "a.yaml", 0, 0, "two");
	s = print_to_string(&d);
	assert_string_equal(s, "a.yaml:1:2: error: one\n"
	    "a.yaml: warning: two\n");
	free(s);

	gb_diag_add(&d, GB_DIAG_ERROR, "a.yaml", 3, 4, "three");
	gb_diag_add(&d, GB_DIAG_ERROR, "a.yaml", 5, 6, "four");
	gb_diag_add(&d, GB_DIAG_ERROR, "a.yaml", 7, 8, "five");
	s = print_to_string(&d);
	assert_string_equal(s, "a.yaml:1:2: error: one\n"
	    "a.yaml: warning: two\n"
	    "a.yaml:3:4: error: three\n"
	    "too many errors: 2 more not shown\n");
	free(s);
	gb_diags_free(&d);
}

struct tmp {
	char	dir[64];
	char	path[96];
};

/* The teardown runs even when the test fails: nothing is left in /tmp. */
static int
tmp_setup(void **state)
{
	struct tmp *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	strcpy(t->dir, "/tmp/gb_diag_test.XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	snprintf(t->path, sizeof(t->path), "%s/log", t->dir);
	*state = t;
	return 0;
}

static int
tmp_teardown(void **state)
{
	struct tmp *t = *state;
	int rc;

	gb_log_close();
	unlink(t->path);
	rc = rmdir(t->dir);
	free(t);
	return rc == 0 ? 0 : -1;
}

/* gb_diags_log() sends each diagnostic to the log at its level. */
static void
test_log(void **state)
{
	struct tmp *t = *state;
	struct gb_diags d;
	char text[2048];
	ssize_t n;
	FILE *fp;

	assert_int_equal(gb_log_open("test", t->path, GB_LOG_TEXT,
	    GB_LOG_INFO), 0);
	gb_diags_init(&d, 1);
	gb_diag_add(&d, GB_DIAG_ERROR, "c.yaml", 4, 2, "bad");
	gb_diag_add(&d, GB_DIAG_WARNING, "c.yaml", 5, 1, "odd");
	gb_diag_add(&d, GB_DIAG_ERROR, "c.yaml", 6, 1, "dropped");
	gb_diags_log(&d);
	gb_log_close();
	gb_diags_free(&d);

	fp = fopen(t->path, "r");
	assert_non_null(fp);
	n = (ssize_t)fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	assert_true(n > 0);
	text[n] = '\0';
	assert_non_null(strstr(text, " error: c.yaml:4:2: error: bad\n"));
	assert_non_null(strstr(text, " warn: c.yaml:5:1: warning: odd\n"));
	assert_non_null(strstr(text,
	    " error: too many errors: 1 more not shown\n"));
	assert_null(strstr(text, "dropped"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_format),
		cmocka_unit_test(test_file_copied),
		cmocka_unit_test(test_format_truncated),
		cmocka_unit_test(test_long_message),
		cmocka_unit_test(test_max_errors),
		cmocka_unit_test(test_warnings_not_errors),
		cmocka_unit_test(test_default_cap),
		cmocka_unit_test(test_print),
		cmocka_unit_test_setup_teardown(test_log, tmp_setup,
		    tmp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
