/*
 * store_chain: the hash chain, signed checkpoints, Ed25519 keys (OpenSSL
 * EVP) and the verification of a whole store.
 */
#include "store/store_int.h"
#include "core/gb_buf.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char chain_tag[] = "gerbang-chain-v1";
static const char ckpt_tag[] = "gerbang-checkpoint-v1";

/* The OpenSSL error queue, drained into one message. */
static void
ossl_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "no detail");
	ERR_clear_error();
	snprintf(err, errlen, "%s: %s", what, buf);
}

int
store_chain_link(const uint8_t prev[STORE_LINK_LEN], uint64_t id,
    const uint8_t *rec, size_t n, uint8_t out[STORE_LINK_LEN])
{
	/* One digest context per thread, kept for speed (verify: 1M links). */
	static _Thread_local EVP_MD *md;
	static _Thread_local EVP_MD_CTX *ctx;
	uint8_t idb[8];
	unsigned len;

	if (md == NULL && (md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		return -1;
	if (ctx == NULL && (ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	store_le64(idb, id);
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, chain_tag, sizeof(chain_tag) - 1) != 1 ||
	    EVP_DigestUpdate(ctx, prev, STORE_LINK_LEN) != 1 ||
	    EVP_DigestUpdate(ctx, idb, 8) != 1 ||
	    EVP_DigestUpdate(ctx, rec, n) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != STORE_LINK_LEN) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

/* The signed message: tag || seq LE || link || time LE. */
static size_t
ckpt_msg(const struct store_ckpt *c, uint8_t *m)
{
	size_t n = sizeof(ckpt_tag) - 1;

	memcpy(m, ckpt_tag, n);
	store_le64(m + n, c->seq);
	memcpy(m + n + 8, c->link, STORE_LINK_LEN);
	store_le64(m + n + 8 + STORE_LINK_LEN, c->time_ns);
	return n + 16 + STORE_LINK_LEN;
}

int
store_key_id(EVP_PKEY *key, uint8_t id[STORE_KEYID_LEN])
{
	uint8_t raw[32];
	size_t n = sizeof(raw);
	unsigned len;

	if (EVP_PKEY_get_raw_public_key(key, raw, &n) != 1 || n != 32 ||
	    EVP_Digest(raw, n, id, &len, EVP_sha256(), NULL) != 1) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

int
store_ckpt_sign(struct store_ckpt *c, EVP_PKEY *key)
{
	uint8_t m[64 + STORE_LINK_LEN];
	size_t mlen = ckpt_msg(c, m), slen = STORE_SIG_LEN;
	EVP_MD_CTX *ctx;
	int ok;

	if (store_key_id(key, c->keyid) == -1 ||
	    (ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestSign(ctx, c->sig, &slen, m, mlen) == 1 &&
	    slen == STORE_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok ? 0 : -1;
}

int
store_ckpt_check(const struct store_ckpt *c, EVP_PKEY *key)
{
	uint8_t m[64 + STORE_LINK_LEN], id[STORE_KEYID_LEN];
	size_t mlen = ckpt_msg(c, m);
	EVP_MD_CTX *ctx;
	int ok;

	if (store_key_id(key, id) == -1 ||
	    memcmp(id, c->keyid, STORE_KEYID_LEN) != 0)
		return 0;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return 0;
	ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestVerify(ctx, c->sig, STORE_SIG_LEN, m, mlen) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

void
store_ckpt_encode(const struct store_ckpt *c, uint8_t out[STORE_CKPT_LEN])
{
	uint8_t *p = out;

	*p++ = STORE_CKPT_VERSION;
	store_le64(p, c->seq);
	p += 8;
	memcpy(p, c->link, STORE_LINK_LEN);
	p += STORE_LINK_LEN;
	store_le64(p, c->time_ns);
	p += 8;
	memcpy(p, c->keyid, STORE_KEYID_LEN);
	p += STORE_KEYID_LEN;
	memcpy(p, c->sig, STORE_SIG_LEN);
}

int
store_ckpt_decode(const uint8_t *p, size_t n, struct store_ckpt *c)
{
	if (n != STORE_CKPT_LEN || p[0] != STORE_CKPT_VERSION)
		return -1;
	p++;
	c->seq = store_get_le64(p);
	p += 8;
	memcpy(c->link, p, STORE_LINK_LEN);
	p += STORE_LINK_LEN;
	c->time_ns = store_get_le64(p);
	p += 8;
	memcpy(c->keyid, p, STORE_KEYID_LEN);
	p += STORE_KEYID_LEN;
	memcpy(c->sig, p, STORE_SIG_LEN);
	return 0;
}

int
store_ckpt_put(struct store *st, MDB_txn *txn, const struct store_ckpt *c,
    EVP_PKEY *key)
{
	uint8_t kb[8], vb[STORE_CKPT_LEN], mk[3 + STORE_KEYID_LEN], raw[32];
	MDB_val k = { 8, kb }, v = { sizeof(vb), vb };
	size_t rn = sizeof(raw);
	int rc;

	store_be64(kb, c->seq);
	store_ckpt_encode(c, vb);
	if ((rc = mdb_put(txn, st->dbi[DBI_CKPT], &k, &v, 0)) != 0)
		return rc;
	/* The signer's public key, so auditors can see which key signed. */
	if (EVP_PKEY_get_raw_public_key(key, raw, &rn) != 1 || rn != 32) {
		ERR_clear_error();
		return EINVAL;
	}
	memcpy(mk, "key", 3);
	memcpy(mk + 3, c->keyid, STORE_KEYID_LEN);
	k.mv_size = sizeof(mk);
	k.mv_data = mk;
	v.mv_size = 32;
	v.mv_data = raw;
	return mdb_put(txn, st->dbi[DBI_META], &k, &v, 0);
}

static int
key_load(const char *path, bool priv, EVP_PKEY **out, char *err,
    size_t errlen)
{
	EVP_PKEY *k;
	FILE *fp;

	*out = NULL;
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	k = priv ? PEM_read_PrivateKey(fp, NULL, NULL, NULL) :
	    PEM_read_PUBKEY(fp, NULL, NULL, NULL);
	fclose(fp);
	if (k == NULL) {
		char what[512];

		snprintf(what, sizeof(what), "%s: not a PEM %s key", path,
		    priv ? "private" : "public");
		ossl_err(err, errlen, what);
		return -1;
	}
	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_ED25519) {
		snprintf(err, errlen, "%s: not an Ed25519 key", path);
		EVP_PKEY_free(k);
		return -1;
	}
	*out = k;
	return 0;
}

int
store_key_load_private(const char *path, EVP_PKEY **out, char *err,
    size_t errlen)
{
	return key_load(path, true, out, err, errlen);
}

int
store_key_load_public(const char *path, EVP_PKEY **out, char *err,
    size_t errlen)
{
	return key_load(path, false, out, err, errlen);
}

int
store_ckpt_walk(struct store *st,
    int (*cb)(const struct store_ckpt *c, void *arg), void *arg)
{
	struct store_ckpt c;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, ret = 0;

	if (store_read_begin(st) == -1)
		return -1;
	if ((rc = mdb_cursor_open(st->rtxn, st->dbi[DBI_CKPT], &cur)) != 0) {
		store_seterr(st, "%s", mdb_strerror(rc));
		return -1;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || store_ckpt_decode(v.mv_data, v.mv_size,
		    &c) == -1 || c.seq != store_get_be64(k.mv_data)) {
			store_seterr(st, "corrupt checkpoint record");
			ret = -1;
			break;
		}
		if ((ret = cb(&c, arg)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return ret;
}

/* --- verification --- */

struct vctx {
	struct store		*st;
	struct store_verify	*v;
	EVP_PKEY *const		*keys;
	size_t			 nkeys;
	EVP_PKEY		*own[8];	/* keys read from the store */
	uint8_t			 ownid[8][STORE_KEYID_LEN];
	size_t			 nown;
};

static int
broken(struct vctx *x, uint64_t id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
broken(struct vctx *x, uint64_t id, const char *fmt, ...)
{
	va_list ap;

	x->v->bad_id = id;
	va_start(ap, fmt);
	vsnprintf(x->v->msg, sizeof(x->v->msg), fmt, ap);
	va_end(ap);
	return STORE_BROKEN;
}

/* The key that signed c: from the caller's list or from the store. */
static EVP_PKEY *
ckpt_key(struct vctx *x, const struct store_ckpt *c)
{
	uint8_t id[STORE_KEYID_LEN], mk[3 + STORE_KEYID_LEN];
	MDB_val k = { sizeof(mk), mk }, v;
	EVP_PKEY *key;
	size_t i;

	if (x->nkeys > 0) {
		for (i = 0; i < x->nkeys; i++)
			if (store_key_id(x->keys[i], id) == 0 &&
			    memcmp(id, c->keyid, STORE_KEYID_LEN) == 0)
				return x->keys[i];
		return NULL;
	}
	x->v->own_key = true;
	for (i = 0; i < x->nown; i++)
		if (memcmp(x->ownid[i], c->keyid, STORE_KEYID_LEN) == 0)
			return x->own[i];
	memcpy(mk, "key", 3);
	memcpy(mk + 3, c->keyid, STORE_KEYID_LEN);
	if (mdb_get(x->st->rtxn, x->st->dbi[DBI_META], &k, &v) != 0 ||
	    v.mv_size != 32)
		return NULL;
	key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, v.mv_data,
	    32);
	if (key == NULL) {
		ERR_clear_error();
		return NULL;
	}
	if (x->nown == sizeof(x->own) / sizeof(x->own[0])) {
		EVP_PKEY_free(key);
		return NULL;
	}
	memcpy(x->ownid[x->nown], c->keyid, STORE_KEYID_LEN);
	x->own[x->nown++] = key;
	return key;
}

static int
ckpt_ok(struct vctx *x, const struct store_ckpt *c,
    const uint8_t link[STORE_LINK_LEN])
{
	char hex[17];
	EVP_PKEY *key;

	if (memcmp(c->link, link, STORE_LINK_LEN) != 0)
		return broken(x, c->seq, "checkpoint at %llu does not match "
		    "the chain: a record up to %llu was changed, removed or "
		    "moved and the links rewritten",
		    (unsigned long long)c->seq, (unsigned long long)c->seq);
	if ((key = ckpt_key(x, c)) == NULL) {
		gb_hex(hex, c->keyid, 8);
		return broken(x, c->seq, "checkpoint at %llu is signed by an "
		    "unknown key (id %s)", (unsigned long long)c->seq, hex);
	}
	if (!store_ckpt_check(c, key))
		return broken(x, c->seq, "checkpoint at %llu: bad signature",
		    (unsigned long long)c->seq);
	x->v->checkpoints++;
	x->v->signed_id = c->seq;
	return 0;
}

static int
verify(struct vctx *x, MDB_cursor *ac, MDB_cursor *cc)
{
	struct store *st = x->st;
	struct store_verify *v = x->v;
	struct store_alert a;
	struct store_ckpt c;
	uint8_t link[STORE_LINK_LEN], l[STORE_LINK_LEN], kb[8];
	uint8_t hlink[STORE_LINK_LEN];
	uint64_t base, head, expect, id;
	MDB_val k, val;
	int rc, crc;

	if (store_meta_base(st, st->rtxn, &base) == -1 ||
	    store_meta_head(st, st->rtxn, &head, hlink) == -1)
		return -1;
	memset(link, 0, sizeof(link));
	if (base > 0) {
		store_be64(kb, base);
		k.mv_size = 8;
		k.mv_data = kb;
		if (mdb_get(st->rtxn, st->dbi[DBI_CKPT], &k, &val) != 0 ||
		    store_ckpt_decode(val.mv_data, val.mv_size, &c) == -1)
			return broken(x, base, "the base checkpoint of the "
			    "purge at %llu is missing", (unsigned long long)base);
		if ((rc = ckpt_ok(x, &c, c.link)) != 0)
			return rc;
		memcpy(link, c.link, STORE_LINK_LEN);
	}
	/* First checkpoint after the base. */
	store_be64(kb, base + 1);
	k.mv_size = 8;
	k.mv_data = kb;
	crc = mdb_cursor_get(cc, &k, &val, MDB_SET_RANGE);
	expect = base + 1;
	v->first_id = expect;
	for (rc = mdb_cursor_get(ac, &k, &val, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(ac, &k, &val, MDB_NEXT)) {
		if (k.mv_size != 8)
			return broken(x, expect, "bad key in the alerts database");
		id = store_get_be64(k.mv_data);
		if (id != expect)
			return broken(x, expect, id > expect ?
			    "record %llu is missing (deleted)" :
			    "record %llu: unexpected record before it",
			    (unsigned long long)expect);
		a.id = id;
		if (val.mv_size < STORE_LINK_LEN ||
		    store_rec_decode((uint8_t *)val.mv_data + STORE_LINK_LEN,
		    val.mv_size - STORE_LINK_LEN, &a) == -1)
			return broken(x, id, "record %llu does not decode "
			    "(corrupt or altered)", (unsigned long long)id);
		if (store_chain_link(link, id, (uint8_t *)val.mv_data +
		    STORE_LINK_LEN, val.mv_size - STORE_LINK_LEN, l) == -1) {
			store_seterr(st, "SHA-256 failed");
			return -1;
		}
		if (memcmp(l, val.mv_data, STORE_LINK_LEN) != 0)
			return broken(x, id, "record %llu: link does not match "
			    "(record altered, or a record before it removed or "
			    "moved)", (unsigned long long)id);
		memcpy(link, l, STORE_LINK_LEN);
		v->records++;
		v->last_id = id;
		expect = id + 1;
		while (crc == 0) {
			MDB_val ck, cv;

			if ((crc = mdb_cursor_get(cc, &ck, &cv,
			    MDB_GET_CURRENT)) != 0)
				break;
			if (ck.mv_size != 8 || store_ckpt_decode(cv.mv_data,
			    cv.mv_size, &c) == -1)
				return broken(x, id, "corrupt checkpoint after "
				    "record %llu", (unsigned long long)id);
			if (c.seq > id)
				break;
			if (c.seq < id)
				return broken(x, c.seq, "checkpoint at %llu "
				    "has no record", (unsigned long long)c.seq);
			if ((rc = ckpt_ok(x, &c, link)) != 0)
				return rc;
			crc = mdb_cursor_get(cc, &ck, &cv, MDB_NEXT);
		}
	}
	if (rc != MDB_NOTFOUND) {
		store_seterr(st, "%s", mdb_strerror(rc));
		return -1;
	}
	if (crc == 0) {
		MDB_val ck, cv;

		if (mdb_cursor_get(cc, &ck, &cv, MDB_GET_CURRENT) == 0 &&
		    store_ckpt_decode(cv.mv_data, cv.mv_size, &c) == 0)
			return broken(x, expect, "checkpoint at %llu but the "
			    "chain ends at %llu: records removed from the end",
			    (unsigned long long)c.seq,
			    (unsigned long long)(expect - 1));
	}
	if (head != expect - 1 || memcmp(hlink, link, STORE_LINK_LEN) != 0)
		return broken(x, expect, "the head (%llu) does not match the "
		    "chain's end (%llu)", (unsigned long long)head,
		    (unsigned long long)(expect - 1));
	if (v->records == 0)
		v->first_id = 0;
	return 0;
}

int
store_verify_run(struct store *st, EVP_PKEY *const *keys, size_t npub,
    struct store_verify *v)
{
	struct vctx x;
	MDB_cursor *ac = NULL, *cc = NULL;
	size_t i;
	int rc;

	memset(v, 0, sizeof(*v));
	memset(&x, 0, sizeof(x));
	x.st = st;
	x.v = v;
	x.keys = keys;
	x.nkeys = npub;
	if (store_read_renew(st) == -1)
		return -1;
	if (mdb_cursor_open(st->rtxn, st->dbi[DBI_ALERTS], &ac) != 0 ||
	    mdb_cursor_open(st->rtxn, st->dbi[DBI_CKPT], &cc) != 0) {
		if (ac != NULL)
			mdb_cursor_close(ac);
		store_seterr(st, "cannot open cursors");
		return -1;
	}
	rc = verify(&x, ac, cc);
	mdb_cursor_close(ac);
	mdb_cursor_close(cc);
	for (i = 0; i < x.nown; i++)
		EVP_PKEY_free(x.own[i]);
	return rc;
}
