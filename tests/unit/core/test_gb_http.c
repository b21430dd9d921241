/*
 * Unit tests for core/gb_http.c. Every parser input is copied to the end of
 * a mapping whose next page is PROT_NONE, so reading one byte too far
 * crashes (picohttpparser test.c).
 */
#include "core/gb_http.h"

#include <sys/mman.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GUARD_AREA	(256 * 1024)
#define NHDRS		128

static char *guard_mem;
static size_t guard_page;
static struct gb_http_header hdrs[NHDRS];

static int
guard_setup(void **state)
{
	(void)state;
	guard_page = (size_t)sysconf(_SC_PAGESIZE);
	guard_mem = mmap(NULL, GUARD_AREA + guard_page, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard_mem == MAP_FAILED)
		return -1;
	return mprotect(guard_mem + GUARD_AREA, guard_page, PROT_NONE);
}

static int
guard_teardown(void **state)
{
	(void)state;
	munmap(guard_mem, GUARD_AREA + guard_page);
	return 0;
}

/* Copy s[0..n) so that it ends right before the PROT_NONE page. */
static const char *
at_guard(const void *s, size_t n)
{
	char *dst;

	assert_true(n <= GUARD_AREA);
	dst = guard_mem + GUARD_AREA - n;
	memmove(dst, s, n);
	return dst;
}

static void
assert_slice(const char *p, size_t n, const char *want)
{
	if (want == NULL) {
		assert_null(p);
		assert_int_equal(n, 0);
		return;
	}
	assert_non_null(p);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(p, want, n);
}

static ssize_t
parse_req(const char *s, size_t n, struct gb_http_req *req,
    enum gb_http_mode mode, const struct gb_http_limits *lim)
{
	req->headers = hdrs;
	req->max_headers_cap = NHDRS;
	return gb_http_parse_request(at_guard(s, n), n, req, lim, mode);
}

static ssize_t
parse_resp(const char *s, size_t n, struct gb_http_resp *resp,
    enum gb_http_mode mode, enum gb_http_method m,
    const struct gb_http_limits *lim)
{
	resp->headers = hdrs;
	resp->max_headers_cap = NHDRS;
	return gb_http_parse_response(at_guard(s, n), n, resp, lim, mode, m);
}

/*
 * Feed s one byte at a time with the last_len hint; every step must agree
 * with a full parse of the same prefix. Returns the first non-zero result
 * (or 0) and the status of that step.
 */
static ssize_t
feed_req(const char *s, size_t n, enum gb_http_mode mode,
    const struct gb_http_limits *lim, int *status)
{
	struct gb_http_req a, b;
	ssize_t ra = 0, rb;
	size_t k, last = 0;

	*status = 0;
	for (k = 1; k <= n; k++) {
		const char *p = at_guard(s, k);

		a.headers = b.headers = hdrs;
		a.max_headers_cap = b.max_headers_cap = NHDRS;
		ra = gb_http_parse_request_resume(p, k, &a, lim, mode, last);
		rb = gb_http_parse_request(p, k, &b, lim, mode);
		assert_int_equal(ra, rb);
		assert_int_equal(a.status, b.status);
		assert_ptr_equal(a.error, b.error);
		if (ra != 0) {
			*status = a.status;
			return ra;
		}
		last = k;
	}
	return ra;
}

static ssize_t
feed_resp(const char *s, size_t n, enum gb_http_mode mode,
    enum gb_http_method m)
{
	struct gb_http_resp a, b;
	ssize_t ra = 0, rb;
	size_t k, last = 0;

	for (k = 1; k <= n; k++) {
		const char *p = at_guard(s, k);

		a.headers = b.headers = hdrs;
		a.max_headers_cap = b.max_headers_cap = NHDRS;
		ra = gb_http_parse_response_resume(p, k, &a, NULL, mode, m,
		    last);
		rb = gb_http_parse_response(p, k, &b, NULL, mode, m);
		assert_int_equal(ra, rb);
		assert_ptr_equal(a.error, b.error);
		if (ra != 0)
			return ra;
		last = k;
	}
	return ra;
}

/* --- valid requests ------------------------------------------------ */

struct req_ok {
	const char		*in;
	enum gb_http_mode	 mode;
	size_t			 head_len;	/* 0: all of in */
	const char		*method;
	enum gb_http_method	 mid;
	const char		*target;
	enum gb_http_form	 form;
	const char		*authority;
	const char		*host;
	int			 vminor;
	size_t			 nheaders;
	enum gb_http_body	 body;
	uint64_t		 cl;
	unsigned		 flags;
};

#define KA	GB_HTTP_F_KEEPALIVE
#define CL	GB_HTTP_F_HAS_CL
#define TE	GB_HTTP_F_HAS_TE
#define AN	GB_HTTP_F_ANOMALY
#define S	GB_HTTP_STRICT
#define L	GB_HTTP_LENIENT

static const struct req_ok req_ok[] = {
	{ "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", S, 0,
	  "GET", GB_HTTP_GET, "/", GB_HTTP_FORM_ORIGIN, NULL, "example.com",
	  1, 1, GB_HTTP_BODY_NONE, 0, KA },
	{ "GET /a/b?x=1&y=%20 HTTP/1.0\r\n\r\n", S, 0,
	  "GET", GB_HTTP_GET, "/a/b?x=1&y=%20", GB_HTTP_FORM_ORIGIN, NULL, NULL,
	  0, 0, GB_HTTP_BODY_NONE, 0, 0 },
	{ "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", S, 0,
	  "GET", GB_HTTP_GET, "/", GB_HTTP_FORM_ORIGIN, NULL, NULL,
	  0, 1, GB_HTTP_BODY_NONE, 0, KA },
	{ "POST /api HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
	  S, 50, "POST", GB_HTTP_POST, "/api", GB_HTTP_FORM_ORIGIN, NULL, "a",
	  1, 2, GB_HTTP_BODY_LENGTH, 5, KA | CL },
	{ "PUT /x HTTP/1.1\r\nHost: a:8080\r\nContent-Length: 0\r\n\r\n", S, 0,
	  "PUT", GB_HTTP_PUT, "/x", GB_HTTP_FORM_ORIGIN, NULL, "a:8080",
	  1, 2, GB_HTTP_BODY_NONE, 0, KA | CL },
	{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"
	  "0\r\n\r\n", S, 56, "POST", GB_HTTP_POST, "/", GB_HTTP_FORM_ORIGIN,
	  NULL, "a", 1, 2, GB_HTTP_BODY_CHUNKED, 0, KA | TE },
	{ "PATCH /r HTTP/1.1\r\nHost: a\r\nContent-Length: "
	  "9223372036854775807\r\nConnection: close\r\n\r\n", S, 0,
	  "PATCH", GB_HTTP_PATCH, "/r", GB_HTTP_FORM_ORIGIN, NULL, "a",
	  1, 3, GB_HTTP_BODY_LENGTH, INT64_MAX,
	  GB_HTTP_F_CONN_CLOSE | CL },
	{ "DELETE /r/1 HTTP/1.1\r\nhost: [::1]:443\r\n\r\n", S, 0,
	  "DELETE", GB_HTTP_DELETE, "/r/1", GB_HTTP_FORM_ORIGIN, NULL,
	  "[::1]:443", 1, 1, GB_HTTP_BODY_NONE, 0, KA },
	{ "OPTIONS * HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n", S, 0,
	  "OPTIONS", GB_HTTP_OPTIONS, "*", GB_HTTP_FORM_ASTERISK, NULL,
	  "10.0.0.1", 1, 1, GB_HTTP_BODY_NONE, 0, KA },
	{ "CONNECT api.example:443 HTTP/1.1\r\nHost: api.example:443\r\n\r\n",
	  S, 0, "CONNECT", GB_HTTP_CONNECT, "api.example:443",
	  GB_HTTP_FORM_AUTHORITY, "api.example:443", "api.example:443",
	  1, 1, GB_HTTP_BODY_NONE, 0, KA },
	{ "GET http://Api.Example/p?q HTTP/1.1\r\nHost: api.example:80\r\n\r\n",
	  S, 0, "GET", GB_HTTP_GET, "http://Api.Example/p?q",
	  GB_HTTP_FORM_ABSOLUTE, "Api.Example", "api.example:80",
	  1, 1, GB_HTTP_BODY_NONE, 0, KA },
	{ "GET https://a.example:8443 HTTP/1.1\r\nHost: A.EXAMPLE:8443\r\n\r\n",
	  S, 0, "GET", GB_HTTP_GET, "https://a.example:8443",
	  GB_HTTP_FORM_ABSOLUTE, "a.example:8443", "A.EXAMPLE:8443",
	  1, 1, GB_HTTP_BODY_NONE, 0, KA },
	{ "GET http://[2001:db8::7]/ HTTP/1.0\r\n\r\n", S, 0,
	  "GET", GB_HTTP_GET, "http://[2001:db8::7]/", GB_HTTP_FORM_ABSOLUTE,
	  "[2001:db8::7]", NULL, 0, 0, GB_HTTP_BODY_NONE, 0, 0 },
	{ "HEAD /h HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
	  "Connection: keep-alive, Upgrade\r\n\r\n", S, 0,
	  "HEAD", GB_HTTP_HEAD, "/h", GB_HTTP_FORM_ORIGIN, NULL, "a",
	  1, 3, GB_HTTP_BODY_NONE, 0, KA | GB_HTTP_F_UPGRADE },
	{ "POST /u HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n"
	  "Content-Length: 3\r\n\r\n", S, 0,
	  "POST", GB_HTTP_POST, "/u", GB_HTTP_FORM_ORIGIN, NULL, "a",
	  1, 3, GB_HTTP_BODY_LENGTH, 3,
	  KA | CL | GB_HTTP_F_EXPECT_CONTINUE },
	/* near misses of the framing names are ordinary fields */
	{ "TRACE / HTTP/1.1\r\nHost: a\r\nContent_Lengtx: 1\r\n"
	  "Content-Lengtx: 1\r\nTransfer-Encodinx: chunked\r\n\r\n", S, 0,
	  "TRACE", GB_HTTP_TRACE, "/", GB_HTTP_FORM_ORIGIN, NULL, "a",
	  1, 4, GB_HTTP_BODY_NONE, 0, KA },
	{ "TRACE / HTTP/1.1\r\nHost: a\r\n\r\n", S, 0,
	  "TRACE", GB_HTTP_TRACE, "/", GB_HTTP_FORM_ORIGIN, NULL, "a",
	  1, 1, GB_HTTP_BODY_NONE, 0, KA },
	/* a known method in another case is another method to LENIENT */
	{ "get /lower HTTP/1.1\r\nHost: a\r\n\r\n", L, 0,
	  "get", GB_HTTP_OTHER, "/lower", GB_HTTP_FORM_ORIGIN, NULL, "a",
	  1, 1, GB_HTTP_BODY_NONE, 0, KA },
	{ "GETS /x HTTP/1.1\r\nHost: a\r\n\r\n", S, 0,
	  "GETS", GB_HTTP_OTHER, "/x", GB_HTTP_FORM_ORIGIN, NULL, "a",
	  1, 1, GB_HTTP_BODY_NONE, 0, KA },
	{ "M-SEARCH /~x!$&'()*+,;=:@ HTTP/1.1\r\nHost: a_b.c-d~\r\n"
	  "X-Empty:\r\nX-Obs: caf\xc3\xa9 \t\r\n\r\n", S, 0,
	  "M-SEARCH", GB_HTTP_OTHER, "/~x!$&'()*+,;=:@", GB_HTTP_FORM_ORIGIN,
	  NULL, "a_b.c-d~", 1, 3, GB_HTTP_BODY_NONE, 0, KA },
	{ "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", S, 0,
	  "GET", GB_HTTP_GET, "/", GB_HTTP_FORM_ORIGIN, NULL, "a",
	  1, 1, GB_HTTP_BODY_NONE, 0, KA },
	{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
	  "GET /next HTTP/1.1\r\n", S, 46,
	  "GET", GB_HTTP_GET, "/", GB_HTTP_FORM_ORIGIN, NULL, "a",
	  1, 2, GB_HTTP_BODY_NONE, 0, GB_HTTP_F_CONN_CLOSE },
	/* Expect is ignored in HTTP/1.0, Upgrade without Connection too */
	{ "POST / HTTP/1.0\r\nExpect: 100-continue\r\nUpgrade: x\r\n"
	  "Content-Length: 1\r\n\r\n", S, 0,
	  "POST", GB_HTTP_POST, "/", GB_HTTP_FORM_ORIGIN, NULL, NULL,
	  0, 3, GB_HTTP_BODY_LENGTH, 1, CL },
	{ "GET / HTTP/1.1\r\nHost: [::]\r\nHost-X: [::]\r\n\r\n", S, 0,
	  "GET", GB_HTTP_GET, "/", GB_HTTP_FORM_ORIGIN, NULL, "[::]",
	  1, 2, GB_HTTP_BODY_NONE, 0, KA },
	{ "GET / HTTP/1.1\r\nHost: [::FFFF:192.0.2.1]:1\r\n\r\n", S, 0,
	  "GET", GB_HTTP_GET, "/", GB_HTTP_FORM_ORIGIN, NULL,
	  "[::FFFF:192.0.2.1]:1", 1, 1, GB_HTTP_BODY_NONE, 0, KA },
	{ "GET http://[1::]/ HTTP/1.1\r\nHost: [1::]:80\r\n\r\n", S, 0,
	  "GET", GB_HTTP_GET, "http://[1::]/", GB_HTTP_FORM_ABSOLUTE, "[1::]",
	  "[1::]:80", 1, 1, GB_HTTP_BODY_NONE, 0, KA },
	{ "GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:7:8]:65535\r\n\r\n", S, 0,
	  "GET", GB_HTTP_GET, "/", GB_HTTP_FORM_ORIGIN, NULL,
	  "[1:2:3:4:5:6:7:8]:65535", 1, 1, GB_HTTP_BODY_NONE, 0, KA },
	/* LENIENT */
	{ "\n\r\nGET / HTTP/1.1\nHost: a b\n\n", L, 0,
	  "GET", GB_HTTP_GET, "/", GB_HTTP_FORM_ORIGIN, NULL, "a b",
	  1, 1, GB_HTTP_BODY_NONE, 0, KA | AN },
	{ "GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n", L, 0,
	  "GET", GB_HTTP_GET, "http://a/", GB_HTTP_FORM_ABSOLUTE, "a", "b",
	  1, 1, GB_HTTP_BODY_NONE, 0, KA | AN },
	{ "GET / HTTP/1.1\nHost: a\n\n", L, 0,
	  "GET", GB_HTTP_GET, "/", GB_HTTP_FORM_ORIGIN, NULL, "a",
	  1, 1, GB_HTTP_BODY_NONE, 0, KA | AN },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n"
	  "Content-Length: 5\r\n\r\n", L, 0,
	  "POST", GB_HTTP_POST, "/", GB_HTTP_FORM_ORIGIN, NULL, "a",
	  1, 3, GB_HTTP_BODY_LENGTH, 5, KA | CL | AN },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7, 7\r\n\r\n", L, 0,
	  "POST", GB_HTTP_POST, "/", GB_HTTP_FORM_ORIGIN, NULL, "a",
	  1, 2, GB_HTTP_BODY_LENGTH, 7, KA | CL | AN },
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n", L, 0,
	  "POST", GB_HTTP_POST, "/", GB_HTTP_FORM_ORIGIN, NULL, "a",
	  1, 3, GB_HTTP_BODY_CHUNKED, 5, KA | CL | TE | AN },
	{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n"
	  "\r\n", L, 0,
	  "POST", GB_HTTP_POST, "/", GB_HTTP_FORM_ORIGIN, NULL, "a",
	  1, 2, GB_HTTP_BODY_CHUNKED, 0, KA | TE | AN },
	{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n"
	  "\r\n", L, 0,
	  "POST", GB_HTTP_POST, "/", GB_HTTP_FORM_ORIGIN, NULL, "a",
	  1, 2, GB_HTTP_BODY_CHUNKED, 0, KA | TE | AN },
	{ "GET /{x}|\\ HTTP/1.2\r\n\r\n", L, 0,
	  "GET", GB_HTTP_GET, "/{x}|\\", GB_HTTP_FORM_ORIGIN, NULL, NULL,
	  2, 0, GB_HTTP_BODY_NONE, 0, KA | AN },
	{ "GET / HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\n\r\n",
	  L, 0, "GET", GB_HTTP_GET, "/", GB_HTTP_FORM_ORIGIN, NULL, "a",
	  1, 2, GB_HTTP_BODY_NONE, 0, KA | AN },
	{ "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", L, 0,
	  "GET", GB_HTTP_GET, "/", GB_HTTP_FORM_ORIGIN, NULL, "a",
	  1, 2, GB_HTTP_BODY_NONE, 0, KA | AN },
	{ "CONNECT a:1 HTTP/1.1\r\nHost: a:1\r\nContent-Length: 3\r\n\r\n",
	  L, 0, "CONNECT", GB_HTTP_CONNECT, "a:1", GB_HTTP_FORM_AUTHORITY,
	  "a:1", "a:1", 1, 2, GB_HTTP_BODY_NONE, 3, KA | CL | AN },
};

static void
check_req_ok(const struct req_ok *t)
{
	struct gb_http_req req, lreq;
	size_t n = strlen(t->in), head = t->head_len ? t->head_len : n, k;
	const char *buf;
	ssize_t r;
	int status;

	r = parse_req(t->in, n, &req, t->mode, NULL);
	if (r < 0)
		fail_msg("%s: %s", t->in, req.error);
	assert_int_equal(r, head);
	buf = guard_mem + GUARD_AREA - n;
	assert_slice(req.method, req.method_len, t->method);
	assert_int_equal(req.method_id, t->mid);
	assert_slice(req.target, req.target_len, t->target);
	assert_int_equal(req.form, t->form);
	assert_slice(req.authority, req.authority_len, t->authority);
	assert_slice(req.host, req.host_len, t->host);
	assert_int_equal(req.version_major, 1);
	assert_int_equal(req.version_minor, t->vminor);
	assert_int_equal(req.nheaders, t->nheaders);
	assert_int_equal(req.body, t->body);
	assert_int_equal(req.content_length, t->cl);
	assert_int_equal(req.flags, t->flags);
	assert_int_equal(req.status, 0);
	assert_null(req.error);
	assert_ptr_equal(req.headers, hdrs);
	assert_true(req.method >= buf && req.target + req.target_len <=
	    buf + head);

	/* a STRICT message parses the same in LENIENT mode */
	if (t->mode == GB_HTTP_STRICT) {
		r = parse_req(t->in, n, &lreq, GB_HTTP_LENIENT, NULL);
		assert_int_equal(r, head);
		assert_int_equal(lreq.body, req.body);
		assert_int_equal(lreq.content_length, req.content_length);
		assert_int_equal(lreq.flags, req.flags);
	}
	/* every proper prefix of the head needs more */
	for (k = 0; k < head; k++) {
		r = parse_req(t->in, k, &req, t->mode, NULL);
		if (r != 0)
			fail_msg("prefix %zu of %s: %zd %s", k, t->in, r,
			    req.error);
	}
	/* byte by byte with the hint: same answer */
	assert_int_equal(feed_req(t->in, n, t->mode, NULL, &status), head);
}

static void
test_request_valid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(req_ok) / sizeof(req_ok[0]); i++)
		check_req_ok(&req_ok[i]);
}

static void
test_request_headers(void **state)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: a\r\n"
	    "X-A:  one two \t\r\nX-Empty: \r\nx-a:3\r\nX-Obs: \xff\x80\r\n\r\n";
	struct gb_http_req req;
	char flags[128];
	ssize_t i;

	(void)state;
	assert_int_equal(parse_req(in, sizeof(in) - 1, &req, S, NULL),
	    sizeof(in) - 1);
	assert_int_equal(req.nheaders, 5);
	assert_slice(hdrs[0].name, hdrs[0].name_len, "Host");
	assert_slice(hdrs[0].value, hdrs[0].value_len, "a");
	assert_slice(hdrs[1].name, hdrs[1].name_len, "X-A");
	assert_slice(hdrs[1].value, hdrs[1].value_len, "one two");
	assert_slice(hdrs[2].name, hdrs[2].name_len, "X-Empty");
	assert_int_equal(hdrs[2].value_len, 0);
	assert_slice(hdrs[3].value, hdrs[3].value_len, "3");
	assert_slice(hdrs[4].value, hdrs[4].value_len, "\xff\x80");

	i = gb_http_header_find(hdrs, req.nheaders, 0, "x-a");
	assert_int_equal(i, 1);
	i = gb_http_header_find(hdrs, req.nheaders, (size_t)i + 1, "X-A");
	assert_int_equal(i, 3);
	assert_int_equal(gb_http_header_find(hdrs, req.nheaders, 4, "x-a"),
	    -1);
	assert_int_equal(gb_http_header_find(hdrs, req.nheaders, 0, "X"), -1);
	assert_int_equal(gb_http_header_find(hdrs, req.nheaders, 0, "X-AB"),
	    -1);

	/* headers NULL or cap 0: nothing stored, nothing counted */
	req.headers = NULL;
	req.max_headers_cap = 0;
	assert_int_equal(gb_http_parse_request(at_guard(in, sizeof(in) - 1),
	    sizeof(in) - 1, &req, NULL, S), sizeof(in) - 1);
	assert_int_equal(req.nheaders, 0);
	assert_slice(req.host, req.host_len, "a");
	req.headers = hdrs;
	req.max_headers_cap = 0;
	assert_int_equal(gb_http_parse_request(at_guard(in, sizeof(in) - 1),
	    sizeof(in) - 1, &req, NULL, S), sizeof(in) - 1);
	assert_int_equal(req.nheaders, 0);

	/* a cap smaller than the field count is 431 */
	req.headers = hdrs;
	req.max_headers_cap = 4;
	assert_int_equal(gb_http_parse_request(at_guard(in, sizeof(in) - 1),
	    sizeof(in) - 1, &req, NULL, S), -1);
	assert_int_equal(req.status, 431);
	req.max_headers_cap = 5;
	assert_int_equal(gb_http_parse_request(at_guard(in, sizeof(in) - 1),
	    sizeof(in) - 1, &req, NULL, S), sizeof(in) - 1);

	assert_string_equal(gb_http_flags_str(0, flags, sizeof(flags)), "0");
	assert_string_equal(gb_http_flags_str(KA | GB_HTTP_F_UPGRADE | 0x100,
	    flags, sizeof(flags)), "KEEPALIVE|UPGRADE|0x100");
	assert_string_equal(gb_http_flags_str(0x7f, flags, sizeof(flags)),
	    "KEEPALIVE|EXPECT_CONTINUE|UPGRADE|CONN_CLOSE|HAS_CL|HAS_TE|"
	    "ANOMALY");
	assert_string_equal(gb_http_flags_str(0x7f, flags, 12), "KEEPALIVE|E");
	assert_string_equal(gb_http_flags_str(KA, flags, 4), "KEE");
	flags[0] = 'x';
	assert_ptr_equal(gb_http_flags_str(KA, flags, 0), flags);
	assert_int_equal(flags[0], 'x');
}

static void
test_request_obs_fold(void **state)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: a\r\n"
	    "X-F: one\r\n  two\r\n\tthree \r\nX-G:\r\n  g\r\n"
	    "X-H: h\r\n \r\n\r\n";
	struct gb_http_req req;

	(void)state;
	assert_int_equal(parse_req(in, sizeof(in) - 1, &req, L, NULL),
	    sizeof(in) - 1);
	assert_int_equal(req.nheaders, 4);
	assert_slice(hdrs[1].value, hdrs[1].value_len,
	    "one\r\n  two\r\n\tthree");
	assert_slice(hdrs[2].value, hdrs[2].value_len, "g");
	assert_slice(hdrs[3].value, hdrs[3].value_len, "h");
	assert_true(req.flags & AN);
	assert_int_equal(parse_req(in, sizeof(in) - 1, &req, S, NULL), -1);
	assert_int_equal(req.status, 400);
}

/* --- malformed requests ------------------------------------------- */

struct req_bad {
	const char		*in;
	size_t			 len;
	enum gb_http_mode	 mode;
	int			 status;
};

#define B(s, m, st)	{ s, sizeof(s) - 1, m, st }

#define H11	"POST / HTTP/1.1\r\nHost: a\r\n"

static const struct req_bad req_bad[] = {
	/* known methods in another case: servers that fold case differ */
	B("get / HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("Get / HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("head / HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("HEAd / HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("post / HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("Options * HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("connect a:1 HTTP/1.1\r\nHost: a:1\r\n\r\n", S, 400),
	/* Content-Length / Transfer-Encoding smuggling */
	B(H11 "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", S,
	  400),
	B(H11 "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", S,
	  400),
	B(H11 "Content-Length: 5\r\nContent-Length: 5\r\n\r\n", S, 400),
	B(H11 "Content-Length: 5\r\ncontent-length: 6\r\n\r\n", S, 400),
	B(H11 "Content-Length: 5, 5\r\n\r\n", S, 400),
	B(H11 "Content-Length: 5,5\r\n\r\n", S, 400),
	B(H11 "Content-Length: +5\r\n\r\n", S, 400),
	B(H11 "Content-Length: -5\r\n\r\n", S, 400),
	B(H11 "Content-Length: 5 5\r\n\r\n", S, 400),
	B(H11 "Content-Length: 5a\r\n\r\n", S, 400),
	B(H11 "Content-Length: 0x10\r\n\r\n", S, 400),
	B(H11 "Content-Length: 1e3\r\n\r\n", S, 400),
	B(H11 "Content-Length:\r\n\r\n", S, 400),
	B(H11 "Content-Length: 9223372036854775808\r\n\r\n", S, 400),
	B(H11 "Content-Length: 18446744073709551616\r\n\r\n", S, 400),
	B(H11 "Content-Length: 00000000000000000001\r\n\r\n", S, 400),
	B(H11 "Content-Length: \x0b" "5\r\n\r\n", S, 400),
	B(H11 "Content-Length : 5\r\n\r\n", S, 400),
	B(H11 "Transfer-Encoding: gzip, chunked\r\n\r\n", S, 400),
	B(H11 "Transfer-Encoding: chunked, chunked\r\n\r\n", S, 400),
	B(H11 "Transfer-Encoding: chunked;x\r\n\r\n", S, 400),
	B(H11 "Transfer-Encoding: chunked,\r\n\r\n", S, 400),
	B(H11 "Transfer-Encoding: \"chunked\"\r\n\r\n", S, 400),
	B(H11 "Transfer-Encoding: xchunked\r\n\r\n", S, 501),
	B(H11 "Transfer-Encoding: gzip\r\n\r\n", S, 501),
	B(H11 "Transfer-Encoding: identity\r\n\r\n", S, 501),
	B(H11 "Transfer-Encoding: chunked\x0b\r\n\r\n", S, 400),
	B(H11 "Transfer-Encoding: chunk\x00" "ed\r\n\r\n", S, 400),
	B(H11 "Transfer-Encoding:\r\n\r\n", S, 400),
	B(H11 "Transfer-Encoding: chunked\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n",
	  S, 400),
	B(H11 "Transfer-Encoding : chunked\r\n\r\n", S, 400),
	B(H11 "Transfer_Encoding: chunked\r\n\r\n", S, 400),
	B(H11 "content_length: 5\r\n\r\n", S, 400),
	B(H11 "Transfer-Encoding\t: chunked\r\n\r\n", S, 400),
	B(H11 "X: y\r\n Transfer-Encoding: chunked\r\n\r\n", S, 400),
	B(H11 "Transfer-Encoding:\r\n chunked\r\n\r\n", S, 400),
	B("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", S, 400),
	B("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nContent-Length: 1\r\n\r\n",
	  S, 400),
	/* line endings */
	B("GET / HTTP/1.1\nHost: a\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a\r\n\n", S, 400),
	B("GET / HTTP/1.1\rHost: a\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", S, 400),
	B("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("\r\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n z\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\n Host: a\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\n Host: a\r\n\r\n", L, 400),
	/* request line */
	B("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET /  HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET /\tHTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", S, 400),
	B(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET / http/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET / HTTP/11\r\nHost: a\r\n\r\n", S, 400),
	B("GET / HTTP/1.1x\r\nHost: a\r\n\r\n", S, 400),
	B("GET / HTTP/1.\r\nHost: a\r\n\r\n", S, 400),
	B("GET / HTTP/a.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET / HTTP/1.x\r\nHost: a\r\n\r\n", S, 400),
	B("GET /\r\n\r\n", S, 400),
	B("GET\r\n\r\n", S, 400),
	B("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET / HTTP/1.2\r\nHost: a\r\n\r\n", S, 505),
	B("GET / HTTP/2.0\r\nHost: a\r\n\r\n", S, 505),
	B("GET / HTTP/0.9\r\n\r\n", S, 505),
	/* request target */
	B("GET a HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET /a#f HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET /a%4 HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET /a\\b HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET /a|b HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET /a\"b HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET /[a] HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET * HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("OPTIONS *a HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET a:443 HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("CONNECT a HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("CONNECT a: HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n", S, 400),
	B("GET http://a:8080/ HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET https://a/ HTTP/1.1\r\nHost: a:80\r\n\r\n", S, 400),
	B("GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET http:// HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET http://a/[x] HTTP/1.1\r\nHost: a\r\n\r\n", S, 400),
	B("GET http://a/ HTTP/1.1\r\n\r\n", S, 400),
	/* Host */
	B("GET / HTTP/1.1\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost:\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a,b\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a:\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a:123456\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a:80:80\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: [1::2::3]\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: [fe80::1%25eth0]\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:7:8:9]\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: [::1.2.3.256]\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a%2eb\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: [1.2.3.4]\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: [::1.2.3]\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: [::01.2.3.4]\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: [12345::]\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: [::1:]\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: [:1]\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:7::8]\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:7]\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: []\r\n\r\n", S, 400),
	/* field syntax */
	B("GET / HTTP/1.1\r\nHost: a\r\nX : y\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a\r\n: y\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a\r\nX y: z\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a\r\nX(: z\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a\r\nX\x00: z\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a\r\nXy\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a\r\nX: a\x00" "b\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f" "b\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a\r\nX: a\x1b" "b\r\n\r\n", S, 400),
	B("GET / HTTP/1.1\r\nHost: a\r\nX: a\x00" "b\r\n\r\n", L, 400),
	B("GET / HTTP/1.1\r\nHost: a\r\nX\x80: b\r\n\r\n", S, 400),
	/* LENIENT still refuses what it cannot frame */
	B(H11 "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", L, 400),
	B(H11 "Content-Length: 5, 6\r\n\r\n", L, 400),
	B(H11 "Content-Length: x\r\n\r\n", L, 400),
	B(H11 "Transfer-Encoding: chunked, gzip\r\n\r\n", L, 400),
	B(H11 "Transfer-Encoding: chunked, chunked\r\n\r\n", L, 400),
	B(H11 "Transfer-Encoding: chunked\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n",
	  L, 400),
	B(H11 "Transfer-Encoding: xchunked\r\n\r\n", L, 400),
	B(H11 "Transfer-Encoding: chunked;x\r\n\r\n", L, 400),
	B(H11 "Transfer-Encoding:\r\n\r\n", L, 400),
	B(H11 "Transfer-Encoding: gzip\r\n chunked\r\n\r\n", L, 400),
	B("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", L, 400),
	B("GET / HTTP/1.1\r\rHost: a\r\n\r\n", L, 400),
	B("GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", L, 400),
	B("GET / HTTP/1.1\r\nX y: z\r\n\r\n", L, 400),
	B("GET / HTTP/1.1\r\nX: a\r\n b\x01\r\n\r\n", L, 400),
	B(H11 "Transfer-Encoding: ;x, chunked\r\n\r\n", L, 400),
	B(H11 "Content-Length: 1\r\nContent-Length: 1\r\nX: y\r\n\r\n", S,
	  400),
};

static void
test_request_bad(void **state)
{
	struct gb_http_req req;
	size_t i, n, nbad = 0;
	ssize_t r;
	int status;

	(void)state;
	for (i = 0; i < sizeof(req_bad) / sizeof(req_bad[0]); i++) {
		const struct req_bad *t = &req_bad[i];

		n = t->len;
		r = parse_req(t->in, n, &req, t->mode, NULL);
		if (r != -1 || req.status != t->status)
			fail_msg("case %zu %s: got %zd status %d (%s), want %d",
			    i, t->in, r, req.status, req.error, t->status);
		assert_non_null(req.error);
		r = feed_req(t->in, n, t->mode, NULL, &status);
		assert_int_equal(r, -1);
		assert_int_equal(status, t->status);
		nbad++;
	}
	assert_true(nbad >= 60);
}

/*
 * Inputs with an embedded NUL, which the table cannot hold as C strings.
 */
static void
test_request_nul(void **state)
{
	static const char a[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";
	static const char b[] = "GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n";
	static const char c[] = "GET / HTTP/1.1\r\nHost: a\0\r\n\r\n";
	static const char d[] = "GET / HTTP/1.1\r\nHo\0st: a\r\n\r\n";
	static const char e[] = H11 "Transfer-Encoding: chunked\0\r\n\r\n";
	const char *in[] = { a, b, c, d, e };
	size_t len[] = { sizeof(a) - 1, sizeof(b) - 1, sizeof(c) - 1,
	    sizeof(d) - 1, sizeof(e) - 1 };
	struct gb_http_req req;
	size_t i;
	int status;

	(void)state;
	for (i = 0; i < 5; i++) {
		assert_int_equal(parse_req(in[i], len[i], &req, S, NULL), -1);
		assert_int_equal(req.status, 400);
		assert_int_equal(parse_req(in[i], len[i], &req, L, NULL), -1);
		assert_int_equal(feed_req(in[i], len[i], S, NULL, &status), -1);
		assert_int_equal(status, 400);
	}
}

/* --- limits ---------------------------------------------------------- */

static char big[GUARD_AREA];

/* A request with a target padded so the request line is n bytes long. */
static size_t
req_line_of(size_t n, const char *rest)
{
	size_t k = n - strlen("GET / HTTP/1.1");

	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', k);
	memcpy(big + 5 + k, " HTTP/1.1\r\n", 11);
	strcpy(big + 16 + k, rest);
	return strlen(big);
}

/* A request whose one X field line is n bytes long. */
static size_t
field_line_of(size_t n)
{
	size_t off = strlen("GET / HTTP/1.1\r\nHost: a\r\n");

	memcpy(big, "GET / HTTP/1.1\r\nHost: a\r\nX: ", off + 3);
	memset(big + off + 3, 'v', n - 3);
	strcpy(big + off + n, "\r\n\r\n");
	return off + n + 4;
}

static void
expect_req(const char *s, size_t n, const struct gb_http_limits *lim,
    ssize_t want, int status)
{
	struct gb_http_req req;
	ssize_t r;
	int st;

	r = parse_req(s, n, &req, S, lim);
	if (r != want || (want < 0 && req.status != status))
		fail_msg("len %zu: got %zd/%d (%s), want %zd/%d", n, r,
		    req.status, req.error, want, status);
	if (n < 20000) {
		r = feed_req(s, n, S, lim, &st);
		assert_int_equal(r, want);
		if (want < 0)
			assert_int_equal(st, status);
	}
}

static void
test_limits(void **state)
{
	struct gb_http_limits lim, small;
	size_t n, i, off;

	(void)state;
	gb_http_limits_default(&lim);
	assert_int_equal(lim.max_request_line, 8192);
	assert_int_equal(lim.max_header_line, 8192);
	assert_int_equal(lim.max_headers, 100);
	assert_int_equal(lim.max_head_size, 65536);

	/* request line: 8192 ok, 8193 is 414, also while incomplete */
	n = req_line_of(8192, "Host: a\r\n\r\n");
	expect_req(big, n, NULL, (ssize_t)n, 0);
	expect_req(big, 8192, NULL, 0, 0);
	expect_req(big, 8193, NULL, 0, 0);	/* 8192 + CR */
	n = req_line_of(8193, "Host: a\r\n\r\n");
	expect_req(big, n, NULL, -1, 414);
	expect_req(big, 8193, NULL, -1, 414);
	expect_req(big, 8194, NULL, -1, 414);
	memset(big, 'A', 9000);
	expect_req(big, 8192, NULL, 0, 0);
	expect_req(big, 9000, NULL, -1, 414);

	/* one field line: 8192 ok, 8193 is 431 */
	n = field_line_of(8192);
	expect_req(big, n, NULL, (ssize_t)n, 0);
	n = field_line_of(8193);
	expect_req(big, n, NULL, -1, 431);
	expect_req(big, n - 4, NULL, -1, 431);	/* before its CR LF */
	expect_req(big, n - 5, NULL, 0, 0);

	/* field count: 100 ok, 101 is 431 as soon as the 101st starts */
	off = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 1; i < 100; i++)
		off += (size_t)sprintf(big + off, "X-%zu: v\r\n", i);
	strcpy(big + off, "\r\n");
	expect_req(big, off + 2, NULL, (ssize_t)off + 2, 0);
	strcpy(big + off, "Y: 1\r\n\r\n");
	expect_req(big, off + 8, NULL, -1, 431);
	expect_req(big, off + 1, NULL, -1, 431);
	expect_req(big, off, NULL, 0, 0);

	/* head size: exactly 65536 ok, 65537 is 431 even incomplete */
	off = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 0; off + 4000 < 65536; i++)
		off += (size_t)sprintf(big + off, "X-%zu: %03990d\r\n", i, 0);
	n = 65536 - off - 2;		/* last line incl. CR LF, then CR LF */
	memcpy(big + off, "Y: ", 3);
	memset(big + off + 3, 'z', n - 5);
	strcpy(big + off + n - 2, "\r\n\r\n");
	assert_int_equal(strlen(big), 65536);
	expect_req(big, 65536, NULL, 65536, 0);
	expect_req(big, 65535, NULL, 0, 0);
	memmove(big + off + 1, big + off, 65536 - off + 1);
	big[off] = 'W';
	assert_int_equal(strlen(big), 65537);
	expect_req(big, 65537, NULL, -1, 431);
	expect_req(big, 65536, NULL, 0, 0);
	memset(big + 65536, 'z', 100000);
	expect_req(big, 165536, NULL, -1, 431);

	/* small custom limits, exact and +1 for each */
	small.max_request_line = 20;
	small.max_header_line = 10;
	small.max_headers = 2;
	small.max_head_size = 60;
	expect_req("GET /aaaaaa HTTP/1.1\r\nHost: a\r\n\r\n", 33, &small, 33,
	    0);
	expect_req("GET /aaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n", 34, &small, -1,
	    414);
	expect_req("GET / HTTP/1.1\r\nHost: a\r\nX: 3456789\r\n\r\n", 39,
	    &small, 39, 0);
	expect_req("GET / HTTP/1.1\r\nHost: a\r\nX: 34567890\r\n\r\n", 40,
	    &small, -1, 431);
	expect_req("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\nY: 2\r\n\r\n", 38,
	    &small, -1, 431);
	expect_req("GET / HTTP/1.1\r\nHost: a\r\nX: 345678\r\nY: 2\r\n\r\n", 44,
	    &small, -1, 431);
	small.max_headers = 3;
	expect_req("GET / HTTP/1.1\r\nHost: a\r\nX: 345678\r\nY: 2\r\n\r\n", 44,
	    &small, 44, 0);
	small.max_head_size = 43;
	expect_req("GET / HTTP/1.1\r\nHost: a\r\nX: 345678\r\nY: 2\r\n\r\n", 44,
	    &small, -1, 431);
	expect_req("GET / HTTP/1.1\r\nHost: a\r\nX: 345678\r\nY: 2\r\n\r\n", 43,
	    &small, 0, 0);
}

/* LENIENT folds count as field lines, bounding the work they cause. */
static void
test_limits_fold(void **state)
{
	struct gb_http_limits lim;
	struct gb_http_req req;
	static const char in[] = "GET / HTTP/1.1\r\nX: a\r\n b\r\n c\r\n\r\n";

	(void)state;
	gb_http_limits_default(&lim);
	lim.max_headers = 3;
	assert_int_equal(parse_req(in, sizeof(in) - 1, &req, L, &lim),
	    sizeof(in) - 1);
	lim.max_headers = 2;
	assert_int_equal(parse_req(in, sizeof(in) - 1, &req, L, &lim), -1);
	assert_int_equal(req.status, 431);

	/* a bare LF line end one byte past the line limit */
	gb_http_limits_default(&lim);
	lim.max_header_line = 4;
	assert_int_equal(parse_req("GET / HTTP/1.1\nX: a\n\n", 21, &req, L,
	    &lim), 21);
	assert_int_equal(parse_req("GET / HTTP/1.1\nX: ab\n\n", 22, &req, L,
	    &lim), -1);
	assert_int_equal(req.status, 431);
}

/* --- responses ----------------------------------------------------- */

struct resp_ok {
	const char		*in;
	enum gb_http_mode	 mode;
	enum gb_http_method	 req_method;
	size_t			 head_len;
	int			 vminor;
	int			 status;
	const char		*reason;
	size_t			 nheaders;
	enum gb_http_body	 body;
	uint64_t		 cl;
	unsigned		 flags;
};

static const struct resp_ok resp_ok[] = {
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", S, GB_HTTP_GET,
	  38, 1, 200, "OK", 1, GB_HTTP_BODY_LENGTH, 5, KA | CL },
	{ "HTTP/1.1 204 No Content\r\n\r\n", S, GB_HTTP_DELETE, 0, 1, 204,
	  "No Content", 0, GB_HTTP_BODY_NONE, 0, KA },
	{ "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n", S,
	  GB_HTTP_GET, 0, 1, 304, "Not Modified", 1, GB_HTTP_BODY_NONE, 100,
	  KA | CL },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", S, GB_HTTP_HEAD,
	  0, 1, 200, "OK", 1, GB_HTTP_BODY_NONE, 100, KA | CL },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", S,
	  GB_HTTP_HEAD, 0, 1, 200, "OK", 1, GB_HTTP_BODY_NONE, 0, KA | TE },
	{ "HTTP/1.1 100 Continue\r\n\r\n", S, GB_HTTP_POST, 0, 1, 100,
	  "Continue", 0, GB_HTTP_BODY_NONE, 0, KA },
	{ "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	  "Connection: Upgrade\r\n\r\n", S, GB_HTTP_GET, 0, 1, 101,
	  "Switching Protocols", 2, GB_HTTP_BODY_NONE, 0,
	  KA | GB_HTTP_F_UPGRADE },
	{ "HTTP/1.1 200 Connection established\r\n\r\n", S, GB_HTTP_CONNECT,
	  0, 1, 200, "Connection established", 0, GB_HTTP_BODY_NONE, 0, KA },
	{ "HTTP/1.1 407 Proxy Auth\r\nContent-Length: 2\r\n\r\n", S,
	  GB_HTTP_CONNECT, 0, 1, 407, "Proxy Auth", 1, GB_HTTP_BODY_LENGTH, 2,
	  KA | CL },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", S,
	  GB_HTTP_GET, 47, 1, 200, "OK", 1, GB_HTTP_BODY_CHUNKED, 0, KA | TE },
	{ "HTTP/1.1 200 OK\r\n\r\n", S, GB_HTTP_GET, 0, 1, 200, "OK", 0,
	  GB_HTTP_BODY_CLOSE, 0, 0 },
	{ "HTTP/1.1 200 \r\nServer: x\r\n\r\n", S, GB_HTTP_GET, 0, 1, 200, "",
	  1, GB_HTTP_BODY_CLOSE, 0, 0 },
	{ "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n", S, GB_HTTP_GET, 0, 0,
	  200, "OK", 1, GB_HTTP_BODY_LENGTH, 2, CL },
	{ "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n"
	  "\r\n", S, GB_HTTP_GET, 0, 0, 200, "OK", 2, GB_HTTP_BODY_LENGTH, 2,
	  KA | CL },
	{ "HTTP/1.1 404 Not\tFound \xe2\x9c\x97\r\nConnection: close\r\n"
	  "Content-Length: 0\r\n\r\n", S, GB_HTTP_GET, 0, 1, 404,
	  "Not\tFound \xe2\x9c\x97", 2, GB_HTTP_BODY_NONE, 0,
	  GB_HTTP_F_CONN_CLOSE | CL },
	{ "HTTP/1.1 599 x\r\n\r\n", S, GB_HTTP_OTHER, 0, 1, 599, "x", 0,
	  GB_HTTP_BODY_CLOSE, 0, 0 },
	/* LENIENT */
	{ "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\n", L, GB_HTTP_GET, 0, 1,
	  200, "", 1, GB_HTTP_BODY_LENGTH, 1, KA | CL | AN },
	{ "HTTP/1.1 200 OK\nContent-Length: 1\n\n", L, GB_HTTP_GET, 0, 1,
	  200, "OK", 1, GB_HTTP_BODY_LENGTH, 1, KA | CL | AN },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", L, GB_HTTP_GET,
	  0, 1, 200, "OK", 1, GB_HTTP_BODY_CLOSE, 0, TE | AN },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: "
	  "gzip, chunked\r\n\r\n", L, GB_HTTP_GET, 0, 1, 200, "OK", 2,
	  GB_HTTP_BODY_CHUNKED, 3, KA | CL | TE | AN },
	{ "HTTP/1.1 204 OK\r\nContent-Length: x\r\n\r\n", L, GB_HTTP_GET, 0, 1,
	  204, "OK", 1, GB_HTTP_BODY_NONE, 0, KA | CL },
};

static void
test_response_valid(void **state)
{
	struct gb_http_resp resp, lresp;
	size_t i, k, n, head;
	ssize_t r;

	(void)state;
	for (i = 0; i < sizeof(resp_ok) / sizeof(resp_ok[0]); i++) {
		const struct resp_ok *t = &resp_ok[i];

		n = strlen(t->in);
		head = t->head_len ? t->head_len : n;
		r = parse_resp(t->in, n, &resp, t->mode, t->req_method, NULL);
		if (r != (ssize_t)head)
			fail_msg("%s: %zd %s", t->in, r, resp.error);
		assert_int_equal(resp.version_major, 1);
		assert_int_equal(resp.version_minor, t->vminor);
		assert_int_equal(resp.status, t->status);
		assert_slice(resp.reason, resp.reason_len, t->reason);
		assert_int_equal(resp.nheaders, t->nheaders);
		assert_int_equal(resp.body, t->body);
		assert_int_equal(resp.content_length, t->cl);
		assert_int_equal(resp.flags, t->flags);
		assert_null(resp.error);
		if (t->mode == GB_HTTP_STRICT) {
			r = parse_resp(t->in, n, &lresp, L, t->req_method,
			    NULL);
			assert_int_equal(r, head);
			assert_int_equal(lresp.body, resp.body);
			assert_int_equal(lresp.flags, resp.flags);
		}
		for (k = 0; k < head; k++)
			assert_int_equal(parse_resp(t->in, k, &resp, t->mode,
			    t->req_method, NULL), 0);
		assert_int_equal(feed_resp(t->in, n, t->mode, t->req_method),
		    head);
	}
}

#define R(s, m)	{ s, sizeof(s) - 1, m }

static const struct {
	const char		*in;
	size_t			 len;
	enum gb_http_mode	 mode;
} resp_bad[] = {
	R("HTTP/1.1 200\r\n\r\n", S),
	R("HTTP/1.1 20 OK\r\n\r\n", S),
	R("HTTP/1.1 2000 OK\r\n\r\n", S),
	R("HTTP/1.1 099 OK\r\n\r\n", S),
	R("HTTP/1.1 600 OK\r\n\r\n", S),
	R("HTTP/1.1 2x0 OK\r\n\r\n", S),
	R("HTTP/1.1  200 OK\r\n\r\n", S),
	R("HTTP/2.0 200 OK\r\n\r\n", S),
	R("HTTP/1.2 200 OK\r\n\r\n", S),
	R("http/1.1 200 OK\r\n\r\n", S),
	R("HTTP/1.1\r\n\r\n", S),
	R("HTTP/1.1 200 O\x01K\r\n\r\n", S),
	R("HTTP/1.1 200 OK\nContent-Length: 1\r\n\r\n", S),
	R("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", S),
	R("HTTP/1.1 200 OK\r\nX : a\r\n\r\n", S),
	R("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked"
	  "\r\n\r\n", S),
	R("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", S),
	R("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", S),
	R("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
	  S),
	R("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", S),
	R("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", S),
	R("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", L),
	R("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", L),
	R("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", L),
	R("HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n", L),
	R("HTTP/1.1 200 OK\r\nX: \x00\r\n\r\n", L),
	R("HTTP/1.1 2000 OK\r\n\r\n", L),
	R("HTTP/1.1 200 OK\r\rX: y\r\n\r\n", L),
};

static void
test_response_bad(void **state)
{
	struct gb_http_resp resp;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(resp_bad) / sizeof(resp_bad[0]); i++) {
		n = resp_bad[i].len;
		if (parse_resp(resp_bad[i].in, n, &resp, resp_bad[i].mode,
		    GB_HTTP_GET, NULL) != -1)
			fail_msg("case %zu %s accepted", i, resp_bad[i].in);
		assert_non_null(resp.error);
		assert_int_equal(feed_resp(resp_bad[i].in, n, resp_bad[i].mode,
		    GB_HTTP_GET), -1);
	}
}

/* --- helpers ------------------------------------------------------- */

static void
test_token_list(void **state)
{
	(void)state;
	assert_true(gb_http_token_list_has("close", 5, "close"));
	assert_true(gb_http_token_list_has("Keep-Alive, CLOSE", 17, "close"));
	assert_true(gb_http_token_list_has(" a ,\tclose\t", 11, "close"));
	assert_true(gb_http_token_list_has(",,close,", 8, "close"));
	assert_false(gb_http_token_list_has("closed", 6, "close"));
	assert_false(gb_http_token_list_has("xclose", 6, "close"));
	assert_false(gb_http_token_list_has("clo se", 6, "close"));
	assert_false(gb_http_token_list_has("", 0, "close"));
	assert_false(gb_http_token_list_has(NULL, 0, "close"));
	assert_false(gb_http_token_list_has("close", 4, "close"));
	assert_true(gb_http_name_eq("Content-LENGTH", 14, "content-length"));
	assert_false(gb_http_name_eq("Content-Lengt", 13, "content-length"));
	assert_false(gb_http_name_eq("Content-Lengths", 15, "content-length"));
	assert_true(gb_http_name_eq("", 0, ""));
}

/* --- chunked ------------------------------------------------------- */

/*
 * Decode in[0..n) feeding pieces of at most step bytes (0: all at once)
 * after a split at split. Body bytes go to out. Returns the last result;
 * *used is the bytes consumed in total.
 */
static int
decode(const char *in, size_t n, enum gb_http_mode mode, size_t split,
    size_t step, char *out, size_t *outn, size_t *used)
{
	struct gb_http_chunked c;
	size_t off = 0, end, consumed, dlen;
	const char *data, *p;
	int r = 0;

	gb_http_chunked_init(&c, mode);
	*outn = 0;
	while (off < n) {
		end = n;
		if (off < split && split < n)
			end = split;
		if (step > 0 && end - off > step)
			end = off + step;
		p = at_guard(in + off, end - off);
		r = gb_http_chunked_next(&c, p, end - off, &consumed, &data,
		    &dlen);
		assert_true(consumed <= end - off);
		if (data != NULL) {
			assert_true(data >= p && data + dlen <= p + end - off);
			memcpy(out + *outn, data, dlen);
			*outn += dlen;
		} else
			assert_int_equal(dlen, 0);
		off += consumed;
		if (r != 0)
			break;
		assert_true(consumed > 0);
	}
	if (r == 1)
		assert_int_equal(c.total, *outn);
	*used = off;
	return r;
}

static const struct {
	const char		*in;
	enum gb_http_mode	 mode;
	const char		*body;
	size_t			 used;	/* 0: all */
} ck_ok[] = {
	{ "5\r\nhello\r\n0\r\n\r\n", S, "hello", 0 },
	{ "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", S, "hello world", 0 },
	{ "0\r\n\r\n", S, "", 0 },
	{ "A\r\n0123456789\r\n0\r\n\r\n", S, "0123456789", 0 },
	{ "a;ext=1\r\n0123456789\r\n0;last\r\n\r\n", S, "0123456789", 0 },
	{ "3;a;b=\"q\\\"x\";c=tok\r\nabc\r\n0\r\nTrailer: v\r\nX-T:\r\n\r\n",
	  S, "abc", 0 },
	{ "000005\r\nhello\r\n0000\r\n\r\n", S, "hello", 0 },
	{ "0000000000000005\r\nhello\r\n0\r\n\r\n", S, "hello", 0 },
	{ "5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n", S, "hello", 15 },
	{ "1\r\n\r\r\n1\r\n\n\r\n0\r\n\r\n", S, "\r\n", 0 },
	{ "5\nhello\n0\n\n", L, "hello", 0 },
	{ "5 ;x = y ; z\r\nhello\r\n0 \r\n\r\n", L, "hello", 0 },
	{ "5  ;x\t=\t\"y\" \t;z \r\nhello\r\n0\t\r\n\r\n", L, "hello", 0 },
	{ "5\r\nhello\r\n0\r\nX : y\r\n z\n\r\n", L, "hello", 0 },
	{ "3;q=\"a b\"\r\nabc\r\n0\r\n\r\nrest", L, "abc", 21 },
	/* near misses of the names a trailer may not carry */
	{ "0\r\nContent-Lengtx: 1\r\nContent-Length-2: 1\r\nHosts: a\r\n"
	  "Transfer-Encodings: x\r\nHos: a\r\n\r\n", S, "", 0 },
	{ "0\r\nContent-Length: 5\r\nHost: a\r\n\r\n", L, "", 0 },
};

static void
test_chunked_valid(void **state)
{
	char out[256];
	size_t i, n, outn, used, split, want;
	int r;

	(void)state;
	for (i = 0; i < sizeof(ck_ok) / sizeof(ck_ok[0]); i++) {
		n = strlen(ck_ok[i].in);
		want = ck_ok[i].used ? ck_ok[i].used : n;
		/* whole, byte by byte, and split at every point */
		for (split = 0; split <= n; split++) {
			r = decode(ck_ok[i].in, n, ck_ok[i].mode, split, 0, out,
			    &outn, &used);
			if (r != 1)
				fail_msg("%s split %zu: %d", ck_ok[i].in, split,
				    r);
			assert_int_equal(used, want);
			assert_int_equal(outn, strlen(ck_ok[i].body));
			assert_memory_equal(out, ck_ok[i].body, outn);
		}
		r = decode(ck_ok[i].in, n, ck_ok[i].mode, 0, 1, out, &outn,
		    &used);
		assert_int_equal(r, 1);
		assert_int_equal(used, want);
		assert_int_equal(outn, strlen(ck_ok[i].body));
		assert_memory_equal(out, ck_ok[i].body, outn);
		/* and a prefix is never complete */
		r = decode(ck_ok[i].in, want - 1, ck_ok[i].mode, 0, 0, out,
		    &outn, &used);
		assert_int_equal(r, 0);
	}
}

static const struct {
	const char		*in;
	enum gb_http_mode	 mode;
} ck_bad[] = {
	{ "g\r\n", S },
	{ "\r\n", S },
	{ ";x\r\n", S },
	{ "0x5\r\nhello\r\n0\r\n\r\n", S },
	{ " 5\r\nhello\r\n0\r\n\r\n", S },
	{ "5 \r\nhello\r\n0\r\n\r\n", S },
	{ "5\t\r\nhello\r\n0\r\n\r\n", S },
	{ "+5\r\nhello\r\n0\r\n\r\n", S },
	{ "-5\r\nhello\r\n0\r\n\r\n", S },
	{ "5\nhello\r\n0\r\n\r\n", S },
	{ "5\rhello\r\n0\r\n\r\n", S },
	{ "5\r\nhelloX\r\n0\r\n\r\n", S },
	{ "5\r\nhello\n0\r\n\r\n", S },
	{ "5\r\nhello\r\r\n0\r\n\r\n", S },
	{ "5\r\nhello0\r\n\r\n", S },
	{ "5;\r\nhello\r\n0\r\n\r\n", S },
	{ "5;a=\r\nhello\r\n0\r\n\r\n", S },
	{ "5;a=\"x\r\nhello\r\n0\r\n\r\n", S },
	{ "5;a b\r\nhello\r\n0\r\n\r\n", S },
	{ "5; a\r\nhello\r\n0\r\n\r\n", S },
	{ "5;a =b\r\nhello\r\n0\r\n\r\n", S },
	{ "5;a=b c\r\nhello\r\n0\r\n\r\n", S },
	{ "5;\x01\r\nhello\r\n0\r\n\r\n", S },
	{ "5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n", S },
	{ "5;a=\"\\\x01\"\r\nhello\r\n0\r\n\r\n", S },
	{ "5;a=b=c\r\nhello\r\n0\r\n\r\n", S },
	{ "5;a=\"x\"y\r\nhello\r\n0\r\n\r\n", S },
	{ "5 x\r\nhello\r\n0\r\n\r\n", L },
	{ "00000000000000005\r\nhello\r\n0\r\n\r\n", S },
	{ "FFFFFFFFFFFFFFFFF\r\n", S },
	{ "0\r\nX : y\r\n\r\n", S },
	{ "0\r\nContent-Length: 5\r\n\r\n", S },
	{ "0\r\ncontent_length: 5\r\n\r\n", S },
	{ "0\r\nX: 1\r\nTransfer-Encoding: chunked\r\n\r\n", S },
	{ "0\r\nTRANSFER_encoding:chunked\r\n\r\n", S },
	{ "0\r\nHost: evil\r\n\r\n", S },
	{ "0\r\n y\r\n\r\n", S },
	{ "0\r\n: y\r\n\r\n", S },
	{ "0\r\nX\r\n\r\n", S },
	{ "0\r\nX: \x01\r\n\r\n", S },
	{ "0\r\nX: y\n\r\n", S },
	{ "0\r\nX: y\r\r\n", S },
	{ "0\r\n\r\r", S },
	{ "0\r\n\n", S },
	{ "0\r\n\rx", L },
	{ "5\r\nhelloX\r\n0\r\n\r\n", L },
	{ "x\r\n", L },
	{ "5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n", L },
	{ "00000000000000005\r\nhello\r\n0\r\n\r\n", L },
};

static void
test_chunked_bad(void **state)
{
	struct gb_http_chunked c;
	char out[256];
	size_t i, n, outn, used, consumed, dlen;
	const char *data;

	(void)state;
	for (i = 0; i < sizeof(ck_bad) / sizeof(ck_bad[0]); i++) {
		n = strlen(ck_bad[i].in);
		if (decode(ck_bad[i].in, n, ck_bad[i].mode, 0, 0, out, &outn,
		    &used) != -1)
			fail_msg("case %zu accepted", i);
		assert_int_equal(decode(ck_bad[i].in, n, ck_bad[i].mode, 0, 1,
		    out, &outn, &used), -1);
	}

	/* the error sticks */
	gb_http_chunked_init(&c, S);
	assert_int_equal(gb_http_chunked_next(&c, at_guard("x", 1), 1,
	    &consumed, &data, &dlen), -1);
	assert_non_null(c.error);
	assert_int_equal(gb_http_chunked_next(&c, at_guard("0\r\n\r\n", 5), 5,
	    &consumed, &data, &dlen), -1);
	assert_int_equal(consumed, 0);

	/* chunk line of 4096 bytes passes, 4097 fails */
	memset(big, 0, 8192);
	memcpy(big, "1;a=", 4);
	memset(big + 4, 'b', 4092);
	strcpy(big + 4096, "\r\nx\r\n0\r\n\r\n");
	assert_int_equal(decode(big, strlen(big), S, 0, 0, out, &outn, &used),
	    1);
	memmove(big + 5, big + 4, strlen(big + 4) + 1);
	assert_int_equal(decode(big, strlen(big), S, 0, 0, out, &outn, &used),
	    -1);

	/* trailer section of 65536 bytes passes, 65537 fails */
	memset(big, 0, 70000);
	memcpy(big, "0\r\nX: ", 6);
	memset(big + 6, 'v', 65536 - 4 - 3);
	strcpy(big + 65536 - 1, "\r\n\r\n");
	assert_int_equal(strlen(big) - 3, 65536);
	assert_int_equal(decode(big, strlen(big), S, 0, 0, out, &outn, &used),
	    1);
	memmove(big + 7, big + 6, strlen(big + 6) + 1);
	assert_int_equal(decode(big, strlen(big), S, 0, 0, out, &outn, &used),
	    -1);

	/* done sticks and consumes nothing */
	gb_http_chunked_init(&c, S);
	assert_int_equal(gb_http_chunked_next(&c, at_guard("0\r\n\r\nX", 6), 6,
	    &consumed, &data, &dlen), 1);
	assert_int_equal(consumed, 5);
	assert_int_equal(gb_http_chunked_next(&c, at_guard("X", 1), 1,
	    &consumed, &data, &dlen), 1);
	assert_int_equal(consumed, 0);
}

/* A 16-digit size is read without overflow and streamed as data. */
static void
test_chunked_huge(void **state)
{
	struct gb_http_chunked c;
	size_t consumed, dlen;
	const char *data;

	(void)state;
	gb_http_chunked_init(&c, S);
	assert_int_equal(gb_http_chunked_next(&c,
	    at_guard("FFFFFFFFFFFFFFFF\r\nabc", 21), 21, &consumed, &data,
	    &dlen), 0);
	assert_int_equal(consumed, 21);
	assert_int_equal(dlen, 3);
	assert_memory_equal(data, "abc", 3);
	assert_true(c.remaining == UINT64_MAX - 3);
}

/* --- path normalisation ------------------------------------------- */

static const struct {
	const char	*in;
	const char	*path;	/* NULL: rejected */
	const char	*query;	/* NULL: no '?' */
} paths[] = {
	{ "/", "/", NULL },
	{ "/a/./b/../c", "/a/c", NULL },
	{ "//a///b", "/a/b", NULL },
	{ "/%61%62", "/ab", NULL },
	{ "/%41%42%43", "/ABC", NULL },
	{ "/%7e%2D%5f%2E%30", "/~-_.0", NULL },
	{ "/a%2fb", NULL, NULL },
	{ "/a%2Fb", NULL, NULL },
	{ "/a%5cb", NULL, NULL },
	{ "/a\\b", NULL, NULL },
	{ "\\", NULL, NULL },
	{ "/%00", NULL, NULL },
	{ "/%zz", NULL, NULL },
	{ "/%4", NULL, NULL },
	{ "/%", NULL, NULL },
	{ "/%4?x", NULL, NULL },
	{ "/..", NULL, NULL },
	{ "/../a", NULL, NULL },
	{ "/%2e%2e/x", NULL, NULL },
	{ "/.%2E/x", NULL, NULL },
	{ "/a/../..", NULL, NULL },
	{ "/a/%2E%2E/b", "/b", NULL },
	{ "/a/%2e./b", "/b", NULL },
	{ "/a/b/", "/a/b/", NULL },
	{ "/a/.", "/a/", NULL },
	{ "/a/..", "/", NULL },
	{ "/a/b/..", "/a/", NULL },
	{ "/a//../b", "/b", NULL },
	{ "/./././", "/", NULL },
	{ "/%2e", "/", NULL },
	{ "/a/.b/..c/...", "/a/.b/..c/...", NULL },
	{ "/%3a%c3%a9", "/%3A%C3%A9", NULL },
	{ "/a/%25/b", "/a/%25/b", NULL },
	{ "/100%25", "/100%25", NULL },
	{ "/a%25zz/%25g", "/a%25zz/%25g", NULL },
	{ "/a%25f", "/a%25f", NULL },
	{ "/a%252e%252e/b", NULL, NULL },
	{ "/a%252F", NULL, NULL },
	{ "/a%25%32%66", NULL, NULL },
	{ "/a%2541?q=%2541", NULL, NULL },
	{ "/a?q=%252e", "/a", "q=%252e" },
	{ "/a;p=1,2/b:c@d!$&'()*+", "/a;p=1,2/b:c@d!$&'()*+", NULL },
	{ "/a?b=c&d", "/a", "b=c&d" },
	{ "/a?", "/a", "" },
	{ "/a?q=/x?y&z=%2F%2f", "/a", "q=/x?y&z=%2F%2f" },
	{ "/a/b?c/../d", "/a/b", "c/../d" },
	{ "/a/./?x", "/a/", "x" },
	{ "/a?x#y", NULL, NULL },
	{ "/a?%zz", NULL, NULL },
	{ "/a?%0", NULL, NULL },
	{ "/a?%00", NULL, NULL },
	{ "/a?x y", NULL, NULL },
	{ "/a?x\\y", NULL, NULL },
	{ "/a#b", NULL, NULL },
	{ "a/b", NULL, NULL },
	{ "", NULL, NULL },
	{ "*", NULL, NULL },
	{ "/a b", NULL, NULL },
	{ "/a[1]", NULL, NULL },
	{ "/\x80", NULL, NULL },
	{ "/a|b", NULL, NULL },
	{ "/a\x01", NULL, NULL },
	/* dot segments with parameters: Tomcat and Spring read "..;" as ".." */
	{ "/a/..;/b", NULL, NULL },
	{ "/a/..;x=1/b", NULL, NULL },
	{ "/a/.;/b", NULL, NULL },
	{ "/a/..;", NULL, NULL },
	{ "/a/%2e%2e;/b", NULL, NULL },
	{ "/a/%2E;p/b", NULL, NULL },
	{ "/a/..%3b/b", NULL, NULL },
	{ "/a/.%3B/b", NULL, NULL },
	{ "/a/...;/b", "/a/...;/b", NULL },
	{ "/a/.b;/c", "/a/.b;/c", NULL },
	{ "/a/b;..", "/a/b;..", NULL },
	{ "/a/x..;/b", "/a/x..;/b", NULL },
	/* overlong UTF-8 (decoders that accept it read "..", "/", "\\") */
	{ "/%c0%ae%c0%ae/x", NULL, NULL },
	{ "/a/%C0%AFb", NULL, NULL },
	{ "/a/%c1%9c", NULL, NULL },
	{ "/a/%c0", NULL, NULL },
	{ "/a/%e0%80%ae", NULL, NULL },
	{ "/a/%E0%9F%BF", NULL, NULL },
	{ "/a/%f0%80%80%af", NULL, NULL },
	{ "/a/%f0%8f%bf%bf", NULL, NULL },
	{ "/a/%c2%a0%e0%a0%80%f0%90%80%80", "/a/%C2%A0%E0%A0%80%F0%90%80%80",
	    NULL },
	{ "/a/%e0a%80", "/a/%E0a%80", NULL },
	{ "/a/%e0%61%80", "/a/%E0a%80", NULL },
	{ "/a/%f0%41", "/a/%F0A", NULL },
	{ "/a/%f0/%80", "/a/%F0/%80", NULL },
	{ "/a?%c0%ae", "/a", "%c0%ae" },
};

static void
test_path_normalize(void **state)
{
	char out[256], again[256];
	const char *q, *err, *in;
	size_t i, n, outn, qn, on2;
	int r;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		n = strlen(paths[i].in);
		in = at_guard(paths[i].in, n);
		r = gb_http_path_normalize(in, n, out, n + 1, &outn, &q, &qn,
		    &err);
		if (paths[i].path == NULL) {
			if (r != -1)
				fail_msg("%s accepted as %s", paths[i].in, out);
			assert_non_null(err);
			assert_string_equal(out, "");
			continue;
		}
		if (r != 0)
			fail_msg("%s: %s", paths[i].in, err);
		assert_string_equal(out, paths[i].path);
		assert_int_equal(outn, strlen(paths[i].path));
		if (paths[i].query == NULL)
			assert_null(q);
		else {
			assert_true(q >= in && q + qn == in + n);
			assert_slice(q, qn, paths[i].query);
		}
		/* idempotent */
		assert_int_equal(gb_http_path_normalize(out, outn, again,
		    sizeof(again), &on2, &q, &qn, &err), 0);
		assert_string_equal(again, out);
	}
	assert_true(i >= 30);

	/* output too small */
	assert_int_equal(gb_http_path_normalize("/abc", 4, out, 4, &outn, &q,
	    &qn, &err), -1);
	assert_int_equal(gb_http_path_normalize("/abc", 4, out, 5, &outn, &q,
	    &qn, &err), 0);
	assert_int_equal(gb_http_path_normalize("/ab/c", 5, out, 4, &outn, &q,
	    &qn, &err), -1);
	assert_string_equal(out, "");
	assert_int_equal(gb_http_path_normalize("/", 1, out, 1, &outn, &q,
	    &qn, &err), -1);
	assert_int_equal(gb_http_path_normalize("/%3a", 4, out, 4, &outn, &q,
	    &qn, &err), -1);
	assert_int_equal(gb_http_path_normalize("/%3a", 4, out, 5, &outn, &q,
	    &qn, &err), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_valid),
		cmocka_unit_test(test_request_headers),
		cmocka_unit_test(test_request_obs_fold),
		cmocka_unit_test(test_request_bad),
		cmocka_unit_test(test_request_nul),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_limits_fold),
		cmocka_unit_test(test_response_valid),
		cmocka_unit_test(test_response_bad),
		cmocka_unit_test(test_token_list),
		cmocka_unit_test(test_chunked_valid),
		cmocka_unit_test(test_chunked_bad),
		cmocka_unit_test(test_chunked_huge),
		cmocka_unit_test(test_path_normalize),
	};

	return cmocka_run_group_tests(tests, guard_setup, guard_teardown);
}
