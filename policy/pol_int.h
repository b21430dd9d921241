/*
 * pol_int: the compiled policy, shared by the files of policy/ and its
 * tests only. Everything here is built once by pol_load.c and read-only
 * after; nothing is allocated per request.
 */
#ifndef POL_INT_H
#define POL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/pol.h"

/* Methods a route may name: a bit each. */
#define POL_M_GET	0x01u
#define POL_M_HEAD	0x02u
#define POL_M_POST	0x04u
#define POL_M_PUT	0x08u
#define POL_M_PATCH	0x10u
#define POL_M_DELETE	0x20u
#define POL_M_OPTIONS	0x40u
#define POL_M_ALL	0x7fu

/* The bit of method m[0..n) (exact, upper case), or 0. */
unsigned	pol_method_bit(const char *m, size_t n);
/* "GET,POST": the names of the bits in mask into buf. */
const char	*pol_methods_str(unsigned mask, char *buf, size_t len);

enum pol_mode {
	POL_ENFORCE = 0,
	POL_MONITOR,
};

/* An address in one comparable form: IPv4 uses v4 only. */
struct pol_addr {
	int		af;		/* AF_INET or AF_INET6 */
	uint32_t	v4;
	uint64_t	hi, lo;
};

/* One CIDR as written, for diagnostics and explain. */
struct pol_cidr {
	struct pol_addr	 addr;		/* network address (host bits zero) */
	unsigned	 plen;
	const char	*text;
};

struct pol_r4 {
	uint32_t	lo, hi;
};

struct pol_r6 {
	uint64_t	lohi, lolo;	/* first address */
	uint64_t	hihi, hilo;	/* last address */
};

/*
 * A CIDR list compiled to sorted, disjoint, merged address ranges, searched
 * by bisection: O(log n), about 17 probes for 100,000 prefixes. Large IPv4
 * sets also index the ranges by the top 16 address bits, so a lookup
 * bisects only the few ranges of its /16.
 */
struct pol_cidrset {
	struct pol_r4	*v4;
	size_t		 n4;
	uint32_t	*idx4;		/* large sets: first range per /16 */
	struct pol_r6	*v6;
	size_t		 n6;
	struct pol_cidr	*src;		/* as written, for explain */
	size_t		 nsrc;
};

#define POL_NCOUNTRY	(26 * 26)
#define POL_CWORDS	((POL_NCOUNTRY + 63) / 64)

struct pol_net {
	struct pol_cidrset allow;	/* empty: any address */
	struct pol_cidrset deny;
	bool		 countries;	/* country rules present */
	bool		 callow_any;	/* country allow list empty */
	bool		 unknown_deny;	/* no country for the address: deny */
	uint64_t	 callow[POL_CWORDS];
	uint64_t	 cdeny[POL_CWORDS];
};

/* Days (bit 0 = Sunday, as tm_wday) and minutes [from, to) of local time. */
struct pol_window {
	uint8_t		days;
	uint16_t	from;
	uint16_t	to;
};

struct pol_limit {
	uint32_t	rps;		/* 0: no per-second limit */
	uint32_t	burst;
	uint64_t	per_day;	/* 0: no daily limit */
};

struct pol_consumer {
	const char	*id;
	const char	*agency;
	const char	*contact;
	uint64_t	 key;		/* hash of id: rate-limit state key */
	uint32_t	 idx;
	bool		 disabled;
	const char	**groups;
	size_t		 ngroups;
	struct pol_limit limit;
	struct pol_quota *quotas;
	size_t		 nquotas;
};

struct pol_route {
	const char	*id;
	uint64_t	 key;
	uint32_t	 idx;
	const char	*host;		/* lower case, NULL: any host */
	const char	*path;		/* as written */
	bool		 exact;
	unsigned	 methods;
	const char	*upstream;
	bool		 public;	/* no identity required */
	bool		 all;		/* every consumer ("*") */
	uint64_t	*allowed;	/* bitset over consumer idx */
	enum pol_mode	 mode;
	struct pol_net	*net;		/* NULL: no route network rules */
	struct pol_window *windows;
	size_t		 nwindows;
	int		 tz_min;	/* UTC offset of the windows */
	const char	*tz;
	uint64_t	 max_body;
	struct pol_limit limit;
};

/* Identity kinds in the identity table. */
enum pol_idkind {
	POL_IK_FP = 0,		/* certificate SHA-256 */
	POL_IK_KEY,		/* SHA-256 of an API key */
	POL_IK_SUBJ,		/* certificate subject */
	POL_IK_SAN,		/* certificate SAN */
};

/* Open addressing: key bytes + aux (identity kind or trie parent). */
struct pol_hent {
	uint64_t	 h;
	const void	*k;		/* NULL: empty slot */
	uint32_t	 klen;
	uint32_t	 aux;
	uint32_t	 val;
};

struct pol_htab {
	struct pol_hent	*v;
	size_t		 mask;
	size_t		 n;
};

#define POL_NONE	UINT32_MAX

/* A path trie node: routes ending here, in file order. */
struct pol_tnode {
	uint32_t	*prefix;	/* route idx */
	uint32_t	 nprefix;
	uint32_t	 ncap_prefix;
	uint32_t	*exact;
	uint32_t	 nexact;
	uint32_t	 ncap_exact;
	unsigned	 pmask;		/* methods of the prefix routes */
	unsigned	 emask;
};

/* Trie roots: node 0 holds hosts as edges, node 1 is "any host". */
#define POL_TROOT	0u
#define POL_TANY	1u

struct pol_arena;

struct pol_set {
	struct pol_arena *arena;
	struct pol_consumer *consumers;
	size_t		 nconsumers;
	struct pol_route *routes;
	size_t		 nroutes;
	size_t		 bitwords;	/* uint64_t words per consumer bitset */

	enum pol_mode	 mode;
	int		 tz_min;
	const char	*tz;
	bool		 unknown_deny;
	uint64_t	 max_body;
	struct pol_net	*net;		/* NULL: no global network rules */

	struct pol_htab	 ids;		/* identity -> consumer idx */
	struct pol_htab	 ckeys;		/* consumer key -> idx */
	struct pol_htab	 rkeys;		/* route key -> idx */
	struct pol_htab	 edges;		/* (parent, segment) -> node */
	struct pol_tnode *nodes;
	size_t		 nnodes;

	struct MMDB_s	*mmdb;		/* NULL: no GeoIP database */
	struct evp_md_st *sha256;	/* fetched once */
};

/* ---- pol_net.c ---- */

/* FNV-1a over p[0..n), seeded. */
uint64_t	pol_hash(uint64_t seed, const void *p, size_t n);

/* Hash tables (load time puts, lookup any time). */
int		pol_htab_init(struct pol_htab *t, size_t n);
void		pol_htab_free(struct pol_htab *t);
/* Insert; returns the existing value if the key is there, else POL_NONE. */
uint32_t	pol_htab_put(struct pol_htab *t, uint64_t h, const void *k,
		    uint32_t klen, uint32_t aux, uint32_t val);
uint32_t	pol_htab_get(const struct pol_htab *t, uint64_t h,
		    const void *k, uint32_t klen, uint32_t aux);

/* "10.0.0.0/8", "2001:db8::/32" or a bare address (/32, /128). 0 or -1;
 * *why says what is wrong. Host bits set are refused. */
int		pol_cidr_parse(const char *s, struct pol_cidr *c,
		    const char **why);
/* Compile src[0..n) (kept, borrowed) into set; 0 or -1 (memory). */
int		pol_cidrset_build(struct pol_cidrset *cs, struct pol_cidr *src,
		    size_t n);
void		pol_cidrset_free(struct pol_cidrset *cs);
bool		pol_cidrset_has(const struct pol_cidrset *cs,
		    const struct pol_addr *a);
/* The first CIDR as written that contains a, or NULL (explain). */
const struct pol_cidr *pol_cidrset_which(const struct pol_cidrset *cs,
		    const struct pol_addr *a);
/* Address from a sockaddr (v4-mapped v6 becomes v4); 0 or -1. */
int		pol_addr_from_sa(const struct sockaddr *sa,
		    struct pol_addr *a);
void		pol_addr_str(const struct pol_addr *a, char *buf, size_t len);

/* Index 0..675 of an ISO 3166-1 alpha-2 code (upper case), or -1 when it
 * is not an assigned code. */
int		pol_country_idx(const char *cc);

/* Country of a from the GeoIP database: index, or -1 when unknown. */
int		pol_geo_lookup(const struct pol_set *set,
		    const struct pol_addr *a);
int		pol_geo_open(struct pol_set *set, const char *path,
		    const char **why);
void		pol_geo_close(struct pol_set *set);

/* UTC offset in minutes of a zone name ("Asia/Jakarta", "+07:00"); -1
 * when unknown (*off untouched). Fixed-offset zones only. */
int		pol_tz_parse(const char *s, int *off);
extern const char *const pol_tz_names[];

/* ---- pol_state.c ---- */

/* Outcome of a rate-limit check. */
struct pol_rl {
	unsigned	 retry_after;	/* seconds, when limited */
	const char	*reason;	/* which limit, when limited */
	bool		 consumer;	/* the consumer-wide limit decided */
	uint64_t	 tokens;	/* explain: milli-tokens left */
	uint64_t	 count;		/* explain: requests today */
};

/*
 * Check (and when consume is set, take one request from) the consumer-wide
 * bucket of c and the bucket of c on r. Returns 0 (allowed), 1 (limited:
 * rl filled) or -1 (table full).
 */
int	pol_state_take(struct pol_state *st, const struct pol_set *set,
	    const struct pol_consumer *c, const struct pol_route *r,
	    time_t now, uint64_t now_ms, bool consume, struct pol_rl *rl);
/* The bound set; the reused digest context. */
const struct pol_set *pol_state_set(const struct pol_state *st);
struct evp_md_ctx_st *pol_state_mdctx(struct pol_state *st);

/* Seconds since the epoch in a fixed zone -> day number, minute of day,
 * weekday (0 = Sunday). */
void	pol_localtime(time_t now, int tz_min, int64_t *day, int *minute,
	    int *wday);

#endif /* POL_INT_H */
