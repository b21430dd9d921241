/*
 * gw_stats: counters in one shared anonymous mapping, made by the master
 * before it forks. Each worker writes only its own slot (relaxed atomics,
 * no locks); the master sums the slots for /metrics. A slot freed by an
 * exited worker is folded into "retired" before reuse, so counters never
 * go backwards across reloads. Route and server names are kept by name, so
 * a route keeps its series across reloads.
 */
#include "gateway/gw.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

const uint64_t gw_lat_bounds_ms[GW_LAT_BUCKETS] = {
	1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000,
};

int
gw_stats_open(struct gw_stats **out)
{
	void *p;

	p = mmap(NULL, sizeof(struct gw_stats), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	/* Anonymous memory is zero: pages are touched only when used. */
	*out = p;
	return 0;
}

/* The slot of route name, made when new; SIZE_MAX when all are taken. */
static size_t
route_slot(struct gw_stats *st, const char *name)
{
	size_t k;

	for (k = 0; k < st->nroutes; k++)
		if (strncmp(st->workers[0].routes[k].name, name,
		    GW_NAME_MAX - 1) == 0)
			return k;
	if (st->nroutes == GW_MAX_ROUTES)
		return SIZE_MAX;
	/* Names live in slot 0, which no worker uses. */
	snprintf(st->workers[0].routes[k].name, GW_NAME_MAX, "%s", name);
	st->nroutes++;
	return k;
}

void
gw_stats_bind(struct gw_stats *st, struct gw_conf *conf)
{
	size_t i, j, k, n;

	for (i = 0; i < conf->nroutes; i++)
		conf->routes[i].stats_slot = route_slot(st,
		    conf->routes[i].name);
	if (conf->policy != NULL) {
		n = pol_set_nroutes(conf->policy);
		free(conf->pol_slots);
		if ((conf->pol_slots = calloc(n ? n : 1,
		    sizeof(*conf->pol_slots))) != NULL)
			for (i = 0; i < n; i++)
				conf->pol_slots[i] = route_slot(st,
				    pol_set_route_id(conf->policy, i));
	}
	for (i = 0; i < conf->nupstreams; i++) {
		struct gw_upstream *u = &conf->upstreams[i];

		for (j = 0; j < u->nservers; j++) {
			struct gw_server *s = &u->servers[j];

			for (k = 0; k < st->nservers; k++)
				if (strcmp(st->servers[k].upstream,
				    u->name) == 0 && strcmp(
				    st->servers[k].server, s->name) == 0)
					break;
			if (k == st->nservers) {
				if (st->nservers == GW_MAX_UPSTREAMS) {
					s->stats_slot = 0;
					continue;
				}
				snprintf(st->servers[k].upstream, GW_NAME_MAX,
				    "%s", u->name);
				snprintf(st->servers[k].server,
				    sizeof(st->servers[k].server), "%s",
				    s->name);
				/* Healthy until an active check says no. */
				st->servers[k].healthy = 1;
				st->nservers++;
			}
			s->stats_slot = k;
		}
	}
}

static void
add_worker(struct gw_stats_worker *dst, const struct gw_stats_worker *src,
    unsigned nroutes)
{
	unsigned i, k;

	dst->requests += src->requests;
	dst->conns_total += src->conns_total;
	dst->conns_refused += src->conns_refused;
	dst->handshakes += src->handshakes;
	dst->handshake_failures += src->handshake_failures;
	dst->resumed += src->resumed;
	dst->bad_requests += src->bad_requests;
	dst->timeouts += src->timeouts;
	dst->upstream_errors += src->upstream_errors;
	dst->retries += src->retries;
	dst->bytes_in += src->bytes_in;
	dst->bytes_out += src->bytes_out;
	dst->latency_sum_us += src->latency_sum_us;
	for (i = 0; i <= GW_LAT_BUCKETS; i++)
		dst->latency[i] += src->latency[i];
	for (i = 0; i < nroutes; i++)
		for (k = 0; k < GW_STATUS_CLASSES; k++)
			dst->routes[i].requests[k] +=
			    src->routes[i].requests[k];
}

struct gw_stats_worker *
gw_stats_worker_slot(struct gw_stats *st, pid_t pid)
{
	size_t i;

	for (i = 1; i < GW_STATS_SLOTS; i++) {
		struct gw_stats_worker *w = &st->workers[i];

		if (w->pid != 0)
			continue;
		add_worker(&st->retired, w, st->nroutes);
		memset((char *)w + sizeof(w->pid), 0,
		    sizeof(*w) - sizeof(w->pid));
		w->pid = pid;
		return w;
	}
	return NULL;
}

void
gw_stats_worker_exit(struct gw_stats *st, pid_t pid)
{
	size_t i;

	for (i = 1; i < GW_STATS_SLOTS; i++)
		if (st->workers[i].pid == pid) {
			struct gw_stats_worker *w = &st->workers[i];

			/* Fold now: render() skips free slots. */
			add_worker(&st->retired, w, st->nroutes);
			memset((char *)w + sizeof(w->pid), 0,
			    sizeof(*w) - sizeof(w->pid));
			w->pid = 0;
		}
}

void
gw_stats_observe(struct gw_stats_worker *w, size_t route_slot, int status,
    uint64_t us)
{
	size_t b, cls = status >= 100 && status < 600 ?
	    (size_t)(status / 100) - 1 : GW_STATUS_CLASSES - 1;

	for (b = 0; b < GW_LAT_BUCKETS; b++)
		if (us <= gw_lat_bounds_ms[b] * 1000)
			break;
	w->latency[b]++;
	w->latency_sum_us += us;
	if (route_slot < GW_MAX_ROUTES)
		w->routes[route_slot].requests[cls]++;
}

void
gw_stats_render(const struct gw_stats *st, struct gb_buf *out)
{
	static const char *const cls[GW_STATUS_CLASSES] = {
		"1xx", "2xx", "3xx", "4xx", "5xx", "other",
	};
	struct gw_stats_worker sum;
	uint64_t active = 0, warm = 0, cum = 0;
	unsigned i, k, nworkers = 0;

	memset(&sum, 0, sizeof(sum));
	add_worker(&sum, &st->retired, st->nroutes);
	for (i = 1; i < GW_STATS_SLOTS; i++) {
		if (st->workers[i].pid == 0)
			continue;
		nworkers++;
		add_worker(&sum, &st->workers[i], st->nroutes);
		active += st->workers[i].active_conns;
		warm += st->workers[i].warm_conns;
	}
#define COUNTER(name, help, v) gb_buf_printf(out, \
	"# HELP gerbang_" name " " help "\n# TYPE gerbang_" name \
	" counter\ngerbang_" name " %" PRIu64 "\n", (uint64_t)(v))
	COUNTER("requests_total", "Requests answered.", sum.requests);
	COUNTER("connections_total", "Client connections accepted.",
	    sum.conns_total);
	COUNTER("connections_refused_total",
	    "Connections refused over max_connections.", sum.conns_refused);
	COUNTER("tls_handshakes_total", "Completed TLS handshakes.",
	    sum.handshakes);
	COUNTER("tls_handshake_failures_total", "Failed TLS handshakes.",
	    sum.handshake_failures);
	COUNTER("tls_resumed_total", "Handshakes that resumed a session.",
	    sum.resumed);
	COUNTER("bad_requests_total", "Requests refused by the parser.",
	    sum.bad_requests);
	COUNTER("timeouts_total", "Client and upstream timeouts.",
	    sum.timeouts);
	COUNTER("upstream_errors_total",
	    "Requests answered 502/504 after upstream failures.",
	    sum.upstream_errors);
	COUNTER("upstream_retries_total", "Requests retried on another "
	    "server.", sum.retries);
	COUNTER("received_bytes_total", "Bytes read from clients.",
	    sum.bytes_in);
	COUNTER("sent_bytes_total", "Bytes written to clients.",
	    sum.bytes_out);
#undef COUNTER
	gb_buf_printf(out, "# HELP gerbang_active_connections Open client "
	    "connections.\n# TYPE gerbang_active_connections gauge\n"
	    "gerbang_active_connections %" PRIu64 "\n", active);
	gb_buf_printf(out, "# HELP gerbang_warm_connections Client "
	    "connections keeping their buffers for the next request.\n"
	    "# TYPE gerbang_warm_connections gauge\n"
	    "gerbang_warm_connections %" PRIu64 "\n", warm);
	gb_buf_printf(out, "# HELP gerbang_workers Running worker "
	    "processes.\n# TYPE gerbang_workers gauge\ngerbang_workers %u\n",
	    nworkers);
	gb_buf_puts(out, "# HELP gerbang_route_requests_total Requests by "
	    "route and status class.\n# TYPE gerbang_route_requests_total "
	    "counter\n");
	for (i = 0; i < st->nroutes; i++)
		for (k = 0; k < GW_STATUS_CLASSES; k++)
			if (sum.routes[i].requests[k] > 0)
				gb_buf_printf(out, "gerbang_route_requests_"
				    "total{route=\"%s\",status=\"%s\"} %"
				    PRIu64 "\n", st->workers[0].routes[i].name,
				    cls[k], sum.routes[i].requests[k]);
	gb_buf_puts(out, "# HELP gerbang_request_duration_seconds Time from "
	    "request head to response end.\n# TYPE "
	    "gerbang_request_duration_seconds histogram\n");
	for (i = 0; i < GW_LAT_BUCKETS; i++) {
		cum += sum.latency[i];
		gb_buf_printf(out, "gerbang_request_duration_seconds_bucket"
		    "{le=\"%g\"} %" PRIu64 "\n",
		    (double)gw_lat_bounds_ms[i] / 1000.0, cum);
	}
	cum += sum.latency[GW_LAT_BUCKETS];
	gb_buf_printf(out, "gerbang_request_duration_seconds_bucket"
	    "{le=\"+Inf\"} %" PRIu64 "\ngerbang_request_duration_seconds_sum "
	    "%.6f\ngerbang_request_duration_seconds_count %" PRIu64 "\n", cum,
	    (double)sum.latency_sum_us / 1e6, cum);
	gb_buf_puts(out, "# HELP gerbang_upstream_server_up Active health "
	    "check state (1 up).\n# TYPE gerbang_upstream_server_up gauge\n");
	for (i = 0; i < st->nservers; i++)
		gb_buf_printf(out, "gerbang_upstream_server_up{upstream=\"%s\","
		    "server=\"%s\"} %d\n", st->servers[i].upstream,
		    st->servers[i].server, st->servers[i].healthy);
	gb_buf_puts(out, "# HELP gerbang_upstream_server_failures_total "
	    "Failed attempts per server.\n# TYPE "
	    "gerbang_upstream_server_failures_total counter\n");
	for (i = 0; i < st->nservers; i++)
		gb_buf_printf(out, "gerbang_upstream_server_failures_total"
		    "{upstream=\"%s\",server=\"%s\"} %" PRIu64 "\n",
		    st->servers[i].upstream, st->servers[i].server,
		    st->servers[i].fails);
}
