/*
 * det_scan.c: the streaming scanner. A byte-driven state machine whose whole
 * state lives in struct det_stream, so a document cut anywhere gives the same
 * findings as the document in one piece:
 *
 *   IDLE    skip to the next digit or '@' (and, in CSV mode, delimiter,
 *           newline, quote) 16 bytes at a time;
 *   DIGITS  a run of digits, kept in the compound's digit buffer;
 *   SEP     up to MAX_SEP separator bytes after a run: another run joins
 *           the compound, anything else ends it and it is evaluated;
 *   DOMAIN  the domain of an e-mail address after '@' (the local part is
 *           read backwards from the bytes kept in hist).
 *
 * From S_IDLE, a compound that ends inside the chunk is read in one go by
 * number_fast() (runs found as bit masks) or compound_fast() (the same
 * runs and separators these states would read); the states handle the
 * rest: compounds cut by a chunk end, long runs. In plain text and JSON,
 * S_IDLE is scan_plain(): 64-byte masks of digits and '@', numbers and
 * e-mail addresses read in place, the key of a compact JSON value taken
 * from the stream's key cache, a formatted number read by the shape the
 * same 8 bytes before it had last time (docs/scan.md, "Where the time
 * goes").
 *
 * The bytes before a value are needed for its context and its left
 * boundary: they come from the current chunk, or from hist (the last HIST
 * bytes before the chunk); a value still open at the end of a feed copies
 * its context into the stream (held).
 */
#include "detectors/det_scan.h"
#include "detectors/det_scan_int.h"
#include "detectors/det_rules.h"
#include "core/gb_buf.h"

#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__SSE2__) && defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_BLOCK64_AVX2	1	/* block64_avx2(), det_scan_avx2 */
#endif

#define HIST		160	/* bytes kept from before the chunk */
#define CTX_LEN		96	/* context bytes held for an open value */
#define MAX_GROUPS	8	/* runs per compound */
#define MAX_DIGITS	64	/* digits kept per compound */
#define GROUP_LONG	24	/* a run this long is part of a longer number */
#define MAX_SEP		3	/* separator bytes between two runs */
#define LOCAL_MAX	64	/* e-mail local part */
#define CSV_HDR_MAX	1024
#define CSV_COLS	64	/* also HTML table columns */
#define CSV_HDR_CELL	48	/* a header cell after the first line */
#define TH_TEXT_MAX	128	/* header cell text looked at */
#define HTML_LOOK	8192	/* a document turns HTML at a '<' before this */
#define AFTER_MAX	32	/* bytes after a value read for a label */
#define DIG_SLACK	24	/* dig[] bytes past MAX_DIGITS: whole-word copies */
#define VALUE_COPY	24	/* values shorter than this are copied whole */
#define FAST_NEVER	0x100	/* above any confidence */
#define REBASE_MIN	4	/* digits of a run cut by a block's end that
				   make scan_plain() start a block there */

enum { S_IDLE = 0, S_DIGITS, S_SEP, S_DOMAIN, S_DOMSKIP, S_TAG };

/*
 * The few functions between a number and its finding, inlined where gcc
 * would call them: the calls were a tenth of the work on dense JSON.
 */
#define HOT_INLINE	static inline __attribute__((always_inline))

/* Left-boundary flags of a compound. */
#define L_TAINT		0x01	/* letter, '_' or '@' right before */
#define L_PLUS		0x02	/* '+' right before */
#define L_LETTER	0x04	/* a lone letter before: passport shape */
#define L_LSPACE	0x08	/* ... with one space between */
#define L_HEXID		0x10	/* the end of a hex id: "-8dc1-" before */

/* Byte classes. */
#define C_DIGIT		0x01
#define C_SEP		0x02
#define C_WORD		0x04	/* letters and '_': taint a boundary */
#define C_UPPER		0x08
#define C_EMLOCAL	0x10	/* det_email_local_char() */
#define C_EMDOM		0x20	/* det_email_domain_char() */
#define C_EMLEFT	0x40	/* C_EMLOCAL but '=' and '/' (end a key, a path) */

static uint8_t cls[256];

bool det_scan_avx2;

struct group {
	uint64_t	start;		/* absolute offset of the first digit */
	uint64_t	end;		/* one past the last digit */
	uint8_t		off;		/* in dig[] */
	uint8_t		nd;		/* digits (saturates at 255) */
	uint8_t		kept;		/* digits kept in dig[] */
};

struct det_scanner {
	uint8_t		 min_conf[DET_T_COUNT];
	bool		 enabled[DET_T_COUNT];
	/*
	 * The lowest confidence emit_now() reports without the other
	 * checks: min_conf of a type that is on and has no allowlist
	 * entries, else FAST_NEVER.
	 */
	uint16_t	 fast_conf[DET_T_COUNT];
	unsigned	 allow_types;	/* bit per type with entries */
	size_t		 nallow;
	uint8_t		(*allow)[33];	/* type, SHA-256 */
};

/*
 * The shape of a number of several runs that number_fast() read, by the 8
 * bytes before it (a JSON key: records repeat their keys and formats):
 * the bytes up to and with the one that ended it, digits as '0'.
 * number_shape() reads a number that has the same shape and the same 8
 * bytes before it without finding its runs again.
 */
#define SHAPES		16	/* slot: the top 4 bits of a hash */
enum { SH_NONE = 0, SH_DROP, SH_WHOLE };

struct shape {
	uint64_t	tag;		/* the 8 bytes before the number */
	uint8_t		img[32];	/* its bytes, digits as '0' */
	uint32_t	care;		/* bytes 0..z */
	uint32_t	dm;		/* its digits */
	uint8_t		kind;		/* SH_*: fewer than 10 digits (none
					   evaluated), or read whole */
	uint8_t		z;		/* where it ended */
	uint8_t		ng;		/* SH_WHOLE: runs */
	uint8_t		n;		/* digits */
	uint8_t		end;		/* one past the last digit */
	uint8_t		run8;		/* no run has more than 8 digits */
	uint8_t		gs[MAX_GROUPS];	/* where each run starts */
	uint8_t		gd[MAX_GROUPS];	/* where its digits go in d[] */
};

struct det_stream {
	const struct det_scanner *sc;
	det_finding_cb	*cb;
	void		*arg;
	const uint8_t	*chunk;		/* during a feed */
	size_t		 clen;
	uint64_t	 base;		/* offset of chunk[0] */
	int		 state;
	bool		 finished;
	uint64_t	 nfound;

	/* a finding waiting for the bytes after it (a "(NIK)" label) */
	bool		 pend;
	uint8_t		 pend_type;
	uint8_t		 pend_conf;
	uint8_t		 pend_flags;
	uint8_t		 pend_vlen;
	char		 pend_v[24];
	uint64_t	 pend_start;
	uint64_t	 pend_end;

	/*
	 * HTML tables: 0 not known yet, 1 the document is HTML, -1 not, -2
	 * not yet (text: HTML from its first '<' in the first HTML_LOOK
	 * bytes).
	 */
	int		 html;
	/* A table mode is on: csv > 0, html > 0 or js > 0 (tbl_update()). */
	bool		 tbl;
	/* <td> header rows: a row without data whose cells name types. */
	bool		 td_cand;	/* a <td> read as a header cell */
	uint8_t		 row_any;	/* row_hint set 1, naming a type 2 */
	bool		 row_data;	/* a cell of the row holds a number */
	bool		 tbl_data;	/* a row of the table held one */
	uint16_t	 row_hint[CSV_COLS];
	/*
	 * JSON arrays of arrays whose first row names the columns
	 * ([["nik","no_kk"],["3171...","3171..."]], or {"columns": [...],
	 * "rows": [[...]]}): 0 not known, -2 after the document's first '[',
	 * 3 before the first key of an object, 4 after a key naming columns,
	 * 1 in the header row, 2 in the rows, -1 not such a document.
	 */
	int		 js;
	int		 jdepth;
	bool		 jobj;		/* {"columns": [...], ...} */
	bool		 jinq;
	unsigned	 jcol;
	uint64_t	 jfirst;	/* offset of the first '[' */
	uint64_t	 jstr;		/* start of the string open */
	uint64_t	 jesc;		/* offset of the byte a '\\' escapes */
	/* Fixed-width text tables (csv == 2): where the current line starts. */
	uint64_t	 line_at;
	uint8_t		 tag[8];
	unsigned	 tag_n;
	bool		 th_open;	/* in a header cell */
	bool		 in_td;
	unsigned	 hcol;		/* cells so far in the row */
	unsigned	 cur_col;
	unsigned	 th_hint;
	uint64_t	 th_seg;	/* header text since the last '>' */

	/* compound */
	struct group	 g[MAX_GROUPS];
	unsigned	 ng;
	unsigned	 nd;
	char		 dig[MAX_DIGITS + DIG_SLACK];
	uint64_t	 cstart;
	unsigned	 lflags;
	char		 letter;
	uint8_t		 hexpre;	/* hex bytes from a '-' to the first run */
	unsigned	 sep_n;
	uint64_t	 sep_at;	/* offset of the first separator */
	int		 hint;		/* -1: not computed */
	int		 col_hint;	/* CSV column hint at compound start */
	bool		 held;
	size_t		 ctx_len;
	uint8_t		 ctx[CTX_LEN];

	/* e-mail */
	char		 em[DET_VALUE_MAX];
	size_t		 em_n;
	size_t		 em_at;		/* em[em_at] == '@' */
	uint64_t	 em_start;
	unsigned	 em_hint;

	struct det_key_cache kcache;
	struct shape	 shape[SHAPES];	/* kept across resets: exact */

	/* bytes before the chunk */
	size_t		 hist_len;
	uint8_t		 hist[HIST];

	/* CSV: 0 header not found yet, 1 on, -1 off */
	int		 csv;
	unsigned	 hdr_lines;	/* lines looked at for a header */
	uint8_t		 delim;
	bool		 inq;
	unsigned	 col;
	size_t		 hdr_len;
	char		 hdr[CSV_HDR_MAX];
	uint16_t	 colhint[CSV_COLS];
	uint16_t	 colpos[CSV_COLS];	/* csv == 2: where cells start */
	unsigned	 ncols;
};

static void
cls_init(void)
{
	int c;

	/* Idempotent: concurrent first calls write the same values. */
	if (__atomic_load_n(&cls['0'], __ATOMIC_ACQUIRE) & C_DIGIT)
		return;
	for (c = 1; c < 256; c++) {
		if (c == '0')
			continue;
		if (det_email_local_char((unsigned char)c))
			cls[c] |= C_EMLOCAL;
		if (det_email_local_char((unsigned char)c) && c != '=' &&
		    c != '/')
			cls[c] |= C_EMLEFT;
		if (det_email_domain_char((unsigned char)c))
			cls[c] |= C_EMDOM;
	}
	for (c = 'a'; c <= 'z'; c++)
		cls[c] |= C_WORD;
	for (c = 'A'; c <= 'Z'; c++)
		cls[c] |= C_WORD | C_UPPER;
	cls['_'] |= C_WORD;
	cls[' '] |= C_SEP;
	cls['+'] |= C_SEP;	/* a space in forms and query strings */
	cls['.'] |= C_SEP;
	cls['-'] |= C_SEP;
	cls['('] |= C_SEP;
	cls[')'] |= C_SEP;
	/*
	 * UTF-8 no-break space (c2 a0, text pasted from word processors),
	 * en dash and non-breaking hyphen (e2 80 93, e2 80 91): their bytes
	 * separate runs like a blank or '-' (a byte of another character
	 * ends the number, as any other byte does).
	 */
	cls[0xc2] |= C_SEP;
	cls[0xa0] |= C_SEP;
	cls[0xe2] |= C_SEP;
	cls[0x80] |= C_SEP;
	cls[0x91] |= C_SEP;
	cls[0x93] |= C_SEP;
	for (c = '1'; c <= '9'; c++)
		cls[c] |= C_DIGIT;
#ifdef HAVE_BLOCK64_AVX2
	__builtin_cpu_init();
	det_scan_avx2 = __builtin_cpu_supports("avx2");
#endif
	__atomic_store_n(&cls['0'], C_DIGIT | C_EMLOCAL | C_EMDOM | C_EMLEFT,
	    __ATOMIC_RELEASE);
}

/* --- scanner --- */

int
det_scanner_new(const struct det_rules *rules, struct det_scanner **out)
{
	struct det_scanner *sc;
	const struct det_type_rule *tr;
	const uint8_t *h;
	size_t i;
	int t;

	*out = NULL;
	cls_init();
	det_ctx_init();
	det_region_init();
	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		return -1;
	for (t = 0; t < DET_T_COUNT; t++) {
		sc->enabled[t] = true;
		sc->min_conf[t] = 50;
		if (rules != NULL) {
			tr = det_rules_type(rules, (enum det_type)t);
			sc->enabled[t] = tr->enabled;
			sc->min_conf[t] = tr->min_confidence;
		}
	}
	if (rules != NULL && (sc->nallow = det_rules_allow_count(rules)) > 0) {
		if ((sc->allow = calloc(sc->nallow, sizeof(*sc->allow))) ==
		    NULL) {
			free(sc);
			return -1;
		}
		for (i = 0; i < sc->nallow; i++) {
			det_rules_allow_get(rules, i, &t, &h);
			sc->allow[i][0] = (uint8_t)t;
			memcpy(&sc->allow[i][1], h, 32);
			sc->allow_types |= 1u << t;
		}
	}
	for (t = 0; t < DET_T_COUNT; t++)
		sc->fast_conf[t] = sc->enabled[t] &&
		    !(sc->allow_types & (1u << t)) ? sc->min_conf[t] :
		    FAST_NEVER;
	*out = sc;
	return 0;
}

void
det_scanner_free(struct det_scanner *sc)
{
	if (sc == NULL)
		return;
	free(sc->allow);
	free(sc);
}

/* --- streams --- */

int
det_stream_new(const struct det_scanner *sc, struct det_stream **out)
{
	struct det_stream *st;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return -1;
	st->sc = sc;
	det_stream_reset(st);
	*out = st;
	return 0;
}

void
det_stream_free(struct det_stream *st)
{
	free(st);
}

void
det_stream_reset(struct det_stream *st)
{
	const struct det_scanner *sc = st->sc;

	memset(st, 0, offsetof(struct det_stream, ctx));
	st->sc = sc;
	st->hist_len = 0;
	st->csv = 0;
	st->delim = 0;
	st->inq = false;
	st->col = 0;
	st->hdr_len = 0;
	st->hdr_lines = 0;
	st->hint = -1;
	st->col_hint = -1;
}

uint64_t
det_stream_offset(const struct det_stream *st)
{
	return st->base + st->clen;
}

/*
 * Copy up to want bytes that come right before absolute offset at (which
 * is inside the current chunk or at its end) into out; returns how many.
 */
static size_t
fetch_before(const struct det_stream *st, uint64_t at, uint8_t *out,
    size_t want)
{
	size_t inchunk, fromhist, k;

	inchunk = (size_t)(at - st->base);
	if (inchunk >= want) {
		memcpy(out, st->chunk + inchunk - want, want);
		return want;
	}
	fromhist = want - inchunk;
	if (fromhist > st->hist_len)
		fromhist = st->hist_len;
	k = 0;
	if (fromhist > 0) {
		memcpy(out, st->hist + st->hist_len - fromhist, fromhist);
		k = fromhist;
	}
	if (inchunk > 0)
		memcpy(out + k, st->chunk, inchunk);
	return k + inchunk;
}

/*
 * Pointer to the want bytes before at (fewer at stream start, *n says how
 * many): straight into the chunk when they are all there, else copied to tmp.
 */
static inline const uint8_t *
before_ptr(const struct det_stream *st, uint64_t at, size_t want,
    uint8_t *tmp, size_t *n)
{
	size_t inchunk = (size_t)(at - st->base);

	if (st->chunk != NULL && inchunk >= want) {
		*n = want;
		return st->chunk + inchunk - want;
	}
	*n = fetch_before(st, at, tmp, want);
	return tmp;
}

/* Hand the finding to the callback. */
HOT_INLINE void
report(struct det_stream *st, enum det_type t, unsigned conf, unsigned flags,
    const char *v, size_t vlen, uint64_t start, uint64_t end)
{
	struct det_finding f;

	f.type = t;
	f.confidence = (uint8_t)(conf > 100 ? 100 : conf);
	f.flags = (uint8_t)flags;
	f.vlen = (uint16_t)vlen;
	f.offset = start;
	f.length = (uint32_t)(end - start);
	/* Every caller's v has VALUE_COPY readable bytes (buffers of 24+). */
	if (vlen < VALUE_COPY)
		memcpy(f.value, v, VALUE_COPY);
	else
		memcpy(f.value, v, vlen);
	f.value[vlen] = '\0';
	st->nfound++;
	if (st->cb != NULL)
		st->cb(&f, st->arg);
}

/* emit_now() for a type that is off, allowlisted or below its minimum. */
static __attribute__((noinline)) bool
emit_slow(struct det_stream *st, enum det_type t, unsigned conf,
    unsigned flags, const char *v, size_t vlen, uint64_t start, uint64_t end)
{
	const struct det_scanner *sc = st->sc;
	uint8_t h[32];
	size_t i;

	if (!sc->enabled[t])
		return true;
	if (conf < sc->min_conf[t] || vlen == 0 || vlen >= DET_VALUE_MAX)
		return false;
	if (sc->allow_types & (1u << t)) {
		det_allow_hash(t, v, vlen, h);
		for (i = 0; i < sc->nallow; i++)
			if (sc->allow[i][0] == t &&
			    memcmp(&sc->allow[i][1], h, 32) == 0)
				return true;
	}
	report(st, t, conf, flags, v, vlen, start, end);
	return true;
}

/*
 * Report a finding when its type is on and its confidence high enough.
 * Returns true when the value counts as found (reported, allowlisted, or of
 * a type switched off), false when its confidence is too low: the caller
 * may then try shorter readings of the same digits.
 */
HOT_INLINE bool
emit_now(struct det_stream *st, enum det_type t, unsigned conf, unsigned flags,
    const char *v, size_t vlen, uint64_t start, uint64_t end)
{
	/* 1 <= vlen < DET_VALUE_MAX, on, not allowlisted, confident. */
	if (conf >= st->sc->fast_conf[t] && vlen - 1 < DET_VALUE_MAX - 1) {
		report(st, t, conf, flags, v, vlen, start, end);
		return true;
	}
	return emit_slow(st, t, conf, flags, v, vlen, start, end);
}

/*
 * The hint of a label right after a value: blanks, then "(" or "[", words,
 * ")" or "]" ("3171... (NIK)", "3171... [No. KK]"). 0 when there is none.
 */
static unsigned
label_hint(const uint8_t *b, size_t n)
{
	size_t i = 0, s;

	while (i < n && (b[i] == ' ' || b[i] == '\t'))
		i++;
	if (i >= n || (b[i] != '(' && b[i] != '['))
		return 0;
	s = ++i;
	while (i < n && b[i] != ')' && b[i] != ']' && b[i] != '(' &&
	    b[i] != '\n' && !(cls[b[i]] & C_DIGIT))
		i++;
	if (i >= n || (b[i] != ')' && b[i] != ']') || i == s)
		return 0;
	return det_ctx_words((const char *)b + s, i - s, false);
}

/*
 * Report the waiting finding, with what the bytes after it say: at most
 * AFTER_MAX of them, and none past until (where the next value starts, or
 * the end of the document). until is inside the current chunk or at its
 * end.
 */
static void
pend_resolve(struct det_stream *st, uint64_t until)
{
	uint8_t buf[AFTER_MAX];
	uint64_t at;
	unsigned h = 0, typed, conf, flags;
	enum det_type t;
	size_t n;

	st->pend = false;
	at = st->pend_end + AFTER_MAX;
	if (until < at)
		at = until;
	if (at > st->pend_end && at >= st->base) {
		n = fetch_before(st, at, buf, (size_t)(at - st->pend_end));
		h = label_hint(buf, n);
	}
	t = (enum det_type)st->pend_type;
	conf = st->pend_conf;
	flags = st->pend_flags;
	typed = h & DET_H_TYPES;
	if ((t == DET_T_NIK || t == DET_T_KK) && typed) {
		/* The label is nearer than any word before: it decides. */
		if ((typed & DET_H_KK) && !(flags & DET_F_FEMALE)) {
			t = DET_T_KK;
			conf = 85;
		} else if (typed & (DET_H_NIK | DET_H_KK | DET_H_NPWP)) {
			t = DET_T_NIK;
			conf = 90;
		}
	} else if (typed & (1u << t))
		conf = t == DET_T_BPJS ? 80 : 90;
	else if (h & (DET_H_NEG | DET_H_COMPANY))
		conf = t == DET_T_CARD ? 10 : t == DET_T_NIK ||
		    t == DET_T_PHONE ? 20 : 15;
	if (typed)
		flags |= DET_F_CONTEXT;
	if (h & (DET_H_NEG | DET_H_COMPANY))
		flags |= DET_F_NEGATIVE;
	(void)emit_now(st, t, conf, flags, st->pend_v, st->pend_vlen,
	    st->pend_start, st->pend_end);
}

/*
 * Report a finding (see emit_now()). A number whose context is only free
 * text (no key or header, nothing negative) waits for the bytes after it:
 * a label such as "(No. KK)" may follow, and it is nearer than any word
 * before. hint: the value's context (compound_hint()), ~0u when none was
 * computed.
 */
HOT_INLINE bool
emit(struct det_stream *st, enum det_type t, unsigned conf, unsigned flags,
    const char *v, size_t vlen, uint64_t start, uint64_t end, unsigned hint)
{
	if (st->pend)
		pend_resolve(st, start);
	/* A hint of ~0u (none computed) has every bit, DET_H_KEY too. */
	if ((hint & (DET_H_KEY | DET_H_NEG |
	    DET_H_COMPANY)) != 0 || t == DET_T_EMAIL ||
	    t == DET_T_PASSPORT || t == DET_T_SIM || !st->sc->enabled[t] ||
	    conf < st->sc->min_conf[t] || vlen >= sizeof(st->pend_v))
		return emit_now(st, t, conf, flags, v, vlen, start, end);
	st->pend = true;
	st->pend_type = (uint8_t)t;
	st->pend_conf = (uint8_t)conf;
	st->pend_flags = (uint8_t)flags;
	st->pend_vlen = (uint8_t)vlen;
	memcpy(st->pend_v, v, vlen);
	st->pend_start = start;
	st->pend_end = end;
	return true;
}

/*
 * The context hint of the open compound, computed once: the value's own key
 * first, then its CSV column, then the words before it. A type named only
 * by nearby free text counts for that type but does not count against the
 * others (the nearest word may belong to the previous value).
 */
HOT_INLINE unsigned
compound_hint(struct det_stream *st)
{
	uint8_t buf[CTX_LEN];
	const uint8_t *b;
	unsigned h;
	size_t n;

	if (st->hint >= 0)
		return (unsigned)st->hint;
	if (st->held)
		h = det_ctx_before(st->ctx, st->ctx_len, &st->kcache);
	else {
		b = before_ptr(st, st->cstart, CTX_LEN, buf, &n);
		h = det_ctx_before(b, n, &st->kcache);
	}
	if (!(h & DET_H_KEY) && st->col_hint > 0)
		h = (unsigned)st->col_hint;
	st->hint = (int)h;
	return h;
}

_Static_assert(DET_H_CSV_COL >> 10 == DET_F_CSV, "det_ctx_flags() shift");

/* The finding flags of hint h: the ones it carries, else computed. */
static inline unsigned
ctx_flags(unsigned h)
{
	if (h & DET_H_HASF)
		return (h >> DET_H_FSHIFT) & 0xff;
	return det_ctx_flags(h);
}

/* Confidence with a type hint: a key or header is worth more than text. */
static unsigned
hinted(unsigned h, unsigned key, unsigned text)
{
	return (h & DET_H_KEY) ? key : text;
}

/*
 * The confidence of a value of the type whose hint is bit, from context h:
 * its own word near (95 as a key, 90 in text), else neg after a negative
 * word, key after another type's key, dflt with no context.
 */
static inline unsigned
tier(unsigned h, unsigned bit, unsigned neg, unsigned key, unsigned dflt)
{
	unsigned typed = h & DET_H_TYPES;

	if (typed & bit)
		return hinted(h, 95, 90);
	if (h & DET_H_NEG)
		return neg;
	if (typed && (h & DET_H_KEY))
		return key;
	return dflt;
}

/*
 * Card numbers are written in one run or in 3 to 5 groups (4-4-4-4,
 * 4-6-5, 4-4-4-4-3); never in two: a NIK and the status code after it in
 * a log line ("... 3171015708450001 200") are not a 19-digit card.
 */
#define CARD_GROUPS(ng)	((ng) == 1 || ((ng) >= 3 && (ng) <= 5))

/*
 * Twelve digits d[0..12) from start to end: an NPWP without its branch
 * part (pii-id.md 3.1) where the context says NPWP, reported as the head
 * office's (000 added). 0: not one; 1: one (reported or not, as emit()
 * says true); -1: one below its minimum confidence. hk: the context when
 * known, else < 0. Out of line and tried last, for twelve digits that are
 * nothing else (not a mobile's shape): try_digits() is inlined into the
 * number paths, where any code it gains costs (0.9 % on dense JSON as
 * it is; each other place tried cost more).
 */
static __attribute__((noinline)) int
npwp12(struct det_stream *st, const char *d, uint64_t start, uint64_t end,
    int hk, unsigned flags)
{
	char v[24];
	unsigned h, conf;

	if (!det_npwp15_digits(d))
		return 0;
	h = hk >= 0 ? (unsigned)hk : compound_hint(st);
	if (!(h & DET_H_NPWP) || (h & DET_H_NEG))
		return 0;
	memcpy(v, d, 12);
	memcpy(v + 12, "000", 4);
	memset(v + 16, 0, sizeof(v) - 16);
	conf = (h & DET_H_COMPANY) ? 15 : hinted(h, 95, 90);
	return emit(st, DET_T_NPWP, conf, flags | ctx_flags(h), v, 15, start,
	    end, h) ? 1 : -1;
}

/*
 * Try digits d[0..n) as an identifier: they are ngroups runs of the open
 * compound, from absolute offset start (its '+' included, plus set) to end.
 * d has VALUE_COPY readable bytes. hk: st->hint, or a hint already known
 * (>= 0; a caller that knows it need not store it in st->hint). Returns
 * true when they are one (reported or not), so shorter sub-ranges are not
 * tried.
 */
HOT_INLINE bool
try_digits(struct det_stream *st, const char *d, unsigned n, uint64_t start,
    uint64_t end, bool plus, unsigned ngroups, int hk)
{
	unsigned h, typed, conf, flags;
	bool female, brand, fmt = ngroups > 1;
	bool strict = false;	/* true: what emit() says, else true */
	const char *val = d;
	char v[24], tr[24];
	enum det_type t;

	flags = fmt ? DET_F_FORMATTED : 0;

	if (plus && !(d[0] == '6' && d[1] == '2'))
		return n >= 8 && n <= 15;	/* a foreign number */
	/*
	 * +62 08...: the trunk 0 written after the country code, common in
	 * forms; only after an explicit '+'. Tried without the 0.
	 */
	if (plus && d[2] == '0' && d[3] == '8' && n >= 12 && n <= 15 &&
	    det_mobile_nsn(d + 3, n - 3)) {
		memset(tr, '0', sizeof(tr));
		tr[0] = '6';
		tr[1] = '2';
		memcpy(tr + 2, d + 3, n - 3);
		d = tr;
		n--;
	}
	/* SIM and phone numbers have at most 14 digits. */
	if (n <= 14) {
		/* SIM: 12 or 14 digits, only where the context says so. */
		if (!plus && (n == 12 || n == 14) && det_valid_sim(d, n)) {
			h = hk >= 0 ? (unsigned)hk : compound_hint(st);
			if ((h & DET_H_SIM) && !(h & DET_H_NEG)) {
				t = DET_T_SIM;
				conf = hinted(h, 95, 90);
				strict = true;
				goto found;
			}
		}
		/* Phones: 08 + 8-11 digits, 628 + 8-11 digits. */
		if ((d[0] == '0' && d[1] == '8' && n >= 10 && n <= 13 &&
		    det_mobile_nsn(d + 1, n - 1)) ||
		    (d[0] == '6' && d[1] == '2' && d[2] == '8' && n >= 11 &&
		    n <= 14 && det_mobile_nsn(d + 2, n - 2))) {
			h = hk >= 0 ? (unsigned)hk : compound_hint(st);
			conf = tier(h, DET_H_PHONE, 20, 40, plus ? 85 : 75);
			/* 16 bytes, fixed: at most 13 are digits, d has 24. */
			v[0] = '6';
			v[1] = '2';
			if (d[0] == '0') {
				memcpy(v + 2, d + 1, 16);
				n += 1;
			} else
				memcpy(v + 2, d + 2, 16);
			t = DET_T_PHONE;
			val = v;
			goto found;
		}
	}
	if (plus)
		return false;

	switch (n) {
	case 11:
	case 13:
		if (!det_valid_bpjs(d, n))
			break;
		h = hk >= 0 ? (unsigned)hk : compound_hint(st);
		if (h & DET_H_BPJS)
			conf = hinted(h, 90, 80);
		else if (n == 13 && memcmp(d, "000", 3) == 0 &&
		    !(h & (DET_H_NEG | DET_H_TYPES)))
			conf = 55;
		else
			break;
		t = DET_T_BPJS;
		strict = true;
		goto found;
	case 15:
		if (!det_npwp15_digits(d))
			break;
		h = hk >= 0 ? (unsigned)hk : compound_hint(st);
		/* Under a card's key, a card number (American Express). */
		if ((h & DET_H_CARD) && !(h & DET_H_NPWP) &&
		    CARD_GROUPS(ngroups) && det_card_digits(d, n, &brand))
			break;
		conf = (h & DET_H_COMPANY) ? 15 :
		    tier(h, DET_H_NPWP, 15, 35, ngroups >= 4 ? 85 : 60);
		t = DET_T_NPWP;
		goto found;
	case 16:
		if (d[0] == '0') {
			if (!det_npwp15_digits(d + 1))
				break;
			h = hk >= 0 ? (unsigned)hk : compound_hint(st);
			conf = (h & DET_H_COMPANY) ? 15 :
			    tier(h, DET_H_NPWP, 15, 35, 60);
			t = DET_T_NPWP;
			goto found;
		}
		if (!det_nik_ok(d)) {
			/*
			 * A region the table does not have (splits before its
			 * first year, pii-id.md section 1): a NIK where the
			 * words say so, if the rest of it is right.
			 */
			if (!det_nik_loose(d))
				break;
			h = hk >= 0 ? (unsigned)hk : compound_hint(st);
			typed = h & DET_H_TYPES;
			if (!(typed & (DET_H_NIK | DET_H_KK)) || (h & DET_H_NEG))
				break;
			female = (d[6] - '0') * 10 + (d[7] - '0') > 40;
			t = (typed & DET_H_KK) && !female ? DET_T_KK : DET_T_NIK;
			if (female)
				flags |= DET_F_FEMALE;
			conf = hinted(h, 80, 70);
			strict = true;
			goto found;
		}
		/*
		 * The day field + 40 (det_nik_info.female, without the rest),
		 * from the lanes det_nik_ok() read: the compiler shares them.
		 */
		female = (det_d2x4(d) >> 48) > 40;
		h = hk >= 0 ? (unsigned)hk : compound_hint(st);
		typed = h & DET_H_TYPES;
		t = DET_T_NIK;
		if (female)
			flags |= DET_F_FEMALE;
		if ((typed & DET_H_KK) && !female) {
			t = DET_T_KK;
			conf = hinted(h, 95, 85);
		} else if (typed & (DET_H_NIK | DET_H_KK | DET_H_NPWP |
		    DET_H_SIM | DET_H_BPJS))
			/* A SIM may be the NIK; BPJS takes it for the card. */
			conf = hinted(h, 95, 90);
		else if (typed & DET_H_CARD) {
			if (det_card_digits(d, n, &brand)) {
				t = DET_T_CARD;
				conf = hinted(h, 95, 85);
				strict = true;
				goto found;
			}
			conf = 45;
		} else if (h & DET_H_NEG)
			conf = 20;
		else if (typed && (h & DET_H_KEY))
			conf = 45;
		else
			conf = 75;
		goto found;
	case 18:
		if (!det_nip_digits(d))
			break;
		h = hk >= 0 ? (unsigned)hk : compound_hint(st);
		conf = tier(h, DET_H_NIP, 15, 35, ngroups == 4 ? 85 : 65);
		t = DET_T_NIP;
		goto found;
	default:
		break;
	}
	if (n == 12)
		return npwp12(st, d, start, end, hk, flags) > 0;
	if (n >= 13 && n <= 19 && CARD_GROUPS(ngroups) &&
	    det_card_digits(d, n, &brand)) {
		h = hk >= 0 ? (unsigned)hk : compound_hint(st);
		if (h & DET_H_CARD)
			conf = brand ? hinted(h, 95, 90) : hinted(h, 85, 75);
		else if (h & (DET_H_NEG | DET_H_TYPES))
			conf = 10;
		else if (brand)
			conf = fmt ? 85 : 70;
		else
			conf = 25;
		if (!brand && !(h & DET_H_CARD))
			return false;
		t = DET_T_CARD;
		strict = true;
		goto found;
	}
	return false;
found:
	/* One call: emit() is inlined, and this function in three places. */
	if (!emit(st, t, conf, flags | ctx_flags(h), val, n, start, end, h))
		return !strict;
	return true;
}

/* try_digits() where a call costs little next to the rest: not inlined. */
static __attribute__((noinline)) bool
try_digits_call(struct det_stream *st, const char *d, unsigned n,
    uint64_t start, uint64_t end, bool plus, unsigned ngroups)
{
	return try_digits(st, d, n, start, end, plus, ngroups, st->hint);
}

/*
 * The run at chunk index i closes a UUID or a like id ("-8dc1-081174176412"):
 * '-', four hex digits, '-' right before it. Its digits are part of the
 * id, as those right after a letter are (pii-id.md 4: mobile-shaped runs
 * inside hex ids).
 */
static inline bool
hex_id_tail(const struct det_stream *st, size_t i)
{
	uint8_t tmp[6];
	const uint8_t *b;
	size_t k, j;

	b = before_ptr(st, st->base + i, 6, tmp, &k);
	if (k != 6 || b[5] != '-' || b[0] != '-')
		return false;
	for (j = 1; j < 5; j++)
		if (gb_hexval(b[j]) < 0)
			return false;
	return true;
}

/*
 * NITKU (company branch tax id, pii-id.md section 3.2): a 16-digit NPWP
 * (0 + old NPWP, or NIK-shaped) and a 6-digit place code, written as 22
 * digits with separators. Not reported as NIK or NPWP: the whole number is
 * the identifier of a place of business. (22 digits in one run already
 * fail every length.)
 */
static bool
is_nitku(const struct det_stream *st, unsigned lo, unsigned hi)
{
	const struct group *last;
	unsigned k, n = 0;
	const char *d;

	if (hi < lo + 2)
		return false;
	last = &st->g[hi - 1];
	if (last->nd != 6 || last->kept != 6)
		return false;
	for (k = lo; k < hi; k++) {
		if (st->g[k].nd != st->g[k].kept)
			return false;
		n += st->g[k].nd;
	}
	if (n != 22)
		return false;
	d = st->dig + st->g[lo].off;
	return d[0] == '0' ? det_npwp15_digits(d + 1) :
	    det_nik_ok(d);
}

/*
 * The column of a fixed-width table (csv == 2) a value starting at
 * absolute offset at is in: the last whose header starts at most one byte
 * after it (left-aligned columns).
 */
static unsigned
fixed_col(const struct det_stream *st, uint64_t at)
{
	uint64_t pos = at - st->line_at;
	unsigned col;

	for (col = 0; col + 1 < st->ncols && st->colpos[col + 1] <= pos + 1;
	    col++)
		;
	return col;
}

/* Evaluate the finished compound; right_taint: a word byte follows it. */
static void
compound_end(struct det_stream *st, bool right_taint)
{
	char d[24], v[24];
	unsigned lo, hi, i, j, m, n, h, conf;
	bool done, plus;

	if (st->ng == 1 && st->g[0].nd < 10) {
		/* The common case: a short number. Passport or nothing. */
		if (st->g[0].nd == 7 && (st->lflags & L_LETTER) &&
		    !right_taint) {
			h = compound_hint(st);
			if (h & DET_H_PASSPORT)
				conf = hinted(h, 95, 90);
			else
				conf = (h & (DET_H_NEG | DET_H_TYPES)) ? 5 : 20;
			v[0] = st->letter;
			memcpy(v + 1, st->dig, 7);
			emit(st, DET_T_PASSPORT, conf, ctx_flags(h), v, 8,
			    st->g[0].start -
			    ((st->lflags & L_LSPACE) ? 2 : 1), st->g[0].end, h);
		}
		goto out;
	}
	if (st->ng == 1) {
		/* One run of 10 or more digits: the loop below in short. */
		n = st->g[0].nd;
		if (!(st->lflags & L_TAINT) && !right_taint && n <= 19 &&
		    n == st->g[0].kept)
			(void)try_digits_call(st, st->dig, n, st->g[0].start -
			    ((st->lflags & L_PLUS) ? 1 : 0), st->g[0].end,
			    (st->lflags & L_PLUS) != 0, 1);
		goto out;
	}
	/*
	 * Runs that go on a hex id ("-8614-0816...", "-8dc1-0816...": a
	 * group of four, one separator, the next run) are all of it.
	 */
	if ((st->lflags & L_HEXID) || (st->hexpre > 0 &&
	    st->hexpre + st->g[0].nd == 4 && st->g[1].start ==
	    st->g[0].end + 1))
		goto out;
	lo = (st->lflags & L_TAINT) ? 1 : 0;
	hi = st->ng - (right_taint ? 1 : 0);
	if (is_nitku(st, lo, hi))
		goto out;
	i = lo;
	while (i < hi) {
		done = false;
		/* Runs i..m-1 are whole (a long run ends every sub-range). */
		for (m = i, n = 0; m < hi && st->g[m].nd == st->g[m].kept; m++)
			n += st->g[m].nd;
		/* Longest first: n is the digits of runs i..j. */
		for (j = m; j-- > i; n -= st->g[j].nd) {
			if (n < 10)
				break;		/* shorter ones are shorter still */
			if (n > 19)
				continue;
			memcpy(d, st->dig + st->g[i].off, n);
			d[n] = '\0';
			plus = i == 0 && (st->lflags & L_PLUS);
			/* Values side by side in a fixed-width table. */
			if (st->csv == 2 && i > 0) {
				unsigned col = fixed_col(st, st->g[i].start);

				st->col_hint = col < CSV_COLS &&
				    st->colhint[col] != 0 ? st->colhint[col] :
				    -1;
				st->hint = -1;
			}
			if (try_digits_call(st, d, n, st->g[i].start -
			    (plus ? 1 : 0), st->g[j].end, plus, j - i + 1)) {
				i = j + 1;
				done = true;
				break;
			}
		}
		if (!done)
			i++;
	}
out:
	st->ng = 0;
	st->nd = 0;
	st->held = false;
	st->hint = -1;
	st->state = S_IDLE;
}

/*
 * The column header of a value starting at chunk index i in a table: a CSV
 * column, a fixed-width column (by where the value starts in its line),
 * an HTML cell, an element of a JSON row.
 */
static inline void
table_col(struct det_stream *st, size_t i)
{
	unsigned col;

	if (st->csv == 1)
		col = st->col;
	else if (st->csv == 2)
		col = fixed_col(st, st->base + i);
	else if (st->csv <= 0 && st->html > 0 && st->in_td)
		col = st->cur_col;
	else if (st->csv <= 0 && st->js == 2 && st->jdepth == 2)
		col = st->jcol;
	else
		return;
	if (col < CSV_COLS && st->colhint[col] != 0)
		st->col_hint = st->colhint[col];
}

/*
 * A compound starts at chunk index i: where it starts, its CSV or HTML
 * column, and its key when it is a compact JSON value with a key of the
 * cache (what compound_hint() would find first).
 */
static inline void
compound_ctx(struct det_stream *st, size_t i)
{
	unsigned h;

	st->cstart = st->base + i;
	st->hint = -1;
	if (i >= DET_CTX_JSON_MIN &&
	    (h = det_ctx_json_key(st->chunk + i, &st->kcache)) != 0)
		st->hint = (int)h;
	st->held = false;
	st->col_hint = -1;
	if (__builtin_expect(st->tbl, 0))
		table_col(st, i);
}

/*
 * A compound starts at chunk index i: its CSV or HTML column and what is
 * right before it (a letter, '_', '@', '+', a passport letter).
 */
static void
compound_open(struct det_stream *st, size_t i)
{
	uint8_t tmp[8];
	const uint8_t *b;
	size_t k, j;

	compound_ctx(st, i);
	st->lflags = 0;
	st->hexpre = 0;
	b = before_ptr(st, st->cstart, 8, tmp, &k);
	if (k >= 1) {
		uint8_t c1 = b[k - 1];
		uint8_t c2 = k >= 2 ? b[k - 2] : ' ';
		uint8_t c3 = k >= 3 ? b[k - 3] : ' ';

		if (cls[c1] & C_WORD || c1 == '@') {
			st->lflags |= L_TAINT;
			/* "-8dc1-0811...": hex bytes back to a '-'. */
			for (j = k; j > 0 && gb_hexval(b[j - 1]) >= 0; j--)
				;
			if (j > 0 && j < k && b[j - 1] == '-')
				st->hexpre = (uint8_t)(k - j);
		} else if (c1 == '-' && hex_id_tail(st, i))
			st->lflags |= L_TAINT | L_HEXID;
		else if (c1 == '+')
			st->lflags |= L_PLUS;
		if ((cls[c1] & C_UPPER) && !(cls[c2] & (C_WORD | C_DIGIT))) {
			st->lflags |= L_LETTER;
			st->letter = (char)c1;
		} else if (c1 == ' ' && (cls[c2] & C_UPPER) &&
		    !(cls[c3] & (C_WORD | C_DIGIT))) {
			st->lflags |= L_LETTER | L_LSPACE;
			st->letter = (char)c2;
		}
	}
}

/* A run starts at chunk index i: open a compound or add to it. */
static void
group_start(struct det_stream *st, size_t i, bool joined)
{
	struct group *g;

	if (st->pend && !joined)
		pend_resolve(st, st->base + i);
	if (joined && (st->ng == MAX_GROUPS ||
	    st->nd + GROUP_LONG > MAX_DIGITS)) {
		compound_end(st, false);
		joined = false;
	}
	if (!joined)
		compound_open(st, i);
	g = &st->g[st->ng++];
	g->start = st->base + i;
	g->off = (uint8_t)st->nd;
	g->nd = 0;
	g->kept = 0;
	st->state = S_DIGITS;
}

/* '@' at chunk index i: read the local part backwards. */
static void
email_start(struct det_stream *st, size_t i)
{
	uint8_t tmp[LOCAL_MAX + 1 + 64], low[32];
	const uint8_t *b;
	size_t n, k, ls, s;
	bool lowered = false;

	if (st->pend)
		pend_resolve(st, st->base + i);
	b = before_ptr(st, st->base + i, sizeof(tmp), tmp, &n);
	k = n;
#ifdef __SSE2__
	/*
	 * The 16 bytes before the '@' at once: the local part starts after
	 * the last that is not a letter, digit, '.', '_', '-' or '+', when
	 * that byte is no other local-part byte either (else the loop).
	 */
	if (n >= 16) {
		__m128i v, m;
		unsigned mask;

		v = _mm_loadu_si128((const __m128i *)(const void *)
		    (b + n - 16));
		m = _mm_cmplt_epi8(_mm_add_epi8(_mm_or_si128(v,
		    _mm_set1_epi8(0x20)), _mm_set1_epi8(0x1f)),
		    _mm_set1_epi8(-102));
		m = _mm_or_si128(m, _mm_cmplt_epi8(_mm_add_epi8(v,
		    _mm_set1_epi8(0x50)), _mm_set1_epi8(-118)));
		m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v,
		    _mm_set1_epi8('.')), _mm_cmpeq_epi8(v,
		    _mm_set1_epi8('_'))));
		m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v,
		    _mm_set1_epi8('-')), _mm_cmpeq_epi8(v,
		    _mm_set1_epi8('+'))));
		mask = (unsigned)_mm_movemask_epi8(m) ^ 0xffffu;
		if (mask != 0 &&
		    !(cls[b[n - 16 + 31 - __builtin_clz(mask)]] & C_EMLEFT)) {
			k = n - 16 + 32 - (size_t)__builtin_clz(mask);
			/* 'A'-'Z' -> -128..-103: lower case them. */
			m = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(0x3f)),
			    _mm_set1_epi8(-102));
			_mm_storeu_si128((__m128i *)(void *)low, _mm_or_si128(v,
			    _mm_and_si128(m, _mm_set1_epi8(0x20))));
			_mm_storeu_si128((__m128i *)(void *)(low + 16),
			    _mm_setzero_si128());
			lowered = true;
		}
	}
#endif
	if (k == n) {
		/* '=' and '/' are legal but in practice end a key or a path. */
		while (k > 0 && n - k <= LOCAL_MAX &&
		    (cls[b[k - 1]] & C_EMLEFT))
			k--;
		if (n - k > LOCAL_MAX)
			return;
		lowered = false;
	}
	/* Trim leading punctuation ("'budi@", "...budi@"). */
	while (k < n && !(cls[b[k]] & (C_WORD | C_DIGIT)))
		k++;
	ls = n - k;
	if (ls == 0)
		return;
	if (lowered)
		memcpy(st->em, low + (k - (n - 16)), 16);
	else {
		for (s = 0; s < ls; s++) {
			uint8_t c = b[k + s];

			st->em[s] = (char)((cls[c] & C_UPPER) ? c | 0x20 : c);
		}
	}
	st->em[ls] = '@';
	st->em_at = ls;
	st->em_n = ls + 1;
	st->em_start = st->base + i - ls;
	if (k < DET_CTX_JSON_MIN ||
	    (st->em_hint = det_ctx_json_key(b + k, &st->kcache)) == 0)
		st->em_hint = det_ctx_before(b, k, &st->kcache);
	st->state = S_DOMAIN;
}

static void	email_report(struct det_stream *);

/*
 * An address under a negative key that does not name an e-mail
 * ("Message-ID: <...@mail.gmail.com>"): an id, not a person's address.
 */
#define EMAIL_NOT_PERSON(h)	(((h) & (DET_H_NEG | DET_H_KEY | \
	DET_H_EMAIL)) == (DET_H_NEG | DET_H_KEY))

static void
email_end(struct det_stream *st)
{
	while (st->em_n > 0 && (st->em[st->em_n - 1] == '.' ||
	    st->em[st->em_n - 1] == '-'))
		st->em_n--;
	st->state = S_IDLE;
	/* The local part was read with C_EMLOCAL: only the domain is left. */
	if (det_email_valid_at(st->em, st->em_n, st->em_at))
		email_report(st);
}

/* Report the valid address em[0..em_n). */
static void
email_report(struct det_stream *st)
{
	unsigned h = st->em_hint, conf;

	if (det_email_role_local(st->em, st->em_at) || EMAIL_NOT_PERSON(h))
		conf = 20;
	else if (h & DET_H_EMAIL)
		conf = 95;
	else
		conf = 90;
	emit(st, DET_T_EMAIL, conf, ctx_flags(h), st->em, st->em_n,
	    st->em_start, st->em_start + st->em_n, ~0u);
}

#ifdef __SSE2__
/*
 * The '@' at chunk index i in scan_plain(), for an address whose local
 * part starts in the 16 bytes before it and whose domain ends in the 16
 * after it, all in the chunk: what email_start(), email_domain() and
 * email_report() do, on one load each side and without the stream's
 * address state. Returns the index where scan_plain() goes on (state
 * S_IDLE), or 0 when the address is not of that kind: email_start() then
 * reads it (a waiting finding may have been resolved, nothing reported).
 */
static size_t
email_fast(struct det_stream *st, size_t i, size_t to)
{
	const uint8_t *p = st->chunk, *b;
	char buf[16 + 48], *em = buf + 16;
	__m128i v, m, a, dg, dt, ds;
	unsigned mask, alpha, alnum, len, h, conf;
	size_t k, ls, e;

	/* email_start() takes LOCAL_MAX + 1 + 64 bytes before the '@'. */
	if (i < LOCAL_MAX + 1 + 64 || i + 1 + 16 > to)
		return 0;
	v = _mm_loadu_si128((const __m128i *)(const void *)(p + i - 16));
	m = _mm_cmplt_epi8(_mm_add_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)),
	    _mm_set1_epi8(0x1f)), _mm_set1_epi8(-102));
	m = _mm_or_si128(m, _mm_cmplt_epi8(_mm_add_epi8(v,
	    _mm_set1_epi8(0x50)), _mm_set1_epi8(-118)));
	m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v,
	    _mm_set1_epi8('.')), _mm_cmpeq_epi8(v, _mm_set1_epi8('_'))));
	m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v,
	    _mm_set1_epi8('-')), _mm_cmpeq_epi8(v, _mm_set1_epi8('+'))));
	mask = (unsigned)_mm_movemask_epi8(m) ^ 0xffffu;
	if (mask == 0 || (cls[p[i - 16 + 31 - __builtin_clz(mask)]] & C_EMLEFT))
		return 0;
	if (st->pend)
		pend_resolve(st, st->base + i);
	k = i - 16 + 32 - (size_t)__builtin_clz(mask);
	while (k < i && !(cls[p[k]] & (C_WORD | C_DIGIT)))
		k++;
	if ((ls = i - k) == 0)
		return i + 1;
	/*
	 * The 16 bytes before the '@', lowered, stored so that the local
	 * part's first lands on em[0]: one store (a copy out of a buffer of
	 * two stores could not be forwarded from them and waited for both).
	 */
	m = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(0x3f)),
	    _mm_set1_epi8(-102));
	_mm_storeu_si128((__m128i *)(void *)(em - 16 + ls), _mm_or_si128(v,
	    _mm_and_si128(m, _mm_set1_epi8(0x20))));
	em[ls] = '@';
	/* The domain, as email_domain() reads one of fewer than 16 bytes. */
	v = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 1));
	m = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(0x3f)),
	    _mm_set1_epi8(-102));
	_mm_storeu_si128((__m128i *)(void *)(em + ls + 1), _mm_or_si128(v,
	    _mm_and_si128(m, _mm_set1_epi8(0x20))));
	a = _mm_cmplt_epi8(_mm_add_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)),
	    _mm_set1_epi8(0x1f)), _mm_set1_epi8(-102));
	dg = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(0x50)),
	    _mm_set1_epi8(-118));
	dt = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
	ds = _mm_cmpeq_epi8(v, _mm_set1_epi8('-'));
	mask = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a, dg),
	    _mm_or_si128(dt, ds))) ^ 0xffffu;
	if (mask == 0)
		return 0;
	e = (size_t)__builtin_ctz(mask);
	alpha = (unsigned)_mm_movemask_epi8(a);
	alnum = (alpha | (unsigned)_mm_movemask_epi8(dg)) & ((1u << e) - 1);
	len = alnum != 0 ? 32 - (unsigned)__builtin_clz(alnum) : 0;
	if (len == 0 || !det_email_domain_bits(alpha,
	    (unsigned)_mm_movemask_epi8(dg), (unsigned)_mm_movemask_epi8(dt),
	    (unsigned)_mm_movemask_epi8(ds), len))
		return i + 1 + e;
	/* The context email_start() takes: b, k - (i - 129) bytes of it. */
	b = p + i - (LOCAL_MAX + 1 + 64);
	if (k - (size_t)(b - p) < DET_CTX_JSON_MIN ||
	    (h = det_ctx_json_key(p + k, &st->kcache)) == 0)
		h = det_ctx_before(b, k - (size_t)(b - p), &st->kcache);
	if (det_email_role_local(em, ls) || EMAIL_NOT_PERSON(h))
		conf = 20;
	else if (h & DET_H_EMAIL)
		conf = 95;
	else
		conf = 90;
	emit(st, DET_T_EMAIL, conf, ctx_flags(h), em, ls + 1 + len,
	    st->base + k, st->base + k + ls + 1 + len, ~0u);
	return i + 1 + e;
}
#endif

/* Index of the first byte in p[i..n) that is not a digit; n if none. */
static inline size_t
digits_end(const uint8_t *p, size_t i, size_t n)
{
#ifdef __SSE2__
	const __m128i off = _mm_set1_epi8((char)0x50);
	const __m128i lim = _mm_set1_epi8((char)-118);
	__m128i v;
	unsigned mask;

	while (i + 16 <= n) {
		v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		mask = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(
		    _mm_add_epi8(v, off), lim)) ^ 0xffffu;
		if (mask != 0)
			return i + (size_t)__builtin_ctz(mask);
		i += 16;
	}
#endif
	while (i < n && (cls[p[i]] & C_DIGIT))
		i++;
	return i;
}

/*
 * The e-mail domain bytes (C_EMDOM: letters, digits, '.', '-') at the
 * start of p[0..16), copied lower-case to out (16 bytes are written): how
 * many there are.
 */
static inline size_t
domain16(const uint8_t *p, uint8_t *out)
{
#ifdef __SSE2__
	__m128i v, up, m;
	unsigned mask;

	v = _mm_loadu_si128((const __m128i *)(const void *)p);
	/* 'A'-'Z' -> -128..-103; then the same for 'a'-'z' on v | 0x20. */
	up = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(0x3f)),
	    _mm_set1_epi8(-102));
	m = _mm_cmplt_epi8(_mm_add_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)),
	    _mm_set1_epi8(0x1f)), _mm_set1_epi8(-102));
	m = _mm_or_si128(m, _mm_cmplt_epi8(_mm_add_epi8(v,
	    _mm_set1_epi8(0x50)), _mm_set1_epi8(-118)));
	m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v,
	    _mm_set1_epi8('.')), _mm_cmpeq_epi8(v, _mm_set1_epi8('-'))));
	_mm_storeu_si128((__m128i *)(void *)out, _mm_or_si128(v,
	    _mm_and_si128(up, _mm_set1_epi8(0x20))));
	mask = (unsigned)_mm_movemask_epi8(m) ^ 0xffffu;
	return mask == 0 ? 16 : (size_t)__builtin_ctz(mask);
#else
	size_t k;

	for (k = 0; k < 16 && (cls[p[k]] & C_EMDOM); k++)
		out[k] = (cls[p[k]] & C_UPPER) ? p[k] | 0x20 : p[k];
	return k;
#endif
}

/*
 * The e-mail domain from chunk index i, in state S_DOMAIN: copied lower
 * case after the local part, and the address evaluated where it ends.
 * Returns the index where it stopped (state S_IDLE after a byte that is
 * not a domain byte, S_DOMSKIP when the address is too long, S_DOMAIN at
 * to).
 */
static size_t
email_domain(struct det_stream *st, size_t i, size_t to)
{
	const uint8_t *p = st->chunk;
	size_t en = st->em_n, k;
	uint8_t c, u;

#ifdef __SSE2__
	/*
	 * A domain of fewer than 16 bytes, all in the chunk: copied and
	 * checked on the same load (email_end() less the second reading).
	 */
	if (en == st->em_at + 1 && i + 16 <= to) {
		__m128i v, m, a, dg, dt, ds;
		unsigned alpha, alnum, len;

		v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		m = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(0x3f)),
		    _mm_set1_epi8(-102));
		_mm_storeu_si128((__m128i *)(void *)(st->em + en),
		    _mm_or_si128(v, _mm_and_si128(m, _mm_set1_epi8(0x20))));
		a = _mm_cmplt_epi8(_mm_add_epi8(_mm_or_si128(v,
		    _mm_set1_epi8(0x20)), _mm_set1_epi8(0x1f)),
		    _mm_set1_epi8(-102));
		dg = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(0x50)),
		    _mm_set1_epi8(-118));
		dt = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
		ds = _mm_cmpeq_epi8(v, _mm_set1_epi8('-'));
		k = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a,
		    dg), _mm_or_si128(dt, ds))) ^ 0xffffu;
		if (k != 0) {
			k = (size_t)__builtin_ctz((unsigned)k);
			/* Without trailing '.' and '-', as email_end(). */
			alpha = (unsigned)_mm_movemask_epi8(a);
			alnum = (alpha | (unsigned)_mm_movemask_epi8(dg)) &
			    ((1u << k) - 1);
			len = alnum != 0 ? 32 - (unsigned)__builtin_clz(alnum) :
			    0;
			st->em_n = en + len;
			st->state = S_IDLE;
			if (len > 0 && det_email_domain_bits(alpha,
			    (unsigned)_mm_movemask_epi8(dg),
			    (unsigned)_mm_movemask_epi8(dt),
			    (unsigned)_mm_movemask_epi8(ds), len))
				email_report(st);
			return i + k;
		}
	}
#endif
	/* em_n in a register: stores to em[] may alias it. */
	while (i + 16 <= to && en + 16 <= DET_VALUE_MAX - 1) {
		k = domain16(p + i, (uint8_t *)st->em + en);
		en += k;
		i += k;
		if (k < 16)
			break;
	}
	while (i < to && en < DET_VALUE_MAX - 1) {
		c = p[i];
		u = cls[c];
		if (!(u & C_EMDOM))
			break;
		st->em[en++] = (char)((u & C_UPPER) ? c | 0x20 : c);
		i++;
	}
	st->em_n = en;
	if (i >= to)
		return i;
	if (cls[p[i]] & C_EMDOM)
		st->state = S_DOMSKIP;
	else
		email_end(st);
	return i;
}

/* Index of the next byte in p[i..n) that is a digit or '@'; n if none. */
static size_t
skip_plain(const uint8_t *p, size_t i, size_t n)
{
#ifdef __SSE2__
	const __m128i off = _mm_set1_epi8((char)0x50);
	const __m128i lim = _mm_set1_epi8((char)-118);
	const __m128i at = _mm_set1_epi8('@');
	__m128i v, m;
	unsigned mask;

	while (i + 16 <= n) {
		v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		m = _mm_or_si128(_mm_cmplt_epi8(_mm_add_epi8(v, off), lim),
		    _mm_cmpeq_epi8(v, at));
		mask = (unsigned)_mm_movemask_epi8(m);
		if (mask != 0)
			return i + (size_t)__builtin_ctz(mask);
		i += 16;
	}
#endif
	while (i < n && !(cls[p[i]] & C_DIGIT) && p[i] != '@')
		i++;
	return i;
}


/* The same, also stopping at the CSV delimiter, newline and quote. */
static size_t
skip_csv(const uint8_t *p, size_t i, size_t n, uint8_t delim)
{
#ifdef __SSE2__
	const __m128i off = _mm_set1_epi8((char)0x50);
	const __m128i lim = _mm_set1_epi8((char)-118);
	const __m128i at = _mm_set1_epi8('@');
	const __m128i dl = _mm_set1_epi8((char)delim);
	const __m128i nl = _mm_set1_epi8('\n');
	const __m128i qt = _mm_set1_epi8('"');
	__m128i v, m;
	unsigned mask;

	while (i + 16 <= n) {
		v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		m = _mm_or_si128(_mm_cmplt_epi8(_mm_add_epi8(v, off), lim),
		    _mm_cmpeq_epi8(v, at));
		m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, dl),
		    _mm_or_si128(_mm_cmpeq_epi8(v, nl),
		    _mm_cmpeq_epi8(v, qt))));
		mask = (unsigned)_mm_movemask_epi8(m);
		if (mask != 0)
			return i + (size_t)__builtin_ctz(mask);
		i += 16;
	}
#endif
	while (i < n && !(cls[p[i]] & C_DIGIT) && p[i] != '@' &&
	    p[i] != delim && p[i] != '\n' && p[i] != '"')
		i++;
	return i;
}

/* The same for HTML: digit, '@', '<' and, with gt set, '>'. */
static size_t
skip_html(const uint8_t *p, size_t i, size_t n, bool gt)
{
	uint8_t g = gt ? '>' : '<';
#ifdef __SSE2__
	const __m128i off = _mm_set1_epi8((char)0x50);
	const __m128i lim = _mm_set1_epi8((char)-118);
	const __m128i at = _mm_set1_epi8('@');
	const __m128i lt = _mm_set1_epi8('<');
	const __m128i gv = _mm_set1_epi8((char)g);
	__m128i v, m;
	unsigned mask;

	while (i + 16 <= n) {
		v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		m = _mm_or_si128(_mm_cmplt_epi8(_mm_add_epi8(v, off), lim),
		    _mm_cmpeq_epi8(v, at));
		m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, lt),
		    _mm_cmpeq_epi8(v, gv)));
		mask = (unsigned)_mm_movemask_epi8(m);
		if (mask != 0)
			return i + (size_t)__builtin_ctz(mask);
		i += 16;
	}
#endif
	while (i < n && !(cls[p[i]] & C_DIGIT) && p[i] != '@' && p[i] != '<' &&
	    p[i] != g)
		i++;
	return i;
}

/* The same for JSON rows: digit, '@', '"', ',', '[', ']' and '\\'. */
static size_t
skip_js(const uint8_t *p, size_t i, size_t n)
{
#ifdef __SSE2__
	const __m128i off = _mm_set1_epi8((char)0x50);
	const __m128i lim = _mm_set1_epi8((char)-118);
	const __m128i at = _mm_set1_epi8('@');
	const __m128i qt = _mm_set1_epi8('"');
	const __m128i cm = _mm_set1_epi8(',');
	const __m128i bs = _mm_set1_epi8('\\');
	const __m128i ob = _mm_set1_epi8('[');
	const __m128i cb = _mm_set1_epi8(']');
	__m128i v, m;
	unsigned mask;

	while (i + 16 <= n) {
		v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		m = _mm_or_si128(_mm_cmplt_epi8(_mm_add_epi8(v, off), lim),
		    _mm_cmpeq_epi8(v, at));
		m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, qt),
		    _mm_cmpeq_epi8(v, cm)));
		m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, bs),
		    _mm_or_si128(_mm_cmpeq_epi8(v, ob),
		    _mm_cmpeq_epi8(v, cb))));
		mask = (unsigned)_mm_movemask_epi8(m);
		if (mask != 0)
			return i + (size_t)__builtin_ctz(mask);
		i += 16;
	}
#endif
	while (i < n && !(cls[p[i]] & C_DIGIT) && p[i] != '@' &&
	    p[i] != '"' && p[i] != ',' && p[i] != '[' && p[i] != ']' &&
	    p[i] != '\\')
		i++;
	return i;
}

/*
 * Header cell text ends at absolute offset at (a '<' in the chunk): add
 * the words since the last '>' to the cell's hint.
 */
static void
th_text(struct det_stream *st, uint64_t at)
{
	uint8_t buf[TH_TEXT_MAX];
	size_t n;

	if (!st->th_open || at <= st->th_seg)
		return;
	if (at - st->th_seg > TH_TEXT_MAX) {
		st->row_data |= st->td_cand;	/* prose, not a header */
		return;
	}
	n = fetch_before(st, at, buf, (size_t)(at - st->th_seg));
	if (st->td_cand) {
		size_t k, d;

		/* A number in the cell: the row is data. */
		for (k = 0, d = 0; k < n; k++)
			d += buf[k] >= '0' && buf[k] <= '9';
		if (d >= 6) {
			st->row_data = true;
			return;
		}
	}
	st->th_hint |= det_ctx_words((const char *)buf, n, false);
}

/* A header cell ends (its row goes on, or a new row or table starts). */
static void
th_close(struct det_stream *st)
{
	uint16_t h = (uint16_t)(st->th_hint | DET_H_KEY | DET_H_CSV_COL);

	if (st->th_open && st->cur_col < CSV_COLS && st->th_hint != 0) {
		if (!st->td_cand)
			st->colhint[st->cur_col] = h;
		else {
			st->row_hint[st->cur_col] = h;
			st->row_any |= (st->th_hint & DET_H_TYPES) ? 3 : 1;
		}
	}
	st->th_open = false;
	st->td_cand = false;
	st->th_hint = 0;
}

/*
 * A row ends: a row of <td> cells before any row with a number, whose
 * cells name types (<td><b>NIK</b></td>), is the table's header.
 */
static void
row_end(struct det_stream *st)
{
	th_close(st);
	if ((st->row_any & 2) && !st->row_data)
		memcpy(st->colhint, st->row_hint, sizeof(st->colhint));
	if (st->row_any)
		memset(st->row_hint, 0, sizeof(st->row_hint));
	st->tbl_data |= st->row_data;
	st->row_any = 0;
	st->row_data = false;
}

/* The name of the tag just read (lower case, '/' first when closing). */
static void
html_tag(struct det_stream *st)
{
	const char *t = (const char *)st->tag;
	size_t n = st->tag_n;

	if (n == 2 && memcmp(t, "tr", 2) == 0) {
		row_end(st);
		st->in_td = false;
		st->hcol = 0;
	} else if (n == 2 && (memcmp(t, "th", 2) == 0 ||
	    memcmp(t, "td", 2) == 0)) {
		th_close(st);
		st->cur_col = st->hcol++;
		if (t[1] == 'h') {
			st->th_open = true;
			st->in_td = false;
			st->th_seg = UINT64_MAX;	/* until its '>' */
			if (st->cur_col < CSV_COLS)
				st->colhint[st->cur_col] = 0;
		} else {
			st->in_td = true;
			/* Until a row has a number, a cell may be a header. */
			if (!st->tbl_data) {
				st->th_open = true;
				st->td_cand = true;
				st->th_seg = UINT64_MAX;
			}
		}
	} else if (n == 3 && memcmp(t, "/th", 3) == 0) {
		th_close(st);
	} else if (n == 3 && memcmp(t, "/tr", 3) == 0) {
		row_end(st);
	} else if (n == 3 && memcmp(t, "/td", 3) == 0) {
		if (st->td_cand)
			th_close(st);
		st->in_td = false;
	} else if (n == 5 && memcmp(t, "table", 5) == 0) {
		row_end(st);
		memset(st->colhint, 0, sizeof(st->colhint));
		st->hcol = 0;
		st->in_td = false;
		st->tbl_data = false;
	}
}

/*
 * The compound starting with the digit at chunk index i, in state S_IDLE,
 * read in one go when it ends before to: the same runs and separators the
 * states S_DIGITS and S_SEP would read, then compound_end(). Returns the
 * index of the byte that ended it (run() goes on there in S_IDLE), or 0
 * when the compound reaches to, has a run of GROUP_LONG digits or more, or
 * would be split (MAX_GROUPS runs, MAX_DIGITS digits): run() then reads it
 * state by state (g[] and dig[] were written, but they mean nothing while
 * no compound is open: ng == 0).
 */
static size_t
compound_fast(struct det_stream *st, size_t i, size_t to)
{
	const uint8_t *p = st->chunk;
	size_t j = i, e, s;
	unsigned ng = 0, nd = 0;
	bool right_taint;
	struct group *g;
	uint8_t c;

	for (;;) {
		e = digits_end(p, j, to);
		if (e >= to || e - j >= GROUP_LONG)
			return 0;
		g = &st->g[ng++];
		g->start = st->base + j;
		g->end = st->base + e;
		g->off = (uint8_t)nd;
		g->nd = g->kept = (uint8_t)(e - j);
		if (j + DIG_SLACK <= st->clen)
			memcpy(st->dig + nd, p + j, DIG_SLACK);
		else
			memcpy(st->dig + nd, p + j, e - j);
		nd += (unsigned)(e - j);
		c = p[e];
		if (!(cls[c] & C_SEP)) {
			right_taint = (cls[c] & C_WORD) || c == '@';
			j = e;
			break;
		}
		for (s = e; s < to && (cls[p[s]] & C_SEP) && s - e < MAX_SEP;
		    s++)
			;
		if (s >= to)
			return 0;
		if (!(cls[p[s]] & C_DIGIT)) {
			right_taint = false;
			j = s;
			break;
		}
		if (ng == MAX_GROUPS || nd + GROUP_LONG > MAX_DIGITS)
			return 0;
		j = s;
	}
	if (st->pend)
		pend_resolve(st, st->base + i);
	/*
	 * Fewer than 10 digits: nothing to evaluate (every length and the
	 * NITKU need more) but a passport, one run of 7 after a letter.
	 */
	if (nd < 10 && (ng > 1 || nd != 7 || right_taint))
		return j;
	compound_open(st, i);
	st->ng = ng;
	st->nd = nd;
	compound_end(st, right_taint);
	return j;
}

/*
 * One run of nd digits at chunk index i, evaluated as compound_end()
 * would (a waiting finding was resolved); it ends at chunk index i + nd.
 */
HOT_INLINE void
number_one(struct det_stream *st, size_t i, size_t nd, bool right_taint)
{
	const uint8_t *p = st->chunk;
	char buf[VALUE_COPY];
	const char *d;
	unsigned h;
	bool plus;
	uint8_t c;

	if (nd < 10 || nd > 19 || right_taint) {
		if (nd != 7 || right_taint)
			return;
		/* A passport shape: the general path. */
		compound_open(st, i);
		st->g[0].start = st->base + i;
		st->g[0].end = st->base + i + 7;
		st->g[0].off = 0;
		st->g[0].nd = st->g[0].kept = 7;
		memcpy(st->dig, p + i, 7);
		st->ng = 1;
		st->nd = 7;
		compound_end(st, false);
		return;
	}
	/*
	 * A compact JSON value whose key is in the cache: the key is its
	 * context (what compound_ctx() would find), the quote before it
	 * neither taints it nor is a '+', and nothing else is needed.
	 */
	if (i >= DET_CTX_JSON_MIN && i + VALUE_COPY <= st->clen &&
	    (h = det_ctx_json_key(p + i, &st->kcache)) != 0) {
		/*
		 * A key's hint has DET_H_KEY and its flags: emit() and
		 * ctx_flags() see so.
		 */
		(void)try_digits(st, (const char *)p + i, (unsigned)nd,
		    st->base + i, st->base + i + nd, false, 1,
		    (int)((h & 0xffffff) | DET_H_KEY | DET_H_HASF));
		return;
	}
	/* The byte before: a letter, '_' or '@' taints it, '+' is its own. */
	if (i > 0)
		c = p[i - 1];
	else if (st->hist_len > 0)
		c = st->hist[st->hist_len - 1];
	else
		c = ' ';
	if ((cls[c] & C_WORD) || c == '@' ||
	    (c == '-' && hex_id_tail(st, i)))
		return;
	plus = c == '+';
	compound_ctx(st, i);
	st->lflags = plus ? L_PLUS : 0;
	if (i + VALUE_COPY <= st->clen)
		d = (const char *)p + i;
	else {
		memcpy(buf, p + i, nd);
		d = buf;
	}
	(void)try_digits(st, d, (unsigned)nd, st->base + i - (plus ? 1 : 0),
	    st->base + i + nd, plus, 1, st->hint);
	st->hint = -1;
}

/* Bits set in x (no popcnt instruction in the x86-64 baseline). */
static inline unsigned
pop32(uint32_t x)
{
	x = x - ((x >> 1) & 0x55555555u);
	x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
	x = (x + (x >> 4)) & 0x0f0f0f0fu;
	return (x * 0x01010101u) >> 24;
}

#ifdef __SSE2__
#define WIN	32	/* bytes number_fast() classifies at once */

/* Bit k set when p[k] is a digit (a) or a separator (s), k < 32. */
static inline uint32_t
digit_mask32(const uint8_t *p)
{
	const __m128i off = _mm_set1_epi8((char)0x50);
	const __m128i lim = _mm_set1_epi8((char)-118);
	__m128i a, b;

	a = _mm_loadu_si128((const __m128i *)(const void *)p);
	b = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
	return (uint32_t)_mm_movemask_epi8(_mm_cmplt_epi8(_mm_add_epi8(a, off),
	    lim)) | (uint32_t)_mm_movemask_epi8(_mm_cmplt_epi8(_mm_add_epi8(b,
	    off), lim)) << 16;
}

static inline uint32_t
sep16(__m128i v)
{
	__m128i m;

	m = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')),
	    _mm_cmpeq_epi8(v, _mm_set1_epi8('.')));
	m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('-')));
	m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('(')));
	m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8(')')));
	m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('+')));
	/* The UTF-8 separators' bytes (cls_init()). */
	m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0xc2)));
	m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0xa0)));
	m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0xe2)));
	m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0x80)));
	m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0x91)));
	m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0x93)));
	return (uint32_t)_mm_movemask_epi8(m);
}

static inline uint32_t
sep_mask32(const uint8_t *p)
{
	return sep16(_mm_loadu_si128((const __m128i *)(const void *)p)) |
	    sep16(_mm_loadu_si128((const __m128i *)(const void *)(p + 16))) <<
	    16;
}

/* Where the 8 bytes before a number keep its shape. */
static inline unsigned
shape_slot(uint64_t tag)
{
	return (unsigned)((tag * 0x9e3779b97f4a7c15ULL) >> 60);
}

_Static_assert(SHAPES == 16, "shape_slot() takes the top 4 bits");

/* 0xff in each byte of v that is a digit. */
static inline __m128i
digit16(__m128i v)
{
	return _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)0x50)),
	    _mm_set1_epi8((char)-118));
}

/*
 * Remember the shape of the number at chunk index i that number_fast()
 * read in its window: it ended at i + z; dm its digits (bits below z);
 * SH_DROP, or SH_WHOLE with ng runs (gs, gn) of n digits in all.
 */
static void
shape_put(struct det_stream *st, size_t i, unsigned z, uint32_t dm, int kind,
    unsigned ng, const uint8_t *gs, const uint8_t *gn, unsigned n)
{
	const uint8_t *p = st->chunk + i;
	const __m128i zero = _mm_set1_epi8('0');
	struct shape *sh;
	uint64_t tag;
	__m128i v, d;
	int k;

	if (i < 8 || z >= WIN)
		return;
	memcpy(&tag, p - 8, 8);
	sh = &st->shape[shape_slot(tag)];
	sh->tag = tag;
	for (k = 0; k < 2; k++) {
		v = _mm_loadu_si128((const __m128i *)(const void *)
		    (p + 16 * k));
		d = digit16(v);
		_mm_storeu_si128((__m128i *)(void *)(sh->img + 16 * k),
		    _mm_or_si128(_mm_andnot_si128(d, v),
		    _mm_and_si128(d, zero)));
	}
	sh->care = (2u << z) - 1;
	sh->dm = dm;
	sh->kind = (uint8_t)kind;
	sh->z = (uint8_t)z;
	sh->ng = (uint8_t)ng;
	sh->n = (uint8_t)n;
	sh->run8 = 1;
	for (k = 0, n = 0; k < (int)ng; k++) {
		sh->gs[k] = gs[k];
		sh->gd[k] = (uint8_t)n;
		n += gn[k];
		sh->end = (uint8_t)(gs[k] + gn[k]);
		if (gn[k] > 8)
			sh->run8 = 0;
	}
}

/*
 * A number read whole by its shape sh at chunk index i (number_shape()):
 * its runs' digits in order, tried with the context number_fast() gives
 * it. Returns where it ends, or 0 when it is not one as a whole.
 */
static __attribute__((noinline)) size_t
shape_whole(struct det_stream *st, size_t i, const struct shape *sh)
{
	const uint8_t *p = st->chunk;
	char d[GROUP_LONG + DIG_SLACK];
	unsigned k, ng = sh->ng, kh;
	bool plus;

	/*
	 * DIG_SLACK (or 8) bytes a run: the bytes after a run's digits are
	 * overwritten by the next run's (a run has fewer than 19).
	 */
	if (sh->run8 && i + WIN + 8 <= st->clen)
		for (k = 0; k < ng; k++)
			memcpy(d + sh->gd[k], p + i + sh->gs[k], 8);
	else if (i + WIN + DIG_SLACK <= st->clen)
		for (k = 0; k < ng; k++)
			memcpy(d + sh->gd[k], p + i + sh->gs[k], DIG_SLACK);
	else
		for (k = 0; k < ng; k++)
			memcpy(d + sh->gd[k], p + i + sh->gs[k],
			    (k + 1 < ng ? sh->gd[k + 1] : sh->n) - sh->gd[k]);
	if (i >= DET_CTX_JSON_MIN &&
	    (kh = det_ctx_json_key(p + i, &st->kcache)) != 0) {
		/*
		 * "key":" before it (no '+'): the key's hint, with DET_H_KEY
		 * and its flags, as number_one() passes it.
		 */
		st->lflags = 0;
		if (!try_digits(st, d, sh->n, st->base + i, st->base + i +
		    sh->end, false, ng, (int)((kh & 0xffffff) | DET_H_KEY |
		    DET_H_HASF)))
			return 0;
		return i + sh->z;
	}
	plus = p[i - 1] == '+';
	compound_ctx(st, i);
	st->lflags = plus ? L_PLUS : 0;
	if (!try_digits(st, d, sh->n, st->base + i - (plus ? 1 : 0),
	    st->base + i + sh->end, plus, ng, st->hint))
		return 0;
	st->hint = -1;
	return i + sh->z;
}

/*
 * The number of several runs at chunk index i (state S_IDLE, 8 <= i, i +
 * WIN <= the chunk's end) when its 8 bytes before and its shape are those
 * number_fast() remembered: what number_fast() does for it, without
 * finding its runs again. Returns the index where it ends, or 0 when the
 * shape is not known or the number was not one as a whole (number_fast()
 * then reads it; nothing was reported).
 */
static inline size_t
number_shape(struct det_stream *st, size_t i)
{
	const uint8_t *p = st->chunk;
	const struct shape *sh;
	uint64_t tag;
	uint32_t dm, eq;
	__m128i a, b;

	memcpy(&tag, p + i - 8, 8);
	sh = &st->shape[shape_slot(tag)];
	if (sh->kind == SH_NONE || sh->tag != tag)
		return 0;
	a = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
	dm = (uint32_t)_mm_movemask_epi8(digit16(a));
	eq = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a,
	    _mm_loadu_si128((const __m128i *)(const void *)sh->img)));
	/* A shape that ends in its first 16 bytes (a date) needs no more. */
	if (sh->care >> 16) {
		b = _mm_loadu_si128((const __m128i *)(const void *)(p + i +
		    16));
		dm |= (uint32_t)_mm_movemask_epi8(digit16(b)) << 16;
		eq |= (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b,
		    _mm_loadu_si128((const __m128i *)(const void *)
		    (sh->img + 16)))) << 16;
	}
	/* A digit where it had one, else the same byte ('0' is a digit). */
	if ((((dm & sh->dm) | eq) & sh->care) != sh->care)
		return 0;
	if (st->pend)
		pend_resolve(st, st->base + i);
	if (sh->kind == SH_DROP)
		return i + sh->z;
	return shape_whole(st, i, sh);
}
#endif

/*
 * The number starting with the digit at chunk index i, in state S_IDLE,
 * read in one go when it ends before to: compound_fast() with the same
 * return values, but the runs are found as bit masks over the 32 bytes
 * from i, a number of one run (the common case: a NIK, phone or id in a
 * JSON value, a CSV cell, a sentence) is evaluated without the compound's
 * run table (number_one()), and one of fewer than 10 digits that cannot
 * be a passport (dates, times, amounts) is dropped before anything is
 * stored. A number reaching past the 32 bytes goes to compound_fast().
 */
static size_t
number_fast(struct det_stream *st, size_t i, size_t to)
{
	const uint8_t *p = st->chunk;
	size_t e, s, nd;
	bool right_taint;
	uint8_t c;
#ifdef __SSE2__
	uint8_t gs[MAX_GROUPS], gn[MAX_GROUPS];
	char d[GROUP_LONG + DIG_SLACK];	/* < GROUP_LONG digits, copies */
	uint32_t dm, sm, x;
	unsigned k, ng, n, z, kh;
	bool room;

	if (i + WIN <= to) {
		dm = digit_mask32(p + i);
		nd = dm == UINT32_MAX ? WIN : (size_t)__builtin_ctz(~dm);
		if (nd >= GROUP_LONG)
			return 0;
		c = p[i + nd];
		if (!(cls[c] & C_SEP)) {
			right_taint = (cls[c] & C_WORD) || c == '@';
			s = i + nd;
			goto one;
		}
		/* One separator, then a word ("4 Juni"): it ends there. */
		c = p[i + nd + 1];
		if (!(cls[c] & (C_SEP | C_DIGIT))) {
			right_taint = false;
			s = i + nd + 1;
			goto one;
		}
		/*
		 * Separators follow: the number goes on to z, the first byte
		 * that is neither a digit nor a separator, unless four
		 * separators in a row end it sooner (compound_fast() then).
		 */
		sm = sep_mask32(p + i);
		if ((dm | sm) == UINT32_MAX)
			return compound_fast(st, i, to);
		z = (unsigned)__builtin_ctz(~(dm | sm));
		dm &= (1u << z) - 1;
		sm &= (1u << z) - 1;
		if (sm & (sm >> 1) & (sm >> 2) & (sm >> 3))
			return compound_fast(st, i, to);
		/* Separators last end it; else the byte at z may taint. */
		c = p[i + z];
		right_taint = (dm >> (z - 1) & 1) &&
		    ((cls[c] & C_WORD) || c == '@');
		x = dm & ~(dm << 1);		/* where runs start */
		if ((x & (x - 1)) == 0) {
			s = i + z;
			goto one;
		}
		/*
		 * Several runs of fewer than 10 digits (dates, times): nothing
		 * to evaluate, unless there are more than MAX_GROUPS of them.
		 */
		if ((n = pop32(dm)) < 10) {
			if (n == 9 && pop32(x) > MAX_GROUPS)
				return 0;
			if (st->pend)
				pend_resolve(st, st->base + i);
			shape_put(st, i, z, dm, SH_DROP, 0, NULL, NULL, 0);
			return i + z;
		}
		if (n >= GROUP_LONG)
			return compound_fast(st, i, to);
		/* The runs: where each starts (from i), its digits, copied. */
		room = i + WIN + DIG_SLACK <= st->clen;
		for (ng = 0, n = 0; x != 0; x &= x - 1) {
			if (ng == MAX_GROUPS)
				return 0;
			gs[ng] = (uint8_t)__builtin_ctz(x);
			gn[ng] = (uint8_t)__builtin_ctz(~(dm >> gs[ng]));
			if (room) {
				/* Runs of more than 16 digits are rare. */
				memcpy(d + n, p + i + gs[ng], 16);
				if (gn[ng] > 16)
					memcpy(d + n + 16, p + i + gs[ng] + 16,
					    DIG_SLACK - 16);
			} else
				memcpy(d + n, p + i + gs[ng], gn[ng]);
			n += gn[ng++];
		}
		if (st->pend)
			pend_resolve(st, st->base + i);
		/*
		 * Untainted and short enough, the whole number is what
		 * compound_end() tries first; when it is one, that is all.
		 */
		c = i > 0 ? p[i - 1] : st->hist_len > 0 ?
		    st->hist[st->hist_len - 1] : ' ';
		if (n <= 19 && !right_taint && !(cls[c] & C_WORD) && c != '@' &&
		    !(c == '-' && hex_id_tail(st, i))) {
			bool plus = c == '+';

			/* The key of a JSON value is all the context needed. */
			if (i >= DET_CTX_JSON_MIN &&
			    (kh = det_ctx_json_key(p + i, &st->kcache)) != 0)
				st->hint = (int)kh;
			else
				compound_ctx(st, i);
			st->lflags = plus ? L_PLUS : 0;
			if (try_digits(st, d, n, st->base + i - (plus ? 1 : 0),
			    st->base + i + gs[ng - 1] + gn[ng - 1], plus, ng,
			    st->hint)) {
				st->hint = -1;
				shape_put(st, i, z, dm, SH_WHOLE, ng, gs, gn,
				    n);
				return i + z;
			}
		}
		for (k = 0, n = 0; k < ng; k++) {
			struct group *g = &st->g[k];

			g->start = st->base + i + gs[k];
			g->end = g->start + gn[k];
			g->off = (uint8_t)n;
			g->nd = g->kept = gn[k];
			if (i + gs[k] + DIG_SLACK <= st->clen)
				memcpy(st->dig + n, p + i + gs[k], DIG_SLACK);
			else
				memcpy(st->dig + n, p + i + gs[k], gn[k]);
			n += gn[k];
		}
		compound_open(st, i);
		st->ng = ng;
		st->nd = n;
		compound_end(st, right_taint);
		return i + z;
	}
#endif
	e = digits_end(p, i, to);
	if (e >= to || (nd = e - i) >= GROUP_LONG)
		return 0;
	c = p[e];
	s = e;
	if (cls[c] & C_SEP) {
		for (; s < to && (cls[p[s]] & C_SEP) && s - e < MAX_SEP; s++)
			;
		if (s >= to)
			return 0;
		if (cls[p[s]] & C_DIGIT)
			return compound_fast(st, i, to);
		right_taint = false;
	} else
		right_taint = (cls[c] & C_WORD) || c == '@';
#ifdef __SSE2__
one:
#endif
	if (st->pend)
		pend_resolve(st, st->base + i);
	number_one(st, i, nd, right_taint);
	return s;
}

#ifdef __SSE2__
/*
 * Digits of 16 bytes as 0xff: '0'-'9' + 0x46 are 0x76-0x7f, the only
 * bytes above 0x75 as signed (the rest wrap below), so one add and one
 * compare against a constant, v kept for the next test.
 */
static inline __m128i
digit16_hi(__m128i v)
{
	return _mm_cmpgt_epi8(_mm_add_epi8(v, _mm_set1_epi8(0x46)),
	    _mm_set1_epi8(0x75));
}

/*
 * The digits of p[0..64) as a mask (bit k: p[k]); *am gets the '@'s, found
 * by one test of the four vectors first: most blocks have none.
 */
static inline uint64_t
block64(const uint8_t *p, uint64_t *am)
{
	const __m128i at = _mm_set1_epi8('@');
	__m128i v0, v1, v2, v3, a0, a1, a2, a3;
	uint64_t dm;

	v0 = _mm_loadu_si128((const __m128i *)(const void *)p);
	v1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
	v2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
	v3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
	dm = (uint64_t)(uint32_t)_mm_movemask_epi8(digit16_hi(v0)) |
	    (uint64_t)(uint32_t)_mm_movemask_epi8(digit16_hi(v1)) << 16 |
	    (uint64_t)(uint32_t)_mm_movemask_epi8(digit16_hi(v2)) << 32 |
	    (uint64_t)(uint32_t)_mm_movemask_epi8(digit16_hi(v3)) << 48;
	a0 = _mm_cmpeq_epi8(v0, at);
	a1 = _mm_cmpeq_epi8(v1, at);
	a2 = _mm_cmpeq_epi8(v2, at);
	a3 = _mm_cmpeq_epi8(v3, at);
	if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a0, a1),
	    _mm_or_si128(a2, a3))) == 0)
		*am = 0;
	else
		*am = (uint64_t)(uint32_t)_mm_movemask_epi8(a0) |
		    (uint64_t)(uint32_t)_mm_movemask_epi8(a1) << 16 |
		    (uint64_t)(uint32_t)_mm_movemask_epi8(a2) << 32 |
		    (uint64_t)(uint32_t)_mm_movemask_epi8(a3) << 48;
	return dm;
}

#ifdef HAVE_BLOCK64_AVX2
/*
 * block64() on two 32-byte vectors (det_scan_avx2): out of line, the rest
 * of the scanner is built for the x86-64 baseline.
 */
static __attribute__((target("avx2"), noinline)) uint64_t
block64_avx2(const uint8_t *p, uint64_t *am)
{
	const __m256i at = _mm256_set1_epi8('@');
	const __m256i off = _mm256_set1_epi8(0x46);
	const __m256i lim = _mm256_set1_epi8(0x75);
	__m256i v0, v1;

	v0 = _mm256_loadu_si256((const __m256i *)(const void *)p);
	v1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
	*am = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v0,
	    at)) | (uint64_t)(uint32_t)_mm256_movemask_epi8(
	    _mm256_cmpeq_epi8(v1, at)) << 32;
	return (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpgt_epi8(
	    _mm256_add_epi8(v0, off), lim)) |
	    (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpgt_epi8(
	    _mm256_add_epi8(v1, off), lim)) << 32;
}
#endif
#endif

/*
 * Plain text and JSON (no CSV or HTML mode) in state S_IDLE from chunk
 * index i: numbers (number_fast()) and e-mail addresses are read here.
 * Returns to, the index of a number the state machine has to read (cut by
 * the end of the chunk, or a run of GROUP_LONG digits), or where an
 * address stopped that is not done (state S_DOMAIN or S_DOMSKIP).
 */
static size_t
scan_plain(struct det_stream *st, size_t i, size_t to)
{
	const uint8_t *p = st->chunk;
	size_t e;
#ifdef __SSE2__
	const uint8_t *q;
	uint64_t dm, am, sm, x;
	size_t b, k;
	bool rt = false;
	uint8_t c;

	/*
	 * The digits and '@' of 64 bytes as masks, kept while the scan is in
	 * them: the next stop is a shift and a count, not new loads. k is
	 * where the scan is in the block (q = p + b).
	 */
	while (i + 64 <= to) {
		b = i;
		q = p + b;
#ifdef HAVE_BLOCK64_AVX2
		if (det_scan_avx2)
			dm = block64_avx2(q, &am);
		else
#endif
			dm = block64(q, &am);
		sm = dm | am;
		k = 0;
		while ((x = sm >> k) != 0) {
			k += (size_t)__builtin_ctzll(x);
			if (!((am >> k) & 1)) {
				/*
				 * One run, in the block, that ends the number
				 * (a NIK in JSON, an amount, "4 Juni"): its
				 * length is in the mask, number_one()
				 * evaluates it, as number_fast() would.
				 */
				x = ~(dm >> k);
				e = x != 0 ? (size_t)__builtin_ctzll(x) : 64;
				if (e < GROUP_LONG && k + e < 63) {
					c = q[k + e];
					if (c == '@') {
						/*
						 * "user42@": a tainted run
						 * (number_one() drops it), then
						 * the address.
						 */
						if (st->pend)
							pend_resolve(st,
							    st->base + b + k);
						k += e;
						goto at;
					}
					if (!(cls[c] & C_SEP)) {
						rt = (cls[c] & C_WORD) != 0;
						x = 0;
					} else if (!(cls[q[k + e + 1]] &
					    (C_SEP | C_DIGIT))) {
						rt = false;
						x = 1;	/* a separator */
					}
					if (x <= 1) {
						if (st->pend)
							pend_resolve(st,
							    st->base + b + k);
						number_one(st, b + k, e, rt);
						k += e + x;
						if (k >= 64)
							break;
						continue;
					}
				} else if (e >= REBASE_MIN && e < GROUP_LONG &&
				    b + k + 64 <= to) {
					/*
					 * Cut by the block's end: a block
					 * from here.
					 */
					i = b + k;
					goto next;
				}
				i = b + k;
				/* A format seen before under the same key. */
				if (i + WIN <= to && i >= 8 &&
				    (e = number_shape(st, i)) != 0)
					i = e;
				else if ((e = number_fast(st, i, to)) == 0)
					return i;
				else
					i = e;
			} else {
at:
				/* '@': the address is read here too. */
				i = b + k;
				if ((e = email_fast(st, i, to)) != 0)
					i = e;
				else {
					email_start(st, i++);
					if (st->state == S_DOMAIN &&
					    (i = email_domain(st, i, to),
					    st->state != S_IDLE))
						return i;
				}
			}
			if ((k = i - b) >= 64)
				break;
		}
		i = b + (k > 64 ? k : 64);
next:
		;
	}
#endif
	for (;;) {
		i = skip_plain(p, i, to);
		if (i >= to)
			return i;
		if (p[i] == '@') {
			email_start(st, i++);
			if (st->state == S_DOMAIN &&
			    (i = email_domain(st, i, to), st->state != S_IDLE))
				return i;
			continue;
		}
		if ((e = number_fast(st, i, to)) == 0)
			return i;
		i = e;
	}
}

/* st->tbl after a change of csv, html or js. */
static void
tbl_update(struct det_stream *st)
{
	st->tbl = st->csv > 0 || st->html > 0 || st->js > 0;
}

/* A JSON document of rows turns out not to be one. */
static void
js_off(struct det_stream *st)
{
	/* Names are kept only in the header row and after it. */
	if (st->js == 1 || st->js == 2)
		memset(st->colhint, 0, sizeof(st->colhint));
	st->js = -1;
	tbl_update(st);
}

/*
 * The first key of a JSON object that names its columns ({"columns":
 * [...], "rows": [[...], ...]}, pandas' "split" orient).
 */
static bool
js_cols_key(const uint8_t *k, size_t n)
{
	static const char *const keys[] = { "columns", "fields", "header",
	    "headers", "cols", "kolom", NULL };

	return det_word_in(k, n, keys);
}

/*
 * JSON structure byte c at chunk index i of a document that may be rows
 * under a header: strings, escapes, brackets and the commas between the
 * elements of a row. The header is the document's first row ([[names],
 * [row], ...]: names at depth 2) or the array of its first key ({"columns":
 * [names], ...: depth 1); rows are arrays at depth 2 after it.
 */
static void
js_byte(struct det_stream *st, size_t i)
{
	uint64_t at = st->base + i;
	uint8_t c = st->chunk[i], buf[CSV_HDR_CELL];
	unsigned h, hd = st->jobj ? 1 : 2;
	size_t n;

	if (at == st->jesc)
		return;
	if (c == '\\') {
		if (st->jinq)
			st->jesc = at + 1;
		return;
	}
	if (c == '"') {
		st->jinq = !st->jinq;
		if (st->jinq) {
			st->jstr = at + 1;
			return;
		}
		n = (size_t)(at - st->jstr);
		if (st->js == 3) {
			/* The object's first key. */
			if (n <= 8 && (fetch_before(st, at, buf, n),
			    js_cols_key(buf, n)))
				st->js = 4;
			else
				js_off(st);
			return;
		}
		if (st->js != 1 || st->jdepth != (int)hd)
			return;
		/* A column name: short, and said once per column. */
		if (n > CSV_HDR_CELL || st->jcol >= CSV_COLS) {
			js_off(st);
			return;
		}
		n = fetch_before(st, at, buf, n);
		h = det_ctx_words((const char *)buf, n, false);
		if (h != 0)
			st->colhint[st->jcol] = (uint16_t)(h | DET_H_KEY |
			    DET_H_CSV_COL);
		return;
	}
	if (st->jinq)
		return;
	if (st->js == 4 && c != '[') {
		js_off(st);		/* the key holds no list */
		return;
	}
	if (c == '[') {
		if (st->js == 4)
			st->js = 1;
		if (++st->jdepth > (int)hd && st->js == 1)
			js_off(st);		/* not a row of names */
		else if (st->jdepth == (int)hd || st->jdepth == 2)
			st->jcol = 0;
	} else if (c == ']') {
		if (st->jdepth == (int)hd && st->js == 1) {
			for (h = 0, n = 0; n < CSV_COLS; n++)
				h |= st->colhint[n];
			if (h & DET_H_TYPES)
				st->js = 2;
			else
				js_off(st);
		}
		if (--st->jdepth <= 0 && !st->jobj)
			js_off(st);
	} else if (c == ',' && st->jdepth == (st->js == 1 ? (int)hd : 2))
		st->jcol++;
}

/*
 * A CSV line ends at chunk index i. A fixed-width table ends at an empty
 * line.
 */
static void
csv_line(struct det_stream *st, size_t i)
{
	uint64_t at = st->base + i;

	st->col = 0;
	if (st->csv == 2 && at - st->line_at <= 1) {
		st->csv = -1;
		tbl_update(st);
	}
	st->line_at = at + 1;
}

/* Run the state machine over chunk[from..to). */
static void
run(struct det_stream *st, size_t from, size_t to)
{
	const uint8_t *p = st->chunk;
	size_t i = from, e;
	struct group *g;
	uint8_t c;

	/*
	 * A transition to S_DIGITS, S_SEP or S_IDLE jumps straight to the
	 * state's code (state is set first, as the switch would see it).
	 */
	while (i < to) {
		switch (st->state) {
		case S_IDLE:
idle:
			if (!st->tbl) {
				/* It stops at a number or domain it leaves. */
				i = scan_plain(st, i, to);
				if (st->state != S_IDLE || i >= to)
					break;
				group_start(st, i, false);
				goto digits;
			}
			if (st->csv > 0)
				i = skip_csv(p, i, to, st->delim);
			else if (st->html > 0)
				i = skip_html(p, i, to, st->th_open);
			else
				i = skip_js(p, i, to);
			if (i >= to)
				break;
			c = p[i];
			if (cls[c] & C_DIGIT) {
				if (st->js == 1 || st->js >= 3)
					js_off(st);	/* data, not names */
				e = number_fast(st, i, to);
				if (e != 0) {
					i = e;		/* < to */
					goto idle;
				}
				group_start(st, i, false);
				goto digits;
			} else if (c == '@') {
				email_start(st, i);
				i++;
			} else if (st->html > 0 && c == '<') {
				th_text(st, st->base + i);
				st->th_seg = UINT64_MAX;
				st->tag_n = 0;
				st->state = S_TAG;
				i++;
			} else if (st->html > 0 && c == '>') {
				if (st->th_open)
					st->th_seg = st->base + i + 1;
				i++;
			} else if (st->csv <= 0) {
				js_byte(st, i);
				i++;
			} else {
				/* CSV structure (no quotes in fixed width). */
				if (c == '"' && st->csv == 1)
					st->inq = !st->inq;
				else if (!st->inq && c == '\n')
					csv_line(st, i);
				else if (!st->inq && c == st->delim)
					st->col++;
				i++;
			}
			break;
		case S_DIGITS: {
			size_t j, take, room;
digits:
			g = &st->g[st->ng - 1];
			j = digits_end(p, i, to);
			take = j - i;
			room = GROUP_LONG - g->kept;
			if (room > MAX_DIGITS - st->nd)
				room = MAX_DIGITS - st->nd;
			if (take < room)
				room = take;
			/* room <= GROUP_LONG == DIG_SLACK: one fixed-size copy. */
			if (i + DIG_SLACK <= st->clen)
				memcpy(st->dig + st->nd, p + i, DIG_SLACK);
			else
				memcpy(st->dig + st->nd, p + i, room);
			st->nd += (unsigned)room;
			g->kept = (uint8_t)(g->kept + room);
			g->nd = (uint8_t)(g->nd + take > 255 ? 255 : g->nd + take);
			i = j;
			if (i >= to)
				break;
			g->end = st->base + i;
			c = p[i];
			if (cls[c] & C_SEP) {
				st->state = S_SEP;
				st->sep_n = 0;
				goto sep;
			}
			compound_end(st, (cls[c] & C_WORD) || c == '@');
			goto idle;
		}
		case S_SEP:
sep:
			while (i < to && (cls[p[i]] & C_SEP) &&
			    st->sep_n < MAX_SEP) {
				st->sep_n++;
				i++;
			}
			if (i >= to)
				break;
			if (cls[p[i]] & C_DIGIT) {
				group_start(st, i, true);
				goto digits;
			}
			compound_end(st, false);
			goto idle;
		case S_DOMAIN:
			i = email_domain(st, i, to);
			break;
		case S_TAG:
			while (i < to && st->tag_n < sizeof(st->tag) &&
			    ((cls[p[i]] & C_WORD) || (p[i] == '/' &&
			    st->tag_n == 0))) {
				st->tag[st->tag_n++] = (uint8_t)(p[i] | 0x20);
				i++;
			}
			if (i >= to)
				break;
			html_tag(st);
			st->state = S_IDLE;
			break;
		case S_DOMSKIP:
			while (i < to && (cls[p[i]] & C_EMDOM))
				i++;
			if (i < to)
				st->state = S_IDLE;
			break;
		default:
			abort();
		}
	}
}

/*
 * CSV mode: a header line naming identifier columns, the first line or one
 * of the first CSV_HDR_LINES after title rows ("DAFTAR PENERIMA BLT 2024",
 * "sep=;", blank lines, a row of empty cells). A line that is data (a
 * digit-heavy cell) or structure (JSON, HTML, "key: value") ends the search.
 * After the first line a header's cells must be short: prose with commas is
 * not a header.
 */
#define CSV_HDR_LINES	6

/* An odd number of quotes: a quoted cell is still open. */
static bool
quote_open(const char *p, size_t n)
{
	size_t i;
	bool q = false;

	for (i = 0; i < n; i++)
		if (p[i] == '"')
			q = !q;
	return q;
}

/*
 * A header of a table aligned with blanks: two or more cells apart by two
 * or more blanks, short, without numbers, one naming a type. Sets csv to 2
 * with the cells' hints and where they start.
 */
static bool
fixed_header(struct det_stream *st, const char *p, size_t n)
{
	uint16_t hint[CSV_COLS], pos[CSV_COLS];
	unsigned col = 0, any = 0, h;
	size_t i = 0, s, e, k;

	while (i < n && col < CSV_COLS) {
		while (i < n && p[i] == ' ')
			i++;
		if (i >= n)
			break;
		/* A cell: words apart by single blanks. */
		for (s = i, e = i; i < n && p[i] != '\t' &&
		    (p[i] != ' ' || (i + 1 < n && p[i + 1] != ' ')); i++)
			if (p[i] != ' ')
				e = i + 1;
		if (e - s > CSV_HDR_CELL || e - s == 0)
			return false;
		for (k = s; k < e; k++)
			if (p[k] >= '0' && p[k] <= '9')
				return false;
		h = det_ctx_words(p + s, e - s, false);
		hint[col] = (uint16_t)(h != 0 ? h | DET_H_KEY | DET_H_CSV_COL :
		    0);
		pos[col++] = (uint16_t)s;
		any |= h;
	}
	if (col < 2 || !(any & DET_H_TYPES))
		return false;
	memset(st->colhint, 0, sizeof(st->colhint));
	memcpy(st->colhint, hint, col * sizeof(hint[0]));
	memcpy(st->colpos, pos, col * sizeof(pos[0]));
	st->ncols = col;
	st->csv = 2;
	st->delim = '\n';
	st->col = 0;
	st->inq = false;
	return true;
}

static void
csv_header(struct det_stream *st)
{
	static const uint8_t delims[] = { ',', ';', '\t', '|' };
	size_t i, n = st->hdr_len, best = 0, cnt, k, s, e;
	unsigned col, h, any = 0;
	uint8_t dl = 0;
	const char *p = st->hdr;
	bool more = ++st->hdr_lines < CSV_HDR_LINES;

	st->csv = -1;
	st->hdr_len = 0;
	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n'))
		n--;
	if (n >= 3 && n <= 5 && memcmp(p, "sep=", 4) == 0) {
		st->csv = more ? 0 : -1;	/* Excel's delimiter line */
		return;
	}
	/* A ':' ending the line introduces what follows ("Data RT 05:"). */
	for (e = n; e > 0 && (p[e - 1] == ' ' || p[e - 1] == '\t'); e--)
		;
	for (i = 0; i < n; i++)
		if ((strchr("{}[]<>:=", p[i]) != NULL || p[i] == '\0') &&
		    !(p[i] == ':' && i + 1 == e))
			return;
	for (k = 0; k < sizeof(delims); k++) {
		bool q = false;

		cnt = 0;
		for (i = 0; i < n; i++) {
			if (p[i] == '"')
				q = !q;
			else if (!q && (uint8_t)p[i] == delims[k])
				cnt++;
		}
		if (cnt > best) {
			best = cnt;
			dl = delims[k];
		}
	}
	if (best == 0 && fixed_header(st, p, n))
		return;
	if (best == 0) {
		/* A title or a blank line: the header may follow. */
		for (i = 0, cnt = 0; i < n; i++)
			if (p[i] >= '0' && p[i] <= '9')
				cnt++;
		if (cnt < 6 && more)
			st->csv = 0;
		return;
	}
	memset(st->colhint, 0, sizeof(st->colhint));
	for (s = 0, col = 0; s <= n && col < CSV_COLS; col++) {
		bool q = false;

		/* A quoted cell may hold the delimiter and line breaks. */
		for (e = s; e < n && (q || (uint8_t)p[e] != dl); e++)
			if (p[e] == '"')
				q = !q;
		/* After the first line, a long cell is prose. */
		if (st->hdr_lines > 1 && e - s > CSV_HDR_CELL)
			return;
		h = det_ctx_words(p + s, e - s, false);
		/* A digit-heavy cell: this is data, not a header. */
		for (i = s, cnt = 0; i < e; i++)
			if (p[i] >= '0' && p[i] <= '9')
				cnt++;
		if (cnt >= 6)
			return;
		if (h != 0)
			st->colhint[col] = (uint16_t)(h | DET_H_KEY |
			    DET_H_CSV_COL);
		any |= h & DET_H_TYPES;
		s = e + 1;
	}
	if (any == 0) {
		if (more)
			st->csv = 0;	/* "Rekap Pegawai;;" */
		return;
	}
	st->csv = 1;
	st->delim = dl;
	st->col = 0;
	st->inq = false;
}

/*
 * What the document is, from its first bytes that are not blank: HTML
 * ('<'), text that may turn HTML (anything else but JSON), a JSON array
 * whose rows may have a header row ('[' then '[').
 */
static void
sniff(struct det_stream *st, const uint8_t *p, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++) {
		if (p[k] == ' ' || p[k] == '\t' || p[k] == '\r' ||
		    p[k] == '\n' || p[k] == 0xef || p[k] == 0xbb ||
		    p[k] == 0xbf)
			continue;
		if (st->js == -2) {
			/* The first '[' was run already unless in this chunk. */
			st->js = p[k] == '[' ? 1 : -1;
			st->jdepth = st->jfirst >= st->base ? 0 : 1;
			st->jesc = UINT64_MAX;
			break;
		}
		st->html = p[k] == '<' ? 1 : p[k] == '{' || p[k] == '[' ?
		    -1 : -2;
		if (st->html > 0)
			memset(st->colhint, 0, sizeof(st->colhint));
		if (p[k] == '{') {
			/* Its first key may name columns. */
			st->js = 3;
			st->jobj = true;
			st->jdepth = 0;
			st->jesc = UINT64_MAX;
			break;
		}
		if (p[k] != '[') {
			st->js = -1;
			break;
		}
		st->js = -2;
		st->jfirst = st->base + k;
	}
	tbl_update(st);
}

/*
 * run() over chunk[from..to) of the document; text turns HTML at its first
 * '<' in the first HTML_LOOK bytes (a table after a preamble, an e-mail's
 * HTML part), unless it is CSV.
 */
static void
run_doc(struct det_stream *st, size_t from, size_t to)
{
	const uint8_t *lt;
	size_t lim;

	if (__builtin_expect(st->html == -2, 0)) {
		lim = st->base + to > HTML_LOOK ? (size_t)(HTML_LOOK -
		    st->base) : to;
		if (st->base + from >= HTML_LOOK || st->csv > 0)
			st->html = -1;
		else if ((lt = memchr(st->chunk + from, '<', lim - from)) !=
		    NULL) {
			run(st, from, (size_t)(lt - st->chunk));
			from = (size_t)(lt - st->chunk);
			st->html = 1;
			memset(st->colhint, 0, sizeof(st->colhint));
			tbl_update(st);
		} else if (lim < to)
			st->html = -1;
	}
	run(st, from, to);
}

int
det_stream_feed(struct det_stream *st, const uint8_t *p, size_t n,
    det_finding_cb *cb, void *arg)
{
	const uint8_t *nl;
	size_t k, room, keep;

	if (st->finished)
		return -1;
	st->cb = cb;
	st->arg = arg;
	st->chunk = p;
	st->clen = n;
	if (n == 0)
		return 0;
	k = 0;
	if (st->html == 0 || st->js == -2)
		sniff(st, p, n);
	/* Line by line while the CSV header is being looked for. */
	while (st->csv == 0 && k < n) {
		size_t e;

		nl = memchr(p + k, '\n', n - k);
		e = nl != NULL ? (size_t)(nl - p) + 1 : n;
		room = CSV_HDR_MAX - st->hdr_len;
		memcpy(st->hdr + st->hdr_len, p + k, e - k < room ? e - k :
		    room);
		st->hdr_len += e - k < room ? e - k : room;
		run_doc(st, k, e);
		k = e;
		if (nl == NULL) {
			if (st->hdr_len == CSV_HDR_MAX)
				st->csv = -1;
		} else if (quote_open(st->hdr, st->hdr_len) &&
		    st->hdr_len < CSV_HDR_MAX &&
		    ++st->hdr_lines < CSV_HDR_LINES)
			;	/* a quoted header cell goes on */
		else {
			csv_header(st);
			st->line_at = st->base + k;
			tbl_update(st);
		}
	}
	run_doc(st, k, n);

	/* A waiting finding whose label window is complete. */
	if (st->pend && st->base + n >= st->pend_end + AFTER_MAX)
		pend_resolve(st, st->pend_end + AFTER_MAX);
	/* Hold the context of a value still open. */
	if ((st->state == S_DIGITS || st->state == S_SEP) && !st->held) {
		st->ctx_len = fetch_before(st, st->cstart, st->ctx, CTX_LEN);
		st->held = true;
	}
	/* Keep the last HIST bytes. */
	if (n >= HIST) {
		memcpy(st->hist, p + n - HIST, HIST);
		st->hist_len = HIST;
	} else {
		keep = st->hist_len + n > HIST ? HIST - n : st->hist_len;
		memmove(st->hist, st->hist + st->hist_len - keep, keep);
		memcpy(st->hist + keep, p, n);
		st->hist_len = keep + n;
	}
	st->base += n;
	st->chunk = NULL;
	st->clen = 0;
	return 0;
}

int
det_stream_finish(struct det_stream *st, det_finding_cb *cb, void *arg)
{
	if (!st->finished) {
		st->cb = cb;
		st->arg = arg;
		st->chunk = NULL;
		st->clen = 0;
		switch (st->state) {
		case S_DIGITS:
			st->g[st->ng - 1].end = st->base;
			compound_end(st, false);
			break;
		case S_SEP:
			compound_end(st, false);
			break;
		case S_DOMAIN:
			email_end(st);
			break;
		default:
			break;
		}
		if (st->pend)
			pend_resolve(st, st->base);
		st->finished = true;
	}
	return st->nfound > INT32_MAX ? INT32_MAX : (int)st->nfound;
}

int
det_scan_buf(const struct det_scanner *sc, const uint8_t *p, size_t n,
    det_finding_cb *cb, void *arg)
{
	struct det_stream *st;
	int rc;

	if (det_stream_new(sc, &st) == -1)
		return -1;
	(void)det_stream_feed(st, p, n, cb, arg);
	rc = det_stream_finish(st, cb, arg);
	det_stream_free(st);
	return rc;
}
