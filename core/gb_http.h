/*
 * gb_http: the one HTTP/1.1 message parser (RFC 9112, RFC 9110) shared by
 * gerbang-gateway (STRICT: reject anything a smuggling attack could use) and
 * gerbang-sensor (LENIENT: follow traffic it cannot reject, but decide the
 * message framing safely or give up).
 *
 * Zero-copy and allocation-free: every pointer the parser hands out is a
 * slice of the caller's buffer, borrowed, valid until the caller changes or
 * frees that buffer. Nothing is NUL-terminated. No function keeps state
 * outside the structs the caller passes in, so every function may be called
 * from any thread on its own objects. Error texts are static strings that
 * never contain input bytes, so they are safe to log.
 *
 * A message head is parsed with gb_http_parse_request() or
 * gb_http_parse_response(); the body is then framed by the returned
 * struct's body field: NONE, LENGTH (read content_length bytes), CHUNKED
 * (feed the bytes after the head to gb_http_chunked_next()) or CLOSE (a
 * response that ends when the server closes the connection).
 */
#ifndef GB_HTTP_H
#define GB_HTTP_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/* One header field: slices of the parsed buffer, borrowed. */
struct gb_http_header {
	const char	*name;		/* field name as received, no colon */
	size_t		 name_len;	/* >= 1 */
	/*
	 * Field value with leading and trailing SP/HTAB removed; may be
	 * empty. In LENIENT mode a folded value (obs-fold) spans its
	 * continuation lines and so may contain CR, LF, SP and HTAB runs;
	 * RFC 9112 5.2 says to read each such run as one SP.
	 */
	const char	*value;
	size_t		 value_len;
};

/*
 * Size limits on a message head. A line length counts the bytes before its
 * CR LF (or bare LF); a limit is passed when exceeded, so a line of exactly
 * the limit is accepted. Every limit is enforced on incomplete input too: a
 * peer streaming an endless line or header section is rejected as soon as it
 * passes the limit.
 */
struct gb_http_limits {
	size_t	max_request_line;	/* request or status line; 8192; 414 */
	size_t	max_header_line;	/* one field line; 8192; 431 */
	size_t	max_headers;		/* field lines; 100; 431 */
	size_t	max_head_size;		/* whole head through the empty line,
					   leading empty lines included;
					   65536; 431 */
};

enum gb_http_mode {
	GB_HTTP_STRICT = 0,	/* gateway: reject everything listed below */
	GB_HTTP_LENIENT,	/* sensor: see "LENIENT mode" below */
};

enum gb_http_body {
	GB_HTTP_BODY_NONE = 0,	/* no body bytes follow the head */
	GB_HTTP_BODY_LENGTH,	/* content_length (> 0) bytes follow */
	GB_HTTP_BODY_CHUNKED,	/* chunked coding: use gb_http_chunked_next() */
	GB_HTTP_BODY_CLOSE,	/* responses only: body ends at close */
};

/* Methods are case-sensitive: "get" is GB_HTTP_OTHER (LENIENT; STRICT
   rejects it). */
enum gb_http_method {
	GB_HTTP_OTHER = 0,	/* any other token: policy decides */
	GB_HTTP_GET,
	GB_HTTP_HEAD,
	GB_HTTP_POST,
	GB_HTTP_PUT,
	GB_HTTP_DELETE,
	GB_HTTP_OPTIONS,
	GB_HTTP_PATCH,
	GB_HTTP_CONNECT,
	GB_HTTP_TRACE,
};

/* Request-target forms, RFC 9112 3.2. */
enum gb_http_form {
	GB_HTTP_FORM_ORIGIN = 0,	/* "/path?query" */
	GB_HTTP_FORM_ABSOLUTE,		/* "http://host[:port]/path?query" */
	GB_HTTP_FORM_AUTHORITY,		/* "host:port", CONNECT only */
	GB_HTTP_FORM_ASTERISK,		/* "*", OPTIONS only */
};

/* Message flags (gb_http_req.flags, gb_http_resp.flags). */
#define GB_HTTP_F_KEEPALIVE	  0x01	/* connection may persist after this
					   message: HTTP/1.1 without
					   "Connection: close", HTTP/1.0 with
					   "Connection: keep-alive"; never for
					   a close-delimited response */
#define GB_HTTP_F_EXPECT_CONTINUE 0x02	/* HTTP/1.1 request, Expect:
					   100-continue */
#define GB_HTTP_F_UPGRADE	  0x04	/* HTTP/1.1, Upgrade header and
					   "Connection: upgrade" */
#define GB_HTTP_F_CONN_CLOSE	  0x08	/* "Connection: close" present */
#define GB_HTTP_F_HAS_CL	  0x10	/* Content-Length header present */
#define GB_HTTP_F_HAS_TE	  0x20	/* Transfer-Encoding header present */
#define GB_HTTP_F_ANOMALY	  0x40	/* LENIENT only: accepted something
					   STRICT rejects (worth an alert) */

/*
 * Decode flags as "KEEPALIVE|UPGRADE" ("0" when none; unknown bits as hex)
 * into buf (size len, always NUL-terminated when len > 0, cut when short).
 * Returns buf.
 */
const char *gb_http_flags_str(unsigned flags, char *buf, size_t len);

/*
 * A parsed request head. The caller sets headers and max_headers_cap before
 * each parse and owns that array; the parser fills it and every other field.
 * Results are valid only when the parse returned > 0; after -1 only status
 * and error are. All slices are borrowed from the parsed buffer.
 */
struct gb_http_req {
	/* Input: where to store header fields and how many fit; NULL or 0
	   to not store them (Host and the framing fields still count). */
	struct gb_http_header	*headers;
	size_t			 max_headers_cap;

	const char		*method;
	size_t			 method_len;
	enum gb_http_method	 method_id;
	const char		*target;	/* request-target as received */
	size_t			 target_len;
	enum gb_http_form	 form;
	/* host[:port] of an absolute-form or authority-form target, else
	   NULL. */
	const char		*authority;
	size_t			 authority_len;
	/* Host header value (first one in LENIENT mode), NULL when absent. */
	const char		*host;
	size_t			 host_len;
	int			 version_major;	/* 1 (STRICT) */
	int			 version_minor;	/* 0 or 1 (STRICT) */
	size_t			 nheaders;	/* fields stored in headers */
	enum gb_http_body	 body;
	/* Content-Length value when present and valid, else 0; it frames the
	   body only when body == GB_HTTP_BODY_LENGTH. */
	uint64_t		 content_length;
	unsigned		 flags;		/* GB_HTTP_F_* */
	/* On -1: 400, 414, 431, 501 or 505, the status to answer with. */
	int			 status;
	const char		*error;		/* on -1: static reason text */
};

/* A parsed response head; same ownership rules as struct gb_http_req. */
struct gb_http_resp {
	struct gb_http_header	*headers;	/* input, may be NULL */
	size_t			 max_headers_cap;	/* input */

	int			 version_major;
	int			 version_minor;
	int			 status;	/* 100..599 */
	const char		*reason;	/* may be empty */
	size_t			 reason_len;
	size_t			 nheaders;
	enum gb_http_body	 body;
	uint64_t		 content_length;
	unsigned		 flags;
	const char		*error;		/* on -1: static reason text */
};

/*
 * Streaming chunked-body decoder (RFC 9112 7.1). Caller owns it; it holds
 * no pointers into the input, so the input may move between calls. Fields
 * other than total and error are private.
 */
#define GB_HTTP_CHUNK_LINE_MAX	4096	/* chunk-size line with extensions */
#define GB_HTTP_CHUNK_DIGITS	16	/* hex digits in a chunk size */
#define GB_HTTP_TRAILER_MAX	65536	/* trailer section incl. line ends */

struct gb_http_chunked {
	int			 state;
	enum gb_http_mode	 mode;
	uint64_t		 size;		/* chunk size being read */
	uint64_t		 remaining;	/* data left in this chunk */
	uint64_t		 total;		/* body bytes handed out */
	size_t			 line_len;
	size_t			 trailer_len;
	unsigned		 ndigits;
	unsigned		 tr_name_len;	/* STRICT: trailer name length,
						   up to 18 */
	char			 tr_name[17];	/* its first bytes, folded */
	const char		*error;		/* on -1: static reason text */
};

/* --- gb_http.c --- */

/* Fill lim with the defaults: 8192, 8192, 100, 65536. */
void	gb_http_limits_default(struct gb_http_limits *lim);

/*
 * Parse the request head at the start of buf[0..len).
 *
 * Returns the head length (> 0, through the empty line; the body or the
 * next pipelined message starts there), 0 when buf is a valid prefix of a
 * head that is within the limits so far (call again with more bytes), or -1
 * with req->status and req->error set. lim NULL means the defaults.
 *
 * The parser is stateless: call it again with the grown buffer, or better,
 * call gb_http_parse_request_resume() (below) to avoid re-scanning.
 *
 * STRICT mode accepts exactly RFC 9112 and rejects with 400 unless noted:
 * - request line "method SP request-target SP HTTP/1.x CR LF": method a
 *   token, but not a known method in another case ("get", "Head": servers
 *   that fold case would read the method the gateway did not); one SP
 *   each; HTTP/1.0 and HTTP/1.1 only (other well-formed
 *   versions 505; "http/1.1", trailing SP, extra parts 400). Up to 8 empty
 *   lines (CR LF) before it are skipped; a bare LF is never accepted.
 * - request-target: RFC 3986 characters only (no SP, CTL, DEL, '#', '\',
 *   '"', '<', '>', '^', '`', '{', '|', '}', bytes >= 0x80), well-formed
 *   %XX escapes, '[' ']' only inside an authority. Origin-form starts with
 *   "/"; absolute-form is http:// or https:// with a valid authority and no
 *   userinfo; authority-form "host:port" only, and only, with CONNECT; "*"
 *   only with OPTIONS.
 * - field lines "name: value": name made of RFC 9110 tchar, non-empty,
 *   directly followed by ':'; value bytes HTAB, SP, 0x21-0x7E, 0x80-0xFF.
 *   obs-fold, bare CR, bare LF, NUL and other controls, DEL are rejected.
 * - Content-Length: 1 to 19 digits, at most 2^63 - 1, once. Lists, signs,
 *   spaces, empty values and duplicates (even equal) are rejected.
 * - Transfer-Encoding: exactly "chunked" (any case, OWS around it), once,
 *   HTTP/1.1 only, never with Content-Length. Another single coding token
 *   is 501.
 * - Content_Length and Transfer_Encoding (any '-' written '_'): CGI-style
 *   backends read them as the framing fields, so they are rejected.
 * - Host: required in HTTP/1.1, at most one, never empty; reg-name made of
 *   ALPHA DIGIT "-" "." "_" "~", or an IPv4 or [IPv6] literal, with an
 *   optional port of 1 to 5 digits <= 65535. With an absolute-form target
 *   the Host must name the same host (case-insensitive) and port (scheme
 *   default when absent).
 * - CONNECT must not carry Content-Length or Transfer-Encoding.
 * - Limits: request line 414; field line, field count, head size 431.
 *   More fields than max_headers_cap (when storing them) is also 431.
 *
 * LENIENT mode additionally accepts bare LF line ends, obs-fold (folded
 * into the previous value), whitespace between field name and colon,
 * repeated or listed identical Content-Length values, any HTTP/d.d version,
 * targets with any byte but CTL, SP, DEL and '#', and skips the Host rules
 * and the '_' spellings.
 * Framing is still decided safely: Transfer-Encoding wins over
 * Content-Length only when its last coding is chunked and chunked appears
 * once; any other Transfer-Encoding in a request, Transfer-Encoding in
 * HTTP/1.0, or a Content-Length that frames the body but does not parse is
 * -1. Such relaxations set GB_HTTP_F_ANOMALY.
 */
ssize_t	gb_http_parse_request(const char *buf, size_t len,
	    struct gb_http_req *req, const struct gb_http_limits *lim,
	    enum gb_http_mode mode);

/*
 * gb_http_parse_request() with a hint: last_len is the len of the previous
 * call on this same message, which returned 0 (same buffer contents, req
 * inputs, lim and mode), or 0 for none. Only the line the new bytes extend
 * is then re-validated, so a peer sending one byte at a time cannot cost
 * quadratic time. Results are identical to gb_http_parse_request(); a wrong
 * hint (bytes before last_len changed, or not a "need more" prefix) may
 * let bytes before last_len go unchecked.
 */
ssize_t	gb_http_parse_request_resume(const char *buf, size_t len,
	    struct gb_http_req *req, const struct gb_http_limits *lim,
	    enum gb_http_mode mode, size_t last_len);

/*
 * Parse the response head at the start of buf[0..len); returns as for
 * gb_http_parse_request() (-1 sets resp->error; the gateway answers its
 * client 502). req_method is the method of the request this response
 * answers. A 1xx response is a head of its own: after it, parse the next
 * response for the same request.
 *
 * Status line "HTTP/1.x SP 3DIGIT SP reason CR LF", status 100 to 599;
 * reason may be empty but in STRICT mode the SP before it may not be
 * missing. Empty lines before it, field lines and limits as for requests
 * (the status line uses max_request_line).
 * Body (RFC 9112 6.3): HEAD request, 1xx, 204, 304 and a
 * 2xx answer to CONNECT have none; then Transfer-Encoding chunked; then
 * Content-Length; else read until close. STRICT rejects what it rejects in
 * requests (Transfer-Encoding other than exactly "chunked" included);
 * LENIENT treats a Transfer-Encoding whose last coding is not chunked as
 * close-delimited.
 */
ssize_t	gb_http_parse_response(const char *buf, size_t len,
	    struct gb_http_resp *resp, const struct gb_http_limits *lim,
	    enum gb_http_mode mode, enum gb_http_method req_method);

/* gb_http_parse_response() with the last_len hint of ..._request_resume(). */
ssize_t	gb_http_parse_response_resume(const char *buf, size_t len,
	    struct gb_http_resp *resp, const struct gb_http_limits *lim,
	    enum gb_http_mode mode, enum gb_http_method req_method,
	    size_t last_len);

/* 1 if name[0..len) equals the NUL-terminated lit ignoring ASCII case. */
int	gb_http_name_eq(const char *name, size_t len, const char *lit);

/*
 * Index of the first header at or after index from whose name matches name
 * (case-insensitive), or -1. Loop over repeated fields with from = i + 1.
 */
ssize_t	gb_http_header_find(const struct gb_http_header *hdrs, size_t n,
	    size_t from, const char *name);

/*
 * 1 if the comma-separated list value[0..len) has an element equal to token
 * ignoring case and surrounding whitespace ("Connection: keep-alive,
 * Close" has "close"), else 0.
 */
int	gb_http_token_list_has(const char *value, size_t len,
	    const char *token);

/* Start decoding a chunked body. */
void	gb_http_chunked_init(struct gb_http_chunked *c, enum gb_http_mode mode);

/*
 * Consume framing bytes from in[0..len) until one run of body data can be
 * handed out, or the input is used up. Returns
 *    0  go on: *consumed bytes of in were used (> 0 whenever len > 0), and
 *       *data, *data_len is the body run (a slice of in, borrowed; NULL, 0
 *       when none); call again with the bytes after *consumed;
 *    1  the message is complete: the last chunk, trailers and final CR LF
 *       were consumed; bytes after *consumed belong to the next message.
 *       Further calls return 1 and consume nothing;
 *   -1  malformed (c->error set); *consumed counts up to the bad byte;
 *       further calls return -1 and consume nothing.
 * Framing bytes are consumed even when a line is incomplete: the decoder
 * keeps its place, the caller never re-sends them.
 *
 * STRICT: chunk size 1 to 16 hex digits, no whitespace anywhere in the
 * chunk-size line, extensions ";name[=token|quoted-string]" with RFC 9110
 * syntax, line <= GB_HTTP_CHUNK_LINE_MAX bytes, CR LF after the line and
 * after the data; trailer field lines as header lines, the section
 * <= GB_HTTP_TRAILER_MAX bytes, and none named Content-Length,
 * Transfer-Encoding or Host (any case, '_' for '-'): framing and routing
 * fields a server that merges trailers into the head would obey. Trailers
 * are validated and discarded.
 * LENIENT adds bare LF line ends, whitespace around ';' and '=' and after
 * the size, and skips trailer lines without looking inside them.
 */
int	gb_http_chunked_next(struct gb_http_chunked *c, const char *in,
	    size_t len, size_t *consumed, const char **data, size_t *data_len);

/*
 * Normalise an origin-form target[0..len) for routing. The path goes into
 * out (size outlen; len + 1 always suffices; NUL-terminated, *outn its
 * length); *query, *query_len is the slice after the first '?' (borrowed
 * from target; NULL when there is no '?', empty for a bare '?').
 *
 * Path: %XX of ALPHA DIGIT "-" "." "_" "~" is decoded, other %XX kept with
 * upper-case hex; "." and ".." segments (also %2E spellings) are removed and
 * duplicate slashes merged, keeping a trailing slash. Rejected: no leading
 * "/", %2F, %5C, '\', %00, a malformed %-escape, any byte outside RFC 3986
 * pchar and "/", a ".." above the root, a "." or ".." segment with path
 * parameters (";p" or %3B: Tomcat and Spring read "..;" as ".."), overlong
 * UTF-8 escapes (%C0, %C1, %E0 then %80-%9F, %F0 then %80-%8F), double
 * encoding ("%25" then two hex digits, also spelt "%25%32%65": a server
 * that decodes twice reads "%252F" as "/"), out too small. Query: RFC 3986
 * query bytes and well-formed %-escapes, %00 rejected; not rewritten.
 * Returns 0, or -1 with *error set to a static reason and out set to "".
 * Only origin-form: for absolute-form pass the path that follows the
 * authority.
 */
int	gb_http_path_normalize(const char *target, size_t len, char *out,
	    size_t outlen, size_t *outn, const char **query, size_t *query_len,
	    const char **error);

#endif /* GB_HTTP_H */
