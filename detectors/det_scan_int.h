/*
 * det_scan_int.h: internals shared by detectors/det_scan*.c and
 * detectors/det_rules*.c and their tests. Not part of the API.
 */
#ifndef DET_SCAN_INT_H
#define DET_SCAN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "detectors/det_scan.h"

/*
 * det_scan.c: scan_plain() takes the digit and '@' masks of its 64-byte
 * blocks with AVX2 when this is true. The first det_scanner_new() sets it
 * from the CPU; a test may clear it afterwards to run the SSE2 path.
 */
extern bool det_scan_avx2;

/* det_scan_regions.c (generated): sorted regency codes, district sets. */
extern const size_t det_region_count;
extern const uint16_t det_region_code[];
extern const uint64_t det_region_dist[][2];

/*
 * Regency code (province * 100 + regency, 0-9999) -> its index in
 * det_region_code + 1, 0 when not there. Built once by det_region_init()
 * (any thread; det_scanner_new() calls it); read it only after that.
 */
extern uint16_t det_region_index[10000];
void	det_region_init(void);
/* Bit d of det_month_days[m]: day d of month m (1-12) exists (29 Feb too). */
extern const uint64_t det_month_days[13];

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/*
 * The 8 ASCII digits d[0..8) as four two-digit numbers in 16-bit lanes,
 * d[0]d[1] in the lowest: one load and a multiply instead of eight.
 */
static inline uint64_t
det_d2x4(const char *d)
{
	uint64_t x;

	memcpy(&x, d, 8);
	x -= 0x3030303030303030ULL;
	return (x & 0x00ff00ff00ff00ffULL) * 10 +
	    ((x >> 8) & 0x00ff00ff00ff00ffULL);
}
#else
static inline uint64_t
det_d2x4(const char *d)
{
	uint64_t x = 0;
	int k;

	for (k = 3; k >= 0; k--)
		x = x << 16 | (uint64_t)((d[2 * k] - '0') * 10 +
		    (d[2 * k + 1] - '0'));
	return x;
}
#endif

/*
 * [1] NIK: PPKKCC DDMMYY SSSS over 16 ASCII digits, the checks of
 * det_nik_digits() (pii-id.md section 1), for a caller that has called
 * det_region_init().
 */
static inline bool
det_nik_ok(const char *d)
{
	uint64_t a = det_d2x4(d), b = det_d2x4(d + 8);
	unsigned day, month, dist, k;

	day = (unsigned)(a >> 48);
	month = (unsigned)(b & 0xffff);
	if (day > 40)
		day -= 40;
	if (month - 1 >= 12 || !(det_month_days[month] >> day & 1))
		return false;
	/* 29 Feb only when YY % 4 == 0 (2000 was a leap year). */
	if (day == 29 && month == 2 && (b >> 16 & 0xffff) % 4 != 0)
		return false;
	if ((b >> 32) == 0)			/* serial 0000 */
		return false;
	dist = (unsigned)(a >> 32 & 0xffff);
	k = det_region_index[(a & 0xffff) * 100 + (a >> 16 & 0xffff)];
	if (dist == 0 || k == 0)
		return false;
	return (det_region_dist[k - 1][dist >> 6] >> (dist & 63)) & 1;
}

/*
 * Validators over plain ASCII digits (no separators; the caller checked
 * they are digits and counted them). det_scan_valid.c.
 */
bool	det_nik_digits(const char *d, struct det_nik_info *info);
bool	det_nik_loose(const char *d);	/* no region table: context only */
bool	det_kk_digits(const char *d);
bool	det_npwp16_digits(const char *d);
bool	det_card_digits(const char *d, size_t n, bool *brand);
bool	det_nip_digits(const char *d);
/* Email local part byte / domain byte. */
bool	det_email_local_char(unsigned char c);
bool	det_email_domain_char(unsigned char c);
/*
 * det_valid_email() for a caller that has checked the local part's bytes
 * and knows where the '@' is: s[at] == '@', s[0..at) local-part bytes.
 * s must be a buffer of DET_VALUE_MAX readable bytes (16-byte loads).
 */
bool	det_email_valid_at(const char *s, size_t n, size_t at);
/*
 * det_email_is_role() for the local part s[0..len) alone; the table, after
 * det_email_role_maybe(), in det_email_role_names().
 */
bool	det_email_role_names(const char *s, size_t len);

/*
 * Bit ((c0 * 11 + c1) & 63) for the first two bytes c0 c1 (lower case) of
 * each role name (det_scan_valid.c; test_det_scan_valid checks it against
 * det_email_role_pairs()).
 */
#define DET_ROLE_PAIRS	0xd8332ee2a265a925ULL

uint64_t det_email_role_pairs(void);

/*
 * Bit n of det_role_lens[c - 'a']: a role name of n bytes starts with
 * letter c (det_scan_valid.c; test_det_scan_valid checks it against the
 * names with det_email_role_lens_ok()).
 */
extern const uint16_t det_role_lens[26];
bool	det_email_role_lens_ok(void);

static inline bool
det_email_role_local(const char *s, size_t len)
{
	unsigned c0 = (unsigned char)(s[0] | 0x20);
	unsigned c1 = (unsigned char)(s[len > 1] | 0x20);

	/*
	 * Lengths and first two letters of the names, then the lengths of
	 * those with this first letter: most stop here, without a call.
	 */
	if (len > 13 || len < 2 ||
	    !((DET_ROLE_PAIRS >> ((c0 * 11 + c1) & 63)) & 1) ||
	    c0 < 'a' || c0 > 'z' || !(det_role_lens[c0 - 'a'] >> len & 1))
		return false;
	return det_email_role_names(s, len);
}

/*
 * The domain rules of det_valid_email() for a domain of len (1-16) bytes
 * given as bit sets over its positions (bit i: byte i is a letter, a
 * digit, '.', '-'); bits from len on are ignored.
 */
static inline bool
det_email_domain_bits(unsigned alpha, unsigned dig, unsigned dot,
    unsigned dash, size_t len)
{
	unsigned all = (1u << len) - 1, tld;
	int last;

	alpha &= all;
	dig &= all;
	dot &= all;
	dash &= all;
	if ((alpha | dig | dot | dash) != all || dot == 0)
		return false;
	/* An empty label: a dot first, last, or after another dot. */
	if ((dot & 1) || (dot & (dot >> 1)) || (dot >> (len - 1)))
		return false;
	/* '-' first in a label, or last (before a dot or at the end). */
	if ((dash & ((dot << 1) | 1)) || (dash & (dot >> 1)))
		return false;
	/* The TLD, after the last dot: two or more letters. */
	last = 31 - __builtin_clz(dot);
	tld = all & ~((2u << last) - 1);
	return (alpha & tld) == tld && (tld & (tld - 1)) != 0;
}

/*
 * [4] Allocated operator prefixes, national form without the 0: bit
 * (second digit * 10 + third digit) of the set "8x y".
 * 811-819 less 810; 821-823, 827, 828; 831-833, 838; 851-853, 855-859;
 * 877, 878; 881-889; 895-899.
 */
static inline bool
det_mobile_prefix(const char *d)
{
	static const uint64_t set_lo =	/* 10-63 */
	    (0x3feULL << 10) |		/* 11-19 */
	    (0x18eULL << 20) |		/* 21-23, 27, 28 */
	    (0x10eULL << 30) |		/* 31-33, 38 */
	    (0x3eeULL << 50);		/* 51-53, 55-59 */
	static const uint64_t set_hi =	/* 64-99, bit n - 64 */
	    (0x180ULL << (70 - 64)) |	/* 77, 78 */
	    (0x3feULL << (80 - 64)) |	/* 81-89 */
	    (0x3e0ULL << (90 - 64));	/* 95-99 */
	unsigned v;

	if (d[0] != '8')
		return false;
	v = (unsigned)(d[1] - '0') * 10 + (unsigned)(d[2] - '0');
	if (v < 64)
		return (set_lo >> v) & 1;
	return (set_hi >> (v - 64)) & 1;
}

/* National number (after 0 or 62), n digits; true for allocated mobiles. */
static inline bool
det_mobile_nsn(const char *d, size_t n)
{
	if (n < 9 || n > 12)
		return false;
	return det_mobile_prefix(d);
}

/* [3.1] NPWP: Luhn over digits 1-9, serial (3-8) != 000000. */
static inline bool
det_npwp15_digits(const char *d)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t x, odd, big, sum;

	if (memcmp(d + 2, "000000", 6) == 0)
		return false;
	/*
	 * Luhn over 9 digits, 8 of them at once: d[1], d[3], d[5], d[7]
	 * doubled (2x, less 9 when x >= 5), added to the others in 16-bit
	 * lanes, the lanes summed by a multiply.
	 */
	memcpy(&x, d, 8);
	x -= 0x3030303030303030ULL;
	odd = (x >> 8) & 0x00ff00ff00ff00ffULL;
	big = ((odd + 0x007b007b007b007bULL) >> 7) & 0x0001000100010001ULL;
	x = (x & 0x00ff00ff00ff00ffULL) + 2 * odd - 9 * big;
	sum = ((x * 0x0001000100010001ULL) >> 48) + (uint64_t)(d[8] - '0');
	return sum % 10 == 0;
#else
	if (memcmp(d + 2, "000000", 6) == 0)
		return false;
	return det_luhn(d, 9);
#endif
}

/* Context hints: what a key, header or nearby word says. */
#define DET_H_NIK	(1u << DET_T_NIK)
#define DET_H_KK	(1u << DET_T_KK)
#define DET_H_NPWP	(1u << DET_T_NPWP)
#define DET_H_PHONE	(1u << DET_T_PHONE)
#define DET_H_EMAIL	(1u << DET_T_EMAIL)
#define DET_H_CARD	(1u << DET_T_CARD)
#define DET_H_NIP	(1u << DET_T_NIP)
#define DET_H_BPJS	(1u << DET_T_BPJS)
#define DET_H_PASSPORT	(1u << DET_T_PASSPORT)
#define DET_H_SIM	(1u << DET_T_SIM)
#define DET_H_TYPES	((1u << DET_T_COUNT) - 1)
#define DET_H_NEG	(1u << 12)	/* order, va, invoice, imei, time ... */
#define DET_H_COMPANY	(1u << 13)	/* perusahaan, badan, PT: not personal */
#define DET_H_KEY	(1u << 14)	/* from a key or header, not free text */
#define DET_H_CSV_COL	(1u << 15)	/* from a CSV header cell */
/*
 * A hint may carry, above its 16 bits, the finding flags it gives
 * (det_ctx_flags() << DET_H_FSHIFT, with DET_H_HASF): the key cache keeps
 * them with the key. Code reads hints bit by bit, so they change nothing
 * else.
 */
#define DET_H_FSHIFT	16
#define DET_H_HASF	(1u << 24)

/* Finding flags (DET_F_CONTEXT, NEGATIVE, CSV) of a hint h. */
static inline unsigned
det_ctx_flags(unsigned h)
{
	return ((h & DET_H_TYPES) != 0 ? DET_F_CONTEXT : 0) |
	    ((h & (DET_H_NEG | DET_H_COMPANY)) != 0 ? DET_F_NEGATIVE : 0) |
	    ((h >> 10) & DET_F_CSV);
}

/*
 * Hints of the words in s[0..n) (a key, a header cell or free text); with
 * last set only the last word that carries a hint counts (free text: the
 * nearest keyword wins). det_scan_ctx.c.
 */
/* Build the keyword table (once; any thread; det_scanner_new() calls it). */
void	det_ctx_init(void);
unsigned det_ctx_words(const char *s, size_t n, bool last);
/* k[0..n) is one of list's lower-case words (NULL-ended), any ASCII case. */
bool	det_word_in(const uint8_t *k, size_t n, const char *const *list);
/*
 * A small cache of key -> hint, one per stream: keys repeat in every record
 * of an API response.
 */
#define DET_KEY_CACHE	32	/* a power of two up to 32 (slot: top 5 bits) */
#define DET_KEY_IMG	32	/* bytes of a key's image */
#define DET_KEY_MAX	(DET_KEY_IMG - 4)
struct det_key_cache {
	struct {
		/*
		 * The key as the bytes before a compact JSON value end with
		 * it ("key":"), right-aligned in img: the key itself is
		 * img[DET_KEY_IMG - 3 - len ..]. img_care: which bytes count
		 * for det_ctx_json_key() (bit k: img[k]), img_hint what it
		 * returns on a match, hint | DET_H_KEY; both 0 for a hint of
		 * 0 or a key shorter than 3 bytes.
		 */
		uint8_t		img[DET_KEY_IMG];
		uint32_t	img_care;
		unsigned	img_hint;
		unsigned	hint;
		uint8_t		len;	/* 0: empty */
	} e[DET_KEY_CACHE];
};

/* The key of cache entry k (len bytes, in its image). */
#define DET_KEY_BYTES(c, k)						\
	((const char *)(c)->e[k].img + DET_KEY_IMG - 3 - (c)->e[k].len)

/*
 * Hints from the bytes before a value, b[0..n) ending right before it: a
 * JSON/XML/form key when the bytes end like one ("nik": "  <nik>  nik=),
 * else the words of the last 64 bytes. A quoted key or a key= that names
 * nothing gives 0: the words before it are other fields'. cache may be
 * NULL.
 */
unsigned det_ctx_before(const uint8_t *b, size_t n,
	    struct det_key_cache *cache);

/*
 * memcmp() == 0 for the short keys of the cache, without a call: 8 or 4
 * bytes at a time (the last load overlaps the one before it).
 */
static inline bool
det_key_same(const char *a, const uint8_t *b, size_t n)
{
	uint64_t x, y;
	uint32_t u, v;
	size_t i;

	if (n >= 8) {
		for (i = 0; i + 8 < n; i += 8) {
			memcpy(&x, a + i, 8);
			memcpy(&y, b + i, 8);
			if (x != y)
				return false;
		}
		memcpy(&x, a + n - 8, 8);
		memcpy(&y, b + n - 8, 8);
		return x == y;
	}
	if (n >= 4) {
		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		if (u != v)
			return false;
		memcpy(&u, a + n - 4, 4);
		memcpy(&v, b + n - 4, 4);
		return u == v;
	}
	for (i = 0; i < n; i++)
		if ((uint8_t)a[i] != b[i])
			return false;
	return true;
}

/*
 * Cache slot of a key by its last three bytes (fewer for a shorter key),
 * so a quoted key can be looked up from its end before its start is known.
 * e points right after the key, which has n bytes.
 */
static inline unsigned
det_key_slot(const uint8_t *e, size_t n)
{
	uint32_t x;

	/* The last three bytes in load order: e[-3] lowest. */
	if (n >= 3)
		x = e[-3] | (uint32_t)e[-2] << 8 | (uint32_t)e[-1] << 16;
	else if (n == 2)
		x = e[-2] | (uint32_t)e[-1] << 8;
	else
		x = e[-1];
	return (uint32_t)(x * 2654435761u) >> 27;
}

/*
 * The shortcut at the top of det_ctx_before() for compact JSON: b ends
 * with "key":" (b is where the value starts) and the key is in the cache
 * with a hint: that hint | DET_H_KEY, what det_ctx_before() returns for
 * the same bytes when it has at least DET_CTX_JSON_MIN of them, with its
 * flags (DET_H_HASF); else 0 (det_ctx_before() decides).
 */
#define DET_CTX_JSON_MIN	57	/* det_scan_ctx.c: KEY_MAX + 8 + 1 */

#if defined(__SSE2__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/*
 * The 32 bytes before b against the image of the key in the slot of the
 * three bytes before "\":\"": two compares, no scan for the key's start
 * (the image holds the quote before the key).
 */
static inline unsigned
det_ctx_json_key(const uint8_t *b, const struct det_key_cache *cache)
{
	uint64_t w;
	unsigned slot, eq;
	__m128i lo, hi;

	memcpy(&w, b - 8, 8);
	slot = (uint32_t)((uint32_t)(w >> 16 & 0xffffff) * 2654435761u) >>
	    27;
	lo = _mm_loadu_si128((const __m128i *)(const void *)(b - 32));
	hi = _mm_loadu_si128((const __m128i *)(const void *)(b - 16));
	eq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(lo,
	    _mm_loadu_si128((const __m128i *)(const void *)
	    cache->e[slot].img))) |
	    (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(hi,
	    _mm_loadu_si128((const __m128i *)(const void *)
	    (cache->e[slot].img + 16)))) << 16;
	if (~eq & cache->e[slot].img_care)
		return 0;
	return cache->e[slot].img_hint;
}
#else
static inline unsigned
det_ctx_json_key(const uint8_t *b, const struct det_key_cache *cache)
{
	const uint8_t *end = b - 3;
	unsigned slot;
	size_t len;

	if (b[-1] != '"' || b[-2] != ':' || b[-3] != '"')
		return 0;
	slot = det_key_slot(end, 3);
	len = cache->e[slot].len;
	if (len < 3 || end[-(ptrdiff_t)len - 1] != '"' ||
	    !det_key_same(DET_KEY_BYTES(cache, slot), end - len, len) ||
	    cache->e[slot].hint == 0)
		return 0;
	return cache->e[slot].hint | DET_H_KEY | DET_H_HASF |
	    det_ctx_flags(cache->e[slot].hint | DET_H_KEY) << DET_H_FSHIFT;
}
#endif

/* Allowlist: SHA-256 of "type:value", det_rules.c. */
void	det_allow_hash(enum det_type t, const char *v, size_t n,
	    uint8_t out[32]);
struct det_rules;
/* Entry i of the allowlist: its type and hash (borrowed). */
void	det_rules_allow_get(const struct det_rules *r, size_t i, int *type,
	    const uint8_t **hash);

#endif /* DET_SCAN_INT_H */
