/* gb_http: strict HTTP/1.1 head parser and chunked decoder. See gb_http.h. */
#include "core/gb_http.h"
#include "core/gb_util.h"

#include <stdio.h>
#include <string.h>

#define EMPTY_LINES_MAX	8	/* empty lines skipped before a start line */

/* Character classes, one bit each in ctab[]. */
#define C_TCHAR	0x01	/* RFC 9110 tchar */
#define C_FIELD	0x02	/* field-value byte: HTAB SP VCHAR obs-text */
#define C_PCHAR	0x04	/* RFC 3986 pchar without pct-encoded */
#define C_UNRES	0x08	/* RFC 3986 unreserved */
#define C_HEX	0x10	/* HEXDIG, either case */
#define C_URI	0x20	/* STRICT request-target: pchar / ? % */
#define C_LTGT	0x40	/* LENIENT request-target: 0x21-0xFF but DEL # */
#define C_QDTXT	0x80	/* quoted-string qdtext */

static const unsigned char ctab[256] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* 00 */
	0x00, 0x82, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* 08 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* 10 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* 18 */
	0x82, 0xe7, 0x42, 0x83, 0xe7, 0xe3, 0xe7, 0xe7,	/* 20 */
	0xe6, 0xe6, 0xe7, 0xe7, 0xe6, 0xef, 0xef, 0xe2,	/* 28 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 30 */
	0xff, 0xff, 0xe6, 0xe6, 0xc2, 0xe6, 0xc2, 0xe2,	/* 38 */
	0xe6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xef,	/* 40 */
	0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef,	/* 48 */
	0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef,	/* 50 */
	0xef, 0xef, 0xef, 0xc2, 0x42, 0xc2, 0xc3, 0xef,	/* 58 */
	0xc3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xef,	/* 60 */
	0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef,	/* 68 */
	0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef, 0xef,	/* 70 */
	0xef, 0xef, 0xef, 0xc2, 0xc3, 0xc2, 0xef, 0x00,	/* 78 */
	0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2,	/* 80 */
	0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2,	/* 88 */
	0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2,	/* 90 */
	0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2,	/* 98 */
	0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2,	/* a0 */
	0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2,	/* a8 */
	0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2,	/* b0 */
	0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2,	/* b8 */
	0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2,	/* c0 */
	0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2,	/* c8 */
	0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2,	/* d0 */
	0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2,	/* d8 */
	0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2,	/* e0 */
	0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2,	/* e8 */
	0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2,	/* f0 */
	0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2, 0xc2,	/* f8 */
};

/* Error texts used more than once or too long for one line. */
static const char E_EMPTY_LINES[] =
    "too many empty lines before the start line";
static const char E_TARGET_CHAR[] = "invalid character in request target";
static const char E_ASTERISK[] = "asterisk-form target without OPTIONS";
static const char E_TARGET_PCT[] = "malformed %-escape in request target";
static const char E_REASON[] = "invalid character in reason phrase";
static const char E_CL_TE[] = "both Content-Length and Transfer-Encoding";
static const char E_WS_FIRST[] = "whitespace before the first field";
static const char E_NFIELDS[] = "too many header fields";
static const char E_TE_10[] = "Transfer-Encoding in HTTP/1.0";
static const char E_TE_BAD[] = "unusable Transfer-Encoding";
static const char E_QUERY_PCT[] = "malformed %-escape in query";

#define IS(c, cls)	(ctab[(unsigned char)(c)] & (cls))
#define IS_WS(c)	((c) == ' ' || (c) == '\t')
#define IS_DIGIT(c)	((c) >= '0' && (c) <= '9')

/* Connection header tokens seen. */
#define CONN_CLOSE	0x01
#define CONN_KA		0x02
#define CONN_UPGRADE	0x04

/* Everything one head parse needs; lives on the parser's stack. */
struct head {
	const struct gb_http_limits *lim;
	enum gb_http_mode	 mode;
	struct gb_http_req	*req;		/* exactly one of req, resp */
	struct gb_http_resp	*resp;
	struct gb_http_header	*hdrs;		/* caller's array or NULL */
	size_t			 cap;
	size_t			 nfields;	/* fields started */
	size_t			 nlines;	/* field lines and folds */
	int			 pending;	/* *cur parsed, not finished */
	struct gb_http_header	*cur;		/* field being parsed: its slot
						   in hdrs, or scratch */
	struct gb_http_header	 scratch;
	int			 v11;		/* HTTP/1.1 semantics */
	/* absolute-form target, for the Host check */
	const char		*abs_host;
	size_t			 abs_host_len;
	long			 abs_port;	/* -1: none */
	long			 def_port;
	unsigned		 ncl;
	unsigned		 nte;
	unsigned		 nhost;
	uint64_t		 cl;
	int			 cl_bad;
	int			 te_bad;
	int			 te_last_chunked;
	unsigned		 te_nchunked;
	unsigned		 conn;		/* CONN_* */
	int			 upgrade;
	int			 expect;
	unsigned		 flags;
	int			 status;
	const char		*error;
};

static int
fail(struct head *h, int status, const char *why)
{
	h->status = status;
	h->error = why;
	return -1;
}

static int
strict(const struct head *h)
{
	return h->mode == GB_HTTP_STRICT;
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

/* a[0..n) and b[0..n) are equal ignoring ASCII case. */
static int
ieq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}

static int
hexval(unsigned char c)
{
	if (c <= '9')
		return c - '0';
	return lower(c) - 'a' + 10;
}

void
gb_http_limits_default(struct gb_http_limits *lim)
{
	lim->max_request_line = 8192;
	lim->max_header_line = 8192;
	lim->max_headers = 100;
	lim->max_head_size = 65536;
}

static const struct gb_flag_name flag_names[] = {
	{ GB_HTTP_F_KEEPALIVE, "KEEPALIVE" },
	{ GB_HTTP_F_EXPECT_CONTINUE, "EXPECT_CONTINUE" },
	{ GB_HTTP_F_UPGRADE, "UPGRADE" },
	{ GB_HTTP_F_CONN_CLOSE, "CONN_CLOSE" },
	{ GB_HTTP_F_HAS_CL, "HAS_CL" },
	{ GB_HTTP_F_HAS_TE, "HAS_TE" },
	{ GB_HTTP_F_ANOMALY, "ANOMALY" },
};

const char *
gb_http_flags_str(unsigned flags, char *buf, size_t len)
{
	return gb_flags_str(flag_names, sizeof(flag_names) /
	    sizeof(flag_names[0]), flags, "0", buf, len);
}

/*
 * Lists: the next element of the comma list in [*pp, e), trimmed of SP,
 * HTAB, CR and LF (the last two only appear inside LENIENT obs-folds).
 * Returns 1 with the element (possibly empty), 0 when the list is done.
 * Start with *pp = the value (NULL means an empty list).
 */
static int
list_next(const char **pp, const char *e, const char **s, size_t *n)
{
	const char *p = *pp, *c;

	if (p == NULL)
		return 0;
	c = memchr(p, ',', (size_t)(e - p));
	*pp = c != NULL ? c + 1 : NULL;
	if (c == NULL)
		c = e;
	while (p < c && (IS_WS(*p) || *p == '\r' || *p == '\n'))
		p++;
	while (c > p && (IS_WS(c[-1]) || c[-1] == '\r' || c[-1] == '\n'))
		c--;
	*s = p;
	*n = (size_t)(c - p);
	return 1;
}

int
gb_http_name_eq(const char *name, size_t len, const char *lit)
{
	return strlen(lit) == len && ieq(name, lit, len);
}

ssize_t
gb_http_header_find(const struct gb_http_header *hdrs, size_t n, size_t from,
    const char *name)
{
	size_t i;

	for (i = from; i < n; i++)
		if (gb_http_name_eq(hdrs[i].name, hdrs[i].name_len, name))
			return (ssize_t)i;
	return -1;
}

int
gb_http_token_list_has(const char *value, size_t len, const char *token)
{
	const char *p = value, *s;
	size_t n;

	if (len == 0)
		return 0;
	while (list_next(&p, value + len, &s, &n))
		if (gb_http_name_eq(s, n, token))
			return 1;
	return 0;
}

/*
 * Authorities. host_parse() validates uri-host [":" port] in s[0..n):
 * reg-name narrowed to unreserved characters, IPv4 (a reg-name by syntax)
 * or an [IPv6] literal; port 1 to 5 digits <= 65535, required when
 * need_port. Sets *hostlen and *port (-1 when absent); 0 or -1.
 */
static int
ipv4_ok(const char *s, size_t n)
{
	size_t i = 0, k;
	int parts, v;

	for (parts = 0; parts < 4; parts++) {
		if (parts > 0) {
			if (i == n || s[i] != '.')
				return 0;
			i++;
		}
		for (k = 0, v = 0; i < n && IS_DIGIT(s[i]) && k < 3; i++, k++)
			v = v * 10 + (s[i] - '0');
		if (k == 0 || v > 255 || (k > 1 && s[i - k] == '0'))
			return 0;
	}
	return i == n;
}

static int
ipv6_ok(const char *s, size_t n)
{
	size_t i = 0, st, k;
	int groups = 0, dbl = 0;

	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		dbl = 1;
		i = 2;
		if (i == n)
			return 1;
	}
	for (;;) {
		st = i;
		for (k = 0; i < n && k < 5 && IS(s[i], C_HEX); i++, k++)
			;
		if (i < n && s[i] == '.') {
			/* IPv4 tail: two groups' worth, must end the literal */
			if (!ipv4_ok(s + st, n - st))
				return 0;
			groups += 2;
			break;
		}
		if (k == 0 || k > 4)
			return 0;
		groups++;
		if (i == n)
			break;
		if (s[i++] != ':' || i == n)
			return 0;
		if (s[i] == ':') {
			if (dbl)
				return 0;
			dbl = 1;
			if (++i == n)
				break;
		}
	}
	return dbl ? groups <= 7 : groups == 8;
}

static int
host_parse(const char *s, size_t n, int need_port, size_t *hostlen,
    long *port)
{
	const char *rb;
	size_t i = 0, hl;
	long v;

	if (n == 0)
		return -1;
	if (s[0] == '[') {
		rb = memchr(s, ']', n);
		if (rb == NULL || !ipv6_ok(s + 1, (size_t)(rb - s - 1)))
			return -1;
		i = (size_t)(rb - s) + 1;
	} else {
		while (i < n && IS(s[i], C_UNRES))
			i++;
		if (i == 0)
			return -1;
	}
	hl = i;
	*port = -1;
	if (i < n) {
		if (s[i++] != ':' || i == n || n - i > 5)
			return -1;
		for (v = 0; i < n; i++) {
			if (!IS_DIGIT(s[i]))
				return -1;
			v = v * 10 + (s[i] - '0');
		}
		if (v > 65535)
			return -1;
		*port = v;
	} else if (need_port)
		return -1;
	*hostlen = hl;
	return 0;
}

/*
 * Lines. line_find() looks for the end of the line at p within [p, end),
 * reading at most max + 2 bytes. LN_DONE: *ce ends the content (before CR
 * LF, or LENIENT bare LF), *next starts the next line. LN_MORE: no line end
 * yet; [p, *ce) can be validated as a prefix (a last CR is left out: it may
 * start the CR LF). LN_LONG: content passes max; [p, *ce) is the first max
 * bytes. LN_BARELF: STRICT met LF without CR; [p, *ce) is the content
 * before it, to validate as a prefix first. Callers validate the content
 * before acting on LN_LONG or LN_BARELF, so errors are reported in the
 * order of the bytes and a verdict on a prefix is the verdict on the whole.
 */
enum { LN_DONE, LN_MORE, LN_LONG, LN_BARELF };

static int
line_find(const char *p, const char *end, size_t max, enum gb_http_mode mode,
    const char **ce, const char **next)
{
	size_t avail = (size_t)(end - p), over;
	const char *lf;

	/* bytes past max; written so that max near SIZE_MAX cannot wrap */
	over = avail > max ? avail - max : 0;
	lf = memchr(p, '\n', over > 2 ? max + 2 : avail);
	if (lf != NULL) {
		*next = lf + 1;
		*ce = lf > p && lf[-1] == '\r' ? lf - 1 : lf;
		if ((size_t)(*ce - p) > max) {
			*ce = p + max;
			return LN_LONG;
		}
		if (*ce == lf && mode == GB_HTTP_STRICT)
			return LN_BARELF;
		return LN_DONE;
	}
	if (over > 1 || (over == 1 && p[max] != '\r')) {
		*ce = p + max;
		return LN_LONG;
	}
	*ce = avail > 0 && end[-1] == '\r' ? end - 1 : end;
	return LN_MORE;
}

/*
 * Skip up to EMPTY_LINES_MAX empty lines at buf. Returns 1 with *pp at the
 * first other byte (or end), 0 for need more, -1 on error.
 */
static int
skip_empty(struct head *h, const char *buf, const char *end, const char **pp)
{
	const char *p = buf;
	int n = 0;

	while (p < end && (*p == '\r' || *p == '\n')) {
		if (*p == '\r') {
			if (p + 1 == end)
				return 0;
			if (p[1] != '\n')
				return fail(h, 400, "bare CR");
			p += 2;
		} else {
			if (strict(h))
				return fail(h, 400, "bare LF");
			h->flags |= GB_HTTP_F_ANOMALY;
			p++;
		}
		if (++n > EMPTY_LINES_MAX)
			return fail(h, 400, E_EMPTY_LINES);
	}
	*pp = p;
	return 1;
}

/*
 * Match "HTTP/" DIGIT "." DIGIT against v[0..n) (n may be short when the
 * input is). 0: all 8 bytes matched; 1: valid prefix shorter than 8; -1.
 */
static int
version_match(const char *v, size_t n, int *maj, int *min)
{
	static const char pat[] = "HTTP/0.0";
	size_t i;

	for (i = 0; i < n && i < 8; i++) {
		if (i == 5 || i == 7) {
			if (!IS_DIGIT(v[i]))
				return -1;
		} else if (v[i] != pat[i])
			return -1;
	}
	if (i < 8)
		return 1;
	*maj = v[5] - '0';
	*min = v[7] - '0';
	return 0;
}

static int
version_ok(struct head *h, int maj, int min)
{
	if (maj != 1 || min > 1) {
		if (strict(h))
			return fail(h, 505, "unsupported HTTP version");
		h->flags |= GB_HTTP_F_ANOMALY;
	}
	h->v11 = maj > 1 || (maj == 1 && min >= 1);
	return 0;
}

/*
 * A '%' at p[-1]: 0 when two hex digits follow within [p, e), 1 when the
 * input ends first, -1 otherwise.
 */
static int
pct_check(const char *p, const char *e)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (p + i == e)
			return 1;
		if (!IS(p[i], C_HEX))
			return -1;
	}
	return 0;
}

static int
has_brackets(const char *p, const char *e)
{
	for (; p < e; p++)
		if (*p == '[' || *p == ']')
			return 1;
	return 0;
}

/*
 * The method token m[0..n) as *id (GB_HTTP_OTHER when not one of ours).
 * Returns -1 when m is another spelling of a known method ("get",
 * "Head"): servers that fold method case read it as that method (a "head"
 * answered without the body the gateway waits for). Else 0.
 */
static int
method_lookup(const char *m, size_t n, enum gb_http_method *id)
{
	static const struct {
		const char		*s;
		size_t			 n;
		enum gb_http_method	 id;
	} tab[] = {
		{ "GET", 3, GB_HTTP_GET },
		{ "POST", 4, GB_HTTP_POST },
		{ "PUT", 3, GB_HTTP_PUT },
		{ "HEAD", 4, GB_HTTP_HEAD },
		{ "DELETE", 6, GB_HTTP_DELETE },
		{ "OPTIONS", 7, GB_HTTP_OPTIONS },
		{ "PATCH", 5, GB_HTTP_PATCH },
		{ "CONNECT", 7, GB_HTTP_CONNECT },
		{ "TRACE", 5, GB_HTTP_TRACE },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].n == n && memcmp(tab[i].s, m, n) == 0) {
			*id = tab[i].id;
			return 0;
		}
	*id = GB_HTTP_OTHER;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].n == n && ieq(tab[i].s, m, n))
			return -1;
	return 0;
}

/*
 * Classify req->target (non-empty) and check it fits the method. brackets:
 * STRICT saw '[' or ']', which only an authority may hold.
 */
static int
target_form(struct head *h, struct gb_http_req *req, int brackets)
{
	const char *t = req->target, *e = t + req->target_len, *a, *ae;
	size_t n = req->target_len, hl;
	long port;

	if (req->method_id == GB_HTTP_CONNECT) {
		if (host_parse(t, n, 1, &hl, &port) < 0)
			return fail(h, 400, "CONNECT target is not host:port");
		req->form = GB_HTTP_FORM_AUTHORITY;
		req->authority = t;
		req->authority_len = n;
		return 0;
	}
	if (t[0] == '/') {
		if (brackets)
			return fail(h, 400, E_TARGET_CHAR);
		req->form = GB_HTTP_FORM_ORIGIN;
		return 0;
	}
	if (n == 1 && t[0] == '*') {
		if (req->method_id != GB_HTTP_OPTIONS)
			return fail(h, 400, E_ASTERISK);
		req->form = GB_HTTP_FORM_ASTERISK;
		return 0;
	}
	if (n > 7 && ieq(t, "http://", 7)) {
		a = t + 7;
		h->def_port = 80;
	} else if (n > 8 && ieq(t, "https://", 8)) {
		a = t + 8;
		h->def_port = 443;
	} else
		return fail(h, 400, "invalid request target");
	for (ae = a; ae < e && *ae != '/' && *ae != '?'; ae++)
		;
	if (host_parse(a, (size_t)(ae - a), 0, &hl, &port) < 0)
		return fail(h, 400, "invalid authority in request target");
	if (brackets && has_brackets(ae, e))
		return fail(h, 400, E_TARGET_CHAR);
	h->abs_host = a;
	h->abs_host_len = hl;
	h->abs_port = port >= 0 ? port : h->def_port;
	req->form = GB_HTTP_FORM_ABSOLUTE;
	req->authority = a;
	req->authority_len = (size_t)(ae - a);
	return 0;
}

/*
 * Start lines. Each validates the content [p, ce) of its line; complete
 * says the line ended there. 0: a whole valid line; 1: a valid prefix
 * (only when !complete); -1: error.
 */
static int
request_line(struct head *h, struct gb_http_req *req, const char *p,
    const char *ce, int complete)
{
	unsigned char mask = strict(h) ? C_URI : C_LTGT;
	const char *q = p, *t, *v;
	int r, maj, min, brackets = 0;

	while (q < ce && IS(*q, C_TCHAR))
		q++;
	if (q == ce)
		return complete ? fail(h, 400, "missing request target") : 1;
	if (*q != ' ')
		return fail(h, 400, "invalid character in method");
	if (q == p)
		return fail(h, 400, "empty method");
	req->method = p;
	req->method_len = (size_t)(q - p);
	if (method_lookup(p, req->method_len, &req->method_id) < 0 &&
	    strict(h))
		return fail(h, 400, "known method in another case");

	t = ++q;
	while (q < ce && *q != ' ') {
		if (!IS(*q, mask)) {
			if (mask != C_URI || (*q != '[' && *q != ']'))
				return fail(h, 400, E_TARGET_CHAR);
			brackets = 1;
			q++;
		} else if (*q == '%' && mask == C_URI) {
			r = pct_check(q + 1, ce);
			if (r < 0 || (r > 0 && complete))
				return fail(h, 400, E_TARGET_PCT);
			if (r > 0)
				return 1;
			q += 3;
		} else
			q++;
	}
	if (q == ce)
		return complete ? fail(h, 400, "missing HTTP version") : 1;
	if (q == t)
		return fail(h, 400, "empty request target");
	req->target = t;
	req->target_len = (size_t)(q - t);
	if (target_form(h, req, brackets) < 0)
		return -1;

	v = q + 1;
	r = version_match(v, (size_t)(ce - v), &maj, &min);
	if (r < 0 || (r > 0 && complete))
		return fail(h, 400, "invalid HTTP version");
	if (r > 0)
		return 1;
	if (version_ok(h, maj, min) < 0)
		return -1;
	if (ce - v > 8)
		return fail(h, 400, "junk after HTTP version");
	req->version_major = maj;
	req->version_minor = min;
	return complete ? 0 : 1;
}

static int
status_line(struct head *h, struct gb_http_resp *resp, const char *p,
    const char *ce, int complete)
{
	size_t n = (size_t)(ce - p), i;
	int r, maj, min, status;

	r = version_match(p, n, &maj, &min);
	if (r < 0 || (r > 0 && complete))
		return fail(h, 502, "invalid HTTP version");
	if (r > 0)
		return 1;
	if (version_ok(h, maj, min) < 0)
		return -1;
	resp->version_major = maj;
	resp->version_minor = min;
	for (i = 8, status = 0; i < 12; i++) {
		if (i == n)
			return complete ? fail(h, 502, "missing status code") :
			    1;
		if (i == 8 ? p[i] != ' ' : !IS_DIGIT(p[i]))
			return fail(h, 502, "invalid status code");
		if (i > 8)
			status = status * 10 + (p[i] - '0');
	}
	if (status < 100 || status > 599)
		return fail(h, 502, "status code out of range");
	resp->status = status;
	resp->reason = p + n;
	if (n == 12) {
		if (!complete)
			return 1;
		if (strict(h))
			return fail(h, 502, "missing SP after status code");
		h->flags |= GB_HTTP_F_ANOMALY;
		return 0;
	}
	if (p[12] != ' ')
		return fail(h, 502, "invalid status code");
	for (i = 13; i < n; i++)
		if (!IS(p[i], C_FIELD))
			return fail(h, 502, E_REASON);
	resp->reason = p + 13;
	resp->reason_len = n - 13;
	return complete ? 0 : 1;
}

/*
 * Field lines. field_line() validates [p, ce) and fills *h->cur;
 * fold_line() validates a LENIENT continuation line and, once complete,
 * extends h->cur's value over it. 0 or -1.
 */
#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

/* Nonzero when one of the 8 bytes in w is < 0x20 or is 0x7F (DEL). */
static uint64_t
ctl_in_word(uint64_t w)
{
	uint64_t d = w ^ (ONES * 0x7f);

	return ((w - ONES * 0x20) & ~w & HIGHS) | ((d - ONES) & ~d & HIGHS);
}

/* First byte in [q, ce) that may not appear in a field value, or ce. */
static const char *
field_scan(const char *q, const char *ce)
{
	const char *stop;
	uint64_t w;

	for (;;) {
		/* 8 bytes at a time while none is a control byte */
		while (ce - q >= 8) {
			memcpy(&w, q, sizeof(w));
			if (ctl_in_word(w))
				break;
			q += 8;
		}
		stop = ce - q >= 8 ? q + 8 : ce;
		for (; q < stop; q++)
			if (!IS(*q, C_FIELD))
				return q;
		if (q == ce)
			return q;
	}
}

static int
value_check(struct head *h, const char *q, const char *ce, const char **vend)
{
	q = field_scan(q, ce);
	if (q < ce)
		return fail(h, 400, *q == '\r' ? "bare CR" :
		    "invalid character in field value");
	while (q > *vend && IS_WS(q[-1]))
		q--;
	*vend = q;
	return 0;
}

static int
field_line(struct head *h, const char *p, const char *ce, int complete)
{
	const char *q = p, *v;

	while (q < ce && IS(*q, C_TCHAR))
		q++;
	h->cur->name = p;
	h->cur->name_len = (size_t)(q - p);
	if (q < ce && *q != ':') {
		if (!IS_WS(*q) || q == p)
			return fail(h, 400, "invalid character in field name");
		if (strict(h))
			return fail(h, 400, "whitespace before colon");
		h->flags |= GB_HTTP_F_ANOMALY;
		while (q < ce && IS_WS(*q))
			q++;
		if (q < ce && *q != ':')
			return fail(h, 400, "invalid character in field name");
	}
	if (q == ce)
		return complete ? fail(h, 400, "missing colon in field line") :
		    0;
	if (q == p)
		return fail(h, 400, "empty field name");
	for (q++; q < ce && IS_WS(*q); q++)
		;
	v = q;
	if (value_check(h, q, ce, &v) < 0)
		return -1;
	h->cur->value = q;
	h->cur->value_len = (size_t)(v - q);
	return 0;
}

static int
fold_line(struct head *h, const char *p, const char *ce, int complete)
{
	const char *v, *ve;

	while (p < ce && IS_WS(*p))
		p++;
	v = ve = p;
	if (value_check(h, p, ce, &ve) < 0)
		return -1;
	if (complete && ve > v) {
		if (h->cur->value_len == 0)
			h->cur->value = v;
		h->cur->value_len = (size_t)(ve - h->cur->value);
	}
	return 0;
}

/* Field semantics, run once a field (with its folds) is complete. */
static int
cl_digits(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 19)
		return -1;
	for (i = 0; i < n; i++) {
		if (!IS_DIGIT(s[i]))
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > (uint64_t)INT64_MAX)
		return -1;
	*out = v;
	return 0;
}

static int
on_content_length(struct head *h, const struct gb_http_header *f)
{
	const char *p = f->value, *s;
	uint64_t v = 0;
	size_t n;
	int k = 0;

	h->flags |= GB_HTTP_F_HAS_CL;
	if (strict(h)) {
		if (h->ncl++ > 0)
			return fail(h, 400, "duplicate Content-Length");
		if (h->nte > 0)
			return fail(h, 400, E_CL_TE);
		if (cl_digits(f->value, f->value_len, &h->cl) < 0)
			return fail(h, 400, "invalid Content-Length");
		return 0;
	}
	/* LENIENT: "n", "n, n", repeated fields: all values must agree. */
	while (list_next(&p, f->value + f->value_len, &s, &n)) {
		if (cl_digits(s, n, &v) < 0 || (k++ > 0 && v != h->cl) ||
		    (h->ncl > 0 && v != h->cl)) {
			h->cl_bad = 1;
			break;
		}
		h->cl = v;
	}
	if (k == 0)
		h->cl_bad = 1;
	if (k > 1 || h->ncl > 0 || h->nte > 0)
		h->flags |= GB_HTTP_F_ANOMALY;
	h->ncl++;
	return 0;
}

static int
on_transfer_encoding(struct head *h, const struct gb_http_header *f)
{
	const char *p = f->value, *s;
	size_t n, t;
	int k = 0;

	h->flags |= GB_HTTP_F_HAS_TE;
	if (strict(h)) {
		if (h->nte++ > 0)
			return fail(h, 400, "duplicate Transfer-Encoding");
		if (!h->v11)
			return fail(h, 400, E_TE_10);
		if (h->ncl > 0)
			return fail(h, 400, E_CL_TE);
		if (f->value_len == 7 && ieq(f->value, "chunked", 7)) {
			h->te_nchunked = 1;
			h->te_last_chunked = 1;
			return 0;
		}
		for (t = 0; t < f->value_len && IS(f->value[t], C_TCHAR); t++)
			;
		if (t > 0 && t == f->value_len)
			return fail(h, 501, "unsupported transfer coding");
		return fail(h, 400, "invalid Transfer-Encoding");
	}
	/*
	 * LENIENT: the fields form one list; framing needs chunked exactly
	 * once, last; an element that cannot be read makes it unusable.
	 */
	if (h->nte++ > 0 || h->ncl > 0 || f->value_len != 7 ||
	    !ieq(f->value, "chunked", 7))
		h->flags |= GB_HTTP_F_ANOMALY;
	while (list_next(&p, f->value + f->value_len, &s, &n)) {
		if (n == 0)
			continue;
		k++;
		for (t = 0; t < n && IS(s[t], C_TCHAR); t++)
			;
		if (t == 7 && ieq(s, "chunked", 7)) {
			if (n != 7)
				h->te_bad = 1;
			h->te_nchunked++;
			h->te_last_chunked = 1;
		} else {
			if (t == 0)
				h->te_bad = 1;
			h->te_last_chunked = 0;
		}
	}
	if (k == 0)
		h->te_bad = 1;
	return 0;
}

static int
on_host(struct head *h, const struct gb_http_header *f)
{
	struct gb_http_req *req = h->req;
	size_t hl;
	long port;

	if (h->nhost++ > 0) {
		if (strict(h))
			return fail(h, 400, "duplicate Host");
		h->flags |= GB_HTTP_F_ANOMALY;
		return 0;
	}
	req->host = f->value;
	req->host_len = f->value_len;
	if (host_parse(f->value, f->value_len, 0, &hl, &port) < 0) {
		if (strict(h))
			return fail(h, 400, "invalid Host");
		h->flags |= GB_HTTP_F_ANOMALY;
		return 0;
	}
	if (h->abs_host != NULL && (hl != h->abs_host_len ||
	    !ieq(f->value, h->abs_host, hl) ||
	    (port >= 0 ? port : h->def_port) != h->abs_port)) {
		if (strict(h))
			return fail(h, 400, "Host does not match the target");
		h->flags |= GB_HTTP_F_ANOMALY;
	}
	return 0;
}

static void
on_connection(struct head *h, const struct gb_http_header *f)
{
	const char *p = f->value, *s;
	size_t n;

	while (list_next(&p, f->value + f->value_len, &s, &n)) {
		if (gb_http_name_eq(s, n, "close"))
			h->conn |= CONN_CLOSE;
		else if (gb_http_name_eq(s, n, "keep-alive"))
			h->conn |= CONN_KA;
		else if (gb_http_name_eq(s, n, "upgrade"))
			h->conn |= CONN_UPGRADE;
	}
}

/*
 * A name that equals a framing field's once '_' is read as '-': CGI-style
 * backends merge the two spellings, so forwarding it would let a peer
 * frame the message differently behind the gateway.
 */
static int
framing_alias(struct head *h, const struct gb_http_header *f, const char *lit)
{
	size_t i;

	if (memchr(f->name, '_', f->name_len) == NULL)
		return 0;
	for (i = 0; i < f->name_len; i++)
		if ((f->name[i] == '_' ? '-' : lower((unsigned char)f->name[i]))
		    != lit[i])
			return 0;
	if (strict(h))
		return fail(h, 400, "framing field spelled with '_'");
	h->flags |= GB_HTTP_F_ANOMALY;
	return 0;
}

static int
field_semantics(struct head *h, const struct gb_http_header *f)
{
	switch (f->name_len) {
	case 4:
		if (h->req != NULL && ieq(f->name, "host", 4))
			return on_host(h, f);
		break;
	case 6:
		if (h->req != NULL && ieq(f->name, "expect", 6) &&
		    gb_http_token_list_has(f->value, f->value_len,
		    "100-continue"))
			h->expect = 1;
		break;
	case 7:
		if (ieq(f->name, "upgrade", 7))
			h->upgrade = 1;
		break;
	case 10:
		if (ieq(f->name, "connection", 10))
			on_connection(h, f);
		break;
	case 14:
		if (ieq(f->name, "content-length", 14))
			return on_content_length(h, f);
		return framing_alias(h, f, "content-length");
	case 17:
		if (ieq(f->name, "transfer-encoding", 17))
			return on_transfer_encoding(h, f);
		return framing_alias(h, f, "transfer-encoding");
	}
	return 0;
}

/* Apply the meaning of the pending field. */
static int
finish_field(struct head *h)
{
	if (!h->pending)
		return 0;
	h->pending = 0;
	return field_semantics(h, h->cur);
}

/*
 * Field lines from p to the empty line. Returns the head length, 0 for
 * need more, -1.
 */
static ssize_t
fields(struct head *h, const char *buf, const char *p, const char *end)
{
	const char *ce, *next;
	int lr, r, fold;

	for (;;) {
		if (p == end)
			return 0;
		if (*p == '\r' || *p == '\n') {
			if (*p == '\n') {
				if (strict(h))
					return fail(h, 400, "bare LF");
				h->flags |= GB_HTTP_F_ANOMALY;
				p++;
			} else if (p + 1 == end)
				return 0;
			else if (p[1] != '\n')
				return fail(h, 400, "bare CR");
			else
				p += 2;
			if (finish_field(h) < 0)
				return -1;
			return p - buf;
		}
		fold = IS_WS(*p);
		if (fold) {
			if (strict(h))
				return fail(h, 400, "obs-fold");
			if (!h->pending)
				return fail(h, 400, E_WS_FIRST);
			h->flags |= GB_HTTP_F_ANOMALY;
		} else {
			if (finish_field(h) < 0)
				return -1;
			if (h->hdrs != NULL) {
				if (h->nfields >= h->cap)
					return fail(h, 431, E_NFIELDS);
				h->cur = &h->hdrs[h->nfields];
			}
			h->nfields++;
		}
		if (++h->nlines > h->lim->max_headers)
			return fail(h, 431, E_NFIELDS);
		lr = line_find(p, end, h->lim->max_header_line, h->mode, &ce,
		    &next);
		if (fold)
			r = fold_line(h, p, ce, lr == LN_DONE);
		else
			r = field_line(h, p, ce, lr == LN_DONE);
		if (r < 0)
			return -1;
		if (lr == LN_BARELF)
			return fail(h, 400, "bare LF");
		if (lr == LN_LONG)
			return fail(h, 431, "header line too long");
		if (lr == LN_MORE)
			return 0;
		if (!fold)
			h->pending = 1;
		p = next;
	}
}

/*
 * The last_len fast path. When the bytes added since a call that returned
 * 0 hold no LF, and the line they extend is a field line whose first byte
 * that call saw, everything before that line was already accepted: only
 * the line needs checking. Returns 1 with *res set, or 0 when the full
 * parse must run.
 */
static int
resume(struct head *h, const char *buf, size_t len, size_t last_len,
    ssize_t *res)
{
	const char *end = buf + len, *ls, *q, *ce, *next;
	int lr, r;

	if (memchr(buf + last_len, '\n', len - last_len) != NULL)
		return 0;
	q = memrchr(buf, '\n', last_len);
	if (q == NULL)
		return 0;
	ls = q + 1;
	if (ls == buf + last_len || *ls == '\r')
		return 0;
	for (q = buf; q < ls && (*q == '\r' || *q == '\n'); q++)
		;
	if (q == ls)
		return 0;	/* ls starts the start line */
	lr = line_find(ls, end, h->lim->max_header_line, h->mode, &ce, &next);
	if (IS_WS(*ls))
		r = fold_line(h, ls, ce, 0);
	else
		r = field_line(h, ls, ce, 0);
	if (r == 0 && lr == LN_LONG)
		r = fail(h, 431, "header line too long");
	*res = r;
	return 1;
}

static ssize_t
parse_head(struct head *h, const char *buf, size_t len, size_t last_len)
{
	const char *end, *p, *ce, *next;
	size_t win;
	ssize_t n;
	int lr, r;

	win = len < h->lim->max_head_size ? len : h->lim->max_head_size;
	if (last_len > 0 && last_len < len && len == win &&
	    resume(h, buf, len, last_len, &n))
		return n;
	end = buf + win;
	r = skip_empty(h, buf, end, &p);
	if (r < 0)
		return -1;
	if (r == 0)
		n = 0;
	else {
		lr = line_find(p, end, h->lim->max_request_line, h->mode, &ce,
		    &next);
		if (h->req != NULL)
			r = request_line(h, h->req, p, ce, lr == LN_DONE);
		else
			r = status_line(h, h->resp, p, ce, lr == LN_DONE);
		if (r < 0)
			return -1;
		if (lr == LN_BARELF)
			return fail(h, 400, "bare LF");
		if (lr == LN_LONG)
			return fail(h, 414, h->req != NULL ?
			    "request line too long" : "status line too long");
		n = lr == LN_MORE ? 0 : fields(h, buf, next, end);
	}
	if (n == 0 && len > win)
		return fail(h, 431, "header section too large");
	return n;
}

static void
head_init(struct head *h, const struct gb_http_limits *lim,
    enum gb_http_mode mode, struct gb_http_header *hdrs, size_t cap)
{
	memset(h, 0, sizeof(*h));
	h->lim = lim;
	h->mode = mode;
	h->hdrs = cap > 0 ? hdrs : NULL;
	h->cap = cap;
	h->cur = &h->scratch;
	h->abs_port = -1;
}

/* Connection flags shared by requests and responses. */
static unsigned
conn_flags(const struct head *h)
{
	unsigned f = h->flags;

	if (h->conn & CONN_CLOSE)
		f |= GB_HTTP_F_CONN_CLOSE;
	else if (h->v11 || (h->conn & CONN_KA))
		f |= GB_HTTP_F_KEEPALIVE;
	if (h->v11 && h->upgrade && (h->conn & CONN_UPGRADE))
		f |= GB_HTTP_F_UPGRADE;
	return f;
}

static int
request_finish(struct head *h, struct gb_http_req *req)
{
	if (h->v11 && h->nhost == 0) {
		if (strict(h))
			return fail(h, 400, "missing Host");
		h->flags |= GB_HTTP_F_ANOMALY;
	}
	if (h->nte > 0 || h->ncl > 0) {
		if (req->method_id == GB_HTTP_CONNECT) {
			if (strict(h))
				return fail(h, 400, "CONNECT with a body");
			h->flags |= GB_HTTP_F_ANOMALY;
		} else if (h->nte > 0) {
			if (!h->v11)
				return fail(h, 400, E_TE_10);
			if (h->te_bad || h->te_nchunked != 1 ||
			    !h->te_last_chunked)
				return fail(h, 400, E_TE_BAD);
			req->body = GB_HTTP_BODY_CHUNKED;
		} else if (h->cl_bad)
			return fail(h, 400, "invalid Content-Length");
		else if (h->cl > 0)
			req->body = GB_HTTP_BODY_LENGTH;
	}
	if (h->ncl > 0 && !h->cl_bad)
		req->content_length = h->cl;
	req->flags = conn_flags(h);
	if (h->v11 && h->expect)
		req->flags |= GB_HTTP_F_EXPECT_CONTINUE;
	return 0;
}

ssize_t
gb_http_parse_request(const char *buf, size_t len, struct gb_http_req *req,
    const struct gb_http_limits *lim, enum gb_http_mode mode)
{
	return gb_http_parse_request_resume(buf, len, req, lim, mode, 0);
}

ssize_t
gb_http_parse_request_resume(const char *buf, size_t len,
    struct gb_http_req *req, const struct gb_http_limits *lim,
    enum gb_http_mode mode, size_t last_len)
{
	struct gb_http_limits deflim;
	struct gb_http_header *hdrs = req->headers;
	size_t cap = req->max_headers_cap;
	struct head h;
	ssize_t n;

	if (lim == NULL) {
		gb_http_limits_default(&deflim);
		lim = &deflim;
	}
	memset(req, 0, sizeof(*req));
	req->headers = hdrs;
	req->max_headers_cap = cap;
	head_init(&h, lim, mode, hdrs, cap);
	h.req = req;

	n = parse_head(&h, buf, len, last_len);
	if (n > 0 && request_finish(&h, req) < 0)
		n = -1;
	if (n < 0) {
		req->status = h.status;
		req->error = h.error;
		return -1;
	}
	if (h.hdrs != NULL)
		req->nheaders = h.nfields;
	return n;
}

static int
response_finish(struct head *h, struct gb_http_resp *resp,
    enum gb_http_method req_method)
{
	int s = resp->status;

	if (req_method == GB_HTTP_HEAD || s / 100 == 1 || s == 204 ||
	    s == 304 || (req_method == GB_HTTP_CONNECT && s / 100 == 2))
		resp->body = GB_HTTP_BODY_NONE;
	else if (h->nte > 0) {
		/* STRICT already rejected all but one exact "chunked". */
		if (!h->v11)
			return fail(h, 502, E_TE_10);
		if (h->te_bad || h->te_nchunked > 1 ||
		    (h->te_nchunked == 1 && !h->te_last_chunked))
			return fail(h, 502, E_TE_BAD);
		resp->body = h->te_nchunked ? GB_HTTP_BODY_CHUNKED :
		    GB_HTTP_BODY_CLOSE;
	} else if (h->cl_bad)
		return fail(h, 502, "invalid Content-Length");
	else if (h->ncl > 0)
		resp->body = h->cl > 0 ? GB_HTTP_BODY_LENGTH :
		    GB_HTTP_BODY_NONE;
	else
		resp->body = GB_HTTP_BODY_CLOSE;
	if (h->ncl > 0 && !h->cl_bad)
		resp->content_length = h->cl;
	resp->flags = conn_flags(h);
	if (resp->body == GB_HTTP_BODY_CLOSE)
		resp->flags &= ~GB_HTTP_F_KEEPALIVE;
	return 0;
}

ssize_t
gb_http_parse_response(const char *buf, size_t len, struct gb_http_resp *resp,
    const struct gb_http_limits *lim, enum gb_http_mode mode,
    enum gb_http_method req_method)
{
	return gb_http_parse_response_resume(buf, len, resp, lim, mode,
	    req_method, 0);
}

ssize_t
gb_http_parse_response_resume(const char *buf, size_t len,
    struct gb_http_resp *resp, const struct gb_http_limits *lim,
    enum gb_http_mode mode, enum gb_http_method req_method, size_t last_len)
{
	struct gb_http_limits deflim;
	struct gb_http_header *hdrs = resp->headers;
	size_t cap = resp->max_headers_cap;
	struct head h;
	ssize_t n;

	if (lim == NULL) {
		gb_http_limits_default(&deflim);
		lim = &deflim;
	}
	memset(resp, 0, sizeof(*resp));
	resp->headers = hdrs;
	resp->max_headers_cap = cap;
	head_init(&h, lim, mode, hdrs, cap);
	h.resp = resp;

	n = parse_head(&h, buf, len, last_len);
	if (n > 0 && response_finish(&h, resp, req_method) < 0)
		n = -1;
	if (n < 0) {
		resp->error = h.error;
		return -1;
	}
	if (h.hdrs != NULL)
		resp->nheaders = h.nfields;
	return n;
}

/*
 * Chunked decoder: one state per position in the grammar (RFC 9112 7.1),
 * fed a byte at a time for framing, a run at a time for data.
 */
enum {
	CK_SIZE0 = 0,	/* first hex digit */
	CK_SIZE,	/* more hex digits */
	CK_SIZE_WS,	/* LENIENT: BWS after the size */
	CK_EXT_PRE,	/* after ';': extension name */
	CK_EXT_NAME,
	CK_EXT_NAME_WS,	/* LENIENT: BWS after a name */
	CK_EXT_PRE_VAL,	/* after '=' */
	CK_EXT_TOKEN,
	CK_EXT_QS,	/* inside a quoted-string */
	CK_EXT_QP,	/* after '\' in a quoted-string */
	CK_EXT_POST,	/* after a value */
	CK_SIZE_LF,	/* CR seen, LF must follow */
	CK_DATA,
	CK_DATA_CR,	/* CR LF after chunk data */
	CK_DATA_LF,
	CK_TR0,		/* start of a trailer line or the final CR LF */
	CK_TR_NAME,
	CK_TR_VALUE,
	CK_TR_LF,
	CK_TR_SKIP,	/* LENIENT: rest of a trailer line */
	CK_END_LF,
	CK_DONE,
	CK_ERROR,
};

void
gb_http_chunked_init(struct gb_http_chunked *c, enum gb_http_mode mode)
{
	memset(c, 0, sizeof(*c));
	c->state = CK_SIZE0;
	c->mode = mode;
}

static int
ck_fail(struct gb_http_chunked *c, const char *why)
{
	c->state = CK_ERROR;
	c->error = why;
	return -1;
}

/* The chunk-size line ended. */
static int
ck_line_done(struct gb_http_chunked *c)
{
	if (c->size == 0) {
		c->state = CK_TR0;
		return 0;
	}
	if (c->size > UINT64_MAX - c->total)
		return ck_fail(c, "chunked body too large");
	c->remaining = c->size;
	c->state = CK_DATA;
	return 0;
}

/*
 * ';', CR and LF end a size, name or value the same way. Returns 1 when ch
 * was one of them and handled, 0 when not, -1 on error.
 */
static int
ck_delim(struct gb_http_chunked *c, char ch)
{
	switch (ch) {
	case ';':
		c->state = CK_EXT_PRE;
		return 1;
	case '\r':
		c->state = CK_SIZE_LF;
		return 1;
	case '\n':
		if (c->mode == GB_HTTP_STRICT)
			return ck_fail(c, "bare LF in chunk line");
		return ck_line_done(c) < 0 ? -1 : 1;
	}
	return 0;
}

/*
 * STRICT trailer names: the first bytes, lower-cased with '_' read as '-'
 * (CGI-style servers merge the spellings), and the length up to one past
 * what is kept, enough to tell the three names a trailer may not carry.
 */
static void
tr_name_add(struct gb_http_chunked *c, char ch)
{
	if (c->tr_name_len < sizeof(c->tr_name))
		c->tr_name[c->tr_name_len] = ch == '_' ? '-' :
		    (char)lower((unsigned char)ch);
	if (c->tr_name_len <= sizeof(c->tr_name))
		c->tr_name_len++;
}

static int
tr_name_forbidden(const struct gb_http_chunked *c)
{
	static const char *const names[] = {
		"content-length", "transfer-encoding", "host",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (c->tr_name_len == strlen(names[i]) &&
		    memcmp(c->tr_name, names[i], c->tr_name_len) == 0)
			return 1;
	return 0;
}

/* One framing byte. 0 to go on, -1 on error. */
static int
ck_byte(struct gb_http_chunked *c, char ch)
{
	int lenient = c->mode != GB_HTTP_STRICT, r;

	if (c->state < CK_SIZE_LF && ch != '\r' && ch != '\n' &&
	    ++c->line_len > GB_HTTP_CHUNK_LINE_MAX)
		return ck_fail(c, "chunk line too long");
	if (c->state >= CK_TR0 && c->state <= CK_END_LF &&
	    ++c->trailer_len > GB_HTTP_TRAILER_MAX)
		return ck_fail(c, "trailer section too large");

	switch (c->state) {
	case CK_SIZE0:
	case CK_SIZE:
		if (IS(ch, C_HEX)) {
			if (c->ndigits++ == GB_HTTP_CHUNK_DIGITS)
				return ck_fail(c, "chunk size too long");
			c->size = c->size << 4 | (uint64_t)hexval(
			    (unsigned char)ch);
			c->state = CK_SIZE;
			return 0;
		}
		if (c->state == CK_SIZE0)
			return ck_fail(c, "invalid chunk size");
		if ((r = ck_delim(c, ch)) != 0)
			return r < 0 ? -1 : 0;
		if (IS_WS(ch) && lenient) {
			c->state = CK_SIZE_WS;
			return 0;
		}
		return ck_fail(c, "invalid chunk size");
	case CK_SIZE_WS:
	case CK_EXT_NAME_WS:
	case CK_EXT_POST:
		if ((r = ck_delim(c, ch)) != 0)
			return r < 0 ? -1 : 0;
		if (ch == '=' && c->state == CK_EXT_NAME_WS) {
			c->state = CK_EXT_PRE_VAL;
			return 0;
		}
		if (IS_WS(ch) && lenient)
			return 0;
		return ck_fail(c, "invalid chunk extension");
	case CK_EXT_PRE:
		if (IS(ch, C_TCHAR)) {
			c->state = CK_EXT_NAME;
			return 0;
		}
		if (IS_WS(ch) && lenient)
			return 0;
		return ck_fail(c, "invalid chunk extension");
	case CK_EXT_NAME:
	case CK_EXT_TOKEN:
		if (IS(ch, C_TCHAR))
			return 0;
		if ((r = ck_delim(c, ch)) != 0)
			return r < 0 ? -1 : 0;
		if (ch == '=' && c->state == CK_EXT_NAME) {
			c->state = CK_EXT_PRE_VAL;
			return 0;
		}
		if (IS_WS(ch) && lenient) {
			c->state = c->state == CK_EXT_NAME ? CK_EXT_NAME_WS :
			    CK_EXT_POST;
			return 0;
		}
		return ck_fail(c, "invalid chunk extension");
	case CK_EXT_PRE_VAL:
		if (IS(ch, C_TCHAR))
			c->state = CK_EXT_TOKEN;
		else if (ch == '"')
			c->state = CK_EXT_QS;
		else if (!IS_WS(ch) || !lenient)
			return ck_fail(c, "invalid chunk extension");
		return 0;
	case CK_EXT_QS:
		if (ch == '"')
			c->state = CK_EXT_POST;
		else if (ch == '\\')
			c->state = CK_EXT_QP;
		else if (!IS(ch, C_QDTXT))
			return ck_fail(c, "invalid chunk extension");
		return 0;
	case CK_EXT_QP:
		if (!IS(ch, C_FIELD))
			return ck_fail(c, "invalid chunk extension");
		c->state = CK_EXT_QS;
		return 0;
	case CK_SIZE_LF:
		if (ch != '\n')
			return ck_fail(c, "bare CR in chunk line");
		return ck_line_done(c);
	case CK_DATA_CR:
		if (ch == '\r') {
			c->state = CK_DATA_LF;
			return 0;
		}
		if (ch != '\n' || !lenient)
			return ck_fail(c, "missing CR LF after chunk data");
		goto next_chunk;
	case CK_DATA_LF:
		if (ch != '\n')
			return ck_fail(c, "missing CR LF after chunk data");
	next_chunk:
		c->state = CK_SIZE0;
		c->size = 0;
		c->ndigits = 0;
		c->line_len = 0;
		return 0;
	case CK_TR0:
		if (ch == '\r')
			c->state = CK_END_LF;
		else if (ch == '\n' && lenient)
			c->state = CK_DONE;
		else if (lenient)
			c->state = CK_TR_SKIP;
		else if (IS(ch, C_TCHAR)) {
			c->state = CK_TR_NAME;
			c->tr_name_len = 0;
			tr_name_add(c, ch);
		} else
			return ck_fail(c, "invalid trailer field");
		return 0;
	case CK_TR_NAME:
		if (ch == ':') {
			if (tr_name_forbidden(c))
				return ck_fail(c, "framing field in trailer");
			c->state = CK_TR_VALUE;
		} else if (!IS(ch, C_TCHAR))
			return ck_fail(c, "invalid trailer field");
		else
			tr_name_add(c, ch);
		return 0;
	case CK_TR_VALUE:
		if (ch == '\r')
			c->state = CK_TR_LF;
		else if (!IS(ch, C_FIELD))
			return ck_fail(c, "invalid trailer field");
		return 0;
	case CK_TR_LF:
		if (ch != '\n')
			return ck_fail(c, "bare CR in trailer");
		c->state = CK_TR0;
		return 0;
	case CK_TR_SKIP:
		if (ch == '\n')
			c->state = CK_TR0;
		return 0;
	case CK_END_LF:
		if (ch != '\n')
			return ck_fail(c, "bare CR after the last chunk");
		c->state = CK_DONE;
		return 0;
	}
	return ck_fail(c, "internal error");
}

int
gb_http_chunked_next(struct gb_http_chunked *c, const char *in, size_t len,
    size_t *consumed, const char **data, size_t *data_len)
{
	size_t i = 0, n;

	*data = NULL;
	*data_len = 0;
	while (i < len && c->state != CK_DONE && c->state != CK_ERROR) {
		if (c->state == CK_DATA) {
			n = len - i;
			if (n > c->remaining)
				n = (size_t)c->remaining;
			*data = in + i;
			*data_len = n;
			c->remaining -= n;
			c->total += n;
			if (c->remaining == 0)
				c->state = CK_DATA_CR;
			*consumed = i + n;
			return 0;
		}
		if (ck_byte(c, in[i++]) < 0)
			break;
	}
	*consumed = i;
	if (c->state == CK_ERROR)
		return -1;
	return c->state == CK_DONE ? 1 : 0;
}

/*
 * Path normalisation. Decoded bytes go straight to out; a segment is
 * checked for "." and ".." once it is complete.
 */
static int
path_fail(const char **error, const char *why)
{
	*error = why;
	return -1;
}

/* Query bytes: pchar / "/" / "?" and well-formed %XX other than %00. */
static int
query_ok(const char *p, const char *e, const char **error)
{
	for (; p < e; p++) {
		if (*p == '%') {
			if (pct_check(p + 1, e) != 0)
				return path_fail(error, E_QUERY_PCT);
			if (p[1] == '0' && p[2] == '0')
				return path_fail(error, "%00 in query");
			p += 2;
		} else if (!IS(*p, C_PCHAR) && *p != '/' && *p != '?')
			return path_fail(error, "invalid character in query");
	}
	return 0;
}

/*
 * Is the decoded segment s[0..n) "." or ".." with path parameters (";..."
 * or "%3B...")? Tomcat and Spring drop the parameters and then read the
 * segment as a dot segment: "/open/..;/admin" is "/admin" to them.
 */
static int
dot_params(const char *s, size_t n)
{
	size_t k = 0;

	while (k < n && k < 2 && s[k] == '.')
		k++;
	if (k == 0 || k == n)
		return 0;
	return s[k] == ';' || (n - k >= 3 && s[k] == '%' && s[k + 1] == '3' &&
	    s[k + 2] == 'B');
}

int
gb_http_path_normalize(const char *target, size_t len, char *out,
    size_t outlen, size_t *outn, const char **query, size_t *query_len,
    const char **error)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *p, *end, *qm, *why;
	size_t n, seg;
	unsigned char v;
	int prev;	/* the byte of the %XX just before, or -1 */
	int pct = 0;	/* a %25 was kept */

	*outn = 0;
	*query = NULL;
	*query_len = 0;
	*error = NULL;
	if (outlen > 0)
		out[0] = '\0';
	if (len == 0 || target[0] != '/')
		return path_fail(error, "path does not start with /");
	qm = memchr(target, '?', len);
	end = qm != NULL ? qm : target + len;
	if (qm != NULL && query_ok(qm + 1, target + len, error) < 0)
		return -1;
	why = "path too long";
	if (outlen < 2)
		goto bad;

	out[0] = '/';
	n = 1;
	for (p = target + 1;; p++) {
		/* out[0..n) ends with '/'; decode one segment after it */
		seg = n;
		prev = -1;
		for (; p < end && *p != '/'; p++) {
			/* room for this byte or %XX, and the NUL */
			why = "path too long";
			if (n + (*p == '%' ? 3 : 1) >= outlen)
				goto bad;
			if (IS(*p, C_PCHAR)) {
				out[n++] = *p;
				prev = -1;
				continue;
			}
			why = *p == '\\' ? "backslash in path" :
			    "invalid character in path";
			if (*p != '%')
				goto bad;
			why = "malformed %-escape in path";
			if (pct_check(p + 1, end) != 0)
				goto bad;
			v = (unsigned char)(hexval((unsigned char)p[1]) << 4 |
			    hexval((unsigned char)p[2]));
			p += 2;
			why = "%00, %2F or %5C in path";
			if (v == 0 || v == '/' || v == '\\')
				goto bad;
			/*
			 * Overlong UTF-8: a lenient decoder behind us reads
			 * %C0%AE as '.' and %C0%AF as '/'.
			 */
			why = "overlong UTF-8 in path";
			if (v == 0xC0 || v == 0xC1 ||
			    (prev == 0xE0 && v >= 0x80 && v < 0xA0) ||
			    (prev == 0xF0 && v >= 0x80 && v < 0x90))
				goto bad;
			prev = IS(v, C_UNRES) ? -1 : v;
			if (IS(v, C_UNRES))
				out[n++] = (char)v;
			else {
				pct |= v == '%';
				out[n++] = '%';
				out[n++] = hex[v >> 4];
				out[n++] = hex[v & 15];
			}
		}
		why = "dot segment with parameters in path";
		if (dot_params(out + seg, n - seg))
			goto bad;
		seg = n - seg;
		if (seg == 1 && out[n - 1] == '.')
			n--;
		else if (seg == 2 && out[n - 1] == '.' && out[n - 2] == '.') {
			n -= 2;
			why = "path goes above the root";
			if (n == 1)
				goto bad;
			for (n--; out[n - 1] != '/'; n--)
				;
		} else if (seg > 0 && p < end) {
			why = "path too long";
			if (n + 1 >= outlen)
				goto bad;
			out[n++] = '/';
		}
		if (p == end)
			break;
	}
	/*
	 * "%25" then two hex digits: double encoding. A server that decodes
	 * twice reads "%252e%252e" as "..", "%252F" as "/".
	 */
	why = "double %-encoding in path";
	for (p = out; pct && (p = memchr(p, '%', n - (size_t)(p - out))) !=
	    NULL; p++)
		if (n - (size_t)(p - out) >= 5 && p[1] == '2' && p[2] == '5' &&
		    IS(p[3], C_HEX) && IS(p[4], C_HEX))
			goto bad;
	out[n] = '\0';
	*outn = n;
	if (qm != NULL) {
		*query = qm + 1;
		*query_len = (size_t)(target + len - qm - 1);
	}
	return 0;
bad:
	if (outlen > 0)
		out[0] = '\0';
	return path_fail(error, why);
}
