/*
 * Golden tests for policy/pol_load.c: every tests/policy/bad/NAME.yaml is
 * loaded (from that folder, so diagnostics name NAME.yaml) with the known
 * upstreams "dukcapil" and "pajak", and its diagnostics, one a line, then
 * "load: 0" or "load: -1", must equal NAME.expected byte for byte.
 *
 * POL_BAD_UPDATE=1 rewrites the .expected files instead (review the diff).
 * The source tree is found from __FILE__ (meson runs tests from the build
 * folder) or from GB_SOURCE_ROOT.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/gb_buf.h"
#include "core/gb_diag.h"
#include "policy/pol.h"

static char baddir[PATH_MAX];

static int
find_dir(void **state)
{
	const char *root = getenv("GB_SOURCE_ROOT");
	char tmp[PATH_MAX];
	const char *p;

	(void)state;
	if (root != NULL)
		snprintf(tmp, sizeof(tmp), "%s/tests/policy/bad", root);
	else {
		p = strstr(__FILE__, "tests/unit/policy/");
		assert_non_null(p);
		snprintf(tmp, sizeof(tmp), "%.*stests/policy/bad",
		    (int)(p - __FILE__), __FILE__);
	}
	if (realpath(tmp, baddir) == NULL) {
		fprintf(stderr, "cannot find %s (set GB_SOURCE_ROOT)\n", tmp);
		return -1;
	}
	return 0;
}

/* The checker output of one policy file, loaded from the current folder. */
static void
check_output(const char *file, struct gb_buf *out)
{
	static const char *const ups[] = { "dukcapil", "pajak", NULL };
	struct pol_load_opts o = { .upstreams = ups, .geoip_db = NULL };
	struct pol_set *set = NULL;
	struct gb_diags d;
	char line[1024];
	size_t i;
	int rc;

	gb_diags_init(&d, 0);
	rc = pol_set_load(file, &o, &set, &d);
	for (i = 0; i < d.n; i++) {
		gb_diag_format(&d.v[i], line, sizeof(line));
		gb_buf_printf(out, "%s\n", line);
	}
	if (d.dropped)
		gb_buf_printf(out, "(%zu more)\n", d.dropped);
	gb_buf_printf(out, "load: %d\n", rc);
	assert_true(rc == 0 ? set != NULL : set == NULL);
	pol_set_free(set);
	gb_diags_free(&d);
}

static char *
slurp(const char *path, size_t *n)
{
	FILE *fp;
	char *buf;
	long len;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	*n = fread(buf, 1, (size_t)len, fp);
	buf[*n] = '\0';
	fclose(fp);
	return buf;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_bad_policies(void **state)
{
	char *names[512], exp[PATH_MAX], cwd[PATH_MAX];
	const char *update = getenv("POL_BAD_UPDATE");
	struct dirent *de;
	struct gb_buf out;
	size_t n = 0, i, len, elen;
	int failed = 0;
	char *want;
	DIR *dir;
	FILE *fp;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(baddir), 0);
	assert_non_null(dir = opendir("."));
	while ((de = readdir(dir)) != NULL && n < 512) {
		len = strlen(de->d_name);
		if (len > 5 && strcmp(de->d_name + len - 5, ".yaml") == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(dir);
	qsort(names, n, sizeof(names[0]), cmp_names);
	assert_true(n >= 30);
	for (i = 0; i < n; i++) {
		gb_buf_init(&out, 1 << 20);
		check_output(names[i], &out);
		len = strlen(names[i]);
		snprintf(exp, sizeof(exp), "%.*s.expected", (int)(len - 5),
		    names[i]);
		if (update != NULL && strcmp(update, "1") == 0) {
			assert_non_null(fp = fopen(exp, "wb"));
			fwrite(gb_buf_head(&out), 1, gb_buf_used(&out), fp);
			fclose(fp);
		} else if ((want = slurp(exp, &elen)) == NULL) {
			fprintf(stderr, "%s: missing %s\n", names[i], exp);
			failed++;
		} else {
			if (elen != gb_buf_used(&out) ||
			    memcmp(want, gb_buf_head(&out), elen) != 0) {
				fprintf(stderr, "%s: expected:\n%s--- got:\n"
				    "%.*s---\n", names[i], want,
				    (int)gb_buf_used(&out),
				    (const char *)gb_buf_head(&out));
				failed++;
			}
			free(want);
		}
		/* Every bad file must fail, every warn-* file load. */
		if (strncmp(names[i], "warn-", 5) == 0) {
			if (strstr((const char *)gb_buf_cstr(&out),
			    "load: 0\n") == NULL) {
				fprintf(stderr, "%s: should load\n", names[i]);
				failed++;
			}
		} else if (strstr(gb_buf_cstr(&out), "load: -1\n") == NULL) {
			fprintf(stderr, "%s: should fail\n", names[i]);
			failed++;
		}
		gb_buf_free(&out);
		free(names[i]);
	}
	assert_int_equal(chdir(cwd), 0);
	printf("checked %zu bad policies\n", n);
	assert_int_equal(failed, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_policies),
	};

	return cmocka_run_group_tests(tests, find_dir, NULL);
}
