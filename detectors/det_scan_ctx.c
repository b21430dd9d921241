/*
 * det_scan_ctx.c: what the words around a value say about it. Keys, CSV
 * header cells and free text are cut into lower-case words (at non-letters
 * and at camelCase humps: "noKartu" -> no, kartu); phrases of one, two or
 * three words are looked up in one table, the longest first.
 */
#include "detectors/det_scan.h"
#include "detectors/det_scan_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct kw {
	const char	*word;
	unsigned	 hint;
};

/* Single words. */
static const struct kw words[] = {
	{ "nik", DET_H_NIK }, { "ktp", DET_H_NIK }, { "ektp", DET_H_NIK },
	{ "noktp", DET_H_NIK }, { "kependudukan", DET_H_NIK },
	{ "nikktp", DET_H_NIK }, { "identitas", DET_H_NIK },
	{ "kk", DET_H_KK }, { "nkk", DET_H_KK }, { "nokk", DET_H_KK },
	{ "nomorkk", DET_H_KK },
	{ "npwp", DET_H_NPWP }, { "nonpwp", DET_H_NPWP },
	{ "hp", DET_H_PHONE }, { "nohp", DET_H_PHONE },
	{ "telepon", DET_H_PHONE }, { "telp", DET_H_PHONE },
	{ "notelp", DET_H_PHONE }, { "tlp", DET_H_PHONE },
	{ "phone", DET_H_PHONE }, { "ponsel", DET_H_PHONE },
	{ "handphone", DET_H_PHONE }, { "wa", DET_H_PHONE },
	{ "whatsapp", DET_H_PHONE }, { "mobile", DET_H_PHONE },
	{ "msisdn", DET_H_PHONE }, { "hape", DET_H_PHONE },
	{ "telephone", DET_H_PHONE }, { "tel", DET_H_PHONE },
	{ "email", DET_H_EMAIL }, { "surel", DET_H_EMAIL },
	{ "mail", DET_H_EMAIL },
	{ "card", DET_H_CARD }, { "pan", DET_H_CARD }, { "cc", DET_H_CARD },
	{ "kredit", DET_H_CARD }, { "debit", DET_H_CARD },
	{ "nip", DET_H_NIP }, { "nipbaru", DET_H_NIP }, { "pppk", DET_H_NIP },
	{ "bpjs", DET_H_BPJS }, { "jkn", DET_H_BPJS }, { "kis", DET_H_BPJS },
	{ "kpj", DET_H_BPJS }, { "nokartu", DET_H_BPJS },
	{ "kartu", DET_H_BPJS | DET_H_CARD },
	{ "paspor", DET_H_PASSPORT }, { "passport", DET_H_PASSPORT },
	{ "nopaspor", DET_H_PASSPORT },
	{ "sim", DET_H_SIM }, { "nosim", DET_H_SIM }, { "nomorsim", DET_H_SIM },
	{ "order", DET_H_NEG }, { "pesanan", DET_H_NEG },
	{ "invoice", DET_H_NEG }, { "inv", DET_H_NEG },
	{ "faktur", DET_H_NEG }, { "va", DET_H_NEG },
	{ "virtual", DET_H_NEG }, { "trx", DET_H_NEG },
	{ "transaksi", DET_H_NEG }, { "transaction", DET_H_NEG },
	{ "txn", DET_H_NEG }, { "ref", DET_H_NEG },
	{ "referensi", DET_H_NEG }, { "reference", DET_H_NEG },
	{ "resi", DET_H_NEG }, { "awb", DET_H_NEG },
	{ "tracking", DET_H_NEG }, { "imei", DET_H_NEG },
	{ "device", DET_H_NEG }, { "token", DET_H_NEG },
	{ "tiket", DET_H_NEG }, { "ticket", DET_H_NEG },
	{ "ts", DET_H_NEG }, { "timestamp", DET_H_NEG },
	{ "time", DET_H_NEG }, { "waktu", DET_H_NEG },
	{ "created", DET_H_NEG }, { "updated", DET_H_NEG },
	{ "sku", DET_H_NEG }, { "ean", DET_H_NEG }, { "barcode", DET_H_NEG },
	{ "gtin", DET_H_NEG }, { "nib", DET_H_NEG },
	{ "billing", DET_H_NEG }, { "seq", DET_H_NEG },
	{ "sequence", DET_H_NEG }, { "uuid", DET_H_NEG },
	{ "hash", DET_H_NEG }, { "epoch", DET_H_NEG },
	{ "pembayaran", DET_H_NEG }, { "payment", DET_H_NEG },
	{ "tagihan", DET_H_NEG }, { "kode", DET_H_NEG },
	{ "rekening", DET_H_NEG }, { "account", DET_H_NEG },
	{ "perusahaan", DET_H_COMPANY }, { "badan", DET_H_COMPANY },
	{ "instansi", DET_H_COMPANY }, { "penjual", DET_H_COMPANY },
	{ "company", DET_H_COMPANY }, { "vendor", DET_H_COMPANY },
	{ "supplier", DET_H_COMPANY }, { "pt", DET_H_COMPANY },
	{ "cv", DET_H_COMPANY }, { "usaha", DET_H_COMPANY },
	{ "merchant", DET_H_COMPANY }, { "corporate", DET_H_COMPANY },
	{ "tbk", DET_H_COMPANY }, { "pemotong", DET_H_COMPANY },
	{ "koperasi", DET_H_COMPANY }, { "yayasan", DET_H_COMPANY },
	{ "bendahara", DET_H_COMPANY }, { "bendaharawan", DET_H_COMPANY },
	{ NULL, 0 },
};

/* Two words, the second after the first. */
static const struct kw pairs[] = {
	{ "kartu keluarga", DET_H_KK }, { "nomor induk", DET_H_NIK },
	{ "kartu kredit", DET_H_CARD }, { "credit card", DET_H_CARD },
	{ "card number", DET_H_CARD }, { "kartu debit", DET_H_CARD },
	{ "no kk", DET_H_KK }, { "nomor kk", DET_H_KK },
	{ "kartu bpjs", DET_H_BPJS }, { "no kartu", DET_H_BPJS },
	{ "nomor kartu", DET_H_BPJS }, { "no peserta", DET_H_BPJS },
	{ "nomor peserta", DET_H_BPJS }, { "e mail", DET_H_EMAIL },
	{ "no rek", DET_H_NEG }, { "izin mengemudi", DET_H_SIM },
	{ "driving licence", DET_H_SIM }, { "driving license", DET_H_SIM },
	{ "driver license", DET_H_SIM }, { "kartu sim", DET_H_PHONE },
	{ "induk pegawai", DET_H_NIP }, { "kartu identitas", DET_H_NIK },
	{ "tanda penduduk", DET_H_NIK }, { "id card", DET_H_NIK },
	{ "identity card", DET_H_NIK }, { "id number", DET_H_NIK },
	{ "identity number", DET_H_NIK }, { "national id", DET_H_NIK },
	{ "family card", DET_H_KK }, { "message id", DET_H_NEG },
	{ "msg id", DET_H_NEG },
	{ NULL, 0 },
};

/* Three words: a phrase whose first two words mean something else. */
static const struct kw triples[] = {
	{ "nomor induk pegawai", DET_H_NIP }, { "no induk pegawai", DET_H_NIP },
	{ "no kartu keluarga", DET_H_KK }, { "nomor kartu keluarga", DET_H_KK },
	{ "no kartu identitas", DET_H_NIK },
	{ "nomor kartu identitas", DET_H_NIK },
	{ "kartu tanda penduduk", DET_H_NIK },
	{ NULL, 0 },
};

/*
 * Words and phrases go into one open-addressing table (built once,
 * read-only after), so a lookup is a hash and usually one compare. A word
 * that starts a phrase is in it too (with hint 0 if it means nothing
 * alone), marked, so that only those words make a phrase lookup.
 */
#define TAB_SIZE	1024
#define WORD_MAX	24
#define PH_TWO		0x01	/* starts a phrase of two words */
#define PH_THREE	0x02	/* starts a phrase of three words */
#define PH_NOT		0x04	/* "bukan": the next type named does not count */
#define PH_OR		0x08	/* "atau": joins two types named in one label */

struct slot {
	const char	*word;
	uint8_t		 len;
	uint8_t		 starts;	/* PH_* */
	unsigned	 hint;
};

static struct slot table[TAB_SIZE];
static char first_words[64][WORD_MAX];	/* phrase starters not in words[] */
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static uint32_t
word_hash(const char *w, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (uint8_t)w[i];
		h *= 16777619u;
	}
	return h;
}

/* find() for a word whose word_hash() the caller has. */
static struct slot *
find_hashed(const char *w, size_t n, uint32_t h)
{
	h &= TAB_SIZE - 1;
	while (table[h].word != NULL) {
		if (table[h].len == n && memcmp(table[h].word, w, n) == 0)
			return &table[h];
		h = (h + 1) & (TAB_SIZE - 1);
	}
	return &table[h];
}

static struct slot *
find(const char *w, size_t n)
{
	uint32_t h = word_hash(w, n) & (TAB_SIZE - 1);

	while (table[h].word != NULL) {
		if (table[h].len == n && memcmp(table[h].word, w, n) == 0)
			return &table[h];
		h = (h + 1) & (TAB_SIZE - 1);
	}
	return &table[h];	/* the free slot */
}

static void
table_add(const struct kw *t, unsigned nwords)
{
	static size_t nfirst;
	struct slot *sl;
	size_t i, n, k;

	for (i = 0; t[i].word != NULL; i++) {
		n = strlen(t[i].word);
		sl = find(t[i].word, n);
		sl->word = t[i].word;
		sl->len = (uint8_t)n;
		sl->hint = t[i].hint;
		if (nwords == 1)
			continue;
		/* Mark its first word, adding it if it is not a word. */
		k = strcspn(t[i].word, " ");
		sl = find(t[i].word, k);
		if (sl->word == NULL) {
			if (nfirst == sizeof(first_words) / WORD_MAX ||
			    k >= WORD_MAX)
				abort();	/* the tables above are wrong */
			memcpy(first_words[nfirst], t[i].word, k);
			sl->word = first_words[nfirst++];
			sl->len = (uint8_t)k;
			sl->hint = 0;
		}
		sl->starts |= nwords == 2 ? PH_TWO : PH_THREE;
	}
}

/*
 * Words that change the next type named rather than name one: a negation
 * ("Nomor KK (bukan NIK)") and the "or" of a label naming two types
 * ("NIK atau KK").
 */
static const char *const nots[] = { "bukan", "not", "non", "selain",
    "tanpa", NULL };
static const char *const ors[] = { "atau", "or", NULL };

static void
table_flag(const char *const *t, uint8_t flag)
{
	struct slot *sl;
	size_t i, n;

	for (i = 0; t[i] != NULL; i++) {
		n = strlen(t[i]);
		sl = find(t[i], n);
		if (sl->word == NULL) {
			sl->word = t[i];
			sl->len = (uint8_t)n;
			sl->hint = 0;
		}
		sl->starts |= flag;
	}
}

/* Byte classes for det_ctx_words(). */
#define CC_LOWER	0x01
#define CC_UPPER	0x02
#define CC_ALPHA	(CC_LOWER | CC_UPPER)
#define CC_DIGIT	0x04

static uint8_t ccl[256];

static void
table_init(void)
{
	int c;

	for (c = 'a'; c <= 'z'; c++)
		ccl[c] = CC_LOWER;
	for (c = 'A'; c <= 'Z'; c++)
		ccl[c] = CC_UPPER;
	for (c = '0'; c <= '9'; c++)
		ccl[c] = CC_DIGIT;
	table_add(words, 1);
	table_add(pairs, 2);
	table_add(triples, 3);
	table_flag(nots, PH_NOT);
	table_flag(ors, PH_OR);
}

void
det_ctx_init(void)
{
	(void)pthread_once(&table_once, table_init);
}

/* The PH_* flags of the word w[0..n) in any case (n < WORD_MAX). */
static unsigned
find_lower(const uint8_t *w, size_t n)
{
	char buf[WORD_MAX];
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = (char)(w[i] | 0x20);
	return find(buf, n)->starts;
}

static unsigned
lookup(const char *w, size_t n)
{
	return find(w, n)->hint;
}

static bool
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Up to three words waiting for the phrase they start, in a ring. */
struct words {
	char		w[3][WORD_MAX];
	uint8_t		len[3];
	uint8_t		starts[3];	/* PH_* of each */
	uint8_t		gap[3];		/* digits before it, since the last */
	unsigned	hint[3];	/* of each alone */
	unsigned	first, n;
	unsigned	h;
	unsigned	neg;		/* words a negation still reaches */
	bool		last;
	bool		adj;		/* the last phrase taken named a type */
};

/* The hint of the phrase of the first k waiting words (k = 2 or 3). */
static unsigned
phrase(const struct words *ws, unsigned k)
{
	char buf[3 * WORD_MAX];
	unsigned j, x;
	size_t o = 0;

	for (j = 0; j < k; j++) {
		x = (ws->first + j) % 3;
		if (j > 0)
			buf[o++] = ' ';
		memcpy(buf + o, ws->w[x], ws->len[x]);
		o += ws->len[x];
	}
	return lookup(buf, o);
}

/*
 * Take the longest phrase the waiting words start with (three words, two,
 * one), add its hint and drop its words. With last (free text), the
 * nearest type named wins; else the hints are or-ed. With more to come,
 * a first word that starts a longer phrase than there are words waits.
 */
static bool
take(struct words *ws, bool more)
{
	unsigned k = 1, v, st = ws->starts[ws->first];

	if (more && ((st & PH_THREE) ? 3 : (st & PH_TWO) ? 2 : 1) > ws->n)
		return false;
	if (ws->gap[ws->first])
		ws->adj = false;
	v = ws->hint[ws->first];
	if ((st & PH_THREE) && ws->n >= 3 && (v = phrase(ws, 3)) != 0)
		k = 3;
	else if ((st & PH_TWO) && ws->n >= 2 && (v = phrase(ws, 2)) != 0)
		k = 2;
	else if (st & (PH_NOT | PH_OR)) {
		/* "bukan" reaches the type named within its next two words. */
		if (st & PH_NOT) {
			ws->neg = 2;
			ws->adj = false;
		}
		v = 0;
		goto drop;
	} else
		v = ws->hint[ws->first];
	if (ws->neg > 0) {
		ws->neg--;
		if (v & DET_H_TYPES) {
			v &= ~DET_H_TYPES;
			ws->neg = 0;
		}
	}
	/*
	 * A company named before the type on the line stays ("PT X, NPWP"),
	 * and so does a type named right before it in the same label
	 * ("NIK/KK", "NIK atau KK": det_ctx_words() decides between them).
	 */
	if (ws->last && (v & DET_H_TYPES)) {
		if (ws->adj)
			ws->h |= v;
		else
			ws->h = v | (ws->h & DET_H_COMPANY);
	} else
		ws->h |= v;
	ws->adj = (v & DET_H_TYPES) != 0;
drop:
	ws->first = (ws->first + k) % 3;
	ws->n -= k;
	return true;
}

/*
 * A camelCase hump at s[i]: an upper-case letter after a lower-case one
 * ("noKartu"), or the last of an upper-case run when a lower-case letter
 * follows ("noKKPemohon" -> no, KK, Pemohon; "NPWPPribadi").
 */
static inline bool
hump(const uint8_t *s, size_t i, size_t n)
{
	if (!(ccl[s[i]] & CC_UPPER))
		return false;
	if (ccl[s[i - 1]] & CC_LOWER)
		return true;
	return (ccl[s[i - 1]] & CC_UPPER) && i + 1 < n &&
	    (ccl[s[i + 1]] & CC_LOWER);
}

/*
 * What the words of s[0..n) say. Words are cut at non-letters and at
 * camelCase humps, lower-cased, and read left to right: each position
 * takes the longest phrase of the table that starts there, so a phrase
 * speaks for its words ("kartu keluarga" is KK, without the card and BPJS
 * hints of "kartu"; "nomor induk pegawai" is NIP, not the NIK of "nomor
 * induk").
 */
unsigned
det_ctx_words(const char *str, size_t n, bool last)
{
	const uint8_t *s = (const uint8_t *)str;
	struct words ws;
	const struct slot *sl;
	size_t i = 0, k;
	unsigned x, gap;
	uint32_t hash;
	unsigned char c;
	char *w;

	det_ctx_init();
	ws.first = ws.n = 0;
	ws.h = 0;
	ws.neg = 0;
	ws.last = last;
	ws.adj = false;
	while (i < n) {
		for (gap = 0; i < n && !(ccl[s[i]] & CC_ALPHA); i++)
			gap |= ccl[s[i]];
		if (i >= n)
			break;
		x = (ws.first + ws.n) % 3;
		ws.gap[x] = (uint8_t)(gap & CC_DIGIT);
		w = ws.w[x];
		k = 0;
		hash = 2166136261u;	/* word_hash() of w, as it is read */
		do {
			c = s[i] | 0x20;
			if (k < WORD_MAX - 1) {
				w[k++] = (char)c;
				hash = (hash ^ c) * 16777619u;
			}
			i++;
		} while (i < n && (ccl[s[i]] & CC_ALPHA) && !hump(s, i, n));
		sl = find_hashed(w, k, hash);
		ws.len[x] = (uint8_t)k;
		ws.hint[x] = sl->hint;
		ws.starts[x] = sl->starts;
		ws.n++;
		while (ws.n > 0 && take(&ws, true))
			;
	}
	while (ws.n > 0)
		(void)take(&ws, false);
	/*
	 * A label naming both NIK and KK ("NIK/KK", "NIK atau No. KK") may
	 * hold either: the person's own number is the reading kept.
	 */
	if ((ws.h & (DET_H_NIK | DET_H_KK)) == (DET_H_NIK | DET_H_KK))
		ws.h &= ~DET_H_KK;
	return ws.h;
}

/* Generic markup whose tag names say nothing about the value. */
static bool
generic_tag(const uint8_t *t, size_t n)
{
	static const char *const tags[] = { "td", "th", "span", "div", "p",
	    "b", "strong", "li", "dd", "dt", "pre", "code", "i", "em",
	    "label", "small", "font", "br", "tr", "u", "a", "h1", "h2", "h3",
	    "h4", "value", "string", "cell", "data", NULL };
	size_t i, k;

	for (i = 0; tags[i] != NULL; i++) {
		if (strlen(tags[i]) != n)
			continue;
		for (k = 0; k < n; k++)
			if ((t[k] | 0x20) != tags[i][k])
				break;
		if (k == n)
			return true;
	}
	return false;
}

#define KEY_MAX		48
#define TEXT_WINDOW	64

/* k[0..n) is one of the lower-case words of list (NULL-ended), in any
   ASCII case. */
bool
det_word_in(const uint8_t *k, size_t n, const char *const *list)
{
	size_t i, j;

	for (i = 0; list[i] != NULL; i++) {
		if (strlen(list[i]) != n)
			continue;
		for (j = 0; j < n && (k[j] | 0x20) == list[i][j]; j++)
			;
		if (j == n)
			return true;
	}
	return false;
}

/*
 * A key that only says "the value" (a form field's value= attribute, the
 * "value" of a {"label": ..., "value": ...} pair): its label is before it.
 */
static bool
value_key(const uint8_t *k, size_t n)
{
	static const char *const keys[] = { "value", "nilai", "isi", NULL };

	return n >= 3 && n <= 5 && det_word_in(k, n, keys);
}

/*
 * A negation in the two words before b[start] on its line ("bukan nomor
 * NIK:"): the label is not the key alone.
 */
static bool
negated(const uint8_t *b, size_t floor, size_t start)
{
	size_t i = start, e;
	int k;

	det_ctx_init();
	for (k = 0; k < 2; k++) {
		while (i > floor && !is_alpha(b[i - 1]) && b[i - 1] != '\n')
			i--;
		for (e = i; i > floor && is_alpha(b[i - 1]); i--)
			;
		if (e == i || e - i >= WORD_MAX)
			return false;
		if (find_lower(b + i, e - i) & PH_NOT)
			return true;
	}
	return false;
}

/*
 * The context of a value under a value key starting at b[start]: the type
 * named nearest before the key in the text window (the field's label, a
 * name= or id= attribute, a <label>), as free text.
 */
static unsigned
value_label(const uint8_t *b, size_t n, size_t start)
{
	size_t lo = n > TEXT_WINDOW ? n - TEXT_WINDOW : 0;

	if (start <= lo)
		return 0;
	return det_ctx_words((const char *)b + lo, start - lo, true);
}

/* det_ctx_json_key() is this function's first step, for keys of the cache. */
_Static_assert(DET_CTX_JSON_MIN == KEY_MAX + 8 + 1 &&
    DET_KEY_MAX + 3 < KEY_MAX + 8, "det_ctx_json_key() out of step");

/*
 * A cached key that ends at b[end] and starts right after a quote q, found
 * without scanning back for the quote: *start gets where it starts. The
 * cache holds no key with a quote in it, so the backward scan in
 * det_ctx_before() would stop at the same byte (it also stops at floor:
 * a key that reaches it is not taken from here).
 */
static bool
key_at(const uint8_t *b, size_t floor, size_t end, uint8_t q,
    const struct det_key_cache *cache, size_t *start, unsigned *hint)
{
	unsigned slot;
	size_t len;

	if (end < floor + 4)
		return false;
	slot = det_key_slot(b + end, 3);
	len = cache->e[slot].len;
	if (len < 3 || end - floor <= len || b[end - len - 1] != q ||
	    !det_key_same(DET_KEY_BYTES(cache, slot), b + end - len, len))
		return false;
	*start = end - len;
	*hint = cache->e[slot].hint;
	return true;
}

/*
 * The image of key k[0..n) (n <= DET_KEY_MAX): "key":" right-aligned in
 * DET_KEY_IMG bytes, and for det_ctx_json_key() the mask of the bytes that
 * count and the hint it returns, none for a key of fewer than 3 bytes (the
 * slot needs three) or without a hint.
 */
static void
key_image(uint8_t *img, uint32_t *care, unsigned *img_hint, const uint8_t *k,
    size_t n, unsigned h)
{
	size_t len = n + 4;

	memset(img, 0, DET_KEY_IMG);
	img[DET_KEY_IMG - len] = '"';
	memcpy(img + DET_KEY_IMG - len + 1, k, n);
	memcpy(img + DET_KEY_IMG - 3, "\":\"", 3);
	*care = 0;
	*img_hint = 0;
	if (n < 3 || h == 0)
		return;
	*care = len == 32 ? UINT32_MAX : ~(UINT32_MAX >> len);
	*img_hint = h | DET_H_KEY | DET_H_HASF |
	    det_ctx_flags(h | DET_H_KEY) << DET_H_FSHIFT;
}

/* Words of a key, through the cache. */
static unsigned
key_words(const uint8_t *k, size_t n, struct det_key_cache *cache)
{
	unsigned slot, h;

	if (cache == NULL || n > DET_KEY_MAX || n == 0)
		return det_ctx_words((const char *)k, n, false);
	slot = det_key_slot(k + n, n);
	if (cache->e[slot].len == n &&
	    det_key_same(DET_KEY_BYTES(cache, slot), k, n))
		return cache->e[slot].hint;
	h = det_ctx_words((const char *)k, n, false);
	/* Keys with a quote are not kept: key_at() relies on it. */
	if (memchr(k, '"', n) != NULL || memchr(k, '\'', n) != NULL)
		return h;
	cache->e[slot].len = (uint8_t)n;
	cache->e[slot].hint = h;
	key_image(&cache->e[slot].img[0], &cache->e[slot].img_care,
	    &cache->e[slot].img_hint, k, n, h);
	return h;
}

/*
 * An "NPWP:" label in text whose line above names a company ("Penjual: CV
 * Maju Bersama"): DET_H_COMPANY, else 0. Only within the text window, as
 * every context read from text (the same bytes however the input is cut).
 */
static unsigned
label_above(const uint8_t *b, size_t n, size_t start)
{
	size_t lo = n > TEXT_WINDOW ? n - TEXT_WINDOW : 0, e = start, s;

	while (e > lo && b[e - 1] != '\n')
		e--;
	if (e <= lo)
		return 0;
	for (s = --e; s > lo && b[s - 1] != '\n'; s--)
		;
	return det_ctx_words((const char *)b + s, e - s, false) &
	    DET_H_COMPANY;
}

unsigned
det_ctx_before(const uint8_t *b, size_t n, struct det_key_cache *cache)
{
	size_t i = n, end, start, floor;
	unsigned h;

	floor = n > KEY_MAX + 8 ? n - KEY_MAX - 8 : 0;
	/*
	 * Compact JSON, "key":"value: what the steps below do for these three
	 * bytes, when the key is a cached one.
	 */
	if (cache != NULL && n >= floor + 4 && b[n - 1] == '"' &&
	    b[n - 2] == ':' && b[n - 3] == '"' &&
	    key_at(b, floor, n - 3, '"', cache, &start, &h)) {
		if (h != 0)
			return h | DET_H_KEY;
		return value_key(b + start, n - 3 - start) ?
		    value_label(b, n, start - 1) : 0;
	}
	/* The value's own lead-in: "+62 ...", "(0812) ...", "'3201...", "<a@b>" */
	while (i > floor && (b[i - 1] == '+' || b[i - 1] == '(' ||
	    b[i - 1] == '\'' || b[i - 1] == '<'))
		i--;
	while (i > floor && (b[i - 1] == ' ' || b[i - 1] == '\t'))
		i--;
	if (i > floor && (b[i - 1] == '"' || b[i - 1] == '\''))
		i--;
	while (i > floor && (b[i - 1] == ' ' || b[i - 1] == '\t'))
		i--;
	if (i > floor && (b[i - 1] == ':' || b[i - 1] == '=')) {
		/*
		 * A quoted key (JSON) or a key= (forms, query strings) holds
		 * one value: a key that names nothing says the value has no
		 * context, and the words before it belong to other fields.
		 * A bare "Key:" may be a label in text, whose lines before
		 * can name the type.
		 */
		bool own = b[i - 1] == '=';

		i--;
		while (i > floor && (b[i - 1] == ' ' || b[i - 1] == '\t'))
			i--;
		if (i > floor && (b[i - 1] == '"' || b[i - 1] == '\'')) {
			uint8_t q = b[--i];

			end = i;
			own = true;
			if (cache != NULL && key_at(b, floor, end, q, cache,
			    &start, &h)) {
				/* The same answer as the scan and key_words(). */
				if (h != 0)
					return h | DET_H_KEY;
				return value_key(b + start, end - start) ?
				    value_label(b, n, start - 1) : 0;
			}
			while (i > floor && b[i - 1] != q && end - i < KEY_MAX)
				i--;
			start = i;
		} else {
			end = i;
			while (i > floor && end - i < KEY_MAX &&
			    (is_alpha(b[i - 1]) || b[i - 1] == '_' ||
			    b[i - 1] == '-' || b[i - 1] == '.' ||
			    (b[i - 1] == '/' && !own) ||
			    (b[i - 1] >= '0' && b[i - 1] <= '9')))
				i--;
			start = i;
		}
		if (end > start && !own && negated(b, floor, start))
			end = start;	/* read as text */
		if (end > start) {
			h = key_words(b + start, end - start, cache);
			if (!own && (h & DET_H_NPWP) && !(h & DET_H_COMPANY))
				h |= label_above(b, n, start);
			if (h != 0)
				return h | DET_H_KEY;
			if (value_key(b + start, end - start))
				return value_label(b, n, start > 0 &&
				    (b[start - 1] == '"' || b[start - 1] == '\'') ?
				    start - 1 : start);
			if (own)
				return 0;
			/* A label that names nothing: fall back to text. */
		}
	} else if (i > floor && b[i - 1] == '>') {
		end = --i;
		while (i > floor && b[i - 1] != '<' && end - i < KEY_MAX)
			i--;
		if (i > floor && b[i - 1] == '<') {
			start = i;
			while (i < end && b[i] != ' ' && b[i] != '/')
				i++;
			/* Its own tag: as a key, it names the value or not. */
			if (!generic_tag(b + start, i - start)) {
				h = key_words(b + start, i - start, cache);
				return h != 0 ? h | DET_H_KEY : 0;
			}
		}
	}
	/*
	 * Free text: the words on the value's own line; else the nearest type
	 * named on the lines before (a label cell on its own line), without
	 * their negative words, which belong to other values.
	 */
	start = n > TEXT_WINDOW ? n - TEXT_WINDOW : 0;
	for (i = n; i > start && b[i - 1] != '\n'; i--)
		;
	h = det_ctx_words((const char *)b + i, n - i, true);
	if (h != 0 || i == start)
		return h;
	/* A JSON field on its own line ("total": "Rp 1.234"): nothing. */
	for (end = i; end + 1 < n; end++)
		if (b[end] == '"' && b[end + 1] == ':')
			return 0;
	return det_ctx_words((const char *)b + start, i - start, true) &
	    DET_H_TYPES;
}
