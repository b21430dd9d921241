/*
 * Unit tests for policy/pol_decide.c: a table of requests against one
 * policy (network, routes, identities, hours, body size, modes), the
 * properties (default deny, monitor never denies a routed request, an
 * unknown consumer never gets a route in enforce mode) over generated
 * requests, and pol_explain().
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gb_buf.h"
#include "policy/pol.h"
#include "tests/unit/policy/pol_test.h"

/* 2024-01-03 (a Wednesday) 10:00 in Asia/Jakarta. */
#define WED_10	1704250800
#define WED_17	(WED_10 + 7 * 3600)
#define SAT_10	(WED_10 + 3 * 86400)

static const char policy[] =
"settings: { timezone: Asia/Jakarta }\n"
"network:\n"
"  deny: [10.9.0.0/16, '2001:db8:dead::/48']\n"
"  allow: [10.0.0.0/8, 127.0.0.0/8, '2001:db8::/32']\n"
"consumers:\n"
"  - id: health\n"
"    groups: [health]\n"
"    identities:\n"
"      - cert_sha256: '11111111111111111111111111111111"
    "11111111111111111111111111111111'\n"
"      - api_key_sha256: 9f86d081884c7d659a2feaa0c55ad015"
    "a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
"    quotas: [{ type: nik, max: 100, window: 1d, action: block }]\n"
"  - id: tax\n"
"    groups: [tax]\n"
"    identities:\n"
"      - cert_subject: 'CN=tax,O=DJP,C=ID'\n"
"      - cert_san: tax.example.go.id\n"
"  - id: off\n"
"    disabled: true\n"
"    identities: [{ cert_san: off.example.go.id }]\n"
"routes:\n"
"  - id: nik\n"
"    host: api.example.go.id\n"
"    prefix: /v1/nik\n"
"    methods: [GET, POST]\n"
"    upstream: dukcapil\n"
"    groups: [health]\n"
"    max_body: 1k\n"
"  - id: nik-summary\n"
"    host: api.example.go.id\n"
"    path: /v1/nik/summary\n"
"    methods: [GET]\n"
"    upstream: pajak\n"
"    consumers: [tax]\n"
"  - id: nik-any\n"
"    prefix: /v1/nik\n"
"    upstream: dukcapil\n"
"    consumers: [tax]\n"
"  - id: kk\n"
"    prefix: /v1/kk/\n"
"    upstream: dukcapil\n"
"    consumers: [tax, off]\n"
"    hours: [{ days: mon-fri, from: '08:00', to: '16:00' }]\n"
"  - id: internal\n"
"    prefix: /internal\n"
"    upstream: dukcapil\n"
"    consumers: [health]\n"
"    network: { allow: [10.1.0.0/16] }\n"
"  - id: trial\n"
"    prefix: /trial\n"
"    upstream: dukcapil\n"
"    consumers: [tax]\n"
"    mode: monitor\n"
"  - id: healthz\n"
"    path: /healthz\n"
"    upstream: dukcapil\n"
"    public: true\n"
"  - id: root\n"
"    host: other.example.go.id\n"
"    prefix: /\n"
"    methods: [GET]\n"
"    upstream: pajak\n"
"    consumers: ['*']\n";

static struct pol_set *set;

static int
setup(void **state)
{
	(void)state;
	set = pt_load(policy, NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	pol_set_free(set);
	return 0;
}

enum who { NOBODY = 0, HEALTH_FP, HEALTH_KEY, TAX_SUBJ, TAX_SAN, OFF, STRANGER,
    BADKEY, CONFLICT };

struct row {
	const char	*name;
	const char	*ip;
	const char	*host;
	const char	*method;
	const char	*path;
	enum who	 who;
	uint64_t	 body;
	time_t		 now;
	bool		 allow;
	bool		 would_deny;
	int		 status;
	const char	*rule;		/* NULL: not checked */
	const char	*reason;
	const char	*consumer;
	const char	*route;
};

static const uint8_t fp_health[32] = {
	0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
};
static const uint8_t fp_other[32] = { 0x22 };

static void
set_who(struct pol_request *r, enum who w)
{
	switch (w) {
	case NOBODY:
		break;
	case HEALTH_FP:
		r->cert_sha256 = fp_health;
		break;
	case HEALTH_KEY:
		r->api_key = "test";
		r->api_key_len = 4;
		break;
	case TAX_SUBJ:
		r->cert_subject = "CN=tax,O=DJP,C=ID";
		break;
	case TAX_SAN:
		r->cert_san = "tax.example.go.id";
		break;
	case OFF:
		r->cert_san = "off.example.go.id";
		break;
	case STRANGER:
		r->cert_sha256 = fp_other;
		break;
	case BADKEY:
		r->api_key = "tset";
		r->api_key_len = 4;
		break;
	case CONFLICT:
		r->api_key = "test";
		r->api_key_len = 4;
		r->cert_san = "tax.example.go.id";
		break;
	}
}

#define H	"api.example.go.id"

static const struct row rows[] = {
	{ "health GET by fingerprint", "10.0.0.1", H, "GET", "/v1/nik/123",
	    HEALTH_FP, 0, WED_10, true, false, 0, NULL, NULL, "health",
	    "nik" },
	{ "health by API key", "10.0.0.1", H, "POST", "/v1/nik", HEALTH_KEY,
	    10, WED_10, true, false, 0, NULL, NULL, "health", "nik" },
	{ "host is case-insensitive, port cut", "10.0.0.1",
	    "API.Example.GO.id:8443", "GET", "/v1/nik/", HEALTH_FP, 0, WED_10,
	    true, false, 0, NULL, NULL, "health", "nik" },
	{ "query string cut", "10.0.0.1", H, "GET", "/v1/nik?x=/y", HEALTH_FP,
	    0, WED_10, true, false, 0, NULL, NULL, "health", "nik" },
	{ "segment boundary: /v1/nikx is no route", "10.0.0.1", H, "GET",
	    "/v1/nikx", HEALTH_FP, 0, WED_10, false, false, 404, "default",
	    "no route", "health", NULL },
	{ "body too large", "10.0.0.1", H, "POST", "/v1/nik", HEALTH_FP, 1025,
	    WED_10, false, false, 413, "nik", "request body too large",
	    "health", "nik" },
	{ "body at the limit", "10.0.0.1", H, "POST", "/v1/nik", HEALTH_FP,
	    1024, WED_10, true, false, 0, NULL, NULL, "health", "nik" },
	{ "no identity", "10.0.0.1", H, "GET", "/v1/nik/1", NOBODY, 0, WED_10,
	    false, false, 401, "nik", "no identity", NULL, "nik" },
	{ "unknown certificate", "10.0.0.1", H, "GET", "/v1/nik/1", STRANGER,
	    0, WED_10, false, false, 401, "nik", "unknown identity", NULL,
	    "nik" },
	{ "wrong API key", "10.0.0.1", H, "GET", "/v1/nik/1", BADKEY, 0,
	    WED_10, false, false, 401, "nik", "unknown identity", NULL,
	    "nik" },
	{ "two credentials, two consumers", "10.0.0.1", H, "GET", "/v1/nik/1",
	    CONFLICT, 0, WED_10, false, false, 401, "default",
	    "conflicting identities", NULL, "nik" },
	{ "tax not in health group", "10.0.0.1", H, "GET", "/v1/nik/1",
	    TAX_SUBJ, 0, WED_10, false, false, 403, "nik",
	    "consumer not allowed on route", "tax", "nik" },
	{ "exact path beats prefix", "10.0.0.1", H, "GET", "/v1/nik/summary",
	    TAX_SAN, 0, WED_10, true, false, 0, NULL, NULL, "tax",
	    "nik-summary" },
	{ "exact path is exact", "10.0.0.1", H, "GET", "/v1/nik/summary/x",
	    TAX_SAN, 0, WED_10, false, false, 403, "nik",
	    "consumer not allowed on route", "tax", "nik" },
	{ "method not on host route: any-host route", "10.0.0.1", H, "HEAD",
	    "/v1/nik/1", TAX_SAN, 0, WED_10, true, false, 0, NULL, NULL,
	    "tax", "nik-any" },
	{ "method on no route", "10.0.0.1", H, "DELETE", "/v1/nik/1",
	    HEALTH_FP, 0, WED_10, false, false, 403, "nik",
	    "method not allowed", "health", "nik" },
	{ "unknown method", "10.0.0.1", H, "BREW", "/v1/nik/1", HEALTH_FP, 0,
	    WED_10, false, false, 403, "nik", "method not allowed", "health",
	    "nik" },
	{ "global deny wins over allow", "10.9.1.1", H, "GET", "/v1/nik/1",
	    HEALTH_FP, 0, WED_10, false, false, 403, "global",
	    "address in deny list", NULL, NULL },
	{ "global allow list", "192.168.1.1", H, "GET", "/v1/nik/1",
	    HEALTH_FP, 0, WED_10, false, false, 403, "global",
	    "address not in allow list", NULL, NULL },
	{ "IPv6 allowed", "2001:db8::5", H, "GET", "/v1/nik/1", HEALTH_FP, 0,
	    WED_10, true, false, 0, NULL, NULL, "health", "nik" },
	{ "IPv6 denied", "2001:db8:dead::1", H, "GET", "/v1/nik/1", HEALTH_FP,
	    0, WED_10, false, false, 403, "global", "address in deny list",
	    NULL, NULL },
	{ "v4-mapped IPv6 is IPv4", "::ffff:10.0.0.1", H, "GET", "/v1/nik/1",
	    HEALTH_FP, 0, WED_10, true, false, 0, NULL, NULL, "health",
	    "nik" },
	{ "no address", NULL, H, "GET", "/v1/nik/1", HEALTH_FP, 0, WED_10,
	    false, false, 403, "global", "no peer address", NULL, NULL },
	{ "route network allow", "10.1.2.3", H, "GET", "/internal/x",
	    HEALTH_FP, 0, WED_10, true, false, 0, NULL, NULL, "health",
	    "internal" },
	{ "route network deny", "10.2.2.3", H, "GET", "/internal/x",
	    HEALTH_FP, 0, WED_10, false, false, 403, "internal",
	    "address not in allow list", "health", "internal" },
	{ "hours: inside", "10.0.0.1", "x", "GET", "/v1/kk/1", TAX_SAN, 0,
	    WED_10, true, false, 0, NULL, NULL, "tax", "kk" },
	{ "hours: after 16:00", "10.0.0.1", "x", "GET", "/v1/kk/1", TAX_SAN,
	    0, WED_17, false, false, 403, "kk", "outside the route's hours",
	    "tax", "kk" },
	{ "hours: saturday", "10.0.0.1", "x", "GET", "/v1/kk/1", TAX_SAN, 0,
	    SAT_10, false, false, 403, "kk", "outside the route's hours",
	    "tax", "kk" },
	{ "disabled consumer", "10.0.0.1", "x", "GET", "/v1/kk", OFF, 0,
	    WED_10, false, false, 403, "off", "consumer disabled", "off",
	    "kk" },
	{ "monitor: would deny, allowed", "10.0.0.1", "x", "GET", "/trial/1",
	    HEALTH_FP, 0, WED_10, true, true, 403, "trial",
	    "consumer not allowed on route", "health", "trial" },
	{ "monitor: no identity still allowed", "10.0.0.1", "x", "GET",
	    "/trial", NOBODY, 0, WED_10, true, true, 401, "trial",
	    "no identity", NULL, "trial" },
	{ "monitor: allowed consumer", "10.0.0.1", "x", "GET", "/trial",
	    TAX_SAN, 0, WED_10, true, false, 0, NULL, NULL, "tax", "trial" },
	{ "public route, no identity", "10.0.0.1", "x", "GET", "/healthz",
	    NOBODY, 0, WED_10, true, false, 0, NULL, NULL, NULL, "healthz" },
	{ "public route names a known consumer", "10.0.0.1", "x", "GET",
	    "/healthz", TAX_SAN, 0, WED_10, true, false, 0, NULL, NULL, "tax",
	    "healthz" },
	{ "public route is exact", "10.0.0.1", "x", "GET", "/healthz/x",
	    NOBODY, 0, WED_10, false, false, 404, "default", "no route", NULL,
	    NULL },
	{ "host-only route: other host", "10.0.0.1", "api.example.go.id",
	    "GET", "/anything", TAX_SAN, 0, WED_10, false, false, 404,
	    "default", "no route", "tax", NULL },
	{ "every-consumer route", "10.0.0.1", "other.example.go.id", "GET",
	    "/anything", TAX_SAN, 0, WED_10, true, false, 0, NULL, NULL,
	    "tax", "root" },
	{ "every-consumer route still needs identity", "10.0.0.1",
	    "other.example.go.id", "GET", "/", NOBODY, 0, WED_10, false,
	    false, 401, "root", "no identity", NULL, "root" },
	{ "path without slash", "10.0.0.1", H, "GET", "v1/nik", HEALTH_FP, 0,
	    WED_10, false, false, 404, "default", "no route", "health", NULL },
	{ "empty segment is not normalised", "10.0.0.1", H, "GET",
	    "/v1//nik", HEALTH_FP, 0, WED_10, false, false, 404, "default",
	    "no route", "health", NULL },
};

static void
test_table(void **state)
{
	struct pol_request req;
	struct pol_decision dec;
	struct pt_addr a;
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *w = &rows[i];

		pt_req(&req, &a, w->ip, w->host, w->method, w->path);
		set_who(&req, w->who);
		req.body_len = w->body;
		req.now = w->now;
		assert_int_equal(pol_decide(set, NULL, &req, &dec), 0);
#define STREQ(x, y) ((x) == NULL ? (y) == NULL : (y) != NULL && \
	strcmp((x), (y)) == 0)
		if (dec.allow != w->allow || dec.would_deny != w->would_deny ||
		    dec.status != w->status ||
		    (w->rule && !STREQ(w->rule, dec.rule)) ||
		    !STREQ(w->reason, dec.reason) ||
		    !STREQ(w->consumer, dec.consumer) ||
		    !STREQ(w->route, dec.route)) {
			fprintf(stderr, "row %zu \"%s\": got allow=%d "
			    "would_deny=%d status=%d rule=%s reason=%s "
			    "consumer=%s route=%s\n", i, w->name, dec.allow,
			    dec.would_deny, dec.status, dec.rule, dec.reason,
			    dec.consumer, dec.route);
			bad++;
		}
		if (dec.allow)
			assert_non_null(dec.upstream);
		/* The route's body limit, for bodies of undeclared length;
		   none where only a monitor would deny. */
		if (dec.allow && !dec.would_deny && STREQ(dec.route, "nik"))
			assert_int_equal(dec.max_body, 1024);
		if (dec.would_deny)
			assert_int_equal(dec.max_body, 0);
	}
	assert_int_equal(bad, 0);
}

static void
test_quotas_and_upstream(void **state)
{
	struct pol_request req;
	struct pol_decision dec;
	struct pt_addr a;

	(void)state;
	pt_req(&req, &a, "10.0.0.1", H, "GET", "/v1/nik/summary");
	set_who(&req, TAX_SAN);
	assert_int_equal(pol_decide(set, NULL, &req, &dec), 0);
	assert_string_equal(dec.upstream, "pajak");
	assert_int_equal(dec.nquotas, 0);
	pt_req(&req, &a, "10.0.0.1", H, "GET", "/v1/nik/1");
	set_who(&req, HEALTH_FP);
	assert_int_equal(pol_decide(set, NULL, &req, &dec), 0);
	assert_true(dec.allow);
	assert_string_equal(dec.upstream, "dukcapil");
	assert_int_equal(dec.nquotas, 1);
	assert_int_equal(dec.quotas[0].type, POL_ID_NIK);
	assert_int_equal(dec.quotas[0].max, 100);
	assert_int_equal(dec.quotas[0].window_ms, 86400000);
	assert_int_equal(dec.quotas[0].action, POL_QA_BLOCK);
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t
xr(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Random but plausible requests: properties hold for every one. */
static void
random_req(struct pol_request *req, struct pt_addr *a, char *ip, char *path)
{
	static const char *const hosts[] = { H, "other.example.go.id", "x",
	    NULL, "API.EXAMPLE.GO.ID:1" };
	static const char *const methods[] = { "GET", "POST", "HEAD", "PUT",
	    "DELETE", "BREW", NULL };
	static const char *const paths[] = { "/v1/nik", "/v1/nik/summary",
	    "/v1/kk", "/internal", "/trial", "/healthz", "/", "/v1",
	    "/v2/x" };

	snprintf(ip, 64, xr() % 5 == 0 ? "2001:db8::%x" : "10.%u.%u.%u",
	    (unsigned)(xr() % 12), (unsigned)(xr() % 3),
	    (unsigned)(xr() % 255));
	snprintf(path, 128, "%s%s", paths[xr() % 9], xr() % 2 ? "/7" : "");
	pt_req(req, a, ip, hosts[xr() % 5], methods[xr() % 7], path);
	set_who(req, (enum who)(xr() % 9));
	req->body_len = xr() % 2048;
	req->now = WED_10 + (time_t)(xr() % (7 * 86400));
}

static void
test_properties(void **state)
{
	struct pol_set *mon;
	struct pol_request req;
	struct pol_decision dec, mdec;
	struct pt_addr a;
	char ip[64], path[128], *mtext;
	size_t i, allowed = 0;
	const char *p;

	(void)state;
	/* The same policy in monitor mode. */
	mtext = malloc(sizeof(policy) + 64);
	assert_non_null(mtext);
	p = strstr(policy, "timezone");
	snprintf(mtext, sizeof(policy) + 64, "settings: { mode: monitor, %s",
	    p);
	mon = pt_load(mtext, NULL);
	for (i = 0; i < 20000; i++) {
		random_req(&req, &a, ip, path);
		assert_int_equal(pol_decide(set, NULL, &req, &dec), 0);
		assert_int_equal(pol_decide(mon, NULL, &req, &mdec), 0);
		/* Default deny: allowed only with a route and upstream. */
		if (dec.allow) {
			allowed++;
			assert_non_null(dec.route);
			assert_non_null(dec.upstream);
			if (!dec.would_deny)
				assert_int_equal(dec.status, 0);
			/* Unknown consumer: only public routes or monitor. */
			if (dec.consumer == NULL)
				assert_true(strcmp(dec.route, "healthz") == 0 ||
				    dec.would_deny);
		} else {
			assert_true(dec.status >= 400);
			assert_non_null(dec.reason);
		}
		/* An unknown or absent identity never reaches a private
		 * route in enforce mode. */
		if (req.cert_sha256 == fp_other || (req.api_key_len == 4 &&
		    req.api_key[0] == 't' && req.api_key[1] == 's'))
			assert_true(!dec.allow || dec.would_deny ||
			    strcmp(dec.route, "healthz") == 0);
		/* Monitor never denies a request that has a route. */
		if (!mdec.allow)
			assert_true(mdec.status == 404 ||
			    strcmp(mdec.reason, "method not allowed") == 0);
		/* What enforce allows, monitor allows the same way. */
		if (dec.allow && !dec.would_deny)
			assert_true(mdec.allow && !mdec.would_deny);
		/* Monitor agrees with enforce on what it would deny. */
		if (mdec.allow && !dec.allow && dec.route != NULL)
			assert_true(mdec.would_deny);
	}
	assert_true(allowed > 100);
	pol_set_free(mon);
	free(mtext);
}

static void
test_explain(void **state)
{
	struct pol_request req;
	struct pt_addr a;
	struct gb_buf out;
	const char *s;

	(void)state;
	gb_buf_init(&out, 1 << 16);
	pt_req(&req, &a, "10.0.0.1", H, "GET", "/v1/nik/1");
	set_who(&req, TAX_SAN);
	req.now = WED_10;
	assert_int_equal(pol_explain(set, NULL, &req, &out), 0);
	s = gb_buf_cstr(&out);
	assert_non_null(strstr(s, "decision: deny 403 (nik: consumer not "
	    "allowed on route)\n"));
	assert_non_null(strstr(s, "consumer: tax\nroute: nik\n"
	    "upstream: dukcapil\n"));
	assert_non_null(strstr(s, "global network: 10.0.0.1 in allow list "
	    "(10.0.0.0/8)\n"));
	assert_non_null(strstr(s, "identity: certificate SAN is consumer "
	    "\"tax\"\n"));
	assert_non_null(strstr(s, "route: \"nik\" (host api.example.go.id, "
	    "prefix /v1/nik, GET,POST) -> upstream \"dukcapil\"\n"));
	assert_non_null(strstr(s, "nik access: consumer \"tax\" is not "
	    "allowed\n  -> deny 403"));

	gb_buf_reset(&out);
	pt_req(&req, &a, "10.9.0.1", "x", "GET", "/v1/kk/1");
	set_who(&req, TAX_SAN);
	req.now = SAT_10;
	assert_int_equal(pol_explain(set, NULL, &req, &out), 0);
	s = gb_buf_cstr(&out);
	assert_non_null(strstr(s, "global network: 10.9.0.1 in deny list "
	    "(10.9.0.0/16)\n"));

	gb_buf_reset(&out);
	pt_req(&req, &a, "10.0.0.1", "x", "GET", "/v1/kk/1");
	set_who(&req, TAX_SAN);
	req.now = SAT_10;
	assert_int_equal(pol_explain(set, NULL, &req, &out), 0);
	s = gb_buf_cstr(&out);
	assert_non_null(strstr(s, "kk hours: sat 10:00 Asia/Jakarta is "
	    "outside every window\n"));

	gb_buf_reset(&out);
	pt_req(&req, &a, "10.0.0.1", "x", "GET", "/trial");
	set_who(&req, HEALTH_FP);
	assert_int_equal(pol_explain(set, NULL, &req, &out), 0);
	s = gb_buf_cstr(&out);
	assert_non_null(strstr(s, "decision: monitor 403 (trial: consumer "
	    "not allowed on route)\n"));
	assert_non_null(strstr(s, "would deny 403"));

	/* Too small a buffer: -1, never an overflow. */
	gb_buf_free(&out);
	gb_buf_init(&out, 32);
	assert_int_equal(pol_explain(set, NULL, &req, &out), -1);
	gb_buf_free(&out);
}

static void
test_bad_args(void **state)
{
	struct pol_request req;
	struct pol_decision dec;
	struct pol_state *st;
	struct pol_set *other;
	struct pt_addr a;

	(void)state;
	pt_req(&req, &a, "10.0.0.1", H, "GET", "/v1/nik");
	assert_int_equal(pol_decide(NULL, NULL, &req, &dec), -1);
	assert_false(dec.allow);
	assert_int_equal(dec.status, 403);
	assert_int_equal(pol_decide(set, NULL, NULL, &dec), -1);
	assert_false(dec.allow);
	assert_int_equal(pol_decide(set, NULL, &req, NULL), -1);
	/* A state bound to another set is refused. */
	other = pt_load("routes: []\n", NULL);
	assert_int_equal(pol_state_new(0, &st), 0);
	assert_int_equal(pol_state_rebind(st, other), 0);
	assert_int_equal(pol_decide(set, st, &req, &dec), -1);
	assert_false(dec.allow);
	assert_int_equal(pol_state_rebind(st, set), 0);
	assert_int_equal(pol_decide(set, st, &req, &dec), 0);
	pol_state_free(st);
	pol_set_free(other);
}

static void
test_empty_policy_denies(void **state)
{
	struct pol_set *empty;
	struct pol_request req;
	struct pol_decision dec;
	struct pt_addr a;

	(void)state;
	empty = pt_load("", NULL);
	pt_req(&req, &a, "10.0.0.1", H, "GET", "/");
	assert_int_equal(pol_decide(empty, NULL, &req, &dec), 0);
	assert_false(dec.allow);
	assert_int_equal(dec.status, 404);
	pol_set_free(empty);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_quotas_and_upstream),
		cmocka_unit_test(test_properties),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_empty_policy_denies),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
