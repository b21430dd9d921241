/*
 * gerbang-gateway: the TLS reverse proxy. This file is main() and the
 * master process: flags, the check mode (-t), binding, loading keys, the
 * workers, signals and reloads.
 *
 * The master binds every listener and loads every key, then forks the
 * workers, which drop to the configured user before serving. The master
 * never reads network input. SIGHUP: the new configuration is read and
 * fully validated (keys included) first; a bad one is refused with its
 * errors and the old workers keep serving. A good one gets new workers on
 * the same listening sockets, then the old workers drain: no connection is
 * dropped by a reload. SIGTERM or SIGINT: the workers drain, then exit.
 */
#include "gateway/gw.h"
#include "core/gb_cli.h"
#include "core/gb_log.h"
#include "core/gb_util.h"
#include "core/gb_version.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <openssl/pem.h>
#include <time.h>
#include <unistd.h>

static const char *prog = "gerbang-gateway";

struct worker_proc {
	pid_t	pid;
	int	gen;
	int	index;
	uint64_t started;
};

struct master {
	struct gw_conf		*conf;
	struct gw_stats		*stats;
	struct pol_state	*pstate;	/* rate limits, shared by all
						   workers of all generations */
	size_t			 pstate_buckets;
	struct gb_ev		*ev;
	struct worker_proc	 procs[GW_STATS_SLOTS];
	int			 gen;
	bool			 stopping;
	uint64_t		 stop_deadline;
	struct gb_ev_timer	 stop_timer;
	/* Command-line overrides of the configuration. */
	int			 workers;
	const char		*user;
	const char		*log_level;
	const char		*log_format;
	const char		*log_file;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: gerbang-gateway -c FILE [-t] [options]\n"
"       gerbang-gateway --from ADDR:PORT --to URL --cert PEM --key PEM\n"
"\n"
"TLS reverse proxy in front of agency APIs: terminates TLS, identifies the\n"
"consumer, enforces the access policy and forwards to the upstream.\n"
"\n"
"  -c, --config FILE       run from this YAML configuration\n"
"  -t, --test              check the configuration (and keys) and exit:\n"
"                          0 good, 1 bad, errors as file:line:col\n"
"      --from ADDR:PORT    one-route mode: listen here (TLS)\n"
"      --to URL            one-route mode: forward to http(s)://ADDR:PORT\n"
"      --cert PEM          one-route mode: certificate chain\n"
"      --key PEM           one-route mode: private key\n"
"      --admin ADDR:PORT   admin listener (/healthz, /readyz, /metrics)\n"
"      --explain           with -c: print the policy decision for the\n"
"                          request described by the flags below, with\n"
"                          each rule that led to it, and exit (0 allow,\n"
"                          1 deny)\n"
"        --ip ADDR --method M --path P [--host H] [--body-size N]\n"
"        and the consumer: --consumer ID, --api-key K or\n"
"        --cert PEM (the client certificate)\n"
"      --access-log FILE   access log (JSON lines; - stdout, off)\n"
"  -w, --workers N         worker processes (default: number of cores)\n"
"  -u, --user USER         drop to USER after binding and loading keys\n"
"                          (default: the configured user, else nobody)\n"
"      --log-level LEVEL   debug, info, notice, warn, error (default info)\n"
"      --log-format FMT    text or json (default text)\n"
"      --log-file FILE     log here instead of stderr\n"
"  -h, --help              this text\n"
"  -V, --version           version and library versions\n"
"\n"
"Signals: SIGHUP reloads (a bad configuration is refused and the old one\n"
"keeps serving), SIGTERM drains and stops, SIGUSR1 reopens log files.\n"
"\n"
"Examples:\n"
"  gerbang-gateway -t -c /etc/gerbang/gateway.yaml\n"
"  gerbang-gateway --explain -c gateway.yaml --ip 10.1.2.3 --method GET \\\n"
"      --path /api/penduduk/3171015708450001 --cert consumer.pem\n"
"  gerbang-gateway --from 127.0.0.1:8443 --to http://127.0.0.1:8080 \\\n"
"      --cert server.pem --key server.key\n");
}

static int
bind_addr(const struct sockaddr_storage *ss, socklen_t len, const char *what,
    int defer_secs)
{
	int fd, one = 1;
	char host[INET6_ADDRSTRLEN];

	if ((fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* Linux hands it to accepted sockets (gw_conn_accept() checks). */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* The ClientHello is there at accept: one wake-up less per client. */
	if (defer_secs > 0)
		setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_secs,
		    sizeof(defer_secs));
	if (bind(fd, (const struct sockaddr *)ss, len) == -1 ||
	    listen(fd, 4096) == -1)
		goto fail;
	return fd;
fail:
	if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->
		    sin6_addr, host, sizeof(host));
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
		    host, sizeof(host));
	gb_error("%s: cannot listen on %s: %s", what, host, strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

static bool
same_addr(const struct sockaddr_storage *a, socklen_t al,
    const struct sockaddr_storage *b, socklen_t bl)
{
	return al == bl && memcmp(a, b, al) == 0;
}

/*
 * Give every listener of nc a socket: the one old already has for the same
 * address, else a new one. Returns 0, or -1 (nothing of old is changed).
 */
static int
bind_all(struct gw_conf *nc, struct gw_conf *old)
{
	size_t i, j;

	for (i = 0; i < nc->nlisteners; i++) {
		struct gw_listener *l = &nc->listeners[i];

		l->fd = -1;
		for (j = 0; old != NULL && j < old->nlisteners; j++)
			if (old->listeners[j].fd != -1 &&
			    same_addr(&l->addr, l->addrlen,
			    &old->listeners[j].addr,
			    old->listeners[j].addrlen))
				l->fd = dup(old->listeners[j].fd);
		if (l->fd == -1 && (l->fd = bind_addr(&l->addr, l->addrlen,
		    l->name, (int)((nc->timeouts.handshake + 999) / 1000))) ==
		    -1)
			goto fail;
	}
	nc->admin_fd = -1;
	if (nc->admin_addr_str != NULL) {
		if (old != NULL && old->admin_fd != -1 &&
		    same_addr(&nc->admin_addr, nc->admin_addrlen,
		    &old->admin_addr, old->admin_addrlen))
			nc->admin_fd = dup(old->admin_fd);
		else
			nc->admin_fd = bind_addr(&nc->admin_addr,
			    nc->admin_addrlen, "admin", 0);
		if (nc->admin_fd == -1)
			goto fail;
	}
	return 0;
fail:
	for (j = 0; j < nc->nlisteners; j++)
		if (nc->listeners[j].fd != -1) {
			close(nc->listeners[j].fd);
			nc->listeners[j].fd = -1;
		}
	return -1;
}

static void
close_all(struct gw_conf *c)
{
	size_t i;

	for (i = 0; i < c->nlisteners; i++)
		if (c->listeners[i].fd != -1) {
			close(c->listeners[i].fd);
			c->listeners[i].fd = -1;
		}
	if (c->admin_fd != -1) {
		close(c->admin_fd);
		c->admin_fd = -1;
	}
}

static int
spawn(struct master *m, int index)
{
	struct gw_stats_worker *slot;
	struct worker_proc *p = NULL;
	sigset_t set;
	size_t i;
	pid_t pid;

	for (i = 0; i < GW_STATS_SLOTS; i++)
		if (m->procs[i].pid == 0) {
			p = &m->procs[i];
			break;
		}
	if (p == NULL) {
		gb_error("too many worker processes");
		return -1;
	}
	/* Created once, before the first worker that enforces a policy. */
	if (m->conf->policy != NULL && m->pstate == NULL) {
		if (pol_state_new(m->conf->rate_limit_buckets,
		    &m->pstate) == -1) {
			gb_error("rate-limit table: out of memory");
			return -1;
		}
		m->pstate_buckets = m->conf->rate_limit_buckets;
	} else if (m->pstate != NULL && index == 0 &&
	    m->conf->rate_limit_buckets != m->pstate_buckets)
		gb_warn("limits.rate_limit_buckets: the table keeps %zu "
		    "buckets until a restart", m->pstate_buckets);
	/* Taken here, not in the child: children forked together race. */
	if ((slot = gw_stats_worker_slot(m->stats, -1)) == NULL) {
		gb_error("too many worker processes");
		return -1;
	}
	if ((pid = fork()) == -1) {
		slot->pid = 0;
		gb_error("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int rc;

		/* The master's loop and signal fd stay the master's. */
		sigemptyset(&set);
		sigprocmask(SIG_SETMASK, &set, NULL);
		rc = gw_worker_run(m->conf, m->stats, m->pstate, slot,
		    m->gen, index);
		_exit(rc == 0 ? 0 : 1);
	}
	slot->pid = pid;
	p->pid = pid;
	p->gen = m->gen;
	p->index = index;
	p->started = gb_now_ms();
	return 0;
}

static void
signal_workers(struct master *m, int gen_below, int sig)
{
	size_t i;

	for (i = 0; i < GW_STATS_SLOTS; i++)
		if (m->procs[i].pid != 0 && m->procs[i].gen < gen_below)
			kill(m->procs[i].pid, sig);
}

static size_t
live_workers(const struct master *m)
{
	size_t i, n = 0;

	for (i = 0; i < GW_STATS_SLOTS; i++)
		n += m->procs[i].pid != 0;
	return n;
}

static void
apply_logging(struct master *m, const struct gw_conf *c)
{
	enum gb_log_level lvl = (enum gb_log_level)c->log_level;
	enum gb_log_format fmt = (enum gb_log_format)c->log_format;
	const char *file = m->log_file ? m->log_file : c->log_file;

	if (m->log_level != NULL)
		gb_log_level_parse(m->log_level, &lvl);
	if (m->log_format != NULL)
		gb_log_format_parse(m->log_format, &fmt);
	if (gb_log_open(prog, file, fmt, lvl) == -1) {
		gb_log_open(prog, NULL, fmt, lvl);
		gb_error("log file %s: %s", file, strerror(errno));
	}
}

static void
apply_overrides(struct master *m, struct gw_conf *c)
{
	if (m->workers > 0)
		c->workers = (unsigned)m->workers;
	if (m->user != NULL) {
		free(c->user);
		c->user = strdup(m->user);
	}
}

static void
reload(struct master *m)
{
	struct gw_conf *nc;
	struct gb_diags d;
	unsigned i;
	int oldgen = m->gen;

	if (m->conf->file == NULL || strcmp(m->conf->file,
	    "(command line)") == 0) {
		gb_notice("SIGHUP: one-route mode has no file to reload");
		return;
	}
	gb_diags_init(&d, 0);
	gb_notice("SIGHUP: reloading %s", m->conf->file);
	if (gw_conf_load(m->conf->file, &nc, &d) == -1) {
		gb_diags_log(&d);
		gb_error("reload refused: the configuration has errors; the "
		    "old configuration keeps serving");
		gb_diags_free(&d);
		return;
	}
	apply_overrides(m, nc);
	if (gw_tls_load(nc, &d) == -1 || bind_all(nc, m->conf) == -1) {
		gb_diags_log(&d);
		gb_error("reload refused: the old configuration keeps serving");
		gw_tls_free_all(nc);
		gw_conf_free(nc);
		gb_diags_free(&d);
		return;
	}
	gb_diags_log(&d);
	gb_diags_free(&d);
	gw_stats_bind(m->stats, nc);
	/* New workers first, on the same sockets; then the old drain. */
	close_all(m->conf);
	gw_tls_free_all(m->conf);
	gw_conf_free(m->conf);
	m->conf = nc;
	apply_logging(m, nc);
	m->gen++;
	for (i = 0; i < nc->workers; i++)
		spawn(m, (int)i);
	signal_workers(m, m->gen, SIGTERM);
	gb_notice("reloaded: generation %d with %u workers, generation %d "
	    "draining", m->gen, nc->workers, oldgen);
}

static void
stop_timeout(struct gb_ev *ev, void *arg)
{
	struct master *m = arg;

	(void)ev;
	gb_warn("workers still running after the drain timeout: killing");
	signal_workers(m, m->gen + 1, SIGKILL);
}

static void
reap_children(struct master *m)
{
	struct worker_proc *p;
	size_t i;
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (i = 0, p = NULL; i < GW_STATS_SLOTS; i++)
			if (m->procs[i].pid == pid)
				p = &m->procs[i];
		gw_stats_worker_exit(m->stats, pid);
		if (p == NULL)
			continue;
		if (WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) != 0 &&
		    p->gen == m->gen))
			gb_error("worker %d exited %s %d", (int)pid,
			    WIFSIGNALED(st) ? "on signal" : "with status",
			    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		p->pid = 0;
		/* A worker of the serving generation died: replace it. */
		if (!m->stopping && p->gen == m->gen) {
			if (gb_now_ms() - p->started < 1000) {
				gb_crit("worker %d died right after start; not "
				    "restarting it", (int)pid);
				continue;
			}
			spawn(m, p->index);
		}
	}
	if (m->stopping && live_workers(m) == 0)
		gb_ev_stop(m->ev);
}

static void
master_signal(struct gb_ev *ev, int fd, void *arg, unsigned mask)
{
	struct master *m = arg;
	struct signalfd_siginfo si;

	(void)mask;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			if (!m->stopping)
				reload(m);
			break;
		case SIGTERM:
		case SIGINT:
		case SIGQUIT:
			if (m->stopping)
				break;
			gb_notice("stopping: draining %zu workers",
			    live_workers(m));
			m->stopping = true;
			__atomic_store_n(&m->stats->stopping, 1,
			    __ATOMIC_RELAXED);
			signal_workers(m, m->gen + 1, SIGTERM);
			gb_ev_timer_init(&m->stop_timer, stop_timeout, m);
			gb_ev_timer_set(ev, &m->stop_timer,
			    m->conf->timeouts.drain + 2000);
			if (live_workers(m) == 0)
				gb_ev_stop(ev);
			break;
		case SIGUSR1:
			gb_log_reopen();
			signal_workers(m, m->gen + 1, SIGUSR1);
			break;
		case SIGCHLD:
			reap_children(m);
			break;
		default:
			break;
		}
	}
}

/* What --explain describes: one request. */
struct explain_args {
	const char	*ip;
	const char	*method;
	const char	*path;
	const char	*host;
	const char	*api_key;
	const char	*cert;		/* PEM of the client certificate */
	const char	*body;
	const char	*consumer;	/* consumer id, taken as identified */
};

/*
 * --explain: the policy's decision for one described request, with every
 * rule consulted (pol_explain()). Exit 0 allow, 1 deny, 2 bad arguments.
 */
static int
run_explain(struct gw_conf *conf, const struct explain_args *ex)
{
	struct sockaddr_storage ss;
	struct pol_request pr;
	struct gw_peer_id id;
	struct gb_buf out;
	char norm[4096], hostbuf[256];
	const char *q, *err;
	size_t ql, nl;
	uint64_t body = 0;
	int rc;

	if (conf->policy == NULL) {
		fprintf(stderr, "%s: --explain needs a configuration with "
		    "policy:\n", prog);
		return GB_EXIT_USAGE;
	}
	if (ex->ip == NULL || ex->method == NULL || ex->path == NULL) {
		fprintf(stderr, "%s: --explain needs --ip, --method and "
		    "--path\n", prog);
		return GB_EXIT_USAGE;
	}
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ex->ip, &((struct sockaddr_in *)&ss)->
	    sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, ex->ip, &((struct sockaddr_in6 *)&ss)->
	    sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	else {
		fprintf(stderr, "%s: --ip: not an IP address: '%s'\n", prog,
		    ex->ip);
		return GB_EXIT_USAGE;
	}
	/* The same normalisation as a real request gets. */
	if (strlen(ex->path) >= sizeof(norm) ||
	    gb_http_path_normalize(ex->path, strlen(ex->path), norm,
	    sizeof(norm), &nl, &q, &ql, &err) == -1 ||
	    (!conf->path_params && memchr(norm, ';', nl) != NULL)) {
		fprintf(stderr, "%s: --path: refused as a request would be "
		    "(400)\n", prog);
		return GB_EXIT_FAIL;
	}
	if (ex->body != NULL && gb_parse_size(ex->body, &body) == -1) {
		fprintf(stderr, "%s: --body-size: expected a size, got '%s'\n",
		    prog, ex->body);
		return GB_EXIT_USAGE;
	}
	memset(&pr, 0, sizeof(pr));
	pr.addr = (const struct sockaddr *)&ss;
	snprintf(hostbuf, sizeof(hostbuf), "%s", ex->host ? ex->host : "");
	pr.host = hostbuf;
	pr.host_len = strlen(hostbuf);
	pr.path = norm;
	pr.path_len = nl;
	pr.method = ex->method;
	pr.method_len = strlen(ex->method);
	pr.body_len = body;
	pr.consumer_id = ex->consumer;
	if (ex->api_key != NULL) {
		pr.api_key = ex->api_key;
		pr.api_key_len = strlen(ex->api_key);
	}
	if (ex->cert != NULL) {
		BIO *bio = BIO_new_file(ex->cert, "r");
		X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) :
		    NULL;

		BIO_free(bio);
		if (x == NULL) {
			fprintf(stderr, "%s: --cert-file: cannot read a "
			    "certificate from '%s'\n", prog, ex->cert);
			return GB_EXIT_USAGE;
		}
		gw_tls_cert_id(x, &id);
		X509_free(x);
		pr.cert_subject = id.subject;
		pr.cert_san = id.san[0] ? id.san : NULL;
		pr.cert_sha256 = id.sha256;
	}
	pr.now = time(NULL);
	pr.now_ms = gb_now_ms();
	gb_buf_init(&out, 1 << 20);
	rc = pol_explain(conf->policy, NULL, &pr, &out);
	fwrite(gb_buf_head(&out), 1, gb_buf_used(&out), stdout);
	gb_buf_free(&out);
	if (rc == -1)
		return GB_EXIT_FAIL;
	{
		struct pol_decision dec;

		pol_decide(conf->policy, NULL, &pr, &dec);
		return dec.allow && !dec.would_deny ? GB_EXIT_OK :
		    GB_EXIT_FAIL;
	}
}

static int
run_master(struct master *m)
{
	sigset_t set;
	unsigned i;
	int sfd;

	if (bind_all(m->conf, NULL) == -1)
		return GB_EXIT_FAIL;
	if (gw_stats_open(&m->stats) == -1) {
		gb_error("shared counters: %s", strerror(errno));
		return GB_EXIT_FAIL;
	}
	gw_stats_bind(m->stats, m->conf);
	if (gb_ev_new(&m->ev) == -1)
		return GB_EXIT_FAIL;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1 ||
	    gb_ev_add(m->ev, sfd, GB_EV_READ, master_signal, m) == -1) {
		gb_error("signalfd: %s", strerror(errno));
		return GB_EXIT_FAIL;
	}
	for (i = 0; i < m->conf->nlisteners; i++)
		gb_notice("listening on %s (%s)", m->conf->listeners[i].addr_str,
		    m->conf->listeners[i].name);
	if (m->conf->admin_addr_str != NULL)
		gb_notice("admin on %s", m->conf->admin_addr_str);
	for (i = 0; i < m->conf->workers; i++)
		if (spawn(m, (int)i) == -1)
			return GB_EXIT_FAIL;
	gb_ev_run(m->ev);
	gb_notice("stopped");
	close_all(m->conf);
	gw_tls_free_all(m->conf);
	gw_conf_free(m->conf);
	pol_state_free(m->pstate);
	gb_ev_free(m->ev);
	return GB_EXIT_OK;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "from", required_argument, NULL, 1 },
		{ "to", required_argument, NULL, 2 },
		{ "cert", required_argument, NULL, 3 },
		{ "key", required_argument, NULL, 4 },
		{ "workers", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "log-level", required_argument, NULL, 5 },
		{ "log-format", required_argument, NULL, 6 },
		{ "log-file", required_argument, NULL, 7 },
		{ "admin", required_argument, NULL, 8 },
		{ "access-log", required_argument, NULL, 9 },
		{ "explain", no_argument, NULL, 10 },
		{ "ip", required_argument, NULL, 11 },
		{ "method", required_argument, NULL, 12 },
		{ "path", required_argument, NULL, 13 },
		{ "host", required_argument, NULL, 14 },
		{ "api-key", required_argument, NULL, 15 },
		{ "body-size", required_argument, NULL, 17 },
		{ "consumer", required_argument, NULL, 18 },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char optstring[] = ":c:tw:u:hV";
	const char *config = NULL, *from = NULL, *to = NULL, *cert = NULL;
	const char *key = NULL, *admin = NULL, *alog = NULL;
	enum gb_log_level lvl;
	enum gb_log_format fmt;
	struct master m;
	struct gb_diags d;
	struct explain_args ex;
	bool test = false, explain = false;
	long long n;
	char *end;
	int ch, rc;

	memset(&m, 0, sizeof(m));
	memset(&ex, 0, sizeof(ex));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 't':
			test = true;
			break;
		case 1:
			from = optarg;
			break;
		case 2:
			to = optarg;
			break;
		case 3:
			cert = optarg;
			break;
		case 4:
			key = optarg;
			break;
		case 'w':
			n = strtoll(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 1 ||
			    n > GW_MAX_WORKERS) {
				fprintf(stderr, "%s: --workers: expected 1 to "
				    "%d, got '%s'\n", prog, GW_MAX_WORKERS,
				    optarg);
				return GB_EXIT_USAGE;
			}
			m.workers = (int)n;
			break;
		case 'u':
			m.user = optarg;
			break;
		case 5:
			if (gb_log_level_parse(optarg, &lvl) == -1) {
				fprintf(stderr, "%s: --log-level: unknown "
				    "level '%s'\n", prog, optarg);
				return GB_EXIT_USAGE;
			}
			m.log_level = optarg;
			break;
		case 6:
			if (gb_log_format_parse(optarg, &fmt) == -1) {
				fprintf(stderr, "%s: --log-format: expected "
				    "text or json, got '%s'\n", prog, optarg);
				return GB_EXIT_USAGE;
			}
			m.log_format = optarg;
			break;
		case 7:
			m.log_file = optarg;
			break;
		case 8:
			admin = optarg;
			break;
		case 9:
			alog = optarg;
			break;
		case 10:
			explain = true;
			break;
		case 11:
			ex.ip = optarg;
			break;
		case 12:
			ex.method = optarg;
			break;
		case 13:
			ex.path = optarg;
			break;
		case 14:
			ex.host = optarg;
			break;
		case 15:
			ex.api_key = optarg;
			break;
		case 17:
			ex.body = optarg;
			break;
		case 18:
			ex.consumer = optarg;
			break;
		case 'h':
			usage(stdout);
			return GB_EXIT_OK;
		case 'V':
			gb_version_print(stdout, prog);
			return GB_EXIT_OK;
		case '?':
		case ':':
			return gb_cli_bad_option(prog, argv, optstring);
		default:
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog,
		    argv[optind]);
		return GB_EXIT_USAGE;
	}
	if ((config != NULL) == (from != NULL || to != NULL)) {
		fprintf(stderr, "%s: give -c FILE, or --from, --to, --cert "
		    "and --key\nTry '%s --help' for the list of options.\n",
		    prog, prog);
		return GB_EXIT_USAGE;
	}
	if (config == NULL && (from == NULL || to == NULL || cert == NULL ||
	    key == NULL)) {
		fprintf(stderr, "%s: one-route mode needs --from, --to, --cert "
		    "and --key\n", prog);
		return GB_EXIT_USAGE;
	}
	gb_log_open(prog, NULL, GB_LOG_TEXT, GB_LOG_INFO);
	gb_diags_init(&d, 0);
	if (config != NULL)
		rc = gw_conf_load(config, &m.conf, &d);
	else
		rc = gw_conf_oneroute(from, to, cert, key, &m.conf, &d);
	if (rc == 0) {
		apply_overrides(&m, m.conf);
		if (admin != NULL) {
			char host[256];
			int port;

			free(m.conf->admin_addr_str);
			m.conf->admin_addr_str = strdup(admin);
			if (gb_parse_hostport(admin, host, sizeof(host), &port,
			    -1, 0) == -1 || inet_pton(AF_INET, host,
			    &((struct sockaddr_in *)&m.conf->admin_addr)->
			    sin_addr) != 1) {
				gb_diag_add(&d, GB_DIAG_ERROR, "--admin", 0, 0,
				    "expected IPv4:PORT, got \"%s\"", admin);
				rc = -1;
			} else {
				struct sockaddr_in *sin =
				    (struct sockaddr_in *)&m.conf->admin_addr;

				sin->sin_family = AF_INET;
				sin->sin_port = htons((uint16_t)port);
				m.conf->admin_addrlen = sizeof(*sin);
			}
		}
		if (alog != NULL) {
			free(m.conf->access_log);
			m.conf->access_log = strcmp(alog, "off") == 0 ? NULL :
			    strdup(alog);
		}
	}
	if (rc == 0)
		rc = gw_tls_load(m.conf, &d);
	gb_diags_print(&d, stderr);
	if (rc != 0) {
		fprintf(stderr, "%s: configuration %s has errors\n", prog,
		    config ? config : "(command line)");
		gb_diags_free(&d);
		gw_conf_free(m.conf);
		return GB_EXIT_FAIL;
	}
	gb_diags_free(&d);
	if (explain) {
		if (ex.cert == NULL)
			ex.cert = cert;	/* --cert names the client's here */
		rc = run_explain(m.conf, &ex);
		gw_tls_free_all(m.conf);
		gw_conf_free(m.conf);
		return rc;
	}
	if (test) {
		printf("%s: configuration %s is valid\n", prog,
		    config ? config : "(command line)");
		gw_tls_free_all(m.conf);
		gw_conf_free(m.conf);
		return GB_EXIT_OK;
	}
	apply_logging(&m, m.conf);
	return run_master(&m);
}
