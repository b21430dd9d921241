/*
 * gw.h: the types the gateway's files share. Internal to gateway/.
 *
 * Processes: the master (gw_main.c) loads and validates the configuration,
 * binds every listener, loads every key, then forks the workers and drops
 * to the configured user in each. The master keeps its privileges only to
 * re-read keys on SIGHUP; it never touches traffic. Each worker runs one
 * epoll loop (core/gb_ev.h) over the shared listening sockets
 * (EPOLLEXCLUSIVE) and owns its connections, upstream pools and timers.
 * Counters live in a shared mapping (struct gw_stats) that the master's
 * admin listener reads for /metrics.
 *
 * Ownership: a struct gw_conf is built by gw_conf_load() (caller owns,
 * gw_conf_free()) and is read-only once workers run; workers borrow it for
 * their lifetime. A reload builds a new conf and new workers; the old
 * workers drain with the old one.
 */
#ifndef GW_H
#define GW_H

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/gb_buf.h"
#include "core/gb_diag.h"
#include "core/gb_ev.h"
#include "core/gb_http.h"
#include "core/gb_idhdr.h"
#include "policy/pol.h"

#define GW_NAME_MAX		64
#define GW_MAX_LISTENERS	32
#define GW_MAX_UPSTREAMS	256
#define GW_MAX_SERVERS		64	/* per upstream */
#define GW_MAX_ROUTES		1024
#define GW_MAX_CERTS		32	/* per listener */
#define GW_MAX_WORKERS		64
#define GW_STATS_SLOTS		(2 * GW_MAX_WORKERS)

/* Client-certificate policy of a listener. */
enum gw_client_auth {
	GW_CLIENT_AUTH_NONE = 0,
	GW_CLIENT_AUTH_OPTIONAL,
	GW_CLIENT_AUTH_REQUIRED,
};

enum gw_balance {
	GW_BALANCE_ROUND_ROBIN = 0,
	GW_BALANCE_LEAST_CONN,
};

/* Timeouts, all in milliseconds. */
struct gw_timeouts {
	uint64_t	handshake;
	uint64_t	request_header;
	uint64_t	request_body;	/* idle time between body reads */
	uint64_t	keepalive;	/* idle client between requests */
	uint64_t	send;		/* idle client while we write to it */
	uint64_t	upstream_connect;
	uint64_t	upstream_send;
	uint64_t	upstream_read;
	uint64_t	upstream_idle;	/* idle pooled upstream connection */
	uint64_t	drain;		/* SIGTERM / reload grace period */
};

struct gw_cert_conf {
	char		*cert;		/* PEM chain */
	char		*key;		/* PEM private key */
	unsigned	 line, col;	/* where it was configured */
};

struct gw_listener {
	char			 name[GW_NAME_MAX];
	char			*addr_str;	/* as configured */
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	struct gw_cert_conf	 certs[GW_MAX_CERTS];
	size_t			 ncerts;
	enum gw_client_auth	 client_auth;
	char			*client_ca;
	char			*crl;
	unsigned		 ca_line, ca_col;	/* of client_ca */
	unsigned		 crl_line, crl_col;
	bool			 tickets;
	uint64_t		 ticket_rotate_ms;
	bool			 tls;		/* false only in tests: plain */
	int			 fd;		/* bound by the master */
	struct gw_tls		*tlsctx;	/* gw_tls.c */
	unsigned		 line, col;
};

struct gw_server {
	char			 name[GW_NAME_MAX + 8];	/* host:port */
	char			 host[256];
	int			 port;
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	unsigned		 weight;
	/* Worker-local state. */
	unsigned		 active;	/* connections in use */
	unsigned		 fails;		/* consecutive failures */
	uint64_t		 down_until;	/* passive: ms, 0 = up */
	size_t			 stats_slot;	/* index in gw_stats servers */
};

struct gw_upstream {
	char			 name[GW_NAME_MAX];
	enum gw_balance		 balance;
	struct gw_server	 servers[GW_MAX_SERVERS];
	size_t			 nservers;
	bool			 tls;
	bool			 tls_verify;
	char			*tls_ca;
	unsigned		 ca_line, ca_col;	/* of tls.ca */
	char			*tls_sni;	/* NULL: the server's host */
	SSL_CTX			*tls_ctx;
	unsigned		 keepalive;	/* idle connections kept */
	unsigned		 max_fails;
	uint64_t		 fail_timeout_ms;
	char			*check_path;	/* active checks; NULL = off */
	uint64_t		 check_interval_ms;
	uint64_t		 check_timeout_ms;
	unsigned		 retries;	/* other servers tried */
	size_t			 rr;		/* worker-local cursor */
	unsigned		 line, col;
};

struct gw_route {
	char			 name[GW_NAME_MAX];
	char			*host;		/* NULL = any */
	char			*path;		/* prefix (or exact) */
	size_t			 path_len;
	bool			 exact;
	bool			 upgrade;	/* allow Upgrade */
	size_t			 upstream;	/* index */
	size_t			 stats_slot;
	unsigned		 line, col;
};

struct gw_conf {
	char			*file;
	unsigned		 workers;
	char			*user;
	char			*log_file;
	int			 log_level;
	int			 log_format;
	char			*access_log;	/* NULL = off, "-" = stdout */
	bool			 access_log_query;
	char			*admin_addr_str;	/* NULL = off */
	struct sockaddr_storage	 admin_addr;
	socklen_t		 admin_addrlen;
	int			 admin_fd;
	unsigned		 max_connections;	/* per worker */
	size_t			 rate_limit_buckets;	/* policy rate-limit
							   table (fixed at
							   start) */
	uint64_t		 max_body;		/* 0 = no limit */
	/* path_parameters: ';' allowed in request paths (default false:
	   servers that drop ";params" route differently from us) */
	bool			 path_params;
	struct gb_http_limits	 limits;
	struct gw_timeouts	 timeouts;
	struct gw_listener	 listeners[GW_MAX_LISTENERS];
	size_t			 nlisteners;
	struct gw_upstream	*upstreams;
	size_t			 nupstreams;
	struct gw_route		*routes;
	size_t			 nroutes;
	/*
	 * The access policy (policy/), when the configuration names one: it
	 * then decides routing, identity and limits; routes: is not used.
	 */
	char			*policy_file;
	char			*geoip_file;
	/* consumer_header.hmac_key: X-Gerbang-Consumer is signed with it
	 * (core/gb_idhdr.h); NULL: the bare consumer id is sent. */
	struct gb_idhdr_key	*idkey;
	struct pol_set		*policy;
	size_t			*pol_slots;	/* stats slot per policy route */
	size_t			*pol_upstream;	/* upstream index per policy
						   route (resolved at load) */
};

/* gw_conf.c */
/*
 * Load and validate path. Every problem goes to d as file:line:col; returns
 * 0 with *out set (caller owns), or -1. Nothing is bound or loaded here:
 * certificates are read by gw_tls_load().
 */
int	gw_conf_load(const char *path, struct gw_conf **out, struct gb_diags *d);
/*
 * The one-route configuration of --from/--to/--cert/--key. Returns 0 or -1
 * with the problem in d.
 */
int	gw_conf_oneroute(const char *from, const char *to, const char *cert,
	    const char *key, struct gw_conf **out, struct gb_diags *d);
void	gw_conf_free(struct gw_conf *conf);
void	gw_timeouts_default(struct gw_timeouts *t);

/* gw_tls.c */
struct gw_tls;
/* Identity of a verified client certificate, handed to the decision. */
struct gw_peer_id {
	bool	present;		/* a verified certificate was given */
	char	subject[256];		/* RFC 2253 */
	char	san[256];		/* first DNS, e-mail or URI SAN */
	char	fingerprint[65];	/* SHA-256, lower-case hex */
	uint8_t	sha256[32];
};
/*
 * Build the SSL contexts of every listener and upstream of conf: read
 * certificates, keys, CA bundles and CRLs. Errors go to d with the
 * position of the setting. Returns 0 or -1; gw_tls_free_all() undoes.
 */
int	gw_tls_load(struct gw_conf *conf, struct gb_diags *d);
void	gw_tls_free_all(struct gw_conf *conf);
SSL_CTX	*gw_tls_ctx(const struct gw_tls *t);
/* The verified client certificate's identity (id->present false: none). */
void	gw_tls_peer_id(SSL *ssl, struct gw_peer_id *id);
/* The identity of certificate x, verified or not (for --explain). */
void	gw_tls_cert_id(X509 *x, struct gw_peer_id *id);
/* Drain the OpenSSL error queue into buf ("" when empty). */
const char *gw_tls_errstr(char *buf, size_t len);

/* gw_stats.c: counters shared by workers and read by the master. */
#define GW_STATUS_CLASSES	6	/* 1xx..5xx and "other" */
#define GW_LAT_BUCKETS		12
struct gw_stats_route {
	char		name[GW_NAME_MAX];
	uint64_t	requests[GW_STATUS_CLASSES];
};
struct gw_stats_server {
	char		upstream[GW_NAME_MAX];
	char		server[GW_NAME_MAX + 8];
	int		healthy;	/* active checks: 1 up, 0 down */
	uint64_t	fails;
};
struct gw_stats_worker {
	pid_t		pid;
	uint64_t	requests;
	uint64_t	active_conns;	/* gauge */
	uint64_t	warm_conns;	/* gauge: idle, buffers kept */
	uint64_t	conns_total;
	uint64_t	conns_refused;	/* over max_connections */
	uint64_t	handshakes;
	uint64_t	handshake_failures;
	uint64_t	resumed;
	uint64_t	bad_requests;	/* 4xx from the parser */
	uint64_t	timeouts;
	uint64_t	upstream_errors;
	uint64_t	retries;
	uint64_t	bytes_in;
	uint64_t	bytes_out;
	uint64_t	latency[GW_LAT_BUCKETS + 1];	/* cumulative in render */
	uint64_t	latency_sum_us;
	struct gw_stats_route routes[GW_MAX_ROUTES];
};
struct gw_stats {
	int			stopping;	/* master is stopping: not ready */
	unsigned		nroutes;
	unsigned		nservers;
	struct gw_stats_server	servers[GW_MAX_UPSTREAMS];
	struct gw_stats_worker	workers[GW_STATS_SLOTS];
	struct gw_stats_worker	retired;	/* sum of exited workers */
};
extern const uint64_t gw_lat_bounds_ms[GW_LAT_BUCKETS];
/* Map the shared counters (before fork). 0 or -1. */
int	gw_stats_open(struct gw_stats **out);
/* Give conf's routes and servers their slots (names persist). */
void	gw_stats_bind(struct gw_stats *st, struct gw_conf *conf);
/* A free worker slot for pid (retiring the previous owner's counts). */
struct gw_stats_worker *gw_stats_worker_slot(struct gw_stats *st, pid_t pid);
void	gw_stats_worker_exit(struct gw_stats *st, pid_t pid);
void	gw_stats_render(const struct gw_stats *st, struct gb_buf *out);
void	gw_stats_observe(struct gw_stats_worker *w, size_t route_slot,
	    int status, uint64_t us);

/*
 * Worker internals (gw_worker.c, gw_conn.c, gw_upstream.c, gw_log.c).
 */
struct gw_conn;
struct gw_upc;

/* A socket, plain or TLS, with readiness remembered between events. */
struct gw_io {
	int	 fd;
	SSL	*ssl;
	bool	 rd_ready;	/* no EAGAIN since the last READ event */
	bool	 wr_ready;
	bool	 rd_needs_wr;	/* SSL_read wants the socket writable */
	bool	 wr_needs_rd;	/* SSL_write wants the socket readable */
	bool	 hup;	/* the peer closed: a short read is not "drained" */
	bool	 eof;
	bool	 err;
	bool	 drained;	/* TLS: the last socket read came back short */
	bool	 more;		/* TLS: more records follow (MSG_MORE) */
};

struct gw_worker {
	struct gw_conf		*conf;
	struct gw_stats		*stats;
	struct gw_stats_worker	*st;
	struct gb_ev		*ev;
	int			 gen;
	bool			 draining;
	bool			 accepting;
	uint64_t		 drain_deadline;
	unsigned		 nconns;
	unsigned		 nwarm;		/* connections keeping their
						   buffers (gw_conn.c) */
	struct gw_conn		*conns;		/* all client connections */
	struct gw_conn		*reap;		/* closed, freed before sleep */
	struct gw_conn		*hs_head;	/* TLS handshakes waiting for */
	struct gw_conn		*hs_tail;	/* the end of the loop turn */
	struct gw_upc		*upreap;
	struct gw_upc		**idle;		/* per server: idle pool heads */
	size_t			*idle_count;
	size_t			 nservers;	/* total across upstreams */
	size_t			*server_base;	/* first index per upstream */
	int64_t			*cur_weight;	/* smooth WRR, per server */
	bool			 ignore_passive;	/* pick(): all down */
	int			 nodelay_inherited;	/* accepted sockets have
							   TCP_NODELAY: 1 yes,
							   -1 no, 0 unknown */
	char			*pathbuf;	/* normalised path scratch */
	struct gb_http_header	*hdrs;		/* parse scratch */
	struct gb_buf		 alog;		/* pending access-log lines */
	int			 alog_fd;
	uint64_t		 reqseq;
	char			 reqprefix[16];
	struct gb_ev_timer	 drain_timer;
	struct gw_health	*health;
	struct pol_state	*pstate;	/* rate-limit counters */
	struct gb_idhdr_mac	*idmac;		/* signs X-Gerbang-Consumer */
	struct gw_admin		*admin;
	int			 index;		/* worker number in its generation */
};

/* gw_io (gw_conn.c): >0 bytes, 0 would block, -1 EOF or error. */
ssize_t	gw_io_read(struct gw_io *io, void *p, size_t n);
ssize_t	gw_io_write(struct gw_io *io, const void *p, size_t n);
/*
 * Attach io->ssl to io->fd (after SSL_new) through gw_conn.c's socket BIO:
 * OpenSSL reads ahead (one read brings a whole record, or several), a
 * socket read that comes back short is noted, so that a TLS read that
 * drained the socket waits for the next edge instead of asking again only
 * to hear EAGAIN, and records are sent with MSG_MORE while io->more is
 * set. 0 or -1.
 */
int	gw_io_ssl_attach(struct gw_io *io);
/* Record readiness from an event mask. */
void	gw_io_event(struct gw_io *io, unsigned mask);
/* The event mask to watch, given what the owner wants to do. */
unsigned gw_io_interest(const struct gw_io *io, bool want_rd, bool want_wr);

/* gw_worker.c */
/*
 * Run one worker until it has drained. pstate: the master's rate-limit
 * table (shared memory), or NULL without a policy.
 */
int	gw_worker_run(struct gw_conf *conf, struct gw_stats *st,
	    struct pol_state *pstate, struct gw_stats_worker *slot, int gen,
	    int index);

/* gw_conn.c */
void	gw_conn_accept(struct gw_worker *w, struct gw_listener *l, int fd,
	    const struct sockaddr_storage *ss);
/* Close every idle connection and mark busy ones to close (drain). */
void	gw_conn_drain_all(struct gw_worker *w);
void	gw_conn_reap(struct gw_worker *w);
/*
 * Run the first steps of queued TLS handshakes (the ClientHello and the
 * server's flight, the costly part), at most GW_HS_PER_TURN, after the
 * loop turn served its established connections. Returns true when more
 * wait (the caller does not let the loop sleep).
 */
#define GW_HS_PER_TURN	4
bool	gw_conn_handshakes(struct gw_worker *w);
/* An upstream connection made progress or failed: run its client. */
void	gw_conn_upstream_event(struct gw_conn *c);

/*
 * gw_admin.c: the admin listener (/healthz, /readyz, /metrics), served by
 * the workers like any listener, so the privileged master never parses
 * network input. Returns 0 or -1.
 */
int	gw_admin_listen(struct gw_worker *w);
void	gw_admin_stop(struct gw_worker *w);

/*
 * gw_health.c: active health checks of the upstreams that configure
 * check:, run by the first worker of the current generation; results go to
 * the shared gw_stats so every worker sees them.
 */
void	gw_health_start(struct gw_worker *w);
void	gw_health_stop(struct gw_worker *w);

/* gw_upstream.c */
struct gw_upc {
	struct gw_io		 io;
	struct gw_worker	*w;
	struct gw_upstream	*up;
	struct gw_server	*srv;
	size_t			 srv_index;	/* worker-wide server index */
	struct gw_conn		*client;	/* NULL when idle in the pool */
	struct gw_upc		*next;		/* pool or reap list */
	struct gw_upc		*prev;
	struct gb_buf		 in;
	struct gb_buf		 out;
	struct gb_ev_timer	 timer;
	bool			 connecting;
	bool			 handshaking;
	bool			 reused;	/* came from the idle pool */
	bool			 closed;
	uint64_t		 idle_since;	/* ms, back in the pool */
	uint64_t		 sent;		/* bytes written this request */
	unsigned		 requests;
};
/*
 * Pick a server of upstream ui not in tried (bitmap) and give a connection
 * to it: an idle pooled one when there is one, else a new non-blocking
 * connect. Returns NULL when no server is usable (all down or tried).
 */
struct gw_upc *gw_upc_get(struct gw_worker *w, size_t ui, uint64_t tried,
	    size_t *srv_index);
/* Return a healthy connection to its server's idle pool (or close it). */
void	gw_upc_release(struct gw_upc *u, bool reusable);
/* Record the outcome of using a server (passive health). */
void	gw_upc_server_result(struct gw_worker *w, struct gw_upc *u, bool ok);
/* Close a connection now (not reusable); freed by gw_upc_reap(). */
void	gw_upc_close(struct gw_upc *u);
void	gw_upc_reap(struct gw_worker *w);
void	gw_upc_close_idle(struct gw_worker *w);
int	gw_upc_init(struct gw_worker *w);
void	gw_upc_fini(struct gw_worker *w);
bool	gw_server_usable(const struct gw_worker *w, size_t ui, size_t si);


#endif /* GW_H */
