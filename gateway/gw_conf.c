/*
 * gw_conf: the gateway's YAML configuration -> struct gw_conf.
 *
 * Every setting is checked here with its position; the loader keeps going
 * after an error and reports up to GB_DIAG_MAX_ERRORS of them, then the
 * whole-file checks (references to unknown upstreams, shadowed routes).
 * The reference is docs/configuration.md.
 */
#include "gateway/gw.h"
#include "core/gb_log.h"
#include "core/gb_util.h"
#include "core/gb_yaml.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

void
gw_timeouts_default(struct gw_timeouts *t)
{
	t->handshake = 10000;
	t->request_header = 10000;
	t->request_body = 60000;
	t->keepalive = 60000;
	t->send = 60000;
	t->upstream_connect = 5000;
	t->upstream_send = 30000;
	t->upstream_read = 60000;
	t->upstream_idle = 30000;
	t->drain = 30000;
}

static struct gw_conf *
conf_new(void)
{
	struct gw_conf *c;
	long n;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	c->workers = n > 0 ? (unsigned)(n > GW_MAX_WORKERS ? GW_MAX_WORKERS :
	    n) : 1;
	c->log_level = GB_LOG_INFO;
	c->log_format = GB_LOG_TEXT;
	c->admin_fd = -1;
	c->max_connections = 10000;
	c->rate_limit_buckets = 65536;
	c->max_body = 0;
	gb_http_limits_default(&c->limits);
	gw_timeouts_default(&c->timeouts);
	return c;
}

void
gw_conf_free(struct gw_conf *c)
{
	size_t i, j;

	if (c == NULL)
		return;
	free(c->file);
	free(c->user);
	free(c->log_file);
	free(c->access_log);
	free(c->admin_addr_str);
	for (i = 0; i < c->nlisteners; i++) {
		struct gw_listener *l = &c->listeners[i];

		free(l->addr_str);
		for (j = 0; j < l->ncerts; j++) {
			free(l->certs[j].cert);
			free(l->certs[j].key);
		}
		free(l->client_ca);
		free(l->crl);
	}
	for (i = 0; i < c->nupstreams; i++) {
		free(c->upstreams[i].tls_ca);
		free(c->upstreams[i].tls_sni);
		free(c->upstreams[i].check_path);
	}
	free(c->upstreams);
	for (i = 0; i < c->nroutes; i++) {
		free(c->routes[i].host);
		free(c->routes[i].path);
	}
	free(c->routes);
	free(c->policy_file);
	free(c->geoip_file);
	if (c->idkey != NULL)
		explicit_bzero(c->idkey, sizeof(*c->idkey));
	free(c->idkey);
	pol_set_free(c->policy);
	free(c->pol_slots);
	free(c->pol_upstream);
	free(c);
}

/*
 * Resolve a numeric address (no DNS at load time: a name that resolves
 * differently tomorrow must not change where traffic goes without a
 * reload). host may be an IPv4 or IPv6 literal or "localhost" / "*".
 */
static int
resolve(const char *host, int port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (strcmp(host, "*") == 0 || strcmp(host, "0.0.0.0") == 0) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		*len = sizeof(*sin);
		return 0;
	}
	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

static int
parse_addr(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *n, const char *key, int default_port,
    struct sockaddr_storage *ss, socklen_t *len, char *hostout,
    size_t hostlen, int *portout)
{
	char host[256];
	const char *s;
	int port;

	if (gb_ystr(doc, d, n, key, &s) == -1)
		return -1;
	if (gb_parse_hostport(s, host, sizeof(host), &port, default_port, 0)
	    == -1) {
		gb_ydiag(doc, d, n, GB_DIAG_ERROR,
		    "%s: expected ADDRESS:PORT, got \"%s\"", key, s);
		return -1;
	}
	if (resolve(host, port, ss, len) == -1) {
		gb_ydiag(doc, d, n, GB_DIAG_ERROR,
		    "%s: \"%s\" is not an IP address (names are not resolved; "
		    "use an IPv4 or [IPv6] literal)", key, host);
		return -1;
	}
	if (hostout != NULL)
		snprintf(hostout, hostlen, "%s", host);
	if (portout != NULL)
		*portout = port;
	return 0;
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		abort();	/* config load at start: nothing to salvage */
	return p;
}

/* path, or path relative to the folder of file when it is relative. */
static char *
relative_to(const char *file, const char *path)
{
	const char *slash = strrchr(file, '/');
	char *p;

	if (path[0] == '/' || slash == NULL)
		return xstrdup(path);
	if (asprintf(&p, "%.*s/%s", (int)(slash - file), file, path) == -1)
		abort();
	return p;
}

static int
get_name(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *map, const char *what, char *out)
{
	const struct gb_ynode *n;
	const char *s;
	size_t i;

	if ((n = gb_ymap_need(doc, d, map, what, "name")) == NULL ||
	    gb_ystr(doc, d, n, "name", &s) == -1)
		return -1;
	if (*s == '\0' || strlen(s) >= GW_NAME_MAX) {
		gb_ydiag(doc, d, n, GB_DIAG_ERROR,
		    "name: must be 1 to %d characters", GW_NAME_MAX - 1);
		return -1;
	}
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.')) {
			gb_ydiag(doc, d, n, GB_DIAG_ERROR,
			    "name: \"%s\" may hold only letters, digits, '-', "
			    "'_' and '.'", s);
			return -1;
		}
	}
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static void
load_timeouts(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *n, struct gw_timeouts *t)
{
	static const char *const keys[] = {
		"handshake", "request_header", "request_body", "keepalive",
		"send", "upstream_connect", "upstream_send", "upstream_read",
		"upstream_idle", "drain", NULL,
	};
	uint64_t *dst[] = {
		&t->handshake, &t->request_header, &t->request_body,
		&t->keepalive, &t->send, &t->upstream_connect,
		&t->upstream_send, &t->upstream_read, &t->upstream_idle,
		&t->drain,
	};
	const struct gb_ynode *v;
	size_t i;

	if (gb_ymap_check(doc, d, n, "timeouts", keys) == -1 &&
	    n->type != GB_Y_MAP)
		return;
	for (i = 0; keys[i] != NULL; i++)
		if ((v = gb_ymap_get(n, keys[i])) != NULL)
			gb_yduration_ms(doc, d, v, keys[i], 1, 86400000ull,
			    dst[i]);
}

static void
load_limits(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *n, struct gw_conf *c)
{
	static const char *const keys[] = {
		"max_connections", "request_line", "header_line", "headers",
		"header_size", "body_size", "rate_limit_buckets", NULL,
	};
	const struct gb_ynode *v;
	long long ll;
	uint64_t u;

	if (gb_ymap_check(doc, d, n, "limits", keys) == -1 &&
	    n->type != GB_Y_MAP)
		return;
	if ((v = gb_ymap_get(n, "max_connections")) != NULL &&
	    gb_yint(doc, d, v, "max_connections", 1, 1000000, &ll) == 0)
		c->max_connections = (unsigned)ll;
	if ((v = gb_ymap_get(n, "request_line")) != NULL &&
	    gb_ysize(doc, d, v, "request_line", 64, 1 << 20, &u) == 0)
		c->limits.max_request_line = (size_t)u;
	if ((v = gb_ymap_get(n, "header_line")) != NULL &&
	    gb_ysize(doc, d, v, "header_line", 64, 1 << 20, &u) == 0)
		c->limits.max_header_line = (size_t)u;
	if ((v = gb_ymap_get(n, "headers")) != NULL &&
	    gb_yint(doc, d, v, "headers", 1, 1000, &ll) == 0)
		c->limits.max_headers = (size_t)ll;
	if ((v = gb_ymap_get(n, "header_size")) != NULL &&
	    gb_ysize(doc, d, v, "header_size", 256, 1 << 20, &u) == 0)
		c->limits.max_head_size = (size_t)u;
	if ((v = gb_ymap_get(n, "body_size")) != NULL &&
	    gb_ysize(doc, d, v, "body_size", 0, UINT64_MAX / 2, &u) == 0)
		c->max_body = u;
	if ((v = gb_ymap_get(n, "rate_limit_buckets")) != NULL &&
	    gb_yint(doc, d, v, "rate_limit_buckets", 1024, 1 << 24, &ll) == 0)
		c->rate_limit_buckets = (size_t)ll;
}

static const char *const client_auth_names[] = {
	"none", "optional", "required", NULL,
};

static void
load_tls(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *n, struct gw_listener *l)
{
	static const char *const keys[] = {
		"certificates", "client_auth", "client_ca", "crl",
		"session_tickets", "ticket_key_rotation", NULL,
	};
	static const char *const certkeys[] = { "cert", "key", NULL };
	const struct gb_ynode *v, *cn, *x;
	const char *s;
	size_t i;
	int e;

	if (gb_ymap_check(doc, d, n, "tls", keys) == -1 && n->type != GB_Y_MAP)
		return;
	if ((v = gb_ymap_need(doc, d, n, "tls", "certificates")) != NULL &&
	    gb_yexpect(doc, d, v, "certificates", GB_Y_SEQ) == 0) {
		if (v->len == 0)
			gb_ydiag(doc, d, v, GB_DIAG_ERROR,
			    "certificates: at least one is needed");
		if (v->len > GW_MAX_CERTS)
			gb_ydiag(doc, d, v, GB_DIAG_ERROR,
			    "certificates: at most %d", GW_MAX_CERTS);
		for (i = 0; i < v->len && i < GW_MAX_CERTS; i++) {
			cn = v->items[i];
			if (gb_ymap_check(doc, d, cn, "certificate",
			    certkeys) == -1 && cn->type != GB_Y_MAP)
				continue;
			l->certs[l->ncerts].line = cn->line;
			l->certs[l->ncerts].col = cn->col;
			if ((x = gb_ymap_need(doc, d, cn, "certificate",
			    "cert")) != NULL && gb_ystr(doc, d, x, "cert",
			    &s) == 0)
				l->certs[l->ncerts].cert = xstrdup(s);
			if ((x = gb_ymap_need(doc, d, cn, "certificate",
			    "key")) != NULL && gb_ystr(doc, d, x, "key",
			    &s) == 0)
				l->certs[l->ncerts].key = xstrdup(s);
			if (l->certs[l->ncerts].cert != NULL &&
			    l->certs[l->ncerts].key != NULL)
				l->ncerts++;
			else {
				free(l->certs[l->ncerts].cert);
				free(l->certs[l->ncerts].key);
				l->certs[l->ncerts].cert = NULL;
				l->certs[l->ncerts].key = NULL;
			}
		}
	}
	if ((v = gb_ymap_get(n, "client_auth")) != NULL &&
	    gb_yenum(doc, d, v, "client_auth", client_auth_names, &e) == 0)
		l->client_auth = (enum gw_client_auth)e;
	if ((v = gb_ymap_get(n, "client_ca")) != NULL &&
	    gb_ystr(doc, d, v, "client_ca", &s) == 0) {
		l->client_ca = xstrdup(s);
		l->ca_line = v->line;
		l->ca_col = v->col;
	}
	if ((v = gb_ymap_get(n, "crl")) != NULL &&
	    gb_ystr(doc, d, v, "crl", &s) == 0) {
		l->crl = xstrdup(s);
		l->crl_line = v->line;
		l->crl_col = v->col;
	}
	if ((v = gb_ymap_get(n, "session_tickets")) != NULL)
		gb_ybool(doc, d, v, "session_tickets", &l->tickets);
	if ((v = gb_ymap_get(n, "ticket_key_rotation")) != NULL)
		gb_yduration_ms(doc, d, v, "ticket_key_rotation", 60000,
		    7 * 86400000ull, &l->ticket_rotate_ms);
	if (l->client_auth != GW_CLIENT_AUTH_NONE && l->client_ca == NULL)
		gb_ydiag(doc, d, gb_ymap_get(n, "client_auth"), GB_DIAG_ERROR,
		    "client_auth: %s needs client_ca (the CA bundle that "
		    "signs client certificates)",
		    client_auth_names[l->client_auth]);
	if (l->crl != NULL && l->client_ca == NULL)
		gb_ydiag(doc, d, gb_ymap_get(n, "crl"), GB_DIAG_ERROR,
		    "crl: needs client_ca");
}

static void
load_listener(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *n, struct gw_conf *c)
{
	static const char *const keys[] = { "name", "listen", "tls", NULL };
	struct gw_listener *l;
	const struct gb_ynode *v;
	size_t i;

	if (c->nlisteners == GW_MAX_LISTENERS) {
		gb_ydiag(doc, d, n, GB_DIAG_ERROR, "at most %d listeners",
		    GW_MAX_LISTENERS);
		return;
	}
	l = &c->listeners[c->nlisteners];
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->tls = true;
	l->tickets = true;
	l->ticket_rotate_ms = 3600000;
	l->line = n->line;
	l->col = n->col;
	if (gb_ymap_check(doc, d, n, "listener", keys) == -1 &&
	    n->type != GB_Y_MAP)
		return;
	c->nlisteners++;
	if (get_name(doc, d, n, "listener", l->name) == 0)
		for (i = 0; i + 1 < c->nlisteners; i++)
			if (strcmp(c->listeners[i].name, l->name) == 0)
				gb_ydiag(doc, d, gb_ymap_get(n, "name"),
				    GB_DIAG_ERROR, "duplicate listener name "
				    "\"%s\"", l->name);
	if ((v = gb_ymap_need(doc, d, n, "listener", "listen")) != NULL &&
	    parse_addr(doc, d, v, "listen", -1, &l->addr, &l->addrlen, NULL,
	    0, NULL) == 0)
		l->addr_str = xstrdup(v->str);
	if ((v = gb_ymap_need(doc, d, n, "listener", "tls")) != NULL)
		load_tls(doc, d, v, l);
}

static const char *const balance_names[] = {
	"round_robin", "least_conn", NULL,
};

static void
load_server(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *n, struct gw_upstream *u)
{
	static const char *const keys[] = { "address", "weight", NULL };
	struct gw_server *s = &u->servers[u->nservers];
	const struct gb_ynode *a = n;
	long long w = 1;

	memset(s, 0, sizeof(*s));
	if (n->type == GB_Y_MAP) {
		if (gb_ymap_check(doc, d, n, "server", keys) == -1)
			return;
		if ((a = gb_ymap_need(doc, d, n, "server", "address")) ==
		    NULL)
			return;
		if (gb_ymap_get(n, "weight") != NULL &&
		    gb_yint(doc, d, gb_ymap_get(n, "weight"), "weight", 1, 100,
		    &w) == -1)
			return;
	}
	if (parse_addr(doc, d, a, "address", -1, &s->addr, &s->addrlen,
	    s->host, sizeof(s->host), &s->port) == -1)
		return;
	if (a->len >= sizeof(s->name)) {
		gb_ydiag(doc, d, a, GB_DIAG_ERROR, "address: too long");
		return;
	}
	memcpy(s->name, a->str, a->len + 1);
	s->weight = (unsigned)w;
	u->nservers++;
}

static void
load_health(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *n, struct gw_upstream *u)
{
	static const char *const keys[] = {
		"max_fails", "fail_timeout", "check", NULL,
	};
	static const char *const checkkeys[] = {
		"path", "interval", "timeout", NULL,
	};
	const struct gb_ynode *v, *x;
	const char *s;
	long long ll;

	if (gb_ymap_check(doc, d, n, "health", keys) == -1 &&
	    n->type != GB_Y_MAP)
		return;
	if ((v = gb_ymap_get(n, "max_fails")) != NULL &&
	    gb_yint(doc, d, v, "max_fails", 0, 1000, &ll) == 0)
		u->max_fails = (unsigned)ll;
	if ((v = gb_ymap_get(n, "fail_timeout")) != NULL)
		gb_yduration_ms(doc, d, v, "fail_timeout", 100, 3600000,
		    &u->fail_timeout_ms);
	if ((v = gb_ymap_get(n, "check")) == NULL)
		return;
	if (gb_ymap_check(doc, d, v, "check", checkkeys) == -1 &&
	    v->type != GB_Y_MAP)
		return;
	if ((x = gb_ymap_need(doc, d, v, "check", "path")) != NULL &&
	    gb_ystr(doc, d, x, "path", &s) == 0) {
		if (s[0] != '/' || strpbrk(s, " \r\n\t") != NULL)
			gb_ydiag(doc, d, x, GB_DIAG_ERROR,
			    "path: must start with '/' and hold no spaces");
		else
			u->check_path = xstrdup(s);
	}
	if ((x = gb_ymap_get(v, "interval")) != NULL)
		gb_yduration_ms(doc, d, x, "interval", 100, 3600000,
		    &u->check_interval_ms);
	if ((x = gb_ymap_get(v, "timeout")) != NULL)
		gb_yduration_ms(doc, d, x, "timeout", 10, 600000,
		    &u->check_timeout_ms);
}

static void
load_upstream_tls(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *n, struct gw_upstream *u)
{
	static const char *const keys[] = { "verify", "ca", "sni", NULL };
	const struct gb_ynode *v;
	const char *s;

	if (n->type == GB_Y_SCALAR) {
		gb_ybool(doc, d, n, "tls", &u->tls);
		return;
	}
	if (gb_ymap_check(doc, d, n, "tls", keys) == -1 &&
	    n->type != GB_Y_MAP)
		return;
	u->tls = true;
	if ((v = gb_ymap_get(n, "verify")) != NULL)
		gb_ybool(doc, d, v, "verify", &u->tls_verify);
	if ((v = gb_ymap_get(n, "ca")) != NULL &&
	    gb_ystr(doc, d, v, "ca", &s) == 0) {
		u->tls_ca = xstrdup(s);
		u->ca_line = v->line;
		u->ca_col = v->col;
	}
	if ((v = gb_ymap_get(n, "sni")) != NULL &&
	    gb_ystr(doc, d, v, "sni", &s) == 0)
		u->tls_sni = xstrdup(s);
}

static void
upstream_defaults(struct gw_upstream *u)
{
	memset(u, 0, sizeof(*u));
	u->tls_verify = true;
	u->keepalive = 32;
	u->max_fails = 3;
	u->fail_timeout_ms = 10000;
	u->check_interval_ms = 5000;
	u->check_timeout_ms = 2000;
	u->retries = 1;
}

static void
load_upstream(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *n, struct gw_conf *c)
{
	static const char *const keys[] = {
		"name", "servers", "balance", "tls", "keepalive", "health",
		"retries", NULL,
	};
	struct gw_upstream *u = &c->upstreams[c->nupstreams];
	const struct gb_ynode *v;
	long long ll;
	size_t i;
	int e;

	upstream_defaults(u);
	u->line = n->line;
	u->col = n->col;
	if (gb_ymap_check(doc, d, n, "upstream", keys) == -1 &&
	    n->type != GB_Y_MAP)
		return;
	c->nupstreams++;
	if (get_name(doc, d, n, "upstream", u->name) == 0)
		for (i = 0; i + 1 < c->nupstreams; i++)
			if (strcmp(c->upstreams[i].name, u->name) == 0)
				gb_ydiag(doc, d, gb_ymap_get(n, "name"),
				    GB_DIAG_ERROR, "duplicate upstream name "
				    "\"%s\"", u->name);
	if ((v = gb_ymap_need(doc, d, n, "upstream", "servers")) != NULL &&
	    gb_yexpect(doc, d, v, "servers", GB_Y_SEQ) == 0) {
		if (v->len == 0 || v->len > GW_MAX_SERVERS)
			gb_ydiag(doc, d, v, GB_DIAG_ERROR,
			    "servers: 1 to %d servers", GW_MAX_SERVERS);
		for (i = 0; i < v->len && i < GW_MAX_SERVERS; i++)
			load_server(doc, d, v->items[i], u);
	}
	if ((v = gb_ymap_get(n, "balance")) != NULL &&
	    gb_yenum(doc, d, v, "balance", balance_names, &e) == 0)
		u->balance = (enum gw_balance)e;
	if ((v = gb_ymap_get(n, "tls")) != NULL)
		load_upstream_tls(doc, d, v, u);
	if ((v = gb_ymap_get(n, "keepalive")) != NULL &&
	    gb_yint(doc, d, v, "keepalive", 0, 10000, &ll) == 0)
		u->keepalive = (unsigned)ll;
	if ((v = gb_ymap_get(n, "retries")) != NULL &&
	    gb_yint(doc, d, v, "retries", 0, GW_MAX_SERVERS, &ll) == 0)
		u->retries = (unsigned)ll;
	if ((v = gb_ymap_get(n, "health")) != NULL)
		load_health(doc, d, v, u);
}

static int
valid_host(const char *s)
{
	size_t i;

	if (*s == '\0' || strlen(s) > 253)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.' || ch == '[' || ch == ']' ||
		    ch == ':' || (i == 0 && ch == '*')))
			return 0;
	}
	return 1;
}

static void
load_route(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *n, struct gw_conf *c, const struct gb_ynode **upn)
{
	static const char *const keys[] = {
		"name", "host", "path", "exact", "upstream", "upgrade", NULL,
	};
	struct gw_route *r = &c->routes[c->nroutes];
	const struct gb_ynode *v;
	const char *s, *err;
	char norm[1024];
	size_t i, nl;

	memset(r, 0, sizeof(*r));
	r->line = n->line;
	r->col = n->col;
	*upn = NULL;
	if (gb_ymap_check(doc, d, n, "route", keys) == -1 &&
	    n->type != GB_Y_MAP)
		return;
	c->nroutes++;
	if (get_name(doc, d, n, "route", r->name) == 0)
		for (i = 0; i + 1 < c->nroutes; i++)
			if (strcmp(c->routes[i].name, r->name) == 0)
				gb_ydiag(doc, d, gb_ymap_get(n, "name"),
				    GB_DIAG_ERROR, "duplicate route name "
				    "\"%s\"", r->name);
	if ((v = gb_ymap_get(n, "host")) != NULL &&
	    gb_ystr(doc, d, v, "host", &s) == 0) {
		char low[256];

		for (i = 0; s[i] != '\0' && i < sizeof(low) - 1; i++)
			low[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ?
			    s[i] + 32 : s[i]);
		low[i] = '\0';
		if (!valid_host(low))
			gb_ydiag(doc, d, v, GB_DIAG_ERROR,
			    "host: \"%s\" is not a host name", s);
		else if (strcmp(low, "*") != 0)
			r->host = xstrdup(low);
	}
	if ((v = gb_ymap_need(doc, d, n, "route", "path")) != NULL &&
	    gb_ystr(doc, d, v, "path", &s) == 0) {
		/*
		 * Routes are matched against normalised paths, so the route
		 * itself must be in normal form or it could never match.
		 */
		const char *q;
		size_t ql;

		if (s[0] != '/' || strlen(s) >= sizeof(norm) ||
		    gb_http_path_normalize(s, strlen(s), norm, sizeof(norm),
		    &nl, &q, &ql, &err) == -1 || q != NULL)
			gb_ydiag(doc, d, v, GB_DIAG_ERROR,
			    "path: \"%s\" is not a valid path", s);
		else if (strcmp(norm, s) != 0)
			gb_ydiag(doc, d, v, GB_DIAG_ERROR,
			    "path: \"%s\" is not in normal form (write \"%s\")",
			    s, norm);
		else {
			r->path = xstrdup(s);
			r->path_len = strlen(s);
		}
	}
	if ((v = gb_ymap_get(n, "exact")) != NULL)
		gb_ybool(doc, d, v, "exact", &r->exact);
	if ((v = gb_ymap_get(n, "upgrade")) != NULL)
		gb_ybool(doc, d, v, "upgrade", &r->upgrade);
	*upn = gb_ymap_need(doc, d, n, "route", "upstream");
}

/* Does route a match every request route b matches (b is shadowed)? */
static int
route_covers(const struct gw_route *a, const struct gw_route *b)
{
	if (a->path == NULL || b->path == NULL)
		return 0;
	if (a->host != NULL && (b->host == NULL || strcmp(a->host, b->host)))
		return 0;
	if (a->exact)
		return b->exact && strcmp(a->path, b->path) == 0;
	if (strncmp(a->path, b->path, a->path_len) != 0)
		return 0;
	/* "/api" covers "/api/x" and "/api" but not "/apix". */
	return a->path[a->path_len - 1] == '/' ||
	    b->path[a->path_len] == '\0' || b->path[a->path_len] == '/';
}

static void
load_log(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *n, struct gw_conf *c)
{
	static const char *const keys[] = {
		"level", "format", "file", "access_log", "access_log_query",
		NULL,
	};
	static const char *const levels[] = {
		"debug", "info", "notice", "warn", "error", "crit", NULL,
	};
	static const char *const formats[] = { "text", "json", NULL };
	const struct gb_ynode *v;
	const char *s;
	int e;

	if (gb_ymap_check(doc, d, n, "log", keys) == -1 && n->type != GB_Y_MAP)
		return;
	if ((v = gb_ymap_get(n, "level")) != NULL &&
	    gb_yenum(doc, d, v, "level", levels, &e) == 0)
		c->log_level = e;
	if ((v = gb_ymap_get(n, "format")) != NULL &&
	    gb_yenum(doc, d, v, "format", formats, &e) == 0)
		c->log_format = e;
	if ((v = gb_ymap_get(n, "file")) != NULL &&
	    gb_ystr(doc, d, v, "file", &s) == 0)
		c->log_file = xstrdup(s);
	if ((v = gb_ymap_get(n, "access_log")) != NULL &&
	    gb_ystr(doc, d, v, "access_log", &s) == 0) {
		free(c->access_log);
		c->access_log = strcmp(s, "off") == 0 ? NULL : xstrdup(s);
	}
	if ((v = gb_ymap_get(n, "access_log_query")) != NULL)
		gb_ybool(doc, d, v, "access_log_query", &c->access_log_query);
}

static void
load_root(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *root, struct gw_conf *c)
{
	static const char *const keys[] = {
		"workers", "user", "log", "admin", "limits", "timeouts",
		"listeners", "upstreams", "routes", "policy", "geoip",
		"consumer_header", "path_parameters", NULL,
	};
	static const char *const chkeys[] = { "hmac_key", NULL };
	static const char *const adminkeys[] = { "listen", NULL };
	const struct gb_ynode *v, *ls, *us, *rs, *x;
	const struct gb_ynode **upn = NULL;
	const char *s;
	long long ll;
	size_t i, j;

	if (root == NULL) {
		gb_diag_add(d, GB_DIAG_ERROR, doc->file, 0, 0,
		    "empty configuration");
		return;
	}
	if (gb_ymap_check(doc, d, root, "configuration", keys) == -1 &&
	    root->type != GB_Y_MAP)
		return;
	if ((v = gb_ymap_get(root, "workers")) != NULL) {
		if (v->type == GB_Y_SCALAR && strcmp(v->str, "auto") == 0)
			;
		else if (gb_yint(doc, d, v, "workers", 1, GW_MAX_WORKERS,
		    &ll) == 0)
			c->workers = (unsigned)ll;
	}
	if ((v = gb_ymap_get(root, "user")) != NULL &&
	    gb_ystr(doc, d, v, "user", &s) == 0)
		c->user = xstrdup(s);
	c->access_log = xstrdup("-");
	if ((v = gb_ymap_get(root, "log")) != NULL)
		load_log(doc, d, v, c);
	if ((v = gb_ymap_get(root, "admin")) != NULL &&
	    (gb_ymap_check(doc, d, v, "admin", adminkeys) == 0 ||
	    v->type == GB_Y_MAP) &&
	    (x = gb_ymap_get(v, "listen")) != NULL &&
	    parse_addr(doc, d, x, "listen", -1, &c->admin_addr,
	    &c->admin_addrlen, NULL, 0, NULL) == 0)
		c->admin_addr_str = xstrdup(x->str);
	if ((v = gb_ymap_get(root, "limits")) != NULL)
		load_limits(doc, d, v, c);
	if ((v = gb_ymap_get(root, "path_parameters")) != NULL)
		gb_ybool(doc, d, v, "path_parameters", &c->path_params);
	if ((v = gb_ymap_get(root, "timeouts")) != NULL)
		load_timeouts(doc, d, v, &c->timeouts);

	if ((ls = gb_ymap_need(doc, d, root, "configuration", "listeners")) !=
	    NULL && gb_yexpect(doc, d, ls, "listeners", GB_Y_SEQ) == 0) {
		if (ls->len == 0)
			gb_ydiag(doc, d, ls, GB_DIAG_ERROR,
			    "listeners: at least one is needed");
		for (i = 0; i < ls->len; i++)
			load_listener(doc, d, ls->items[i], c);
	}
	if ((us = gb_ymap_need(doc, d, root, "configuration", "upstreams")) !=
	    NULL && gb_yexpect(doc, d, us, "upstreams", GB_Y_SEQ) == 0) {
		if (us->len > GW_MAX_UPSTREAMS)
			gb_ydiag(doc, d, us, GB_DIAG_ERROR,
			    "upstreams: at most %d", GW_MAX_UPSTREAMS);
		else if ((c->upstreams = calloc(us->len ? us->len : 1,
		    sizeof(*c->upstreams))) != NULL)
			for (i = 0; i < us->len; i++)
				load_upstream(doc, d, us->items[i], c);
	}
	if ((v = gb_ymap_get(root, "policy")) != NULL &&
	    gb_ystr(doc, d, v, "policy", &s) == 0)
		c->policy_file = relative_to(doc->file, s);
	if ((v = gb_ymap_get(root, "geoip")) != NULL &&
	    gb_ystr(doc, d, v, "geoip", &s) == 0)
		c->geoip_file = relative_to(doc->file, s);
	if ((v = gb_ymap_get(root, "consumer_header")) != NULL &&
	    (gb_ymap_check(doc, d, v, "consumer_header", chkeys) == 0 ||
	    v->type == GB_Y_MAP) && (x = gb_ymap_get(v, "hmac_key")) != NULL &&
	    gb_ystr(doc, d, x, "hmac_key", &s) == 0) {
		char *path = relative_to(doc->file, s), err[512];

		/* Read now, by the master: workers cannot after the drop. */
		if ((c->idkey = calloc(1, sizeof(*c->idkey))) == NULL ||
		    path == NULL ||
		    gb_idhdr_key_load(path, c->idkey, err, sizeof(err)) == -1) {
			gb_ydiag(doc, d, x, GB_DIAG_ERROR, "hmac_key: %s",
			    path == NULL || c->idkey == NULL ? "out of memory" :
			    err);
			free(c->idkey);
			c->idkey = NULL;
		}
		free(path);
	}
	if (c->policy_file != NULL && gb_ymap_get(root, "routes") != NULL)
		gb_ydiag(doc, d, gb_ymap_get(root, "routes"), GB_DIAG_ERROR,
		    "routes: the policy decides routing; remove routes: or "
		    "policy:");
	rs = c->policy_file != NULL ? NULL : gb_ymap_need(doc, d, root,
	    "configuration", "routes");
	if (rs != NULL && gb_yexpect(doc, d, rs, "routes", GB_Y_SEQ) == 0) {
		if (rs->len > GW_MAX_ROUTES)
			gb_ydiag(doc, d, rs, GB_DIAG_ERROR,
			    "routes: at most %d", GW_MAX_ROUTES);
		else if ((c->routes = calloc(rs->len ? rs->len : 1,
		    sizeof(*c->routes))) != NULL &&
		    (upn = calloc(rs->len ? rs->len : 1, sizeof(*upn))) !=
		    NULL)
			for (i = 0; i < rs->len; i++)
				load_route(doc, d, rs->items[i], c,
				    &upn[c->nroutes]);
	}
	/* Whole-file checks: references, then shadowed routes. */
	for (i = 0; upn != NULL && i < c->nroutes; i++) {
		struct gw_route *r = &c->routes[i];

		if (upn[i] == NULL || gb_ystr(doc, d, upn[i], "upstream",
		    &s) == -1)
			continue;
		for (j = 0; j < c->nupstreams; j++)
			if (strcmp(c->upstreams[j].name, s) == 0)
				break;
		if (j == c->nupstreams) {
			const char *names[GW_MAX_UPSTREAMS + 1], *hint;

			for (j = 0; j < c->nupstreams; j++)
				names[j] = c->upstreams[j].name;
			names[j] = NULL;
			hint = gb_did_you_mean(s, names);
			gb_ydiag(doc, d, upn[i], GB_DIAG_ERROR,
			    "upstream: unknown upstream \"%s\"%s%s%s", s,
			    hint ? " (did you mean \"" : "", hint ? hint : "",
			    hint ? "\"?)" : "");
		} else
			r->upstream = j;
	}
	for (i = 0; i < c->nroutes; i++)
		for (j = 0; j < i; j++)
			if (route_covers(&c->routes[j], &c->routes[i])) {
				gb_diag_add(d, GB_DIAG_ERROR, doc->file,
				    c->routes[i].line, c->routes[i].col,
				    "route \"%s\" is shadowed by route \"%s\" "
				    "(line %u): it can never match",
				    c->routes[i].name, c->routes[j].name,
				    c->routes[j].line);
				break;
			}
	free(upn);
}

/*
 * The upstream of every policy route, by index, once at load (the policy
 * checked the names against ours), so requests never compare names.
 */
static int
resolve_policy_upstreams(struct gw_conf *c)
{
	size_t i, j, n = pol_set_nroutes(c->policy);
	const char *name;

	if ((c->pol_upstream = calloc(n ? n : 1, sizeof(*c->pol_upstream))) ==
	    NULL)
		return -1;
	for (i = 0; i < n; i++) {
		name = pol_set_route_upstream(c->policy, i);
		c->pol_upstream[i] = SIZE_MAX;
		for (j = 0; name != NULL && j < c->nupstreams; j++)
			if (strcmp(c->upstreams[j].name, name) == 0) {
				c->pol_upstream[i] = j;
				break;
			}
	}
	return 0;
}

int
gw_conf_load(const char *path, struct gw_conf **out, struct gb_diags *d)
{
	struct gb_ydoc *doc;
	struct gw_conf *c;
	size_t errs = d->nerrors;

	*out = NULL;
	if (gb_yaml_load_file(path, NULL, &doc, d) == -1)
		return -1;
	if ((c = conf_new()) == NULL) {
		gb_ydoc_free(doc);
		gb_diag_add(d, GB_DIAG_ERROR, path, 0, 0, "out of memory");
		return -1;
	}
	c->file = xstrdup(path);
	load_root(doc, d, doc->root, c);
	gb_ydoc_free(doc);
	if (d->nerrors == errs && c->policy_file != NULL) {
		const char *names[GW_MAX_UPSTREAMS + 1];
		struct pol_load_opts o;
		size_t i;

		for (i = 0; i < c->nupstreams; i++)
			names[i] = c->upstreams[i].name;
		names[i] = NULL;
		memset(&o, 0, sizeof(o));
		o.upstreams = names;
		o.geoip_db = c->geoip_file;
		if (pol_set_load(c->policy_file, &o, &c->policy, d) == -1)
			c->policy = NULL;
		else if (resolve_policy_upstreams(c) == -1)
			gb_diag_add(d, GB_DIAG_ERROR, path, 0, 0,
			    "out of memory");
	}
	if (d->nerrors > errs) {
		gw_conf_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

int
gw_conf_oneroute(const char *from, const char *to, const char *cert,
    const char *key, struct gw_conf **out, struct gb_diags *d)
{
	struct gw_conf *c;
	struct gw_listener *l;
	struct gw_upstream *u;
	struct gw_server *s;
	struct gw_route *r;
	char host[256];
	const char *hp;
	int port, tls = 0;

	*out = NULL;
	if (strncmp(to, "http://", 7) == 0)
		hp = to + 7;
	else if (strncmp(to, "https://", 8) == 0) {
		hp = to + 8;
		tls = 1;
	} else {
		gb_diag_add(d, GB_DIAG_ERROR, "--to", 0, 0,
		    "expected http://HOST:PORT or https://HOST:PORT, got \"%s\"",
		    to);
		return -1;
	}
	if ((c = conf_new()) == NULL)
		return -1;
	c->file = xstrdup("(command line)");
	c->access_log = xstrdup("-");
	l = &c->listeners[c->nlisteners++];
	l->fd = -1;
	l->tls = true;
	l->tickets = true;
	l->ticket_rotate_ms = 3600000;
	snprintf(l->name, sizeof(l->name), "from");
	if (gb_parse_hostport(from, host, sizeof(host), &port, -1, 0) == -1 ||
	    resolve(host, port, &l->addr, &l->addrlen) == -1)
		gb_diag_add(d, GB_DIAG_ERROR, "--from", 0, 0,
		    "expected ADDRESS:PORT with an IP address, got \"%s\"",
		    from);
	l->addr_str = xstrdup(from);
	l->certs[0].cert = xstrdup(cert);
	l->certs[0].key = xstrdup(key);
	l->ncerts = 1;
	c->upstreams = calloc(1, sizeof(*c->upstreams));
	c->routes = calloc(1, sizeof(*c->routes));
	if (c->upstreams == NULL || c->routes == NULL) {
		gw_conf_free(c);
		return -1;
	}
	u = &c->upstreams[c->nupstreams++];
	upstream_defaults(u);
	snprintf(u->name, sizeof(u->name), "to");
	u->tls = tls;
	s = &u->servers[0];
	{
		char hostport[300];
		size_t n = strcspn(hp, "/");

		snprintf(hostport, sizeof(hostport), "%.*s", (int)n, hp);
		if (hp[n] != '\0' && strcmp(hp + n, "/") != 0)
			gb_diag_add(d, GB_DIAG_ERROR, "--to", 0, 0,
			    "a path in --to is not supported: \"%s\"", to);
		if (gb_parse_hostport(hostport, s->host, sizeof(s->host),
		    &s->port, tls ? 443 : 80, 0) == -1 ||
		    resolve(s->host, s->port, &s->addr, &s->addrlen) == -1)
			gb_diag_add(d, GB_DIAG_ERROR, "--to", 0, 0,
			    "expected an IP address and port, got \"%s\"", to);
		if (strlen(hostport) >= sizeof(s->name))
			gb_diag_add(d, GB_DIAG_ERROR, "--to", 0, 0,
			    "address too long: \"%s\"", to);
		else
			memcpy(s->name, hostport, strlen(hostport) + 1);
	}
	s->weight = 1;
	u->nservers = 1;
	r = &c->routes[c->nroutes++];
	snprintf(r->name, sizeof(r->name), "default");
	r->path = xstrdup("/");
	r->path_len = 1;
	if (d->nerrors > 0) {
		gw_conf_free(c);
		return -1;
	}
	*out = c;
	return 0;
}
