/*
 * store_writer: appending alerts. Group commit (one transaction per batch
 * alerts or batch_ms), the chain extended inside each write transaction,
 * the map grown on MDB_MAP_FULL, failed commits (full disk, I/O errors)
 * kept in memory up to queue_cap and retried; and the purge.
 */
#include "store/store_int.h"
#include "core/gb_log.h"
#include "core/gb_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_MS	1000	/* between retries of a failed commit */
#define GROW_TRIES	16
#define PURGE_CHUNK	10000

struct store_writer {
	struct store		 st;
	char			*dir;
	struct store_writer_opts o;
	bool			 env_bad;	/* reopen before the next try */
	struct gb_buf		 q;		/* u32 length || record, ... */
	size_t			 qn;
	uint64_t		 q_since_ms;	/* when the oldest was queued */
	uint64_t		 retry_ms;	/* next retry after a failure */
	uint64_t		 unsigned_n;	/* committed since checkpoint */
	uint64_t		 ckpt_ms;	/* time of the last checkpoint */
	bool			 failing;	/* last commit failed */
	struct store_writer_stats s;
};

static int
wr_open_env(struct store_writer *w)
{
	uint64_t map = w->o.map_size;

	memset(&w->st, 0, sizeof(w->st));
	if (store_env_open(&w->st, w->dir, STORE_CREATE |
	    (w->o.nosync ? STORE_NOSYNC : 0), map) == -1)
		return -1;
	w->env_bad = false;
	return 0;
}

int
store_writer_open(const char *dir, const struct store_writer_opts *opts,
    struct store_writer **out, char *err, size_t errlen)
{
	struct store_writer *w;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->dir = strdup(dir)) == NULL) {
		free(w);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (opts != NULL)
		w->o = *opts;
	if (w->o.batch == 0)
		w->o.batch = 10000;
	if (w->o.batch_ms == 0)
		w->o.batch_ms = 200;
	if (w->o.queue_cap == 0)
		w->o.queue_cap = 200000;
	if (w->o.queue_cap < w->o.batch)
		w->o.queue_cap = w->o.batch;
	if (w->o.ckpt_every == 0)
		w->o.ckpt_every = 10000;
	if (w->o.ckpt_ms == 0)
		w->o.ckpt_ms = 60000;
	if (w->o.key != NULL && EVP_PKEY_get_base_id(w->o.key) !=
	    EVP_PKEY_ED25519) {
		snprintf(err, errlen, "the signing key is not Ed25519");
		free(w->dir);
		free(w);
		return -1;
	}
	gb_buf_init(&w->q, 0);
	if (wr_open_env(w) == -1) {
		snprintf(err, errlen, "%s", w->st.err);
		free(w->dir);
		free(w);
		return -1;
	}
	w->ckpt_ms = gb_now_ms();
	*out = w;
	return 0;
}

void
store_writer_stats(const struct store_writer *w, struct store_writer_stats *s)
{
	*s = w->s;
	s->pending = w->qn;
}

/*
 * One write transaction: every queued record, the head, and a checkpoint
 * when sign is set (or due). Returns 0, MDB_MAP_FULL (grow and retry), or
 * another error code.
 */
static int
wr_txn(struct store_writer *w, bool sign)
{
	struct store *st = &w->st;
	struct store_alert a;
	struct store_ckpt c;
	uint8_t link[STORE_LINK_LEN], kb[8];
	const uint8_t *p = NULL, *end = NULL;
	uint64_t id;
	MDB_cursor *cur, *curs[DBI_COUNT];
	MDB_txn *txn;
	MDB_val k = { 8, kb }, v;
	int rc, i;

	if (w->qn > 0) {
		p = gb_buf_head(&w->q);
		end = p + gb_buf_used(&w->q);
	}
	if ((rc = store_txn_begin(st, 0, &txn)) != 0)
		return rc;
	if (store_meta_head(st, txn, &id, link) == -1) {
		mdb_txn_abort(txn);
		return MDB_CORRUPTED;
	}
	memset(curs, 0, sizeof(curs));
	for (i = DBI_TIME; i < DBI_COUNT; i++)
		if ((rc = mdb_cursor_open(txn, st->dbi[i], &curs[i])) != 0)
			goto fail;
	if ((rc = mdb_cursor_open(txn, st->dbi[DBI_ALERTS], &cur)) != 0)
		goto fail;
	while (p < end) {
		uint32_t n;

		memcpy(&n, p, 4);
		p += 4;
		id++;
		store_be64(kb, id);
		v.mv_size = STORE_LINK_LEN + n;
		v.mv_data = NULL;
		if ((rc = mdb_cursor_put(cur, &k, &v, MDB_APPEND |
		    MDB_RESERVE)) != 0)
			break;
		if (store_chain_link(link, id, p, n, link) == -1) {
			rc = EIO;
			break;
		}
		memcpy(v.mv_data, link, STORE_LINK_LEN);
		memcpy((uint8_t *)v.mv_data + STORE_LINK_LEN, p, n);
		a.id = id;
		if (store_rec_decode_fields(p, n, &a) == -1) {
			rc = EINVAL;	/* cannot happen: we encoded it */
			break;
		}
		if ((rc = store_idx_apply(st, txn, curs, &a, id, false)) != 0)
			break;
		p += n;
	}
	mdb_cursor_close(cur);
	for (i = DBI_TIME; i < DBI_COUNT; i++) {
		mdb_cursor_close(curs[i]);
		curs[i] = NULL;
	}
	if (rc != 0)
		goto fail;
	if ((rc = store_meta_head_put(st, txn, id, link)) != 0)
		goto fail;
	if (w->o.key != NULL && (sign || w->unsigned_n + w->qn >=
	    w->o.ckpt_every) && id > 0) {
		memset(&c, 0, sizeof(c));
		c.seq = id;
		memcpy(c.link, link, STORE_LINK_LEN);
		c.time_ns = store_now_ns();
		if (store_ckpt_sign(&c, w->o.key) == -1) {
			rc = EINVAL;
			goto fail;
		}
		if ((rc = store_ckpt_put(st, txn, &c, w->o.key)) != 0)
			goto fail;
		sign = true;
	} else
		sign = false;
	if ((rc = mdb_txn_commit(txn)) != 0)
		return rc;
	w->s.last_id = id;
	if (sign) {
		w->s.checkpoints++;
		w->unsigned_n = 0;
		w->ckpt_ms = gb_now_ms();
	} else
		w->unsigned_n += w->qn;
	return 0;
fail:
	for (i = DBI_TIME; i < DBI_COUNT; i++)
		if (curs[i] != NULL)
			mdb_cursor_close(curs[i]);
	mdb_txn_abort(txn);
	return rc;
}

static int
wr_commit(struct store_writer *w, bool sign)
{
	int rc, tries;

	if (w->qn == 0 && !sign)
		return 0;
	if (w->env_bad) {
		store_env_close(&w->st);
		if (wr_open_env(w) == -1) {
			rc = EIO;
			goto failed;
		}
	}
	for (tries = 0; tries < GROW_TRIES; tries++) {
		rc = wr_txn(w, sign);
		if (rc != MDB_MAP_FULL)
			break;
		if (store_env_grow(&w->st) == -1) {
			rc = ENOMEM;
			break;
		}
		w->s.map_grows++;
	}
	if (rc != 0)
		goto failed;
	if (w->failing)
		gb_notice("alert store %s: writing again; %zu held alerts "
		    "committed", w->dir, w->qn);
	w->failing = false;
	w->s.committed += w->qn;
	if (w->qn > 0)
		w->s.batches++;
	w->qn = 0;
	gb_buf_reset(&w->q);
	return 0;
failed:
	w->s.commit_errors++;
	/* After a failed commit LMDB may refuse the environment: reopen. */
	w->env_bad = true;
	w->retry_ms = gb_now_ms() + RETRY_MS;
	if (!w->failing)
		gb_error("alert store %s: commit failed: %s; holding %zu "
		    "alerts in memory (cap %zu) and retrying", w->dir,
		    rc == EIO && w->st.env == NULL ? w->st.err :
		    mdb_strerror(rc), w->qn, w->o.queue_cap);
	w->failing = true;
	return -1;
}

int
store_writer_append(struct store_writer *w, const struct store_alert *a)
{
	struct store_alert c;
	uint8_t *lenp;
	size_t before;
	uint32_t n;

	if (store_alert_check(a, NULL) == -1) {
		w->s.invalid++;
		errno = EINVAL;
		return -1;
	}
	if (w->qn >= w->o.queue_cap) {
		if (!w->failing || gb_now_ms() >= w->retry_ms)
			(void)wr_commit(w, false);
		if (w->qn >= w->o.queue_cap) {
			w->s.lost++;
			if ((w->s.lost & (w->s.lost - 1)) == 0)
				gb_crit("alert store %s: %llu alerts LOST: "
				    "storage keeps failing and %zu are held "
				    "(queue cap)", w->dir,
				    (unsigned long long)w->s.lost, w->qn);
			errno = ENOBUFS;
			return -1;
		}
	}
	/* The alert is ~2 KiB: copy it only to stamp the time. */
	if (a->time_ns == 0) {
		c = *a;
		c.time_ns = store_now_ns();
		a = &c;
	}
	before = w->q.len;
	if ((lenp = gb_buf_reserve(&w->q, 4)) == NULL)
		goto nomem;
	gb_buf_commit(&w->q, 4);
	if (store_rec_encode_checked(a, &w->q) == -1) {
		w->q.len = before;
		goto nomem;
	}
	n = (uint32_t)(w->q.len - before - 4);
	memcpy(w->q.data + before, &n, 4);
	if (w->qn++ == 0)
		w->q_since_ms = gb_now_ms();
	w->s.appended++;
	if (w->qn >= w->o.batch && (!w->failing || gb_now_ms() >= w->retry_ms))
		(void)wr_commit(w, false);
	return 0;
nomem:
	w->s.lost++;
	gb_crit("alert store %s: out of memory: alert LOST (%llu so far)",
	    w->dir, (unsigned long long)w->s.lost);
	errno = ENOBUFS;
	return -1;
}

int
store_writer_tick(struct store_writer *w, uint64_t now_ms)
{
	bool sign = w->o.key != NULL && w->unsigned_n + w->qn > 0 &&
	    now_ms - w->ckpt_ms >= w->o.ckpt_ms;

	if (w->failing && now_ms < w->retry_ms)
		return -1;
	if (w->qn > 0 && (w->failing || sign ||
	    now_ms - w->q_since_ms >= w->o.batch_ms))
		return wr_commit(w, sign);
	if (sign)
		return wr_commit(w, true);
	return 0;
}

int
store_writer_flush(struct store_writer *w)
{
	return wr_commit(w, false);
}

int
store_writer_checkpoint(struct store_writer *w)
{
	if (w->o.key == NULL)
		return 0;
	return wr_commit(w, true);
}

int
store_writer_close(struct store_writer *w)
{
	int rc = 0;

	if (w == NULL)
		return 0;
	if (wr_commit(w, w->o.key != NULL && w->unsigned_n + w->qn > 0) ==
	    -1) {
		w->s.lost += w->qn;
		gb_crit("alert store %s: closing with %zu alerts that could "
		    "not be committed: LOST", w->dir, w->qn);
		rc = -1;
	}
	store_env_close(&w->st);
	gb_buf_free(&w->q);
	free(w->dir);
	free(w);
	return rc;
}

/* --- purge --- */

/* One chunk: returns records purged (0: done), or -1. */
static int64_t
purge_chunk(struct store *st, uint64_t before_ns, EVP_PKEY *key)
{
	struct store_alert a;
	struct store_ckpt c;
	uint8_t link[STORE_LINK_LEN], l[STORE_LINK_LEN], kb[8];
	uint64_t base, id, n = 0, last = 0;
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	if ((rc = store_txn_begin(st, 0, &txn)) != 0) {
		store_seterr(st, "%s", mdb_strerror(rc));
		return -1;
	}
	if (store_meta_base(st, txn, &base) == -1)
		goto fail;
	memset(link, 0, sizeof(link));
	if (base > 0) {
		store_be64(kb, base);
		k.mv_size = 8;
		k.mv_data = kb;
		if (mdb_get(txn, st->dbi[DBI_CKPT], &k, &v) != 0 ||
		    store_ckpt_decode(v.mv_data, v.mv_size, &c) == -1) {
			store_seterr(st, "the base checkpoint is missing: run "
			    "gerbang-audit verify");
			goto fail;
		}
		memcpy(link, c.link, STORE_LINK_LEN);
	}
	if ((rc = mdb_cursor_open(txn, st->dbi[DBI_ALERTS], &cur)) != 0) {
		store_seterr(st, "%s", mdb_strerror(rc));
		goto fail;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 &&
	    n < PURGE_CHUNK; rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) {
		id = store_get_be64(k.mv_data);
		a.id = id;
		if (k.mv_size != 8 || id != base + n + 1 ||
		    v.mv_size < STORE_LINK_LEN ||
		    store_rec_decode((uint8_t *)v.mv_data + STORE_LINK_LEN,
		    v.mv_size - STORE_LINK_LEN, &a) == -1 ||
		    store_chain_link(link, id, (uint8_t *)v.mv_data +
		    STORE_LINK_LEN, v.mv_size - STORE_LINK_LEN, l) == -1 ||
		    memcmp(l, v.mv_data, STORE_LINK_LEN) != 0) {
			store_seterr(st, "the chain is broken at alert %llu: "
			    "purge refused (run gerbang-audit verify)",
			    (unsigned long long)(base + n + 1));
			goto fail;
		}
		if (a.time_ns >= before_ns)
			break;
		memcpy(link, l, STORE_LINK_LEN);
		if ((rc = store_idx_apply(st, txn, NULL, &a, id, true)) != 0 ||
		    (rc = mdb_cursor_del(cur, 0)) != 0) {
			store_seterr(st, "%s", mdb_strerror(rc));
			goto fail;
		}
		last = id;
		n++;
	}
	if (rc != 0 && rc != MDB_NOTFOUND) {
		store_seterr(st, "%s", mdb_strerror(rc));
		goto fail;
	}
	mdb_cursor_close(cur);
	cur = NULL;
	if (n == 0) {
		mdb_txn_abort(txn);
		return 0;
	}
	/* Checkpoints at or before the new base cover purged records. */
	if ((rc = mdb_cursor_open(txn, st->dbi[DBI_CKPT], &cur)) != 0)
		goto lmdb;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0 &&
	    k.mv_size == 8 && store_get_be64(k.mv_data) <= last)
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			goto lmdb;
	mdb_cursor_close(cur);
	cur = NULL;
	memset(&c, 0, sizeof(c));
	c.seq = last;
	memcpy(c.link, link, STORE_LINK_LEN);
	c.time_ns = store_now_ns();
	if (store_ckpt_sign(&c, key) == -1) {
		store_seterr(st, "signing the base checkpoint failed");
		goto fail;
	}
	store_le64(kb, last);
	k.mv_size = 4;
	k.mv_data = (void *)"base";
	v.mv_size = 8;
	v.mv_data = kb;
	if ((rc = store_ckpt_put(st, txn, &c, key)) != 0 ||
	    (rc = mdb_put(txn, st->dbi[DBI_META], &k, &v, 0)) != 0)
		goto lmdb;
	if ((rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		goto lmdb;
	}
	return (int64_t)n;
lmdb:
	store_seterr(st, "%s", mdb_strerror(rc));
fail:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	return -1;
}

int
store_purge(const char *dir, uint64_t before_ns, EVP_PKEY *key,
    uint64_t *purged, char *err, size_t errlen)
{
	struct store st;
	int64_t n;

	*purged = 0;
	if (key == NULL) {
		snprintf(err, errlen, "purge needs the signing key");
		return -1;
	}
	memset(&st, 0, sizeof(st));
	if (store_env_open(&st, dir, 0, 0) == -1) {
		snprintf(err, errlen, "%s", st.err);
		return -1;
	}
	while ((n = purge_chunk(&st, before_ns, key)) > 0)
		*purged += (uint64_t)n;
	if (n == -1)
		snprintf(err, errlen, "%s", st.err);
	store_env_close(&st);
	return n == -1 ? -1 : 0;
}
