/*
 * store_int.h: what store/'s files share. Only store/ and its tests
 * include it.
 */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <lmdb.h>

#include "store/store.h"

enum store_dbi {
	DBI_ALERTS = 0,
	DBI_META,
	DBI_CKPT,
	DBI_TIME,
	DBI_RULE,
	DBI_SRC,
	DBI_CONS,
	DBI_SEV,
	DBI_TYPE,
	DBI_INC,
	DBI_COUNT
};

/* Names of the LMDB databases, indexed by enum store_dbi. */
extern const char *const store_dbi_names[DBI_COUNT];

struct store {
	MDB_env		*env;
	MDB_dbi		 dbi[DBI_COUNT];
	MDB_txn		*rtxn;		/* read snapshot, or NULL */
	int		 flags;		/* STORE_* open flags */
	bool		 nolock;
	char		 err[256];
};

/* Checkpoint value: version byte + seq, link, time, keyid, sig. */
#define STORE_CKPT_VERSION	1
#define STORE_CKPT_LEN		(1 + 8 + STORE_LINK_LEN + 8 + \
				 STORE_KEYID_LEN + STORE_SIG_LEN)
/* Longest index key: name, NUL, time, id. */
#define STORE_IDX_KEY_MAX	(STORE_NAME_MAX + 1 + 16)

/*
 * The writer's fast paths: encode an alert that already passed
 * store_alert_check(); decode the framing of a record this process just
 * encoded (every length and tag is still checked, the field contents are
 * not). Same returns as store_rec_encode() / store_rec_decode().
 */
int	store_rec_encode_checked(const struct store_alert *a,
	    struct gb_buf *out);
int	store_rec_decode_fields(const uint8_t *p, size_t n,
	    struct store_alert *a);

void	store_seterr(struct store *st, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

void	store_be64(uint8_t *p, uint64_t v);
uint64_t store_get_be64(const uint8_t *p);
void	store_le64(uint8_t *p, uint64_t v);
uint64_t store_get_le64(const uint8_t *p);

/* Head in meta ("head": last id LE, link). Missing = empty. 0 or -1. */
int	store_meta_head(struct store *st, MDB_txn *txn, uint64_t *last_id,
	    uint8_t link[STORE_LINK_LEN]);
int	store_meta_head_put(struct store *st, MDB_txn *txn, uint64_t last_id,
	    const uint8_t link[STORE_LINK_LEN]);
/* Purge base id ("base"); 0 when never purged. */
int	store_meta_base(struct store *st, MDB_txn *txn, uint64_t *base);

/*
 * Put (del false) or delete (del true) the index entries of a, id. curs,
 * when not NULL, holds a cursor per database of txn (indexed by enum
 * store_dbi) for the puts. Returns 0 or an LMDB error code (MDB_MAP_FULL
 * and friends).
 */
int	store_idx_apply(struct store *st, MDB_txn *txn,
	    MDB_cursor *const *curs, const struct store_alert *a, uint64_t id,
	    bool del);

void	store_ckpt_encode(const struct store_ckpt *c,
	    uint8_t out[STORE_CKPT_LEN]);
int	store_ckpt_decode(const uint8_t *p, size_t n, struct store_ckpt *c);
/* Store c and the signer's raw public key (meta "key" || keyid). */
int	store_ckpt_put(struct store *st, MDB_txn *txn,
	    const struct store_ckpt *c, EVP_PKEY *key);

/* Open the environment in dir with STORE_* flags into st (zeroed). */
int	store_env_open(struct store *st, const char *dir, int flags,
	    uint64_t map_size);
void	store_env_close(struct store *st);

/* Grow the map after MDB_MAP_FULL (no transaction open). 0 or -1. */
int	store_env_grow(struct store *st);

/* mdb_txn_begin() that adopts a map grown by another process. */
int	store_txn_begin(struct store *st, unsigned flags, MDB_txn **txn);

#endif /* STORE_INT_H */
