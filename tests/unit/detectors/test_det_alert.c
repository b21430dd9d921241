/*
 * Unit tests for detectors/det_alert.c, the sensor's detection stage:
 * transactions and findings made by hand go through attribution (signed,
 * forged, unsigned consumer headers), the bulk rules and the scraping
 * counters into a real alert store and JSON lines; the store is then read
 * back. Health: capture loss raises an alert.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/gb_diag.h"
#include "core/gb_idhdr.h"
#include "detectors/det_alert.h"
#include "detectors/det_rules.h"
#include "store/store.h"

#define T0_US	1763820000000000ULL	/* capture time of the first txn */

static const char rules_yaml[] =
"bulk:\n"
"  - { name: nik-dump, type: nik, scope: response, distinct: 3,"
" severity: critical }\n"
"  - { name: nik-harvest, type: nik, scope: consumer, distinct: 6,"
" window: 1h, severity: high }\n";

struct fixture {
	char		 dir[64];
	struct det_rules *rules;
	struct store_writer *w;
	struct det_alert *a;
	struct gb_idhdr_key key;
	struct gb_idhdr_mac *mac;
	FILE		*json;
	char		*jsonbuf;
	size_t		 jsonlen;
	struct det_flow	 flow;
};

static void
setup(struct fixture *fx, bool with_key, uint64_t scrape)
{
	struct det_alert_conf c;
	struct gb_diags d;
	char err[256];

	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/det_alert_XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	gb_diags_init(&d, 0);
	assert_int_equal(det_rules_load_mem("rules", rules_yaml,
	    sizeof(rules_yaml) - 1, &fx->rules, &d), 0);
	gb_diags_free(&d);
	assert_int_equal(store_writer_open(fx->dir, NULL, &fx->w, err,
	    sizeof(err)), 0);
	memset(fx->key.key, 'k', 32);
	fx->key.len = 32;
	assert_int_equal(gb_idhdr_mac_new(&fx->key, &fx->mac), 0);
	assert_non_null(fx->json = open_memstream(&fx->jsonbuf,
	    &fx->jsonlen));
	det_alert_conf_default(&c);
	c.rules = fx->rules;
	c.sensor_id = "test-sensor";
	c.store = fx->w;
	c.json = fx->json;
	c.consumer_key = with_key ? &fx->key : NULL;
	c.scrape_distinct = scrape;
	assert_int_equal(det_alert_new(&c, &fx->a), 0);
	fx->flow.id = 7;
	fx->flow.key.family = 4;
	fx->flow.key.port[0] = 40000;
	fx->flow.key.port[1] = 8080;
	memcpy(fx->flow.key.addr[0], "\x0a\x00\x00\x05", 4);
	memcpy(fx->flow.key.addr[1], "\x0a\x00\x00\x09", 4);
	fx->flow.client = 0;
}

static void
teardown(struct fixture *fx)
{
	char cmd[128];

	det_alert_free(fx->a);
	assert_int_equal(store_writer_close(fx->w), 0);
	det_rules_free(fx->rules);
	gb_idhdr_mac_free(fx->mac);
	fclose(fx->json);
	free(fx->jsonbuf);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
}

static void
txn_init(struct fixture *fx, struct det_sensor_txn *t, uint64_t ts_us,
    const char *path, const char *consumer_hdr)
{
	memset(t, 0, sizeof(*t));
	t->flow = &fx->flow;
	t->ts_req_us = ts_us;
	t->ts_resp_us = ts_us + 1000;
	snprintf(t->method, sizeof(t->method), "GET");
	snprintf(t->host, sizeof(t->host), "api.dukcapil.test");
	snprintf(t->path, sizeof(t->path), "%s", path);
	t->status = 200;
	if (consumer_hdr != NULL) {
		snprintf(t->consumer, sizeof(t->consumer), "%s", consumer_hdr);
		t->has_consumer = true;
	}
}

static void
signed_hdr(struct gb_idhdr_mac *m, const char *id, uint64_t ts_us,
    char *out, size_t n)
{
	assert_true(gb_idhdr_sign(m, id, "rid-1", (int64_t)(ts_us / 1000000),
	    out, n) > 0);
}

static void
nik_finding(struct det_finding *f, unsigned i, uint64_t off)
{
	memset(f, 0, sizeof(*f));
	f->type = DET_T_NIK;
	f->confidence = 90;
	f->length = 16;
	f->offset = off;
	snprintf(f->value, sizeof(f->value), "31710157084%05u", i);
	f->vlen = 16;
}

struct seen {
	unsigned	 n;
	char		 rules[8][64];
	char		 consumer[8][64];
	char		 path[8][128];
	uint8_t		 flags[8];
	uint64_t	 nik_distinct[8];
};

static int
collect(const struct store_alert *sa, const uint8_t *link, void *arg)
{
	struct seen *s = arg;
	size_t i;

	(void)link;
	if (s->n >= 8)
		return 0;
	snprintf(s->rules[s->n], 64, "%.*s", (int)sa->rule.n, sa->rule.p);
	snprintf(s->consumer[s->n], 64, "%.*s", (int)sa->consumer.n,
	    sa->consumer.p);
	snprintf(s->path[s->n], 128, "%.*s", (int)sa->path.n, sa->path.p);
	s->flags[s->n] = sa->flags;
	for (i = 0; i < sa->ncounts; i++)
		if (sa->counts[i].type.n == 3 &&
		    memcmp(sa->counts[i].type.p, "nik", 3) == 0)
			s->nik_distinct[s->n] = sa->counts[i].distinct;
	s->n++;
	return 0;
}

static void
read_store(struct fixture *fx, struct seen *s)
{
	struct store *st;
	struct store_query q;
	char err[256];

	assert_int_equal(store_writer_flush(fx->w), 0);
	memset(s, 0, sizeof(*s));
	memset(&q, 0, sizeof(q));
	assert_int_equal(store_open(fx->dir, STORE_RDONLY, &st, err,
	    sizeof(err)), 0);
	assert_int_equal(store_read_begin(st), 0);
	assert_int_equal(store_query_run(st, &q, collect, s), 0);
	store_read_end(st);
	store_close(st);
}

static void
test_bulk_verified(void **state)
{
	struct fixture fx;
	struct det_sensor_txn t;
	struct det_finding f;
	struct det_alert_stats as;
	struct seen s;
	char hdr[GB_IDHDR_VALUE_MAX];
	unsigned i;

	(void)state;
	setup(&fx, true, 0);
	signed_hdr(fx.mac, "dinkes", T0_US, hdr, sizeof(hdr));
	txn_init(&fx, &t, T0_US, "/api/penduduk?page=1", hdr);
	/* Four distinct NIKs (one twice) in one response: over 3. */
	for (i = 0; i < 5; i++) {
		nik_finding(&f, i % 4, 100 * i);
		det_alert_on_finding(&t, DET_WHERE_RESP_BODY, &f, fx.a);
	}
	/* Request-body findings are data sent in: never counted. */
	for (i = 10; i < 20; i++) {
		nik_finding(&f, i, 0);
		det_alert_on_finding(&t, DET_WHERE_REQ_BODY, &f, fx.a);
	}
	det_alert_on_txn(&t, fx.a);
	det_alert_stats(fx.a, &as);
	assert_int_equal(as.alerts, 1);
	assert_int_equal(as.stored, 1);
	assert_int_equal(as.consumer_verified, 1);
	read_store(&fx, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.rules[0], "nik-dump");
	assert_string_equal(s.consumer[0], "dinkes");
	assert_true(s.flags[0] & STORE_A_CONSUMER_VERIFIED);
	assert_int_equal(s.nik_distinct[0], 4);
	/* The JSON line for the SIEM says the same, masked. */
	fflush(fx.json);
	assert_non_null(strstr(fx.jsonbuf, "\"rule\":\"nik-dump\""));
	assert_null(strstr(fx.jsonbuf, "3171015708400001"));
	/* Three more responses to the same consumer: 7 distinct > 6. */
	for (i = 0; i < 3; i++) {
		txn_init(&fx, &t, T0_US + (i + 1) * 1000000ULL,
		    "/api/penduduk?page=2", hdr);
		nik_finding(&f, 100 + i, 0);
		det_alert_on_finding(&t, DET_WHERE_RESP_BODY, &f, fx.a);
		det_alert_on_txn(&t, fx.a);
	}
	read_store(&fx, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.rules[1], "nik-harvest");
	assert_int_equal(s.nik_distinct[1], 7);
	teardown(&fx);
}

/* A response streaming 40 distinct NIKs: one alert, its final count. */
static void
test_one_alert_per_response(void **state)
{
	struct fixture fx;
	struct det_sensor_txn t;
	struct det_finding f;
	struct seen s;
	unsigned i;

	(void)state;
	setup(&fx, false, 0);
	txn_init(&fx, &t, T0_US, "/x", NULL);
	for (i = 0; i < 40; i++) {
		nik_finding(&f, 500 + i, 20 * i);
		det_alert_on_finding(&t, DET_WHERE_RESP_BODY, &f, fx.a);
	}
	read_store(&fx, &s);
	assert_int_equal(s.n, 0);	/* not before the response ends */
	det_alert_on_txn(&t, fx.a);
	read_store(&fx, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.rules[0], "nik-dump");
	assert_int_equal(s.nik_distinct[0], 40);
	teardown(&fx);
}

static void
test_forged_and_unsigned(void **state)
{
	struct fixture fx;
	struct det_sensor_txn t;
	struct det_finding f;
	struct det_alert_stats as;
	struct gb_idhdr_key k2;
	struct gb_idhdr_mac *m2;
	struct seen s;
	char hdr[GB_IDHDR_VALUE_MAX];
	unsigned i;

	(void)state;
	setup(&fx, true, 0);
	memset(k2.key, 'x', 32);
	k2.len = 32;
	assert_int_equal(gb_idhdr_mac_new(&k2, &m2), 0);
	signed_hdr(m2, "djp", T0_US, hdr, sizeof(hdr));
	/* Forged twice from one source: one alert (quiet period). */
	for (i = 0; i < 2; i++) {
		txn_init(&fx, &t, T0_US + i, "/x", hdr);
		nik_finding(&f, i, 0);
		det_alert_on_finding(&t, DET_WHERE_RESP_BODY, &f, fx.a);
		det_alert_on_txn(&t, fx.a);
	}
	/* A bare id where the gateway signs: rejected too. */
	txn_init(&fx, &t, T0_US + 10 * 60 * 1000000ULL + 5, "/x", "djp");
	det_alert_on_txn(&t, fx.a);
	/* A signed header replayed an hour later: stale, not verified. */
	signed_hdr(fx.mac, "djp", T0_US, hdr, sizeof(hdr));
	txn_init(&fx, &t, T0_US + 3600 * 1000000ULL, "/x", hdr);
	det_alert_on_txn(&t, fx.a);
	det_alert_stats(fx.a, &as);
	assert_int_equal(as.consumer_forged, 2);
	assert_int_equal(as.consumer_unsigned, 1);
	assert_int_equal(as.consumer_stale, 1);
	read_store(&fx, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.rules[0], "consumer-header-rejected");
	assert_string_equal(s.consumer[0], "djp");
	assert_false(s.flags[0] & STORE_A_CONSUMER_VERIFIED);
	assert_string_equal(s.rules[1], "consumer-header-rejected");
	gb_idhdr_mac_free(m2);
	teardown(&fx);
}

static void
test_no_key_unverified(void **state)
{
	struct fixture fx;
	struct det_sensor_txn t;
	struct det_finding f;
	struct seen s;
	unsigned i;

	(void)state;
	setup(&fx, false, 0);
	txn_init(&fx, &t, T0_US, "/x", "dinkes");
	for (i = 0; i < 4; i++) {
		nik_finding(&f, i, 0);
		det_alert_on_finding(&t, DET_WHERE_RESP_BODY, &f, fx.a);
	}
	det_alert_on_txn(&t, fx.a);
	read_store(&fx, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.consumer[0], "dinkes");
	assert_false(s.flags[0] & STORE_A_CONSUMER_VERIFIED);
	teardown(&fx);
}

static void
test_scraping(void **state)
{
	struct fixture fx;
	struct det_sensor_txn t;
	struct det_finding f;
	struct seen s;
	char hdr[GB_IDHDR_VALUE_MAX], path[200];
	unsigned i;

	(void)state;
	setup(&fx, true, 3);
	for (i = 0; i < 5; i++) {
		uint64_t ts = T0_US + i * 1000000ULL;

		signed_hdr(fx.mac, "dinkes", ts, hdr, sizeof(hdr));
		nik_finding(&f, i, strlen("/api/penduduk/"));
		snprintf(path, sizeof(path), "/api/penduduk/%s?full=1",
		    f.value);
		txn_init(&fx, &t, ts, path, hdr);
		det_alert_on_finding(&t, DET_WHERE_PATH, &f, fx.a);
		det_alert_on_txn(&t, fx.a);
	}
	read_store(&fx, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.rules[0], "scraping-by-consumer");
	assert_string_equal(s.consumer[0], "dinkes");
	/* the query is left out of the template (cache busting) */
	assert_string_equal(s.path[0], "/api/penduduk/{nik}");
	teardown(&fx);
}

static void
test_health(void **state)
{
	struct fixture fx;
	struct det_sensor_capstats cap = { .live = true };
	struct seen s;

	(void)state;
	setup(&fx, false, 0);
	cap.received = 100000;
	det_alert_health(fx.a, &cap, T0_US);	/* the baseline */
	cap.received = 200000;
	cap.dropped = 10;			/* 0.01 %: under 0.1 % */
	det_alert_health(fx.a, &cap, T0_US + 1000000);
	cap.received = 300000;
	cap.dropped = 5010;			/* 5 %: alert */
	det_alert_health(fx.a, &cap, T0_US + 2000000);
	read_store(&fx, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.rules[0], "sensor-packet-loss");
	teardown(&fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bulk_verified),
		cmocka_unit_test(test_one_alert_per_response),
		cmocka_unit_test(test_forged_and_unsigned),
		cmocka_unit_test(test_no_key_unverified),
		cmocka_unit_test(test_scraping),
		cmocka_unit_test(test_health),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
