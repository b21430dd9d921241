/*
 * libFuzzer target for core/gb_http.c: request and response heads in both
 * modes (also fed in pieces with the last_len hint), the chunked decoder
 * at arbitrary splits, and path normalisation. Beyond "no crash" it checks:
 * every slice lies inside the input; consumed <= len; what STRICT accepts
 * LENIENT accepts with the same framing; the hint never changes a result;
 * a result reached on a prefix is the result for the whole input; chunked
 * output does not depend on how the input is split; normalised paths are
 * canonical and normalising them again changes nothing.
 */
#include "core/gb_http.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NHDRS	64

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do {						\
	if (!(x)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #x);					\
		abort();						\
	}								\
} while (0)

static const struct gb_http_limits small_lim = { 64, 40, 6, 200 };

static void
in_range(const char *buf, size_t len, const char *p, size_t n)
{
	if (p == NULL) {
		CHECK(n == 0);
		return;
	}
	CHECK(p >= buf && p <= buf + len && n <= (size_t)(buf + len - p));
}

static void
check_headers(const char *buf, size_t head, const struct gb_http_header *h,
    size_t n)
{
	size_t i;

	CHECK(n <= NHDRS);
	for (i = 0; i < n; i++) {
		CHECK(h[i].name_len > 0);
		in_range(buf, head, h[i].name, h[i].name_len);
		in_range(buf, head, h[i].value, h[i].value_len);
	}
}

static ssize_t
request(const char *buf, size_t len, enum gb_http_mode mode,
    const struct gb_http_limits *lim, struct gb_http_req *req,
    struct gb_http_header *hdrs, size_t last)
{
	ssize_t r;

	req->headers = hdrs;
	req->max_headers_cap = NHDRS;
	r = gb_http_parse_request_resume(buf, len, req, lim, mode, last);
	CHECK(r >= -1 && r <= (ssize_t)len);
	if (r > 0) {
		size_t head = (size_t)r;

		CHECK(req->status == 0 && req->error == NULL);
		in_range(buf, head, req->method, req->method_len);
		in_range(buf, head, req->target, req->target_len);
		in_range(buf, head, req->authority, req->authority_len);
		in_range(buf, head, req->host, req->host_len);
		CHECK(req->method_len > 0 && req->target_len > 0);
		check_headers(buf, head, hdrs, req->nheaders);
		CHECK(req->body != GB_HTTP_BODY_CLOSE);
		CHECK(req->body != GB_HTTP_BODY_LENGTH ||
		    req->content_length > 0);
		if (mode == GB_HTTP_STRICT) {
			CHECK(req->version_major == 1);
			CHECK(req->version_minor == 0 ||
			    req->version_minor == 1);
			CHECK((req->flags & GB_HTTP_F_ANOMALY) == 0);
		}
	} else if (r < 0) {
		CHECK(req->error != NULL);
		CHECK(req->status == 400 || req->status == 414 ||
		    req->status == 431 || req->status == 501 ||
		    req->status == 505);
	}
	return r;
}

static ssize_t
response(const char *buf, size_t len, enum gb_http_mode mode,
    const struct gb_http_limits *lim, enum gb_http_method m,
    struct gb_http_resp *resp, struct gb_http_header *hdrs, size_t last)
{
	ssize_t r;

	resp->headers = hdrs;
	resp->max_headers_cap = NHDRS;
	r = gb_http_parse_response_resume(buf, len, resp, lim, mode, m,
	    last);
	CHECK(r >= -1 && r <= (ssize_t)len);
	if (r > 0) {
		CHECK(resp->error == NULL);
		CHECK(resp->status >= 100 && resp->status <= 599);
		in_range(buf, (size_t)r, resp->reason, resp->reason_len);
		check_headers(buf, (size_t)r, hdrs, resp->nheaders);
		CHECK(resp->body != GB_HTTP_BODY_CLOSE ||
		    (resp->flags & GB_HTTP_F_KEEPALIVE) == 0);
	} else if (r < 0)
		CHECK(resp->error != NULL);
	return r;
}

/*
 * Feed growing prefixes (steps taken from the input) with and without the
 * hint, each in an exactly sized copy so an over-read is caught. Both must
 * agree at every step, and the first decided result must be the result for
 * the whole input.
 */
static void
incremental(const uint8_t *data, size_t size, enum gb_http_mode mode,
    const struct gb_http_limits *lim, int is_req, ssize_t whole,
    int whole_status)
{
	struct gb_http_header h1[NHDRS], h2[NHDRS];
	struct gb_http_req q1, q2;
	struct gb_http_resp s1, s2;
	size_t k = 0, last = 0;
	ssize_t r1, r2;
	char *copy;

	while (k < size) {
		k += 1 + (data[k] & 7);
		if (k > size)
			k = size;
		copy = malloc(k);
		CHECK(copy != NULL);
		memcpy(copy, data, k);
		if (is_req) {
			r1 = request(copy, k, mode, lim, &q1, h1, last);
			r2 = request(copy, k, mode, lim, &q2, h2, 0);
			CHECK(q1.status == q2.status && q1.error == q2.error);
			if (r1 != 0)
				CHECK(whole_status == q1.status);
		} else {
			r1 = response(copy, k, mode, lim, GB_HTTP_GET, &s1, h1,
			    last);
			r2 = response(copy, k, mode, lim, GB_HTTP_GET, &s2, h2,
			    0);
			CHECK(s1.error == s2.error);
			CHECK(r1 <= 0 || s1.status == s2.status);
		}
		free(copy);
		CHECK(r1 == r2);
		if (r1 != 0) {
			CHECK(r1 == whole);
			return;
		}
		last = k;
	}
	CHECK(whole == 0);
}

static void
fuzz_heads(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	const struct gb_http_limits *lims[2] = { NULL, &small_lim };
	struct gb_http_header hs[NHDRS], hl[NHDRS];
	struct gb_http_req rs, rl;
	struct gb_http_resp ps, pl;
	enum gb_http_method m = (enum gb_http_method)(size % 10);
	ssize_t a, b;
	int i;

	for (i = 0; i < 2; i++) {
		a = request(buf, size, GB_HTTP_STRICT, lims[i], &rs, hs, 0);
		b = request(buf, size, GB_HTTP_LENIENT, lims[i], &rl, hl, 0);
		if (a > 0) {
			CHECK(b == a);
			CHECK(rs.body == rl.body);
			CHECK(rs.content_length == rl.content_length);
			CHECK(rs.flags == rl.flags);
			CHECK(rs.method_id == rl.method_id);
			CHECK(rs.form == rl.form);
			CHECK(rs.nheaders == rl.nheaders);
		}
		if (size <= 4096) {
			incremental(data, size, GB_HTTP_STRICT, lims[i], 1, a,
			    rs.status);
			incremental(data, size, GB_HTTP_LENIENT, lims[i], 1, b,
			    rl.status);
		}

		a = response(buf, size, GB_HTTP_STRICT, lims[i], m, &ps, hs, 0);
		b = response(buf, size, GB_HTTP_LENIENT, lims[i], m, &pl, hl,
		    0);
		if (a > 0) {
			CHECK(b == a);
			CHECK(ps.status == pl.status);
			CHECK(ps.body == pl.body);
			CHECK(ps.content_length == pl.content_length);
			CHECK(ps.flags == pl.flags);
		}
		if (size <= 4096) {
			a = response(buf, size, GB_HTTP_STRICT, lims[i],
			    GB_HTTP_GET, &ps, hs, 0);
			incremental(data, size, GB_HTTP_STRICT, lims[i], 0, a,
			    0);
		}
	}
}

/*
 * Decode with pieces whose sizes come from a small generator seeded by
 * seed (0: all at once). Body bytes go to out; returns the final result.
 */
static int
chunked(const uint8_t *data, size_t size, enum gb_http_mode mode,
    uint32_t seed, char *out, size_t *outn, size_t *used)
{
	struct gb_http_chunked c;
	size_t off = 0, piece, consumed, dlen;
	const char *d;
	char *copy;
	int r = 0;

	gb_http_chunked_init(&c, mode);
	*outn = 0;
	while (off < size) {
		piece = size - off;
		if (seed != 0) {
			seed = seed * 1103515245u + 12345u;
			piece = 1 + (seed >> 16) % 17;
			if (piece > size - off)
				piece = size - off;
		}
		copy = malloc(piece);
		CHECK(copy != NULL);
		memcpy(copy, data + off, piece);
		r = gb_http_chunked_next(&c, copy, piece, &consumed, &d, &dlen);
		CHECK(consumed <= piece);
		in_range(copy, consumed, d, dlen);
		if (d != NULL) {
			CHECK(d + dlen == copy + consumed);
			memcpy(out + *outn, d, dlen);
			*outn += dlen;
		}
		free(copy);
		off += consumed;
		if (r != 0)
			break;
		CHECK(consumed > 0);
	}
	CHECK(r == -1 || c.total == *outn);
	CHECK(r != -1 || c.error != NULL);
	*used = off;
	return r;
}

static void
fuzz_chunked(const uint8_t *data, size_t size)
{
	char *o1, *o2;
	size_t n1, n2, u1, u2;
	uint32_t seed;
	int r1, r2, mode;

	o1 = malloc(size + 1);
	o2 = malloc(size + 1);
	CHECK(o1 != NULL && o2 != NULL);
	seed = 0x9e3779b9u ^ (uint32_t)size;
	for (mode = 0; mode < 2; mode++) {
		r1 = chunked(data, size, (enum gb_http_mode)mode, 0, o1, &n1,
		    &u1);
		r2 = chunked(data, size, (enum gb_http_mode)mode, seed, o2, &n2,
		    &u2);
		CHECK(r1 == r2);
		if (r1 >= 0) {
			CHECK(u1 == u2 && n1 == n2);
			CHECK(memcmp(o1, o2, n1) == 0);
		}
		if (mode == GB_HTTP_STRICT && r1 == 1) {
			/* LENIENT frames it the same */
			r2 = chunked(data, size, GB_HTTP_LENIENT, 0, o2, &n2,
			    &u2);
			CHECK(r2 == 1 && u2 == u1 && n2 == n1);
			CHECK(memcmp(o1, o2, n1) == 0);
		}
	}
	free(o1);
	free(o2);
}

static void
check_canonical(const char *p, size_t n)
{
	size_t i;

	CHECK(n >= 1 && p[0] == '/' && strlen(p) == n);
	CHECK(strstr(p, "//") == NULL);
	CHECK(strstr(p, "/./") == NULL && strstr(p, "/../") == NULL);
	CHECK(!(n >= 2 && strcmp(p + n - 2, "/.") == 0));
	CHECK(!(n >= 3 && strcmp(p + n - 3, "/..") == 0));
	for (i = 0; i < n; i++) {
		if (p[i] != '%')
			continue;
		CHECK(i + 2 < n);
		CHECK(!(p[i + 1] == '2' && p[i + 2] == 'F'));
		CHECK(!(p[i + 1] == '5' && p[i + 2] == 'C'));
		CHECK(!(p[i + 1] == '0' && p[i + 2] == '0'));
		CHECK(p[i + 1] < 'a' && p[i + 2] < 'a');
	}
}

static void
fuzz_path(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *q, *q2, *err;
	char *out, *again;
	size_t outn, qn, n2, q2n;

	out = malloc(size + 1);
	again = malloc(size + 1);
	CHECK(out != NULL && again != NULL);
	if (gb_http_path_normalize(buf, size, out, size + 1, &outn, &q, &qn,
	    &err) == 0) {
		CHECK(outn <= size);
		check_canonical(out, outn);
		in_range(buf, size, q, qn);
		CHECK(q == NULL || q + qn == buf + size);
		CHECK(gb_http_path_normalize(out, outn, again, outn + 1, &n2,
		    &q2, &q2n, &err) == 0);
		CHECK(n2 == outn && memcmp(out, again, n2) == 0);
	} else
		CHECK(err != NULL);
	free(out);
	free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_heads(data, size);
	fuzz_chunked(data, size);
	fuzz_path(data, size);
	return 0;
}
