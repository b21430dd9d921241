/*
 * Unit tests for store/store_db.c: every query through an index gives
 * exactly what a brute-force filter over all alerts gives, in (time, id)
 * order; after a purge the indexes hold nothing of the purged alerts; the
 * schema check refuses newer and corrupt stores with a clear message; the
 * map grows by itself; read-only opening works without write access.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <fcntl.h>
#include <lmdb.h>

#include "store_test.h"
#include "store/store_int.h"

#define N	3000

struct got {
	uint64_t	ids[N];
	uint64_t	times[N];
	size_t		n;
};

static int
collect(const struct store_alert *a, const uint8_t *link, void *arg)
{
	struct got *g = arg;

	assert_non_null(link);
	assert_true(g->n < N);
	g->ids[g->n] = a->id;
	g->times[g->n++] = a->time_ns;
	return 0;
}

static bool
name_is(const struct store_str *s, const char *c)
{
	return s->n == strlen(c) && memcmp(s->p, c, s->n) == 0;
}

/* The filter written independently of store_db.c's match(). */
static bool
want(const struct store_query *q, const struct store_alert *a)
{
	uint8_t m[16] = { 0 };
	unsigned b;
	size_t k;
	bool any;

	if (a->time_ns < q->since_ns || (q->until_ns && a->time_ns >=
	    q->until_ns))
		return false;
	if (q->rule && !name_is(&a->rule, q->rule))
		return false;
	if (q->consumer && !name_is(&a->consumer, q->consumer))
		return false;
	if (q->incident && !name_is(&a->incident, q->incident))
		return false;
	if (q->min_sev > 0 && a->severity < q->min_sev)
		return false;
	if (q->type) {
		for (any = false, k = 0; k < a->ncounts; k++)
			any |= name_is(&a->counts[k].type, q->type);
		if (!any)
			return false;
	}
	if (q->has_src) {
		if (a->af == STORE_AF_NONE)
			return false;
		if (a->af == STORE_AF_INET) {
			m[10] = m[11] = 0xff;
			memcpy(m + 12, a->src, 4);
		} else
			memcpy(m, a->src, 16);
		for (b = 0; b < q->src_bits; b++)
			if ((m[b / 8] ^ q->src_net[b / 8]) & (0x80 >> (b % 8)))
				return false;
	}
	return true;
}

static void
check_query(struct store *st, const struct store_query *q)
{
	static struct got g, exp;
	struct store_alert a;
	uint64_t id;
	size_t i, j;

	g.n = exp.n = 0;
	assert_int_equal(store_query_run(st, q, collect, &g), 0);
	for (id = 1; id <= N; id++) {
		if (store_get(st, id, &a, NULL) != 0)
			continue;
		if (want(q, &a)) {
			exp.ids[exp.n] = id;
			exp.times[exp.n++] = a.time_ns;
		}
	}
	/* Expected order: (time, id). */
	for (i = 1; i < exp.n; i++)
		for (j = i; j > 0 && (exp.times[j - 1] > exp.times[j] ||
		    (exp.times[j - 1] == exp.times[j] &&
		    exp.ids[j - 1] > exp.ids[j])); j--) {
			uint64_t t = exp.times[j], d = exp.ids[j];

			exp.times[j] = exp.times[j - 1];
			exp.ids[j] = exp.ids[j - 1];
			exp.times[j - 1] = t;
			exp.ids[j - 1] = d;
		}
	assert_int_equal(g.n, exp.n);
	assert_memory_equal(g.ids, exp.ids, g.n * sizeof(g.ids[0]));
}

static void
queries(struct store *st)
{
	static const char *const rules[] = { "bulk-nik", "scrape-kk", "none" };
	static const char *const cons[] = { "dukcapil", "pajak", "x" };
	static const char *const types[] = { "nik", "passport", "zz" };
	static const char *const nets[] = { "10.0.0.0/8", "10.1.0.0/16",
		"10.2.0.7", "2001::/16", "::/0", "192.168.0.0/16" };
	struct store_query q;
	size_t i;
	int s;

	memset(&q, 0, sizeof(q));
	check_query(st, &q);
	q.since_ns = T_BASE_NS + 1000ULL * 60000000000ULL;
	q.until_ns = T_BASE_NS + 2000ULL * 60000000000ULL;
	check_query(st, &q);
	for (i = 0; i < 3; i++) {
		memset(&q, 0, sizeof(q));
		q.rule = rules[i];
		check_query(st, &q);
		q.since_ns = T_BASE_NS + 300ULL * 60000000000ULL;
		q.until_ns = T_BASE_NS + 900ULL * 60000000000ULL;
		check_query(st, &q);
		q.rule = NULL;
		q.consumer = cons[i];
		check_query(st, &q);
		q.consumer = NULL;
		q.type = types[i];
		check_query(st, &q);
		q.min_sev = STORE_SEV_HIGH;
		check_query(st, &q);
		q.type = NULL;
		q.incident = i == 0 ? "INC-7" : "nope";
		check_query(st, &q);
	}
	for (i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
		memset(&q, 0, sizeof(q));
		assert_int_equal(store_cidr_parse(nets[i], q.src_net,
		    &q.src_bits), 0);
		q.has_src = true;
		check_query(st, &q);
		q.rule = "bulk-phone";
		check_query(st, &q);
	}
	for (s = 0; s < STORE_SEV_COUNT; s++) {
		memset(&q, 0, sizeof(q));
		q.min_sev = s;
		check_query(st, &q);
	}
}

static void
test_index_consistency(void **state)
{
	char *dir = t_tmpdir(), err[256];
	struct store *st;
	struct store_head h;
	EVP_PKEY *key = t_key();
	uint64_t purged;
	MDB_txn *txn;
	MDB_stat ms;
	int i;

	(void)state;
	t_fill(dir, 1, N, key, 250);
	assert_int_equal(store_open(dir, STORE_RDONLY, &st, err, sizeof(err)),
	    0);
	assert_int_equal(store_head_get(st, &h), 0);
	assert_int_equal(h.last_id, N);
	assert_int_equal(h.count, N);
	queries(st);
	store_close(st);

	/* Purge alerts 1..999 (older than minute 1000); the indexes follow. */
	assert_int_equal(store_purge(dir, T_BASE_NS + 1000ULL *
	    60000000000ULL, key, &purged, err, sizeof(err)), 0);
	assert_int_equal(purged, 999);
	assert_int_equal(store_open(dir, STORE_RDONLY, &st, err, sizeof(err)),
	    0);
	assert_int_equal(store_head_get(st, &h), 0);
	assert_int_equal(h.base_id, 999);
	assert_int_equal(h.count, N - 999);
	queries(st);
	/* Each index holds one entry per remaining alert (i_type: per type). */
	assert_int_equal(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn), 0);
	for (i = DBI_TIME; i <= DBI_SEV; i++) {
		if (i == DBI_SRC || i == DBI_CONS)
			continue;
		assert_int_equal(mdb_stat(txn, st->dbi[i], &ms), 0);
		assert_int_equal(ms.ms_entries, N - 999);
	}
	mdb_txn_abort(txn);
	store_close(st);
	EVP_PKEY_free(key);
	t_rmdir(dir);
}

static void
test_open_errors(void **state)
{
	char *dir = t_tmpdir(), err[256], path[512];
	struct store *st;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { 6, (void *)"schema" }, v = { 4, (void *)"\x02\0\0\0" };
	int fd;

	(void)state;
	/* No store there. */
	assert_int_equal(store_open(dir, STORE_RDONLY, &st, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "no alert store here"));
	/* An LMDB file that is not a gerbang store. */
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_int_equal(store_open(dir, STORE_RDONLY, &st, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "not a gerbang store"));
	/* A store with a newer schema. */
	assert_int_equal(store_open(dir, STORE_CREATE, &st, err, sizeof(err)),
	    0);
	store_close(st);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_int_equal(store_open(dir, STORE_RDONLY, &st, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "schema version 2 is newer"));
	assert_int_equal(store_open(dir, STORE_CREATE, &st, err, sizeof(err)),
	    -1);
	/* A corrupt file. */
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_int_equal(unlink(path), 0);
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0640)) >= 0);
	for (int i = 0; i < 64; i++)
		assert_int_equal(write(fd, "garbage!garbage!garbage!garbage!"
		    "garbage!garbage!garbage!garbage!", 64), 64);
	close(fd);
	assert_int_equal(store_open(dir, STORE_RDONLY, &st, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "corrupt"));
	t_rmdir(dir);
}

static void
test_map_growth(void **state)
{
	struct store_writer_opts o;
	struct store_writer_stats s;
	struct store_writer *w;
	struct store_alert a;
	struct store_head h;
	struct store *st;
	char *dir = t_tmpdir(), err[256];
	uint64_t i;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.map_size = 256 << 10;		/* 256 KiB: fills after a few hundred */
	o.batch = 500;
	assert_int_equal(store_writer_open(dir, &o, &w, err, sizeof(err)), 0);
	for (i = 1; i <= 20000; i++) {
		t_alert(i, &a);
		assert_int_equal(store_writer_append(w, &a), 0);
	}
	assert_int_equal(store_writer_flush(w), 0);
	store_writer_stats(w, &s);
	assert_true(s.map_grows > 0);
	assert_int_equal(s.committed, 20000);
	assert_int_equal(s.lost, 0);
	/* A reader opened now sees the grown map. */
	assert_int_equal(store_open(dir, STORE_RDONLY, &st, err, sizeof(err)),
	    0);
	assert_int_equal(store_head_get(st, &h), 0);
	assert_int_equal(h.count, 20000);
	/* The writer grows again while the reader is open; renew adopts it. */
	for (i = 20001; i <= 60000; i++) {
		t_alert(i, &a);
		assert_int_equal(store_writer_append(w, &a), 0);
	}
	assert_int_equal(store_writer_close(w), 0);
	assert_int_equal(store_read_renew(st), 0);
	assert_int_equal(store_head_get(st, &h), 0);
	assert_int_equal(h.count, 60000);
	assert_int_equal(store_get(st, 59999, &a, NULL), 0);
	assert_int_equal(store_get(st, 60001, &a, NULL), STORE_NOTFOUND);
	store_close(st);
	t_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_consistency),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_map_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
