/*
 * Unit tests for detectors/det_bulk.c: thresholds per scope, one alert per
 * key and window, escalation when the count doubles, sliding windows,
 * allowed subjects, canaries, LRU eviction at max_keys, the sketch
 * taking over past exact_cap, and counting in batches.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "detectors/det_bulk.h"

static const char yaml[] =
    "bulk:\n"
    "  - name: resp-nik\n"
    "    type: nik\n"
    "    scope: response\n"
    "    distinct: 10\n"
    "  - name: consumer-any\n"
    "    type: any\n"
    "    scope: consumer\n"
    "    distinct: 20\n"
    "    window: 60s\n"
    "    severity: critical\n"
    "  - name: source-phone\n"
    "    type: phone\n"
    "    scope: source\n"
    "    distinct: 5\n"
    "    window: 10s\n"
    "    severity: medium\n";

#define MAXA	64

struct got {
	size_t			n;
	struct det_bulk_alert	a[MAXA];
	char			key[MAXA][64];
};

static struct det_rules *rules;
static const uint8_t hkey[16] = "0123456789abcdef";

static void
on_alert(const struct det_bulk_alert *a, void *arg)
{
	struct got *g = arg;

	assert_true(g->n < MAXA);
	g->a[g->n] = *a;
	assert_true(a->key_len < 64);
	memcpy(g->key[g->n], a->key, a->key_len);
	g->key[g->n][a->key_len] = '\0';
	g->a[g->n].key = NULL;
	g->n++;
}

static void
finding(struct det_finding *f, enum det_type t, unsigned i)
{
	memset(f, 0, sizeof(*f));
	f->type = t;
	f->confidence = 90;
	f->vlen = (uint16_t)snprintf(f->value, sizeof(f->value), "%s%08u",
	    t == DET_T_PHONE ? "62812" : "31710157", i);
}

static struct det_bulk_subject
who(const char *resp, const char *src, const char *cons)
{
	struct det_bulk_subject w;

	memset(&w, 0, sizeof(w));
	if (resp != NULL) {
		w.key[DET_SCOPE_RESPONSE] = resp;
		w.len[DET_SCOPE_RESPONSE] = strlen(resp);
	}
	if (src != NULL) {
		w.key[DET_SCOPE_SOURCE] = src;
		w.len[DET_SCOPE_SOURCE] = strlen(src);
	}
	if (cons != NULL) {
		w.key[DET_SCOPE_CONSUMER] = cons;
		w.len[DET_SCOPE_CONSUMER] = strlen(cons);
	}
	return w;
}

static void
test_response(void **state)
{
	struct det_bulk *b;
	struct det_bulk_subject w = who("r1", NULL, NULL);
	struct det_bulk_stats st;
	struct det_finding f;
	struct got g;
	unsigned i;

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(det_bulk_new(rules, hkey, NULL, &b), 0);
	for (i = 0; i < 10; i++) {
		finding(&f, DET_T_NIK, i);
		assert_int_equal(det_bulk_add(b, &w, &f, 0, on_alert, &g), 0);
		assert_int_equal(det_bulk_add(b, &w, &f, 0, on_alert, &g), 0);
	}
	/* Another type does not count for a nik rule. */
	finding(&f, DET_T_KK, 99);
	assert_int_equal(det_bulk_add(b, &w, &f, 0, on_alert, &g), 0);
	finding(&f, DET_T_NIK, 10);
	assert_int_equal(det_bulk_add(b, &w, &f, 5, on_alert, &g), 1);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.a[0].rule->name, "resp-nik");
	assert_int_equal(g.a[0].flags, DET_BULK_A_FIRST);
	assert_int_equal(g.a[0].distinct, 11);
	assert_true(g.a[0].exact);
	assert_int_equal(g.a[0].count[DET_T_NIK], 21);
	assert_int_equal(g.a[0].distinct_type[DET_T_NIK], 11);
	assert_int_equal(g.a[0].severity, DET_SEV_HIGH);
	assert_string_equal(g.key[0], "r1");
	/* No second alert until the count doubles (22), then escalated. */
	for (i = 11; i < 21; i++) {
		finding(&f, DET_T_NIK, i);
		det_bulk_add(b, &w, &f, 5, on_alert, &g);
	}
	assert_int_equal(g.n, 1);
	finding(&f, DET_T_NIK, 21);
	det_bulk_add(b, &w, &f, 5, on_alert, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.a[1].flags, DET_BULK_A_ESCALATED);
	assert_int_equal(g.a[1].severity, DET_SEV_CRITICAL);
	assert_int_equal(g.a[1].distinct, 22);
	/* The response ends: its state goes; a new one starts from 0. */
	det_bulk_stats(b, &st);
	assert_int_equal(st.keys, 1);
	det_bulk_end(b, DET_SCOPE_RESPONSE, "r1", 2);
	det_bulk_stats(b, &st);
	assert_int_equal(st.keys, 0);
	assert_int_equal(st.alerts, 2);
	finding(&f, DET_T_NIK, 0);
	assert_int_equal(det_bulk_add(b, &w, &f, 9, on_alert, &g), 0);
	/* The ended entry is reused (counters kept, emptied): the next
	 * response counts from one and alerts on its own eleventh value. */
	{
		struct det_bulk_alert pk;

		assert_int_equal(det_bulk_peek(b, det_rules_bulk(rules, 0),
		    "r1", 2, 9, &pk), 0);
		assert_int_equal(pk.distinct, 1);
		assert_true(pk.exact);
		for (i = 1; i < 11; i++) {
			finding(&f, DET_T_NIK, 100 + i);
			det_bulk_add(b, &w, &f, 9, on_alert, &g);
		}
		assert_int_equal(g.n, 3);
		assert_int_equal(g.a[2].flags, DET_BULK_A_FIRST);
		assert_int_equal(g.a[2].distinct, 11);
	}
	det_bulk_free(b);
	det_bulk_free(NULL);
}

static void
test_window(void **state)
{
	struct det_bulk *b;
	struct det_bulk_subject w = who(NULL, "10.0.0.1", NULL);
	struct det_finding f;
	struct got g;
	unsigned i;
	uint64_t t;

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(det_bulk_new(rules, hkey, NULL, &b), 0);
	/* 5 phones a 3 s apart: never more than 5 in 10 s. */
	for (i = 0, t = 0; i < 20; i++, t += 3000) {
		finding(&f, DET_T_PHONE, i);
		det_bulk_add(b, &w, &f, t, on_alert, &g);
	}
	assert_int_equal(g.n, 0);
	/* 6 within a second: alert once, medium, the source as key. */
	for (i = 100; i < 106; i++) {
		finding(&f, DET_T_PHONE, i);
		det_bulk_add(b, &w, &f, t, on_alert, &g);
	}
	assert_int_equal(g.n, 1);
	assert_string_equal(g.key[0], "10.0.0.1");
	assert_int_equal(g.a[0].scope, DET_SCOPE_SOURCE);
	assert_int_equal(g.a[0].severity, DET_SEV_MEDIUM);
	assert_true(g.a[0].distinct >= 6);
	assert_true(g.a[0].since_ms <= t && t - g.a[0].since_ms <= 10000);
	/* A burst 20 s later is a new window: a first alert again. */
	t += 20000;
	for (i = 200; i < 206; i++) {
		finding(&f, DET_T_PHONE, i);
		det_bulk_add(b, &w, &f, t, on_alert, &g);
	}
	assert_int_equal(g.n, 2);
	assert_int_equal(g.a[1].flags, DET_BULK_A_FIRST);
	assert_int_equal(g.a[1].distinct, 6);
	/* Time going back a long way counts nothing. */
	finding(&f, DET_T_PHONE, 999);
	assert_int_equal(det_bulk_add(b, &w, &f, t - 9000, on_alert, &g), 0);
	det_bulk_free(b);
}

static void
test_allow_canary(void **state)
{
	struct det_bulk *b;
	struct det_bulk_subject w = who("r", NULL, "etl-bps");
	struct det_bulk_subject w2 = who("r2", NULL, "app-x");
	struct det_bulk_stats st;
	struct det_finding f;
	uint8_t h[32];
	char buf[160];
	struct got g;
	unsigned i;

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(det_bulk_new(rules, hkey, NULL, &b), 0);
	assert_int_equal(det_bulk_allow(b, DET_SCOPE_CONSUMER, "etl-bps", 7),
	    0);
	finding(&f, DET_T_EMAIL, 4242);
	snprintf(buf, sizeof(buf), "email:%s", f.value);
	SHA256((const unsigned char *)buf, strlen(buf), h);
	assert_int_equal(det_bulk_canary(b, DET_T_EMAIL, h), 0);
	for (i = 0; i < 50; i++) {
		finding(&f, DET_T_KK, i);
		det_bulk_add(b, &w, &f, 1000, on_alert, &g);
	}
	assert_int_equal(g.n, 0);	/* allowed consumer */
	for (i = 0; i < 21; i++) {
		finding(&f, i % 2 ? DET_T_KK : DET_T_NPWP, i);
		det_bulk_add(b, &w2, &f, 1000, on_alert, &g);
	}
	assert_int_equal(g.n, 1);	/* "any": 21 distinct over two types */
	assert_string_equal(g.a[0].rule->name, "consumer-any");
	assert_int_equal(g.a[0].distinct_type[DET_T_KK], 10);
	assert_int_equal(g.a[0].distinct_type[DET_T_NPWP], 11);
	/* The canary alerts even for the allowed consumer, every time. */
	finding(&f, DET_T_EMAIL, 4242);
	assert_int_equal(det_bulk_add(b, &w, &f, 2000, on_alert, &g), 1);
	assert_int_equal(det_bulk_add(b, &w, &f, 2001, on_alert, &g), 1);
	assert_int_equal(g.n, 3);
	assert_null(g.a[1].rule);
	assert_int_equal(g.a[1].flags, DET_BULK_A_CANARY);
	assert_string_equal(g.key[1], "etl-bps");
	assert_int_equal(g.a[1].canary_type, DET_T_EMAIL);
	det_bulk_stats(b, &st);
	assert_int_equal(st.canary_hits, 2);
	assert_int_equal(st.allowed, 52);	/* + the 2 canaries */
	assert_string_equal(det_bulk_flags_str(DET_BULK_A_FIRST |
	    DET_BULK_A_CANARY, buf, sizeof(buf)), "first|canary");
	det_bulk_free(b);
}

static void
test_evict_sketch(void **state)
{
	struct det_bulk_limits lim = { .max_keys = 3, .exact_cap = 16,
	    .hll_p = 12, .subwindows = 4 };
	struct det_bulk *b;
	struct det_bulk_subject w;
	struct det_bulk_stats st;
	struct det_finding f;
	char key[32];
	struct got g;
	unsigned i;

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(det_bulk_new(rules, hkey, &lim, &b), 0);
	for (i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "resp-%u", i);
		w = who(key, NULL, NULL);
		finding(&f, DET_T_NIK, i);
		det_bulk_add(b, &w, &f, 0, on_alert, &g);
	}
	det_bulk_stats(b, &st);
	assert_int_equal(st.keys, 3);
	assert_int_equal(st.evictions, 7);
	/* resp-7, 8, 9 are kept; resp-7 used again: resp-8 goes next. */
	{
		const struct det_bulk_rule *r = det_rules_bulk(rules, 0);
		struct det_bulk_alert pk;

		assert_int_equal(r->scope, DET_SCOPE_RESPONSE);
		w = who("resp-7", NULL, NULL);
		finding(&f, DET_T_NIK, 100);
		det_bulk_add(b, &w, &f, 0, on_alert, &g);
		w = who("resp-10", NULL, NULL);
		det_bulk_add(b, &w, &f, 0, on_alert, &g);
		assert_int_equal(det_bulk_peek(b, r, "resp-7", 6, 0, &pk), 0);
		assert_int_equal(pk.distinct, 2);
		assert_int_equal(det_bulk_peek(b, r, "resp-8", 6, 0, &pk), -1);
		assert_int_equal(det_bulk_peek(b, r, "resp-9", 6, 0, &pk), 0);
		assert_int_equal(det_bulk_peek(b, r, "resp-10", 7, 0, &pk), 0);
	}
	/* Past exact_cap: estimated, still alerts once, then escalates. */
	w = who("big", NULL, NULL);
	for (i = 0; i < 5000; i++) {
		finding(&f, DET_T_NIK, i);
		det_bulk_add(b, &w, &f, 0, on_alert, &g);
	}
	assert_true(g.n >= 5 && g.n <= 12);	/* 11, 22, 44, ... 2816 */
	assert_int_equal(g.a[0].flags, DET_BULK_A_FIRST);
	assert_false(g.a[g.n - 1].exact);
	det_bulk_stats(b, &st);
	assert_true(st.bytes < 64 * 1024);
	det_bulk_free(b);
	/* Bad limits. */
	lim.subwindows = 17;
	assert_int_equal(det_bulk_new(rules, hkey, &lim, &b), -1);
	/* No rules at all: nothing counted. */
	assert_int_equal(det_bulk_new(NULL, NULL, NULL, &b), 0);
	w = who("r", "s", "c");
	assert_int_equal(det_bulk_add(b, &w, &f, 0, on_alert, &g), 0);
	det_bulk_free(b);
}

/* canaries: and bulk_allow: in the rules are registered by det_bulk_new. */
static void
test_rules_lists(void **state)
{
	static const char y[] =
	    "bulk:\n"
	    "  - { name: c, type: any, scope: consumer, distinct: 2,"
	    " window: 1m }\n"
	    "canaries:\n"
	    "  - type: nik\n"
	    "    sha256: 80e5ed9cdffa8d965c62911bd6cfb775fee4bf3c78a050fe5a55f4a733652378\n"
	    "    note: demo canary\n"
	    "bulk_allow:\n"
	    "  - { scope: consumer, key: etl-bps, note: nightly export }\n";
	static const char bad[] =
	    "bulk_allow:\n"
	    "  - { scope: response, key: x }\n"
	    "  - { scope: source, key: \"\" }\n"
	    "  - { scope: consumer }\n"
	    "canaries:\n"
	    "  - { type: nik, sha256: abc }\n";
	struct det_rules *r;
	struct det_bulk *b;
	struct det_bulk_subject w = who(NULL, NULL, "etl-bps");
	struct det_bulk_subject w2 = who(NULL, NULL, "app");
	struct det_finding f;
	struct gb_diags d;
	struct got g;
	unsigned i;

	(void)state;
	memset(&g, 0, sizeof(g));
	gb_diags_init(&d, 0);
	assert_int_equal(det_rules_load_mem("l.yaml", y, sizeof(y) - 1, &r,
	    &d), 0);
	assert_int_equal(det_rules_canary_count(r), 1);
	assert_int_equal(det_rules_bulk_allow_count(r), 1);
	assert_string_equal(det_rules_bulk_allow(r, 0)->key, "etl-bps");
	assert_int_equal(det_bulk_new(r, hkey, NULL, &b), 0);
	for (i = 0; i < 5; i++) {
		finding(&f, DET_T_KK, i);
		det_bulk_add(b, &w, &f, 0, on_alert, &g);
	}
	assert_int_equal(g.n, 0);
	for (i = 0; i < 3; i++) {
		finding(&f, DET_T_KK, i);
		det_bulk_add(b, &w2, &f, 0, on_alert, &g);
	}
	assert_int_equal(g.n, 1);
	memset(&f, 0, sizeof(f));
	f.type = DET_T_NIK;
	f.vlen = 16;
	memcpy(f.value, "3171014101990001", 17);
	assert_int_equal(det_bulk_add(b, &w, &f, 0, on_alert, &g), 1);
	assert_int_equal(g.a[1].flags, DET_BULK_A_CANARY);
	det_bulk_free(b);
	det_rules_free(r);
	gb_diags_free(&d);
	gb_diags_init(&d, 0);
	assert_int_equal(det_rules_load_mem("bad.yaml", bad, sizeof(bad) - 1,
	    &r, &d), -1);
	assert_int_equal(d.n, 4);
	gb_diags_print(&d, stderr);
	gb_diags_free(&d);
}

/*
 * det_bulk_value + det_bulk_count in batches of any size count what
 * det_bulk_add counts one by one: the same counts for every rule and key,
 * also while windows slide and values repeat; a batch checks each rule
 * once, at its end.
 */
static void
test_batch(void **state)
{
	static const char *const src[] = { "s1", "s2" };
	static const enum det_type ty[] = { DET_T_NIK, DET_T_PHONE,
	    DET_T_EMAIL };
	struct det_bulk *one, *bat;
	struct det_bulk_val v[40];
	struct det_bulk_alert pa, pb;
	struct det_bulk_subject w;
	struct det_finding f;
	struct got g1, g2;
	const struct det_bulk_rule *r;
	uint64_t t = 1000, x = 7;
	size_t i, j, k, n, nb;
	int round;

	(void)state;
	memset(&g1, 0, sizeof(g1));
	memset(&g2, 0, sizeof(g2));
	assert_int_equal(det_bulk_new(rules, hkey, NULL, &one), 0);
	assert_int_equal(det_bulk_new(rules, hkey, NULL, &bat), 0);
	for (round = 0; round < 60; round++) {
		w = who(NULL, src[round % 2], "c1");
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		nb = 1 + (size_t)(x >> 59);	/* 1 to 32 per batch */
		for (i = 0, n = 0; i < nb; i++) {
			x = x * 6364136223846793005ULL +
			    1442695040888963407ULL;
			/* Values repeat: 50 per type. */
			finding(&f, ty[(x >> 40) % 3], (unsigned)((x >> 20) % 50));
			if (f.type == DET_T_EMAIL) {
				f.vlen = (uint16_t)snprintf(f.value,
				    sizeof(f.value), "w%u@x.id",
				    (unsigned)((x >> 20) % 50));
			}
			det_bulk_add(one, &w, &f, t, on_alert, &g1);
			det_bulk_value(bat, &w, &f, t, on_alert, &g2, &v[n]);
			if (v[n].type < DET_T_COUNT)
				n++;
		}
		det_bulk_count(bat, &w, v, n, t, on_alert, &g2);
		t += 1700;		/* sub-windows of 10 s / 6 roll */
		for (j = 0; j < det_rules_bulk_count(rules); j++) {
			r = det_rules_bulk(rules, j);
			if (r->scope == DET_SCOPE_RESPONSE)
				continue;
			for (k = 0; k < 2; k++) {
				const char *key = r->scope ==
				    DET_SCOPE_CONSUMER ? "c1" : src[k];
				int ra = det_bulk_peek(one, r, key,
				    strlen(key), t, &pa);

				assert_int_equal(det_bulk_peek(bat, r, key,
				    strlen(key), t, &pb), ra);
				if (ra == -1)
					continue;
				assert_int_equal(pa.distinct, pb.distinct);
				assert_memory_equal(pa.count, pb.count,
				    sizeof(pa.count));
				assert_memory_equal(pa.distinct_type,
				    pb.distinct_type, sizeof(pa.distinct_type));
			}
		}
	}
	/* Batching only merges alerts: never more than one by one. */
	assert_true(g2.n > 0 && g2.n <= g1.n);
	det_bulk_free(one);
	det_bulk_free(bat);

	/* 30 NIKs in one batch: one alert for resp-nik, with all 30. */
	memset(&g2, 0, sizeof(g2));
	assert_int_equal(det_bulk_new(rules, hkey, NULL, &bat), 0);
	w = who("r9", NULL, NULL);
	for (i = 0; i < 30; i++) {
		finding(&f, DET_T_NIK, (unsigned)i);
		assert_int_equal(det_bulk_value(bat, &w, &f, 5, on_alert,
		    &g2, &v[i]), 0);
		assert_int_equal(v[i].type, DET_T_NIK);
	}
	assert_int_equal(det_bulk_count(bat, &w, v, 30, 5, on_alert, &g2),
	    1);
	assert_int_equal(g2.n, 1);
	assert_int_equal(g2.a[0].flags, DET_BULK_A_FIRST);
	assert_int_equal(g2.a[0].distinct, 30);
	assert_string_equal(g2.a[0].rule->name, "resp-nik");
	/* A type no rule counts, and nothing at all: no work, no alert. */
	f.type = DET_T_COUNT;
	det_bulk_value(bat, &w, &f, 5, on_alert, &g2, &v[0]);
	assert_int_equal(v[0].type, DET_T_COUNT);
	assert_int_equal(det_bulk_count(bat, &w, v, 0, 5, on_alert, &g2), 0);
	assert_int_equal(g2.n, 1);
	det_bulk_free(bat);
}

/*
 * Past exact_cap the distinct count is a sketch's estimate, which may be a
 * little over the number of findings: what a reader sees never is (the
 * alert store refuses a record whose distinct count passes its count).
 */
static void
test_estimate_capped(void **state)
{
	struct det_bulk_limits lim = { .exact_cap = 16, .hll_p = 8 };
	struct det_bulk *b;
	struct det_bulk_subject w;
	struct det_bulk_alert pa;
	const struct det_bulk_rule *r = NULL;
	struct det_finding f;
	char key[16];
	size_t j;
	unsigned i, n, over = 0;

	(void)state;
	for (j = 0; j < det_rules_bulk_count(rules); j++)
		if (strcmp(det_rules_bulk(rules, j)->name, "resp-nik") == 0)
			r = det_rules_bulk(rules, j);
	assert_non_null(r);
	assert_int_equal(det_bulk_new(rules, hkey, &lim, &b), 0);
	for (n = 17; n < 300; n++) {
		snprintf(key, sizeof(key), "r%u", n);
		w = who(key, NULL, NULL);
		for (i = 0; i < n; i++) {
			finding(&f, DET_T_NIK, n * 1000 + i);
			det_bulk_add(b, &w, &f, 0, NULL, NULL);
		}
		assert_int_equal(det_bulk_peek(b, r, key, strlen(key), 0, &pa),
		    0);
		assert_false(pa.exact);
		assert_int_equal(pa.count[DET_T_NIK], n);
		assert_true(pa.distinct_type[DET_T_NIK] <= n);
		over += pa.distinct_type[DET_T_NIK] == n;
		det_bulk_end(b, DET_SCOPE_RESPONSE, key, strlen(key));
	}
	assert_true(over > 0);		/* the cap was needed */
	det_bulk_free(b);
}

/*
 * With the default limits, counters are exact up to 2 x their rules'
 * thresholds: 500 distinct seen twice never crosses "more than 500", 510
 * always does, whatever the hash key (red team: the HyperLogLog estimate
 * past exact_cap 256 made this a coin toss).
 */
static void
test_exact_near_threshold(void **state)
{
	static const char y[] =
	    "bulk:\n"
	    "  - { name: c500, type: nik, scope: consumer, distinct: 500, "
	    "window: 1h }\n";
	struct det_rules *r;
	struct gb_diags d;
	struct det_bulk *b;
	struct det_bulk_subject w = who(NULL, NULL, "etl");
	struct det_finding f;
	struct got *g;
	uint8_t key[16];
	unsigned k, i, pass;

	(void)state;
	gb_diags_init(&d, 0);
	assert_int_equal(det_rules_load_mem("c.yaml", y, sizeof(y) - 1, &r,
	    &d), 0);
	gb_diags_free(&d);
	assert_non_null(g = calloc(1, sizeof(*g)));
	for (k = 0; k < 20; k++) {
		memset(key, 0, sizeof(key));
		key[0] = (uint8_t)k;
		key[5] = (uint8_t)(k * 37);
		g->n = 0;
		assert_int_equal(det_bulk_new(r, key, NULL, &b), 0);
		for (pass = 0; pass < 2; pass++)
			for (i = 0; i < 500; i++) {
				finding(&f, DET_T_NIK, i);
				det_bulk_add(b, &w, &f, 1000, on_alert, g);
			}
		assert_int_equal(g->n, 0);
		for (i = 500; i < 510; i++) {
			finding(&f, DET_T_NIK, i);
			det_bulk_add(b, &w, &f, 1000, on_alert, g);
		}
		assert_int_equal(g->n, 1);
		assert_true(g->a[0].exact);
		assert_int_equal(g->a[0].distinct, 501);
		det_bulk_free(b);
	}
	free(g);
	det_rules_free(r);
}

static int
setup(void **state)
{
	struct gb_diags d;
	int rc;

	(void)state;
	gb_diags_init(&d, 0);
	rc = det_rules_load_mem("test.yaml", yaml, sizeof(yaml) - 1, &rules,
	    &d);
	gb_diags_print(&d, stderr);
	gb_diags_free(&d);
	return rc;
}

static int
teardown(void **state)
{
	(void)state;
	det_rules_free(rules);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_allow_canary),
		cmocka_unit_test(test_evict_sketch),
		cmocka_unit_test(test_rules_lists),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_estimate_capped),
		cmocka_unit_test(test_exact_near_threshold),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
