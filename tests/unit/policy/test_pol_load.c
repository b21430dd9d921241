/*
 * Unit tests for policy/pol_load.c beyond the golden bad policies: the
 * shipped example (deploy/policy/) loads with its includes, loading from
 * memory refuses include:, the compiled values (defaults, limits, quotas,
 * identities in any accepted spelling), a reload leaves the old set usable,
 * and every prefix of a valid policy loads or fails cleanly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/pol_int.h"
#include "tests/unit/policy/pol_test.h"

static void
srcpath(char *buf, size_t len, const char *rel)
{
	const char *root = getenv("GB_SOURCE_ROOT");
	const char *p;

	if (root != NULL)
		snprintf(buf, len, "%s/%s", root, rel);
	else {
		p = strstr(__FILE__, "tests/unit/policy/");
		assert_non_null(p);
		snprintf(buf, len, "%.*s%s", (int)(p - __FILE__), __FILE__,
		    rel);
	}
}

static void
test_example(void **state)
{
	static const char *const ups[] = { "dukcapil", NULL };
	struct pol_load_opts o = { .upstreams = ups };
	char path[PATH_MAX];
	struct pol_set *set = NULL;
	struct gb_diags d;
	size_t i;

	(void)state;
	srcpath(path, sizeof(path), "deploy/policy/policy.yaml");
	gb_diags_init(&d, 0);
	if (pol_set_load(path, &o, &set, &d) != 0)
		gb_diags_print(&d, stderr);
	assert_non_null(set);
	/* The one warning: the public health route. */
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.nwarnings, 1);
	assert_non_null(strstr(d.v[0].msg, "route \"health\" is public"));
	assert_int_equal(pol_set_nconsumers(set), 2);
	assert_int_equal(pol_set_nroutes(set), 3);
	/* Included files are read in name order: dinkes-jabar, djp. */
	assert_string_equal(set->consumers[0].id, "dinkes-jabar");
	assert_string_equal(set->consumers[1].id, "djp");
	assert_int_equal(set->consumers[0].nquotas, 2);
	assert_int_equal(set->consumers[0].limit.rps, 20);
	assert_int_equal(set->consumers[0].limit.burst, 40);
	assert_int_equal(set->consumers[1].limit.burst, 50);
	for (i = 0; i < set->nroutes; i++)
		if (strcmp(set->routes[i].id, "kk-lookup") == 0)
			assert_int_equal(set->routes[i].nwindows, 2);
	pol_set_free(set);
	gb_diags_free(&d);

	/* The same with an unknown upstream list: an error in the included
	 * file, named by its path. */
	gb_diags_reset(&d);
	o.upstreams = (const char *const[]){ "other", NULL };
	assert_int_equal(pol_set_load(path, &o, &set, &d), -1);
	assert_true(d.nerrors >= 1);
	for (i = 0; i < d.n; i++)
		if (d.v[i].sev == GB_DIAG_ERROR)
			break;
	assert_true(i < d.n);
	assert_true(strstr(d.v[i].file, "deploy/policy/") != NULL);
	gb_diags_free(&d);
}

static void
test_mem_no_include(void **state)
{
	const char *text = "include: [ '*.yaml' ]\n";
	struct pol_set *set = NULL;
	struct gb_diags d;

	(void)state;
	gb_diags_init(&d, 0);
	assert_int_equal(pol_set_load_mem("m.yaml", text, strlen(text), NULL,
	    &set, &d), -1);
	assert_null(set);
	assert_string_equal(d.v[0].msg, "include: not available when the "
	    "policy is loaded from memory");
	gb_diags_free(&d);
}

static void
test_defaults_and_spellings(void **state)
{
	struct pol_set *set;
	const struct pol_route *r;

	(void)state;
	set = pt_load("settings: { max_body: 64k, timezone: '+08:00' }\n"
	    "consumers:\n"
	    "  - id: c\n"
	    "    identities:\n"
	    "      - cert_sha256: 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:"
	    "67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89'\n"
	    "routes:\n"
	    "  - { id: r, prefix: /, upstream: u, consumers: [c] }\n"
	    "  - { id: s, path: /x, upstream: u, consumers: [c],\n"
	    "      methods: [POST], max_body: 0, timezone: Asia/Jayapura }\n",
	    NULL);
	r = &set->routes[0];
	assert_int_equal(r->methods, POL_M_GET | POL_M_HEAD);
	assert_int_equal(r->max_body, 65536);
	assert_int_equal(r->tz_min, 480);
	assert_int_equal(r->mode, POL_ENFORCE);
	r = &set->routes[1];
	assert_int_equal(r->max_body, 0);
	assert_int_equal(r->tz_min, 540);
	assert_true(r->exact);
	assert_int_equal(set->ids.n, 1);
	pol_set_free(set);
}

/* Every prefix of a valid policy: 0 with a set or -1 without, no leak. */
static void
test_prefixes(void **state)
{
	static const char text[] =
	    "settings: { mode: enforce }\n"
	    "network: { allow: [10.0.0.0/8], deny: ['::1'] }\n"
	    "consumers:\n"
	    "  - id: c\n"
	    "    groups: [g]\n"
	    "    identities: [{ cert_san: c }]\n"
	    "    rate_limit: { rps: 1, per_day: 5 }\n"
	    "    quotas: [{ type: nik, max: 1, window: 1h }]\n"
	    "routes:\n"
	    "  - id: r\n"
	    "    prefix: /a/b\n"
	    "    groups: [g]\n"
	    "    upstream: u\n"
	    "    hours: [{ days: [mon, tue-thu], from: '01:00' }]\n";
	struct pol_set *set;
	struct gb_diags d;
	size_t n;

	(void)state;
	for (n = 0; n <= sizeof(text) - 1; n++) {
		set = NULL;
		gb_diags_init(&d, 0);
		if (pol_set_load_mem("p.yaml", text, n, NULL, &set, &d) == 0)
			assert_non_null(set);
		else {
			assert_null(set);
			assert_true(d.nerrors + d.dropped > 0);
		}
		pol_set_free(set);
		gb_diags_free(&d);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_mem_no_include),
		cmocka_unit_test(test_defaults_and_spellings),
		cmocka_unit_test(test_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
