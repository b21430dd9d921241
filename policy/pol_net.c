/*
 * pol_net: the lookup structures of the compiled policy: hash tables, CIDR
 * range sets, the ISO 3166-1 country list, GeoIP lookups and time zones.
 * See pol_int.h.
 */
#include "policy/pol_int.h"
#include "core/gb_buf.h"

#include <maxminddb.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- hashing ---- */

uint64_t
pol_hash(uint64_t seed, const void *p, size_t n)
{
	const uint8_t *s = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ (seed * 0x9e3779b97f4a7c15ULL);
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	/* Finalise: FNV's low bits are weak for short keys. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

int
pol_htab_init(struct pol_htab *t, size_t n)
{
	size_t cap = 16;

	while (cap < n * 2)
		cap <<= 1;
	if ((t->v = calloc(cap, sizeof(*t->v))) == NULL)
		return -1;
	t->mask = cap - 1;
	t->n = 0;
	return 0;
}

void
pol_htab_free(struct pol_htab *t)
{
	free(t->v);
	t->v = NULL;
	t->mask = 0;
	t->n = 0;
}

static int
htab_grow(struct pol_htab *t)
{
	struct pol_htab nt;
	size_t i, j;

	if ((nt.v = calloc((t->mask + 1) * 2, sizeof(*nt.v))) == NULL)
		return -1;
	nt.mask = (t->mask + 1) * 2 - 1;
	nt.n = t->n;
	for (i = 0; i <= t->mask; i++) {
		if (t->v[i].k == NULL)
			continue;
		for (j = t->v[i].h & nt.mask; nt.v[j].k != NULL;
		    j = (j + 1) & nt.mask)
			;
		nt.v[j] = t->v[i];
	}
	free(t->v);
	*t = nt;
	return 0;
}

uint32_t
pol_htab_put(struct pol_htab *t, uint64_t h, const void *k, uint32_t klen,
    uint32_t aux, uint32_t val)
{
	struct pol_hent *e;
	size_t i;

	if ((t->n + 1) * 2 > t->mask + 1 && htab_grow(t) == -1)
		return POL_NONE - 1;
	for (i = h & t->mask;; i = (i + 1) & t->mask) {
		e = &t->v[i];
		if (e->k == NULL)
			break;
		if (e->h == h && e->klen == klen && e->aux == aux &&
		    memcmp(e->k, k, klen) == 0)
			return e->val;
	}
	e->h = h;
	e->k = k;
	e->klen = klen;
	e->aux = aux;
	e->val = val;
	t->n++;
	return POL_NONE;
}

uint32_t
pol_htab_get(const struct pol_htab *t, uint64_t h, const void *k,
    uint32_t klen, uint32_t aux)
{
	const struct pol_hent *e;
	size_t i;

	if (t->v == NULL)
		return POL_NONE;
	for (i = h & t->mask;; i = (i + 1) & t->mask) {
		e = &t->v[i];
		if (e->k == NULL)
			return POL_NONE;
		if (e->h == h && e->klen == klen && e->aux == aux &&
		    gb_secret_eq(e->k, k, klen))
			return e->val;
	}
}

/* ---- addresses and CIDR sets ---- */

static void
v6_from_bytes(struct pol_addr *a, const uint8_t *b)
{
	int i;

	a->hi = a->lo = 0;
	for (i = 0; i < 8; i++) {
		a->hi = a->hi << 8 | b[i];
		a->lo = a->lo << 8 | b[i + 8];
	}
}

int
pol_addr_from_sa(const struct sockaddr *sa, struct pol_addr *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	const struct sockaddr_in *s4;
	const struct sockaddr_in6 *s6;
	const uint8_t *b;

	memset(a, 0, sizeof(*a));
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		a->af = AF_INET;
		a->v4 = ntohl(s4->sin_addr.s_addr);
		return 0;
	}
	if (sa->sa_family != AF_INET6)
		return -1;
	s6 = (const struct sockaddr_in6 *)(const void *)sa;
	b = s6->sin6_addr.s6_addr;
	if (memcmp(b, mapped, 12) == 0) {
		a->af = AF_INET;
		a->v4 = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
		    (uint32_t)b[14] << 8 | b[15];
		return 0;
	}
	a->af = AF_INET6;
	v6_from_bytes(a, b);
	return 0;
}

void
pol_addr_str(const struct pol_addr *a, char *buf, size_t len)
{
	uint8_t b[16];
	uint32_t n;
	int i;

	if (a->af == AF_INET) {
		n = htonl(a->v4);
		inet_ntop(AF_INET, &n, buf, (socklen_t)len);
		return;
	}
	for (i = 0; i < 8; i++) {
		b[i] = (uint8_t)(a->hi >> (56 - 8 * i));
		b[i + 8] = (uint8_t)(a->lo >> (56 - 8 * i));
	}
	inet_ntop(AF_INET6, b, buf, (socklen_t)len);
}

int
pol_cidr_parse(const char *s, struct pol_cidr *c, const char **why)
{
	char tmp[64];
	const char *slash;
	uint8_t b[16];
	unsigned long plen;
	unsigned max;
	size_t n;
	char *end;
	uint64_t mhi, mlo;

	memset(c, 0, sizeof(*c));
	c->text = s;
	slash = strchr(s, '/');
	n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(tmp)) {
		*why = "not an address";
		return -1;
	}
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, b) == 1) {
		c->addr.af = AF_INET;
		c->addr.v4 = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		    (uint32_t)b[2] << 8 | b[3];
		max = 32;
	} else if (inet_pton(AF_INET6, tmp, b) == 1) {
		c->addr.af = AF_INET6;
		v6_from_bytes(&c->addr, b);
		max = 128;
	} else {
		*why = "not an IPv4 or IPv6 address";
		return -1;
	}
	if (slash == NULL)
		plen = max;
	else {
		if (slash[1] < '0' || slash[1] > '9' ||
		    (slash[1] == '0' && slash[2] != '\0')) {
			*why = "bad prefix length";
			return -1;
		}
		plen = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || plen > max) {
			*why = "bad prefix length";
			return -1;
		}
	}
	c->plen = (unsigned)plen;
	if (c->addr.af == AF_INET) {
		uint32_t m = plen == 0 ? 0 : ~0u << (32 - plen);

		if (c->addr.v4 & ~m) {
			*why = "host bits set after the prefix length";
			return -1;
		}
		return 0;
	}
	mhi = plen == 0 ? 0 : plen >= 64 ? ~0ULL : ~0ULL << (64 - plen);
	mlo = plen <= 64 ? 0 : plen == 128 ? ~0ULL : ~0ULL << (128 - plen);
	if ((c->addr.hi & ~mhi) || (c->addr.lo & ~mlo)) {
		*why = "host bits set after the prefix length";
		return -1;
	}
	return 0;
}

static int
r4_cmp(const void *a, const void *b)
{
	const struct pol_r4 *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return 0;
}

static int
r6_cmp(const void *a, const void *b)
{
	const struct pol_r6 *x = a, *y = b;

	if (x->lohi != y->lohi)
		return x->lohi < y->lohi ? -1 : 1;
	if (x->lolo != y->lolo)
		return x->lolo < y->lolo ? -1 : 1;
	return 0;
}

/* a <= b for (hi, lo) pairs. */
static bool
le128(uint64_t ahi, uint64_t alo, uint64_t bhi, uint64_t blo)
{
	return ahi < bhi || (ahi == bhi && alo <= blo);
}

#define IDX4_MIN	256

static int
build_idx4(struct pol_cidrset *cs)
{
	size_t i = 0;
	uint32_t h;

	if ((cs->idx4 = calloc(65537, sizeof(*cs->idx4))) == NULL)
		return -1;
	for (h = 0; h < 65536; h++) {
		while (i < cs->n4 && cs->v4[i].lo < (h << 16))
			i++;
		cs->idx4[h] = (uint32_t)i;
	}
	cs->idx4[65536] = (uint32_t)cs->n4;
	return 0;
}

int
pol_cidrset_build(struct pol_cidrset *cs, struct pol_cidr *src, size_t n)
{
	size_t i, n4 = 0, n6 = 0, k;

	memset(cs, 0, sizeof(*cs));
	cs->src = src;
	cs->nsrc = n;
	for (i = 0; i < n; i++) {
		if (src[i].addr.af == AF_INET)
			n4++;
		else
			n6++;
	}
	if ((n4 && (cs->v4 = calloc(n4, sizeof(*cs->v4))) == NULL) ||
	    (n6 && (cs->v6 = calloc(n6, sizeof(*cs->v6))) == NULL)) {
		pol_cidrset_free(cs);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const struct pol_cidr *c = &src[i];

		if (c->addr.af == AF_INET) {
			uint32_t m = c->plen == 0 ? 0 : ~0u << (32 - c->plen);

			cs->v4[cs->n4].lo = c->addr.v4;
			cs->v4[cs->n4].hi = c->addr.v4 | ~m;
			cs->n4++;
		} else {
			unsigned p = c->plen;
			uint64_t mhi = p == 0 ? 0 : p >= 64 ? ~0ULL :
			    ~0ULL << (64 - p);
			uint64_t mlo = p <= 64 ? 0 : p == 128 ? ~0ULL :
			    ~0ULL << (128 - p);
			struct pol_r6 *r = &cs->v6[cs->n6++];

			r->lohi = c->addr.hi;
			r->lolo = c->addr.lo;
			r->hihi = c->addr.hi | ~mhi;
			r->hilo = c->addr.lo | ~mlo;
		}
	}
	/* Sort and merge overlapping or adjacent ranges. */
	if (cs->n4) {
		qsort(cs->v4, cs->n4, sizeof(*cs->v4), r4_cmp);
		for (i = 1, k = 0; i < cs->n4; i++) {
			if (cs->v4[k].hi == UINT32_MAX ||
			    cs->v4[i].lo <= cs->v4[k].hi + 1) {
				if (cs->v4[i].hi > cs->v4[k].hi)
					cs->v4[k].hi = cs->v4[i].hi;
			} else
				cs->v4[++k] = cs->v4[i];
		}
		cs->n4 = k + 1;
		if (cs->n4 >= IDX4_MIN && build_idx4(cs) == -1) {
			pol_cidrset_free(cs);
			return -1;
		}
	}
	if (cs->n6) {
		qsort(cs->v6, cs->n6, sizeof(*cs->v6), r6_cmp);
		for (i = 1, k = 0; i < cs->n6; i++) {
			struct pol_r6 *a = &cs->v6[k], *b = &cs->v6[i];

			if (le128(b->lohi, b->lolo, a->hihi, a->hilo)) {
				if (!le128(b->hihi, b->hilo, a->hihi, a->hilo)) {
					a->hihi = b->hihi;
					a->hilo = b->hilo;
				}
			} else
				cs->v6[++k] = *b;
		}
		cs->n6 = k + 1;
	}
	return 0;
}

void
pol_cidrset_free(struct pol_cidrset *cs)
{
	free(cs->v4);
	free(cs->v6);
	free(cs->idx4);
	cs->idx4 = NULL;
	cs->v4 = NULL;
	cs->v6 = NULL;
	cs->n4 = cs->n6 = 0;
}

bool
pol_cidrset_has(const struct pol_cidrset *cs, const struct pol_addr *a)
{
	size_t lo, hi, mid;

	if (a->af == AF_INET) {
		lo = 0;
		hi = cs->n4;
		if (cs->idx4 != NULL) {
			/* Ranges before the /16 start below the address, those
			 * after it above: bisect the /16's own. */
			lo = cs->idx4[a->v4 >> 16];
			hi = cs->idx4[(a->v4 >> 16) + 1];
		}
		/* The last range starting at or below the address. */
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (cs->v4[mid].lo <= a->v4)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo > 0 && a->v4 <= cs->v4[lo - 1].hi;
	}
	lo = 0;
	hi = cs->n6;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (le128(cs->v6[mid].lohi, cs->v6[mid].lolo, a->hi, a->lo))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && le128(a->hi, a->lo, cs->v6[lo - 1].hihi,
	    cs->v6[lo - 1].hilo);
}

const struct pol_cidr *
pol_cidrset_which(const struct pol_cidrset *cs, const struct pol_addr *a)
{
	struct pol_cidrset one;
	struct pol_r4 r4;
	struct pol_r6 r6;
	size_t i;

	for (i = 0; i < cs->nsrc; i++) {
		const struct pol_cidr *c = &cs->src[i];

		if (c->addr.af != a->af)
			continue;
		memset(&one, 0, sizeof(one));
		/* Build a one-range set on the stack. */
		if (c->addr.af == AF_INET) {
			uint32_t m = c->plen == 0 ? 0 : ~0u << (32 - c->plen);

			r4.lo = c->addr.v4;
			r4.hi = c->addr.v4 | ~m;
			one.v4 = &r4;
			one.n4 = 1;
		} else {
			unsigned p = c->plen;
			uint64_t mhi = p == 0 ? 0 : p >= 64 ? ~0ULL :
			    ~0ULL << (64 - p);
			uint64_t mlo = p <= 64 ? 0 : p == 128 ? ~0ULL :
			    ~0ULL << (128 - p);

			r6.lohi = c->addr.hi;
			r6.lolo = c->addr.lo;
			r6.hihi = c->addr.hi | ~mhi;
			r6.hilo = c->addr.lo | ~mlo;
			one.v6 = &r6;
			one.n6 = 1;
		}
		if (pol_cidrset_has(&one, a))
			return c;
	}
	return NULL;
}

/* ---- countries ---- */

/* ISO 3166-1 alpha-2, officially assigned codes (249), sorted. */
static const char iso3166[] =
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBE"
    "BFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCD"
    "CFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDM"
    "DODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGF"
    "GGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHU"
    "IDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKN"
    "KPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDME"
    "MFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNA"
    "NCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPM"
    "PNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSI"
    "SJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTK"
    "TLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVI"
    "VNVUWFWSYEYTZAZMZW";

int
pol_country_idx(const char *cc)
{
	size_t lo = 0, hi = (sizeof(iso3166) - 1) / 2, mid;
	int c;

	if (cc == NULL || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' ||
	    cc[1] > 'Z' || cc[2] != '\0')
		return -1;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = memcmp(cc, iso3166 + 2 * mid, 2);
		if (c == 0)
			return (cc[0] - 'A') * 26 + (cc[1] - 'A');
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* ---- GeoIP ---- */

int
pol_geo_open(struct pol_set *set, const char *path, const char **why)
{
	MMDB_s *db;
	int rc;

	if ((db = calloc(1, sizeof(*db))) == NULL) {
		*why = "out of memory";
		return -1;
	}
	if ((rc = MMDB_open(path, MMDB_MODE_MMAP, db)) != MMDB_SUCCESS) {
		*why = MMDB_strerror(rc);
		free(db);
		return -1;
	}
	set->mmdb = db;
	return 0;
}

void
pol_geo_close(struct pol_set *set)
{
	if (set->mmdb == NULL)
		return;
	MMDB_close(set->mmdb);
	free(set->mmdb);
	set->mmdb = NULL;
}

int
pol_geo_lookup(const struct pol_set *set, const struct pol_addr *a)
{
	MMDB_lookup_result_s r;
	MMDB_entry_data_s v;
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	const struct sockaddr *sa;
	char cc[3];
	int err, i;

	if (set->mmdb == NULL || a == NULL)
		return -1;
	/* v4-mapped addresses were made IPv4: look them up as such. */
	if (a->af == AF_INET) {
		memset(&s4, 0, sizeof(s4));
		s4.sin_family = AF_INET;
		s4.sin_addr.s_addr = htonl(a->v4);
		sa = (const struct sockaddr *)&s4;
	} else {
		memset(&s6, 0, sizeof(s6));
		s6.sin6_family = AF_INET6;
		for (i = 0; i < 8; i++) {
			s6.sin6_addr.s6_addr[i] =
			    (uint8_t)(a->hi >> (56 - 8 * i));
			s6.sin6_addr.s6_addr[i + 8] =
			    (uint8_t)(a->lo >> (56 - 8 * i));
		}
		sa = (const struct sockaddr *)&s6;
	}
	r = MMDB_lookup_sockaddr(set->mmdb, sa, &err);
	if (err != MMDB_SUCCESS || !r.found_entry)
		return -1;
	if ((MMDB_get_value(&r.entry, &v, "country", "iso_code", NULL) !=
	    MMDB_SUCCESS || !v.has_data) &&
	    (MMDB_get_value(&r.entry, &v, "registered_country", "iso_code",
	    NULL) != MMDB_SUCCESS || !v.has_data))
		return -1;
	if (v.type != MMDB_DATA_TYPE_UTF8_STRING || v.data_size != 2)
		return -1;
	cc[0] = v.utf8_string[0];
	cc[1] = v.utf8_string[1];
	cc[2] = '\0';
	return pol_country_idx(cc);
}

/* ---- time zones ---- */

/*
 * Fixed-offset zones only: Indonesia has had no daylight saving time since
 * 1964, so a zone is one offset. Named zones are the Indonesian ones and UTC.
 */
static const struct {
	const char	*name;
	int		 off;
} tzs[] = {
	{ "Asia/Jakarta", 420 },
	{ "Asia/Pontianak", 420 },
	{ "Asia/Makassar", 480 },
	{ "Asia/Jayapura", 540 },
	{ "WIB", 420 },
	{ "WITA", 480 },
	{ "WIT", 540 },
	{ "UTC", 0 },
	{ "Etc/UTC", 0 },
};

const char *const pol_tz_names[] = { "Asia/Jakarta", "Asia/Pontianak",
    "Asia/Makassar", "Asia/Jayapura", "WIB", "WITA", "WIT", "UTC", "Etc/UTC",
    NULL };

int
pol_tz_parse(const char *s, int *off)
{
	size_t i;
	int h, m;

	for (i = 0; i < sizeof(tzs) / sizeof(tzs[0]); i++) {
		if (strcmp(s, tzs[i].name) == 0) {
			*off = tzs[i].off;
			return 0;
		}
	}
	/* "+HH:MM" / "-HH:MM" */
	if ((s[0] != '+' && s[0] != '-') || strlen(s) != 6 || s[3] != ':')
		return -1;
	for (i = 1; i < 6; i++)
		if (i != 3 && (s[i] < '0' || s[i] > '9'))
			return -1;
	h = (s[1] - '0') * 10 + (s[2] - '0');
	m = (s[4] - '0') * 10 + (s[5] - '0');
	if (h > 14 || m > 59 || (h == 14 && m > 0))
		return -1;
	*off = (s[0] == '-' ? -1 : 1) * (h * 60 + m);
	return 0;
}
