/*
 * gw_conn: one client connection, from accept to close.
 *
 *	HANDSHAKE -> HEAD -> PROXY -> HEAD (keep-alive) ... -> CLOSING
 *	                          \-> TUNNEL (101, only where a route allows)
 *
 * The connection is a pump: every event runs conn_run(), which moves as
 * many bytes as it can (client -> request parser -> upstream, upstream ->
 * response parser -> client) until nothing moves, then sets what to watch
 * and the one timer the state needs. Bodies stream through bounded
 * buffers; when a buffer is full the side that fills it is not read
 * (backpressure), so memory per connection is bounded whatever the body
 * size. A request is parsed strictly (core/gb_http.h): anything malformed
 * is answered 400 (or 413, 414, 431, 501, 505) and the connection closed;
 * nothing of it reaches an upstream. Pipelined requests wait in the input
 * buffer and are answered in order.
 */
#include "gateway/gw.h"
#include "core/gb_log.h"
#include "core/gb_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define HIGH_WATER	(64 * 1024)	/* stop filling a buffer past this */
#define READ_CHUNK	(16 * 1024)
#define SPILL		512		/* what may follow a body read straight */
#define HOLD_HEAD_MAX	(16 * 1024)	/* see head_held() */
#define TLS_RECORD	16384		/* plaintext bytes per TLS record */
#define RUN_ROUNDS	32		/* pump rounds before yielding */
/*
 * Warm connections: a keep-alive connection that has just been answered
 * keeps its buffers (in, out and the request state) for WARM_MS of
 * idleness, so that a client that asks again soon costs no allocation and
 * no release. At most WARM_MAX per worker, ~18 KiB each (a buffer that
 * grew past WARM_BUF for a large body is not kept); any other idle
 * connection, or one idle for longer, holds no buffers at all. OpenSSL's
 * record buffers are not kept (SSL_MODE_RELEASE_BUFFERS stays): kept, the
 * write buffer of each connection is cold in the cache by its next
 * response, where one released and allocated again is the same hot memory
 * for every connection (measured: 64 KiB responses cost ~10% more CPU).
 */
#define WARM_MAX	64
#define WARM_MS		1000
#define WARM_BUF	(32 * 1024)

enum conn_state {
	C_HANDSHAKE = 0,
	C_HEAD,
	C_PROXY,
	C_TUNNEL,
	C_CLOSING,
};

/* What the access log says of a request, cut to size. */
struct req_text {
	char	method[16];
	char	path[256];
	char	query[256];
};

/* What the current request needs, from head to the end of its response. */
struct req {
	bool			 active;
	enum gb_http_method	 method;
	int			 minor;
	bool			 keepalive;
	bool			 idempotent;
	bool			 upgrade;	/* Upgrade allowed and asked */
	bool			 held;		/* head and body wait in head
						   for the body to be whole */
	char			 ws_accept[29];	/* Sec-WebSocket-Accept due
						   in the 101, NUL-ended */
	uint64_t		 body_limit;	/* limits.body_size, or the
						   policy route's max_body when
						   lower; 0: none */
	enum gb_http_body	 body;
	uint64_t		 body_left;
	struct gb_http_chunked	 ch;
	bool			 body_done;
	size_t			 route;		/* gateway route, SIZE_MAX: none */
	const char		*route_name;	/* for the log (borrowed) */
	size_t			 stats_slot;
	size_t			 upstream;	/* index in conf->upstreams */
	const char		*consumer;	/* identified consumer (policy) */
	const char		*rule;		/* deciding rule */
	unsigned		 retry_after;	/* seconds, with 429 */
	const char		*key_header;	/* header that carried the API
						   key: not forwarded */
	char			 id[32];
	struct req_text		*text;		/* for the log: allocated at the
						   first request, freed when idle */
	uint64_t		 start_ns;
	uint64_t		 head_ns;	/* response head received */
	uint64_t		 bytes_in;
	uint64_t		 bytes_out;
	int			 status;
	const char		*decision;
	uint64_t		 tried;		/* servers tried (bitmap) */
	unsigned		 attempts;
	struct gb_buf		 head;		/* upstream head, for retry */
	size_t			 parse_hint;
	/* Response. */
	bool			 resp_head;
	enum gb_http_body	 resp_body;
	uint64_t		 resp_left;
	uint64_t		 resp_len;	/* Content-Length */
	struct gb_http_chunked	 rch;
	bool			 resp_done;
	bool			 chunk_out;	/* re-frame as chunked */
	bool			 up_keepalive;
	uint64_t		 up_last;	/* last upstream progress, ms */
	uint64_t		 up_start;	/* connect start, ms */
	const char		*server;	/* borrowed from the conf */
};

struct gw_conn {
	struct gw_worker	*w;
	struct gw_listener	*l;
	struct gw_io		 io;
	struct gw_conn		*next;
	struct gw_conn		*prev;
	enum conn_state		 state;
	unsigned		 nreq;
	struct gb_buf		 in;
	struct gb_buf		 out;
	struct gb_ev_timer	 timer;
	struct gb_ev_timer	 kick;
	union {
		struct sockaddr		sa;
		struct sockaddr_in	sin;
		struct sockaddr_in6	sin6;
	}			 addr;
	char			 ip[INET6_ADDRSTRLEN];
	/* The flags fill the bytes after ip: 360 bytes per connection. */
	bool			 closed;
	bool			 close_after;	/* no more requests */
	bool			 warm;		/* keeps buffers when idle */
	bool			 hs_queued;
	struct gw_peer_id	*peer;		/* mTLS listeners: after the first
						   request; NULL otherwise */
	struct gw_conn		*hs_next;	/* in the handshake queue */
	uint64_t		 t_accept;
	uint64_t		 t_head;	/* first byte of this head */
	uint64_t		 t_rd;		/* last read progress */
	uint64_t		 t_wr;		/* last write progress */
	struct req		*r;		/* while a request is served;
						   NULL when idle */
	struct gw_upc		*up;
};

static void conn_run(struct gw_conn *c);
static void conn_close(struct gw_conn *c);
static void conn_arm(struct gw_conn *c);

/*
 * Empty the OpenSSL error queue before an SSL call, so that
 * SSL_get_error() speaks of that call only. ERR_clear_error() frees 32
 * pointers even when the queue is empty (about 600 instructions, three
 * times a request): look first.
 */
static inline void
err_clear(void)
{
	if (ERR_peek_error() != 0)
		ERR_clear_error();
}

/* ---- gw_io ---- */

ssize_t
gw_io_read(struct gw_io *io, void *p, size_t n)
{
	ssize_t r;
	int e;

	if (io->ssl == NULL) {
		r = read(io->fd, p, n);
		if (r > 0) {
			/*
			 * A short read drained the socket (nginx does the
			 * same): the next read waits for the next edge,
			 * saving a read that would only say EAGAIN. Not after
			 * a hang-up: the EOF read must still come.
			 */
			if ((size_t)r < n && !io->hup)
				io->rd_ready = false;
			return r;
		}
		if (r == 0) {
			io->eof = true;
			return -1;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			io->rd_ready = false;
			return 0;
		}
		if (errno == EINTR)
			return 0;
		io->err = true;
		return -1;
	}
	err_clear();
	io->drained = false;
	e = SSL_read(io->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
	if (e > 0) {
		io->rd_needs_wr = false;
		/*
		 * The socket read behind this record came back short and
		 * OpenSSL holds nothing more: the socket is drained, and the
		 * next read waits for the next edge (as for plain sockets).
		 */
		if (io->drained && !io->hup && !SSL_has_pending(io->ssl))
			io->rd_ready = false;
		return e;
	}
	switch (SSL_get_error(io->ssl, e)) {
	case SSL_ERROR_WANT_READ:
		io->rd_ready = false;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		io->rd_ready = false;
		io->rd_needs_wr = true;
		io->wr_ready = false;
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		io->eof = true;
		return -1;
	default:
		io->err = true;
		io->eof = true;
		return -1;
	}
}

ssize_t
gw_io_write(struct gw_io *io, const void *p, size_t n)
{
	ssize_t r;
	int e;

	if (io->ssl == NULL) {
		r = send(io->fd, p, n, MSG_NOSIGNAL);
		if (r >= 0)
			return r;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			io->wr_ready = false;
			return 0;
		}
		if (errno == EINTR)
			return 0;
		io->err = true;
		return -1;
	}
	err_clear();
	e = SSL_write(io->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
	if (e > 0) {
		io->wr_needs_rd = false;
		return e;
	}
	switch (SSL_get_error(io->ssl, e)) {
	case SSL_ERROR_WANT_WRITE:
		io->wr_ready = false;
		return 0;
	case SSL_ERROR_WANT_READ:
		io->wr_ready = false;
		io->wr_needs_rd = true;
		io->rd_ready = false;
		return 0;
	default:
		io->err = true;
		return -1;
	}
}

/*
 * The socket under a gw_io's SSL: a BIO that reads and writes io->fd like
 * OpenSSL's socket BIO, and also notes whether a read came back short
 * (io->drained) and sends with MSG_MORE while io->more says that more
 * records follow at once, so that they leave in as few packets as the
 * kernel can make (a 64 KiB response is four or five records).
 */
static BIO_METHOD *io_bio_method;

static int
io_bio_read(BIO *b, char *p, int n)
{
	struct gw_io *io = BIO_get_data(b);
	ssize_t r;

	BIO_clear_retry_flags(b);
	r = read(io->fd, p, (size_t)n);
	io->drained = r < n;
	if (r > 0)
		return (int)r;
	if (r == 0) {
		BIO_set_flags(b, BIO_FLAGS_IN_EOF);
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		BIO_set_retry_read(b);
	return -1;
}

static int
io_bio_write(BIO *b, const char *p, int n)
{
	struct gw_io *io = BIO_get_data(b);
	ssize_t r;

	BIO_clear_retry_flags(b);
	r = send(io->fd, p, (size_t)n, MSG_NOSIGNAL | (io->more ? MSG_MORE :
	    0));
	if (r >= 0)
		return (int)r;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		BIO_set_retry_write(b);
	return -1;
}

static long
io_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct gw_io *io = BIO_get_data(b);

	(void)num;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_EOF:
		return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
	case BIO_C_GET_FD:
		if (ptr != NULL)
			*(int *)ptr = io->fd;
		return io->fd;
	default:
		return 0;
	}
}

static int
io_bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

int
gw_io_ssl_attach(struct gw_io *io)
{
	BIO *b;

	if (io_bio_method == NULL) {
		if ((io_bio_method = BIO_meth_new(BIO_get_new_index() |
		    BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
		    "gerbang socket")) == NULL ||
		    BIO_meth_set_read(io_bio_method, io_bio_read) != 1 ||
		    BIO_meth_set_write(io_bio_method, io_bio_write) != 1 ||
		    BIO_meth_set_ctrl(io_bio_method, io_bio_ctrl) != 1 ||
		    BIO_meth_set_create(io_bio_method, io_bio_create) != 1) {
			BIO_meth_free(io_bio_method);
			io_bio_method = NULL;
			return -1;
		}
	}
	if ((b = BIO_new(io_bio_method)) == NULL)
		return -1;
	BIO_set_data(b, io);
	SSL_set_bio(io->ssl, b, b);	/* the SSL owns b */
	SSL_set_read_ahead(io->ssl, 1);
	return 0;
}

void
gw_io_event(struct gw_io *io, unsigned mask)
{
	if (mask & GB_EV_HUP)
		io->hup = true;
	if (mask & GB_EV_READ) {
		io->rd_ready = true;
		if (io->wr_needs_rd) {
			io->wr_ready = true;
			io->wr_needs_rd = false;
		}
	}
	if (mask & GB_EV_WRITE) {
		io->wr_ready = true;
		if (io->rd_needs_wr) {
			io->rd_ready = true;
			io->rd_needs_wr = false;
		}
	}
}

unsigned
gw_io_interest(const struct gw_io *io, bool want_rd, bool want_wr)
{
	unsigned m = 0;

	if ((want_rd && !io->rd_ready && !io->rd_needs_wr) ||
	    (want_wr && io->wr_needs_rd))
		m |= GB_EV_READ;
	if ((want_wr && !io->wr_ready && !io->wr_needs_rd) ||
	    (want_rd && io->rd_needs_wr))
		m |= GB_EV_WRITE;
	return m;
}

/* Read what is there into b (up to room bytes). >0, 0 or -1 as above. */
static ssize_t
io_fill(struct gw_io *io, struct gb_buf *b, size_t room)
{
	uint8_t *p;
	ssize_t n;

	if (room > READ_CHUNK)
		room = READ_CHUNK;
	if (room == 0 || (p = gb_buf_reserve(b, room)) == NULL)
		return 0;
	if ((n = gw_io_read(io, p, room)) > 0)
		gb_buf_commit(b, (size_t)n);
	return n;
}

/*
 * Write what b holds. Returns the bytes written, or -1 when the first
 * write failed; a failure after some bytes went out returns their count
 * with io->err set, so the caller knows they were sent (a request whose
 * bytes reached an upstream is never replayed). Over TLS each write is
 * one record: all but the last go with MSG_MORE (the kernel sends them
 * together), and the last too when hold (the caller closes next, and the
 * close_notify and FIN push it).
 */
static ssize_t
io_flush_hold(struct gw_io *io, struct gb_buf *b, bool hold)
{
	ssize_t n, total = 0;

	while (gb_buf_used(b) > 0 && io->wr_ready) {
		io->more = hold || gb_buf_used(b) > TLS_RECORD;
		n = gw_io_write(io, gb_buf_head(b), gb_buf_used(b));
		if (n < 0)
			return total > 0 ? total : -1;
		if (n == 0)
			break;
		gb_buf_consume(b, (size_t)n);
		total += n;
	}
	io->more = false;
	return total;
}

static ssize_t
io_flush(struct gw_io *io, struct gb_buf *b)
{
	return io_flush_hold(io, b, false);
}

/* ---- access log and responses ---- */

/* The client's port (kept in addr only). */
static int
conn_port(const struct gw_conn *c)
{
	return ntohs(c->addr.sa.sa_family == AF_INET6 ? c->addr.sin6.sin6_port :
	    c->addr.sin.sin_port);
}

static const char *
tls_version(const struct gw_conn *c)
{
	return c->io.ssl ? SSL_get_version(c->io.ssl) : "none";
}

static void
access_log(struct gw_conn *c)
{
	struct gw_worker *w = c->w;
	struct gb_buf *b = &w->alog;
	const struct req_text *txt = c->r->text;
	struct timespec ts;
	struct tm tm;
	uint64_t now = gb_now_ns(), dur_us;
	size_t start = b->len;
	char t[40];

	dur_us = (now - c->r->start_ns) / 1000;
	__atomic_add_fetch(&w->st->requests, 1, __ATOMIC_RELAXED);
	gw_stats_observe(w->st, c->r->stats_slot, c->r->status, dur_us);
	if (w->alog_fd == -1)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	gb_buf_printf(b, "{\"time\":\"%s.%03ldZ\",\"request_id\":\"%s\","
	    "\"client\":\"%s\",\"client_port\":%d,\"tls\":\"%s\"", t,
	    ts.tv_nsec / 1000000, c->r->id, c->ip, conn_port(c),
	    tls_version(c));
	if (c->peer != NULL && c->peer->present) {
		GB_BUF_PUTLIT(b, ",\"client_cert\":{\"subject\":\"");
		gb_buf_json_str(b, c->peer->subject, strlen(c->peer->subject));
		GB_BUF_PUTLIT(b, "\",\"san\":\"");
		gb_buf_json_str(b, c->peer->san, strlen(c->peer->san));
		gb_buf_printf(b, "\",\"sha256\":\"%s\"}",
		    c->peer->fingerprint);
	}
	GB_BUF_PUTLIT(b, ",\"route\":\"");
	if (c->r->route_name != NULL)
		gb_buf_json_str(b, c->r->route_name, strlen(c->r->route_name));
	if (c->r->consumer != NULL) {
		GB_BUF_PUTLIT(b, "\",\"consumer\":\"");
		gb_buf_json_str(b, c->r->consumer, strlen(c->r->consumer));
	}
	if (c->r->rule != NULL) {
		GB_BUF_PUTLIT(b, "\",\"rule\":\"");
		gb_buf_json_str(b, c->r->rule, strlen(c->r->rule));
	}
	GB_BUF_PUTLIT(b, "\",\"method\":\"");
	if (txt != NULL) {
		gb_buf_json_str(b, txt->method, strlen(txt->method));
		GB_BUF_PUTLIT(b, "\",\"path\":\"");
		gb_buf_json_str(b, txt->path, strlen(txt->path));
	} else
		GB_BUF_PUTLIT(b, "-\",\"path\":\"-");
	if (txt != NULL && w->conf->access_log_query &&
	    txt->query[0] != '\0') {
		GB_BUF_PUTLIT(b, "\",\"query\":\"");
		gb_buf_json_str(b, txt->query, strlen(txt->query));
	}
	gb_buf_printf(b, "\",\"status\":%d,\"bytes_in\":%" PRIu64 ","
	    "\"bytes_out\":%" PRIu64 ",\"upstream\":\"%s\","
	    "\"duration_ms\":%.3f,\"upstream_ms\":%.3f,\"decision\":\"%s\"}\n",
	    c->r->status, c->r->bytes_in, c->r->bytes_out,
	    c->r->server ? c->r->server : "",
	    (double)dur_us / 1000.0, c->r->head_ns ?
	    (double)(c->r->head_ns - c->r->start_ns) / 1e6 : 0.0,
	    c->r->decision ? c->r->decision : "none");
	if (b->len == start)
		return;
	/* A line cut by the buffer cap is dropped whole, never half. */
	if (b->data[b->len - 1] != '\n')
		b->len = start;
}

static const char *
reason_phrase(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/* "<worker prefix><sequence in hex>": unique per gateway start. */
static void
request_id(struct gw_worker *w, char id[32])
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(w->reqprefix), k;
	uint64_t v = ++w->reqseq;
	char tmp[16];

	memcpy(id, w->reqprefix, n);
	k = sizeof(tmp);
	do {
		tmp[--k] = hex[v & 15];
		v >>= 4;
	} while (v != 0);
	memcpy(id + n, tmp + k, sizeof(tmp) - k);
	id[n + sizeof(tmp) - k] = '\0';
}

/* The request's log text, allocated on first use (NULL: out of memory). */
static struct req_text *
req_text(struct gw_conn *c)
{
	if (c->r->text == NULL && (c->r->text = malloc(sizeof(*c->r->text))) ==
	    NULL)
		return NULL;
	memset(c->r->text, 0, sizeof(*c->r->text));
	strcpy(c->r->text->path, "-");
	return c->r->text;
}

/* Forget the request; its buffers' memory is kept for the next. */
static void
req_reset(struct gw_conn *c)
{
	struct gb_buf head;
	struct req_text *text;

	if (c->r == NULL)
		return;
	head = c->r->head;
	text = c->r->text;
	memset(c->r, 0, sizeof(*c->r));
	c->r->route = SIZE_MAX;
	c->r->stats_slot = SIZE_MAX;
	c->r->head = head;
	c->r->text = text;
	if (text != NULL) {
		memset(text, 0, sizeof(*text));
		strcpy(text->path, "-");
	}
	gb_buf_reset(&c->r->head);
}

/*
 * The request state, made when a request starts (NULL: out of memory).
 * An idle connection holds none (req_free()), like its buffers.
 */
static struct req *
req_get(struct gw_conn *c)
{
	if (c->r != NULL)
		return c->r;
	if ((c->r = calloc(1, sizeof(*c->r))) == NULL)
		return NULL;
	gb_buf_init(&c->r->head, 0);
	req_reset(c);
	return c->r;
}

static void
req_free(struct gw_conn *c)
{
	if (c->r == NULL)
		return;
	gb_buf_free(&c->r->head);
	free(c->r->text);
	free(c->r);
	c->r = NULL;
}

static void
upstream_drop(struct gw_conn *c)
{
	if (c->up == NULL)
		return;
	gw_upc_close(c->up);
	c->up = NULL;
}

/*
 * Answer the current request with an error. A refusal of a well-formed
 * request that was read whole (no route, method not allowed, denied)
 * keeps the connection; anything else closes it after the answer. When
 * the response head is already out, the only honest thing left is to cut
 * the connection.
 */
static void
respond_error(struct gw_conn *c, int status, const char *msg)
{
	struct gw_worker *w = c->w;
	char body[256], retry[48] = "";
	bool keep;
	int n;

	upstream_drop(c);
	if (req_get(c) == NULL) {
		conn_close(c);
		return;
	}
	if (status == 429 && c->r->retry_after > 0)
		snprintf(retry, sizeof(retry), "Retry-After: %u\r\n",
		    c->r->retry_after);
	if (c->r->resp_head) {
		c->r->status = c->r->status ? c->r->status : status;
		conn_close(c);
		return;
	}
	keep = (status == 401 || status == 403 || status == 404 ||
	    status == 405 || status == 429) &&
	    c->r->active && c->r->body_done && !c->close_after &&
	    c->state == C_HEAD;
	if (c->r->id[0] == '\0')
		request_id(w, c->r->id);
	if (c->r->start_ns == 0)
		c->r->start_ns = gb_now_ns();
	n = snprintf(body, sizeof(body),
	    "{\"error\":\"%s\",\"status\":%d,\"request_id\":\"%s\"}\n", msg,
	    status, c->r->id);
	gb_buf_printf(&c->out, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %d\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Request-Id: %s\r\n"
	    "%s%s\r\n%s",
	    status, reason_phrase(status), n, c->r->id,
	    retry, keep ? (c->r->minor == 0 ? "Connection: keep-alive\r\n" :
	    "") : "Connection: close\r\n",
	    c->r->method == GB_HTTP_HEAD ? "" : body);
	c->r->status = status;
	if (c->r->method != GB_HTTP_HEAD)
		c->r->bytes_out += (uint64_t)n;
	c->r->resp_head = true;
	if (!c->r->decision)
		c->r->decision = "none";
	access_log(c);
	if (keep) {
		req_reset(c);
		c->t_rd = gb_ev_now(w->ev);
		return;
	}
	c->state = C_CLOSING;
	c->close_after = true;
}

/* ---- routing and the decision ---- */

static size_t
route_match(const struct gw_conf *conf, const char *host, size_t hostlen,
    const char *path, size_t pathlen)
{
	size_t i;

	for (i = 0; i < conf->nroutes; i++) {
		const struct gw_route *r = &conf->routes[i];

		if (r->host != NULL && (strlen(r->host) != hostlen ||
		    memcmp(r->host, host, hostlen) != 0))
			continue;
		if (r->exact) {
			if (pathlen == r->path_len &&
			    memcmp(path, r->path, pathlen) == 0)
				return i;
			continue;
		}
		if (pathlen < r->path_len ||
		    memcmp(path, r->path, r->path_len) != 0)
			continue;
		if (r->path[r->path_len - 1] == '/' || pathlen == r->path_len ||
		    path[r->path_len] == '/')
			return i;
	}
	return SIZE_MAX;
}

/*
 * The API key a client presents: X-API-Key, or Authorization: Bearer.
 * Returns the header it came in (not forwarded), or NULL.
 */
static const char *
find_api_key(const struct gb_http_header *hdrs, size_t n, const char **key,
    size_t *len)
{
	ssize_t i;

	if ((i = gb_http_header_find(hdrs, n, 0, "x-api-key")) != -1) {
		*key = hdrs[i].value;
		*len = hdrs[i].value_len;
		return "x-api-key";
	}
	if ((i = gb_http_header_find(hdrs, n, 0, "authorization")) != -1 &&
	    hdrs[i].value_len > 7 && strncasecmp(hdrs[i].value, "bearer ",
	    7) == 0) {
		*key = hdrs[i].value + 7;
		*len = hdrs[i].value_len - 7;
		return "authorization";
	}
	*key = NULL;
	*len = 0;
	return NULL;
}

/*
 * The decision call: the policy (policy/pol.h) answers for the consumer,
 * route, networks, hours and limits. A denial is answered here (401, 403,
 * 404, 413, 429 with Retry-After) with a body that leaks no detail; the
 * rule and reason go to the access log. Returns 0 to forward, -1 when
 * answered.
 */
static int
decide_policy(struct gw_conn *c, const struct gb_http_req *req,
    const char *path, size_t pathlen)
{
	struct gw_worker *w = c->w;
	const struct gw_conf *conf = w->conf;
	struct pol_request pr;
	struct pol_decision dec;
	size_t i;

	memset(&pr, 0, sizeof(pr));
	pr.addr = &c->addr.sa;
	pr.host = req->host ? req->host : req->authority;
	pr.host_len = req->host ? req->host_len : req->authority_len;
	pr.path = path;
	pr.path_len = pathlen;
	pr.method = req->method;
	pr.method_len = req->method_len;
	pr.body_len = req->content_length;
	c->r->key_header = find_api_key(w->hdrs, req->nheaders, &pr.api_key,
	    &pr.api_key_len);
	if (c->peer != NULL && c->peer->present) {
		pr.cert_subject = c->peer->subject;
		pr.cert_san = c->peer->san[0] ? c->peer->san : NULL;
		pr.cert_sha256 = c->peer->sha256;
	}
	pr.now = time(NULL);
	pr.now_ms = gb_ev_now(w->ev);
	if (pol_decide(conf->policy, w->pstate, &pr, &dec) == -1) {
		c->r->decision = "deny";
		c->r->rule = "error";
		respond_error(c, 403, "forbidden");
		return -1;
	}
	c->r->consumer = dec.consumer;
	c->r->rule = dec.rule;
	c->r->route_name = dec.route;
	if (dec.route_index != SIZE_MAX && conf->pol_slots != NULL)
		c->r->stats_slot = conf->pol_slots[dec.route_index];
	if (!dec.allow) {
		c->r->decision = "deny";
		c->r->retry_after = dec.retry_after;
		respond_error(c, dec.status, dec.status == 401 ?
		    "unauthorized" : dec.status == 404 ? "no route" :
		    dec.status == 413 ? "request body too large" :
		    dec.status == 429 ? "too many requests" : "forbidden");
		return -1;
	}
	c->r->decision = dec.would_deny ? "monitor" : "allow";
	if (dec.would_deny)
		gb_notice("monitor: request %s would be denied %d by rule %s "
		    "(%s)", c->r->id, dec.status, dec.rule ? dec.rule : "-",
		    dec.reason ? dec.reason : "-");
	if (dec.route_index == SIZE_MAX ||
	    (i = conf->pol_upstream[dec.route_index]) == SIZE_MAX) {
		respond_error(c, 503, "no upstream server available");
		return -1;
	}
	c->r->upstream = i;
	if (dec.max_body > 0 && (c->r->body_limit == 0 ||
	    dec.max_body < c->r->body_limit))
		c->r->body_limit = dec.max_body;
	/* Upgrade stays refused: no policy route allows it yet. */
	c->r->upgrade = false;
	return 0;
}

/* ---- the request head ---- */

/* A header name and its length, for matching by length first. */
struct hname {
	const char	*s;
	size_t		 n;
};
#define HNAME(lit)	{ "" lit, sizeof(lit) - 1 }

/* a[0..n) and b[0..n) are equal ignoring ASCII case (any locale). */
static bool
ascii_ieq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x |= 0x20;
		if (y >= 'A' && y <= 'Z')
			y |= 0x20;
		if (x != y)
			return false;
	}
	return true;
}

/* Is the name h one of list (ASCII case ignored)? */
static bool
name_in(const struct gb_http_header *h, const struct hname *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (h->name_len == list[i].n &&
		    ascii_ieq(h->name, list[i].s, list[i].n))
			return true;
	return false;
}

/*
 * a[0..n) and b[0..n) are equal ignoring ASCII case and '_' for '-':
 * CGI-style servers (PHP, WSGI, Rack) read both spellings as the same
 * HTTP_X_FORWARDED_FOR variable.
 */
static bool
cgi_ieq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char x = a[i] == '_' ? '-' : a[i], y = b[i] == '_' ? '-' : b[i];

		if (!ascii_ieq(&x, &y, 1))
			return false;
	}
	return true;
}

/*
 * X-Gerbang-* (any case, '_' for '-'): identity headers are the gateway's
 * to set for the upstream, never a client's; and what an upstream sends
 * under that name (a signed consumer header echoed back, say) is never
 * shown to clients.
 */
static bool
is_gerbang_header(const struct gb_http_header *h)
{
	return h->name_len >= 10 && cgi_ieq(h->name, "x-gerbang-", 10);
}

static bool
is_hop_header(const struct gb_http_header *h)
{
	static const struct hname hop[] = {
		HNAME("connection"), HNAME("keep-alive"),
		HNAME("proxy-connection"), HNAME("te"),
		HNAME("transfer-encoding"), HNAME("content-length"),
		HNAME("upgrade"), HNAME("trailer"), HNAME("expect"),
		HNAME("proxy-authorization"), HNAME("host"),
		HNAME("x-forwarded-for"), HNAME("x-forwarded-proto"),
		HNAME("x-forwarded-host"), HNAME("forwarded"),
		HNAME("x-request-id"), HNAME("x-real-ip"),
	};

	size_t i;

	for (i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (h->name_len == hop[i].n &&
		    cgi_ieq(h->name, hop[i].s, hop[i].n))
			return true;
	return is_gerbang_header(h);
}

/*
 * The tokens of a message's Connection headers, split once and then asked
 * per header (gb_http_token_list_has() per header parsed the lists again
 * for each). Past CONN_TOKENS tokens, the lists are asked as before, every
 * Connection field of the message, however many.
 */
#define CONN_TOKENS	16
struct conn_tokens {
	const struct gb_http_header	*hdrs;	/* the message's fields */
	size_t				 nhdrs;
	size_t				 n;	/* Connection fields */
	struct hname			 tok[CONN_TOKENS];
	size_t				 ntok;
	bool				 split;	/* tok holds every token */
};

static bool
is_ows(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/*
 * Call fn(arg, element) for each non-empty element of the list value,
 * whitespace trimmed, as gb_http_token_list_has() sees them; stop when it
 * returns true, and return that.
 */
static bool
list_each(const struct gb_http_header *v,
    bool (*fn)(void *, const char *, size_t), void *arg)
{
	const char *p = v->value, *e = p + v->value_len;

	while (p < e) {
		const char *a = p, *z;

		while (p < e && *p != ',')
			p++;
		z = p;
		if (p < e)
			p++;	/* the comma */
		while (a < z && is_ows(*a))
			a++;
		while (z > a && is_ows(z[-1]))
			z--;
		if (z > a && fn(arg, a, (size_t)(z - a)))
			return true;	/* an empty element names nothing */
	}
	return false;
}

static bool
tok_add(void *arg, const char *s, size_t n)
{
	struct conn_tokens *ct = arg;

	if (ct->ntok == CONN_TOKENS) {
		ct->split = false;
		return true;
	}
	ct->tok[ct->ntok].s = s;
	ct->tok[ct->ntok].n = n;
	ct->ntok++;
	return false;
}

static bool
tok_is(void *arg, const char *s, size_t n)
{
	const struct hname *want = arg;

	return n == want->n && ascii_ieq(s, want->s, n);
}

static void
conn_tokens_find(struct conn_tokens *ct, const struct gb_http_header *hdrs,
    size_t n)
{
	size_t i;

	ct->hdrs = hdrs;
	ct->nhdrs = n;
	ct->n = ct->ntok = 0;
	ct->split = true;
	for (i = 0; i < n; i++) {
		if (hdrs[i].name_len != 10 || !gb_http_name_eq(hdrs[i].name,
		    10, "connection"))
			continue;
		ct->n++;
		if (ct->split)
			list_each(&hdrs[i], tok_add, ct);
	}
}

/* Is h named in a Connection header (and so hop-by-hop)? */
static bool
named_in_connection(const struct conn_tokens *ct,
    const struct gb_http_header *h)
{
	struct hname want = { h->name, h->name_len };
	size_t i;

	if (ct->n == 0)
		return false;
	if (ct->split)
		return name_in(h, ct->tok, ct->ntok);
	for (i = 0; i < ct->nhdrs; i++)
		if (ct->hdrs[i].name_len == 10 && gb_http_name_eq(
		    ct->hdrs[i].name, 10, "connection") &&
		    list_each(&ct->hdrs[i], tok_is, &want))
			return true;
	return false;
}

/*
 * Does the request ask for exactly a WebSocket upgrade: one Upgrade field,
 * "websocket" (any case)? Anything else, h2c above all (an HTTP/2
 * connection to the upstream past routing and policy), is not passed on.
 */
static bool
upgrade_websocket(const struct gb_http_header *hdrs, size_t n)
{
	ssize_t i = gb_http_header_find(hdrs, n, 0, "upgrade");

	return i >= 0 && gb_http_header_find(hdrs, n, (size_t)i + 1,
	    "upgrade") == -1 && hdrs[i].value_len == 9 &&
	    ascii_ieq(hdrs[i].value, "websocket", 9);
}

/*
 * The Sec-WebSocket-Accept a server that did the WebSocket handshake
 * answers (RFC 6455 4.2.2): base64(SHA-1(key GUID)), into out (29 bytes,
 * NUL-terminated). false when the request has not exactly one
 * Sec-WebSocket-Key of 24 base64 characters (a 16-byte nonce).
 */
static bool
ws_accept_due(const struct gb_http_header *hdrs, size_t n, char out[29])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	unsigned char in[24 + sizeof(guid) - 1], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	ssize_t i = gb_http_header_find(hdrs, n, 0, "sec-websocket-key");

	if (i < 0 || gb_http_header_find(hdrs, n, (size_t)i + 1,
	    "sec-websocket-key") != -1 || hdrs[i].value_len != 24 ||
	    EVP_DecodeBlock(md, (const unsigned char *)hdrs[i].value, 24) !=
	    18 || hdrs[i].value[22] != '=' || hdrs[i].value[23] != '=')
		return false;
	memcpy(in, hdrs[i].value, 24);
	memcpy(in + 24, guid, sizeof(guid) - 1);
	if (EVP_Digest(in, sizeof(in), md, &mdlen, EVP_sha1(), NULL) != 1 ||
	    mdlen != 20)
		return false;
	return EVP_EncodeBlock((unsigned char *)out, md, 20) == 28;
}

/* Does the 101 carry the Sec-WebSocket-Accept that was due, once? */
static bool
ws_accept_ok(const struct gb_http_header *hdrs, size_t n, const char *due)
{
	ssize_t i = gb_http_header_find(hdrs, n, 0, "sec-websocket-accept");

	return i >= 0 && gb_http_header_find(hdrs, n, (size_t)i + 1,
	    "sec-websocket-accept") == -1 && hdrs[i].value_len == 28 &&
	    memcmp(hdrs[i].value, due, 28) == 0;
}

/* "name: value\r\n", in one piece (or not at all: no room). */
static void
put_field(struct gb_buf *b, const struct gb_http_header *h)
{
	size_t n = h->name_len + h->value_len + 4;
	uint8_t *p;

	if ((p = gb_buf_reserve(b, n)) == NULL)
		return;
	memcpy(p, h->name, h->name_len);
	p += h->name_len;
	*p++ = ':';
	*p++ = ' ';
	memcpy(p, h->value, h->value_len);
	p += h->value_len;
	*p++ = '\r';
	*p = '\n';
	gb_buf_commit(b, n);
}

static void
copy_cut(char *dst, size_t dstlen, const char *s, size_t n)
{
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* Lower-case host without the port, for routing. */
static size_t
route_host(const char *h, size_t n, char *out, size_t outlen)
{
	size_t i, k = 0;

	if (n > 0 && h[0] == '[') {
		const char *e = memchr(h, ']', n);

		n = e ? (size_t)(e - h) + 1 : n;
	} else {
		const char *colon = memchr(h, ':', n);

		if (colon != NULL)
			n = (size_t)(colon - h);
		/* "a.test." is the fully qualified "a.test", as the
		   policy reads it. */
		if (n > 1 && h[n - 1] == '.')
			n--;
	}
	for (i = 0; i < n && k + 1 < outlen; i++)
		out[k++] = (char)((h[i] >= 'A' && h[i] <= 'Z') ? h[i] + 32 :
		    h[i]);
	out[k] = '\0';
	return k;
}

static void
build_upstream_head(struct gw_conn *c, const struct gb_http_req *req,
    const char *path, size_t pathlen, const char *query, size_t querylen)
{
	struct gw_worker *w = c->w;
	struct gb_buf *b = &c->r->head;
	struct conn_tokens ct;
	size_t i;

	conn_tokens_find(&ct, w->hdrs, req->nheaders);
	gb_buf_reset(b);
	gb_buf_append(b, req->method, req->method_len);
	gb_buf_putc(b, ' ');
	gb_buf_append(b, path, pathlen);
	if (query != NULL) {
		gb_buf_putc(b, '?');
		gb_buf_append(b, query, querylen);
	}
	GB_BUF_PUTLIT(b, " HTTP/1.1\r\nHost: ");
	if (req->host != NULL)
		gb_buf_append(b, req->host, req->host_len);
	else if (req->authority != NULL)
		gb_buf_append(b, req->authority, req->authority_len);
	GB_BUF_PUTLIT(b, "\r\n");
	for (i = 0; i < req->nheaders; i++) {
		const struct gb_http_header *h = &w->hdrs[i];

		if (is_hop_header(h)) {
			if (c->r->upgrade && gb_http_name_eq(h->name,
			    h->name_len, "upgrade")) {
				GB_BUF_PUTLIT(b, "Upgrade: ");
				gb_buf_append(b, h->value, h->value_len);
				GB_BUF_PUTLIT(b, "\r\n");
			}
			continue;
		}
		if (named_in_connection(&ct, h))
			continue;
		if (c->r->key_header != NULL && gb_http_name_eq(h->name,
		    h->name_len, c->r->key_header))
			continue;	/* the consumer's key stays here */
		put_field(b, h);
	}
	/* The hot path writes without printf. */
	GB_BUF_PUTLIT(b, "X-Forwarded-For: ");
	gb_buf_puts(b, c->ip);
	GB_BUF_PUTLIT(b, "\r\nX-Forwarded-Proto: https\r\nForwarded: for=");
	if (c->addr.sa.sa_family == AF_INET6) {
		GB_BUF_PUTLIT(b, "\"[");
		gb_buf_puts(b, c->ip);
		GB_BUF_PUTLIT(b, "]\"");
	} else
		gb_buf_puts(b, c->ip);
	GB_BUF_PUTLIT(b, ";proto=https\r\nX-Request-Id: ");
	gb_buf_puts(b, c->r->id);
	GB_BUF_PUTLIT(b, "\r\n");
	if (c->r->consumer != NULL) {
		char v[GB_IDHDR_VALUE_MAX];

		GB_BUF_PUTLIT(b, "X-Gerbang-Consumer: ");
		/* Signed for the sensor (core/gb_idhdr.h) when keyed. */
		if (w->idmac != NULL && gb_idhdr_sign(w->idmac,
		    c->r->consumer, c->r->id, (int64_t)time(NULL), v,
		    sizeof(v)) > 0)
			gb_buf_puts(b, v);
		else
			gb_buf_puts(b, c->r->consumer);
		GB_BUF_PUTLIT(b, "\r\n");
	}
	if (c->r->upgrade)
		GB_BUF_PUTLIT(b, "Connection: upgrade\r\n");
	if (req->body == GB_HTTP_BODY_CHUNKED)
		GB_BUF_PUTLIT(b, "Transfer-Encoding: chunked\r\n");
	else if (req->body == GB_HTTP_BODY_LENGTH ||
	    (req->flags & GB_HTTP_F_HAS_CL)) {
		GB_BUF_PUTLIT(b, "Content-Length: ");
		gb_buf_put_u64(b, req->content_length);
		GB_BUF_PUTLIT(b, "\r\n");
	}
	GB_BUF_PUTLIT(b, "\r\n");
}

/* Give the request to an upstream server; false when none is usable. */
static bool
dispatch(struct gw_conn *c)
{
	struct gw_worker *w = c->w;
	struct gw_upc *u;
	size_t si;

	u = gw_upc_get(w, c->r->upstream, c->r->tried, &si);
	if (u == NULL)
		return false;
	c->r->tried |= 1ull << si;
	c->r->attempts++;
	u->client = c;
	c->up = u;
	c->r->server = u->srv->name;
	if (gb_buf_append(&u->out, gb_buf_head(&c->r->head),
	    gb_buf_used(&c->r->head)) == -1)
		return false;
	c->r->up_start = c->r->up_last = gb_ev_now(w->ev);
	return true;
}

/*
 * The query of an absolute-form target without a path, q at its '?' or
 * the end: the parser checked its characters and escapes; %00 is refused
 * here as gb_http_path_normalize() refuses it.
 */
static bool
abs_query(const struct gb_http_req *req, const char *q, const char **query,
    size_t *query_len)
{
	const char *e = req->target + req->target_len, *p;

	if (q == e)
		return true;
	for (p = q + 1; p + 2 < e; p++)
		if (p[0] == '%' && p[1] == '0' && p[2] == '0')
			return false;
	*query = q + 1;
	*query_len = (size_t)(e - q - 1);
	return true;
}

static void
start_request(struct gw_conn *c, struct gb_http_req *req, size_t headlen)
{
	struct gw_worker *w = c->w;
	char host[256];
	const char *path, *query = NULL, *err, *absq = NULL;
	size_t pathlen, querylen = 0, hostlen, outn;

	c->r->active = true;
	c->r->start_ns = gb_now_ns();
	c->r->method = req->method_id;
	c->r->minor = req->version_minor;
	c->r->keepalive = (req->flags & GB_HTTP_F_KEEPALIVE) != 0;
	c->r->body = req->body;
	c->r->body_left = req->body == GB_HTTP_BODY_LENGTH ?
	    req->content_length : 0;
	c->r->body_done = req->body == GB_HTTP_BODY_NONE ||
	    (req->body == GB_HTTP_BODY_LENGTH && req->content_length == 0);
	c->r->bytes_in = headlen;
	request_id(w, c->r->id);
	/* The log's copy of method, path and query: only for a log. */
	if (w->alog_fd != -1 && req_text(c) != NULL)
		copy_cut(c->r->text->method, sizeof(c->r->text->method),
		    req->method, req->method_len);
	switch (req->method_id) {
	case GB_HTTP_GET:
	case GB_HTTP_HEAD:
	case GB_HTTP_PUT:
	case GB_HTTP_DELETE:
	case GB_HTTP_OPTIONS:
	case GB_HTTP_TRACE:
		c->r->idempotent = true;
		break;
	default:
		break;
	}
	/* Identity is read once per connection, kept only with mTLS. */
	if (c->l->client_auth != GW_CLIENT_AUTH_NONE && c->peer == NULL &&
	    (c->peer = malloc(sizeof(*c->peer))) != NULL) {
		gw_tls_peer_id(c->io.ssl, c->peer);
	}
	if (req->body == GB_HTTP_BODY_CHUNKED)
		gb_http_chunked_init(&c->r->ch, GB_HTTP_STRICT);
	if (w->draining || !c->r->keepalive)
		c->close_after = true;

	if (req->method_id == GB_HTTP_CONNECT) {
		c->close_after = true;	/* tunnel bytes may follow */
		respond_error(c, 405, "method not allowed");
		return;
	}
	if (req->form == GB_HTTP_FORM_ASTERISK) {
		c->close_after = true;
		respond_error(c, 404, "no route");
		return;
	}
	path = req->target;
	pathlen = req->target_len;
	if (req->form == GB_HTTP_FORM_ABSOLUTE) {
		/*
		 * scheme://authority[/path][?query]: keep what follows the
		 * authority, which ends at the first '/' or '?' (a '/' in
		 * the query of "http://h?/admin" is not the path).
		 */
		const char *p = memchr(req->target, '/', req->target_len);
		const char *e = req->target + req->target_len;

		p = p ? p + 2 : req->target;
		while (p < e && *p != '/' && *p != '?')
			p++;
		if (p == e || *p == '?') {
			path = "/";
			pathlen = 1;
			absq = p;
		} else {
			pathlen = (size_t)(e - p);
			path = p;
		}
	}
	if (gb_http_path_normalize(path, pathlen, w->pathbuf,
	    w->conf->limits.max_request_line + 2, &outn, &query, &querylen,
	    &err) == -1 || (absq != NULL && !abs_query(req, absq, &query,
	    &querylen)) || (!w->conf->path_params &&
	    (memchr(w->pathbuf, ';', outn) != NULL ||
	    memmem(w->pathbuf, outn, "%3B", 3) != NULL))) {
		if (c->r->text != NULL)
			copy_cut(c->r->text->path, sizeof(c->r->text->path), "-",
			    1);
		respond_error(c, 400, "bad request");
		return;
	}
	if (c->r->text != NULL) {
		copy_cut(c->r->text->path, sizeof(c->r->text->path), w->pathbuf,
		    outn);
		copy_cut(c->r->text->query, sizeof(c->r->text->query),
		    query ? query : "", query ? querylen : 0);
	}
	if (req->host != NULL)
		hostlen = route_host(req->host, req->host_len, host,
		    sizeof(host));
	else if (req->authority != NULL)
		hostlen = route_host(req->authority, req->authority_len, host,
		    sizeof(host));
	else
		hostlen = route_host("", 0, host, sizeof(host));
	c->r->body_limit = w->conf->max_body;
	if (w->conf->policy != NULL) {
		if (decide_policy(c, req, w->pathbuf, outn) == -1)
			return;
	} else {
		c->r->route = route_match(w->conf, host, hostlen, w->pathbuf,
		    outn);
		if (c->r->route == SIZE_MAX) {
			c->r->decision = "deny";
			c->r->rule = "no-route";
			respond_error(c, 404, "no route");
			return;
		}
		c->r->route_name = w->conf->routes[c->r->route].name;
		c->r->stats_slot = w->conf->routes[c->r->route].stats_slot;
		c->r->upstream = w->conf->routes[c->r->route].upstream;
		/*
		 * The tunnel opens only on the 101 of a server that did the
		 * WebSocket handshake with this key: an endpoint whose status
		 * a client controls cannot hand it a raw connection to the
		 * upstream, past routing and policy.
		 */
		c->r->upgrade = (req->flags & GB_HTTP_F_UPGRADE) &&
		    w->conf->routes[c->r->route].upgrade &&
		    upgrade_websocket(w->hdrs, req->nheaders) &&
		    ws_accept_due(w->hdrs, req->nheaders, c->r->ws_accept);
		c->r->decision = "allow";
	}
	if (w->conf->max_body > 0 && req->body == GB_HTTP_BODY_LENGTH &&
	    req->content_length > w->conf->max_body) {
		respond_error(c, 413, "request body too large");
		return;
	}
	build_upstream_head(c, req, w->pathbuf, outn, query, querylen);
	if ((req->flags & GB_HTTP_F_EXPECT_CONTINUE) && !c->r->body_done)
		GB_BUF_PUTLIT(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
	if (!c->r->body_done) {
		c->r->held = true;	/* hold_request_body() dispatches */
		c->state = C_PROXY;
		return;
	}
	if (!dispatch(c)) {
		respond_error(c, 503, "no upstream server available");
		return;
	}
	c->state = C_PROXY;
}

/* Parse what the client sent; true when something changed. */
static bool
process_head(struct gw_conn *c)
{
	struct gw_worker *w = c->w;
	struct gb_http_req req;
	ssize_t n;

	if (gb_buf_used(&c->in) == 0)
		return false;
	if (req_get(c) == NULL) {
		conn_close(c);
		return true;
	}
	if (c->t_head == 0)
		c->t_head = gb_ev_now(w->ev);
	memset(&req, 0, sizeof(req));
	req.headers = w->hdrs;
	req.max_headers_cap = w->conf->limits.max_headers;
	n = gb_http_parse_request_resume((const char *)gb_buf_head(&c->in),
	    gb_buf_used(&c->in), &req, &w->conf->limits, GB_HTTP_STRICT,
	    c->r->parse_hint);
	if (n == 0) {
		c->r->parse_hint = gb_buf_used(&c->in);
		return false;
	}
	c->nreq++;
	if (n < 0) {
		__atomic_add_fetch(&w->st->bad_requests, 1, __ATOMIC_RELAXED);
		c->r->start_ns = gb_now_ns();
		if (w->alog_fd != -1 && req_text(c) != NULL)
			snprintf(c->r->text->method, sizeof(c->r->text->method),
			    "-");
		respond_error(c, req.status ? req.status : 400,
		    req.status == 414 ? "uri too long" : req.status == 431 ?
		    "request header fields too large" : req.status == 505 ?
		    "http version not supported" : req.status == 501 ?
		    "not implemented" : "bad request");
		gb_buf_reset(&c->in);
		return true;
	}
	start_request(c, &req, (size_t)n);
	/* The head is consumed only now: req slices pointed into c->in. */
	gb_buf_consume(&c->in, (size_t)n);
	c->t_head = 0;
	return true;
}

/* ---- bodies ---- */

/*
 * Move request body bytes from the client into dst (the upstream's buffer,
 * or the request head while held), checked and re-framed, while dst holds
 * less than HIGH_WATER. A malformed or oversized body is answered here.
 */
static bool
move_request_body(struct gw_conn *c, struct gb_buf *dst)
{
	bool moved = false;

	while (!c->r->body_done && gb_buf_used(&c->in) > 0 &&
	    gb_buf_used(dst) < HIGH_WATER) {
		if (c->r->body == GB_HTTP_BODY_LENGTH) {
			size_t k = gb_buf_used(&c->in);

			if (k > c->r->body_left)
				k = (size_t)c->r->body_left;
			if (k > HIGH_WATER)
				k = HIGH_WATER;
			if (gb_buf_append(dst, gb_buf_head(&c->in), k) ==
			    -1)
				break;
			gb_buf_consume(&c->in, k);
			c->r->body_left -= k;
			c->r->bytes_in += k;
			if (c->r->body_left == 0)
				c->r->body_done = true;
			moved = true;
			continue;
		}
		{
			const char *data;
			size_t used, dlen;
			int rc;

			rc = gb_http_chunked_next(&c->r->ch,
			    (const char *)gb_buf_head(&c->in),
			    gb_buf_used(&c->in), &used, &data, &dlen);
			if (rc == -1) {
				respond_error(c, 400, "bad request");
				return true;
			}
			if (dlen > 0) {
				gb_buf_put_hex(dst, dlen);
				GB_BUF_PUTLIT(dst, "\r\n");
				gb_buf_append(dst, data, dlen);
				GB_BUF_PUTLIT(dst, "\r\n");
			}
			gb_buf_consume(&c->in, used);
			c->r->bytes_in += used;
			moved = true;
			if (c->r->body_limit > 0 &&
			    c->r->ch.total > c->r->body_limit) {
				respond_error(c, 413, "request body too large");
				return true;
			}
			if (rc == 1) {
				GB_BUF_PUTLIT(dst, "0\r\n\r\n");
				c->r->body_done = true;
			}
		}
	}
	return moved;
}

static bool
pump_request_body(struct gw_conn *c)
{
	return move_request_body(c, &c->up->out);
}

/*
 * A request with a body is held (start_request()): its head and body
 * collect in c->r->head, checked, and go to an upstream only once the body
 * is whole or HIGH_WATER bytes wait. A body found malformed, too large or
 * late within that is answered with nothing sent upstream, as a bad head
 * is, instead of after a partial request went out (nginx buffers request
 * bodies the same way, proxy_request_buffering). The rest of a longer
 * body streams.
 */
static bool
hold_request_body(struct gw_conn *c)
{
	bool moved = move_request_body(c, &c->r->head);

	if (c->state != C_PROXY)
		return true;	/* answered */
	if (!c->r->body_done && gb_buf_used(&c->r->head) < HIGH_WATER)
		return moved;
	c->r->held = false;
	if (!dispatch(c))
		respond_error(c, 503, "no upstream server available");
	return true;
}

/* Re-frame the upstream response head for the client. */
static void
client_response_head(struct gw_conn *c, const struct gb_http_resp *resp,
    const struct gb_http_header *hdrs)
{
	static const struct hname resp_hop[] = {
		HNAME("connection"), HNAME("keep-alive"),
		HNAME("proxy-connection"), HNAME("transfer-encoding"),
		HNAME("content-length"), HNAME("upgrade"), HNAME("te"),
		HNAME("trailer"),
		/* The gateway's own is added below: one, not two. */
		HNAME("x-request-id"),
	};
	struct gb_buf *b = &c->out;
	bool nobody = resp->body == GB_HTTP_BODY_NONE;
	size_t i, start = b->len;
	struct conn_tokens ct;

	conn_tokens_find(&ct, hdrs, resp->nheaders);
	GB_BUF_PUTLIT(b, "HTTP/1.1 ");
	gb_buf_put_u64(b, (uint64_t)resp->status);
	gb_buf_putc(b, ' ');
	gb_buf_append(b, resp->reason, resp->reason_len);
	GB_BUF_PUTLIT(b, "\r\n");
	for (i = 0; i < resp->nheaders; i++) {
		const struct gb_http_header *h = &hdrs[i];

		/*
		 * A body-less response keeps its Content-Length (HEAD, 304),
		 * but a 204 has none to keep: a client that believed it would
		 * read the next response as this one's body.
		 */
		if (nobody && resp->status != 204 && gb_http_name_eq(h->name,
		    h->name_len, "content-length"))
			goto copy;
		if (name_in(h, resp_hop, sizeof(resp_hop) /
		    sizeof(resp_hop[0])) || named_in_connection(&ct, h) ||
		    is_gerbang_header(h))
			continue;
copy:
		put_field(b, h);
	}
	switch (resp->body) {
	case GB_HTTP_BODY_LENGTH:
		GB_BUF_PUTLIT(b, "Content-Length: ");
		gb_buf_put_u64(b, resp->content_length);
		GB_BUF_PUTLIT(b, "\r\n");
		break;
	case GB_HTTP_BODY_CHUNKED:
		/*
		 * An HTTP/1.0 client cannot read chunked (RFC 9112 7.1): it
		 * gets the decoded body, ended by the close.
		 */
		if (c->r->minor == 1) {
			GB_BUF_PUTLIT(b, "Transfer-Encoding: chunked\r\n");
			c->r->chunk_out = true;
		} else
			c->close_after = true;
		break;
	case GB_HTTP_BODY_CLOSE:
		if (c->r->minor == 1) {
			GB_BUF_PUTLIT(b, "Transfer-Encoding: chunked\r\n");
			c->r->chunk_out = true;
		} else
			c->close_after = true;
		break;
	case GB_HTTP_BODY_NONE:
		break;
	}
	if (!c->r->body_done)
		c->close_after = true;	/* answered before the body ended */
	if (c->close_after)
		GB_BUF_PUTLIT(b, "Connection: close\r\n");
	else if (c->r->minor == 0)
		GB_BUF_PUTLIT(b, "Connection: keep-alive\r\n");
	GB_BUF_PUTLIT(b, "X-Request-Id: ");
	gb_buf_puts(b, c->r->id);
	GB_BUF_PUTLIT(b, "\r\n\r\n");
	c->r->bytes_out += b->len - start;
}

static void
finish_request(struct gw_conn *c)
{
	struct gw_upc *u = c->up;
	bool reusable;

	c->r->resp_done = true;
	if (c->r->chunk_out)
		GB_BUF_PUTLIT(&c->out, "0\r\n\r\n");
	if (u != NULL) {
		/*
		 * Not after HEAD, 204 or 304: a server that writes a body
		 * for them anyway, a moment after the head, would have that
		 * body read as the next request's response, maybe another
		 * client's. nginx and HAProxy pool these connections; the
		 * cost here is one connect per such response
		 * (docs/configuration.md).
		 */
		reusable = c->r->up_keepalive && c->r->body_done &&
		    c->r->resp_body != GB_HTTP_BODY_CLOSE &&
		    c->r->method != GB_HTTP_HEAD && c->r->status != 204 &&
		    c->r->status != 304 && gb_buf_used(&u->out) == 0;
		gw_upc_server_result(c->w, u, true);
		gw_upc_release(u, reusable);
		c->up = NULL;
	}
	access_log(c);
	if (c->close_after) {
		c->state = C_CLOSING;
		return;
	}
	req_reset(c);
	c->state = C_HEAD;
	c->t_rd = gb_ev_now(c->w->ev);
}

/* Move response body bytes from the upstream to the client. */
static bool
pump_response_body(struct gw_conn *c)
{
	struct gw_upc *u = c->up;
	bool moved = false;

	while (!c->r->resp_done && gb_buf_used(&u->in) > 0 &&
	    gb_buf_used(&c->out) < HIGH_WATER) {
		const char *data;
		size_t used, dlen;
		int rc = 0;

		switch (c->r->resp_body) {
		case GB_HTTP_BODY_LENGTH:
			used = dlen = gb_buf_used(&u->in);
			if (dlen > c->r->resp_left)
				used = dlen = (size_t)c->r->resp_left;
			data = (const char *)gb_buf_head(&u->in);
			c->r->resp_left -= dlen;
			rc = c->r->resp_left == 0;
			break;
		case GB_HTTP_BODY_CHUNKED:
			rc = gb_http_chunked_next(&c->r->rch,
			    (const char *)gb_buf_head(&u->in),
			    gb_buf_used(&u->in), &used, &data, &dlen);
			if (rc == -1) {
				gb_warn("upstream %s sent a malformed chunked "
				    "body (request %s)", c->r->server, c->r->id);
				gw_upc_server_result(c->w, u, false);
				respond_error(c, 502, "bad gateway");
				return true;
			}
			break;
		default:	/* until close */
			used = dlen = gb_buf_used(&u->in);
			data = (const char *)gb_buf_head(&u->in);
			break;
		}
		if (dlen > 0) {
			if (c->r->chunk_out) {
				gb_buf_put_hex(&c->out, dlen);
				GB_BUF_PUTLIT(&c->out, "\r\n");
			}
			gb_buf_append(&c->out, data, dlen);
			if (c->r->chunk_out)
				GB_BUF_PUTLIT(&c->out, "\r\n");
			c->r->bytes_out += dlen;
		}
		gb_buf_consume(&u->in, used);
		moved = true;
		if (rc == 1) {
			finish_request(c);
			break;
		}
	}
	return moved;
}

static bool
process_response_head(struct gw_conn *c)
{
	struct gw_worker *w = c->w;
	struct gw_upc *u = c->up;
	struct gb_http_resp resp;
	ssize_t n;

	memset(&resp, 0, sizeof(resp));
	resp.headers = w->hdrs;
	resp.max_headers_cap = w->conf->limits.max_headers;
	n = gb_http_parse_response((const char *)gb_buf_head(&u->in),
	    gb_buf_used(&u->in), &resp, &w->conf->limits, GB_HTTP_STRICT,
	    c->r->method);
	if (n == 0)
		return false;
	if (n < 0) {
		gb_warn("upstream %s sent a malformed response (%s), request "
		    "%s", c->r->server, resp.error ? resp.error : "?", c->r->id);
		gw_upc_server_result(w, u, false);
		respond_error(c, 502, "bad gateway");
		return true;
	}
	if (resp.status >= 100 && resp.status < 200 && resp.status != 101) {
		/* Interim (100 Continue was answered by us): drop it. */
		gb_buf_consume(&u->in, (size_t)n);
		return true;
	}
	/*
	 * A 101 opens a tunnel only as the WebSocket the client asked for,
	 * from a server that did the handshake: one to h2c, or without
	 * Upgrade, would carry another protocol past the gateway; one without
	 * the Sec-WebSocket-Accept due came from something that only sets a
	 * status (a client-chosen one, say) and the upstream still speaks
	 * HTTP behind it.
	 */
	if (resp.status == 101 && (!c->r->upgrade ||
	    !upgrade_websocket(w->hdrs, resp.nheaders) ||
	    !ws_accept_ok(w->hdrs, resp.nheaders, c->r->ws_accept))) {
		gw_upc_server_result(w, u, false);
		respond_error(c, 502, "bad gateway");
		return true;
	}
	c->r->head_ns = gb_now_ns();
	c->r->status = resp.status;
	c->r->resp_head = true;
	c->r->resp_body = resp.body;
	c->r->resp_left = resp.content_length;
	c->r->resp_len = resp.content_length;
	c->r->up_keepalive = (resp.flags & GB_HTTP_F_KEEPALIVE) != 0;
	if (resp.body == GB_HTTP_BODY_CHUNKED)
		gb_http_chunked_init(&c->r->rch, GB_HTTP_STRICT);
	if (resp.status == 101) {
		size_t i;

		gb_buf_printf(&c->out, "HTTP/1.1 101 Switching Protocols\r\n");
		for (i = 0; i < resp.nheaders; i++) {
			const struct gb_http_header *h = &w->hdrs[i];

			if (gb_http_name_eq(h->name, h->name_len,
			    "connection") || is_gerbang_header(h))
				continue;
			put_field(&c->out, h);
		}
		GB_BUF_PUTLIT(&c->out, "Connection: upgrade\r\n\r\n");
		gb_buf_consume(&u->in, (size_t)n);
		access_log(c);
		c->state = C_TUNNEL;
		return true;
	}
	/*
	 * Room for the head and the part of the body that passes at once, in
	 * one allocation rather than a chain of doublings that copy it.
	 */
	gb_buf_reserve(&c->out, 1024 + (resp.body == GB_HTTP_BODY_LENGTH ?
	    (size_t)(resp.content_length < HIGH_WATER + READ_CHUNK ?
	    resp.content_length : HIGH_WATER + READ_CHUNK) : 0));
	client_response_head(c, &resp, w->hdrs);
	gb_buf_consume(&u->in, (size_t)n);
	gb_buf_reset(&c->r->head);	/* no retry once a response came */
	if (resp.body == GB_HTTP_BODY_NONE ||
	    (resp.body == GB_HTTP_BODY_LENGTH && resp.content_length == 0))
		finish_request(c);
	return true;
}

/* The upstream failed before answering: retry elsewhere, or 502/504. */
static void
upstream_failed(struct gw_conn *c, int status)
{
	struct gw_worker *w = c->w;
	struct gw_upc *u = c->up;
	size_t ui = c->r->upstream;
	bool can_retry;

	/*
	 * A pooled connection the server closed is not the server's fault;
	 * a fresh connect that failed or timed out is.
	 */
	if (!u->reused || u->io.err)
		gw_upc_server_result(w, u, false);
	can_retry = !c->r->resp_head && gb_buf_used(&u->in) == 0 &&
	    c->r->body == GB_HTTP_BODY_NONE &&
	    (c->r->idempotent || (u->reused && u->sent == 0)) &&
	    gb_buf_used(&c->r->head) > 0 &&
	    c->r->attempts <= w->conf->upstreams[ui].retries;
	if (u->reused && !c->r->resp_head && c->r->body == GB_HTTP_BODY_NONE &&
	    c->r->idempotent)
		c->r->tried &= ~(1ull << (u->srv_index -
		    w->server_base[ui]));	/* same server again */
	upstream_drop(c);
	if (can_retry) {
		__atomic_add_fetch(&w->st->retries, 1, __ATOMIC_RELAXED);
		if (dispatch(c))
			return;
	}
	__atomic_add_fetch(&w->st->upstream_errors, 1, __ATOMIC_RELAXED);
	respond_error(c, status, status == 504 ? "gateway timeout" :
	    "bad gateway");
}

/*
 * A response body that passes through unchanged (Content-Length, or until
 * close, and not re-framed as chunked) comes from a plain upstream straight
 * into the client's buffer: no copy through u->in, and reads as large as
 * the buffer allows (one syscall where 16 KiB pieces took four). The read
 * never asks for more of the body than is left; a second vector takes
 * whatever the upstream sent beyond it, into u->in as before, so the
 * connection is not reused, and tells a drained socket by a short read.
 */
static bool
body_direct(const struct gw_conn *c)
{
	const struct gw_upc *u = c->up;

	return c->r->resp_head && !c->r->chunk_out && !c->r->resp_done &&
	    (c->r->resp_body == GB_HTTP_BODY_LENGTH ||
	    c->r->resp_body == GB_HTTP_BODY_CLOSE) &&
	    u->io.ssl == NULL && gb_buf_used(&u->in) == 0;
}

/* Read body bytes into c->out (>0), 0 would block, -1 EOF or error. */
static ssize_t
read_body_direct(struct gw_conn *c)
{
	struct gw_upc *u = c->up;
	struct iovec iov[2];
	size_t want = HIGH_WATER - gb_buf_used(&c->out), spill = 0, body;
	ssize_t n;

	if (c->r->resp_body == GB_HTTP_BODY_LENGTH) {
		/* A short tail is taken with the rest: fewer TLS records. */
		if (c->r->resp_left <= (uint64_t)want + READ_CHUNK)
			want = (size_t)c->r->resp_left;
		spill = SPILL;
	}
	if ((iov[0].iov_base = gb_buf_reserve(&c->out, want)) == NULL ||
	    (spill > 0 && (iov[1].iov_base = gb_buf_reserve(&u->in,
	    spill)) == NULL))
		return 0;
	iov[0].iov_len = want;
	iov[1].iov_len = spill;
	n = readv(u->io.fd, iov, spill > 0 ? 2 : 1);
	if (n > 0) {
		if ((size_t)n < want + spill && !u->io.hup)
			u->io.rd_ready = false;	/* drained, as gw_io_read() */
		body = (size_t)n < want ? (size_t)n : want;
		gb_buf_commit(&c->out, body);
		gb_buf_commit(&u->in, (size_t)n - body);
		c->r->bytes_out += body;
		if (c->r->resp_body == GB_HTTP_BODY_LENGTH)
			c->r->resp_left -= body;
		return n;
	}
	if (n == 0) {
		u->io.eof = true;
		return -1;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		u->io.rd_ready = false;
		return 0;
	}
	if (errno == EINTR)
		return 0;
	u->io.err = true;
	return -1;
}

/*
 * The head of a small response whose body has not come yet waits for it
 * (nginx's postpone_output does the same): one TLS record and one packet
 * rather than two, and one read for the client. Many servers write the
 * head and the body apart; a body that is late only delays a head the
 * client cannot use without it. Larger and chunked bodies go at once.
 */
static bool
head_held(const struct gw_conn *c)
{
	return c->state == C_PROXY && c->up != NULL && c->r->resp_head &&
	    !c->r->resp_done && c->r->resp_body == GB_HTTP_BODY_LENGTH &&
	    c->r->resp_left == c->r->resp_len &&
	    c->r->resp_len <= HOLD_HEAD_MAX;
}

/* Connect, handshake, write and read on the upstream side. */
static bool
pump_upstream(struct gw_conn *c)
{
	struct gw_worker *w = c->w;
	struct gw_upc *u = c->up;
	bool moved = false;
	ssize_t n;

	if (u->connecting) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (!u->io.wr_ready && !u->io.err)
			return false;
		if (u->io.err || getsockopt(u->io.fd, SOL_SOCKET, SO_ERROR,
		    &soerr, &sl) == -1 || soerr != 0) {
			u->io.err = true;
			upstream_failed(c, 502);
			return true;
		}
		u->connecting = false;
		u->io.rd_ready = true;
		moved = true;
	}
	if (u->handshaking) {
		int rc;

		err_clear();
		if ((rc = SSL_do_handshake(u->io.ssl)) != 1) {
			int e = SSL_get_error(u->io.ssl, rc);
			char err[256];

			if (e == SSL_ERROR_WANT_READ) {
				u->io.rd_ready = false;
				return moved;
			}
			if (e == SSL_ERROR_WANT_WRITE) {
				u->io.wr_ready = false;
				return moved;
			}
			gb_warn("upstream %s: TLS handshake failed: %s",
			    u->srv->name, gw_tls_errstr(err, sizeof(err)));
			u->io.err = true;
			upstream_failed(c, 502);
			return true;
		}
		u->handshaking = false;
		moved = true;
	}
	if (gb_buf_used(&u->out) > 0 && u->io.wr_ready) {
		n = io_flush(&u->io, &u->out);
		if (n > 0) {
			u->sent += (uint64_t)n;
			c->r->up_last = gb_ev_now(w->ev);
			moved = true;
		}
		if (n < 0 || u->io.err) {
			upstream_failed(c, 502);
			return true;
		}
	}
	if (c->up != u)
		return moved;
	/*
	 * Use what was read (the head, then body bytes) before reading more,
	 * so that a body can go straight to the client (body_direct()). What
	 * was read before an EOF is still the response: it is used first.
	 */
	while (c->state == C_PROXY) {
		if (!c->r->resp_head && gb_buf_used(&u->in) > 0 &&
		    process_response_head(c))
			moved = true;
		if (c->up != u)
			return true;
		if (c->state == C_PROXY && c->r->resp_head &&
		    pump_response_body(c))
			moved = true;
		if (c->up != u)
			return true;
		if (c->state != C_PROXY || !u->io.rd_ready || u->io.eof ||
		    u->io.err || gb_buf_used(&c->out) >= HIGH_WATER ||
		    gb_buf_used(&u->in) >= HIGH_WATER)
			break;
		if (body_direct(c)) {
			if ((n = read_body_direct(c)) <= 0)
				break;
			c->r->up_last = gb_ev_now(w->ev);
			moved = true;
			if (c->r->resp_body == GB_HTTP_BODY_LENGTH &&
			    c->r->resp_left == 0) {
				finish_request(c);
				return true;
			}
			continue;
		}
		n = io_fill(&u->io, &u->in, HIGH_WATER);
		if (n <= 0)
			break;	/* would block, or EOF/error: handled below */
		c->r->up_last = gb_ev_now(w->ev);
		moved = true;
	}
	if (c->up != u || c->r->resp_done || !(u->io.eof || u->io.err))
		return moved;
	if (!c->r->resp_head) {
		/* Closed before a whole response head: 502 (or retry). */
		upstream_failed(c, 502);
		return true;
	}
	if (gb_buf_used(&u->in) > 0)
		return moved;	/* the client is slow: deliver the rest first */
	if (c->r->resp_body == GB_HTTP_BODY_CLOSE && !u->io.err) {
		/* Close-delimited body: EOF is its end. */
		c->r->up_keepalive = false;
		finish_request(c);
		return true;
	}
	/* Truncated response: cut the client too, it must not be fooled. */
	upstream_drop(c);
	conn_close(c);
	return true;
}

/* A 101 tunnel: bytes both ways until either side closes. */
static bool
pump_tunnel(struct gw_conn *c)
{
	struct gw_upc *u = c->up;
	bool moved = false;
	ssize_t n;

	if (gb_buf_used(&c->in) > 0 && gb_buf_used(&u->out) < HIGH_WATER) {
		gb_buf_append(&u->out, gb_buf_head(&c->in),
		    gb_buf_used(&c->in));
		c->r->bytes_in += gb_buf_used(&c->in);
		gb_buf_reset(&c->in);
		moved = true;
	}
	if (gb_buf_used(&u->out) > 0 && u->io.wr_ready) {
		if ((n = io_flush(&u->io, &u->out)) < 0 || u->io.err) {
			upstream_drop(c);
			conn_close(c);
			return true;
		}
		moved |= n > 0;
	}
	while (u->io.rd_ready && gb_buf_used(&c->out) < HIGH_WATER) {
		if ((n = io_fill(&u->io, &c->out, HIGH_WATER)) == 0)
			break;
		if (n < 0) {
			upstream_drop(c);
			c->state = C_CLOSING;
			return true;
		}
		c->r->bytes_out += (uint64_t)n;
		moved = true;
	}
	return moved;
}

/* ---- the connection ---- */

static bool
want_client_read(const struct gw_conn *c)
{
	switch (c->state) {
	case C_HANDSHAKE:
		return false;
	case C_HEAD:
		return !c->close_after && gb_buf_used(&c->in) <
		    c->w->conf->limits.max_head_size + READ_CHUNK;
	case C_PROXY:
		if (c->r->held)
			return !c->r->body_done &&
			    gb_buf_used(&c->r->head) < HIGH_WATER &&
			    gb_buf_used(&c->in) < HIGH_WATER;
		return !c->r->body_done && c->up != NULL &&
		    gb_buf_used(&c->up->out) < HIGH_WATER &&
		    gb_buf_used(&c->in) < HIGH_WATER;
	case C_TUNNEL:
		return c->up != NULL && gb_buf_used(&c->up->out) < HIGH_WATER;
	case C_CLOSING:
		return false;
	}
	return false;
}

static int
handshake(struct gw_conn *c)
{
	struct gw_worker *w = c->w;
	char err[256];
	int rc, e;

	err_clear();
	c->io.drained = false;
	if ((rc = SSL_do_handshake(c->io.ssl)) == 1) {
		/* As in gw_io_read(): no read only to hear EAGAIN. */
		if (c->io.drained && !c->io.hup && !SSL_has_pending(c->io.ssl))
			c->io.rd_ready = false;
		__atomic_add_fetch(&w->st->handshakes, 1, __ATOMIC_RELAXED);
		if (SSL_session_reused(c->io.ssl))
			__atomic_add_fetch(&w->st->resumed, 1,
			    __ATOMIC_RELAXED);
		c->state = C_HEAD;
		c->t_rd = gb_ev_now(w->ev);
		return 1;
	}
	e = SSL_get_error(c->io.ssl, rc);
	if (e == SSL_ERROR_WANT_READ) {
		c->io.rd_ready = false;
		return 0;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		c->io.wr_ready = false;
		return 0;
	}
	__atomic_add_fetch(&w->st->handshake_failures, 1, __ATOMIC_RELAXED);
	gb_debug("%s:%d: TLS handshake failed: %s", c->ip, conn_port(c),
	    gw_tls_errstr(err, sizeof(err)));
	return -1;
}

/*
 * The handshake queue. A new TLS connection's first handshake step reads
 * the ClientHello and computes the server's flight (key exchange and
 * signature: hundreds of microseconds). Run from the event that brought
 * the ClientHello, a burst of them would hold up every established
 * connection ready in the same turn; queued, they run after those, a few
 * per turn (gw_conn_handshakes()). Later steps are cheap and run at once.
 */
static bool
hs_costly(const struct gw_conn *c)
{
	return c->state == C_HANDSHAKE && c->io.ssl != NULL &&
	    BIO_number_written(SSL_get_wbio(c->io.ssl)) == 0;
}

static void
hs_enqueue(struct gw_conn *c)
{
	struct gw_worker *w = c->w;

	if (c->hs_queued)
		return;
	c->hs_queued = true;
	c->hs_next = NULL;
	if (w->hs_tail != NULL)
		w->hs_tail->hs_next = c;
	else
		w->hs_head = c;
	w->hs_tail = c;
}

/* Take c out of the queue (rare: closed while it waited). */
static void
hs_unlink(struct gw_conn *c)
{
	struct gw_worker *w = c->w;
	struct gw_conn **pp, *prev = NULL;

	if (!c->hs_queued)
		return;
	for (pp = &w->hs_head; *pp != NULL; prev = *pp, pp = &(*pp)->hs_next)
		if (*pp == c) {
			*pp = c->hs_next;
			if (w->hs_tail == c)
				w->hs_tail = prev;
			break;
		}
	c->hs_queued = false;
	c->hs_next = NULL;
}

bool
gw_conn_handshakes(struct gw_worker *w)
{
	struct gw_conn *c;
	int n;

	for (n = 0; n < GW_HS_PER_TURN && (c = w->hs_head) != NULL; n++) {
		if ((w->hs_head = c->hs_next) == NULL)
			w->hs_tail = NULL;
		c->hs_queued = false;
		c->hs_next = NULL;
		conn_run(c);
	}
	return w->hs_head != NULL;
}

/*
 * An idle connection holds no buffers (nginx does the same), unless it is
 * warm: answered a moment ago, so likely to ask again (WARM_MS, WARM_MAX).
 */
static void
conn_idle(struct gw_conn *c)
{
	struct gw_worker *w = c->w;

	if (!c->warm && c->nreq > 0 && !c->close_after && !w->draining &&
	    w->nwarm < WARM_MAX) {
		c->warm = true;
		w->nwarm++;
		__atomic_add_fetch(&w->st->warm_conns, 1, __ATOMIC_RELAXED);
	}
	if (c->warm) {
		if (c->in.cap > WARM_BUF)
			gb_buf_free(&c->in);
		if (c->out.cap > WARM_BUF)
			gb_buf_free(&c->out);
		if (c->r != NULL && c->r->head.cap > WARM_BUF)
			gb_buf_free(&c->r->head);	/* held a body */
		gb_buf_reset(&c->in);
		gb_buf_reset(&c->out);
		return;
	}
	gb_buf_free(&c->in);
	gb_buf_free(&c->out);
	req_free(c);
}

/* A warm connection idle for WARM_MS: its buffers go (when idle). */
static void
conn_cool(struct gw_conn *c)
{
	struct gw_worker *w = c->w;

	if (!c->warm)
		return;
	c->warm = false;
	w->nwarm--;
	__atomic_sub_fetch(&w->st->warm_conns, 1, __ATOMIC_RELAXED);
	if (c->state == C_HEAD && gb_buf_used(&c->in) == 0 &&
	    gb_buf_used(&c->out) == 0) {
		gb_buf_free(&c->in);
		gb_buf_free(&c->out);
		req_free(c);
	}
}

static void
conn_close(struct gw_conn *c)
{
	struct gw_worker *w = c->w;

	if (c->closed)
		return;
	c->closed = true;
	hs_unlink(c);
	if (c->warm) {
		c->warm = false;
		w->nwarm--;
		__atomic_sub_fetch(&w->st->warm_conns, 1, __ATOMIC_RELAXED);
	}
	upstream_drop(c);
	gb_ev_timer_cancel(w->ev, &c->timer);
	gb_ev_timer_cancel(w->ev, &c->kick);
	gb_ev_forget(w->ev, c->io.fd);	/* closed by gw_conn_reap() */
	if (c->io.ssl != NULL && !c->io.err && c->state != C_HANDSHAKE) {
		err_clear();
		/* Held: gw_conn_reap()'s shutdown() sends it with the FIN. */
		c->io.more = true;
		SSL_shutdown(c->io.ssl);	/* close_notify, best effort */
		c->io.more = false;
	}
	/* Unlink from the live list; freed before the loop sleeps. */
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->next = w->reap;
	w->reap = c;
	w->nconns--;
	__atomic_sub_fetch(&w->st->active_conns, 1, __ATOMIC_RELAXED);
}

void
gw_conn_reap(struct gw_worker *w)
{
	struct gw_conn *c;

	while ((c = w->reap) != NULL) {
		w->reap = c->next;
		if (c->io.ssl != NULL)
			SSL_free(c->io.ssl);
		if (c->io.fd != -1) {
			/*
			 * Read what the client sent and we did not consume,
			 * so close() does not answer it with an RST that
			 * could destroy the response still in flight.
			 */
			char junk[4096];
			int i;

			shutdown(c->io.fd, SHUT_WR);
			for (i = 0; i < 16 && read(c->io.fd, junk,
			    sizeof(junk)) > 0; i++)
				;
			close(c->io.fd);
		}
		gb_buf_free(&c->in);
		gb_buf_free(&c->out);
		req_free(c);
		free(c->peer);
		free(c);
	}
	gw_upc_reap(w);
}

static uint64_t
min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The earliest deadline of the connection's current state. */
static uint64_t
conn_deadline(const struct gw_conn *c, int *what)
{
	const struct gw_timeouts *t = &c->w->conf->timeouts;
	uint64_t dl = UINT64_MAX, x;

	*what = 0;
	switch (c->state) {
	case C_HANDSHAKE:
		dl = c->t_accept + t->handshake;
		*what = 1;
		break;
	case C_HEAD:
		if (gb_buf_used(&c->in) > 0 && c->t_head != 0) {
			dl = c->t_head + t->request_header;
			*what = 2;
		} else {
			uint64_t ka = c->w->draining ? min64(t->keepalive,
			    1000) : t->keepalive;

			dl = c->t_rd + (c->nreq == 0 ? t->request_header : ka);
			*what = 3;
			if (c->warm && c->t_rd + WARM_MS < dl) {
				dl = c->t_rd + WARM_MS;
				*what = 8;
			}
		}
		break;
	case C_PROXY:
		if (!c->r->body_done) {
			dl = c->t_rd + t->request_body;
			*what = 4;
		}
		if (c->up != NULL && !c->r->resp_done) {
			if (c->up->connecting || c->up->handshaking)
				x = c->r->up_start + t->upstream_connect;
			else if (gb_buf_used(&c->up->out) > 0)
				x = c->r->up_last + t->upstream_send;
			else
				x = c->r->up_last + t->upstream_read;
			if (x < dl) {
				dl = x;
				*what = 5;
			}
		}
		break;
	case C_TUNNEL:
		dl = (c->t_rd > c->t_wr ? c->t_rd : c->t_wr) + t->keepalive;
		*what = 6;
		break;
	case C_CLOSING:
		dl = c->t_wr + t->send;
		*what = 7;
		break;
	}
	if (gb_buf_used(&c->out) > 0 && !c->io.wr_ready &&
	    c->t_wr + t->send < dl) {
		dl = c->t_wr + t->send;
		*what = 7;
	}
	return dl;
}

static void
conn_timeout(struct gb_ev *ev, void *arg)
{
	struct gw_conn *c = arg;
	struct gw_worker *w = c->w;
	uint64_t dl;
	int what;

	dl = conn_deadline(c, &what);
	if (dl > gb_ev_now(ev)) {
		gb_ev_timer_set(ev, &c->timer, dl - gb_ev_now(ev));
		return;
	}
	if (what == 8) {	/* idle for WARM_MS: let the buffers go */
		conn_cool(c);
		conn_arm(c);
		return;
	}
	__atomic_add_fetch(&w->st->timeouts, 1, __ATOMIC_RELAXED);
	switch (what) {
	case 2:		/* slow head: slowloris */
	case 4:		/* slow body */
		respond_error(c, 408, "request timeout");
		break;
	case 5:
		if (c->up != NULL && (c->up->connecting ||
		    c->up->handshaking)) {
			c->up->io.err = true;
			upstream_failed(c, 504);
		} else if (!c->r->resp_head) {
			gw_upc_server_result(w, c->up, false);
			respond_error(c, 504, "gateway timeout");
		} else {
			conn_close(c);
			return;
		}
		break;
	default:	/* handshake, idle keep-alive, send, tunnel */
		conn_close(c);
		return;
	}
	conn_run(c);
}

static void
conn_kick(struct gb_ev *ev, void *arg)
{
	(void)ev;
	conn_run(arg);
}

static void
client_event(struct gb_ev *ev, int fd, void *arg, unsigned mask)
{
	struct gw_conn *c = arg;

	(void)ev;
	(void)fd;
	gw_io_event(&c->io, mask);
	if (hs_costly(c))
		hs_enqueue(c);	/* after the established connections */
	else
		conn_run(c);
}

/*
 * Set the one timer the connection's state needs. Its sockets (and its
 * upstream's) are registered once, edge-triggered, for both directions:
 * readiness is remembered in struct gw_io, so nothing is re-registered per
 * request. A deadline that moved later leaves the timer where it is (every
 * request moves it, and moving costs a walk of the heap): it fires early
 * and conn_timeout() sets it again for what is then due.
 */
static void
conn_arm(struct gw_conn *c)
{
	struct gw_worker *w = c->w;
	uint64_t dl, now = gb_ev_now(w->ev);
	int what;

	dl = conn_deadline(c, &what);
	if (dl == UINT64_MAX)
		gb_ev_timer_cancel(w->ev, &c->timer);
	else if (!gb_ev_timer_armed(&c->timer) || c->timer.when > dl)
		gb_ev_timer_set(w->ev, &c->timer, dl > now ? dl - now : 0);
}

static void
conn_run(struct gw_conn *c)
{
	struct gw_worker *w = c->w;
	int round;
	ssize_t n;

	for (round = 0; round < RUN_ROUNDS && !c->closed; round++) {
		bool moved = false;

		if (c->state == C_HANDSHAKE) {
			int rc;

			/*
			 * handshake() clears the readiness it waits for, so
			 * with either one false it would only hear EAGAIN
			 * again (the edge of EPOLLOUT after the first flight,
			 * for one: a read per handshake).
			 */
			if (!c->io.rd_ready || !c->io.wr_ready)
				break;
			rc = handshake(c);

			if (rc < 0) {
				conn_close(c);
				return;
			}
			if (rc == 0)
				break;
			moved = true;
		}
		if (want_client_read(c) && c->io.rd_ready) {
			size_t room = c->state == C_HEAD ?
			    w->conf->limits.max_head_size + READ_CHUNK -
			    gb_buf_used(&c->in) : HIGH_WATER;

			n = io_fill(&c->io, &c->in, room);
			if (n > 0) {
				c->t_rd = gb_ev_now(w->ev);
				__atomic_add_fetch(&w->st->bytes_in,
				    (uint64_t)n, __ATOMIC_RELAXED);
				moved = true;
			} else if (n < 0) {
				/* Client gone (or half-closed): stop. */
				conn_close(c);
				return;
			}
		}
		if (c->state == C_HEAD && !c->close_after)
			moved |= process_head(c);
		if (c->state == C_PROXY && c->r->held)
			moved |= hold_request_body(c);
		if (c->state == C_PROXY && c->up != NULL) {
			moved |= pump_request_body(c);
			if (c->state == C_PROXY && c->up != NULL)
				moved |= pump_upstream(c);
		}
		if (c->state == C_TUNNEL && c->up != NULL)
			moved |= pump_tunnel(c);
		if (c->closed)
			return;
		if (gb_buf_used(&c->out) > 0 && c->io.wr_ready &&
		    !head_held(c)) {
			n = io_flush_hold(&c->io, &c->out, c->state ==
			    C_CLOSING && c->io.ssl != NULL);
			if (n < 0 || c->io.err) {
				conn_close(c);
				return;
			}
			if (n > 0) {
				c->t_wr = gb_ev_now(w->ev);
				__atomic_add_fetch(&w->st->bytes_out,
				    (uint64_t)n, __ATOMIC_RELAXED);
				moved = true;
			}
		}
		if (c->state == C_CLOSING && gb_buf_used(&c->out) == 0) {
			conn_close(c);
			return;
		}
		if (c->state == C_HEAD && c->close_after &&
		    gb_buf_used(&c->out) == 0) {
			conn_close(c);
			return;
		}
		if (!moved)
			break;
	}
	if (round == RUN_ROUNDS)
		gb_ev_timer_set(w->ev, &c->kick, 0);	/* let others run */
	if (c->state == C_HEAD && gb_buf_used(&c->in) == 0 &&
	    gb_buf_used(&c->out) == 0)
		conn_idle(c);
	conn_arm(c);
}

void
gw_conn_accept(struct gw_worker *w, struct gw_listener *l, int fd,
    const struct sockaddr_storage *ss)
{
	struct gw_conn *c;
	int one = 1;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->w = w;
	c->l = l;
	c->io.fd = fd;
	memcpy(&c->addr, ss, ss->ss_family == AF_INET6 ?
	    sizeof(c->addr.sin6) : sizeof(c->addr.sin));
	c->io.rd_ready = true;	/* TCP_DEFER_ACCEPT: data is likely there */
	c->io.wr_ready = true;
	/*
	 * Listeners have TCP_NODELAY, which Linux passes on to accepted
	 * sockets: asked once, then set per socket only if it was not.
	 */
	if (w->nodelay_inherited == 0) {
		int v = 0;
		socklen_t sl = sizeof(v);

		w->nodelay_inherited = getsockopt(fd, IPPROTO_TCP, TCP_NODELAY,
		    &v, &sl) == 0 && v != 0 ? 1 : -1;
	}
	if (w->nodelay_inherited < 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, c->ip, sizeof(c->ip));
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, c->ip, sizeof(c->ip));
	}
	gb_buf_init(&c->in, w->conf->limits.max_head_size + 2 * READ_CHUNK +
	    HIGH_WATER);
	gb_buf_init(&c->out, 4 * HIGH_WATER);
	c->t_accept = c->t_rd = c->t_wr = gb_ev_now(w->ev);
	gb_ev_timer_init(&c->timer, conn_timeout, c);
	gb_ev_timer_init(&c->kick, conn_kick, c);
	if (l->tls) {
		if ((c->io.ssl = SSL_new(gw_tls_ctx(l->tlsctx))) == NULL) {
			close(fd);
			free(c);
			return;
		}
		if (gw_io_ssl_attach(&c->io) == -1) {
			SSL_free(c->io.ssl);
			close(fd);
			free(c);
			return;
		}
		SSL_set_accept_state(c->io.ssl);
		SSL_set_mode(c->io.ssl, SSL_MODE_ENABLE_PARTIAL_WRITE);
		c->state = C_HANDSHAKE;
	} else
		c->state = C_HEAD;
	c->next = w->conns;
	if (c->next != NULL)
		c->next->prev = c;
	w->conns = c;
	w->nconns++;
	__atomic_add_fetch(&w->st->active_conns, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&w->st->conns_total, 1, __ATOMIC_RELAXED);
	if (gb_ev_add(w->ev, fd, GB_EV_READ | GB_EV_WRITE | GB_EV_EDGE,
	    client_event, c) == -1) {
		conn_close(c);
		return;
	}
	if (c->state == C_HANDSHAKE) {
		conn_arm(c);	/* the handshake timeout */
		hs_enqueue(c);
	} else
		conn_run(c);
}

void
gw_conn_drain_all(struct gw_worker *w)
{
	struct gw_conn *c, *next;

	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		/*
		 * A request in flight is answered with "Connection: close"
		 * (or the connection closes after it when its head is out).
		 * An idle keep-alive connection may still bring one more
		 * request, answered with "Connection: close"; its idle timer
		 * becomes short (conn_deadline()).
		 */
		if (c->state == C_PROXY || c->state == C_TUNNEL)
			c->close_after = true;
		if (!c->closed)
			conn_arm(c);
	}
}

void
gw_conn_upstream_event(struct gw_conn *c)
{
	conn_run(c);
}
