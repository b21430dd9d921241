/*
 * Helpers shared by the policy unit tests: load a policy from a string and
 * build requests. Header-only; tests include it after cmocka.h.
 */
#ifndef POL_TEST_H
#define POL_TEST_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "core/gb_diag.h"
#include "policy/pol.h"

/* Load text or fail the test printing its diagnostics. */
static inline struct pol_set *
pt_load(const char *text, const struct pol_load_opts *o)
{
	struct pol_set *set = NULL;
	struct gb_diags d;

	gb_diags_init(&d, 0);
	if (pol_set_load_mem("t.yaml", text, strlen(text), o, &set, &d) != 0)
		gb_diags_print(&d, stderr);
	gb_diags_free(&d);
	assert_non_null(set);
	return set;
}

struct pt_addr {
	struct sockaddr_storage ss;
};

static inline const struct sockaddr *
pt_sa(struct pt_addr *a, const char *ip)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)&a->ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)&a->ss;

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
		s6->sin6_family = AF_INET6;
	}
	return (const struct sockaddr *)&a->ss;
}

/* A request: NULL strings stay NULL. */
static inline void
pt_req(struct pol_request *r, struct pt_addr *a, const char *ip,
    const char *host, const char *method, const char *path)
{
	memset(r, 0, sizeof(*r));
	r->addr = ip ? pt_sa(a, ip) : NULL;
	r->host = host;
	r->host_len = host ? strlen(host) : 0;
	r->method = method;
	r->method_len = method ? strlen(method) : 0;
	r->path = path;
	r->path_len = path ? strlen(path) : 0;
}

#endif /* POL_TEST_H */
