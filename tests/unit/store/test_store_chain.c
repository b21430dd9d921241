/*
 * Unit tests for store/store_chain.c: a store verifies with the writer's
 * public key and fails with another; a changed record, a deleted record, a
 * reordered pair, rewritten links, a cut tail and a forged signature are
 * each detected and the first broken record named; a purge leaves a base
 * checkpoint that keeps verification working.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <lmdb.h>

#include "store_test.h"
#include "store/store_int.h"

#define N	600

struct fixture {
	char		*dir;
	EVP_PKEY	*key;
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 alerts;
	MDB_dbi		 meta;
	MDB_dbi		 ckpt;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = t_tmpdir();
	f->key = t_key();
	/* Batches of 100 and a checkpoint every 250: several signatures. */
	{
		struct store_writer_opts o;
		struct store_writer *w;
		struct store_alert a;
		char err[256];

		memset(&o, 0, sizeof(o));
		o.key = f->key;
		o.batch = 100;
		o.ckpt_every = 250;
		assert_int_equal(store_writer_open(f->dir, &o, &w, err,
		    sizeof(err)), 0);
		for (uint64_t i = 1; i <= N; i++) {
			t_alert(i, &a);
			assert_int_equal(store_writer_append(w, &a), 0);
		}
		assert_int_equal(store_writer_close(w), 0);
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	EVP_PKEY_free(f->key);
	t_rmdir(f->dir);
	free(f);
	return 0;
}

/* Raw LMDB access, as an attacker with write access has. */
static void
raw_begin(struct fixture *f)
{
	assert_int_equal(mdb_env_create(&f->env), 0);
	assert_int_equal(mdb_env_set_maxdbs(f->env, 16), 0);
	assert_int_equal(mdb_env_open(f->env, f->dir, 0, 0640), 0);
	assert_int_equal(mdb_txn_begin(f->env, NULL, 0, &f->txn), 0);
	assert_int_equal(mdb_dbi_open(f->txn, "alerts", 0, &f->alerts), 0);
	assert_int_equal(mdb_dbi_open(f->txn, "meta", 0, &f->meta), 0);
	assert_int_equal(mdb_dbi_open(f->txn, "ckpt", 0, &f->ckpt), 0);
}

static void
raw_end(struct fixture *f)
{
	assert_int_equal(mdb_txn_commit(f->txn), 0);
	mdb_env_close(f->env);
}

/* Copy of alert id's value (link || record) into buf; its length. */
static size_t
raw_get(struct fixture *f, uint64_t id, uint8_t *buf)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;

	store_be64(kb, id);
	assert_int_equal(mdb_get(f->txn, f->alerts, &k, &v), 0);
	memcpy(buf, v.mv_data, v.mv_size);
	return v.mv_size;
}

static void
raw_put(struct fixture *f, uint64_t id, const uint8_t *buf, size_t n)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v = { n, (void *)(uintptr_t)buf };

	store_be64(kb, id);
	assert_int_equal(mdb_put(f->txn, f->alerts, &k, &v, 0), 0);
}

static int
verify(struct fixture *f, EVP_PKEY *key, struct store_verify *v)
{
	struct store *st;
	char err[256];
	int rc;

	assert_int_equal(store_open(f->dir, STORE_RDONLY, &st, err,
	    sizeof(err)), 0);
	rc = store_verify_run(st, &key, key != NULL, v);
	store_close(st);
	return rc;
}

static void
test_intact(void **state)
{
	struct fixture *f = *state;
	struct store_verify v;
	EVP_PKEY *other = t_key();

	assert_int_equal(verify(f, f->key, &v), 0);
	assert_int_equal(v.records, N);
	assert_int_equal(v.first_id, 1);
	assert_int_equal(v.last_id, N);
	/* At the batch that reaches 250 unsigned alerts: 300 and 600. */
	assert_int_equal(v.checkpoints, 2);
	assert_int_equal(v.signed_id, N);
	assert_false(v.own_key);
	/* Without a key: the keys recorded in the store, flagged weaker. */
	assert_int_equal(verify(f, NULL, &v), 0);
	assert_true(v.own_key);
	/* Another auditor's key: not evidence. */
	assert_int_equal(verify(f, other, &v), STORE_BROKEN);
	assert_int_equal(v.bad_id, 300);
	assert_non_null(strstr(v.msg, "unknown key"));
	EVP_PKEY_free(other);
}

static void
test_changed_record(void **state)
{
	struct fixture *f = *state;
	struct store_verify v;
	uint8_t buf[STORE_REC_MAX + STORE_LINK_LEN];
	size_t n;

	raw_begin(f);
	n = raw_get(f, 123, buf);
	/* Change the byte count in the header (still a valid record). */
	buf[STORE_LINK_LEN + 36] ^= 1;
	raw_put(f, 123, buf, n);
	raw_end(f);
	assert_int_equal(verify(f, f->key, &v), STORE_BROKEN);
	assert_int_equal(v.bad_id, 123);
	assert_int_equal(v.records, 122);
	assert_non_null(strstr(v.msg, "record 123"));
}

static void
test_rewritten_links(void **state)
{
	struct fixture *f = *state;
	struct store_verify v;
	uint8_t buf[STORE_REC_MAX + STORE_LINK_LEN], link[STORE_LINK_LEN];
	uint64_t id;
	size_t n;

	/* Change record 350 and recompute every link after it and the head:
	 * only the signatures can tell. */
	raw_begin(f);
	n = raw_get(f, 349, buf);
	memcpy(link, buf, STORE_LINK_LEN);
	for (id = 350; id <= N; id++) {
		n = raw_get(f, id, buf);
		if (id == 350)
			buf[STORE_LINK_LEN + 36] ^= 1;
		assert_int_equal(store_chain_link(link, id, buf +
		    STORE_LINK_LEN, n - STORE_LINK_LEN, link), 0);
		memcpy(buf, link, STORE_LINK_LEN);
		raw_put(f, id, buf, n);
	}
	{
		uint8_t hb[8 + STORE_LINK_LEN];
		MDB_val k = { 4, (void *)"head" }, hv = { sizeof(hb), hb };

		store_le64(hb, N);
		memcpy(hb + 8, link, STORE_LINK_LEN);
		assert_int_equal(mdb_put(f->txn, f->meta, &k, &hv, 0), 0);
	}
	raw_end(f);
	assert_int_equal(verify(f, f->key, &v), STORE_BROKEN);
	assert_int_equal(v.bad_id, 600);
	assert_int_equal(v.signed_id, 300);
	assert_non_null(strstr(v.msg, "checkpoint at 600"));
}

static void
test_deleted_record(void **state)
{
	struct fixture *f = *state;
	struct store_verify v;
	uint8_t kb[8];
	MDB_val k = { 8, kb };

	raw_begin(f);
	store_be64(kb, 200);
	assert_int_equal(mdb_del(f->txn, f->alerts, &k, NULL), 0);
	raw_end(f);
	assert_int_equal(verify(f, f->key, &v), STORE_BROKEN);
	assert_int_equal(v.bad_id, 200);
	assert_non_null(strstr(v.msg, "missing"));
}

static void
test_reordered_records(void **state)
{
	struct fixture *f = *state;
	struct store_verify v;
	static uint8_t a[STORE_REC_MAX + STORE_LINK_LEN];
	static uint8_t b[STORE_REC_MAX + STORE_LINK_LEN];
	size_t na, nb;

	raw_begin(f);
	na = raw_get(f, 400, a);
	nb = raw_get(f, 401, b);
	raw_put(f, 400, b, nb);
	raw_put(f, 401, a, na);
	raw_end(f);
	assert_int_equal(verify(f, f->key, &v), STORE_BROKEN);
	assert_int_equal(v.bad_id, 400);
}

static void
test_cut_tail(void **state)
{
	struct fixture *f = *state;
	struct store_verify v;
	uint8_t buf[STORE_REC_MAX + STORE_LINK_LEN], kb[8];
	uint8_t hb[8 + STORE_LINK_LEN];
	MDB_val k = { 8, kb }, hk = { 4, (void *)"head" };
	MDB_val hv = { sizeof(hb), hb };
	uint64_t id;

	/* Remove the last 50 records and move the head back. */
	raw_begin(f);
	for (id = N - 49; id <= N; id++) {
		store_be64(kb, id);
		assert_int_equal(mdb_del(f->txn, f->alerts, &k, NULL), 0);
	}
	raw_get(f, N - 50, buf);
	store_le64(hb, N - 50);
	memcpy(hb + 8, buf, STORE_LINK_LEN);
	assert_int_equal(mdb_put(f->txn, f->meta, &hk, &hv, 0), 0);
	raw_end(f);
	assert_int_equal(verify(f, f->key, &v), STORE_BROKEN);
	assert_non_null(strstr(v.msg, "removed from the end"));
}

static void
test_forged_signature(void **state)
{
	struct fixture *f = *state;
	struct store_verify v;
	struct store_ckpt c;
	uint8_t kb[8], cb[STORE_CKPT_LEN];
	MDB_val k = { 8, kb }, val;

	raw_begin(f);
	store_be64(kb, 300);
	assert_int_equal(mdb_get(f->txn, f->ckpt, &k, &val), 0);
	assert_int_equal(store_ckpt_decode(val.mv_data, val.mv_size, &c), 0);
	assert_int_equal(store_ckpt_check(&c, f->key), 1);
	c.sig[10] ^= 0x40;
	assert_int_equal(store_ckpt_check(&c, f->key), 0);
	store_ckpt_encode(&c, cb);
	val.mv_data = cb;
	val.mv_size = sizeof(cb);
	assert_int_equal(mdb_put(f->txn, f->ckpt, &k, &val, 0), 0);
	raw_end(f);
	assert_int_equal(verify(f, f->key, &v), STORE_BROKEN);
	assert_int_equal(v.bad_id, 300);
	assert_non_null(strstr(v.msg, "bad signature"));
}

static void
test_purge_keeps_verification(void **state)
{
	struct fixture *f = *state;
	struct store_verify v;
	char err[256];
	uint64_t purged;

	assert_int_equal(store_purge(f->dir, T_BASE_NS + 350ULL *
	    60000000000ULL, f->key, &purged, err, sizeof(err)), 0);
	assert_int_equal(purged, 349);
	assert_int_equal(verify(f, f->key, &v), 0);
	assert_int_equal(v.records, N - 349);
	assert_int_equal(v.first_id, 350);
	/* Nothing older is left: a second purge removes nothing. */
	assert_int_equal(store_purge(f->dir, T_BASE_NS + 350ULL *
	    60000000000ULL, f->key, &purged, err, sizeof(err)), 0);
	assert_int_equal(purged, 0);
	assert_int_equal(verify(f, f->key, &v), 0);
}

static void
test_purge_refuses_broken_chain(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[STORE_REC_MAX + STORE_LINK_LEN];
	char err[256];
	uint64_t purged;
	size_t n;

	raw_begin(f);
	n = raw_get(f, 10, buf);
	buf[STORE_LINK_LEN + 36] ^= 1;
	raw_put(f, 10, buf, n);
	raw_end(f);
	assert_int_equal(store_purge(f->dir, T_BASE_NS + 350ULL *
	    60000000000ULL, f->key, &purged, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "broken at alert 10"));
	assert_int_equal(purged, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_intact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_record, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rewritten_links, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_deleted_record, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reordered_records, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cut_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_signature, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_purge_keeps_verification,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge_refuses_broken_chain,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
