/*
 * Unit tests for detectors/det_flow_http.c, driven through its flow-table
 * interface: a pipelined conversation (Content-Length, chunked, HEAD, 100
 * Continue, a request body) gives the same transactions however its bytes
 * are cut, down to one byte at a time; a head over the limit is refused and
 * the stream resynchronises; raw (non-HTTP) streams; the coding seam with a
 * decoder that accepts identity-like "test" bodies; flag decoding.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/det_flow_http.h"

#define MAXT	16
#define NIK1	"3171015708450001"	/* tests/unit/detectors: valid NIKs */

struct rec {
	unsigned		n;
	struct det_sensor_txn	t[MAXT];
};

static void
on_txn(const struct det_sensor_txn *t, void *arg)
{
	struct rec *r = arg;

	assert_true(r->n < MAXT);
	r->t[r->n++] = *t;
}

static const char client[] =
	"POST /upload HTTP/1.1\r\nHost: a.example\r\nContent-Length: 26\r\n"
	"Expect: 100-continue\r\n\r\n{\"nik\":\"" NIK1 "\"}"
	"GET /one HTTP/1.1\r\nHost: a.example\r\n"
	"X-Gerbang-Consumer: djp\r\n\r\n"
	"HEAD /two HTTP/1.1\r\nHost: a.example\r\n\r\n"
	"GET /three?nik=" NIK1 " HTTP/1.1\r\nHost: a.example\r\n\r\n";

static const char server[] =
	"HTTP/1.1 100 Continue\r\n\r\n"
	"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
	"HTTP/1.1 200 OK\r\nContent-Length: 27\r\n\r\n"
	"{\"data\":\"" NIK1 "\"}"
	"HTTP/1.1 200 OK\r\nContent-Length: 9999\r\n\r\n"
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	"5\r\n{\"nik\r\n15\r\n\":\"" NIK1 "\"}\r\n0\r\n\r\n";

static void
feed(struct det_flow_app *app, struct det_flow *f, int from, const char *s,
    size_t cut)
{
	size_t len = strlen(s), i, k;

	for (i = 0; i < len; i += k) {
		k = len - i < cut ? len - i : cut;
		/* an exact-size copy, so an over-read is caught */
		uint8_t *p = malloc(k);

		assert_non_null(p);
		memcpy(p, s + i, k);
		app->data(app->ctx, f, from, i, p, k);
		free(p);
	}
}

static void
converse(const struct det_scanner *sc, size_t cut, struct rec *r)
{
	struct det_http_obs *o;
	struct det_flow_app app;
	struct det_flow f;

	memset(r, 0, sizeof(*r));
	memset(&f, 0, sizeof(f));
	f.key.family = 4;
	assert_int_equal(det_http_obs_new(sc, 0, on_txn, r, &o), 0);
	det_http_obs_app(o, &app);
	feed(&app, &f, 0, client, cut);
	feed(&app, &f, 1, server, cut);
	app.fin(app.ctx, &f, 0);
	app.fin(app.ctx, &f, 1);
	app.end(app.ctx, &f, DET_FLOW_END_CLOSE);
	assert_null(f.app);
	assert_int_equal(det_http_obs_mem(o), 0);
	det_http_obs_free(o);
}

static void
test_every_cut(void **state)
{
	struct det_scanner *sc;
	struct rec ref, r;
	size_t cut;
	unsigned i;

	(void)state;
	assert_int_equal(det_scanner_new(NULL, &sc), 0);
	converse(sc, 4096, &ref);
	assert_int_equal(ref.n, 4);
	assert_string_equal(ref.t[0].method, "POST");
	assert_int_equal(ref.t[0].status, 201);
	assert_int_equal(ref.t[0].req_counts[DET_T_NIK], 1);
	assert_string_equal(ref.t[1].path, "/one");
	assert_true(ref.t[1].has_consumer);
	assert_string_equal(ref.t[1].consumer, "djp");
	assert_int_equal(ref.t[1].resp_counts[DET_T_NIK], 1);
	assert_string_equal(ref.t[2].method, "HEAD");
	assert_int_equal(ref.t[2].resp_body, 0);
	assert_string_equal(ref.t[3].path, "/three?nik=3171********0001");
	assert_int_equal(ref.t[3].req_counts[DET_T_NIK], 1);
	assert_int_equal(ref.t[3].resp_counts[DET_T_NIK], 1);
	for (i = 0; i < ref.n; i++)
		assert_int_equal(ref.t[i].flags, 0);
	for (cut = 1; cut < 200; cut++) {
		converse(sc, cut, &r);
		assert_int_equal(r.n, ref.n);
		for (i = 0; i < r.n; i++) {
			assert_string_equal(r.t[i].method, ref.t[i].method);
			assert_string_equal(r.t[i].path, ref.t[i].path);
			assert_int_equal(r.t[i].status, ref.t[i].status);
			assert_int_equal(r.t[i].nfindings, ref.t[i].nfindings);
			assert_int_equal(r.t[i].req_bytes, ref.t[i].req_bytes);
			assert_int_equal(r.t[i].resp_bytes, ref.t[i].resp_bytes);
			assert_int_equal(r.t[i].flags, ref.t[i].flags);
		}
	}
	det_scanner_free(sc);
}

static void
test_raw_and_oversized(void **state)
{
	struct det_scanner *sc;
	struct det_http_obs *o;
	struct det_flow_app app;
	struct det_flow f;
	struct rec r;
	char *big;
	size_t n = 70000;

	(void)state;
	assert_int_equal(det_scanner_new(NULL, &sc), 0);
	memset(&r, 0, sizeof(r));
	memset(&f, 0, sizeof(f));
	f.key.family = 4;
	assert_int_equal(det_http_obs_new(sc, 0, on_txn, &r, &o), 0);
	det_http_obs_app(o, &app);
	/* a binary protocol: raw */
	feed(&app, &f, 1, "\x01\x02 nik " NIK1 "\n", 7);
	/* a request head over 64 KiB: refused, then a good one follows */
	big = malloc(n + 64);
	assert_non_null(big);
	memcpy(big, "GET /big HTTP/1.1\r\nX: ", 22);
	memset(big + 22, 'a', n - 22);
	strcpy(big + n, "\r\n\r\nGET /ok HTTP/1.1\r\nHost: h\r\n\r\n");
	feed(&app, &f, 0, "GET /first HTTP/1.1\r\nHost: h\r\n\r\n", 5);
	feed(&app, &f, 0, big, 1000);
	free(big);
	assert_true(det_http_obs_counters(o)->req_parse_errors >= 1);
	assert_true(det_http_obs_counters(o)->resyncs >= 1);
	assert_true(det_http_obs_mem(o) <= 70000);
	app.end(app.ctx, &f, DET_FLOW_END_SHUTDOWN);
	/* /first and /ok unanswered, the raw stream */
	assert_int_equal(r.n, 3);
	assert_string_equal(r.t[0].path, "/first");
	assert_string_equal(r.t[1].path, "/ok");
	assert_true((r.t[1].flags & DET_TXN_F_GAP) != 0);
	assert_int_equal(r.t[2].kind, DET_TXN_RAW);
	assert_int_equal(r.t[2].nfindings, 1);
	assert_int_equal(det_http_obs_mem(o), 0);
	det_http_obs_free(o);
	det_scanner_free(sc);
}

/* A "decoder" for the coding seam: rot-1 of every byte ("test" coding is
   not real: it is DET_CODING_OTHER; gzip is asked for and refused). */
struct dec_state {
	int	dummy;
};

static int opened, closed;

static void *
dec_open(void *ctx, enum det_coding c)
{
	static struct dec_state st;

	(void)ctx;
	if (c != DET_CODING_DEFLATE)
		return NULL;
	opened++;
	return &st;
}

static int
dec_feed(void *st, const uint8_t *p, size_t n, det_body_out_cb *out,
    void *oarg)
{
	uint8_t buf[256];
	size_t i;

	(void)st;
	assert_true(n <= sizeof(buf));
	for (i = 0; i < n; i++)
		buf[i] = (uint8_t)(p[i] - 1);
	return out(oarg, buf, n);
}

static int
dec_finish(void *st, det_body_out_cb *out, void *oarg)
{
	(void)st;
	(void)out;
	(void)oarg;
	return 0;
}

static void
dec_close(void *st)
{
	(void)st;
	closed++;
}

static void
test_decoder_seam(void **state)
{
	static const struct det_body_decoder dec = {
		dec_open, dec_feed, dec_finish, dec_close, NULL,
	};
	struct det_scanner *sc;
	struct det_http_obs *o;
	struct det_flow_app app;
	struct det_flow f;
	struct rec r;
	char body[64], resp[256];
	size_t i;

	(void)state;
	assert_int_equal(det_scanner_new(NULL, &sc), 0);
	memset(&r, 0, sizeof(r));
	memset(&f, 0, sizeof(f));
	f.key.family = 4;
	assert_int_equal(det_http_obs_new(sc, 0, on_txn, &r, &o), 0);
	det_http_obs_set_decoder(o, &dec);
	det_http_obs_app(o, &app);
	strcpy(body, "{\"nik\":\"" NIK1 "\"}");
	for (i = 0; body[i] != '\0'; i++)
		body[i] = (char)(body[i] + 1);
	snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Encoding: "
	    "deflate\r\nContent-Length: %zu\r\n\r\n%s"
	    "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
	    "Content-Length: 4\r\n\r\nzzzz", strlen(body), body);
	feed(&app, &f, 0, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
	    "GET /b HTTP/1.1\r\nHost: h\r\n\r\n", 64);
	feed(&app, &f, 1, resp, 9);
	app.end(app.ctx, &f, DET_FLOW_END_SHUTDOWN);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.t[0].resp_counts[DET_T_NIK], 1);
	assert_int_equal(r.t[0].flags, 0);
	assert_string_equal(r.t[0].coding, "deflate");
	assert_int_equal(r.t[1].flags, DET_TXN_F_NOT_INSPECTED);
	assert_int_equal(det_http_obs_counters(o)->not_inspected, 1);
	assert_int_equal(det_http_obs_counters(o)->not_inspected_bytes, 4);
	assert_int_equal(opened, 1);
	assert_int_equal(closed, 1);
	det_http_obs_free(o);
	det_scanner_free(sc);
}

static void
test_strings(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(det_txn_flags_str(0, buf, sizeof(buf)), "0");
	assert_string_equal(det_txn_flags_str(DET_TXN_F_GAP |
	    DET_TXN_F_TUNNEL | 0x8000, buf, sizeof(buf)),
	    "GAP|TUNNEL|0x8000");
	assert_int_equal(det_coding_parse("gzip", 4), DET_CODING_GZIP);
	assert_int_equal(det_coding_parse(" identity , GZip ", 17),
	    DET_CODING_GZIP);
	assert_int_equal(det_coding_parse("gzip, br", 8), DET_CODING_OTHER);
	assert_int_equal(det_coding_parse("", 0), DET_CODING_IDENTITY);
	assert_int_equal(det_coding_parse("compress", 8), DET_CODING_OTHER);
}

struct pairs {
	unsigned	n;
	char		path[400][16];
	int		status[400];
	unsigned	flags[400];
	uint64_t	seq[400];
};

static void
on_pair(const struct det_sensor_txn *t, void *arg)
{
	struct pairs *r = arg;

	assert_true(r->n < 400);
	snprintf(r->path[r->n], sizeof(r->path[0]), "%.15s", t->path);
	r->status[r->n] = t->status;
	r->flags[r->n] = t->flags;
	r->seq[r->n] = t->seq;
	r->n++;
}

/*
 * 300 pipelined requests, then their 300 answers (status 200 + k): the
 * queue grows to 256; the 44 past it are reported unanswered at once and
 * their answers unpaired, and no answer pairs with another's request
 * (red team: pipeline40 with 32).
 */
static void
test_pipeline_overflow(void **state)
{
	struct det_scanner *sc;
	struct det_http_obs *o;
	struct det_flow_app app;
	struct det_flow f;
	struct pairs *r;
	char buf[128];
	unsigned k, i, paired = 0, noreq = 0, noresp = 0;
	uint64_t seen[401] = { 0 };

	(void)state;
	assert_int_equal(det_scanner_new(NULL, &sc), 0);
	assert_non_null(r = calloc(1, sizeof(*r)));
	memset(&f, 0, sizeof(f));
	f.key.family = 4;
	assert_int_equal(det_http_obs_new(sc, 0, on_pair, r, &o), 0);
	det_http_obs_app(o, &app);
	for (k = 0; k < 300; k++) {
		snprintf(buf, sizeof(buf), "GET /q%u HTTP/1.1\r\nHost: h\r\n"
		    "\r\n", k);
		feed(&app, &f, 0, buf, 4096);
	}
	for (k = 0; k < 300; k++) {
		snprintf(buf, sizeof(buf), "HTTP/1.1 %u X\r\n"
		    "Content-Length: 0\r\n\r\n", 200 + k);
		feed(&app, &f, 1, buf, 4096);
	}
	app.end(app.ctx, &f, DET_FLOW_END_CLOSE);
	assert_int_equal(r->n, 344);
	assert_int_equal(det_http_obs_counters(o)->queue_overflow, 44);
	for (i = 0; i < r->n; i++) {
		/* every transaction has its own seq */
		assert_true(r->seq[i] >= 1 && r->seq[i] <= 400);
		assert_int_equal(seen[r->seq[i]], 0);
		seen[r->seq[i]] = 1;
		if (r->flags[i] & DET_TXN_F_NO_RESPONSE) {
			noresp++;
			assert_true(sscanf(r->path[i], "/q%u", &k) == 1);
			assert_true(k >= 256);
		} else if (r->flags[i] & DET_TXN_F_NO_REQUEST) {
			noreq++;
			assert_true(r->status[i] >= 200 + 256);
		} else {
			paired++;
			assert_true(sscanf(r->path[i], "/q%u", &k) == 1);
			assert_int_equal(r->status[i], 200 + (int)k);
		}
	}
	assert_int_equal(paired, 256);
	assert_int_equal(noresp, 44);
	assert_int_equal(noreq, 44);
	free(r);
	det_http_obs_free(o);
	det_scanner_free(sc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_cut),
		cmocka_unit_test(test_pipeline_overflow),
		cmocka_unit_test(test_raw_and_oversized),
		cmocka_unit_test(test_decoder_seam),
		cmocka_unit_test(test_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
