/*
 * Fuzz target for policy/pol_load.c (and pol_decide.c on what loads): load
 * the bytes as a policy from memory with a known upstream list; when it
 * loads, decide a few fixed requests and explain one, checking the
 * decision invariants. Any failed invariant aborts.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gb_buf.h"
#include "core/gb_diag.h"
#include "policy/pol.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do {						\
	if (!(c)) {							\
		fprintf(stderr, "fuzz_policy: %s:%d: invariant failed: %s\n", \
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

static void
one(const struct pol_set *set, struct pol_state *st, const char *ip,
    const char *path, const char *san)
{
	static const uint8_t fp[32] = { 1, 2, 3 };
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	struct pol_request req;
	struct pol_decision d;

	memset(&req, 0, sizeof(req));
	memset(&s4, 0, sizeof(s4));
	memset(&s6, 0, sizeof(s6));
	if (inet_pton(AF_INET, ip, &s4.sin_addr) == 1) {
		s4.sin_family = AF_INET;
		req.addr = (const struct sockaddr *)&s4;
	} else if (inet_pton(AF_INET6, ip, &s6.sin6_addr) == 1) {
		s6.sin6_family = AF_INET6;
		req.addr = (const struct sockaddr *)&s6;
	}
	req.host = "api.example.go.id";
	req.host_len = strlen(req.host);
	req.path = path;
	req.path_len = strlen(path);
	req.method = "GET";
	req.method_len = 3;
	req.cert_san = san;
	req.cert_sha256 = fp;
	req.api_key = "test";
	req.api_key_len = 4;
	req.now = 1704250800;
	req.now_ms = 1000;
	CHECK(pol_decide(set, st, &req, &d) == 0);
	CHECK(d.allow || d.status >= 400);
	CHECK(!d.allow || d.route != NULL);
	CHECK(!d.allow || d.upstream != NULL);
	CHECK(d.allow || d.reason != NULL);
	CHECK(!d.would_deny || d.allow);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ups[] = { "dukcapil", "pajak", "u", NULL };
	struct pol_load_opts o = { .upstreams = ups };
	struct pol_set *set = NULL;
	struct pol_state *st;
	struct pol_request req;
	struct gb_diags d;
	struct gb_buf out;
	int rc;

	gb_diags_init(&d, 0);
	rc = pol_set_load_mem("fuzz.yaml", data, size, &o, &set, &d);
	CHECK(rc == 0 || rc == -1);
	CHECK(rc == 0 ? set != NULL : set == NULL);
	CHECK(rc == 0 || d.nerrors + d.dropped > 0);
	CHECK(d.nerrors <= GB_DIAG_MAX_ERRORS);
	if (set != NULL) {
		CHECK(pol_state_new(0, &st) == 0);
		CHECK(pol_state_rebind(st, set) == 0);
		one(set, st, "10.0.0.1", "/v1/nik/1", "c");
		one(set, st, "2001:db8::1", "/", NULL);
		one(set, st, "10.0.0.1", "/healthz", "tax.example.go.id");
		one(set, NULL, "192.0.2.1", "/v1/kk/", "c1");
		memset(&req, 0, sizeof(req));
		req.path = "/v1";
		req.path_len = 3;
		gb_buf_init(&out, 1 << 16);
		pol_explain(set, st, &req, &out);
		gb_buf_free(&out);
		pol_state_free(st);
	}
	pol_set_free(set);
	gb_diags_free(&d);
	return 0;
}
