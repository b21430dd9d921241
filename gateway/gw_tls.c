/*
 * gw_tls: OpenSSL 3 contexts for listeners and upstreams.
 *
 * Server side: TLS 1.2 and 1.3 only, ECDHE key exchange and AEAD ciphers
 * only, no renegotiation, no compression. Several certificates per
 * listener: certificates with the same names share one SSL_CTX (so an ECDSA
 * and an RSA certificate for one name are chosen by the client's
 * signature algorithms), and different names get their own SSL_CTX picked
 * by SNI. Session tickets are stateless and their keys are derived from a
 * per-start secret and the current rotation epoch, so every worker
 * computes the same keys without talking to the others and a ticket from
 * the previous epoch is still accepted. With tickets off no ticket is sent
 * at all (SSL_CTX_set_num_tickets(0)): issuing unused tickets costs a
 * signature-free but real encryption per handshake.
 */
#include "gateway/gw.h"
#include "core/gb_buf.h"
#include "core/gb_log.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <string.h>
#include <strings.h>
#include <time.h>

#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS13_SUITES \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:" \
	"TLS_CHACHA20_POLY1305_SHA256"
#define TLS_GROUPS	"X25519:P-256:P-384"
#define MAX_NAMES	32

/* One SSL_CTX and the names its certificates answer for. */
struct tls_site {
	SSL_CTX		*ctx;
	char		*names[MAX_NAMES];	/* lower case; "*.x" wildcards */
	size_t		 nnames;
};

struct gw_tls {
	struct tls_site	 sites[GW_MAX_CERTS];
	size_t		 nsites;
	bool		 tickets;
	uint64_t	 rotate_ms;
	unsigned char	 secret[32];	/* ticket key derivation secret */
	/* Keys of the last two epochs used, per process (no derivation on
	   every handshake). */
	struct {
		uint64_t	epoch;
		bool		valid;
		unsigned char	name[16];
		unsigned char	aes[32];
		unsigned char	hmac[32];
	}		 cache[2];
};

static int ticket_idx = -1;

const char *
gw_tls_errstr(char *buf, size_t len)
{
	unsigned long e;
	size_t off = 0;

	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		char one[256];

		ERR_error_string_n(e, one, sizeof(one));
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
			    off ? "; " : "", one);
	}
	return buf;
}

SSL_CTX *
gw_tls_ctx(const struct gw_tls *t)
{
	return t->sites[0].ctx;
}

/* Does the SNI name match a certificate name (one-label wildcards)? */
static int
name_match(const char *pattern, const char *name)
{
	const char *dot;

	if (strcasecmp(pattern, name) == 0)
		return 1;
	if (pattern[0] != '*' || pattern[1] != '.')
		return 0;
	if ((dot = strchr(name, '.')) == NULL || dot == name)
		return 0;
	return strcasecmp(pattern + 1, dot) == 0;
}

static int
sni_cb(SSL *ssl, int *alert, void *arg)
{
	struct gw_tls *t = arg;
	const char *name;
	size_t i, j;

	(void)alert;
	if ((name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) ==
	    NULL)
		return SSL_TLSEXT_ERR_OK;	/* default certificate */
	for (i = 0; i < t->nsites; i++)
		for (j = 0; j < t->sites[i].nnames; j++)
			if (name_match(t->sites[i].names[j], name)) {
				if (i != 0)
					SSL_set_SSL_CTX(ssl, t->sites[i].ctx);
				return SSL_TLSEXT_ERR_OK;
			}
	/* Unknown name: the default certificate, like nginx. */
	return SSL_TLSEXT_ERR_OK;
}

static int
alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned int i = 0;

	(void)ssl;
	(void)arg;
	while (i < inlen) {
		unsigned int n = in[i];

		if (i + 1 + n > inlen)
			break;
		if (n == 8 && memcmp(in + i + 1, "http/1.1", 8) == 0) {
			*out = in + i + 1;
			*outlen = (unsigned char)n;
			return SSL_TLSEXT_ERR_OK;
		}
		i += 1 + n;
	}
	/* Nothing we speak (h2 only): go on without ALPN. */
	return SSL_TLSEXT_ERR_NOACK;
}

/*
 * Ticket keys for an epoch: HKDF-SHA256(secret, "gerbang ticket" || epoch)
 * -> 16 bytes key name, 32 bytes AES key, 32 bytes HMAC key.
 */
static int
derive_keys(const struct gw_tls *t, uint64_t epoch, unsigned char name[16],
    unsigned char aes[32], unsigned char hmac[32])
{
	unsigned char info[24], out[80];
	EVP_KDF *kdf;
	EVP_KDF_CTX *kctx;
	OSSL_PARAM params[5], *p = params;
	int i, rc;

	memcpy(info, "gerbang ticket", 14);
	for (i = 0; i < 8; i++)
		info[14 + i] = (unsigned char)(epoch >> (56 - 8 * i));
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL)
		return -1;
	kctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (kctx == NULL)
		return -1;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)(uintptr_t)t->secret, sizeof(t->secret));
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info,
	    22);
	*p = OSSL_PARAM_construct_end();
	rc = EVP_KDF_derive(kctx, out, sizeof(out), params);
	EVP_KDF_CTX_free(kctx);
	if (rc <= 0)
		return -1;
	memcpy(name, out, 16);
	memcpy(aes, out + 16, 32);
	memcpy(hmac, out + 48, 32);
	OPENSSL_cleanse(out, sizeof(out));
	return 0;
}

/* The keys of epoch, from the cache or derived (and cached). */
static int
ticket_keys(struct gw_tls *t, uint64_t epoch, unsigned char name[16],
    unsigned char aes[32], unsigned char hmac[32])
{
	unsigned slot = (unsigned)(epoch & 1);

	if (!t->cache[slot].valid || t->cache[slot].epoch != epoch) {
		if (derive_keys(t, epoch, t->cache[slot].name,
		    t->cache[slot].aes, t->cache[slot].hmac) == -1)
			return -1;
		t->cache[slot].epoch = epoch;
		t->cache[slot].valid = true;
	}
	memcpy(name, t->cache[slot].name, 16);
	memcpy(aes, t->cache[slot].aes, 32);
	memcpy(hmac, t->cache[slot].hmac, 32);
	return 0;
}

static int
ticket_cb(SSL *ssl, unsigned char key_name[16], unsigned char *iv,
    EVP_CIPHER_CTX *ectx, EVP_MAC_CTX *hctx, int enc)
{
	struct gw_tls *t = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl),
	    ticket_idx);
	unsigned char name[16], aes[32], hmac[32];
	OSSL_PARAM params[3];
	uint64_t epoch;
	int k, rc = -1;

	if (t == NULL)
		return -1;
	epoch = (uint64_t)time(NULL) * 1000 / t->rotate_ms;
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, hmac,
	    sizeof(hmac));
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	if (enc) {
		if (ticket_keys(t, epoch, name, aes, hmac) == -1 ||
		    RAND_bytes(iv, EVP_MAX_IV_LENGTH) <= 0)
			goto out;
		memcpy(key_name, name, 16);
		if (EVP_EncryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, aes,
		    iv) <= 0 || EVP_MAC_CTX_set_params(hctx, params) <= 0)
			goto out;
		rc = 1;
		goto out;
	}
	/* Decrypt: this epoch's key, or the previous one (renew). */
	for (k = 0; k < 2; k++) {
		if (ticket_keys(t, epoch - (uint64_t)k, name, aes, hmac) == -1)
			goto out;
		if (memcmp(key_name, name, 16) != 0)
			continue;
		if (EVP_MAC_CTX_set_params(hctx, params) <= 0 ||
		    EVP_DecryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, aes,
		    iv) <= 0)
			goto out;
		rc = k == 0 ? 1 : 2;
		goto out;
	}
	rc = 0;		/* unknown key: full handshake */
out:
	OPENSSL_cleanse(aes, sizeof(aes));
	OPENSSL_cleanse(hmac, sizeof(hmac));
	return rc;
}

/* The DNS names (SANs, else the CN) a certificate answers for. */
static void
cert_names(X509 *x, struct tls_site *s)
{
	GENERAL_NAMES *gens;
	int i, n;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	n = gens ? sk_GENERAL_NAME_num(gens) : 0;
	for (i = 0; i < n && s->nnames < MAX_NAMES; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *p;
		int len;

		if (g->type != GEN_DNS)
			continue;
		p = ASN1_STRING_get0_data(g->d.dNSName);
		len = ASN1_STRING_length(g->d.dNSName);
		if (len <= 0 || memchr(p, '\0', (size_t)len) != NULL)
			continue;
		s->names[s->nnames++] = strndup((const char *)p, (size_t)len);
	}
	GENERAL_NAMES_free(gens);
	if (s->nnames == 0) {
		char cn[256];

		if (X509_NAME_get_text_by_NID(X509_get_subject_name(x),
		    NID_commonName, cn, sizeof(cn)) > 0)
			s->names[s->nnames++] = strdup(cn);
	}
}

static int
same_names(const struct tls_site *a, const struct tls_site *b)
{
	size_t i;

	if (a->nnames != b->nnames)
		return 0;
	for (i = 0; i < a->nnames; i++)
		if (a->names[i] == NULL || b->names[i] == NULL ||
		    strcasecmp(a->names[i], b->names[i]) != 0)
			return 0;
	return 1;
}

static SSL_CTX *
server_ctx_new(const struct gw_listener *l, struct gw_tls *t,
    const char *file, struct gb_diags *d)
{
	static const unsigned char sid_ctx[] = "gerbang";
	char err[512];
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION |
	    SSL_OP_SINGLE_ECDH_USE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TLS13_SUITES) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, TLS_GROUPS) != 1)
		goto fail;
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (l->tickets) {
		SSL_CTX_set_num_tickets(ctx, 1);
		SSL_CTX_set_ex_data(ctx, ticket_idx, t);
		SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb);
	} else {
		SSL_CTX_set_num_tickets(ctx, 0);
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	}
	SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
	SSL_CTX_set_tlsext_servername_callback(ctx, sni_cb);
	SSL_CTX_set_tlsext_servername_arg(ctx, t);
	if (l->client_auth != GW_CLIENT_AUTH_NONE) {
		STACK_OF(X509_NAME) *cas;
		X509_STORE *store;

		if (SSL_CTX_load_verify_locations(ctx, l->client_ca, NULL) !=
		    1) {
			gb_diag_add(d, GB_DIAG_ERROR, file, l->ca_line,
			    l->ca_col, "client_ca: cannot load \"%s\": %s",
			    l->client_ca,
			    gw_tls_errstr(err, sizeof(err)));
			SSL_CTX_free(ctx);
			return NULL;
		}
		if ((cas = SSL_load_client_CA_file(l->client_ca)) != NULL)
			SSL_CTX_set_client_CA_list(ctx, cas);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    (l->client_auth == GW_CLIENT_AUTH_REQUIRED ?
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
		SSL_CTX_set_verify_depth(ctx, 8);
		if (l->crl != NULL) {
			store = SSL_CTX_get_cert_store(ctx);
			if (X509_STORE_load_file(store, l->crl) != 1) {
				gb_diag_add(d, GB_DIAG_ERROR, file,
				    l->crl_line, l->crl_col,
				    "crl: cannot load \"%s\": %s",
				    l->crl, gw_tls_errstr(err, sizeof(err)));
				SSL_CTX_free(ctx);
				return NULL;
			}
			X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK |
			    X509_V_FLAG_CRL_CHECK_ALL);
		}
	}
	return ctx;
fail:
	gb_diag_add(d, GB_DIAG_ERROR, file, l->line, l->col,
	    "TLS setup failed: %s", gw_tls_errstr(err, sizeof(err)));
	SSL_CTX_free(ctx);
	return NULL;
}

static void
site_free(struct tls_site *s)
{
	size_t i;

	SSL_CTX_free(s->ctx);
	for (i = 0; i < s->nnames; i++)
		free(s->names[i]);
	memset(s, 0, sizeof(*s));
}

/*
 * A certificate file without its chain: OpenSSL would look the chain up in
 * the verify store (the client CAs, if any) on every handshake. Build it
 * once, the same way, now; errors are ignored as they are then. A file
 * with a chain is sent as it is, as before.
 */
static void
chain_once(SSL_CTX *ctx)
{
	STACK_OF(X509) *chain = NULL;

	if (SSL_CTX_get0_chain_certs(ctx, &chain) == 1 &&
	    (chain == NULL || sk_X509_num(chain) == 0))
		SSL_CTX_build_cert_chain(ctx,
		    SSL_BUILD_CHAIN_FLAG_IGNORE_ERROR |
		    SSL_BUILD_CHAIN_FLAG_CLEAR_ERROR);
}

static int
listener_tls(struct gw_listener *l, const char *file, struct gb_diags *d)
{
	struct gw_tls *t;
	char err[512];
	size_t i, j;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	t->tickets = l->tickets;
	t->rotate_ms = l->ticket_rotate_ms ? l->ticket_rotate_ms : 3600000;
	if (RAND_bytes(t->secret, sizeof(t->secret)) != 1) {
		free(t);
		return -1;
	}
	for (i = 0; i < l->ncerts; i++) {
		const struct gw_cert_conf *cc = &l->certs[i];
		struct tls_site probe;
		X509 *x = NULL;
		BIO *bio;

		memset(&probe, 0, sizeof(probe));
		if ((bio = BIO_new_file(cc->cert, "r")) != NULL) {
			x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
			BIO_free(bio);
		}
		if (x == NULL) {
			gb_diag_add(d, GB_DIAG_ERROR, file, cc->line, cc->col,
			    "cert: cannot read certificate \"%s\": %s",
			    cc->cert, gw_tls_errstr(err, sizeof(err)));
			continue;
		}
		cert_names(x, &probe);
		X509_free(x);
		for (j = 0; j < t->nsites; j++)
			if (same_names(&t->sites[j], &probe))
				break;
		if (j == t->nsites) {
			t->sites[j] = probe;
			t->sites[j].ctx = server_ctx_new(l, t, file, d);
			if (t->sites[j].ctx == NULL) {
				site_free(&t->sites[j]);
				continue;
			}
			t->nsites++;
		} else
			site_free(&probe);
		if (SSL_CTX_use_certificate_chain_file(t->sites[j].ctx,
		    cc->cert) != 1) {
			gb_diag_add(d, GB_DIAG_ERROR, file, cc->line, cc->col,
			    "cert: cannot load \"%s\": %s", cc->cert,
			    gw_tls_errstr(err, sizeof(err)));
			continue;
		}
		if (SSL_CTX_use_PrivateKey_file(t->sites[j].ctx, cc->key,
		    SSL_FILETYPE_PEM) != 1) {
			gb_diag_add(d, GB_DIAG_ERROR, file, cc->line, cc->col,
			    "key: cannot load \"%s\": %s", cc->key,
			    gw_tls_errstr(err, sizeof(err)));
			continue;
		}
		if (SSL_CTX_check_private_key(t->sites[j].ctx) != 1) {
			gb_diag_add(d, GB_DIAG_ERROR, file, cc->line, cc->col,
			    "key: \"%s\" does not match certificate \"%s\"",
			    cc->key, cc->cert);
			continue;
		}
		chain_once(t->sites[j].ctx);
	}
	l->tlsctx = t;
	if (t->nsites == 0) {
		if (d->nerrors == 0)
			gb_diag_add(d, GB_DIAG_ERROR, file, l->line, l->col,
			    "listener \"%s\" has no usable certificate",
			    l->name);
		return -1;
	}
	return 0;
}

static int
upstream_tls(struct gw_upstream *u, const char *file, struct gb_diags *d)
{
	char err[512];
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return -1;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1)
		goto fail;
	if (u->tls_verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (u->tls_ca != NULL) {
			if (SSL_CTX_load_verify_locations(ctx, u->tls_ca,
			    NULL) != 1) {
				gb_diag_add(d, GB_DIAG_ERROR, file,
				    u->ca_line, u->ca_col,
				    "tls.ca: cannot load \"%s\": %s",
				    u->tls_ca, gw_tls_errstr(err,
				    sizeof(err)));
				SSL_CTX_free(ctx);
				return -1;
			}
		} else if (SSL_CTX_set_default_verify_paths(ctx) != 1)
			goto fail;
	}
	u->tls_ctx = ctx;
	return 0;
fail:
	gb_diag_add(d, GB_DIAG_ERROR, file, u->line, u->col,
	    "upstream TLS setup failed: %s", gw_tls_errstr(err, sizeof(err)));
	SSL_CTX_free(ctx);
	return -1;
}

int
gw_tls_load(struct gw_conf *conf, struct gb_diags *d)
{
	size_t i, errs = d->nerrors;

	if (ticket_idx == -1)
		ticket_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
		    NULL);
	for (i = 0; i < conf->nlisteners; i++)
		if (conf->listeners[i].tls)
			listener_tls(&conf->listeners[i], conf->file, d);
	for (i = 0; i < conf->nupstreams; i++)
		if (conf->upstreams[i].tls)
			upstream_tls(&conf->upstreams[i], conf->file, d);
	if (d->nerrors > errs) {
		gw_tls_free_all(conf);
		return -1;
	}
	return 0;
}

void
gw_tls_free_all(struct gw_conf *conf)
{
	size_t i, j;

	for (i = 0; i < conf->nlisteners; i++) {
		struct gw_tls *t = conf->listeners[i].tlsctx;

		if (t == NULL)
			continue;
		for (j = 0; j < t->nsites; j++)
			site_free(&t->sites[j]);
		OPENSSL_cleanse(t->secret, sizeof(t->secret));
		OPENSSL_cleanse(t->cache, sizeof(t->cache));
		free(t);
		conf->listeners[i].tlsctx = NULL;
	}
	for (i = 0; i < conf->nupstreams; i++) {
		SSL_CTX_free(conf->upstreams[i].tls_ctx);
		conf->upstreams[i].tls_ctx = NULL;
	}
}

void
gw_tls_peer_id(SSL *ssl, struct gw_peer_id *id)
{
	X509 *x;

	memset(id, 0, sizeof(*id));
	if ((x = SSL_get0_peer_certificate(ssl)) == NULL ||
	    SSL_get_verify_result(ssl) != X509_V_OK)
		return;
	gw_tls_cert_id(x, id);
}

void
gw_tls_cert_id(X509 *x, struct gw_peer_id *id)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	GENERAL_NAMES *gens;
	BIO *bio;
	int i, n;

	memset(id, 0, sizeof(*id));
	id->present = true;
	if ((bio = BIO_new(BIO_s_mem())) != NULL) {
		X509_NAME_print_ex(bio, X509_get_subject_name(x), 0,
		    XN_FLAG_RFC2253);
		n = BIO_read(bio, id->subject, sizeof(id->subject) - 1);
		id->subject[n > 0 ? n : 0] = '\0';
		BIO_free(bio);
	}
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	n = gens ? sk_GENERAL_NAME_num(gens) : 0;
	for (i = 0; i < n; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING *s = NULL;

		if (g->type == GEN_DNS)
			s = g->d.dNSName;
		else if (g->type == GEN_EMAIL)
			s = g->d.rfc822Name;
		else if (g->type == GEN_URI)
			s = g->d.uniformResourceIdentifier;
		if (s == NULL || ASN1_STRING_length(s) <= 0 ||
		    (size_t)ASN1_STRING_length(s) >= sizeof(id->san))
			continue;
		memcpy(id->san, ASN1_STRING_get0_data(s),
		    (size_t)ASN1_STRING_length(s));
		id->san[ASN1_STRING_length(s)] = '\0';
		if (strlen(id->san) != (size_t)ASN1_STRING_length(s))
			id->san[0] = '\0';	/* embedded NUL: refuse */
		else
			break;
	}
	GENERAL_NAMES_free(gens);
	if (X509_digest(x, EVP_sha256(), md, &mdlen) == 1 && mdlen == 32) {
		gb_hex(id->fingerprint, md, mdlen);
		memcpy(id->sha256, md, 32);
	}
}
