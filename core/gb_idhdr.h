/*
 * gb_idhdr: the signed consumer header. The gateway tells the agency API
 * (and the sensor watching that leg) who the consumer is:
 *
 *	X-Gerbang-Consumer: dinkes-jabar; rid=9f2c01aa-1b; ts=1763820000;
 *	    sig=Vx3...43 base64url characters...
 *
 * (one line). sig is HMAC-SHA256 under a key the gateway and the sensor
 * share, over "gerbang-consumer-v1\n" ID "\n" RID "\n" TS, base64url
 * without padding. The consumer id comes first so that an API reading the
 * header up to the first ';' gets the id. Without a key the gateway sends
 * the bare id, which the sensor reports as unsigned.
 *
 * Grammar (strict): ID and RID are 1 to 64 of [A-Za-z0-9._-]; TS is 1 to 19
 * decimal digits (Unix seconds); parameters exactly in this order,
 * separated by "; ".
 *
 *	struct gb_idhdr_key k;
 *	struct gb_idhdr_mac *m;
 *
 *	gb_idhdr_key_load("/etc/gerbang/consumer.key", &k, err, sizeof(err));
 *	gb_idhdr_mac_new(&k, &m);		one per thread
 *	n = gb_idhdr_sign(m, "dinkes", rid, time(NULL), out, sizeof(out));
 *	st = gb_idhdr_verify(m, value, len, &h);
 */
#ifndef GB_IDHDR_H
#define GB_IDHDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GB_IDHDR_NAME		"X-Gerbang-Consumer"
#define GB_IDHDR_ID_MAX		64
#define GB_IDHDR_KEY_MIN	32	/* bytes */
#define GB_IDHDR_KEY_MAX	256
/* Longest header value: id, rid, ts, sig and separators. */
#define GB_IDHDR_VALUE_MAX	(64 + 6 + 64 + 5 + 19 + 6 + 43 + 1)

struct gb_idhdr_key {
	uint8_t		key[GB_IDHDR_KEY_MAX];
	size_t		len;
};

/*
 * Read a key file: its bytes, a trailing newline (and spaces) removed; at
 * least GB_IDHDR_KEY_MIN bytes (`openssl rand -hex 32` makes one). Returns
 * 0, or -1 with a message in err.
 */
int	gb_idhdr_key_load(const char *path, struct gb_idhdr_key *k, char *err,
	    size_t errlen);

/* A reusable HMAC context for one key. Not thread-safe: one per thread. */
struct gb_idhdr_mac;
int	gb_idhdr_mac_new(const struct gb_idhdr_key *k,
	    struct gb_idhdr_mac **out);
void	gb_idhdr_mac_free(struct gb_idhdr_mac *m);

/*
 * Write the signed value for (id, rid, ts) to out (NUL-terminated).
 * Returns its length, or -1: an id or rid outside the grammar, ts < 0,
 * outlen too small (GB_IDHDR_VALUE_MAX always fits), or a crypto failure.
 */
int	gb_idhdr_sign(struct gb_idhdr_mac *m, const char *id, const char *rid,
	    int64_t ts, char *out, size_t outlen);

enum gb_idhdr_status {
	GB_IDHDR_SIGNED = 0,	/* signature checked and good */
	GB_IDHDR_UNSIGNED,	/* a bare id */
	GB_IDHDR_BADSIG,	/* signed, but not with our key: forged or
				   altered */
	GB_IDHDR_UNCHECKED,	/* signed; no key to check it (m NULL) */
	GB_IDHDR_MALFORMED,	/* not this header's grammar */
};

struct gb_idhdr {
	char		consumer[GB_IDHDR_ID_MAX + 1];
	char		rid[GB_IDHDR_ID_MAX + 1];	/* "" when unsigned */
	int64_t		ts;				/* -1 when unsigned */
};

/*
 * Parse v[0..n) (leading and trailing spaces allowed) into *h and check the
 * signature with m (NULL: parse only). The fields are filled for every
 * status but MALFORMED; the comparison is constant-time.
 */
enum gb_idhdr_status gb_idhdr_verify(struct gb_idhdr_mac *m, const char *v,
	    size_t n, struct gb_idhdr *h);

/* "signed", "unsigned", "bad-signature", "unchecked", "malformed". */
const char *gb_idhdr_status_str(enum gb_idhdr_status s);

#endif /* GB_IDHDR_H */
