/*
 * det_decode.c: decoding layers in front of a det_stream (det_decode.h).
 * Three stages, each a byte-driven state machine whose state lives in
 * struct det_decoder, so a body cut anywhere decodes to the same bytes:
 *
 *   zlib    inflate (gzip by magic, or deflate zlib-wrapped/raw), limits:
 *           raw deflate through ISA-L's igzip when built with it (about
 *           2.3 times zlib's speed on JSON bodies), else zlib; gzip and
 *           zlib wrappers are read here, their checksums are not checked;
 *   text    JSON \ escapes, %XX, HTML entities: one sequence at a time,
 *           kept in pend[] until it completes or fails (then its first
 *           byte is passed on as written and the rest read again);
 *   base64  runs of base64 characters kept in blk[] until they end, then
 *           passed on decoded or as written.
 *
 * The out stage copies what reaches it into out[] for the scanner and
 * records segments (decoded offset -> source offset) to map findings back.
 */
#include "detectors/det_decode.h"
#include "detectors/det_decode_int.h"

#include "core/gb_util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef GB_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#else
#include <zlib.h>
#endif
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define OUT_MAX		4096
#define ZBUF		16384
#define ZSTEP		1024	/* compressed bytes between ratio checks */
#define PEND_MAX	16
#define B64_PIECES	32
#define RATIO_FLOOR	(1u << 20)	/* ratio limit checked past 1 MiB */

enum { Z_UNDECIDED = 0, Z_PLAIN, Z_INFLATE, Z_MEMBER, Z_STOP, Z_GZHDR,
    Z_GZTRAIL, Z_ZTRAIL, Z_DONE };
enum { INF_OK = 0, INF_END, INF_ERR };
/* Parts of a gzip member header (RFC 1952) after its magic. */
enum { H_FIXED = 0, H_XLEN, H_EXTRA, H_NAME, H_COMMENT, H_HCRC };
#define GZ_TEXT_MAX	65536	/* a header's name or comment */
enum { T_RAW = 0, T_BSL, T_U, T_SURR_BSL, T_SURR_U, T_PCT, T_AMP };
enum { B_NONE = 0, B_IN, B_PAD, B_SKIP, B_NL };
#define B64_LINE_MIN	40	/* a wrapped line (MIME 76, PEM 64) */

struct seg {
	uint64_t	dstart;		/* decoded offset */
	uint64_t	dlen;
	uint64_t	sstart;		/* source offset */
	uint64_t	send;
	bool		block;		/* every byte maps to [sstart, send) */
};

struct piece {
	uint32_t	idx;		/* in blk[] */
	uint32_t	len;
	uint64_t	sstart;
	uint64_t	send;
	bool		unit;
};

struct det_decoder {
	const struct det_scanner *sc;
	struct det_stream	*st;
	unsigned		 flags;
	struct det_decode_limits lim;
	struct det_decode_stats	 stats;
	det_finding_cb		*cb;
	void			*arg;
	bool			 finished;

	/* inflate */
	int			 zmode;
	bool			 zwrap;		/* deflate in a zlib wrapper */
	bool			 zgzip;		/* a gzip stream (by magic) */
#ifdef GB_HAVE_ISAL
	struct inflate_state	*isal;		/* made on first use */
#else
	bool			 zinit;
	z_stream		 z;
#endif
	int			 gzpart;	/* H_*, in a gzip header */
	uint8_t			 gzflg;
	uint32_t		 gzneed;	/* bytes left of this part */
	uint32_t		 gzgot;
	uint8_t			 hdr[2];
	size_t			 hdr_n;
	uint64_t		 zin;
	uint64_t		 zout;
	/*
	 * The compressed stages see the body in ZSTEP blocks at fixed
	 * offsets (the last may be short, at the end): igzip's output before
	 * an error, and where a limit stops, depend on how much input each
	 * call had, so the calls must not depend on how the body was cut.
	 * A block cut by the capture waits here for the rest of it.
	 */
	uint64_t		 zpos;		/* body offset of the next byte */
	size_t			 stage_n;
	uint8_t			 stage[ZSTEP];
	uint8_t			*zbuf;

	/* text */
	uint8_t			 special[256];
	uint8_t			 spc[3];	/* the special bytes, repeated */
	unsigned		 spc_n;
	uint64_t		 tsrc;		/* source offset of the next byte */
	int			 ts;
	uint8_t			 pend[PEND_MAX];
	size_t			 pend_n;
	uint64_t		 pend_src;
	unsigned		 hexn;
	uint32_t		 cp;
	uint32_t		 hi;		/* high surrogate, 0: none */

	/* base64 */
	int			 bs;
	uint8_t			*blk;
	size_t			 blk_n;
	size_t			 blk_cap;
	uint8_t			*btmp;
	struct piece		 pcs[B64_PIECES];
	size_t			 npcs;
	unsigned		 alpha;		/* 1: + / seen, 2: - _ seen */
	unsigned		 pads;
	unsigned		 nls;		/* line-break bytes in blk[] */
	unsigned		 nl_n;		/* ... at its end (B_NL) */
	unsigned		 line_n;	/* characters since the last */

	/* out */
	uint8_t			 out[OUT_MAX];
	size_t			 out_n;
	uint64_t		 dpos;		/* decoded offset of out[out_n] */
	struct seg		 segs[DET_DEC_SEGS];
	uint64_t		 nseg;		/* ever made; last is nseg - 1 */
	unsigned		 seg_fresh;	/* made since the last flush */
};

/* base64 value of a byte, 64 for '=', 0xff for anything else. */
static uint8_t b64v[256];
static uint8_t hexv[256];
/* Classes for the raw scan of the base64 stage. */
#define C_B64		0x01	/* in either base64 alphabet */
#define C_ALPHA		0x02	/* and not a digit */
#define C_PAD		0x04	/* '=' */
static uint8_t b64cls[256];
/* The base64 run scan the decoders use (DET_B64_*): the widest the CPU
 * has, chosen in tables_init(). */
static unsigned b64_impl;

static void
tables_init(void)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned m;
	int i;

	if (b64v['A'] == 0 && b64v['B'] == 1)
		return;
	memset(b64v, 0xff, sizeof(b64v));
	memset(hexv, 0xff, sizeof(hexv));
	for (i = 0; i < 62; i++)
		b64v[(uint8_t)a[i]] = (uint8_t)i;
	b64v['+'] = b64v['-'] = 62;
	b64v['/'] = b64v['_'] = 63;
	b64v['='] = 64;
	for (i = 0; i < 256; i++)
		b64cls[i] = (uint8_t)(b64v[i] < 64 ? C_B64 |
		    (i >= '0' && i <= '9' ? 0 : C_ALPHA) : 0);
	b64cls['='] = C_PAD;
	for (i = 0; i < 10; i++)
		hexv['0' + i] = (uint8_t)i;
	for (i = 0; i < 6; i++)
		hexv['a' + i] = hexv['A' + i] = (uint8_t)(10 + i);
	m = det_b64_impls();
	b64_impl = (m & 1u << DET_B64_AVX2) ? DET_B64_AVX2 :
	    (m & 1u << DET_B64_SSE2) ? DET_B64_SSE2 : DET_B64_SCALAR;
	__atomic_store_n(&b64v['B'], 1, __ATOMIC_RELEASE);
}

/* --- flags --- */

static const struct gb_flag_name flag_names[] = {
	{ DET_DEC_GZIP, "gzip" }, { DET_DEC_DEFLATE, "deflate" },
	{ DET_DEC_JSON, "json" }, { DET_DEC_PCT, "pct" },
	{ DET_DEC_HTML, "html" }, { DET_DEC_B64, "b64" },
}, limit_names[] = {
	{ DET_DEC_L_OUTPUT, "output" }, { DET_DEC_L_RATIO, "ratio" },
	{ DET_DEC_L_B64, "b64" }, { DET_DEC_L_CORRUPT, "corrupt" },
};


const char *
det_dec_flags_str(unsigned flags, char *buf, size_t len)
{
	return gb_flags_str(flag_names, sizeof(flag_names) /
	    sizeof(flag_names[0]), flags, "-", buf, len);
}

const char *
det_dec_limits_str(unsigned limits, char *buf, size_t len)
{
	return gb_flags_str(limit_names, sizeof(limit_names) /
	    sizeof(limit_names[0]), limits, "-", buf, len);
}

int
det_dec_flags_parse(const char *s, unsigned *flags)
{
	size_t i, n;
	unsigned f = 0;
	bool ok;

	while (*s != '\0') {
		n = strcspn(s, ",|");
		ok = false;
		if (n == 3 && strncmp(s, "all", 3) == 0) {
			f |= DET_DEC_ALL;
			ok = true;
		} else if (n == 4 && strncmp(s, "none", 4) == 0)
			ok = true;
		for (i = 0; i < 6 && !ok; i++)
			if (strlen(flag_names[i].name) == n &&
			    strncmp(s, flag_names[i].name, n) == 0) {
				f |= flag_names[i].bit;
				ok = true;
			}
		if (!ok || n == 0)
			return -1;
		s += n;
		if (*s != '\0')
			s++;
	}
	*flags = f;
	return 0;
}

/* --- out stage: to the scanner, with offset mapping --- */

static struct seg *
seg_last(struct det_decoder *d)
{
	return d->nseg == 0 ? NULL : &d->segs[(d->nseg - 1) % DET_DEC_SEGS];
}

/* on_finding() past its fast path: the finding spans segments. */
static __attribute__((noinline)) void
on_finding_slow(struct det_decoder *d, const struct det_finding *f)
{
	struct det_finding g;
	const struct seg *s, *ss = NULL, *es = NULL;
	uint64_t k, lo, end = f->offset + f->length, sstart, send;
	bool decoded = false;

	g = *f;
	lo = d->nseg > DET_DEC_SEGS ? d->nseg - DET_DEC_SEGS : 0;
	for (k = d->nseg; k-- > lo;) {
		s = &d->segs[k % DET_DEC_SEGS];
		if (es == NULL && s->dstart < end)
			es = s;
		if (es != NULL && s->block)
			decoded = true;
		if (s->dstart <= f->offset) {
			ss = s;
			break;
		}
	}
	if (es == NULL) {
		/* Cannot happen: every byte fed has a segment. */
		d->cb(f, d->arg);
		return;
	}
	if (ss == NULL)		/* older than the ring: its oldest segment */
		ss = &d->segs[lo % DET_DEC_SEGS];
	sstart = ss->block || f->offset < ss->dstart ? ss->sstart :
	    ss->sstart + (f->offset - ss->dstart);
	send = es->block ? es->send : es->sstart + (end - es->dstart);
	g.offset = sstart;
	g.length = (uint32_t)(send > sstart ? send - sstart : 1);
	if (decoded)
		g.flags |= DET_F_DECODED;
	d->cb(&g, d->arg);
}

/* Map a finding's decoded [off, off + len) back to source offsets. */
static void
on_finding(const struct det_finding *f, void *arg)
{
	struct det_decoder *d = arg;
	struct det_finding g;
	const struct seg *s;
	uint64_t sstart, send;

	/*
	 * Most findings lie in the newest segment, as written: the loop of
	 * on_finding_slow() would stop there at once, with the same result.
	 */
	if (d->nseg > 0) {
		s = &d->segs[(d->nseg - 1) % DET_DEC_SEGS];
		if (!s->block && s->dstart <= f->offset) {
			/* As written at the same offsets: f is what it gets. */
			if (s->sstart == s->dstart && f->length > 0) {
				d->cb(f, d->arg);
				return;
			}
			sstart = s->sstart + (f->offset - s->dstart);
			send = sstart + f->length;
			g = *f;
			g.offset = sstart;
			g.length = (uint32_t)(send > sstart ? send - sstart :
			    1);
			d->cb(&g, d->arg);
			return;
		}
	}
	on_finding_slow(d, f);
}

static void
out_flush(struct det_decoder *d)
{
	if (d->out_n == 0)
		return;
	(void)det_stream_feed(d->st, d->out, d->out_n, on_finding, d);
	d->stats.decoded_bytes += d->out_n;
	d->out_n = 0;
	d->seg_fresh = 0;
}

static void
out_bytes(struct det_decoder *d, const uint8_t *p, size_t n)
{
	size_t k;

	/* Nothing pending and a long run: to the scanner in place. */
	if (d->out_n == 0 && n >= OUT_MAX / 2) {
		(void)det_stream_feed(d->st, p, n, on_finding, d);
		d->stats.decoded_bytes += n;
		d->dpos += n;
		d->seg_fresh = 0;
		return;
	}
	while (n > 0) {
		k = OUT_MAX - d->out_n;
		if (k > n)
			k = n;
		memcpy(d->out + d->out_n, p, k);
		d->out_n += k;
		d->dpos += k;
		p += k;
		n -= k;
		if (d->out_n == OUT_MAX)
			out_flush(d);
	}
	if (d->seg_fresh >= DET_DEC_SEGS / 2)
		out_flush(d);
}

static void
seg_new(struct det_decoder *d, uint64_t len, uint64_t sstart, uint64_t send,
    bool block)
{
	struct seg *s = &d->segs[d->nseg % DET_DEC_SEGS];

	s->dstart = d->dpos;
	s->dlen = len;
	s->sstart = sstart;
	s->send = send;
	s->block = block;
	d->nseg++;
	d->seg_fresh++;
}

static void
out_linear(struct det_decoder *d, const uint8_t *p, size_t n, uint64_t src)
{
	struct seg *s = seg_last(d);

	if (n == 0)
		return;
	if (s != NULL && !s->block && s->dstart + s->dlen == d->dpos &&
	    s->send == src) {
		s->dlen += n;
		s->send += n;
	} else
		seg_new(d, n, src, src + n, false);
	out_bytes(d, p, n);
}

static void
out_unit(struct det_decoder *d, const uint8_t *p, size_t n, uint64_t sstart,
    uint64_t send)
{
	if (n == 0)
		return;
	seg_new(d, n, sstart, send, true);
	out_bytes(d, p, n);
}

/* --- base64 stage --- */

static bool
b64_char(uint8_t c)
{
	return b64v[c] < 64;
}

/* Pass the block on as it was written. */
static void
blk_raw(struct det_decoder *d)
{
	size_t i;
	const struct piece *pc;

	for (i = 0; i < d->npcs; i++) {
		pc = &d->pcs[i];
		if (pc->unit)
			out_unit(d, d->blk + pc->idx, pc->len, pc->sstart,
			    pc->send);
		else
			out_linear(d, d->blk + pc->idx, pc->len, pc->sstart);
	}
	d->blk_n = 0;
	d->npcs = 0;
}

/* Valid UTF-8 text, no control bytes but tab/CR/LF, >= 80 % ASCII. */
static bool
plausible(const uint8_t *p, size_t n)
{
	size_t i = 0, ascii = 0, k, j;
	uint32_t c;

	if (n == 0)
		return false;
	while (i < n) {
		c = p[i];
		if (c < 0x80) {
			if (c < 0x20 && c != '\t' && c != '\r' && c != '\n')
				return false;
			if (c == 0x7f)
				return false;
			ascii++;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3;
		else
			return false;
		for (j = 1; j <= k; j++)
			if (i + j >= n || (p[i + j] & 0xc0) != 0x80)
				return false;
		i += k + 1;
	}
	return ascii * 5 >= n * 4;
}

/* The run ended: decode it when it is base64 of plausible text. */
static void
blk_end(struct det_decoder *d)
{
	size_t n = d->blk_n - d->pads - d->nls, i, o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	d->bs = B_NONE;
	if (d->blk_n < d->lim.b64_min || d->alpha == 3 || n % 4 == 1 ||
	    (d->pads > 0 && (d->blk_n - d->nls) % 4 != 0)) {
		blk_raw(d);
		return;
	}
	if (d->btmp == NULL &&
	    (d->btmp = malloc(d->lim.b64_max / 4 * 3 + 4)) == NULL) {
		blk_raw(d);
		return;
	}
	for (i = 0; i < d->blk_n - d->pads; i++) {
		if (b64v[d->blk[i]] > 63)
			continue;		/* a line break */
		acc = (acc << 6) | b64v[d->blk[i]];
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			d->btmp[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* Non-zero leftover bits: not canonical base64. */
	if ((acc & ((1u << bits) - 1)) != 0 || !plausible(d->btmp, o)) {
		blk_raw(d);
		return;
	}
	d->stats.b64_blocks++;
	d->stats.layers |= DET_DEC_B64;
	out_unit(d, d->btmp, o, d->pcs[0].sstart, d->pcs[d->npcs - 1].send);
	d->blk_n = 0;
	d->npcs = 0;
}

/* Append byte c (a unit when unit is set) to the block; false: no room. */
static bool
blk_add(struct det_decoder *d, uint8_t c, uint64_t sstart, uint64_t send,
    bool unit)
{
	struct piece *pc;
	uint8_t *nb;
	size_t cap;

	if (d->blk_n == d->blk_cap) {
		cap = d->blk_cap == 0 ? 256 : d->blk_cap * 2;
		if (cap > d->lim.b64_max)
			cap = d->lim.b64_max;
		if (cap <= d->blk_cap || (nb = realloc(d->blk, cap)) == NULL)
			return false;
		d->blk = nb;
		d->blk_cap = cap;
	}
	pc = d->npcs > 0 ? &d->pcs[d->npcs - 1] : NULL;
	if (!unit && pc != NULL && !pc->unit && pc->send == sstart)
		pc->len++, pc->send++;
	else {
		if (d->npcs == B64_PIECES)
			return false;
		pc = &d->pcs[d->npcs++];
		pc->idx = (uint32_t)d->blk_n;
		pc->len = 1;
		pc->sstart = sstart;
		pc->send = send;
		pc->unit = unit;
	}
	d->blk[d->blk_n++] = c;
	return true;
}

/*
 * The block ends before the line break at its end (B_NL): it is decoded
 * or passed on as written, then the break as written.
 */
static void
nl_cut(struct det_decoder *d)
{
	uint8_t tb[2];
	uint64_t ts[2], te[2];
	bool tu[2];
	struct piece *pc;
	unsigned j, k = d->nl_n;

	for (j = k; j-- > 0;) {
		pc = &d->pcs[d->npcs - 1];
		tb[j] = d->blk[--d->blk_n];
		tu[j] = pc->unit;
		if (pc->unit) {
			ts[j] = pc->sstart;
			te[j] = pc->send;
			d->npcs--;
		} else {
			ts[j] = pc->send - 1;
			te[j] = pc->send;
			pc->send--;
			if (--pc->len == 0)
				d->npcs--;
		}
	}
	d->nls -= k;
	d->nl_n = 0;
	blk_end(d);
	for (j = 0; j < k; j++)
		if (tu[j])
			out_unit(d, &tb[j], 1, ts[j], te[j]);
		else
			out_linear(d, &tb[j], 1, ts[j]);
}

/* The block ends (the byte after it is not base64). */
static void
blk_stop(struct det_decoder *d)
{
	if (d->bs == B_NL)
		nl_cut(d);
	else
		blk_end(d);
}

/*
 * A line break in a block: it goes on over the break when the line is a
 * wrapped one (MIME base64 at 76 columns, PEM at 64: each line whole
 * groups of four, no padding), with room left for more.
 */
static bool
b64_wrap(const struct det_decoder *d)
{
	return d->line_n >= B64_LINE_MIN && d->line_n % 4 == 0 &&
	    d->npcs + 3 < B64_PIECES && d->blk_n + 128 < d->lim.b64_max;
}

/*
 * One byte into the base64 stage. Returns true when it was taken, false
 * when the caller passes it on (not part of a block).
 */
static bool
b64_byte(struct det_decoder *d, uint8_t c, uint64_t sstart, uint64_t send,
    bool unit)
{
	for (;;) {
		switch (d->bs) {
		case B_NONE:
			if (!b64_char(c))
				return false;
			d->bs = B_IN;
			d->alpha = 0;
			d->pads = 0;
			d->nls = 0;
			d->line_n = 0;
			continue;
		case B_IN:
			if (c == '=') {
				d->bs = B_PAD;
				continue;
			}
			if ((c == '\r' || c == '\n') && b64_wrap(d)) {
				d->bs = B_NL;
				d->nl_n = 0;
				continue;
			}
			if (!b64_char(c)) {
				blk_end(d);
				continue;
			}
			d->line_n++;
			if (c == '+' || c == '/')
				d->alpha |= 1;
			else if (c == '-' || c == '_')
				d->alpha |= 2;
			if (!blk_add(d, c, sstart, send, unit)) {
				/* Too long (or too many escapes): as written. */
				if (d->blk_n >= d->lim.b64_max) {
					d->stats.limit_hits++;
					d->stats.limits |= DET_DEC_L_B64;
				}
				blk_raw(d);
				d->bs = B_SKIP;
				return false;
			}
			return true;
		case B_PAD:
			if (c != '=' || d->pads == 2) {
				blk_end(d);
				continue;
			}
			if (!blk_add(d, c, sstart, send, unit)) {
				blk_raw(d);
				d->bs = B_SKIP;
				return false;
			}
			d->pads++;
			return true;
		case B_SKIP:
			if (b64_char(c) || c == '=')
				return false;
			d->bs = B_NONE;
			continue;
		case B_NL:
			/* CR, LF or CRLF, then the next line of the block. */
			if ((c == '\r' || c == '\n') && (d->nl_n == 0 ||
			    (d->nl_n == 1 && c == '\n' &&
			    d->blk[d->blk_n - 1] == '\r'))) {
				if (!blk_add(d, c, sstart, send, unit)) {
					nl_cut(d);
					continue;
				}
				d->nl_n++;
				d->nls++;
				return true;
			}
			if (b64_char(c)) {
				d->bs = B_IN;
				d->nl_n = 0;
				d->line_n = 0;
				continue;
			}
			nl_cut(d);
			continue;
		default:
			abort();
		}
	}
}

/*
 * The base64 run scan. Scalar: where in p[0..n) (raw text, no escapes)
 * the base64 stage has something to do: the start of the first run of
 * base64 characters that may be a block (b64_min or longer with a letter,
 * followed by '=', or reaching the end, where it may go on); n when there
 * is none.
 */
static size_t
b64_next_scalar(const uint8_t *p, size_t n, size_t min, size_t i)
{
	size_t j;
	unsigned cls;

	while (i < n) {
		if (!(b64cls[p[i]] & C_B64)) {
			i++;
			continue;
		}
		for (j = i, cls = 0; j < n && (b64cls[p[j]] & C_B64); j++)
			cls |= b64cls[p[j]];
		if (j < n && p[j] != '=' &&
		    (j - i < min || !(cls & C_ALPHA))) {
			i = j;
			continue;
		}
		return i;
	}
	return n;
}

/*
 * The vector paths read 64 bytes at a time into three masks (bit k for
 * byte k): base64 characters, those of them not digits, and '='. A block
 * is then judged by bit operations on the masks alone; the run still open
 * at its end is carried to the next. Bytes past the last whole block go
 * to the scalar path (from the open run's start, where it rescans it).
 */
struct b64run {
	size_t		 rs;		/* start of the open run */
	bool		 open;		/* a run reaches the block's start */
	bool		 alpha;		/* the open run has a non-digit */
};

#define ONES	(~(uint64_t)0)

/* Bits [lo, hi) of a word, 0 <= lo <= hi <= 63. */
static inline uint64_t
bits(unsigned lo, unsigned hi)
{
	return (((uint64_t)1 << hi) - 1) & ~(((uint64_t)1 << lo) - 1);
}

/*
 * The 64-byte block at offset i, as masks b (base64), a (base64, not a
 * digit) and e ('='): the start of the first run that may be a block and
 * ends in this block, or SIZE_MAX (then r holds the run open at its end).
 * Exactly what the scalar path finds, for any min.
 */
static inline __attribute__((always_inline)) size_t
b64_block(struct b64run *r, size_t i, uint64_t b, uint64_t a, uint64_t e,
    size_t min)
{
	uint64_t ends, l, cand, z;
	unsigned k, st, t;

	/* Bit k: a run ends at byte k (the first after it). */
	ends = ~b & (b << 1 | (uint64_t)r->open);
	if (r->open && b != ONES) {
		k = (unsigned)__builtin_ctzll(~b);
		if ((e >> k & 1) || (i + k - r->rs >= min &&
		    (r->alpha || (a & bits(0, k)) != 0)))
			return r->rs;
		ends &= ~((uint64_t)1 << k);
	}
	/* Bit k of l: bytes k - min + 1 .. k all base64 (in this block). */
	l = 0;
	if (min < 64) {
		l = b;
		for (k = 1; 2 * k <= min; k *= 2)
			l &= l << k;
		if (k < min)
			l &= l << (min - k);
	}
	/* Runs ending before '=', or long enough: look for a letter. */
	for (cand = ends & (e | l << 1); cand != 0; cand &= cand - 1) {
		k = (unsigned)__builtin_ctzll(cand);
		z = ~b & bits(0, k);
		st = z == 0 ? 0 : 64 - (unsigned)__builtin_clzll(z);
		if ((e >> k & 1) || (a & bits(st, k)) != 0)
			return i + st;
	}
	if (b == ONES) {
		if (!r->open) {
			r->open = true;
			r->rs = i;
			r->alpha = false;
		}
		r->alpha |= a != 0;
	} else if (b >> 63) {
		t = (unsigned)__builtin_clzll(~b);
		r->open = true;
		r->rs = i + 64 - t;
		r->alpha = (a >> (64 - t)) != 0;
	} else
		r->open = false;
	return SIZE_MAX;
}

#ifdef __SSE2__
/* Bytes of v in [lo, hi], as a 16-bit mask. */
static inline unsigned
in_range(__m128i v, uint8_t lo, uint8_t hi)
{
	__m128i x = _mm_sub_epi8(v, _mm_set1_epi8((char)(lo - 128)));

	return (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(x,
	    _mm_set1_epi8((char)(hi - lo + 1 - 128))));
}

static inline __attribute__((always_inline)) size_t
b64_loop_sse2(const uint8_t *p, size_t n, size_t min)
{
	struct b64run r = { 0, false, false };
	uint64_t b, a, e, m;
	size_t i, x;
	unsigned k;

	for (i = 0; i + 64 <= n; i += 64) {
		b = a = e = 0;
		for (k = 0; k < 4; k++) {
			__m128i v = _mm_loadu_si128((const __m128i *)
			    (const void *)(p + i + 16 * k));
			__m128i lc = _mm_or_si128(v, _mm_set1_epi8(0x20));

			m = in_range(lc, 'a', 'z') | (unsigned)
			    _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(
			    _mm_cmpeq_epi8(v, _mm_set1_epi8('+')),
			    _mm_cmpeq_epi8(v, _mm_set1_epi8('/'))),
			    _mm_or_si128(
			    _mm_cmpeq_epi8(v, _mm_set1_epi8('-')),
			    _mm_cmpeq_epi8(v, _mm_set1_epi8('_')))));
			a |= m << (16 * k);
			b |= (m | in_range(v, '0', '9')) << (16 * k);
			e |= (uint64_t)(unsigned)_mm_movemask_epi8(
			    _mm_cmpeq_epi8(v, _mm_set1_epi8('='))) << (16 * k);
		}
		if ((x = b64_block(&r, i, b, a, e, min)) != SIZE_MAX)
			return x;
	}
	return b64_next_scalar(p, n, min, r.open ? r.rs : i);
}

static size_t
b64_next_sse2(const uint8_t *p, size_t n, size_t min)
{
	return min == 16 ? b64_loop_sse2(p, n, 16) : b64_loop_sse2(p, n, min);
}
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_AVX2_PATH	1

/*
 * Classes by nibble lookups (vpshufb): a byte is in a class when the
 * bits of its low nibble's entry and its high nibble's entry meet.
 * Bits 0-3 are the base64 characters other than digits (A-O a-o, P-Z
 * p-z, + - /, _), bit 4 the digits, bit 7 '='.
 */
static const int8_t b64_lo_lut[16] = {
	0x12, 0x13, 0x13, 0x13, 0x13, 0x13, 0x13, 0x13,
	0x13, 0x13, 0x03, 0x05, 0x01, (int8_t)0x85, 0x01, 0x0d,
};
static const int8_t b64_hi_lut[16] = {
	0x00, 0x00, 0x04, (int8_t)0x90, 0x01, 0x0a, 0x01, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* Masks b, a, e (see b64_block()) of the 64 bytes at p. */
static inline __attribute__((target("avx2"), always_inline)) void
classify64_avx2(const uint8_t *p, uint64_t *b, uint64_t *a, uint64_t *e)
{
	const __m256i lo_lut = _mm256_broadcastsi128_si256(_mm_loadu_si128(
	    (const __m128i *)(const void *)b64_lo_lut));
	const __m256i hi_lut = _mm256_broadcastsi128_si256(_mm_loadu_si128(
	    (const __m128i *)(const void *)b64_hi_lut));
	const __m256i nib = _mm256_set1_epi8(0x0f);
	uint64_t m[3][2];
	unsigned k;

	for (k = 0; k < 2; k++) {
		__m256i v = _mm256_loadu_si256((const __m256i *)
		    (const void *)(p + 32 * k));
		__m256i c = _mm256_and_si256(
		    _mm256_shuffle_epi8(lo_lut, _mm256_and_si256(v, nib)),
		    _mm256_shuffle_epi8(hi_lut, _mm256_and_si256(
		    _mm256_srli_epi16(v, 4), nib)));

		/* Not a letter or symbol; digits; '='. */
		m[0][k] = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(
		    _mm256_and_si256(c, nib), _mm256_setzero_si256()));
		m[1][k] = (uint32_t)_mm256_movemask_epi8(
		    _mm256_slli_epi16(c, 3));
		m[2][k] = (uint32_t)_mm256_movemask_epi8(c);
	}
	*a = ~(m[0][0] | m[0][1] << 32);
	*b = *a | m[1][0] | m[1][1] << 32;
	*e = m[2][0] | m[2][1] << 32;
}

static inline __attribute__((target("avx2"), always_inline)) size_t
b64_loop_avx2(const uint8_t *p, size_t n, size_t min)
{
	struct b64run r = { 0, false, false };
	uint8_t tail[64] __attribute__((aligned(32)));
	uint64_t b, a, e;
	size_t i, x;

	for (i = 0; i + 64 <= n; i += 64) {
		classify64_avx2(p + i, &b, &a, &e);
		if ((x = b64_block(&r, i, b, a, e, min)) != SIZE_MAX)
			return x;
	}
	if (i == n)
		return r.open ? r.rs : n;
	/*
	 * The last n - i bytes (1-63) as a block of their own, padded with
	 * zeros (no class). A run that reaches the end may go on: as one
	 * followed by '=', so the '=' bit at the end stands for it. Cheaper
	 * than the byte loop of the scalar path, which was a fifth of this
	 * function's time on short bodies and packets.
	 */
	memset(tail, 0, sizeof(tail));
	memcpy(tail, p + i, n - i);
	classify64_avx2(tail, &b, &a, &e);
	e |= (uint64_t)1 << (n - i);
	x = b64_block(&r, i, b, a, e, min);
	return x != SIZE_MAX ? x : n;
}

static __attribute__((target("avx2"))) size_t
b64_next_avx2(const uint8_t *p, size_t n, size_t min)
{
	/* The default minimum as a constant: its shifts unrolled. */
	return min == 16 ? b64_loop_avx2(p, n, 16) : b64_loop_avx2(p, n, min);
}
#endif

static inline size_t
b64_scan(const uint8_t *p, size_t n, size_t min, unsigned impl)
{
	switch (impl) {
#ifdef HAVE_AVX2_PATH
	case DET_B64_AVX2:
		return b64_next_avx2(p, n, min);
#endif
#ifdef __SSE2__
	case DET_B64_SSE2:
		return b64_next_sse2(p, n, min);
#endif
	default:
		return b64_next_scalar(p, n, min, 0);
	}
}

unsigned
det_b64_impls(void)
{
	unsigned m = 1u << DET_B64_SCALAR;

#ifdef __SSE2__
	m |= 1u << DET_B64_SSE2;
#endif
#ifdef HAVE_AVX2_PATH
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		m |= 1u << DET_B64_AVX2;
#endif
	return m;
}

size_t
det_b64_next(const uint8_t *p, size_t n, size_t min, unsigned impl)
{
	tables_init();
	if (impl > DET_B64_AVX2 || !(det_b64_impls() & 1u << impl))
		impl = DET_B64_SCALAR;
	return b64_scan(p, n, min, impl);
}

void
det_b64_use(unsigned impl)
{
	tables_init();
	if (impl > DET_B64_AVX2 || !(det_b64_impls() & 1u << impl))
		impl = DET_B64_SCALAR;
	b64_impl = impl;
}

static size_t
b64_next(const uint8_t *p, size_t n, size_t min)
{
	return b64_scan(p, n, min, b64_impl);
}

/*
 * Text-stage output: raw bytes p[0..n) from source offset src. Outside a
 * block, runs of base64 characters are looked at whole: one that ends
 * here (not at the end of what was handed in, where it may go on) and
 * cannot be a block stays in the raw segment: shorter than b64_min, or
 * digits only (never plausible text). Words and numbers are most of a
 * body; only a run that may be a block goes byte by byte into blk[].
 */
static void
pass_raw(struct det_decoder *d, const uint8_t *p, size_t n, uint64_t src)
{
	size_t i = 0, s = 0, min = d->lim.b64_min;

	if (!(d->flags & DET_DEC_B64)) {
		out_linear(d, p, n, src);
		return;
	}
	while (i < n) {
		if (d->bs == B_NONE) {
			i += b64_next(p + i, n - i, min);
			if (i == n)
				break;
		} else if (d->bs == B_SKIP) {
			while (i < n && (b64cls[p[i]] & (C_B64 | C_PAD)))
				i++;
			if (i == n)
				break;
		}
		out_linear(d, p + s, i - s, src + s);
		s = i + 1;
		if (!b64_byte(d, p[i], src + i, src + i + 1, false))
			out_linear(d, p + i, 1, src + i);
		i++;
	}
	out_linear(d, p + s, n - s, src + s);
}

/* Text-stage output: an escape decoded to p[0..n), source [ss, se). */
static void
pass_unit(struct det_decoder *d, const uint8_t *p, size_t n, uint64_t ss,
    uint64_t se)
{
	d->stats.escapes++;
	if ((d->flags & DET_DEC_B64) && n == 1 &&
	    b64_byte(d, p[0], ss, se, true))
		return;
	if ((d->flags & DET_DEC_B64) && d->bs != B_NONE && d->bs != B_SKIP)
		blk_stop(d);
	if ((d->flags & DET_DEC_B64) && d->bs == B_SKIP)
		d->bs = B_NONE;
	out_unit(d, p, n, ss, se);
}

/* --- text stage: JSON escapes, %XX, HTML entities --- */

static size_t
utf8_put(uint32_t cp, uint8_t *o)
{
	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (uint8_t)(0xc0 | cp >> 6);
		o[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | cp >> 12);
		o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (uint8_t)(0xf0 | cp >> 18);
	o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

static const struct {
	const char	*name;
	uint8_t		 c;
} entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
	{ "apos", '\'' }, { "nbsp", ' ' }, { "commat", '@' },
	{ "period", '.' }, { "comma", ',' }, { "colon", ':' },
	{ "semi", ';' }, { "sol", '/' }, { "lpar", '(' }, { "rpar", ')' },
	{ "plus", '+' }, { "minus", '-' }, { "hyphen", '-' }, { "dash", '-' },
	{ "num", '#' }, { "equals", '=' },
};

static void text_byte(struct det_decoder *, uint8_t, uint64_t);

/*
 * The sequence in pend[] is not an escape: pass its first byte on as
 * written, read the rest again.
 */
static void
text_fail(struct det_decoder *d)
{
	uint8_t b[PEND_MAX];
	size_t n = d->pend_n, i;
	uint64_t src = d->pend_src;

	memcpy(b, d->pend, n);
	d->ts = T_RAW;
	d->pend_n = 0;
	d->hi = 0;
	d->stats.errors++;
	pass_raw(d, b, 1, src);
	for (i = 1; i < n; i++)
		text_byte(d, b[i], src + i);
}

static void
text_done(struct det_decoder *d, const uint8_t *o, size_t k, unsigned layer)
{
	d->stats.layers |= layer;
	d->ts = T_RAW;
	d->hi = 0;
	pass_unit(d, o, k, d->pend_src, d->pend_src + d->pend_n);
	d->pend_n = 0;
}

static void	text_byte(struct det_decoder *, uint8_t, uint64_t);

/*
 * pend[] holds "%25" and bytes that do not make it a double-encoded
 * escape: "%25" is a '%', the bytes after it are read again.
 */
static void
pct25_cut(struct det_decoder *d)
{
	uint8_t b[2], pc = '%';
	size_t n = d->pend_n - 3, i;
	uint64_t src = d->pend_src + 3;

	memcpy(b, d->pend + 3, n);
	d->pend_n = 3;
	text_done(d, &pc, 1, DET_DEC_PCT);
	for (i = 0; i < n; i++)
		text_byte(d, b[i], src + i);
}

/* An entity in pend[] ("&...", without the ';'): its code point, or 0. */
static uint32_t
entity(const uint8_t *p, size_t n)
{
	uint32_t v = 0;
	size_t i, k;

	if (n >= 3 && p[1] == '#') {
		i = 2;
		if (p[2] == 'x' || p[2] == 'X') {
			for (i = 3; i < n; i++) {
				if (hexv[p[i]] > 15 || v > 0x10ffff)
					return 0;
				v = v * 16 + hexv[p[i]];
			}
			if (n == 3)
				return 0;
		} else {
			for (; i < n; i++) {
				if (p[i] < '0' || p[i] > '9' || v > 0x10ffff)
					return 0;
				v = v * 10 + (uint32_t)(p[i] - '0');
			}
		}
		if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
			return 0;
		return v;
	}
	for (k = 0; k < sizeof(entities) / sizeof(entities[0]); k++)
		if (strlen(entities[k].name) == n - 1 &&
		    memcmp(entities[k].name, p + 1, n - 1) == 0)
			return entities[k].c;
	return 0;
}

static void
text_byte(struct det_decoder *d, uint8_t c, uint64_t src)
{
	uint8_t o[4];
	uint32_t v;

	switch (d->ts) {
	case T_RAW:
		if (!d->special[c]) {
			pass_raw(d, &c, 1, src);
			return;
		}
		d->pend[0] = c;
		d->pend_n = 1;
		d->pend_src = src;
		d->ts = c == '\\' ? T_BSL : c == '%' ? T_PCT : T_AMP;
		return;
	case T_BSL:
		d->pend[d->pend_n++] = c;
		switch (c) {
		case '"': case '\\': case '/':
			o[0] = c;
			break;
		case 'b': o[0] = '\b'; break;
		case 'f': o[0] = '\f'; break;
		case 'n': o[0] = '\n'; break;
		case 'r': o[0] = '\r'; break;
		case 't': o[0] = '\t'; break;
		case 'u':
			d->ts = T_U;
			d->hexn = 0;
			d->cp = 0;
			return;
		default:
			text_fail(d);
			return;
		}
		text_done(d, o, 1, DET_DEC_JSON);
		return;
	case T_U:
		d->pend[d->pend_n++] = c;
		if (hexv[c] > 15) {
			text_fail(d);
			return;
		}
		d->cp = d->cp << 4 | hexv[c];
		if (++d->hexn < 4)
			return;
		v = d->cp;
		if (d->hi != 0) {
			if (v < 0xdc00 || v > 0xdfff) {
				text_fail(d);
				return;
			}
			v = 0x10000 + ((d->hi - 0xd800) << 10) + (v - 0xdc00);
		} else if (v >= 0xd800 && v <= 0xdbff) {
			d->hi = v;
			d->ts = T_SURR_BSL;
			return;
		} else if (v >= 0xdc00 && v <= 0xdfff) {
			text_fail(d);
			return;
		}
		text_done(d, o, utf8_put(v, o), DET_DEC_JSON);
		return;
	case T_SURR_BSL:
	case T_SURR_U:
		d->pend[d->pend_n++] = c;
		if (c != (d->ts == T_SURR_BSL ? '\\' : 'u')) {
			text_fail(d);
			return;
		}
		if (d->ts == T_SURR_BSL)
			d->ts = T_SURR_U;
		else {
			d->ts = T_U;
			d->hexn = 0;
			d->cp = 0;
		}
		return;
	case T_PCT:
		d->pend[d->pend_n++] = c;
		if (hexv[c] > 15) {
			if (d->pend_n > 3)
				pct25_cut(d);
			else
				text_fail(d);
			return;
		}
		/* "%25" may start a double-encoded escape ("%253D"). */
		if (d->pend_n == 3 && d->pend[1] == '2' && d->pend[2] == '5')
			return;
		if (d->pend_n == 3 || d->pend_n == 5) {
			o[0] = (uint8_t)(hexv[d->pend[d->pend_n - 2]] << 4 |
			    hexv[d->pend[d->pend_n - 1]]);
			if (d->pend_n == 5 && (o[0] < 0x20 || o[0] > 0x7e))
				pct25_cut(d);	/* printable ASCII only */
			else
				text_done(d, o, 1, DET_DEC_PCT);
		}
		return;
	case T_AMP:
		if (c == ';' && d->pend_n >= 2 &&
		    (v = entity(d->pend, d->pend_n)) != 0) {
			d->pend[d->pend_n++] = c;
			text_done(d, o, utf8_put(v, o), DET_DEC_HTML);
			return;
		}
		d->pend[d->pend_n++] = c;
		if (d->pend_n > 11 || !((c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    (c == '#' && d->pend_n == 2))) {
			text_fail(d);
			return;
		}
		return;
	default:
		abort();
	}
}

/*
 * The first of the bytes spc[0..2] (an escape's start) in p[0..n), or n:
 * the scalar path (from i), SSE2 and AVX2 (DET_B64_* paths, as the base64
 * run scan).
 */
static size_t
special_scalar(const uint8_t *p, size_t n, const uint8_t spc[3], size_t i)
{
	while (i < n && p[i] != spc[0] && p[i] != spc[1] && p[i] != spc[2])
		i++;
	return i;
}

#ifdef __SSE2__
static size_t
special_sse2(const uint8_t *p, size_t n, const uint8_t spc[3])
{
	__m128i s0 = _mm_set1_epi8((char)spc[0]);
	__m128i s1 = _mm_set1_epi8((char)spc[1]);
	__m128i s2 = _mm_set1_epi8((char)spc[2]);
	size_t i;
	unsigned m;

	for (i = 0; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)
		    (p + i));

		m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(
		    _mm_cmpeq_epi8(v, s0), _mm_cmpeq_epi8(v, s1)),
		    _mm_cmpeq_epi8(v, s2)));
		if (m != 0)
			return i + (unsigned)__builtin_ctz(m);
	}
	return special_scalar(p, n, spc, i);
}
#endif

#ifdef HAVE_AVX2_PATH
static __attribute__((target("avx2"))) size_t
special_avx2(const uint8_t *p, size_t n, const uint8_t spc[3])
{
	__m256i s0 = _mm256_set1_epi8((char)spc[0]);
	__m256i s1 = _mm256_set1_epi8((char)spc[1]);
	__m256i s2 = _mm256_set1_epi8((char)spc[2]);
	size_t i;
	unsigned m;

	for (i = 0; i + 32 <= n; i += 32) {
		__m256i v = _mm256_loadu_si256((const __m256i *)
		    (const void *)(p + i));

		m = (unsigned)_mm256_movemask_epi8(_mm256_or_si256(
		    _mm256_or_si256(_mm256_cmpeq_epi8(v, s0),
		    _mm256_cmpeq_epi8(v, s1)), _mm256_cmpeq_epi8(v, s2)));
		if (m != 0)
			return i + (unsigned)__builtin_ctz(m);
	}
	return special_scalar(p, n, spc, i);
}
#endif

static inline size_t
special_scan(const uint8_t *p, size_t n, const uint8_t spc[3], unsigned impl)
{
	switch (impl) {
#ifdef HAVE_AVX2_PATH
	case DET_B64_AVX2:
		return special_avx2(p, n, spc);
#endif
#ifdef __SSE2__
	case DET_B64_SSE2:
		return special_sse2(p, n, spc);
#endif
	default:
		return special_scalar(p, n, spc, 0);
	}
}

size_t
det_special_next(const uint8_t *p, size_t n, const uint8_t spc[3],
    unsigned impl)
{
	tables_init();
	if (impl > DET_B64_AVX2 || !(det_b64_impls() & 1u << impl))
		impl = DET_B64_SCALAR;
	return special_scan(p, n, spc, impl);
}

static size_t
special_next(const struct det_decoder *d, const uint8_t *p, size_t n)
{
	return special_scan(p, n, d->spc, b64_impl);
}

/* Bytes p[0..n) of the (decompressed) body into the text stage. */
static void
text_put(struct det_decoder *d, const uint8_t *p, size_t n)
{
	size_t i = 0, s;
	uint64_t src = d->tsrc;

	d->tsrc += n;
	while (i < n) {
		if (d->ts == T_RAW) {
			s = i;
			i += d->spc_n > 0 ? special_next(d, p + i, n - i) : n - i;
			pass_raw(d, p + s, i - s, src + s);
			if (i == n)
				break;
		}
		text_byte(d, p[i], src + i);
		i++;
	}
}

static void
text_finish(struct det_decoder *d)
{
	if (d->ts != T_RAW)
		text_fail(d);
	if (d->flags & DET_DEC_B64) {
		if (d->bs == B_IN || d->bs == B_PAD || d->bs == B_NL)
			blk_stop(d);
		d->bs = B_NONE;
	}
	out_flush(d);
}

/* --- inflate stage --- */

static void
z_stop(struct det_decoder *d, unsigned limit)
{
	d->zmode = Z_STOP;
	d->stats.limits |= limit;
	if (limit == DET_DEC_L_CORRUPT)
		d->stats.errors++;
	else
		d->stats.limit_hits++;
}

/*
 * The inflate backend: raw deflate (RFC 1951). inf_start() begins a stream
 * (-1: memory short); inf_run() takes up to *in_n bytes of in and writes up
 * to *out_n to out, setting both to what it used and made, and says
 * INF_OK, INF_END (the stream's last block is done: *over bytes it took
 * lie past the stream's end, some maybe from earlier calls) or INF_ERR.
 */
#ifdef GB_HAVE_ISAL
static int
inf_start(struct det_decoder *d)
{
	if (d->isal == NULL && (d->isal = malloc(sizeof(*d->isal))) == NULL)
		return -1;
	/*
	 * A corrupt stream may refer back past its own start, which igzip
	 * does not always refuse (zlib does): it then reads its history
	 * buffer, so that holds zeros rather than an earlier body's bytes.
	 */
	memset(d->isal->tmp_out_buffer, 0, sizeof(d->isal->tmp_out_buffer));
	isal_inflate_init(d->isal);
	d->isal->crc_flag = ISAL_DEFLATE;
	return 0;
}

static int
inf_run(struct det_decoder *d, const uint8_t *in, size_t *in_n, uint8_t *out,
    size_t *out_n, size_t *over)
{
	struct inflate_state *s = d->isal;
	int r;

	s->next_in = (uint8_t *)(uintptr_t)in;
	s->avail_in = (uint32_t)*in_n;
	s->next_out = out;
	s->avail_out = (uint32_t)*out_n;
	r = isal_inflate(s);
	/*
	 * igzip can leave more input or output room than it was given on
	 * some corrupt streams (a count that went below zero, fuzz_decode):
	 * the stream is corrupt, and nothing of this call is trusted.
	 */
	if (s->avail_in > *in_n || s->avail_out > *out_n) {
		*out_n = 0;
		return INF_ERR;
	}
	*in_n -= s->avail_in;
	*out_n -= s->avail_out;
	if (r < 0 || r == ISAL_NEED_DICT)
		return INF_ERR;
	if (s->block_state != ISAL_BLOCK_FINISH)
		return INF_OK;
	/* igzip reads ahead into a bit buffer: whole bytes left there. */
	*over = (size_t)s->read_in_length / 8;
	return INF_END;
}

static void
inf_free(struct det_decoder *d)
{
	free(d->isal);
}
#else
static int
inf_start(struct det_decoder *d)
{
	if (!d->zinit) {
		memset(&d->z, 0, sizeof(d->z));
		if (inflateInit2(&d->z, -15) != Z_OK)
			return -1;
		d->zinit = true;
		return 0;
	}
	return inflateReset2(&d->z, -15) == Z_OK ? 0 : -1;
}

static int
inf_run(struct det_decoder *d, const uint8_t *in, size_t *in_n, uint8_t *out,
    size_t *out_n, size_t *over)
{
	int r;

	d->z.next_in = (Bytef *)(uintptr_t)in;
	d->z.avail_in = (uInt)*in_n;
	d->z.next_out = out;
	d->z.avail_out = (uInt)*out_n;
	r = inflate(&d->z, Z_NO_FLUSH);
	*in_n -= d->z.avail_in;
	*out_n -= d->z.avail_out;
	if (r == Z_STREAM_END) {
		*over = 0;		/* zlib stops at the stream's end */
		return INF_END;
	}
	return r == Z_OK || r == Z_BUF_ERROR ? INF_OK : INF_ERR;
}

static void
inf_free(struct det_decoder *d)
{
	if (d->zinit)
		inflateEnd(&d->z);
}
#endif

/*
 * The stream ended with over bytes taken past its end, of which the last
 * back were given in this call (the caller takes those back): the rest
 * were the first bytes of the trailer. Set up the trailer, or stop.
 */
static void
z_end(struct det_decoder *d, size_t over, size_t back)
{
	size_t carried = over - back, trail;

	d->hdr_n = 0;
	trail = d->zgzip ? 8 : d->zwrap ? 4 : 0;
	if (carried > trail) {
		z_stop(d, DET_DEC_L_CORRUPT);	/* data past the stream */
		return;
	}
	d->gzneed = (uint32_t)(trail - carried);
	/* Only gzip has members, after a trailer. */
	d->zmode = d->zgzip ? Z_GZTRAIL : Z_ZTRAIL;
	if (d->gzneed == 0)
		d->zmode = d->zgzip ? Z_MEMBER : Z_DONE;
}

/*
 * Inflate p[0..n) (at body offset zpos); the output goes to the text
 * stage. Input is given to the inflater in steps that end at multiples of
 * ZSTEP body bytes, and the ratio is checked only there, with all output
 * drained: so where decoding stops does not depend on how the body was
 * cut. Returns the bytes consumed (fewer than n when a member ended or
 * decoding stopped).
 */
static size_t
z_put(struct det_decoder *d, const uint8_t *p, size_t n)
{
	size_t produced, used = 0, step, took, over = 0, back;
	uint64_t room;
	int ret;

	while (d->zmode == Z_INFLATE) {
		step = ZSTEP - (size_t)((d->zpos + used) % ZSTEP);
		if (step > n - used)
			step = n - used;
		do {
			took = step;
			produced = ZBUF;
			ret = inf_run(d, p + used, &took, d->zbuf, &produced,
			    &over);
			step -= took;
			used += took;
			d->zin += took;
			d->stats.inspected_bytes += took;
			room = d->lim.max_output - d->zout;
			if (produced > room) {
				text_put(d, d->zbuf, (size_t)room);
				d->zout += room;
				z_stop(d, DET_DEC_L_OUTPUT);
				return used;
			}
			text_put(d, d->zbuf, produced);
			d->zout += produced;
			if (ret == INF_END) {
				back = over < took ? over : took;
				used -= back;
				d->zin -= back;
				d->stats.inspected_bytes -= back;
				z_end(d, over, back);
				return used;
			}
			if (ret == INF_ERR ||
			    (took == 0 && produced == 0 && step > 0)) {
				z_stop(d, DET_DEC_L_CORRUPT);
				return used;
			}
		} while (produced == ZBUF || step > 0);
		if ((d->zpos + used) % ZSTEP == 0 && d->zout > RATIO_FLOOR &&
		    d->zout / d->lim.max_ratio > d->zin) {
			z_stop(d, DET_DEC_L_RATIO);
			return used;
		}
		if (used == n)
			break;
	}
	return used;
}

static bool
zlib_header(const uint8_t *h)
{
	return (h[0] & 0x0f) == 8 && (h[0] >> 4) <= 7 &&
	    ((unsigned)h[0] << 8 | h[1]) % 31 == 0;
}

/*
 * The rest of a gzip member's header, after its magic, from p[0..n):
 * gzip is inflated raw, so the inflater neither reads the header nor
 * computes the CRC-32 of the output (~4 % of the sensor's time; a corrupt
 * stream still fails to inflate). Returns the bytes used; on the header's end, raw
 * inflating starts.
 */
static size_t
gz_hdr(struct det_decoder *d, const uint8_t *p, size_t n)
{
	size_t i = 0;
	uint8_t c;

	while (i < n && d->zmode == Z_GZHDR) {
		c = p[i++];
		d->stats.inspected_bytes++;
		switch (d->gzpart) {
		case H_FIXED:		/* CM FLG MTIME(4) XFL OS */
			if (d->gzgot == 0 && c != 8) {
				z_stop(d, DET_DEC_L_CORRUPT);
				return i;
			}
			if (d->gzgot == 1) {
				if (c & 0xe0) {
					z_stop(d, DET_DEC_L_CORRUPT);
					return i;
				}
				d->gzflg = c;
			}
			d->gzgot++;
			if (--d->gzneed > 0)
				continue;
			d->gzpart = H_XLEN;
			d->gzneed = 2;
			d->gzgot = 0;
			break;
		case H_XLEN:
			d->gzgot |= (uint32_t)c << (8 * (2 - d->gzneed));
			if (--d->gzneed > 0)
				continue;
			d->gzneed = d->gzgot;
			d->gzpart = H_EXTRA;
			break;
		case H_EXTRA:
			d->gzneed--;
			break;
		case H_NAME:
		case H_COMMENT:
			if (c != 0) {
				if (++d->gzgot > GZ_TEXT_MAX) {
					z_stop(d, DET_DEC_L_CORRUPT);
					return i;
				}
				continue;
			}
			if (d->gzpart == H_COMMENT) {
				d->gzpart = H_HCRC;
				d->gzneed = 2;
			} else
				d->gzpart = H_COMMENT;
			d->gzgot = 0;
			break;
		case H_HCRC:
			d->gzneed--;
			break;
		default:
			abort();
		}
		/* Skip the parts the flags leave out; start when all read. */
		for (;;) {
			if (d->gzpart == H_XLEN && !(d->gzflg & 4))
				d->gzpart = H_NAME;
			else if (d->gzpart == H_EXTRA && d->gzneed == 0)
				d->gzpart = H_NAME;
			else if (d->gzpart == H_NAME && !(d->gzflg & 8))
				d->gzpart = H_COMMENT;
			else if (d->gzpart == H_COMMENT && !(d->gzflg & 16)) {
				d->gzpart = H_HCRC;
				d->gzneed = 2;
			} else if (d->gzpart == H_HCRC &&
			    (!(d->gzflg & 2) || d->gzneed == 0)) {
				d->zmode = Z_INFLATE;
				break;
			} else
				break;
		}
	}
	return i;
}

/*
 * The first two bytes (or fewer at the end) are known: choose. gzip is
 * known by its magic under either label (no zlib header or raw deflate
 * block starts 1f 8b: CM 15, or block type 3).
 */
static int
z_decide(struct det_decoder *d)
{
	d->zwrap = false;
	d->zgzip = d->hdr_n == 2 && d->hdr[0] == 0x1f && d->hdr[1] == 0x8b;
	if (d->zgzip)
		;		/* the header is read here, see gz_hdr() */
	else if (d->hdr_n == 2 && (d->flags & DET_DEC_DEFLATE))
		d->zwrap = zlib_header(d->hdr);
	else if (!(d->hdr_n < 2 && (d->flags & DET_DEC_DEFLATE) &&
	    d->hdr_n > 0)) {
		d->zmode = Z_PLAIN;
		d->stats.inspected_bytes += d->hdr_n;
		text_put(d, d->hdr, d->hdr_n);
		return 0;
	}
	if (d->zbuf == NULL && (d->zbuf = malloc(ZBUF)) == NULL)
		return -1;
	if (inf_start(d) == -1)
		return -1;
	if (d->zgzip) {
		d->stats.layers |= DET_DEC_GZIP;
		d->stats.inspected_bytes += d->hdr_n;
		d->zmode = Z_GZHDR;
		d->gzpart = H_FIXED;
		d->gzneed = 8;
		d->gzgot = 0;
		return 0;
	}
	d->stats.layers |= DET_DEC_DEFLATE;
	d->zmode = Z_INFLATE;
	if (d->zwrap) {
		/* CMF FLG read; a preset dictionary cannot be had here. */
		d->stats.inspected_bytes += 2;
		if (d->hdr[1] & 0x20)
			z_stop(d, DET_DEC_L_CORRUPT);
		return 0;
	}
	d->zpos -= d->hdr_n;		/* the body offset of hdr[0] */
	(void)z_put(d, d->hdr, d->hdr_n);
	d->zpos += d->hdr_n;
	return 0;
}

/* --- API --- */

int
det_decode_new(const struct det_scanner *sc, unsigned flags,
    const struct det_decode_limits *lim, struct det_decoder **out)
{
	struct det_decoder *d;
	unsigned k;

	*out = NULL;
	if ((flags & ~(unsigned)DET_DEC_ALL & ~(unsigned)DET_DEC_DEFLATE) ||
	    ((flags & DET_DEC_GZIP) && (flags & DET_DEC_DEFLATE)))
		return -1;
	tables_init();
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -1;
	if (det_stream_new(sc, &d->st) == -1) {
		free(d);
		return -1;
	}
	d->sc = sc;
	d->flags = flags;
	if (lim != NULL)
		d->lim = *lim;
	if (d->lim.max_output == 0)
		d->lim.max_output = 64u << 20;
	if (d->lim.max_ratio == 0)
		d->lim.max_ratio = 100;
	if (d->lim.b64_min == 0)
		d->lim.b64_min = 16;
	if (d->lim.b64_min < 8)
		d->lim.b64_min = 8;
	if (d->lim.b64_max == 0)
		d->lim.b64_max = 16384;
	if (d->lim.b64_max < d->lim.b64_min)
		d->lim.b64_max = d->lim.b64_min;
	if (flags & DET_DEC_JSON)
		d->special['\\'] = 1;
	if (flags & DET_DEC_PCT)
		d->special['%'] = 1;
	if (flags & DET_DEC_HTML)
		d->special['&'] = 1;
	for (k = 0; k < 256; k++)
		if (d->special[k])
			d->spc[d->spc_n++] = (uint8_t)k;
	for (k = d->spc_n; k > 0 && k < 3; k++)
		d->spc[k] = d->spc[0];
	det_decode_reset(d);
	*out = d;
	return 0;
}

void
det_decode_free(struct det_decoder *d)
{
	if (d == NULL)
		return;
	inf_free(d);
	det_stream_free(d->st);
	free(d->zbuf);
	free(d->blk);
	free(d->btmp);
	free(d);
}

void
det_decode_reset(struct det_decoder *d)
{
	det_stream_reset(d->st);
	memset(&d->stats, 0, sizeof(d->stats));
	d->finished = false;
	d->zmode = (d->flags & (DET_DEC_GZIP | DET_DEC_DEFLATE)) ?
	    Z_UNDECIDED : Z_PLAIN;
	d->hdr_n = 0;
	d->zin = d->zout = 0;
	d->zpos = 0;
	d->stage_n = 0;
	d->tsrc = 0;
	d->ts = T_RAW;
	d->pend_n = 0;
	d->hi = 0;
	d->bs = B_NONE;
	d->blk_n = 0;
	d->npcs = 0;
	d->out_n = 0;
	d->dpos = 0;
	d->nseg = 0;
	d->seg_fresh = 0;
}

/* The compressed stages over p[0..n), at body offset zpos. */
static void
z_machine(struct det_decoder *d, const uint8_t *p, size_t n)
{
	size_t k;

	while (n > 0) {
		switch (d->zmode) {
		case Z_PLAIN:
			d->stats.inspected_bytes += n;
			text_put(d, p, n);
			k = n;
			break;
		case Z_UNDECIDED:
		case Z_MEMBER:
			k = 2 - d->hdr_n;
			if (k > n)
				k = n;
			memcpy(d->hdr + d->hdr_n, p, k);
			d->hdr_n += k;
			d->zpos += k;
			p += k;
			n -= k;
			k = 0;
			if (d->hdr_n < 2)
				break;
			if (d->zmode == Z_MEMBER &&
			    (d->hdr[0] != 0x1f || d->hdr[1] != 0x8b)) {
				z_stop(d, DET_DEC_L_CORRUPT);
				d->stats.skipped_bytes += 2;
				break;
			}
			if (z_decide(d) == -1) {
				z_stop(d, DET_DEC_L_CORRUPT);
				d->stats.skipped_bytes += 2;
			}
			break;
		case Z_INFLATE:
			k = z_put(d, p, n);
			break;
		case Z_GZHDR:
			k = gz_hdr(d, p, n);
			break;
		case Z_GZTRAIL:		/* CRC-32 and ISIZE: not checked */
		case Z_ZTRAIL:		/* Adler-32: not checked */
			k = n < d->gzneed ? n : d->gzneed;
			d->gzneed -= (uint32_t)k;
			d->stats.inspected_bytes += k;
			if (d->gzneed == 0)
				d->zmode = d->zmode == Z_GZTRAIL ? Z_MEMBER :
				    Z_DONE;
			break;
		case Z_DONE:		/* data after a deflate stream */
			z_stop(d, DET_DEC_L_CORRUPT);
			k = 0;
			break;
		case Z_STOP:
			d->stats.skipped_bytes += n;
			k = n;
			break;
		default:
			abort();
		}
		d->zpos += k;
		p += k;
		n -= k;
	}
}

/* Blocks for the compressed stages (see stage[]): until the stream is
 * known not to be compressed, or decoding stopped. */
static bool
z_staged(const struct det_decoder *d)
{
	return d->zmode != Z_PLAIN && d->zmode != Z_STOP &&
	    d->zmode != Z_UNDECIDED;
}

int
det_decode_feed(struct det_decoder *d, const uint8_t *p, size_t n,
    det_finding_cb *cb, void *arg)
{
	size_t k;

	if (d->finished)
		return -1;
	d->cb = cb;
	d->arg = arg;
	d->stats.in_bytes += n;
	while (n > 0 && !z_staged(d) && d->stage_n == 0) {
		/* Byte by byte until decided: the first two choose. */
		k = d->zmode == Z_UNDECIDED ? 1 : n;
		z_machine(d, p, k);
		p += k;
		n -= k;
	}
	while (n > 0) {
		k = ZSTEP - (size_t)((d->zpos + d->stage_n) % ZSTEP);
		if (d->stage_n == 0 && n >= k) {
			/* Whole blocks in place. */
			if (n - k >= ZSTEP)
				k += (n - k) / ZSTEP * ZSTEP;
			z_machine(d, p, k);
		} else {
			if (k > n)
				k = n;
			memcpy(d->stage + d->stage_n, p, k);
			d->stage_n += k;
			if ((d->zpos + d->stage_n) % ZSTEP == 0) {
				z_machine(d, d->stage, d->stage_n);
				d->stage_n = 0;
			}
		}
		p += k;
		n -= k;
	}
	out_flush(d);
	return 0;
}

int
det_decode_finish(struct det_decoder *d, det_finding_cb *cb, void *arg)
{
	int rc;

	if (d->finished)
		return det_stream_finish(d->st, NULL, NULL);
	d->cb = cb;
	d->arg = arg;
	if (d->stage_n > 0) {
		z_machine(d, d->stage, d->stage_n);	/* the last block */
		d->stage_n = 0;
	}
	if (d->zmode == Z_UNDECIDED && z_decide(d) == -1) {
		z_stop(d, DET_DEC_L_CORRUPT);
		d->stats.skipped_bytes += d->hdr_n;
	} else if (d->zmode == Z_MEMBER && d->hdr_n > 0) {
		z_stop(d, DET_DEC_L_CORRUPT);
		d->stats.skipped_bytes += d->hdr_n;
	}
	if (d->zmode == Z_INFLATE || d->zmode == Z_GZHDR ||
	    d->zmode == Z_GZTRAIL || d->zmode == Z_ZTRAIL)
		z_stop(d, DET_DEC_L_CORRUPT);	/* cut short */
	text_finish(d);
	rc = det_stream_finish(d->st, on_finding, d);
	d->finished = true;
	return rc;
}

void
det_decode_stats(const struct det_decoder *d, struct det_decode_stats *out)
{
	*out = d->stats;
}
