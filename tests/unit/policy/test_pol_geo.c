/*
 * Unit tests for the GeoIP side of policy/: country allow and deny lists,
 * unknown countries (global setting and per-route override), the
 * registered_country fallback, IPv6, and the load-time errors. The
 * database is written by tests/policy/make_mmdb.pl into a temporary
 * folder (libmaxmind-db-writer-perl); without it the tests are skipped.
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
#include <unistd.h>

#include "core/gb_buf.h"
#include "policy/pol.h"
#include "tests/unit/policy/pol_test.h"

static char tmpdir[] = "/tmp/pol-geo-XXXXXX";
static char db[PATH_MAX];
static bool have_db;

static int
setup(void **state)
{
	const char *root = getenv("GB_SOURCE_ROOT");
	char script[PATH_MAX], cmd[PATH_MAX * 2 + 64];
	const char *p;

	(void)state;
	if (root != NULL)
		snprintf(script, sizeof(script),
		    "%s/tests/policy/make_mmdb.pl", root);
	else {
		p = strstr(__FILE__, "tests/unit/policy/");
		snprintf(script, sizeof(script),
		    "%.*stests/policy/make_mmdb.pl", (int)(p - __FILE__),
		    __FILE__);
	}
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(db, sizeof(db), "%s/country.mmdb", tmpdir);
	snprintf(cmd, sizeof(cmd), "perl '%s' '%s' 2>/dev/null", script, db);
	have_db = system(cmd) == 0;
	if (!have_db)
		fprintf(stderr, "no MaxMind::DB::Writer: GeoIP tests skipped "
		    "(deploy/install-deps.sh test)\n");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(db);
	rmdir(tmpdir);
	return 0;
}

static const char policy[] =
"settings: { unknown_country: deny }\n"
"network:\n"
"  countries: { deny: [US] }\n"
"consumers:\n"
"  - id: c\n"
"    identities: [{ cert_san: c }]\n"
"routes:\n"
"  - id: id-only\n"
"    prefix: /id\n"
"    upstream: u\n"
"    consumers: [c]\n"
"    network:\n"
"      countries: { allow: [ID, MY], unknown: allow }\n"
"  - id: any\n"
"    prefix: /any\n"
"    upstream: u\n"
"    consumers: [c]\n";

static void
decide(const struct pol_set *set, const char *ip, const char *path,
    struct pol_decision *d)
{
	struct pol_request req;
	struct pt_addr a;

	pt_req(&req, &a, ip, "h", "GET", path);
	req.cert_san = "c";
	assert_int_equal(pol_decide(set, NULL, &req, d), 0);
}

static void
test_countries(void **state)
{
	static const struct {
		const char	*ip, *path;
		bool		 allow;
		const char	*rule, *reason;
	} t[] = {
		{ "203.0.113.9", "/id", true, NULL, NULL },
		{ "2001:db8::7", "/id", true, NULL, NULL },
		{ "::ffff:203.0.113.9", "/id", true, NULL, NULL },
		{ "100.64.0.1", "/id", true, NULL, NULL },	/* registered */
		{ "198.51.100.1", "/id", false, "id-only",
		    "country not in allow list" },
		{ "198.51.100.1", "/any", true, NULL, NULL },
		{ "192.0.2.1", "/id", false, "global", "country in deny list" },
		{ "192.0.2.1", "/any", false, "global",
		    "country in deny list" },
		/* No country: the global rule denies unknown countries. */
		{ "10.0.0.1", "/any", false, "global", "unknown country" },
	};
	struct pol_load_opts o = { .geoip_db = db };
	struct pol_decision d;
	struct pol_set *set;
	size_t i;

	(void)state;
	if (!have_db)
		skip();
	set = pt_load(policy, &o);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		decide(set, t[i].ip, t[i].path, &d);
		if (d.allow != t[i].allow || (t[i].rule &&
		    (strcmp(d.rule, t[i].rule) != 0 ||
		    strcmp(d.reason, t[i].reason) != 0))) {
			fprintf(stderr, "%s %s: allow=%d rule=%s reason=%s\n",
			    t[i].ip, t[i].path, d.allow, d.rule, d.reason);
			fail();
		}
	}
	pol_set_free(set);
}

static void
test_unknown_allow(void **state)
{
	struct pol_load_opts o = { .geoip_db = db };
	struct pol_decision d;
	struct pol_set *set;
	struct pol_request req;
	struct pt_addr a;
	struct gb_buf out;

	(void)state;
	if (!have_db)
		skip();
	set = pt_load("settings: { unknown_country: allow }\n"
	    "network: { countries: { allow: [ID] } }\n"
	    "routes: [{ id: r, prefix: /, upstream: u, public: true }]\n", &o);
	decide(set, "10.0.0.1", "/", &d);
	assert_true(d.allow);
	decide(set, "192.0.2.1", "/", &d);
	assert_false(d.allow);
	assert_string_equal(d.reason, "country not in allow list");
	gb_buf_init(&out, 1 << 16);
	pt_req(&req, &a, "192.0.2.1", "h", "GET", "/");
	assert_int_equal(pol_explain(set, NULL, &req, &out), 0);
	assert_non_null(strstr(gb_buf_cstr(&out),
	    "global countries: US not in allow list\n"));
	gb_buf_free(&out);
	pol_set_free(set);
}

static void
test_load_errors(void **state)
{
	struct pol_load_opts o = { .geoip_db = "/nonexistent/db.mmdb" };
	struct pol_set *set = NULL;
	struct gb_diags d;
	char line[512];
	const char *text = "routes: []\n";

	(void)state;
	gb_diags_init(&d, 0);
	assert_int_equal(pol_set_load_mem("p.yaml", text, strlen(text), &o,
	    &set, &d), -1);
	assert_null(set);
	assert_int_equal(d.nerrors, 1);
	gb_diag_format(&d.v[0], line, sizeof(line));
	assert_non_null(strstr(line, "p.yaml: error: cannot open GeoIP "
	    "database \"/nonexistent/db.mmdb\": "));
	gb_diags_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_countries),
		cmocka_unit_test(test_unknown_allow),
		cmocka_unit_test(test_load_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
