/*
 * det_scan_valid.c: validators for Indonesian identifiers, pure functions.
 * Every rule here is in shared/spec/pii-id.md (section in brackets).
 */
#include "detectors/det_scan.h"
#include "detectors/det_scan_int.h"

#include <pthread.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static const char *const type_names[DET_T_COUNT] = {
	"nik", "kk", "npwp", "phone", "email", "card", "nip", "bpjs",
	"passport", "sim",
};

const char *
det_type_str(enum det_type t)
{
	if ((unsigned)t >= DET_T_COUNT)
		return "?";
	return type_names[t];
}

int
det_type_from_str(const char *s)
{
	int i;

	for (i = 0; i < DET_T_COUNT; i++)
		if (strcmp(s, type_names[i]) == 0)
			return i;
	return -1;
}

static inline unsigned
d2(const char *d)
{
	return (unsigned)(d[0] - '0') * 10 + (unsigned)(d[1] - '0');
}

static bool
all_digits(const char *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (d[i] < '0' || d[i] > '9')
			return false;
	return true;
}

size_t
det_compact(const char *s, size_t n, bool phone, char *out, size_t outlen)
{
	size_t i, k = 0;
	char c;

	if (outlen == 0)
		return 0;
	for (i = 0; i < n; i++) {
		c = s[i];
		if (c >= '0' && c <= '9') {
			if (k + 1 >= outlen)
				return 0;
			out[k++] = c;
		} else if (c == ' ' || c == '.' || c == '-')
			continue;
		else if (phone && (c == '+' || c == '(' || c == ')'))
			continue;
		else
			return 0;
	}
	out[k] = '\0';
	return k;
}

bool
det_luhn(const char *d, size_t n)
{
	/* A doubled digit's digit sum. */
	static const uint8_t dbl[10] = { 0, 2, 4, 6, 8, 1, 3, 5, 7, 9 };
	unsigned sum = 0, v, w, bad = 0;
	size_t i;

	/* From the right: plain, doubled, plain, ... two digits a step. */
	for (i = 0; i + 1 < n; i += 2) {
		v = (unsigned)(d[n - 1 - i] - '0');
		w = (unsigned)(d[n - 2 - i] - '0');
		bad |= (v > 9) | (w > 9);
		sum += v + dbl[w > 9 ? 0 : w];
	}
	if (i < n) {
		v = (unsigned)(d[0] - '0');
		bad |= v > 9;
		sum += v;
	}
	return n > 0 && !bad && sum % 10 == 0;
}

uint16_t det_region_index[10000];
static pthread_once_t region_once = PTHREAD_ONCE_INIT;
static bool region_ready;	/* set (release) once the index is built */

static void
region_index_build(void)
{
	size_t i;

	for (i = 0; i < det_region_count; i++)
		if (det_region_code[i] < 10000)
			det_region_index[det_region_code[i]] =
			    (uint16_t)(i + 1);
	__atomic_store_n(&region_ready, true, __ATOMIC_RELEASE);
}

void
det_region_init(void)
{
	if (!__atomic_load_n(&region_ready, __ATOMIC_ACQUIRE))
		(void)pthread_once(&region_once, region_index_build);
}

/* [1] Regency code (0-9999) in the table, district (0-99) in its set. */
static inline bool
region_ok(unsigned code, unsigned dist)
{
	unsigned k;

	if (dist == 0)
		return false;
	det_region_init();
	if ((k = det_region_index[code]) == 0)
		return false;
	return (det_region_dist[k - 1][dist >> 6] >> (dist & 63)) & 1;
}

/* [1] Region of the 6 digits d. */
static inline bool
region_digits(const char *d)
{
	return region_ok(d2(d) * 100 + d2(d + 2), d2(d + 4));
}

bool
det_valid_region(const char *d)
{
	return all_digits(d, 6) && region_digits(d);
}

/* Day/month exists in 19yy or 20yy: 29 Feb iff yy % 4 == 0 (2000 leap). */
static bool
valid_ddmmyy(unsigned day, unsigned month, unsigned yy)
{
	static const unsigned char mdays[13] = { 0, 31, 29, 31, 30, 31, 30,
	    31, 31, 30, 31, 30, 31 };

	if (month < 1 || month > 12 || day < 1 || day > mdays[month])
		return false;
	if (month == 2 && day == 29 && yy % 4 != 0)
		return false;
	return true;
}

#define MONTH(n)	((((uint64_t)1 << ((n) + 1)) - 1) & ~(uint64_t)1)
const uint64_t det_month_days[13] = { 0, MONTH(31), MONTH(29), MONTH(31),
    MONTH(30), MONTH(31), MONTH(30), MONTH(31), MONTH(31), MONTH(30),
    MONTH(31), MONTH(30), MONTH(31) };
#undef MONTH

/* [1] NIK: PPKKCC DDMMYY SSSS, the checks alone (det_scan_int.h). */
static inline bool
nik_check(const char *d)
{
	det_region_init();
	return det_nik_ok(d);
}

bool
det_nik_digits(const char *d, struct det_nik_info *info)
{
	unsigned day;

	if (info == NULL)
		return nik_check(d);
	if (!nik_check(d))
		return false;
	day = d2(d + 6);
	info->district = d2(d) * 10000 + d2(d + 2) * 100 + d2(d + 4);
	info->day = day > 40 ? day - 40 : day;
	info->month = d2(d + 8);
	info->yy = d2(d + 10);
	info->serial = d2(d + 12) * 100 + d2(d + 14);
	info->female = day > 40;
	return true;
}

/*
 * [1] NIK without the region table: one of the 38 provinces, a regency
 * 01-69 or 71-99, a district 01-99, the date and the serial. For regions
 * the table does not have (splits before 2015); the caller asks for
 * context.
 */
bool
det_nik_loose(const char *d)
{
	static const uint8_t prov[] = { 11, 12, 13, 14, 15, 16, 17, 18, 19,
	    21, 31, 32, 33, 34, 35, 36, 51, 52, 53, 61, 62, 63, 64, 65, 71,
	    72, 73, 74, 75, 76, 81, 82, 91, 92, 93, 94, 95, 96 };
	unsigned p = d2(d), reg = d2(d + 2), day = d2(d + 6);
	size_t i;

	for (i = 0; i < sizeof(prov) && prov[i] != p; i++)
		;
	if (i == sizeof(prov) || reg == 0 || reg == 70 || d2(d + 4) == 0)
		return false;
	if (day > 40)
		day -= 40;
	return valid_ddmmyy(day, d2(d + 8), d2(d + 10)) &&
	    d2(d + 12) * 100 + d2(d + 14) != 0;
}

/* [2] KK: as NIK, issue date, no +40. */
bool
det_kk_digits(const char *d)
{
	if (d2(d + 6) > 31)
		return false;
	return det_nik_digits(d, NULL);
}

/* [3.2] 0 + old NPWP, or a NIK. */
bool
det_npwp16_digits(const char *d)
{
	if (d[0] == '0')
		return det_npwp15_digits(d + 1);
	return det_nik_digits(d, NULL);
}

bool
det_card_digits(const char *d, size_t n, bool *brand)
{
	unsigned p2, p3, p4;
	bool b = false;

	if (brand != NULL)
		*brand = false;
	if (n < 13 || n > 19 || !det_luhn(d, n))
		return false;
	p2 = d2(d);
	p3 = p2 * 10 + (unsigned)(d[2] - '0');
	p4 = p2 * 100 + d2(d + 2);
	if (d[0] == '4')				/* Visa */
		b = n == 13 || n == 16 || n == 19;
	else if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720))
		b = n == 16;				/* Mastercard */
	else if (p2 == 34 || p2 == 37)
		b = n == 15;				/* Amex */
	else if (p4 >= 3528 && p4 <= 3589)
		b = n >= 16;				/* JCB */
	else if (p2 == 62 || p2 == 81)
		b = n >= 16;				/* UnionPay */
	else if (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65)
		b = n >= 16;				/* Discover */
	else if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 ||
	    p2 == 39)
		b = n >= 14;				/* Diners */
	if (brand != NULL)
		*brand = b;
	return true;
}

/* [6] NIP: YYYYMMDD YYYYMM G SSS. */
bool
det_nip_digits(const char *d)
{
	unsigned by, bm, bd, ay;

	by = d2(d) * 100 + d2(d + 2);
	bm = d2(d + 4);
	bd = d2(d + 6);
	ay = d2(d + 8) * 100 + d2(d + 10);
	if (by < 1940 || by > 2012)
		return false;
	if (!valid_ddmmyy(bd, bm, by % 4 == 0 ? 0 : 1))
		return false;
	if (ay < by + 17 || ay > 2039)
		return false;
	if (d[14] != '1' && d[14] != '2')
		return false;
	return memcmp(d + 15, "000", 3) != 0;
}

bool
det_valid_nik(const char *s, size_t n, struct det_nik_info *info)
{
	char d[20];

	if (det_compact(s, n, false, d, sizeof(d)) != 16)
		return false;
	return det_nik_digits(d, info);
}

bool
det_valid_kk(const char *s, size_t n)
{
	char d[20];

	if (det_compact(s, n, false, d, sizeof(d)) != 16)
		return false;
	return det_kk_digits(d);
}

bool
det_valid_npwp(const char *s, size_t n)
{
	char d[20];
	size_t k;

	k = det_compact(s, n, false, d, sizeof(d));
	if (k == 15)
		return det_npwp15_digits(d);
	if (k == 16)
		return det_npwp16_digits(d);
	return false;
}

size_t
det_valid_phone(const char *s, size_t n, char *norm, size_t normlen)
{
	char d[24];
	const char *nsn;
	size_t k, i, nn;
	bool plus;

	/* '+' once, before any digit, and only as +62. */
	plus = false;
	for (i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			break;
		if (s[i] == '+')
			plus = true;
	}
	for (; i < n; i++)
		if (s[i] == '+')
			return 0;
	k = det_compact(s, n, true, d, sizeof(d));
	if (k == 0 || (plus && (k < 2 || d[0] != '6' || d[1] != '2')))
		return 0;
	if (d[0] == '0') {
		nsn = d + 1;
		nn = k - 1;
	} else if (k >= 2 && d[0] == '6' && d[1] == '2') {
		nsn = d + 2;
		nn = k - 2;
	} else
		return 0;
	if (!det_mobile_nsn(nsn, nn))
		return 0;
	if (norm != NULL) {
		if (normlen < nn + 3)
			return 0;
		norm[0] = '6';
		norm[1] = '2';
		memcpy(norm + 2, nsn, nn);
		norm[nn + 2] = '\0';
	}
	return nn + 2;
}

/*
 * E-mail bytes as bit sets over ASCII (bit c of lo for c < 64, bit c - 64
 * of hi): letters, digits and .!#$%&'*+/=?^_`{|}~- for the local part;
 * letters, digits, '-' and '.' for the domain.
 */
#define EM_LOCAL_LO	0xa3ffecfa00000000ULL
#define EM_LOCAL_HI	0x7fffffffc7fffffeULL
#define EM_DOM_LO	0x03ff600000000000ULL
#define EM_DOM_HI	0x07fffffe07fffffeULL

static inline bool
in_set(unsigned char c, uint64_t lo, uint64_t hi)
{
	if (c < 64)
		return (lo >> c) & 1;
	if (c < 128)
		return (hi >> (c - 64)) & 1;
	return false;
}

bool
det_email_local_char(unsigned char c)
{
	return in_set(c, EM_LOCAL_LO, EM_LOCAL_HI);
}

bool
det_email_domain_char(unsigned char c)
{
	return in_set(c, EM_DOM_LO, EM_DOM_HI);
}

/* [9] The domain d[0..end): labels 1-63, no '-' at either end, a TLD of letters. */
static bool
email_domain(const char *p, const char *end)
{
	const char *dot;
	size_t i, lab;

	if (p == end)
		return false;
	dot = NULL;
	lab = 0;
	for (; p < end; p++) {
		if (*p == '.') {
			if (lab == 0 || p[-1] == '-')
				return false;
			dot = p;
			lab = 0;
			continue;
		}
		if (!in_set((unsigned char)*p, EM_DOM_LO, EM_DOM_HI))
			return false;
		if (lab == 0 && *p == '-')
			return false;
		if (++lab > 63)
			return false;
	}
	if (dot == NULL || lab < 2 || end[-1] == '-')
		return false;
	for (i = 1; dot + i < end; i++)
		if (!((dot[i] >= 'a' && dot[i] <= 'z') ||
		    (dot[i] >= 'A' && dot[i] <= 'Z')))
			return false;
	return true;
}

/* [9] WHATWG rule, TLD of two or more letters. */
bool
det_valid_email(const char *s, size_t n)
{
	const char *at, *p;

	if (n == 0 || n >= DET_VALUE_MAX)
		return false;
	at = memchr(s, '@', n);
	if (at == NULL || at == s || at - s > 64)
		return false;
	for (p = s; p < at; p++)
		if (!in_set((unsigned char)*p, EM_LOCAL_LO, EM_LOCAL_HI))
			return false;
	return email_domain(at + 1, s + n);
}

#ifdef __SSE2__
/*
 * email_domain() for a domain of 1-16 bytes at d, with 16 bytes readable:
 * the same rules as bit masks over its positions (bit i: byte i).
 */
static bool
email_domain16(const char *d, size_t len)
{
	__m128i v, lo;
	unsigned all, dot, dash, alpha, dig;

	v = _mm_loadu_si128((const __m128i *)(const void *)d);
	all = (1u << len) - 1;
	dot = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v,
	    _mm_set1_epi8('.'))) & all;
	dash = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v,
	    _mm_set1_epi8('-'))) & all;
	/* (c | 0x20) - 'a' < 26, as a signed compare after a shift. */
	lo = _mm_add_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)),
	    _mm_set1_epi8(0x1f));
	alpha = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(lo,
	    _mm_set1_epi8(-102))) & all;
	dig = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(_mm_add_epi8(v,
	    _mm_set1_epi8(0x50)), _mm_set1_epi8(-118))) & all;
	return det_email_domain_bits(alpha, dig, dot, dash, len);
}
#endif

bool
det_email_valid_at(const char *s, size_t n, size_t at)
{
	if (n >= DET_VALUE_MAX || at == 0 || at > 64 || at >= n ||
	    s[at] != '@')
		return false;
#ifdef __SSE2__
	/* s is a DET_VALUE_MAX-byte buffer: at + 1 + 16 <= 81 is readable. */
	if (n - at - 1 <= 16)
		return email_domain16(s + at + 1, n - at - 1);
#endif
	return email_domain(s + at + 1, s + n);
}

/*
 * Role mailboxes: not personal. DET_ROLE_PAIRS (det_scan_int.h) has a bit
 * for the first two letters of each.
 */
/* Sorted: det_email_role_names() searches them by first letter. */
#define R(s)	{ s, sizeof(s) - 1 }
static const struct {
	const char	*name;
	size_t		 len;
} roles[] = { R("abuse"), R("admin"), R("administrator"), R("billing"),
    R("booking"), R("bounce"), R("contact"), R("cs"), R("do-not-reply"),
    R("donotreply"), R("dpo"), R("finance"), R("halo"), R("hello"),
    R("helpdesk"), R("hostmaster"), R("hr"), R("humas"), R("info"),
    R("informasi"), R("kepegawaian"), R("keuangan"), R("kontak"),
    R("layanan"), R("mail"), R("mailer-daemon"), R("marketing"),
    R("no-reply"), R("no_reply"), R("noreply"), R("notification"),
    R("notifications"), R("notifikasi"), R("office"), R("pelayanan"),
    R("pengaduan"), R("persuratan"), R("postmaster"), R("ppid"),
    R("privacy"), R("redaksi"), R("reservasi"), R("reservation"),
    R("reservations"), R("root"), R("sales"), R("security"),
    R("sekretariat"), R("support"), R("tagihan"), R("team"), R("ticket"),
    R("tiket"), R("tu"), R("umum"), R("webmaster") };
#undef R


bool
det_email_is_role(const char *s, size_t n)
{
	const char *at;

	at = memchr(s, '@', n);
	if (at == NULL)
		return false;
	return det_email_role_local(s, (size_t)(at - s));
}

/* The mask DET_ROLE_PAIRS must be: for the unit test. */
uint64_t
det_email_role_pairs(void)
{
	uint64_t m = 0;
	size_t i;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		m |= (uint64_t)1 << ((((unsigned char)roles[i].name[0] | 0x20) *
		    11 + ((unsigned char)roles[i].name[1] | 0x20)) & 63);
	return m;
}

/* The lengths of the names by first letter (det_scan_int.h). */
const uint16_t det_role_lens[26] = {
	0x2020, 0x00c0, 0x0084, 0x1408, 0x0000, 0x0080, 0x0000, 0x0534,
	0x0210, 0x0000, 0x0940, 0x0080, 0x2210, 0x3580, 0x0040, 0x0690,
	0x0000, 0x1a90, 0x09a0, 0x00f4, 0x0010, 0x0000, 0x0200, 0x0000,
	0x0000, 0x0000,
};

/* det_role_lens[] is what roles[] makes it: for the unit test. */
bool
det_email_role_lens_ok(void)
{
	uint16_t m[26] = { 0 };
	size_t i;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		if (roles[i].name[0] < 'a' || roles[i].name[0] > 'z' ||
		    roles[i].len > 15)
			return false;
		m[roles[i].name[0] - 'a'] |= (uint16_t)(1u << roles[i].len);
	}
	return memcmp(m, det_role_lens, sizeof(m)) == 0;
}

bool
det_email_role_names(const char *s, size_t len)
{
	size_t lo = 0, hi = sizeof(roles) / sizeof(roles[0]), mid, i, k;
	char c0 = (char)(s[0] | 0x20);

	/* The names are sorted: the first with this first letter. */
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (roles[mid].name[0] < c0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < sizeof(roles) / sizeof(roles[0]) &&
	    roles[i].name[0] == c0; i++) {
		if (roles[i].len != len)
			continue;
		for (k = 1; k < len; k++) {
			char c = s[k];

			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (c != roles[i].name[k])
				break;
		}
		if (k == len)
			return true;
	}
	return false;
}

bool
det_valid_card(const char *s, size_t n, bool *brand)
{
	char d[24];
	size_t k;

	k = det_compact(s, n, false, d, sizeof(d));
	if (k < 13 || k > 19)
		return false;
	return det_card_digits(d, k, brand);
}

bool
det_valid_nip(const char *s, size_t n)
{
	char d[24];

	if (det_compact(s, n, false, d, sizeof(d)) != 18)
		return false;
	return det_nip_digits(d);
}

bool
det_valid_bpjs(const char *s, size_t n)
{
	char d[20];
	size_t k, i;

	k = det_compact(s, n, false, d, sizeof(d));
	if (k != 13 && k != 11)
		return false;
	for (i = 0; i < k; i++)
		if (d[i] != '0')
			return true;
	return false;
}

bool
det_valid_sim(const char *s, size_t n)
{
	char d[16];
	size_t k = det_compact(s, n, false, d, sizeof(d));

	if (k == 12)
		return d2(d + 2) >= 1 && d2(d + 2) <= 12 &&
		    memcmp(d + 8, "0000", 4) != 0;
	if (k == 14)
		return strspn(d, "0") != 14;
	return false;
}

bool
det_valid_passport(const char *s, size_t n)
{
	size_t i = 1;

	if (n < 8 || s[0] < 'A' || s[0] > 'Z')
		return false;
	if (s[1] == ' ')
		i = 2;
	if (n - i != 7)
		return false;
	return all_digits(s + i, 7);
}
