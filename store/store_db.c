/*
 * store_db: the LMDB environment, the schema check, the secondary indexes,
 * reads and queries, and the time and address parsers of the query CLI.
 */
#include "store/store_int.h"
#include "core/gb_util.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *const store_dbi_names[DBI_COUNT] = {
	"alerts", "meta", "ckpt", "i_time", "i_rule", "i_src", "i_cons",
	"i_sev", "i_type", "i_inc",
};

#define MAP_DEFAULT	(64ULL << 20)
#define MAP_STEP_MAX	(4ULL << 30)

void
store_seterr(struct store *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
}

const char *
store_errstr(const struct store *st)
{
	return st->err;
}

void
store_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

uint64_t
store_get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

void
store_le64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t
store_get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

int
store_txn_begin(struct store *st, unsigned flags, MDB_txn **txn)
{
	int rc, tries;

	for (tries = 0; tries < 4; tries++) {
		rc = mdb_txn_begin(st->env, NULL, flags, txn);
		if (rc != MDB_MAP_RESIZED)
			return rc;
		/* Another process grew the map: adopt its size. */
		if ((rc = mdb_env_set_mapsize(st->env, 0)) != 0)
			return rc;
	}
	return MDB_MAP_RESIZED;
}

int
store_env_grow(struct store *st)
{
	MDB_envinfo info;
	uint64_t sz, step;
	int rc;

	if (mdb_env_info(st->env, &info) != 0)
		return -1;
	sz = info.me_mapsize;
	step = sz < MAP_STEP_MAX ? sz : MAP_STEP_MAX;
	if ((rc = mdb_env_set_mapsize(st->env, (size_t)(sz + step))) != 0) {
		store_seterr(st, "cannot grow the map to %llu bytes: %s",
		    (unsigned long long)(sz + step), mdb_strerror(rc));
		return -1;
	}
	return 0;
}

static int
schema_check(struct store *st, MDB_txn *txn, bool create)
{
	MDB_val k = { 6, (void *)"schema" }, v;
	MDB_stat ms;
	uint8_t buf[4];
	uint32_t ver;
	int rc;

	rc = mdb_get(txn, st->dbi[DBI_META], &k, &v);
	if (rc == MDB_NOTFOUND) {
		if (mdb_stat(txn, st->dbi[DBI_ALERTS], &ms) == 0 &&
		    ms.ms_entries > 0) {
			store_seterr(st, "corrupt store: alerts without a "
			    "schema version");
			return -1;
		}
		if (!create) {
			store_seterr(st, "not a gerbang store (no schema "
			    "version)");
			return -1;
		}
		buf[0] = STORE_SCHEMA;
		buf[1] = buf[2] = buf[3] = 0;
		v.mv_size = 4;
		v.mv_data = buf;
		if ((rc = mdb_put(txn, st->dbi[DBI_META], &k, &v, 0)) != 0) {
			store_seterr(st, "cannot write the schema version: %s",
			    mdb_strerror(rc));
			return -1;
		}
		return 0;
	}
	if (rc != 0 || v.mv_size != 4) {
		store_seterr(st, "corrupt store: bad schema version record");
		return -1;
	}
	memcpy(buf, v.mv_data, 4);
	ver = (uint32_t)buf[0] | (uint32_t)buf[1] << 8 |
	    (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 24;
	if (ver > STORE_SCHEMA) {
		store_seterr(st, "store schema version %u is newer than this "
		    "program's (%u): use a newer gerbang", ver, STORE_SCHEMA);
		return -1;
	}
	if (ver < 1) {
		store_seterr(st, "corrupt store: schema version 0");
		return -1;
	}
	return 0;
}

static int
env_try(struct store *st, const char *dir, unsigned eflags, uint64_t map_size)
{
	int rc;

	if ((rc = mdb_env_create(&st->env)) != 0)
		return rc;
	(void)mdb_env_set_maxdbs(st->env, DBI_COUNT + 2);
	(void)mdb_env_set_maxreaders(st->env, 254);
	if (map_size != 0)
		(void)mdb_env_set_mapsize(st->env, (size_t)map_size);
	if ((rc = mdb_env_open(st->env, dir, eflags, 0640)) != 0) {
		mdb_env_close(st->env);
		st->env = NULL;
	}
	return rc;
}

int
store_env_open(struct store *st, const char *dir, int flags,
    uint64_t map_size)
{
	char path[4096];
	struct stat sb;
	unsigned eflags = MDB_NOTLS;
	MDB_txn *txn;
	bool rdonly = (flags & STORE_RDONLY) != 0, exists = true;
	int rc, i;

	st->flags = flags;
	if ((size_t)snprintf(path, sizeof(path), "%s/data.mdb", dir) >=
	    sizeof(path)) {
		store_seterr(st, "%s: path too long", dir);
		return -1;
	}
	if (stat(path, &sb) == -1) {
		exists = false;
		if (errno != ENOENT || !(flags & STORE_CREATE)) {
			store_seterr(st, "%s: no alert store here (%s)", dir,
			    strerror(errno));
			return -1;
		}
		if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
			store_seterr(st, "%s: cannot create: %s", dir,
			    strerror(errno));
			return -1;
		}
	}
	if (rdonly)
		eflags |= MDB_RDONLY;
	if (flags & STORE_NOSYNC)
		eflags |= MDB_NOSYNC;
	if (!rdonly && map_size == 0)
		map_size = MAP_DEFAULT;
	/* Room for the copy-on-write pages of the next transactions. */
	if (!rdonly && exists && (uint64_t)sb.st_size + MAP_DEFAULT > map_size)
		map_size = (uint64_t)sb.st_size + MAP_DEFAULT;
	rc = env_try(st, dir, eflags, map_size);
	if (rdonly && (rc == EACCES || rc == EPERM || rc == EROFS)) {
		/* lock.mdb not writable: read without locks (documented). */
		rc = env_try(st, dir, eflags | MDB_NOLOCK, map_size);
		st->nolock = rc == 0;
	}
	if (rc != 0) {
		if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH)
			store_seterr(st, "%s: corrupt store or not an LMDB "
			    "file (%s)", dir, mdb_strerror(rc));
		else
			store_seterr(st, "%s: cannot open: %s", dir,
			    mdb_strerror(rc));
		return -1;
	}
	if ((rc = store_txn_begin(st, rdonly ? MDB_RDONLY : 0, &txn)) != 0) {
		store_seterr(st, "%s: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	for (i = 0; i < DBI_COUNT; i++) {
		rc = mdb_dbi_open(txn, store_dbi_names[i],
		    rdonly ? 0 : MDB_CREATE, &st->dbi[i]);
		if (rc == MDB_NOTFOUND) {
			store_seterr(st, "%s: not a gerbang store (no "
			    "database \"%s\")", dir, store_dbi_names[i]);
			break;
		}
		if (rc != 0) {
			store_seterr(st, "%s: corrupt store: database \"%s\": "
			    "%s", dir, store_dbi_names[i], mdb_strerror(rc));
			break;
		}
	}
	if (rc != 0 || schema_check(st, txn, !rdonly) == -1) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		store_seterr(st, "%s: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	return 0;
fail:
	mdb_env_close(st->env);
	st->env = NULL;
	return -1;
}

void
store_env_close(struct store *st)
{
	if (st->rtxn != NULL) {
		mdb_txn_abort(st->rtxn);
		st->rtxn = NULL;
	}
	if (st->env != NULL) {
		mdb_env_close(st->env);
		st->env = NULL;
	}
}

int
store_open(const char *dir, int flags, struct store **out, char *err,
    size_t errlen)
{
	struct store *st;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (store_env_open(st, dir, flags, 0) == -1) {
		snprintf(err, errlen, "%s", st->err);
		free(st);
		return -1;
	}
	*out = st;
	return 0;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	store_env_close(st);
	free(st);
}

bool
store_nolock(const struct store *st)
{
	return st->nolock;
}

uint64_t
store_used_bytes(struct store *st)
{
	MDB_envinfo info;
	MDB_stat ms;

	if (mdb_env_info(st->env, &info) != 0 || mdb_env_stat(st->env, &ms))
		return 0;
	return (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
}

int
store_read_begin(struct store *st)
{
	int rc;

	if (st->rtxn != NULL)
		return 0;
	if ((rc = store_txn_begin(st, MDB_RDONLY, &st->rtxn)) != 0) {
		st->rtxn = NULL;
		store_seterr(st, "read transaction: %s", mdb_strerror(rc));
		return -1;
	}
	return 0;
}

int
store_read_renew(struct store *st)
{
	store_read_end(st);
	return store_read_begin(st);
}

void
store_read_end(struct store *st)
{
	if (st->rtxn != NULL) {
		mdb_txn_abort(st->rtxn);
		st->rtxn = NULL;
	}
}

int
store_meta_head(struct store *st, MDB_txn *txn, uint64_t *last_id,
    uint8_t link[STORE_LINK_LEN])
{
	MDB_val k = { 4, (void *)"head" }, v;
	int rc;

	rc = mdb_get(txn, st->dbi[DBI_META], &k, &v);
	if (rc == MDB_NOTFOUND) {
		*last_id = 0;
		memset(link, 0, STORE_LINK_LEN);
		return 0;
	}
	if (rc != 0 || v.mv_size != 8 + STORE_LINK_LEN) {
		store_seterr(st, "corrupt store: bad head record");
		return -1;
	}
	*last_id = store_get_le64(v.mv_data);
	memcpy(link, (uint8_t *)v.mv_data + 8, STORE_LINK_LEN);
	return 0;
}

int
store_meta_head_put(struct store *st, MDB_txn *txn, uint64_t last_id,
    const uint8_t link[STORE_LINK_LEN])
{
	MDB_val k = { 4, (void *)"head" }, v;
	uint8_t buf[8 + STORE_LINK_LEN];

	store_le64(buf, last_id);
	memcpy(buf + 8, link, STORE_LINK_LEN);
	v.mv_size = sizeof(buf);
	v.mv_data = buf;
	return mdb_put(txn, st->dbi[DBI_META], &k, &v, 0);
}

int
store_meta_base(struct store *st, MDB_txn *txn, uint64_t *base)
{
	MDB_val k = { 4, (void *)"base" }, v;
	int rc;

	rc = mdb_get(txn, st->dbi[DBI_META], &k, &v);
	if (rc == MDB_NOTFOUND) {
		*base = 0;
		return 0;
	}
	if (rc != 0 || v.mv_size != 8) {
		store_seterr(st, "corrupt store: bad base record");
		return -1;
	}
	*base = store_get_le64(v.mv_data);
	return 0;
}

/* Index key: prefix[0..plen) || time BE || id BE. Returns its length. */
static size_t
idx_key(uint8_t *k, const void *prefix, size_t plen, uint64_t t, uint64_t id)
{
	if (plen > 0)
		memcpy(k, prefix, plen);
	store_be64(k + plen, t);
	store_be64(k + plen + 8, id);
	return plen + 16;
}

/* A name prefix: the string and a NUL. */
static size_t
name_prefix(uint8_t *k, const struct store_str *s)
{
	memcpy(k, s->p, s->n);
	k[s->n] = 0;
	return s->n + 1;
}

static void
addr_mapped(const struct store_alert *a, uint8_t out[16])
{
	if (a->af == STORE_AF_INET) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, a->src, 4);
	} else
		memcpy(out, a->src, 16);
}

static int
idx_one(MDB_txn *txn, MDB_dbi dbi, MDB_cursor *c, uint8_t *k, size_t klen,
    bool del, bool append)
{
	MDB_val key = { klen, k }, val = { 0, (void *)"" };
	int rc;

	if (del) {
		rc = mdb_del(txn, dbi, &key, NULL);
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	if (c == NULL)
		return mdb_put(txn, dbi, &key, &val, 0);
	/* Times mostly grow: append (full pages, no search) when in order. */
	if (append && (rc = mdb_cursor_put(c, &key, &val, MDB_APPEND)) !=
	    MDB_KEYEXIST)
		return rc;
	return mdb_cursor_put(c, &key, &val, 0);
}

int
store_idx_apply(struct store *st, MDB_txn *txn, MDB_cursor *const *curs,
    const struct store_alert *a, uint64_t id, bool del)
{
	uint8_t k[STORE_IDX_KEY_MAX], p[STORE_NAME_MAX + 1];
	uint64_t t = a->time_ns;
	size_t n, i, j;
	int rc;

#define IDX(d, klen, app)	idx_one(txn, st->dbi[d], curs != NULL ? \
	curs[d] : NULL, k, (klen), del, (app))
	if ((rc = IDX(DBI_TIME, idx_key(k, NULL, 0, t, id), true)) != 0)
		return rc;
	n = name_prefix(p, &a->rule);
	if ((rc = IDX(DBI_RULE, idx_key(k, p, n, t, id), false)) != 0)
		return rc;
	if (a->af != STORE_AF_NONE) {
		addr_mapped(a, p);
		if ((rc = IDX(DBI_SRC, idx_key(k, p, 16, t, id), false)) != 0)
			return rc;
	}
	if (a->consumer.n > 0) {
		n = name_prefix(p, &a->consumer);
		if ((rc = IDX(DBI_CONS, idx_key(k, p, n, t, id), false)) != 0)
			return rc;
	}
	if (a->incident.n > 0) {
		n = name_prefix(p, &a->incident);
		if ((rc = IDX(DBI_INC, idx_key(k, p, n, t, id), false)) != 0)
			return rc;
	}
	p[0] = a->severity;
	if ((rc = IDX(DBI_SEV, idx_key(k, p, 1, t, id), false)) != 0)
		return rc;
	for (i = 0; i < a->ncounts; i++) {
		/* One entry per type, even when a type repeats. */
		for (j = 0; j < i; j++)
			if (a->counts[j].type.n == a->counts[i].type.n &&
			    memcmp(a->counts[j].type.p, a->counts[i].type.p,
			    a->counts[i].type.n) == 0)
				break;
		if (j < i)
			continue;
		n = name_prefix(p, &a->counts[i].type);
		if ((rc = IDX(DBI_TYPE, idx_key(k, p, n, t, id), false)) != 0)
			return rc;
	}
#undef IDX
	return 0;
}

int
store_head_get(struct store *st, struct store_head *h)
{
	MDB_stat ms;
	int rc;

	memset(h, 0, sizeof(*h));
	if (store_read_begin(st) == -1)
		return -1;
	if (store_meta_head(st, st->rtxn, &h->last_id, h->link) == -1 ||
	    store_meta_base(st, st->rtxn, &h->base_id) == -1)
		return -1;
	if ((rc = mdb_stat(st->rtxn, st->dbi[DBI_ALERTS], &ms)) != 0) {
		store_seterr(st, "%s", mdb_strerror(rc));
		return -1;
	}
	h->count = ms.ms_entries;
	return 0;
}

static int
decode_val(struct store *st, uint64_t id, const MDB_val *v,
    struct store_alert *a)
{
	a->id = id;
	if (v->mv_size < STORE_LINK_LEN ||
	    store_rec_decode((const uint8_t *)v->mv_data + STORE_LINK_LEN,
	    v->mv_size - STORE_LINK_LEN, a) == -1) {
		store_seterr(st, "corrupt store: alert %llu does not decode",
		    (unsigned long long)id);
		return -1;
	}
	return 0;
}

int
store_get(struct store *st, uint64_t id, struct store_alert *a,
    uint8_t link[STORE_LINK_LEN])
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	if (store_read_begin(st) == -1)
		return -1;
	store_be64(kb, id);
	rc = mdb_get(st->rtxn, st->dbi[DBI_ALERTS], &k, &v);
	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	if (rc != 0) {
		store_seterr(st, "%s", mdb_strerror(rc));
		return -1;
	}
	if (decode_val(st, id, &v, a) == -1)
		return -1;
	if (link != NULL)
		memcpy(link, v.mv_data, STORE_LINK_LEN);
	return 0;
}

/* --- queries --- */

struct hit {
	uint64_t	t;
	uint64_t	id;
};

struct qrun {
	struct store		*st;
	const struct store_query *q;
	store_alert_cb		*cb;
	void			*arg;
	struct hit		*hits;		/* collected when not in order */
	size_t			 nhits;
	size_t			 cap;
	bool			 collect;
	MDB_cursor		*ac;		/* alerts cursor */
};

#define HITS_MAX	((size_t)1 << 27)	/* 2 GiB of (time, id) pairs */

static bool
str_eq(const struct store_str *s, const char *c)
{
	size_t n = strlen(c);

	return s->n == n && memcmp(s->p, c, n) == 0;
}

static bool
in_net(const uint8_t a[16], const uint8_t net[16], unsigned bits)
{
	unsigned i;

	for (i = 0; i < bits / 8; i++)
		if (a[i] != net[i])
			return false;
	if (bits % 8 != 0) {
		uint8_t m = (uint8_t)(0xff << (8 - bits % 8));

		if ((a[i] & m) != net[i])
			return false;
	}
	return true;
}

static bool
match(const struct store_query *q, const struct store_alert *a)
{
	uint8_t m[16];
	size_t i;

	if (a->time_ns < q->since_ns ||
	    (q->until_ns != 0 && a->time_ns >= q->until_ns) ||
	    a->id <= q->after_id)
		return false;
	if (q->rule != NULL && !str_eq(&a->rule, q->rule))
		return false;
	if (q->consumer != NULL && !str_eq(&a->consumer, q->consumer))
		return false;
	if (q->incident != NULL && !str_eq(&a->incident, q->incident))
		return false;
	if (q->sensor != NULL && !str_eq(&a->sensor, q->sensor))
		return false;
	if (q->min_sev > 0 && a->severity < q->min_sev)
		return false;
	if (q->has_src) {
		if (a->af == STORE_AF_NONE)
			return false;
		addr_mapped(a, m);
		if (!in_net(m, q->src_net, q->src_bits))
			return false;
	}
	if (q->type != NULL) {
		for (i = 0; i < a->ncounts; i++)
			if (str_eq(&a->counts[i].type, q->type))
				break;
		if (i == a->ncounts)
			return false;
	}
	return true;
}

static int
emit(struct qrun *r, uint64_t id)
{
	struct store_alert a;
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	store_be64(kb, id);
	rc = mdb_cursor_get(r->ac, &k, &v, MDB_SET_KEY);
	if (rc == MDB_NOTFOUND) {
		store_seterr(r->st, "corrupt store: index names alert %llu, "
		    "which is missing", (unsigned long long)id);
		return -1;
	}
	if (rc != 0) {
		store_seterr(r->st, "%s", mdb_strerror(rc));
		return -1;
	}
	if (decode_val(r->st, id, &v, &a) == -1)
		return -1;
	if (!match(r->q, &a))
		return 0;
	return r->cb(&a, v.mv_data, r->arg);
}

static int
hit(struct qrun *r, uint64_t t, uint64_t id)
{
	struct hit *nh;
	size_t cap;

	if (t < r->q->since_ns || (r->q->until_ns != 0 && t >= r->q->until_ns)
	    || id <= r->q->after_id)
		return 0;
	if (!r->collect)
		return emit(r, id);
	if (r->nhits == r->cap) {
		cap = r->cap == 0 ? 1024 : r->cap * 2;
		if (cap > HITS_MAX || (nh = realloc(r->hits,
		    cap * sizeof(*nh))) == NULL) {
			store_seterr(r->st, "query too large: narrow it with "
			    "--since/--until");
			return -1;
		}
		r->hits = nh;
		r->cap = cap;
	}
	r->hits[r->nhits].t = t;
	r->hits[r->nhits++].id = id;
	return 0;
}

/*
 * Walk index dbi over keys prefix || time in [since, until) (plen > 0 or
 * the time index), or over [lo, hi] prefixes of length plen (addresses).
 */
static int
scan(struct qrun *r, enum store_dbi dbi, const uint8_t *lo, const uint8_t *hi,
    size_t plen)
{
	uint8_t k0[STORE_IDX_KEY_MAX];
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t t, id;
	int rc, ret = 0;
	bool range = hi != NULL;

	if ((rc = mdb_cursor_open(r->st->rtxn, r->st->dbi[dbi], &c)) != 0) {
		store_seterr(r->st, "%s", mdb_strerror(rc));
		return -1;
	}
	if (plen > 0)
		memcpy(k0, lo, plen);
	store_be64(k0 + plen, range ? 0 : r->q->since_ns);
	store_be64(k0 + plen + 8, 0);
	k.mv_size = plen + 16;
	k.mv_data = k0;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *kp = k.mv_data;

		if (!range && plen > 0 && (k.mv_size < plen ||
		    memcmp(kp, lo, plen) != 0))
			break;
		if (k.mv_size != plen + 16)
			goto corrupt;
		if (range && memcmp(kp, hi, plen) > 0)
			break;
		t = store_get_be64(kp + plen);
		id = store_get_be64(kp + plen + 8);
		if (!range && r->q->until_ns != 0 && t >= r->q->until_ns)
			break;
		if ((ret = hit(r, t, id)) != 0)
			break;
	}
	if (ret == 0 && rc != 0 && rc != MDB_NOTFOUND) {
		store_seterr(r->st, "%s", mdb_strerror(rc));
		ret = -1;
	}
	mdb_cursor_close(c);
	return ret;
corrupt:
	mdb_cursor_close(c);
	store_seterr(r->st, "corrupt store: bad key in index %s",
	    store_dbi_names[dbi]);
	return -1;
}

static int
hit_cmp(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int
name_scan(struct qrun *r, enum store_dbi dbi, const char *name)
{
	uint8_t p[STORE_NAME_MAX + 1];
	size_t n = strlen(name);

	if (n > STORE_NAME_MAX)
		return 0;	/* no record has such a name */
	memcpy(p, name, n);
	p[n] = 0;
	return scan(r, dbi, p, NULL, n + 1);
}

int
store_query_run(struct store *st, const struct store_query *q,
    store_alert_cb *cb, void *arg)
{
	struct qrun r;
	uint8_t lo[16], hi[16], s;
	size_t i;
	int rc;

	if (store_read_begin(st) == -1)
		return -1;
	memset(&r, 0, sizeof(r));
	r.st = st;
	r.q = q;
	r.cb = cb;
	r.arg = arg;
	if ((rc = mdb_cursor_open(st->rtxn, st->dbi[DBI_ALERTS], &r.ac)) != 0) {
		store_seterr(st, "%s", mdb_strerror(rc));
		return -1;
	}
	if (q->rule != NULL)
		rc = name_scan(&r, DBI_RULE, q->rule);
	else if (q->incident != NULL)
		rc = name_scan(&r, DBI_INC, q->incident);
	else if (q->consumer != NULL)
		rc = name_scan(&r, DBI_CONS, q->consumer);
	else if (q->has_src) {
		r.collect = true;
		for (i = 0; i < 16; i++) {
			unsigned b = q->src_bits > i * 8 ?
			    q->src_bits - (unsigned)i * 8 : 0;
			uint8_t m = b >= 8 ? 0xff : (uint8_t)(0xff << (8 - b));

			if (b == 0)
				m = 0;
			lo[i] = q->src_net[i] & m;
			hi[i] = lo[i] | (uint8_t)~m;
		}
		rc = scan(&r, DBI_SRC, lo, hi, 16);
	} else if (q->type != NULL)
		rc = name_scan(&r, DBI_TYPE, q->type);
	else if (q->min_sev > 0) {
		r.collect = true;
		for (rc = 0, s = (uint8_t)q->min_sev; rc == 0 &&
		    s < STORE_SEV_COUNT; s++)
			rc = scan(&r, DBI_SEV, &s, NULL, 1);
	} else
		rc = scan(&r, DBI_TIME, NULL, NULL, 0);
	if (rc == 0 && r.collect) {
		r.collect = false;
		if (r.nhits > 0)
			qsort(r.hits, r.nhits, sizeof(*r.hits), hit_cmp);
		for (i = 0; rc == 0 && i < r.nhits; i++)
			rc = emit(&r, r.hits[i].id);
	}
	free(r.hits);
	mdb_cursor_close(r.ac);
	return rc;
}

/* --- parsers for the query CLI --- */

int
store_cidr_parse(const char *s, uint8_t net[16], unsigned *bits)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned max, b, i;
	bool v4;

	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	memset(net, 0, 16);
	if (inet_pton(AF_INET, host, net + 12) == 1) {
		net[10] = net[11] = 0xff;
		v4 = true;
		max = 32;
	} else if (inet_pton(AF_INET6, host, net) == 1) {
		v4 = false;
		max = 128;
	} else
		return -1;
	b = max;
	if (slash != NULL) {
		const char *p = slash + 1;

		if (*p == '\0' || strlen(p) > 3 || (p[0] == '0' && p[1]))
			return -1;
		for (b = 0; *p != '\0'; p++) {
			if (*p < '0' || *p > '9')
				return -1;
			b = b * 10 + (unsigned)(*p - '0');
		}
		if (b > max)
			return -1;
	}
	if (v4)
		b += 96;
	/* Host bits must be zero. */
	for (i = b; i < 128; i++)
		if (net[i / 8] & (0x80 >> (i % 8)))
			return -1;
	*bits = b;
	return 0;
}

uint64_t
store_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Exactly n digits at *p into *v; advances p. */
static int
digits(const char **p, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return 0;
}

static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
iso_parse(const char *p, uint64_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	int y, mo, d, h = 0, mi = 0, s = 0, zh, zm, sign, i;
	uint64_t frac = 0, scale = 100000000ULL;
	int64_t secs, off = 0;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d))
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && (y % 4 != 0 ||
	    (y % 100 == 0 && y % 400 != 0))))
		return -1;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &s))
				return -1;
			if (*p == '.') {
				p++;
				for (i = 0; *p >= '0' && *p <= '9'; i++, p++) {
					if (i >= 9)
						return -1;
					frac += (uint64_t)(*p - '0') * scale;
					scale /= 10;
				}
				if (i == 0)
					return -1;
			}
		}
		if (h > 23 || mi > 59 || s > 59)
			return -1;
		if (*p == 'Z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			sign = *p++ == '-' ? -1 : 1;
			if (digits(&p, 2, &zh))
				return -1;
			if (*p == ':')
				p++;
			if (digits(&p, 2, &zm) || zh > 23 || zm > 59)
				return -1;
			off = sign * ((int64_t)zh * 3600 + zm * 60);
		}
	}
	if (*p != '\0')
		return -1;
	secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s -
	    off;
	if (secs < 0 || secs > (int64_t)(UINT64_MAX / 1000000000ULL) - 1)
		return -1;
	*out = (uint64_t)secs * 1000000000ULL + frac;
	return 0;
}

int
store_time_parse(const char *s, uint64_t now_ns, uint64_t *out)
{
	uint64_t ms;

	if (strlen(s) > 64)
		return -1;
	if (strchr(s, '-') != NULL && strlen(s) >= 10)
		return iso_parse(s, out);
	if (gb_parse_duration_ms(s, &ms) == -1 || ms > UINT64_MAX / 1000000)
		return -1;
	ms *= 1000000;
	*out = ms > now_ns ? 0 : now_ns - ms;
	return 0;
}

/* The inverse of days_from_civil() (days since 1970-01-01, >= 0). */
static void
civil_from_days(uint64_t z, unsigned *y, unsigned *m, unsigned *d)
{
	uint64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = (unsigned)(yoe + era * 400 + (*m <= 2));
}

/* v in n decimal digits, zero-padded, at p. */
static void
put_digits(char *p, uint64_t v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/*
 * 2026-11-22T00:00:00.500000000Z. By hand, not gmtime_r() and snprintf():
 * the sensor formats two or three times for every alert it stores.
 */
void
store_time_fmt(uint64_t ns, char *buf, size_t len)
{
	uint64_t secs = ns / 1000000000ULL, sod = secs % 86400;
	unsigned y, m, d;
	char t[31];

	civil_from_days(secs / 86400, &y, &m, &d);
	put_digits(t, y, 4);
	t[4] = '-';
	put_digits(t + 5, m, 2);
	t[7] = '-';
	put_digits(t + 8, d, 2);
	t[10] = 'T';
	put_digits(t + 11, sod / 3600, 2);
	t[13] = ':';
	put_digits(t + 14, sod / 60 % 60, 2);
	t[16] = ':';
	put_digits(t + 17, sod % 60, 2);
	t[19] = '.';
	put_digits(t + 20, ns % 1000000000ULL, 9);
	t[29] = 'Z';
	t[30] = '\0';
	if (len == 0)
		return;
	if (len > sizeof(t))
		len = sizeof(t);
	memcpy(buf, t, len - 1);
	buf[len - 1] = '\0';
}
