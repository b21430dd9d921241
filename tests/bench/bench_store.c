/*
 * bench_store: the alert store's figures against the targets of issue 6.
 *
 *	durable insert rate	alerts/s through store_writer (batches of
 *				10000, the default, or BATCH; fsync per
 *				commit; checkpoints signed every 10000)
 *	verify			store_verify_run() over the insert store
 *	bytes per alert		data.mdb pages in use / alerts
 *	one-day rule query	store_query_run(--rule X, one day) on a
 *				store of FILL alerts spread over 100 days
 *	insert into it		INSERT / 5 more durable alerts into that
 *				store (for information: deeper trees)
 *
 * usage: bench_store DIR [INSERT [FILL]]   (defaults 1000000, 10000000)
 * DIR must not exist; it is left for bench_store.sh to time the CLI on.
 * FILL_NOSYNC=1 builds the big store without fsync (faster, unsafe; the
 * insert figure is always durable).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/gb_util.h"
#include "store/store.h"

#define DAY_NS	(86400ULL * 1000000000ULL)
#define BASE_NS	(1795305600ULL * 1000000000ULL)	/* 2026-11-22 */
#define DAYS	100
#define RULES	20

static const char *const types[] = { "nik", "kk", "npwp", "phone", "email" };

static char rules[RULES][16], consumers[50][16], messages[16][64];

static void
gen_init(void)
{
	int i;

	for (i = 0; i < RULES; i++)
		snprintf(rules[i], sizeof(rules[i]), "rule-%02d", i);
	for (i = 0; i < 50; i++)
		snprintf(consumers[i], sizeof(consumers[i]), "consumer-%d", i);
	for (i = 0; i < 16; i++)
		snprintf(messages[i], sizeof(messages[i]), "%d distinct NIK in "
		    "60 s (threshold 500)", 500 + i * 97);
}

/* Alert i of a series of n (strings from tables: measure the store). */
static void
gen(uint64_t i, uint64_t n, struct store_alert *a)
{
	uint64_t r = i * 2654435761ULL;

	memset(a, 0, sizeof(*a));
	a->time_ns = BASE_NS + (i * (DAYS * DAY_NS / n));
	a->severity = (uint8_t)(r % 5);
	a->sensor = store_str("sensor-01");
	a->rule = store_str(rules[i % RULES]);
	a->consumer = store_str(consumers[r % 50]);
	a->flags = STORE_A_CONSUMER_VERIFIED;
	/* Sources: 200 partner addresses (consumers call from a few). */
	a->af = STORE_AF_INET;
	a->src[0] = 10;
	a->src[1] = (uint8_t)(r % 200 / 50);
	a->src[3] = (uint8_t)(r % 200);
	a->dst[0] = 10;
	a->dst[3] = 1;
	a->sport = (uint16_t)(1024 + r % 60000);
	a->dport = 8080;
	a->proto = 6;
	a->method = store_str("GET");
	a->host = store_str("api.dukcapil.example.go.id");
	a->path = store_str("/api/v1/penduduk?kecamatan=317101&page=12");
	a->status = 200;
	a->bytes = 250000 + r % 100000;
	a->win_start_ns = a->time_ns - 60 * 1000000000ULL;
	a->win_end_ns = a->time_ns;
	a->message = store_str(messages[r % 16]);
	a->ncounts = 2;
	a->counts[0].type = store_str(types[0]);
	a->counts[0].count = 1200 + r % 1000;
	a->counts[0].distinct = 1000 + r % 200;
	a->counts[1].type = store_str(types[1 + r % 4]);
	a->counts[1].count = 40;
	a->counts[1].distinct = 38;
	a->nsamples = 2;
	a->samples[0].type = store_str("nik");
	a->samples[0].value = store_str("3171********0001");
	a->samples[1].type = store_str("nik");
	a->samples[1].value = store_str("3273********0004");
}

static double
secs(uint64_t t0)
{
	return (double)(gb_now_ns() - t0) / 1e9;
}

/* CPU time of this process (user + system), in ns. */
static uint64_t
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static double cpu_per_alert;	/* µs, of the last fill */

static size_t batch = 10000;

/* Alerts first..first+count of a series of n (times spread as for n). */
static int
fill_range(const char *dir, uint64_t first, uint64_t count, uint64_t n,
    EVP_PKEY *key, bool nosync, double *rate)
{
	struct store_writer_opts o;
	struct store_writer *w;
	struct store_alert a;
	char err[256];
	uint64_t i, t0, c0;

	memset(&o, 0, sizeof(o));
	o.key = key;
	o.batch = batch;
	o.nosync = nosync;
	o.map_size = 1ULL << 30;
	if (store_writer_open(dir, &o, &w, err, sizeof(err)) == -1) {
		fprintf(stderr, "bench_store: %s\n", err);
		return -1;
	}
	t0 = gb_now_ns();
	c0 = cpu_ns();
	for (i = first; i < first + count; i++) {
		gen(i, n, &a);
		if (store_writer_append(w, &a) == -1) {
			fprintf(stderr, "bench_store: append failed\n");
			return -1;
		}
	}
	if (store_writer_close(w) == -1)
		return -1;
	*rate = (double)count / secs(t0);
	cpu_per_alert = (double)(cpu_ns() - c0) / 1e3 / (double)count;
	return 0;
}

static int
fill(const char *dir, uint64_t n, EVP_PKEY *key, bool nosync, double *rate)
{
	return fill_range(dir, 0, n, n, key, nosync, rate);
}

static int
count_cb(const struct store_alert *a, const uint8_t *link, void *arg)
{
	(void)a;
	(void)link;
	(*(uint64_t *)arg)++;
	return 0;
}

int
main(int argc, char *argv[])
{
	char dir[4096], err[256];
	uint64_t ninsert = 1000000, nfill = 10000000, t0, hits;
	struct store_verify v;
	struct store_query q;
	struct store *st;
	EVP_PKEY *key;
	double rate, dt, best = 1e9;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_store DIR [INSERT [FILL]]\n");
		return 2;
	}
	if (argc > 2)
		ninsert = strtoull(argv[2], NULL, 10);
	if (argc > 3)
		nfill = strtoull(argv[3], NULL, 10);
	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL)
		return 1;
	gen_init();
	if (getenv("BATCH") != NULL)
		batch = strtoull(getenv("BATCH"), NULL, 10);

	snprintf(dir, sizeof(dir), "%s/insert", argv[1]);
	if (fill(dir, ninsert, key, false, &rate) == -1)
		return 1;
	printf("insert (durable, batch %zu): %llu alerts, %.0f alerts/s  "
	    "[target >= 100000: %s]\n", batch, (unsigned long long)ninsert,
	    rate,
	    rate >= 100000 ? "MET" : "NOT MET");
	printf("  CPU per alert: %.2f us (%.0f alerts per CPU second; the "
	    "rest of the wall time is fsync and other load)\n", cpu_per_alert,
	    1e6 / cpu_per_alert);
	fflush(stdout);
	if (store_open(dir, STORE_RDONLY, &st, err, sizeof(err)) == -1) {
		fprintf(stderr, "bench_store: %s\n", err);
		return 1;
	}
	printf("bytes per alert on disk: %.0f (data.mdb pages in use, all "
	    "indexes included)\n", (double)store_used_bytes(st) /
	    (double)ninsert);
	t0 = gb_now_ns();
	if (store_verify_run(st, &key, 1, &v) != 0) {
		fprintf(stderr, "bench_store: verify failed: %s\n", v.msg);
		return 1;
	}
	dt = secs(t0);
	printf("verify: %llu alerts, %llu signatures in %.2f s  "
	    "[target %s: %s]\n", (unsigned long long)v.records,
	    (unsigned long long)v.checkpoints, dt,
	    "1M < 5 s", dt * 1e6 / (double)ninsert < 5 ? "MET" : "NOT MET");
	fflush(stdout);
	store_close(st);

	snprintf(dir, sizeof(dir), "%s/fill", argv[1]);
	if (fill(dir, nfill, key, getenv("FILL_NOSYNC") != NULL, &rate) == -1)
		return 1;
	printf("filled %llu alerts over %d days, %d rules (%.0f alerts/s%s)\n",
	    (unsigned long long)nfill, DAYS, RULES, rate,
	    getenv("FILL_NOSYNC") ? ", no fsync" : ", durable");
	if (store_open(dir, STORE_RDONLY, &st, err, sizeof(err)) == -1) {
		fprintf(stderr, "bench_store: %s\n", err);
		return 1;
	}
	printf("bytes per alert on disk (fill): %.0f\n",
	    (double)store_used_bytes(st) / (double)nfill);
	memset(&q, 0, sizeof(q));
	q.rule = "rule-07";
	q.since_ns = BASE_NS + 42 * DAY_NS;
	q.until_ns = q.since_ns + DAY_NS;
	/* Cold first, then the best of 5 warm runs. */
	for (i = 0; i < 6; i++) {
		hits = 0;
		store_read_renew(st);
		t0 = gb_now_ns();
		if (store_query_run(st, &q, count_cb, &hits) != 0)
			return 1;
		dt = secs(t0);
		if (i == 0)
			printf("one-day rule query: %llu alerts, first run "
			    "%.1f ms\n", (unsigned long long)hits, dt * 1e3);
		else if (dt < best)
			best = dt;
	}
	printf("one-day rule query (library, decoded): best %.1f ms  "
	    "[target < 100 ms: %s]\n", best * 1e3, best < 0.1 ? "MET" :
	    "NOT MET");
	store_close(st);
	/* The same durable insert, into the big store (deeper trees). */
	if (fill_range(dir, nfill, ninsert / 5, nfill, key, false, &rate) == -1)
		return 1;
	printf("insert (durable, batch %zu) into the %llu-alert store: "
	    "%llu alerts, %.0f alerts/s\n", batch, (unsigned long long)nfill,
	    (unsigned long long)(ninsert / 5), rate);
	EVP_PKEY_free(key);
	return 0;
}
