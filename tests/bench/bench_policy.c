/*
 * bench_policy: decisions per second of policy/ on one core, and the load
 * time of a large generated policy: 1,000 consumers (a certificate
 * fingerprint and an API key each), 1,000 routes on one host and 100,000
 * CIDRs (global allow list, IPv4 and IPv6). Prints figures; asserts
 * nothing about time. Build and run with tests/bench/bench_policy.sh.
 *
 * usage: bench_policy [decisions]
 */
#include <arpa/inet.h>
#include <openssl/sha.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/gb_buf.h"
#include "core/gb_diag.h"
#include "core/gb_util.h"
#include "policy/pol.h"

#define NCONS	1000
#define NROUTES	1000
#define NCIDR	100000
#define NREQ	4096

static uint32_t nets[NCIDR];	/* the IPv4 /24s of the allow list */
static size_t nnets;

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
xr(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
fp_of(unsigned c, uint8_t fp[32])
{
	unsigned i;

	for (i = 0; i < 32; i++)
		fp[i] = (uint8_t)(c * 31 + i * 7);
	fp[0] = (uint8_t)c;
	fp[1] = (uint8_t)(c >> 8);
}

struct req {
	struct sockaddr_in	 sa;
	char			 path[48];
	char			 key[32];
	uint8_t			 fp[32];
};

static double
run(const struct pol_set *set, struct pol_state *st, struct req *rq,
    size_t n, bool use_key, size_t *allowed)
{
	struct pol_request r;
	struct pol_decision d;
	uint64_t t0, t1;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.host = "api.example.go.id";
	r.host_len = strlen(r.host);
	r.method = "GET";
	r.method_len = 3;
	r.now = 1704250800;
	*allowed = 0;
	t0 = gb_now_ns();
	for (i = 0; i < n; i++) {
		struct req *q = &rq[i % NREQ];

		r.addr = (const struct sockaddr *)&q->sa;
		r.path = q->path;
		r.path_len = strlen(q->path);
		if (use_key) {
			r.api_key = q->key;
			r.api_key_len = strlen(q->key);
		} else
			r.cert_sha256 = q->fp;
		r.now_ms = 1000 + i / 1000;
		pol_decide(set, st, &r, &d);
		*allowed += d.allow;
	}
	t1 = gb_now_ns();
	return (double)(t1 - t0) / (double)n;
}

int
main(int argc, char *argv[])
{
	size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 5000000, i, ok;
	char path[] = "/tmp/bench-policy-XXXXXX";
	struct pol_set *set = NULL;
	struct pol_state *st;
	struct gb_diags d;
	struct req *rq;
	uint8_t fp[32], h[32];
	char hex[65], key[32];
	uint64_t t0, t1;
	double ns;
	FILE *fp_out;
	int fd;

	if ((fd = mkstemp(path)) == -1 || (fp_out = fdopen(fd, "w")) == NULL)
		return 1;
	fprintf(fp_out, "settings: { mode: enforce }\nnetwork:\n  allow:\n");
	for (i = 0; i < NCIDR; i++) {
		uint64_t x = xr();

		if (i % 10 == 9)
			fprintf(fp_out, "    - '2001:db8:%x:%x::/64'\n",
			    (unsigned)(x & 0xffff), (unsigned)(x >> 16 & 0xffff));
		else if (i % 2) {
			fprintf(fp_out, "    - 10.%u.%u.0/24\n",
			    (unsigned)(x % 256), (unsigned)(x >> 8) % 256);
			nets[nnets++] = 0x0a000000u | (uint32_t)(x % 256) << 16 |
			    (uint32_t)((x >> 8) % 256) << 8;
		}
		else
			fprintf(fp_out, "    - %u.%u.%u.%u\n",
			    (unsigned)(11 + x % 200), (unsigned)(x >> 8) % 256,
			    (unsigned)(x >> 16) % 256, (unsigned)(x >> 24) % 256);
	}
	fprintf(fp_out, "consumers:\n");
	for (i = 0; i < NCONS; i++) {
		fp_of((unsigned)i, fp);
		gb_hex(hex, fp, 32);
		fprintf(fp_out, "  - id: agency-%zu\n    groups: [g%zu]\n"
		    "    identities:\n      - cert_sha256: '%s'\n", i, i % 50,
		    hex);
		snprintf(key, sizeof(key), "key-%zu-secret", i);
		SHA256((const unsigned char *)key, strlen(key), h);
		gb_hex(hex, h, 32);
		fprintf(fp_out, "      - api_key_sha256: %s\n"
		    "    rate_limit: { rps: 1000000, burst: 10000000 }\n", hex);
	}
	fprintf(fp_out, "routes:\n");
	for (i = 0; i < NROUTES; i++)
		fprintf(fp_out, "  - id: route-%zu\n    host: api.example.go.id\n"
		    "    prefix: /svc%zu/v1\n    methods: [GET, POST]\n"
		    "    upstream: up%zu\n    groups: [g%zu]\n"
		    "    rate_limit: { rps: 1000000, burst: 10000000, "
		    "per_day: 1000000000 }\n", i, i, i % 10, i % 50);
	fclose(fp_out);

	gb_diags_init(&d, 0);
	t0 = gb_now_ns();
	if (pol_set_load(path, NULL, &set, &d) != 0) {
		gb_diags_print(&d, stderr);
		return 1;
	}
	t1 = gb_now_ns();
	printf("policy: %d consumers, %d routes, %d CIDRs\n", NCONS,
	    NROUTES, NCIDR);
	printf("load: %.1f ms\n", (double)(t1 - t0) / 1e6);
	unlink(path);

	/* Requests: a consumer on a route of its group, from an address of
	 * the allow list (every tenth from outside: denied). */
	rq = calloc(NREQ, sizeof(*rq));
	for (i = 0; i < NREQ; i++) {
		unsigned c = (unsigned)(xr() % NCONS);
		unsigned r = (unsigned)((xr() % (NROUTES / 50)) * 50 + c % 50);

		rq[i].sa.sin_family = AF_INET;
		rq[i].sa.sin_addr.s_addr = htonl(i % 10 == 9 ? 0xc0000201 :
		    nets[xr() % nnets] | (uint32_t)(xr() & 0xff));
		snprintf(rq[i].path, sizeof(rq[i].path), "/svc%u/v1/items/%u",
		    r, (unsigned)(xr() % 100000));
		snprintf(rq[i].key, sizeof(rq[i].key), "key-%u-secret", c);
		fp_of(c, rq[i].fp);
	}
	pol_state_new(0, &st);
	pol_state_rebind(st, set);
	run(set, st, rq, NREQ * 4, false, &ok);		/* warm up */
	ns = run(set, st, rq, n, false, &ok);
	printf("decide (certificate fingerprint): %.0f ns/decision, "
	    "%.2f M decisions/s, %.1f%% allowed\n", ns, 1e3 / ns,
	    100.0 * (double)ok / (double)n);
	ns = run(set, st, rq, n / 4, true, &ok);
	printf("decide (API key, SHA-256 per request): %.0f ns/decision, "
	    "%.2f M decisions/s, %.1f%% allowed\n", ns, 1e3 / ns,
	    100.0 * (double)ok / (double)(n / 4));
	ns = run(set, NULL, rq, n, false, &ok);
	printf("decide (no rate-limit state): %.0f ns/decision, "
	    "%.2f M decisions/s\n", ns, 1e3 / ns);
	pol_state_free(st);
	pol_set_free(set);
	gb_diags_free(&d);
	free(rq);
	return 0;
}
