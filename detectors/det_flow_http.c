/*
 * det_flow_http.c: HTTP/1.1 observation on reassembled streams. See
 * det_flow_http.h.
 */
#include "detectors/det_flow_http.h"

#include "core/gb_buf.h"
#include "core/gb_http.h"
#include "core/gb_mask.h"
#include "core/gb_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_MIN	8	/* pending requests per flow: grows from */
#define QUEUE_MAX	256	/* ... up to */
#define PENDING_MAX	65536	/* pending requests, all flows */
#define HEAD_MAX	65536	/* gb_http default max_head_size */
#define NHDRS		100
#define H2_PREFACE	"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

enum role {
	R_UNKNOWN = 0,
	R_REQ,		/* this endpoint sends requests (the client) */
	R_RESP,		/* this endpoint sends responses */
	R_RAW,		/* not HTTP: scanned raw */
};

enum dstate {
	S_HEAD = 0,
	S_BODY_LEN,
	S_BODY_CHUNKED,
	S_BODY_CLOSE,
	S_RESYNC,
};

struct http_dir {
	enum role		 role;
	enum dstate		 st;
	bool			 line_start;	/* S_RESYNC: at a line start */
	bool			 scanning;	/* stream has bytes of a doc */
	bool			 inspect;	/* body goes to the scanner */
	bool			 resynced;	/* next head follows a loss */
	uint8_t			*hbuf;		/* incomplete head */
	size_t			 hlen;
	size_t			 hcap;
	size_t			 last_len;	/* resume hint */
	uint64_t		 remaining;	/* S_BODY_LEN */
	struct gb_http_chunked	 ck;
	struct det_stream	*scan;
	struct det_decoder	*ddec;		/* pooled decoding layers for the
						   document being scanned */
	bool			 ddefl;		/* ddec is a deflate one */
	void			*dec;		/* decoder state */
	struct det_sensor_txn	*cur;		/* message being read */
	struct det_sensor_txn	*raw;		/* R_RAW: the direction's txn */
	bool			 unqueued;	/* cur: a request past the
						   queue, emitted at its end */
};

struct http_flow {
	struct http_dir		 d[2];		/* by endpoint */
	struct det_sensor_txn	**q;		/* requests awaiting answers */
	uint32_t		*qskip;		/* per slot: requests dropped
						   after it (queue full) */
	unsigned		 qcap;		/* QUEUE_MIN .. QUEUE_MAX */
	unsigned		 qhead;
	unsigned		 qn;
	uint32_t		 skip;		/* responses next to answer
						   dropped requests */
	uint64_t		 ntxn;		/* transactions made (seq) */
	struct det_sensor_txn	*raw;		/* DET_TXN_RAW of the flow */
	bool			 tunnel;
};

struct det_http_obs {
	const struct det_scanner *sc;
	det_sensor_txn_cb	*cb;
	void			*arg;
	struct det_body_decoder	 dec;
	bool			 have_dec;
	/* The scanner's decoding layers (det_decode.h), pooled: a decoder
	 * is held only while a body is scanned. */
	unsigned		 layers;	/* DET_DEC_* without GZIP/DEFLATE */
	size_t			 dec_max;
	size_t			 dec_live;
	struct det_decoder	**pool[2];	/* [0] gzip+text, [1] deflate */
	size_t			 npool[2];
	det_finding_hook	*fhook;
	void			*fharg;
	size_t			 head_memcap;
	size_t			 mem;
	size_t			 pending;	/* queued requests, all flows */
	struct det_http_counters c;
	struct gb_http_limits	 lim;
	struct gb_http_header	 hdrs[NHDRS];
};

/* Finding callback context. */
struct find_arg {
	struct det_http_obs	*o;
	struct det_sensor_txn	*txn;
	bool			 req;
	bool			 path;
};

static const struct gb_flag_name txn_flag_names[] = {
	{ DET_TXN_F_GAP, "GAP" },
	{ DET_TXN_F_NO_REQUEST, "NO_REQUEST" },
	{ DET_TXN_F_NO_RESPONSE, "NO_RESPONSE" },
	{ DET_TXN_F_NOT_INSPECTED, "NOT_INSPECTED" },
	{ DET_TXN_F_TRUNCATED, "TRUNCATED" },
	{ DET_TXN_F_ANOMALY, "ANOMALY" },
	{ DET_TXN_F_CUT, "CUT" },
	{ DET_TXN_F_PARSE_ERROR, "PARSE_ERROR" },
	{ DET_TXN_F_TUNNEL, "TUNNEL" },
};

const char *
det_txn_flags_str(unsigned flags, char *buf, size_t len)
{
	return gb_flags_str(txn_flag_names, sizeof(txn_flag_names) /
	    sizeof(txn_flag_names[0]), flags, "0", buf, len);
}

enum det_coding
det_coding_parse(const char *v, size_t n)
{
	enum det_coding c = DET_CODING_IDENTITY;
	size_t i = 0, s, e;
	unsigned ncod = 0;

	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e == s || gb_http_name_eq(v + s, e - s, "identity"))
			continue;
		ncod++;
		if (gb_http_name_eq(v + s, e - s, "gzip") ||
		    gb_http_name_eq(v + s, e - s, "x-gzip"))
			c = DET_CODING_GZIP;
		else if (gb_http_name_eq(v + s, e - s, "deflate"))
			c = DET_CODING_DEFLATE;
		else if (gb_http_name_eq(v + s, e - s, "br"))
			c = DET_CODING_BR;
		else if (gb_http_name_eq(v + s, e - s, "zstd"))
			c = DET_CODING_ZSTD;
		else
			c = DET_CODING_OTHER;
	}
	return ncod > 1 ? DET_CODING_OTHER : c;
}

int
det_http_obs_new(const struct det_scanner *sc, size_t head_memcap,
    det_sensor_txn_cb *cb, void *arg, struct det_http_obs **out)
{
	struct det_http_obs *o;

	*out = NULL;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return -1;
	o->sc = sc;
	o->cb = cb;
	o->arg = arg;
	o->head_memcap = head_memcap ? head_memcap : 64u << 20;
	gb_http_limits_default(&o->lim);
	*out = o;
	return 0;
}

void
det_http_obs_free(struct det_http_obs *o)
{
	size_t i;
	int k;

	if (o == NULL)
		return;
	for (k = 0; k < 2; k++) {
		for (i = 0; i < o->npool[k]; i++)
			det_decode_free(o->pool[k][i]);
		free(o->pool[k]);
	}
	free(o);
}

int
det_http_obs_set_layers(struct det_http_obs *o, unsigned layers,
    size_t max_decoders)
{
	int k;

	if ((layers & ~(unsigned)DET_DEC_TEXT) != 0 || o->dec_live > 0)
		return -1;
	for (k = 0; k < 2; k++) {
		free(o->pool[k]);
		o->pool[k] = NULL;
		o->npool[k] = 0;
		if (max_decoders > 0 && (o->pool[k] = calloc(max_decoders,
		    sizeof(*o->pool[k]))) == NULL)
			return -1;
	}
	o->layers = layers;
	o->dec_max = max_decoders;
	return 0;
}

void
det_http_obs_set_finding_hook(struct det_http_obs *o, det_finding_hook *cb,
    void *arg)
{
	o->fhook = cb;
	o->fharg = arg;
}

void
det_http_obs_set_decoder(struct det_http_obs *o,
    const struct det_body_decoder *dec)
{
	o->have_dec = dec != NULL;
	if (dec != NULL)
		o->dec = *dec;
}

const struct det_http_counters *
det_http_obs_counters(const struct det_http_obs *o)
{
	return &o->c;
}

size_t
det_http_obs_mem(const struct det_http_obs *o)
{
	return o->mem;
}

/* --- transactions --- */

static struct det_sensor_txn *
txn_new(const struct det_flow *f, struct http_flow *hf,
    enum det_txn_kind kind)
{
	struct det_sensor_txn *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->kind = kind;
	t->flow = f;
	t->seq = ++hf->ntxn;
	return t;
}

static void
txn_emit(struct det_http_obs *o, struct det_sensor_txn *t)
{
	o->c.txns++;
	if (t->nfindings > 0)
		o->c.txns_with_findings++;
	o->cb(t, o->arg);
	free(t);
}

/* Copy s[0..n) into dst (size cap) as a C string; flags CUT when short;
   control bytes become '?'. */
static void
txn_copy(struct det_sensor_txn *t, char *dst, size_t cap, const char *s,
    size_t n)
{
	size_t i;

	if (n >= cap) {
		n = cap - 1;
		t->flags |= DET_TXN_F_CUT;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		dst[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	dst[n] = '\0';
}

/*
 * gb_mask() keeps the first character of an e-mail local part, so a
 * one-character local part comes out whole: when it masked nothing, mask
 * every byte before the '@' (an e-mail), else every letter and digit.
 */
static void
mask_more(char *m)
{
	char *at = strchr(m, '@'), *p;

	if (strchr(m, '*') != NULL)
		return;
	for (p = m; *p != '\0' && (at == NULL || p < at); p++)
		if (at != NULL || (*p >= '0' && *p <= '9') ||
		    (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
			*p = '*';
}

static void
on_finding(const struct det_finding *fd, void *arg)
{
	struct find_arg *fa = arg;
	struct det_sensor_txn *t = fa->txn;
	struct det_txn_sample *s;

	fa->o->c.findings[fd->type]++;
	if (t == NULL)
		return;
	if (fa->o->fhook != NULL)
		fa->o->fhook(t, fa->path ? DET_WHERE_PATH : fa->req ?
		    DET_WHERE_REQ_BODY : DET_WHERE_RESP_BODY, fd, fa->o->fharg);
	if (fa->req)
		t->req_counts[fd->type]++;
	else
		t->resp_counts[fd->type]++;
	t->nfindings++;
	if (t->nsamples < DET_TXN_SAMPLES) {
		s = &t->samples[t->nsamples++];
		s->type = fd->type;
		s->in_request = fa->req;
		gb_mask(s->masked, sizeof(s->masked), fd->value, fd->vlen);
		mask_more(s->masked);
	}
}

/*
 * Findings in the request target: count them and mask them in t->path.
 * The whole target is scanned (up to TARGET_SCAN_MAX bytes), not only what
 * fits in t->path, and percent-decoded when it holds escapes; map[i] is
 * the target offset of decoded byte i (map[n] its end).
 */
#define TARGET_SCAN_MAX	8192

struct path_arg {
	struct find_arg	 fa;
	char		*path;		/* the copy of t->path to mask */
	size_t		 len;
	const uint16_t	*map;		/* NULL: scanned as written */
	size_t		 n;		/* bytes scanned */
};

static void
on_path_finding(const struct det_finding *fd, void *arg)
{
	struct path_arg *pa = arg;
	struct det_finding f = *fd;
	char m[DET_TXN_PATH_MAX];
	size_t off = (size_t)fd->offset, n = fd->length, end;
	bool escaped = false;

	if (pa->map != NULL) {	/* back to the target's offsets */
		end = off + n < pa->n ? pa->map[off + n] : pa->map[pa->n];
		off = pa->map[off < pa->n ? off : pa->n];
		escaped = end - off != n;
		n = end - off;
		f.offset = off;
		f.length = (uint32_t)n;
	}
	on_finding(&f, &pa->fa);
	if (off >= pa->len)
		return;
	if (n > pa->len - off)
		n = pa->len - off;
	if (escaped) {		/* %33%31...: every byte of it */
		memset(pa->path + off, '*', n);
		return;
	}
	gb_mask(m, sizeof(m), pa->path + off, n);
	mask_more(m);
	memcpy(pa->path + off, m, n);
}

/* Scan target[0..tlen) (t->path is its copy, maybe cut): count the
   findings and mask them in t->path. */
static void
mask_path(struct det_http_obs *o, struct det_sensor_txn *t,
    const char *target, size_t tlen)
{
	struct path_arg pa;
	char copy[DET_TXN_PATH_MAX], dec[TARGET_SCAN_MAX];
	uint16_t map[TARGET_SCAN_MAX + 1];
	size_t n = strlen(t->path), i, k;
	int hi, lo;

	pa.fa.o = o;
	pa.fa.txn = t;
	pa.fa.req = true;
	pa.fa.path = true;
	pa.path = copy;
	pa.len = n;
	pa.map = NULL;
	if (tlen > TARGET_SCAN_MAX)
		tlen = TARGET_SCAN_MAX;
	memcpy(copy, t->path, n + 1);
	if (memchr(target, '%', tlen) == NULL) {
		pa.n = tlen;
		(void)det_scan_buf(o->sc, (const uint8_t *)target, tlen,
		    on_path_finding, &pa);
	} else {
		for (i = k = 0; i < tlen; k++) {
			map[k] = (uint16_t)i;
			if (target[i] == '%' && i + 2 < tlen &&
			    (hi = gb_hexval((unsigned char)target[i + 1])) >= 0 &&
			    (lo = gb_hexval((unsigned char)target[i + 2])) >= 0) {
				dec[k] = (char)(hi << 4 | lo);
				i += 3;
			} else {
				dec[k] = target[i++];
			}
		}
		map[k] = (uint16_t)tlen;
		pa.map = map;
		pa.n = k;
		(void)det_scan_buf(o->sc, (const uint8_t *)dec, k,
		    on_path_finding, &pa);
		explicit_bzero(dec, k);
	}
	memcpy(t->path, copy, n + 1);
	/* A value cut by the end of the buffer is masked whole. */
	if ((t->flags & DET_TXN_F_CUT) != 0) {
		for (i = n; i > 0 && copy[i - 1] >= '0' && copy[i - 1] <= '9';
		    i--)
			t->path[i - 1] = '*';
	}
	explicit_bzero(copy, sizeof(copy));
}

/* --- per-flow state --- */

static struct http_flow *
hf_get(struct det_flow *f)
{
	if (f->app == NULL)
		f->app = calloc(1, sizeof(struct http_flow));
	return f->app;
}

static void
hbuf_free(struct det_http_obs *o, struct http_dir *d)
{
	o->mem -= d->hcap;
	free(d->hbuf);
	d->hbuf = NULL;
	d->hlen = d->hcap = 0;
	d->last_len = 0;
}

static void
hbuf_reset(struct det_http_obs *o, struct http_dir *d)
{
	d->hlen = 0;
	d->last_len = 0;
	if (d->hcap > 4096)
		hbuf_free(o, d);
}

static int
hbuf_append(struct det_http_obs *o, struct http_dir *d, const uint8_t *p,
    size_t n)
{
	if (d->hlen + n > d->hcap) {
		size_t ncap = d->hcap ? d->hcap : 1024;
		uint8_t *nb;

		while (ncap < d->hlen + n)
			ncap *= 2;
		if (o->mem + (ncap - d->hcap) > o->head_memcap) {
			o->c.head_memcap++;
			return -1;
		}
		if ((nb = realloc(d->hbuf, ncap)) == NULL)
			return -1;
		o->mem += ncap - d->hcap;
		d->hbuf = nb;
		d->hcap = ncap;
	}
	memcpy(d->hbuf + d->hlen, p, n);
	d->hlen += n;
	return 0;
}

/*
 * Take a decoder for the body starting in d: gzip (found by its magic
 * bytes, whatever the headers say) and the text layers, or deflate for
 * Content-Encoding: deflate. false when none is free (dec_max reached, or
 * memory short): the body is then scanned as it is.
 */
static void dec_release(struct det_http_obs *, struct http_dir *);

static bool
dec_acquire(struct det_http_obs *o, struct http_dir *d, bool deflate)
{
	int k = deflate ? 1 : 0;
	unsigned fl = o->layers | (deflate ? DET_DEC_DEFLATE : DET_DEC_GZIP);

	if (d->ddec != NULL)
		dec_release(o, d);
	d->ddefl = deflate;
	if (o->npool[k] > 0) {
		d->ddec = o->pool[k][--o->npool[k]];
		return true;
	}
	if (o->dec_live >= o->dec_max ||
	    det_decode_new(o->sc, fl, NULL, &d->ddec) == -1) {
		d->ddec = NULL;
		o->c.decoder_unavailable++;
		return false;
	}
	o->dec_live++;
	return true;
}

static void
dec_release(struct det_http_obs *o, struct http_dir *d)
{
	int k;

	if (d->ddec == NULL)
		return;
	k = d->ddefl ? 1 : 0;
	det_decode_reset(d->ddec);
	if (o->pool[k] != NULL && o->npool[k] < o->dec_max)
		o->pool[k][o->npool[k]++] = d->ddec;
	else {
		det_decode_free(d->ddec);
		o->dec_live--;
	}
	d->ddec = NULL;
	d->ddefl = false;
}

static struct det_stream *
dir_stream(struct det_http_obs *o, struct http_dir *d)
{
	if (d->scan == NULL && det_stream_new(o->sc, &d->scan) == -1)
		return NULL;
	return d->scan;
}

/* End the document being scanned in d (findings go to txn). */
static void
scan_end(struct det_http_obs *o, struct http_dir *d,
    struct det_sensor_txn *txn, bool req)
{
	struct find_arg fa = { o, txn, req, false };
	struct det_decode_stats ds;

	if (d->ddec != NULL) {
		if (d->scanning)
			(void)det_decode_finish(d->ddec, on_finding, &fa);
		det_decode_stats(d->ddec, &ds);
		o->c.decode_limit_hits += ds.limit_hits;
		o->c.decode_skipped_bytes += ds.skipped_bytes;
		o->c.decoded_escapes += ds.escapes + ds.b64_blocks;
		if (ds.errors > 0)
			o->c.decode_errors++;
		if (txn != NULL && ds.skipped_bytes > 0)
			txn->flags |= DET_TXN_F_NOT_INSPECTED;
		dec_release(o, d);
	} else if (d->scan != NULL && d->scanning) {
		(void)det_stream_finish(d->scan, on_finding, &fa);
		det_stream_reset(d->scan);
	}
	d->scanning = false;
}

static void
scan_feed(struct det_http_obs *o, struct http_dir *d,
    struct det_sensor_txn *txn, bool req, const uint8_t *p, size_t n)
{
	struct find_arg fa = { o, txn, req, false };
	struct det_stream *st;

	if (n == 0)
		return;
	if (d->ddec != NULL) {
		d->scanning = true;
		(void)det_decode_feed(d->ddec, p, n, on_finding, &fa);
		return;
	}
	if ((st = dir_stream(o, d)) == NULL)
		return;
	d->scanning = true;
	(void)det_stream_feed(st, p, n, on_finding, &fa);
}

/* Decoder output goes to the scanner. */
struct dec_arg {
	struct det_http_obs	*o;
	struct http_dir		*d;
	bool			 req;
};

static int
dec_out(void *oarg, const uint8_t *p, size_t n)
{
	struct dec_arg *da = oarg;

	da->o->c.body_bytes_scanned += n;
	scan_feed(da->o, da->d, da->d->cur, da->req, p, n);
	return 0;
}

static void
body_feed(struct det_http_obs *o, struct http_dir *d, bool req,
    const uint8_t *p, size_t n)
{
	struct det_sensor_txn *t = d->cur;
	struct dec_arg da = { o, d, req };

	if (t != NULL) {
		if (req)
			t->req_body += n;
		else
			t->resp_body += n;
	}
	if (n == 0)
		return;
	if (!d->inspect) {
		o->c.not_inspected_bytes += n;
		return;
	}
	if (d->dec != NULL) {
		if (o->dec.feed(d->dec, p, n, dec_out, &da) == -1) {
			o->c.decode_errors++;
			o->dec.close(d->dec);
			d->dec = NULL;
			d->inspect = false;
			if (t != NULL)
				t->flags |= DET_TXN_F_NOT_INSPECTED;
		}
		return;
	}
	o->c.body_bytes_scanned += n;
	scan_feed(o, d, t, req, p, n);
}

/* Start reading a body in coding c. */
static void
body_start(struct det_http_obs *o, struct http_dir *d, enum det_coding c)
{
	d->inspect = true;
	d->dec = NULL;
	o->c.bodies_scanned++;
	if (c == DET_CODING_IDENTITY) {
		/* Text layers; a gzip body sent without its header too. */
		if (o->dec_max > 0)
			(void)dec_acquire(o, d, false);
		return;
	}
	if (o->have_dec && (d->dec = o->dec.open(o->dec.ctx, c)) != NULL) {
		if (o->dec_max > 0)
			(void)dec_acquire(o, d, false);
		return;
	}
	if ((c == DET_CODING_GZIP || c == DET_CODING_DEFLATE) &&
	    o->dec_max > 0 && dec_acquire(o, d, c == DET_CODING_DEFLATE))
		return;
	d->inspect = false;
	o->c.bodies_scanned--;
	o->c.not_inspected++;
	if (d->cur != NULL)
		d->cur->flags |= DET_TXN_F_NOT_INSPECTED;
}

/* Finish the body being read (complete: the decoder may flush). */
static void
body_end(struct det_http_obs *o, struct http_dir *d, bool req, bool complete)
{
	struct dec_arg da = { o, d, req };

	if (d->dec != NULL) {
		if (complete && o->dec.finish(d->dec, dec_out, &da) == -1) {
			o->c.decode_errors++;
			if (d->cur != NULL)
				d->cur->flags |= DET_TXN_F_NOT_INSPECTED;
		}
		o->dec.close(d->dec);
		d->dec = NULL;
	}
	scan_end(o, d, d->cur, req);
}

/* --- the request queue --- */

static struct det_sensor_txn *
q_head(struct http_flow *hf)
{
	return hf->qn ? hf->q[hf->qhead] : NULL;
}

/*
 * Take the oldest request off the queue. A request whose body is still
 * being read (an early answer, a lost response head) is detached from its
 * direction: the rest of that body is scanned without a transaction.
 */
static void
q_pop(struct det_http_obs *o, struct http_flow *hf)
{
	struct det_sensor_txn *t = hf->q[hf->qhead];
	int i;

	/* The answers to requests dropped after it come next. */
	hf->skip += hf->qskip[hf->qhead];
	hf->qskip[hf->qhead] = 0;
	hf->qhead = (hf->qhead + 1) % hf->qcap;
	hf->qn--;
	o->pending--;
	for (i = 0; i < 2; i++)
		if (hf->d[i].cur == t)
			hf->d[i].cur = NULL;
}

/* Double the queue (in order from slot 0), up to QUEUE_MAX. */
static int
q_grow(struct http_flow *hf)
{
	unsigned ncap = hf->qcap == 0 ? QUEUE_MIN : hf->qcap * 2, i;
	struct det_sensor_txn **nq;
	uint32_t *nskip;

	if (ncap > QUEUE_MAX)
		return -1;
	if ((nq = calloc(ncap, sizeof(*nq))) == NULL)
		return -1;
	if ((nskip = calloc(ncap, sizeof(*nskip))) == NULL) {
		free(nq);
		return -1;
	}
	for (i = 0; i < hf->qn; i++) {
		nq[i] = hf->q[(hf->qhead + i) % hf->qcap];
		nskip[i] = hf->qskip[(hf->qhead + i) % hf->qcap];
	}
	free(hf->q);
	free(hf->qskip);
	hf->q = nq;
	hf->qskip = nskip;
	hf->qcap = ncap;
	hf->qhead = 0;
	return 0;
}

/*
 * Queue request t for its response. Returns 0, or 1 when the queue is
 * full (QUEUE_MAX, PENDING_MAX, memory): t is not queued, it is counted
 * (queue_overflow, unanswered) and flagged NO_RESPONSE, and the response
 * that will answer it is marked to be skipped, so that the responses after
 * it still pair with their own requests.
 */
static int
q_push(struct det_http_obs *o, struct http_flow *hf, struct det_sensor_txn *t)
{
	if ((hf->qn > 0 && o->pending >= PENDING_MAX) ||
	    (hf->qn == hf->qcap && q_grow(hf) == -1)) {
		o->c.queue_overflow++;
		o->c.unanswered++;
		t->flags |= DET_TXN_F_NO_RESPONSE;
		if (hf->qn > 0)
			hf->qskip[(hf->qhead + hf->qn - 1) % hf->qcap]++;
		else
			hf->skip++;
		return 1;
	}
	hf->q[(hf->qhead + hf->qn) % hf->qcap] = t;
	hf->qn++;
	o->pending++;
	return 0;
}

/* --- message heads --- */

static void
dir_resync(struct det_http_obs *o, struct http_dir *d, bool line_start)
{
	hbuf_reset(o, d);
	d->st = S_RESYNC;
	d->resynced = true;
	d->line_start = line_start;
}

static void msg_end(struct det_http_obs *o, struct http_flow *hf,
    struct http_dir *d, bool complete);

static void
go_raw(struct det_http_obs *o, struct det_flow *f, struct http_flow *hf,
    int from)
{
	struct http_dir *d = &hf->d[from];

	if (d->role != R_RAW && d->cur != NULL)	/* a message was open */
		msg_end(o, hf, d, false);
	hbuf_reset(o, d);
	if (d->role != R_RAW)
		o->c.raw_streams++;
	d->role = R_RAW;
	if (hf->raw == NULL && (hf->raw = txn_new(f, hf, DET_TXN_RAW)) != NULL)
		hf->raw->ts_req_us = f->last_us;
}

static void
req_head(struct det_http_obs *o, struct det_flow *f, struct http_flow *hf,
    int from, const struct gb_http_req *rq, size_t hlen)
{
	struct http_dir *d = &hf->d[from];
	struct det_sensor_txn *t;
	ssize_t i;

	o->c.requests++;
	if ((rq->flags & GB_HTTP_F_ANOMALY) != 0)
		o->c.anomalies++;
	if (d->role == R_UNKNOWN) {
		d->role = R_REQ;
		if (!f->client_known) {
			f->client = (uint8_t)from;
			f->client_known = true;
		}
	}
	if ((t = txn_new(f, hf, DET_TXN_HTTP)) == NULL)
		return;
	t->ts_req_us = f->last_us;
	t->req_bytes = hlen;
	if ((rq->flags & GB_HTTP_F_ANOMALY) != 0)
		t->flags |= DET_TXN_F_ANOMALY;
	txn_copy(t, t->method, sizeof(t->method), rq->method, rq->method_len);
	if (rq->host != NULL)
		txn_copy(t, t->host, sizeof(t->host), rq->host, rq->host_len);
	else if (rq->authority != NULL)
		txn_copy(t, t->host, sizeof(t->host), rq->authority,
		    rq->authority_len);
	/* The consumer first: findings in the path are attributed to it. */
	i = gb_http_header_find(rq->headers, rq->nheaders, 0,
	    DET_CONSUMER_HEADER);
	if (i >= 0) {
		ssize_t j = gb_http_header_find(rq->headers, rq->nheaders,
		    (size_t)i + 1, DET_CONSUMER_HEADER);

		t->has_consumer = true;
		txn_copy(t, t->consumer, sizeof(t->consumer),
		    rq->headers[i].value, rq->headers[i].value_len);
		/*
		 * The gateway sends one line and removes every copy a client
		 * sent: with two, one is not the gateway's. The lines are
		 * read as one list ("a, b"), which no signature matches.
		 */
		if (j >= 0) {
			size_t n = strlen(t->consumer);

			if (n + 2 < sizeof(t->consumer)) {
				memcpy(t->consumer + n, ", ", 2);
				txn_copy(t, t->consumer + n + 2,
				    sizeof(t->consumer) - n - 2,
				    rq->headers[j].value,
				    rq->headers[j].value_len);
			}
		}
	}
	txn_copy(t, t->path, sizeof(t->path), rq->target, rq->target_len);
	mask_path(o, t, rq->target, rq->target_len);
	if (d->resynced)
		t->flags |= DET_TXN_F_GAP;
	d->resynced = false;
	d->unqueued = q_push(o, hf, t) == 1;
	d->cur = t;
	switch (rq->body) {
	case GB_HTTP_BODY_LENGTH:
		d->st = S_BODY_LEN;
		d->remaining = rq->content_length;
		body_start(o, d, DET_CODING_IDENTITY);
		break;
	case GB_HTTP_BODY_CHUNKED:
		d->st = S_BODY_CHUNKED;
		gb_http_chunked_init(&d->ck, GB_HTTP_LENIENT);
		body_start(o, d, DET_CODING_IDENTITY);
		break;
	default:
		d->st = S_HEAD;
		d->cur = NULL;
		if (d->unqueued)
			txn_emit(o, t);
		d->unqueued = false;
		break;
	}
}

static void resp_done(struct det_http_obs *o, struct http_flow *hf,
    struct http_dir *d);

static void
resp_head(struct det_http_obs *o, struct det_flow *f, struct http_flow *hf,
    int from, const struct gb_http_resp *rs, size_t hlen)
{
	struct http_dir *d = &hf->d[from];
	struct det_sensor_txn *t;
	ssize_t i;
	enum det_coding c = DET_CODING_IDENTITY;

	if (d->role == R_UNKNOWN) {
		d->role = R_RESP;
		if (!f->client_known) {
			f->client = (uint8_t)!from;
			f->client_known = true;
		}
	}
	if ((rs->flags & GB_HTTP_F_ANOMALY) != 0)
		o->c.anomalies++;
	t = hf->skip > 0 ? NULL : q_head(hf);
	if (rs->status < 200 && rs->status != 101) {
		o->c.skipped_1xx++;
		if (t != NULL)
			t->resp_bytes += hlen;
		d->st = S_HEAD;
		return;
	}
	o->c.responses++;
	if (hf->skip > 0) {
		/* The answer to a request that did not fit the queue. */
		hf->skip--;
		t = NULL;
	}
	if (t != NULL) {
		q_pop(o, hf);
	} else {
		o->c.unpaired_responses++;
		if ((t = txn_new(f, hf, DET_TXN_HTTP)) == NULL)
			return;
		t->flags |= DET_TXN_F_NO_REQUEST;
	}
	d->cur = t;
	t->ts_resp_us = f->last_us;
	t->status = rs->status;
	t->resp_bytes += hlen;
	if (d->resynced)
		t->flags |= DET_TXN_F_GAP;
	d->resynced = false;
	if ((rs->flags & GB_HTTP_F_ANOMALY) != 0)
		t->flags |= DET_TXN_F_ANOMALY;
	i = gb_http_header_find(rs->headers, rs->nheaders, 0,
	    "Content-Encoding");
	if (i >= 0) {
		txn_copy(t, t->coding, sizeof(t->coding), rs->headers[i].value,
		    rs->headers[i].value_len);
		c = det_coding_parse(rs->headers[i].value,
		    rs->headers[i].value_len);
		/* More lines are one list (RFC 9110 5.3): codings applied
		   in turn, which only one decoder cannot undo. */
		while ((i = gb_http_header_find(rs->headers, rs->nheaders,
		    (size_t)i + 1, "Content-Encoding")) >= 0) {
			enum det_coding c2 = det_coding_parse(
			    rs->headers[i].value, rs->headers[i].value_len);

			if (c2 == DET_CODING_IDENTITY)
				continue;
			if (c == DET_CODING_IDENTITY) {
				txn_copy(t, t->coding, sizeof(t->coding),
				    rs->headers[i].value,
				    rs->headers[i].value_len);
				c = c2;
			} else
				c = DET_CODING_OTHER;
		}
	}
	if (rs->status == 101 || (strcmp(t->method, "CONNECT") == 0 &&
	    rs->status >= 200 && rs->status < 300)) {
		t->flags |= DET_TXN_F_TUNNEL;
		o->c.tunnels++;
		hf->tunnel = true;
		d->st = S_HEAD;
		resp_done(o, hf, d);
		go_raw(o, f, hf, 0);
		go_raw(o, f, hf, 1);
		return;
	}
	switch (rs->body) {
	case GB_HTTP_BODY_LENGTH:
		d->st = S_BODY_LEN;
		d->remaining = rs->content_length;
		body_start(o, d, c);
		break;
	case GB_HTTP_BODY_CHUNKED:
		d->st = S_BODY_CHUNKED;
		gb_http_chunked_init(&d->ck, GB_HTTP_LENIENT);
		body_start(o, d, c);
		break;
	case GB_HTTP_BODY_CLOSE:
		d->st = S_BODY_CLOSE;
		body_start(o, d, c);
		break;
	default:
		d->st = S_HEAD;
		resp_done(o, hf, d);
		break;
	}
}

static enum gb_http_method
pending_method(struct http_flow *hf)
{
	struct det_sensor_txn *t = hf->skip > 0 ? NULL : q_head(hf);

	if (t == NULL)
		return GB_HTTP_GET;
	if (strcmp(t->method, "HEAD") == 0)
		return GB_HTTP_HEAD;
	if (strcmp(t->method, "CONNECT") == 0)
		return GB_HTTP_CONNECT;
	return GB_HTTP_GET;
}

/*
 * Parse a head at buf[0..len) for direction d. Returns > 0 (head length,
 * handled), 0 (need more), -1 (not a head).
 */
static ssize_t
parse_head(struct det_http_obs *o, struct det_flow *f, struct http_flow *hf,
    int from, const char *buf, size_t len, size_t last_len)
{
	struct http_dir *d = &hf->d[from];
	size_t k = len < 5 ? len : 5;
	bool looks_resp = memcmp(buf, "HTTP/", k) == 0;
	ssize_t r;

	if (d->role == R_RESP || (d->role == R_UNKNOWN && looks_resp)) {
		struct gb_http_resp rs;

		if (len < 5 && looks_resp)
			return 0;
		memset(&rs, 0, sizeof(rs));
		rs.headers = o->hdrs;
		rs.max_headers_cap = NHDRS;
		r = gb_http_parse_response_resume(buf, len, &rs, &o->lim,
		    GB_HTTP_LENIENT, pending_method(hf), last_len);
		if (r > 0)
			resp_head(o, f, hf, from, &rs, (size_t)r);
		else if (r < 0 && d->role == R_RESP)
			o->c.resp_parse_errors++;
		return r;
	} else {
		struct gb_http_req rq;

		memset(&rq, 0, sizeof(rq));
		rq.headers = o->hdrs;
		rq.max_headers_cap = NHDRS;
		r = gb_http_parse_request_resume(buf, len, &rq, &o->lim,
		    GB_HTTP_LENIENT, last_len);
		if (r > 0)
			req_head(o, f, hf, from, &rq, (size_t)r);
		else if (r < 0 && d->role == R_REQ)
			o->c.req_parse_errors++;
		return r;
	}
}

/* A response is complete: hand it out. */
static void
resp_done(struct det_http_obs *o, struct http_flow *hf, struct http_dir *d)
{
	(void)hf;
	if (d->cur != NULL)
		txn_emit(o, d->cur);
	d->cur = NULL;
	d->st = S_HEAD;
}

/* The message in d ended (complete or not). */
static void
msg_end(struct det_http_obs *o, struct http_flow *hf, struct http_dir *d,
    bool complete)
{
	bool req = d->role == R_REQ;

	body_end(o, d, req, complete);
	if (!complete && d->cur != NULL)
		d->cur->flags |= DET_TXN_F_TRUNCATED;
	if (req) {
		if (d->unqueued && d->cur != NULL)	/* never answered */
			txn_emit(o, d->cur);
		d->unqueued = false;
		d->cur = NULL;	/* stays queued for its response */
		d->st = S_HEAD;
	} else {
		resp_done(o, hf, d);
	}
}

/*
 * S_RESYNC: look for a line starting a message. Returns bytes skipped
 * before it (the state is then S_HEAD), or n when none was found.
 */
static size_t
resync(struct det_http_obs *o, struct http_dir *d, const uint8_t *p,
    size_t n)
{
	static const char *const starts[] = {
		"GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "PATCH ",
		"OPTIONS ", "HTTP/1.", NULL,
	};
	size_t i = 0, j, k;
	const uint8_t *nl;

	while (i < n) {
		if (d->line_start) {
			for (j = 0; starts[j] != NULL; j++) {
				bool resp = starts[j][0] == 'H' &&
				    starts[j][1] == 'T';

				k = strlen(starts[j]);
				if ((resp && d->role == R_REQ) ||
				    (!resp && d->role == R_RESP))
					continue;
				if (n - i >= k && memcmp(p + i, starts[j], k)
				    == 0) {
					o->c.resyncs++;
					o->c.resync_skipped += i;
					d->st = S_HEAD;
					return i;
				}
			}
		}
		nl = memchr(p + i, '\n', n - i);
		if (nl == NULL) {
			d->line_start = false;
			break;
		}
		i = (size_t)(nl - p) + 1;
		d->line_start = true;
	}
	o->c.resync_skipped += n;
	return n;
}

static void
raw_feed(struct det_http_obs *o, struct det_flow *f, struct http_flow *hf,
    int from, const uint8_t *p, size_t n)
{
	struct http_dir *d = &hf->d[from];
	bool req = from == f->client;
	struct det_sensor_txn *t = hf->raw;

	if (t == NULL)
		return;
	if (p == NULL) {
		t->flags |= DET_TXN_F_GAP;
		scan_end(o, d, t, req);
		return;
	}
	o->c.raw_bytes += n;
	if (req)
		t->req_bytes += n;
	else
		t->resp_bytes += n;
	if (t->ts_resp_us == 0 && !req)
		t->ts_resp_us = f->last_us;
	scan_feed(o, d, t, req, p, n);
}

/* Data or a gap for the direction sent by endpoint from. */
static void
obs_data(void *ctx, struct det_flow *f, int from, uint64_t off,
    const uint8_t *p, size_t n)
{
	struct det_http_obs *o = ctx;
	struct http_flow *hf;
	struct http_dir *d;
	bool req;

	(void)off;
	if ((hf = hf_get(f)) == NULL)
		return;
	d = &hf->d[from];
	if (d->role == R_RAW) {
		raw_feed(o, f, hf, from, p, n);
		return;
	}
	req = d->role == R_REQ;
	if (p == NULL) {	/* a gap */
		if (d->cur != NULL)
			d->cur->flags |= DET_TXN_F_GAP;
		if (d->st == S_BODY_LEN && n <= d->remaining) {
			o->c.gaps_body++;
			d->remaining -= n;
			if (d->cur != NULL) {
				if (req)
					d->cur->req_body += n;
				else
					d->cur->resp_body += n;
			}
			/* the bytes around the hole are not one text */
			if (d->dec != NULL) {
				o->dec.close(d->dec);
				d->dec = NULL;
				d->inspect = false;
			}
			scan_end(o, d, d->cur, req);
			if (d->remaining == 0)
				msg_end(o, hf, d, true);
			return;
		}
		if (d->st == S_BODY_CLOSE) {
			o->c.gaps_body++;
			scan_end(o, d, d->cur, req);
			return;
		}
		o->c.gaps_lost++;
		if (d->st == S_BODY_LEN || d->st == S_BODY_CHUNKED) {
			msg_end(o, hf, d, false);
		} else if (d->st == S_HEAD && d->hlen > 0 &&
		    d->role == R_RESP && q_head(hf) != NULL) {
			/* the answer to the oldest request lost its head */
			struct det_sensor_txn *t = q_head(hf);

			q_pop(o, hf);
			o->c.responses++;
			t->flags |= DET_TXN_F_GAP | DET_TXN_F_TRUNCATED;
			t->ts_resp_us = f->last_us;
			t->resp_bytes += d->hlen;
			txn_emit(o, t);
		}
		dir_resync(o, d, true);
		return;
	}
	while (n > 0) {
		size_t k;
		ssize_t r;

		req = d->role == R_REQ;	/* the first head sets the role */
		switch (d->st) {
		case S_RESYNC:
			k = resync(o, d, p, n);
			p += k;
			n -= k;
			break;
		case S_HEAD:
			if (d->hlen == 0 && d->role != R_RESP &&
			    n >= sizeof(H2_PREFACE) - 1 &&
			    memcmp(p, H2_PREFACE, sizeof(H2_PREFACE) - 1) ==
			    0) {
				/* HTTP/2 with prior knowledge: binary
				   frames, scanned raw both ways */
				o->c.h2_preface++;
				go_raw(o, f, hf, from);
				go_raw(o, f, hf, !from);
				raw_feed(o, f, hf, from, p, n);
				return;
			}
			if (d->hlen == 0) {
				r = parse_head(o, f, hf, from,
				    (const char *)p, n, 0);
				if (r > 0) {
					p += r;
					n -= (size_t)r;
					break;
				}
				if (r == 0) {
					if (hbuf_append(o, d, p, n) == -1) {
						dir_resync(o, d, false);
						return;
					}
					d->last_len = n;
					return;
				}
				if (d->role == R_UNKNOWN) {	/* not HTTP */
					go_raw(o, f, hf, from);
					raw_feed(o, f, hf, from, p, n);
					return;
				}
			} else {
				size_t old = d->hlen, take = n;

				if (take > HEAD_MAX + 1 - old)
					take = HEAD_MAX + 1 - old;
				if (hbuf_append(o, d, p, take) == -1) {
					dir_resync(o, d, false);
					return;
				}
				r = parse_head(o, f, hf, from,
				    (const char *)d->hbuf, d->hlen,
				    d->last_len);
				if (r > 0) {
					p += (size_t)r - old;
					n -= (size_t)r - old;
					hbuf_reset(o, d);
					break;
				}
				if (r == 0 && take > 0) {
					d->last_len = d->hlen;
					p += take;
					n -= take;
					break;
				}
				if (d->role == R_UNKNOWN) {	/* not HTTP */
					go_raw(o, f, hf, from);
					raw_feed(o, f, hf, from, d->hbuf, old);
					raw_feed(o, f, hf, from, p, n);
					hbuf_reset(o, d);
					return;
				}
			}
			if (d->cur == NULL && d->role == R_RESP &&
			    q_head(hf) != NULL)
				q_head(hf)->flags |= DET_TXN_F_PARSE_ERROR;
			dir_resync(o, d, false);
			break;
		case S_BODY_LEN:
			k = n < d->remaining ? n : (size_t)d->remaining;
			body_feed(o, d, req, p, k);
			if (d->cur != NULL) {
				if (req)
					d->cur->req_bytes += k;
				else
					d->cur->resp_bytes += k;
			}
			p += k;
			n -= k;
			d->remaining -= k;
			if (d->remaining == 0)
				msg_end(o, hf, d, true);
			break;
		case S_BODY_CHUNKED: {
			size_t used;
			const char *data;
			size_t dlen;
			int cr;

			cr = gb_http_chunked_next(&d->ck, (const char *)p, n,
			    &used, &data, &dlen);
			if (d->cur != NULL) {
				if (req)
					d->cur->req_bytes += used;
				else
					d->cur->resp_bytes += used;
			}
			if (dlen > 0)
				body_feed(o, d, req, (const uint8_t *)data,
				    dlen);
			p += used;
			n -= used;
			if (cr == 1) {
				msg_end(o, hf, d, true);
			} else if (cr == -1) {
				o->c.chunked_errors++;
				if (d->cur != NULL)
					d->cur->flags |= DET_TXN_F_PARSE_ERROR;
				msg_end(o, hf, d, false);
				dir_resync(o, d, false);
			}
			break;
		}
		case S_BODY_CLOSE:
			body_feed(o, d, req, p, n);
			if (d->cur != NULL)
				d->cur->resp_bytes += n;
			n = 0;
			break;
		}
		if (d->role == R_RAW) {	/* a tunnel began inside this data */
			raw_feed(o, f, hf, from, p, n);
			return;
		}
	}
}

static void
obs_fin(void *ctx, struct det_flow *f, int from)
{
	struct det_http_obs *o = ctx;
	struct http_flow *hf = f->app;
	struct http_dir *d;

	if (hf == NULL)
		return;
	d = &hf->d[from];
	if (d->role == R_RAW)
		return;
	if (d->st == S_HEAD && d->hlen > 0)
		o->c.truncated++;	/* a head cut by FIN */
	if (d->st == S_BODY_CLOSE)
		msg_end(o, hf, d, true);
	else if (d->st == S_BODY_LEN || d->st == S_BODY_CHUNKED) {
		o->c.truncated++;
		msg_end(o, hf, d, false);
	}
	hbuf_reset(o, d);
}

static void
obs_end(void *ctx, struct det_flow *f, enum det_flow_end why)
{
	struct det_http_obs *o = ctx;
	struct http_flow *hf = f->app;
	struct det_sensor_txn *t;
	int i;

	(void)why;
	if (hf == NULL)
		return;
	/* Requests first: a request being read stays queued. */
	for (i = 0; i < 4; i++) {
		struct http_dir *d = &hf->d[i % 2];

		if ((i < 2) != (d->role == R_REQ))
			continue;
		if (d->role != R_RAW && d->cur != NULL) {
			if (d->st == S_BODY_CLOSE) {
				msg_end(o, hf, d, true);
			} else {
				o->c.truncated++;
				msg_end(o, hf, d, false);
			}
		}
	}
	while ((t = q_head(hf)) != NULL) {
		q_pop(o, hf);
		o->c.unanswered++;
		t->flags |= DET_TXN_F_NO_RESPONSE;
		txn_emit(o, t);
	}
	for (i = 0; i < 2; i++) {
		struct http_dir *d = &hf->d[i];

		if (d->role == R_RAW)
			scan_end(o, d, hf->raw, i == f->client);
		if (d->dec != NULL)
			o->dec.close(d->dec);
		dec_release(o, d);	/* a body cut by the flow's end */
		det_stream_free(d->scan);
		hbuf_free(o, d);
	}
	if (hf->raw != NULL)
		txn_emit(o, hf->raw);
	free(hf->q);
	free(hf->qskip);
	free(hf);
	f->app = NULL;
}

void
det_http_obs_app(struct det_http_obs *o, struct det_flow_app *app)
{
	app->data = obs_data;
	app->fin = obs_fin;
	app->end = obs_end;
	app->ctx = o;
}
