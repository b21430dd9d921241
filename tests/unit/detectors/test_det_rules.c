/*
 * Unit tests for detectors/det_rules.c: the shipped rules load, every
 * error is reported with its position, and the allowlist and thresholds
 * reach the scanner.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/gb_diag.h"
#include "detectors/det_rules.h"
#include "detectors/det_scan.h"

/*
 * The repository root, from this file's name as the compiler saw it
 * (meson compiles "../tests/..." from the build folder, where tests run).
 */
static const char *
srcdir(void)
{
	static char dir[4096];
	const char *file = __FILE__;
	const char *tail = "tests/unit/detectors/test_det_rules.c";
	size_t n = strlen(file), t = strlen(tail);

	if (n >= t && strcmp(&file[n - t], tail) == 0) {
		snprintf(dir, sizeof(dir), "%.*s.", (int)(n - t), file);
		return dir;
	}
	return ".";
}

static struct det_rules *
load(const char *text, struct gb_diags *d)
{
	struct det_rules *r;

	gb_diags_init(d, 0);
	if (det_rules_load_mem("t.yaml", text, strlen(text), &r, d) == -1)
		return NULL;
	return r;
}

/* The printed form of diagnostic i. */
static const char *
diag(const struct gb_diags *d, size_t i)
{
	static char line[512];

	assert_true(i < d->n);
	gb_diag_format(&d->v[i], line, sizeof(line));
	return line;
}

static void
test_defaults(void **state)
{
	struct det_rules *r;
	int t;

	(void)state;
	assert_int_equal(det_rules_default(&r), 0);
	for (t = 0; t < DET_T_COUNT; t++) {
		assert_true(det_rules_type(r, (enum det_type)t)->enabled);
		assert_int_equal(det_rules_type(r,
		    (enum det_type)t)->min_confidence, 50);
	}
	assert_int_equal(det_rules_bulk_count(r), 0);
	assert_int_equal(det_rules_allow_count(r), 0);
	det_rules_free(r);
	det_rules_free(NULL);
}

static void
test_shipped(void **state)
{
	struct det_rules *r;
	struct gb_diags d;
	char path[4200];

	(void)state;

	gb_diags_init(&d, 0);
	snprintf(path, sizeof(path), "%s/rules", srcdir());
	if (det_rules_load_dir(path, &r, &d) == -1) {
		gb_diags_print(&d, stderr);
		fail();
	}
	assert_true(det_rules_bulk_count(r) >= 4);
	/* Shipped empty: an entry costs every finding of its type a hash. */
	assert_int_equal(det_rules_allow_count(r), 0);
	assert_int_equal(det_rules_type(r, DET_T_CARD)->severity,
	    DET_SEV_CRITICAL);
	assert_false(det_rules_allowed(r, DET_T_NIK, "3171014101990001", 16));
	det_rules_free(r);
	gb_diags_free(&d);
}

static void
test_full(void **state)
{
	struct det_rules *r;
	struct gb_diags d;
	const struct det_bulk_rule *b;

	(void)state;
	r = load("types:\n"
	    "  nik: { enabled: false }\n"
	    "  phone: { min_confidence: 90, severity: low }\n"
	    "bulk:\n"
	    "  - name: a\n"
	    "    type: any\n"
	    "    scope: source\n"
	    "    distinct: 10\n"
	    "    window: 10m\n"
	    "allowlist:\n"
	    "  - type: email\n"
	    "    sha256: 0000000000000000000000000000000000000000000000000000000000000000\n",
	    &d);
	assert_non_null(r);
	assert_false(det_rules_type(r, DET_T_NIK)->enabled);
	assert_int_equal(det_rules_type(r, DET_T_PHONE)->min_confidence, 90);
	assert_int_equal(det_rules_type(r, DET_T_PHONE)->severity,
	    DET_SEV_LOW);
	b = det_rules_bulk(r, 0);
	assert_string_equal(b->name, "a");
	assert_int_equal(b->type, -1);
	assert_int_equal(b->scope, DET_SCOPE_SOURCE);
	assert_int_equal(b->distinct, 10);
	assert_int_equal(b->window_ms, 600000);
	assert_null(det_rules_bulk(r, 1));
	det_rules_free(r);
	gb_diags_free(&d);
}

static void
test_errors(void **state)
{
	struct gb_diags d;

	(void)state;
	assert_null(load("types:\n"
	    "  nikk: {min_confidence: 50}\n"
	    "  kk: {min_confidence: 500, severty: high}\n"
	    "bulk:\n"
	    "  - name: x\n"
	    "    type: nik\n"
	    "    scope: flow\n"
	    "    distinct: 3\n"
	    "  - name: y\n"
	    "    type: nik\n"
	    "    scope: response\n"
	    "    distinct: 3\n"
	    "    window: 1m\n"
	    "allowlist:\n"
	    "  - type: nik\n"
	    "    sha256: abc\n"
	    "rulez: 1\n", &d));
	assert_string_equal(diag(&d, 0), "t.yaml:17:1: error: unknown key "
	    "\"rulez\" in rules file");
	gb_diags_free(&d);
	assert_null(load("types:\n"
	    "  nikk: {min_confidence: 50}\n"
	    "  kk: {min_confidence: 500, severty: high}\n"
	    "bulk:\n"
	    "  - name: x\n"
	    "    type: nik\n"
	    "    scope: flow\n"
	    "    distinct: 3\n"
	    "  - name: y\n"
	    "    type: nik\n"
	    "    scope: response\n"
	    "    distinct: 3\n"
	    "    window: 1m\n"
	    "allowlist:\n"
	    "  - type: nik\n"
	    "    sha256: abc\n", &d));
	assert_string_equal(diag(&d, 0), "t.yaml:2:3: error: unknown type "
	    "\"nikk\" (did you mean \"nik\"?)");
	assert_true(strstr(diag(&d, 1), "t.yaml:3:29: error: unknown key "
	    "\"severty\"") != NULL);
	assert_true(strstr(diag(&d, 2), "t.yaml:3:24:") != NULL);
	assert_true(strstr(diag(&d, 3), "scope flow needs a window") != NULL);
	assert_true(strstr(diag(&d, 4), "t.yaml:13:13: error: window:") !=
	    NULL);
	assert_true(strstr(diag(&d, 5), "t.yaml:16:13: error: sha256:") !=
	    NULL);
	assert_int_equal(d.nerrors, 6);
	gb_diags_free(&d);
	/* Duplicates. */
	assert_null(load("bulk:\n"
	    "  - {name: a, type: nik, scope: response, distinct: 1}\n"
	    "  - {name: a, type: kk, scope: response, distinct: 1}\n", &d));
	assert_true(strstr(diag(&d, 0), "already defined at line 2") != NULL);
	gb_diags_free(&d);
	/* Not YAML at all. */
	assert_null(load("types: [\n", &d));
	assert_true(d.nerrors > 0);
	gb_diags_free(&d);
}

static void
test_scanner_uses_rules(void **state)
{
	static const char text[] = "nik 3171014101990001 dan 3171015708450001 "
	    "hp 081234567890";
	struct det_rules *r;
	struct det_scanner *sc;
	struct gb_diags d;
	int n;

	(void)state;
	r = load("types:\n  phone: { enabled: false }\n"
	    "allowlist:\n  - type: nik\n    sha256: "
	    "80e5ed9cdffa8d965c62911bd6cfb775fee4bf3c78a050fe5a55f4a733652378\n",
	    &d);
	assert_non_null(r);
	assert_int_equal(det_scanner_new(r, &sc), 0);
	det_rules_free(r);	/* the scanner keeps what it needs */
	n = det_scan_buf(sc, (const uint8_t *)text, strlen(text), NULL, NULL);
	assert_int_equal(n, 1);	/* one NIK allowed, phones off */
	det_scanner_free(sc);
	gb_diags_free(&d);
}

/* The rules built into the programs are the shipped rules/, and load. */
static void
test_builtin(void **state)
{
	struct det_rules *r;
	struct gb_diags d;
	const struct det_bulk_rule *b;
	size_t i;
	bool nik_dump = false;

	(void)state;
	gb_diags_init(&d, 0);
	assert_int_equal(det_rules_shipped_load(&r, &d), 0);
	assert_int_equal(d.nerrors, 0);
	gb_diags_free(&d);
	assert_true(det_rules_bulk_count(r) >= 4);
	for (i = 0; i < det_rules_bulk_count(r); i++) {
		b = det_rules_bulk(r, i);
		if (strcmp(b->name, "nik-dump-in-response") == 0 &&
		    b->scope == DET_SCOPE_RESPONSE && b->type == DET_T_NIK)
			nik_dump = true;
	}
	assert_true(nik_dump);
	assert_int_equal(det_rules_allow_count(r), 0);
	assert_non_null(strstr(det_rules_shipped, "nik-harvest-by-consumer"));
	det_rules_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_scanner_uses_rules),
		cmocka_unit_test(test_builtin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
