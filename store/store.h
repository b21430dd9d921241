/*
 * store: the LMDB alert store. Append-only, hash-chained, with signed
 * checkpoints; several writer processes at once (the sensor and the
 * gateway), any number of read-only readers (gerbang-audit).
 *
 * One environment is one folder (data.mdb, lock.mdb). Named databases:
 *
 *	alerts	  id (u64 BE) -> link[32] || record (docs/store-format.md)
 *	meta	  "schema", "head", "base", "pubkey" -> small values
 *	ckpt	  seq (u64 BE) -> signed checkpoint
 *	i_time, i_rule, i_src, i_cons, i_sev, i_type, i_inc
 *		  secondary indexes: prefix || time (u64 BE) || id (u64 BE) -> ""
 *
 * Chain: link(id) = SHA-256("gerbang-chain-v1" || link(id - 1) ||
 * id (u64 LE) || record); link(0) is 32 zero bytes, or the link of the
 * signed base checkpoint after a purge. The head (last id, its link) lives
 * in meta and is read inside every write transaction, so writers in several
 * processes extend one chain in LMDB's single-writer order.
 *
 *	struct store_writer *w;
 *	store_writer_open(dir, &opts, &w, err, sizeof(err));
 *	store_writer_append(w, &alert);	   queues; commits every opts.batch
 *	store_writer_tick(w, gb_now_ms()); commits after opts.batch_ms
 *	store_writer_close(w);		   flush, sign a checkpoint, close
 *
 * Blocking: a commit (in append, tick, flush, close) waits for fsync,
 * typically a few ms per batch; an event loop calls store_writer_tick()
 * from a timer and accepts that pause once per batch.
 *
 * Threads: a struct store or struct store_writer belongs to one thread at a
 * time. Library code never prints; errors are returned with a message in the
 * caller's err buffer, and the writer logs its storage trouble with gb_log().
 */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "core/gb_buf.h"

/* Store layout version, checked on every open (docs/store-format.md). */
#define STORE_SCHEMA		1
/* Record encoding version (first byte of every record). */
#define STORE_REC_VERSION	1

/* Documented outcomes that are not failures. */
#define STORE_NOTFOUND		1	/* no such alert */
#define STORE_BROKEN		2	/* store_verify_run(): evidence broken */

#define STORE_LINK_LEN		32
#define STORE_SIG_LEN		64
#define STORE_KEYID_LEN		32

/* Field limits enforced by the encoder and the decoder. */
#define STORE_REC_MAX		16384	/* encoded record */
#define STORE_NAME_MAX		255	/* sensor, rule, consumer, incident */
#define STORE_TYPE_MAX		32	/* identifier type name */
#define STORE_TEXT_MAX		4096	/* method, host, path, message, sample */
#define STORE_COUNTS_MAX	32
#define STORE_SAMPLES_MAX	32

enum store_sev {
	STORE_SEV_INFO = 0,
	STORE_SEV_LOW,
	STORE_SEV_MEDIUM,
	STORE_SEV_HIGH,
	STORE_SEV_CRITICAL,
	STORE_SEV_COUNT
};

/* Address family of the flow addresses. */
#define STORE_AF_NONE	0
#define STORE_AF_INET	4
#define STORE_AF_INET6	6

/* Alert flags. */
#define STORE_A_CONSUMER_VERIFIED	0x01	/* consumer's signature checked */
#define STORE_A_FLAGS_ALL		0x01

/* A string slice; not NUL-terminated. */
struct store_str {
	const char	*p;
	size_t		 n;
};

/* Findings of one identifier type ("nik", "kk", ...) in the alert. */
struct store_count {
	struct store_str type;
	uint64_t	 count;		/* values seen */
	uint64_t	 distinct;	/* distinct values (subjects), per detector */
};

/* One masked sample value ("3171********0001"); never a clear value. */
struct store_sample {
	struct store_str type;
	struct store_str value;
};

/*
 * One alert. Strings are slices: on encode they are borrowed from the
 * caller; on decode they point into the record bytes (borrowed, valid as
 * long as those bytes are).
 */
struct store_alert {
	uint64_t	 id;		/* set by the store; ignored on append */
	uint64_t	 time_ns;	/* UTC, ns since the epoch; 0 = now */
	uint64_t	 win_start_ns;	/* detection window, 0 if none */
	uint64_t	 win_end_ns;
	uint64_t	 bytes;		/* bytes of the flow or response */
	uint8_t		 severity;	/* enum store_sev */
	uint8_t		 flags;		/* STORE_A_* */
	uint8_t		 af;		/* STORE_AF_* */
	uint8_t		 proto;		/* IP protocol number (6 tcp) */
	uint8_t		 src[16];	/* IPv4 in the first 4 bytes */
	uint8_t		 dst[16];
	uint16_t	 sport;
	uint16_t	 dport;
	uint16_t	 status;	/* HTTP status, 0 if none */
	struct store_str sensor;	/* writer id; required */
	struct store_str rule;		/* required */
	struct store_str consumer;
	struct store_str method;
	struct store_str host;
	struct store_str path;
	struct store_str incident;	/* incident / group key */
	struct store_str message;
	size_t		 ncounts;
	struct store_count counts[STORE_COUNTS_MAX];
	size_t		 nsamples;
	struct store_sample samples[STORE_SAMPLES_MAX];
};

/* A slice from a C string (NULL gives the empty slice). */
struct store_str store_str(const char *s);

/* --- store_rec.c: record encoding (docs/store-format.md) --- */

/* "info", "low", "medium", "high", "critical"; "?" out of range. */
const char *store_sev_str(int sev);
/* The severity named s, or -1. */
int	store_sev_from_str(const char *s);

/*
 * Check every field against the limits: sensor and rule present, strings
 * valid UTF-8 without control characters (C0, DEL, C1: nothing a terminal
 * would run), counts and samples with a known
 * shape, af/addresses consistent. Returns 0, or -1 with a reason in why
 * (static string) when why is not NULL.
 */
int	store_alert_check(const struct store_alert *a, const char **why);

/*
 * Append the encoding of a to out. Returns 0, or -1 when the alert fails
 * store_alert_check() or out is full (out is then unchanged).
 */
int	store_rec_encode(const struct store_alert *a, struct gb_buf *out);

/*
 * Decode a record read from disk, strictly: version, every length, tag
 * order, the limits and store_alert_check(). Slices in *a point into p
 * (borrowed, valid while p is). a->id is left untouched. Returns 0 or -1.
 */
int	store_rec_decode(const uint8_t *p, size_t n, struct store_alert *a);

/* --- store_db.c: the environment, reads and queries --- */

struct store;

/* store_open() flags. */
#define STORE_RDONLY	0x01	/* MDB_RDONLY; never writes anything */
#define STORE_CREATE	0x02	/* create the folder and the schema */
#define STORE_NOSYNC	0x04	/* MDB_NOSYNC: UNSAFE, a crash loses data */

/*
 * Open the store in dir. Refuses (-1, message in err) a folder that is not a
 * store, a corrupt file, and a schema newer than STORE_SCHEMA. Read-only:
 * when lock.mdb cannot be opened for writing (a read-only copy, another
 * user's store) the store is opened without locks (MDB_NOLOCK) and
 * store_nolock() says so: results are then only consistent while no writer
 * is active. Returns 0 with *out set (caller owns, store_close()).
 */
int	store_open(const char *dir, int flags, struct store **out, char *err,
	    size_t errlen);
void	store_close(struct store *st);
/* True when opened read-only without the lock file. */
bool	store_nolock(const struct store *st);
/* Bytes of data.mdb in use (pages * page size). */
uint64_t store_used_bytes(struct store *st);

/*
 * A read snapshot. store_read_begin() starts one (0 or -1); everything read
 * through it is borrowed until store_read_end() or store_read_renew(), which
 * moves the snapshot to the newest committed state.
 */
int	store_read_begin(struct store *st);
int	store_read_renew(struct store *st);
void	store_read_end(struct store *st);

struct store_head {
	uint64_t	 last_id;	/* 0 when empty */
	uint8_t		 link[STORE_LINK_LEN];
	uint64_t	 base_id;	/* records <= base_id were purged */
	uint64_t	 count;		/* records present */
};

/* Chain head and counts in the current snapshot. 0 or -1. */
int	store_head_get(struct store *st, struct store_head *h);

/*
 * Alert id in the current snapshot into *a (record bytes borrowed until the
 * snapshot ends) and its link into link (may be NULL). Returns 0, STORE_NOTFOUND, or -1 (corrupt record).
 */
int	store_get(struct store *st, uint64_t id, struct store_alert *a,
	    uint8_t link[STORE_LINK_LEN]);

/* Filters; zero/NULL fields match everything. */
struct store_query {
	uint64_t	 since_ns;	/* time >= since */
	uint64_t	 until_ns;	/* time < until; 0 = no end */
	uint64_t	 after_id;	/* id > after_id */
	const char	*rule;
	const char	*consumer;
	const char	*type;		/* has a count of this type */
	const char	*incident;
	const char	*sensor;
	int		 min_sev;	/* -1 or 0: any */
	bool		 has_src;
	uint8_t		 src_net[16];	/* IPv6 or IPv4-mapped (::ffff:a.b.c.d) */
	unsigned	 src_bits;	/* prefix length over the 128 bits */
};

/* link is the alert's chain link (borrowed, like a). */
typedef int store_alert_cb(const struct store_alert *a, const uint8_t *link,
    void *arg);

/*
 * Call cb for every alert matching q in the current snapshot, in (time, id)
 * order. The most selective index is chosen (rule, consumer, incident,
 * source, type, severity, time); the other filters are checked on the
 * record. cb returning non-zero stops the walk and is returned. Returns 0,
 * cb's value, or -1 (corrupt store or out of memory; message in
 * store_errstr()).
 */
int	store_query_run(struct store *st, const struct store_query *q,
	    store_alert_cb *cb, void *arg);

/* Message of the last failure on st (borrowed, valid until the next call). */
const char *store_errstr(const struct store *st);

/*
 * The address of s ("10.1.2.3", "2001:db8::1") or network ("10.0.0.0/8")
 * as 16 bytes (IPv4 mapped to ::ffff:0:0/96) and a prefix length over 128
 * bits. Strict: no spaces, host bits must be zero. 0 or -1.
 */
int	store_cidr_parse(const char *s, uint8_t net[16], unsigned *bits);

/*
 * A time for --since/--until: ISO 8601 ("2026-11-22", "2026-11-22T10:00Z",
 * "2026-11-22T10:00:00.5+07:00"; no zone means UTC) or a duration before
 * now_ns ("24h", "30m", "7d"). Returns 0 with *out in ns since the epoch,
 * or -1.
 */
int	store_time_parse(const char *s, uint64_t now_ns, uint64_t *out);
/* Format ns as "2026-11-22T10:00:00.123456789Z" (31 bytes with NUL). */
void	store_time_fmt(uint64_t ns, char *buf, size_t len);
/* Wall clock in ns since the epoch. */
uint64_t store_now_ns(void);

/* --- store_chain.c: the hash chain, checkpoints, keys, verification --- */

struct store_ckpt {
	uint64_t	 seq;		/* last id covered */
	uint8_t		 link[STORE_LINK_LEN];
	uint64_t	 time_ns;
	uint8_t		 keyid[STORE_KEYID_LEN];	/* SHA-256 of the raw key */
	uint8_t		 sig[STORE_SIG_LEN];
};

/* link = SHA-256("gerbang-chain-v1" || prev || id LE || rec). 0 or -1. */
int	store_chain_link(const uint8_t prev[STORE_LINK_LEN], uint64_t id,
	    const uint8_t *rec, size_t n, uint8_t out[STORE_LINK_LEN]);

/* Sign c (seq, link, time) with key, filling keyid and sig. 0 or -1. */
int	store_ckpt_sign(struct store_ckpt *c, EVP_PKEY *key);
/* 1 when sig is a valid signature of c by key and keyid matches, else 0. */
int	store_ckpt_check(const struct store_ckpt *c, EVP_PKEY *key);

/*
 * Load an Ed25519 key from a PEM file: private (PKCS#8) or public (SPKI).
 * Returns 0 with *out (caller owns, EVP_PKEY_free()), or -1 with err.
 */
int	store_key_load_private(const char *path, EVP_PKEY **out, char *err,
	    size_t errlen);
int	store_key_load_public(const char *path, EVP_PKEY **out, char *err,
	    size_t errlen);
/* SHA-256 of the raw public key. 0 or -1. */
int	store_key_id(EVP_PKEY *key, uint8_t id[STORE_KEYID_LEN]);

struct store_verify {
	uint64_t	 records;	/* records checked */
	uint64_t	 first_id;
	uint64_t	 last_id;
	uint64_t	 checkpoints;	/* signatures checked */
	uint64_t	 signed_id;	/* last id covered by a good signature */
	uint64_t	 bad_id;	/* first broken record or checkpoint seq */
	bool		 own_key;	/* checked against the key in the store */
	char		 msg[256];	/* what broke, when STORE_BROKEN */
};

/*
 * Check the whole chain in one snapshot: every record decodes, ids are
 * contiguous from the base, every link recomputes, every checkpoint's link
 * is the chain's link at its seq and its signature verifies with one of
 * keys (npub > 0) or, with npub 0, the public key recorded in the store
 * (weaker: own_key is set). Returns 0 intact, STORE_BROKEN with the first
 * broken record or checkpoint in v, or -1 (cannot read; store_errstr()).
 */
int	store_verify_run(struct store *st, EVP_PKEY *const *keys, size_t npub,
	    struct store_verify *v);

/*
 * Walk the checkpoints in seq order (current snapshot). cb gets each one;
 * non-zero stops and is returned. 0, cb's value, or -1.
 */
int	store_ckpt_walk(struct store *st,
	    int (*cb)(const struct store_ckpt *c, void *arg), void *arg);

/* --- store_writer.c: group commit, chain, map growth, full disk --- */

struct store_writer;

struct store_writer_opts {
	size_t		 batch;		/* commit every N alerts; 0 = 10000 */
	uint64_t	 batch_ms;	/* or after M ms (tick); 0 = 200 */
	size_t		 queue_cap;	/* alerts held on storage failure;
					   0 = 200000 (>= batch) */
	uint64_t	 ckpt_every;	/* sign every K alerts; 0 = 10000 */
	uint64_t	 ckpt_ms;	/* or every T ms (tick); 0 = 60000 */
	uint64_t	 map_size;	/* initial map; 0 = 64 MiB */
	EVP_PKEY	*key;		/* Ed25519 private key, borrowed;
					   NULL: no checkpoints (unsigned) */
	bool		 nosync;	/* MDB_NOSYNC: UNSAFE, see docs */
};

struct store_writer_stats {
	uint64_t	 appended;	/* accepted by store_writer_append() */
	uint64_t	 committed;	/* in committed transactions */
	uint64_t	 batches;	/* committed transactions */
	uint64_t	 pending;	/* queued, not yet committed */
	uint64_t	 lost;		/* refused past queue_cap (reported) */
	uint64_t	 invalid;	/* refused by store_alert_check() */
	uint64_t	 commit_errors;	/* failed commits (kept, retried) */
	uint64_t	 map_grows;
	uint64_t	 checkpoints;
	uint64_t	 last_id;	/* id of the last committed alert */
};

/*
 * Open (creating when missing) the store in dir for appending. opts may be
 * NULL for the defaults. The key is borrowed: keep it until close.
 * Returns 0 with *out (caller owns, store_writer_close()), or -1 with err.
 */
int	store_writer_open(const char *dir, const struct store_writer_opts *opts,
	    struct store_writer **out, char *err, size_t errlen);

/*
 * Queue a copy of a (a->id and a->time_ns 0 are set by the store) and
 * commit when batch alerts are queued. Returns 0 queued (committed or
 * not), or -1: errno EINVAL an invalid alert (counted in invalid), ENOBUFS
 * the queue is at queue_cap because storage keeps failing (counted in lost
 * and logged: the one way an alert is lost, never silently).
 */
int	store_writer_append(struct store_writer *w, const struct store_alert *a);

/*
 * Commit when batch_ms passed since the oldest queued alert, retry a failed
 * commit, sign a checkpoint when due. now_ms is gb_now_ms(). Returns 0, or
 * -1 when a commit failed (alerts kept for the next tick).
 */
int	store_writer_tick(struct store_writer *w, uint64_t now_ms);

/* Commit everything queued now. 0, or -1 (alerts kept, retried later). */
int	store_writer_flush(struct store_writer *w);

/* Commit, then sign a checkpoint at the head now. 0 or -1. */
int	store_writer_checkpoint(struct store_writer *w);

void	store_writer_stats(const struct store_writer *w,
	    struct store_writer_stats *s);

/*
 * Flush, sign a final checkpoint, close. Returns 0, or -1 when queued
 * alerts could not be committed (they are counted lost and logged).
 * NULL is a no-op.
 */
int	store_writer_close(struct store_writer *w);

/*
 * Purge every alert older than before_ns, oldest first, stopping at the
 * first alert that is not older (ids are in commit order). In transactions
 * of at most 10000 alerts, each leaving a base checkpoint signed with key
 * at the new first id - 1, so verification still works. *purged gets the
 * count. 0 or -1 with err.
 */
int	store_purge(const char *dir, uint64_t before_ns, EVP_PKEY *key,
	    uint64_t *purged, char *err, size_t errlen);

/* --- store_json.c: alerts as JSON lines (export and import) --- */

/* Append a as one JSON object (no newline) to out, with its id and link. */
int	store_json_alert(struct gb_buf *out, const struct store_alert *a,
	    const uint8_t link[STORE_LINK_LEN]);

/*
 * Parse one JSON line (the export format; "id" and "link" are ignored)
 * into *a. Strict: one object, known keys only, no duplicates, depth and
 * size bounded. Unescaped strings go to scratch (cleared first); slices in
 * *a point into it or into line (borrowed). Sample values that hold no
 * '*' are masked with gb_mask(). Returns 0, or -1 with a reason in
 * why (static string).
 */
int	store_json_parse(const char *line, size_t n, struct store_alert *a,
	    struct gb_buf *scratch, const char **why);

#endif /* STORE_H */
