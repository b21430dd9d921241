/*
 * gb_idhdr: sign and verify the X-Gerbang-Consumer header (gb_idhdr.h).
 */
#include "core/gb_idhdr.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DOMAIN		"gerbang-consumer-v1\n"
#define SIG_LEN		43	/* base64url of 32 bytes, no padding */

struct gb_idhdr_mac {
	EVP_MAC		*mac;
	EVP_MAC_CTX	*ctx;
};

int
gb_idhdr_key_load(const char *path, struct gb_idhdr_key *k, char *err,
    size_t errlen)
{
	uint8_t buf[GB_IDHDR_KEY_MAX + 2];
	size_t n = 0;
	ssize_t r;
	int fd;

	memset(k, 0, sizeof(*k));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (n < sizeof(buf) &&
	    (r = read(fd, buf + n, sizeof(buf) - n)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			explicit_bzero(buf, sizeof(buf));
			return -1;
		}
		n += (size_t)r;
	}
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
	    buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	if (n > GB_IDHDR_KEY_MAX || n < GB_IDHDR_KEY_MIN) {
		snprintf(err, errlen, "%s: a key has %d to %d bytes, this file "
		    "has %s%zu (make one with: openssl rand -hex 32)", path,
		    GB_IDHDR_KEY_MIN, GB_IDHDR_KEY_MAX,
		    n > GB_IDHDR_KEY_MAX ? "more than " : "",
		    n > GB_IDHDR_KEY_MAX ? (size_t)GB_IDHDR_KEY_MAX : n);
		explicit_bzero(buf, sizeof(buf));
		return -1;
	}
	memcpy(k->key, buf, n);
	k->len = n;
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

int
gb_idhdr_mac_new(const struct gb_idhdr_key *k, struct gb_idhdr_mac **out)
{
	struct gb_idhdr_mac *m;
	OSSL_PARAM params[2];

	*out = NULL;
	if (k->len < GB_IDHDR_KEY_MIN || (m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((m->mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (m->ctx = EVP_MAC_CTX_new(m->mac)) == NULL ||
	    !EVP_MAC_init(m->ctx, k->key, k->len, params)) {
		gb_idhdr_mac_free(m);
		return -1;
	}
	*out = m;
	return 0;
}

void
gb_idhdr_mac_free(struct gb_idhdr_mac *m)
{
	if (m == NULL)
		return;
	EVP_MAC_CTX_free(m->ctx);
	EVP_MAC_free(m->mac);
	free(m);
}

static bool
token_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > GB_IDHDR_ID_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-'))
			return false;
	}
	return true;
}

/* base64url, no padding, of the 32-byte MAC of (id, rid, ts) into sig. */
static int
mac_of(struct gb_idhdr_mac *m, const char *id, size_t idn, const char *rid,
    size_t ridn, const char *ts, size_t tsn, char sig[SIG_LEN + 1])
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t mdlen = 0, i, o = 0;
	uint32_t v;

	/* A NULL key re-initialises with the key already set. */
	if (!EVP_MAC_init(m->ctx, NULL, 0, NULL) ||
	    !EVP_MAC_update(m->ctx, (const unsigned char *)DOMAIN,
	    sizeof(DOMAIN) - 1) ||
	    !EVP_MAC_update(m->ctx, (const unsigned char *)id, idn) ||
	    !EVP_MAC_update(m->ctx, (const unsigned char *)"\n", 1) ||
	    !EVP_MAC_update(m->ctx, (const unsigned char *)rid, ridn) ||
	    !EVP_MAC_update(m->ctx, (const unsigned char *)"\n", 1) ||
	    !EVP_MAC_update(m->ctx, (const unsigned char *)ts, tsn) ||
	    !EVP_MAC_final(m->ctx, md, &mdlen, sizeof(md)) || mdlen != 32)
		return -1;
	for (i = 0; i + 3 <= 30; i += 3) {
		v = (uint32_t)md[i] << 16 | (uint32_t)md[i + 1] << 8 | md[i + 2];
		sig[o++] = b64[v >> 18 & 63];
		sig[o++] = b64[v >> 12 & 63];
		sig[o++] = b64[v >> 6 & 63];
		sig[o++] = b64[v & 63];
	}
	v = (uint32_t)md[30] << 16 | (uint32_t)md[31] << 8;
	sig[o++] = b64[v >> 18 & 63];
	sig[o++] = b64[v >> 12 & 63];
	sig[o++] = b64[v >> 6 & 63];
	sig[o] = '\0';
	explicit_bzero(md, sizeof(md));
	return 0;
}

int
gb_idhdr_sign(struct gb_idhdr_mac *m, const char *id, const char *rid,
    int64_t ts, char *out, size_t outlen)
{
	char tsb[24], sig[SIG_LEN + 1];
	size_t idn = strlen(id), ridn = strlen(rid);
	int tsn, n;

	if (!token_ok(id, idn) || !token_ok(rid, ridn) || ts < 0)
		return -1;
	tsn = snprintf(tsb, sizeof(tsb), "%lld", (long long)ts);
	if (mac_of(m, id, idn, rid, ridn, tsb, (size_t)tsn, sig) == -1)
		return -1;
	n = snprintf(out, outlen, "%s; rid=%s; ts=%s; sig=%s", id, rid, tsb,
	    sig);
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	return n;
}

/* "; NAME=" at *p, then a value of accepted bytes up to ';' or the end. */
static bool
param(const char **p, const char *end, const char *name, const char **v,
    size_t *vn)
{
	size_t nl = strlen(name);
	const char *s = *p, *e;

	if ((size_t)(end - s) < 2 + nl + 1 || s[0] != ';' || s[1] != ' ' ||
	    memcmp(s + 2, name, nl) != 0 || s[2 + nl] != '=')
		return false;
	s += 3 + nl;
	for (e = s; e < end && *e != ';'; e++)
		;
	*v = s;
	*vn = (size_t)(e - s);
	*p = e;
	return true;
}

enum gb_idhdr_status
gb_idhdr_verify(struct gb_idhdr_mac *m, const char *v, size_t n,
    struct gb_idhdr *h)
{
	const char *p, *end = v + n, *rid, *ts, *sig, *id;
	size_t idn, ridn, tsn, sign, i;
	char want[SIG_LEN + 1];
	int64_t t = 0;

	memset(h, 0, sizeof(*h));
	h->ts = -1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	id = v;
	for (p = v; p < end && *p != ';'; p++)
		;
	idn = (size_t)(p - id);
	if (!token_ok(id, idn))
		return GB_IDHDR_MALFORMED;
	memcpy(h->consumer, id, idn);
	if (p == end)
		return GB_IDHDR_UNSIGNED;
	if (!param(&p, end, "rid", &rid, &ridn) || !token_ok(rid, ridn) ||
	    !param(&p, end, "ts", &ts, &tsn) || tsn == 0 || tsn > 19 ||
	    !param(&p, end, "sig", &sig, &sign) || p != end ||
	    sign != SIG_LEN) {
		memset(h, 0, sizeof(*h));
		h->ts = -1;
		return GB_IDHDR_MALFORMED;
	}
	for (i = 0; i < tsn; i++) {
		if (ts[i] < '0' || ts[i] > '9' || t > (INT64_MAX - 9) / 10) {
			memset(h, 0, sizeof(*h));
			h->ts = -1;
			return GB_IDHDR_MALFORMED;
		}
		t = t * 10 + (ts[i] - '0');
	}
	memcpy(h->rid, rid, ridn);
	h->ts = t;
	if (m == NULL)
		return GB_IDHDR_UNCHECKED;
	if (mac_of(m, id, idn, rid, ridn, ts, tsn, want) == -1)
		return GB_IDHDR_BADSIG;
	return CRYPTO_memcmp(want, sig, SIG_LEN) == 0 ? GB_IDHDR_SIGNED :
	    GB_IDHDR_BADSIG;
}

const char *
gb_idhdr_status_str(enum gb_idhdr_status s)
{
	switch (s) {
	case GB_IDHDR_SIGNED:
		return "signed";
	case GB_IDHDR_UNSIGNED:
		return "unsigned";
	case GB_IDHDR_BADSIG:
		return "bad-signature";
	case GB_IDHDR_UNCHECKED:
		return "unchecked";
	case GB_IDHDR_MALFORMED:
		break;
	}
	return "malformed";
}
