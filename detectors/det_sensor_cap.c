/*
 * det_sensor_cap.c: libpcap capture (live or offline), the capture loop,
 * periodic health logs, and dropping privileges. See det_sensor.h.
 *
 * A capture file in the classic pcap format, in this host's byte order,
 * is read in place from a read-only mapping once libpcap has opened it
 * and read its header: each frame goes to the pipeline without the two
 * copies of the stdio path (the kernel's into the stdio buffer, then
 * libpcap's into its own). A record the mapping path is not sure of
 * (cut short, longer than the snapshot length or 256 KiB, a timestamp
 * past 2038) hands the rest of the file to libpcap from that record, so
 * what is read, and any error, is libpcap's.
 */
#include "detectors/det_sensor.h"

#include "core/gb_log.h"
#include "core/gb_util.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct det_sensor_cap {
	pcap_t			*p;
	bool			 live;
	int			 dlt;
	volatile sig_atomic_t	 stop;
	det_sensor_tick_cb	*tick;
	void			*tick_arg;
	char			*fbuf;		/* the capture file's buffer */
	/* An offline capture read in place (map == NULL: by libpcap). */
	const uint8_t		*map;
	size_t			 map_len;
	size_t			 map_off;	/* the next record */
	size_t			 map_dropped;	/* pages released below */
	bool			 map_ns;	/* nanosecond timestamps */
	uint32_t		 map_snap;
	struct bpf_program	 prog;		/* the filter, for map */
	bool			 have_prog;
};

/* Frames handed to the sensor per pcap_dispatch() call. */
#define DISPATCH_BATCH	256
#define CAP_FILE_BUF	(1u << 20)	/* stdio buffer of a capture file */
#define MAP_REC_MAX	262144		/* libpcap's MAXIMUM_SNAPLEN */
#define MAP_DROP	(1u << 20)	/* mapped bytes released at a time */

/*
 * Map the capture file behind fp when libpcap read it as a classic pcap
 * file in this host's byte order and stopped right after its header; else
 * leave it to libpcap (c->map stays NULL).
 */
static void
map_open(struct det_sensor_cap *c, FILE *fp)
{
	struct stat st;
	uint32_t magic;
	void *m;
	int fd;

	if (fp == stdin || pcap_is_swapped(c->p) != 0 ||
	    pcap_major_version(c->p) != 2 || pcap_snapshot(c->p) <= 0 ||
	    det_pkt_dlt_str(pcap_datalink(c->p)) == NULL ||
	    (fd = fileno(fp)) == -1 || fstat(fd, &st) == -1 ||
	    !S_ISREG(st.st_mode) || st.st_size < 24 || ftell(fp) != 24 ||
	    (uintmax_t)st.st_size > SIZE_MAX)
		return;
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return;
	memcpy(&magic, m, sizeof(magic));
	if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) {
		munmap(m, (size_t)st.st_size);
		return;
	}
	(void)madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
	c->map = m;
	c->map_len = (size_t)st.st_size;
	c->map_off = 24;
	c->map_dropped = 0;
	c->map_ns = magic == 0xa1b23c4d;
	c->map_snap = (uint32_t)pcap_snapshot(c->p);
}

static void
map_close(struct det_sensor_cap *c)
{
	if (c->map == NULL)
		return;
	munmap((void *)(uintptr_t)c->map, c->map_len);
	c->map = NULL;
}

/*
 * The next record of the mapped file into *h and *data (valid until the
 * next call): 1, 0 at the end of the file, -1 for a record to leave to
 * libpcap (see above).
 */
static int
map_next(struct det_sensor_cap *c, struct pcap_pkthdr *h,
    const u_char **data)
{
	uint32_t r[4];
	size_t left = c->map_len - c->map_off, k;

	if (left == 0)
		return 0;
	if (left < sizeof(r))
		return -1;
	memcpy(r, c->map + c->map_off, sizeof(r));
	if (r[2] > c->map_snap || r[2] > MAP_REC_MAX ||
	    r[2] > left - sizeof(r) || r[0] > INT32_MAX || r[1] > INT32_MAX)
		return -1;
	h->ts.tv_sec = (time_t)r[0];
	h->ts.tv_usec = (suseconds_t)(c->map_ns ? r[1] / 1000 : r[1]);
	h->caplen = r[2];
	h->len = r[3];
	*data = c->map + c->map_off + sizeof(r);
	c->map_off += sizeof(r) + r[2];
	/* Pages read are given back: the mapping does not grow the RSS. */
	if (c->map_off - c->map_dropped >= 2 * MAP_DROP) {
		k = (c->map_off - MAP_DROP) & ~(size_t)(MAP_DROP - 1);
		(void)madvise((void *)(uintptr_t)(c->map + c->map_dropped),
		    k - c->map_dropped, MADV_DONTNEED);
		c->map_dropped = k;
	}
	return 1;
}

int
det_sensor_cap_open(const struct det_capture_conf *cc,
    struct det_sensor_cap **out, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct det_sensor_cap *c;
	struct bpf_program prog;
	FILE *fp;
	int rc;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (cc->file != NULL) {
		/*
		 * Our own FILE with a 1 MiB buffer: libpcap's default stdio
		 * buffer read a capture 4 KiB per read(2). pcap_close()
		 * closes fp.
		 */
		if (strcmp(cc->file, "-") == 0)
			fp = stdin;
		else if ((fp = fopen(cc->file, "rb")) == NULL) {
			snprintf(err, errlen, "%s: %s", cc->file,
			    strerror(errno));
			free(c);
			return -1;
		}
		/* glibc ignores the size unless given the buffer (not
		 * stdin's: it outlives the capture). */
		if (fp != stdin && (c->fbuf = malloc(CAP_FILE_BUF)) != NULL)
			(void)setvbuf(fp, c->fbuf, _IOFBF, CAP_FILE_BUF);
		c->p = pcap_fopen_offline_with_tstamp_precision(fp,
		    PCAP_TSTAMP_PRECISION_MICRO, ebuf);
		if (c->p == NULL) {
			snprintf(err, errlen, "%s: %s", cc->file, ebuf);
			if (fp != stdin)
				fclose(fp);
			free(c->fbuf);
			free(c);
			return -1;
		}
		map_open(c, fp);
	} else {
		c->live = true;
		if ((c->p = pcap_create(cc->iface, ebuf)) == NULL) {
			snprintf(err, errlen, "%s", ebuf);
			free(c);
			return -1;
		}
		(void)pcap_set_snaplen(c->p, cc->snaplen);
		(void)pcap_set_promisc(c->p, cc->promisc ? 1 : 0);
		(void)pcap_set_buffer_size(c->p, cc->buffer);
		(void)pcap_set_immediate_mode(c->p, cc->immediate ? 1 : 0);
		(void)pcap_set_timeout(c->p, 100);
		rc = pcap_activate(c->p);
		if (rc < 0) {
			snprintf(err, errlen, "%s: %s", cc->iface,
			    rc == PCAP_ERROR ? pcap_geterr(c->p) :
			    pcap_statustostr(rc));
			det_sensor_cap_close(c);
			return -1;
		}
		if (rc > 0)
			gb_warn("%s: %s", cc->iface, pcap_statustostr(rc));
	}
	c->dlt = pcap_datalink(c->p);
	if (det_pkt_dlt_str(c->dlt) == NULL)
		gb_warn("link type %s (%d) is not decoded: every frame will "
		    "be counted as link_unsupported",
		    pcap_datalink_val_to_name(c->dlt) ?
		    pcap_datalink_val_to_name(c->dlt) : "?", c->dlt);
	if (cc->filter != NULL && cc->filter[0] != '\0') {
		if (pcap_compile(c->p, &prog, cc->filter, 1,
		    PCAP_NETMASK_UNKNOWN) == -1 ||
		    pcap_setfilter(c->p, &prog) == -1) {
			snprintf(err, errlen, "filter \"%s\": %s", cc->filter,
			    pcap_geterr(c->p));
			det_sensor_cap_close(c);
			return -1;
		}
		if (c->map != NULL) {
			c->prog = prog;		/* freed with c */
			c->have_prog = true;
		} else
			pcap_freecode(&prog);
	}
	*out = c;
	return 0;
}

void
det_sensor_cap_close(struct det_sensor_cap *c)
{
	if (c == NULL)
		return;
	map_close(c);
	if (c->have_prog)
		pcap_freecode(&c->prog);
	pcap_close(c->p);
	free(c->fbuf);
	free(c);
}

int
det_sensor_cap_dlt(const struct det_sensor_cap *c)
{
	return c->dlt;
}

void
det_sensor_cap_stop(struct det_sensor_cap *c)
{
	c->stop = 1;
	pcap_breakloop(c->p);
}

void
det_sensor_cap_stats(struct det_sensor_cap *c, struct det_sensor_capstats *st)
{
	struct pcap_stat ps;

	memset(st, 0, sizeof(*st));
	if (!c->live)
		return;
	st->live = true;
	if (pcap_stats(c->p, &ps) == 0) {
		st->received = ps.ps_recv;
		st->dropped = ps.ps_drop;
		st->if_dropped = ps.ps_ifdrop;
	}
}

struct loop_arg {
	struct det_sensor	*s;
	int			 dlt;
};

static void
on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct loop_arg *la = (struct loop_arg *)user;
	uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000 +
	    (uint64_t)h->ts.tv_usec;

	det_sensor_frame(la->s, la->dlt, ts, bytes, h->caplen);
}

/*
 * Up to DISPATCH_BATCH frames of the mapped file that pass the filter to
 * the pipeline, as pcap_dispatch() would: their number, 0 at the end of
 * the file, -1 when the file cannot be handed back to libpcap. A record
 * left to libpcap ends the mapping: libpcap reads on from it.
 */
static int
map_dispatch(struct det_sensor_cap *c, struct loop_arg *la)
{
	struct pcap_pkthdr h;
	const u_char *data;
	int n = 0, r = 1;

	while (n < DISPATCH_BATCH && (r = map_next(c, &h, &data)) == 1) {
		if (c->have_prog && pcap_offline_filter(&c->prog, &h,
		    data) == 0)
			continue;
		on_packet((u_char *)la, &h, data);
		n++;
	}
	if (r == -1) {
		if (fseek(pcap_file(c->p), (long)c->map_off, SEEK_SET) == -1)
			return -1;
		map_close(c);
		/* The frames so far count as this batch (or none: read on). */
		return n > 0 ? n : 1;
	}
	return n;
}

static void
log_stats(struct det_sensor_cap *c, struct det_sensor *s,
    struct det_sensor_capstats *prev, double drop_warn_pct)
{
	struct det_sensor_capstats st;
	struct gb_buf b;
	uint64_t recv, drop;

	det_sensor_cap_stats(c, &st);
	gb_buf_init(&b, 1u << 16);
	if (det_sensor_stats_json(s, &st, &b) == 0 && gb_buf_cstr(&b) != NULL)
		gb_info("stats %.*s", (int)(gb_buf_used(&b) - 1),
		    (const char *)gb_buf_head(&b));
	gb_buf_free(&b);
	if (st.live) {
		/* pcap counters are 32-bit on Linux and may wrap. */
		recv = (uint32_t)(st.received - prev->received);
		drop = (uint32_t)(st.dropped - prev->dropped);
		if (drop > 0 && (double)drop * 100.0 >
		    drop_warn_pct * (double)(recv + drop))
			gb_warn("capture dropped %llu of %llu packets since "
			    "the last report (more than %.2f%%): raise -B or "
			    "narrow -f", (unsigned long long)drop,
			    (unsigned long long)(recv + drop), drop_warn_pct);
	}
	*prev = st;
}

int
det_sensor_cap_run(struct det_sensor_cap *c, struct det_sensor *s,
    uint64_t stats_ms, double drop_warn_pct)
{
	struct loop_arg la = { s, c->dlt };
	struct det_sensor_capstats prev;
	uint64_t next = stats_ms ? gb_now_ms() + stats_ms : 0;
	uint64_t flush_at = gb_now_ms() + 1000, now;
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct pollfd pfd;
	int n;

	memset(&prev, 0, sizeof(prev));
	/*
	 * Live: wait in poll() with a timeout, then read without blocking.
	 * pcap_dispatch() alone may block until the next packet (TPACKET_V3
	 * wakes up only for a block with packets in it), so an idle link
	 * would hold back the last transactions, the flushes and the store's
	 * group commit.
	 */
	if (c->live && pcap_setnonblock(c->p, 1, ebuf) == -1)
		gb_warn("capture: cannot set non-blocking: %s", ebuf);
	pfd.fd = c->live ? pcap_get_selectable_fd(c->p) : -1;
	pfd.events = POLLIN;
	while (!c->stop) {
		if (pfd.fd != -1 && poll(&pfd, 1, 200) == -1 && errno != EINTR) {
			gb_error("capture: poll: %s", strerror(errno));
			return -1;
		}
		if (c->stop)
			break;
		if (c->map != NULL) {
			if ((n = map_dispatch(c, &la)) == -1) {
				gb_error("capture: seek: %s", strerror(errno));
				return -1;
			}
			if (n == 0)
				break;		/* end of file */
		} else {
			n = pcap_dispatch(c->p, DISPATCH_BATCH, on_packet,
			    (u_char *)&la);
			if (n == PCAP_ERROR) {
				gb_error("capture: %s", pcap_geterr(c->p));
				return -1;
			}
			if (n == PCAP_ERROR_BREAK)
				break;
			if (n == 0 && !c->live)
				break;		/* end of file */
		}
		now = gb_now_ms();
		if (c->live && now >= flush_at) {	/* lines out within 1 s */
			struct timespec ts;

			/* a second behind: frames still in the kernel
			   buffer must not look older than the clock */
			clock_gettime(CLOCK_REALTIME, &ts);
			det_sensor_tick(s, (uint64_t)ts.tv_sec * 1000000 +
			    (uint64_t)ts.tv_nsec / 1000 - 1000000);
			det_sensor_flush(s);
			if (c->tick != NULL) {
				struct det_sensor_capstats cs;

				det_sensor_cap_stats(c, &cs);
				c->tick(&cs, (uint64_t)ts.tv_sec * 1000000 +
				    (uint64_t)ts.tv_nsec / 1000, now,
				    c->tick_arg);
			}
			flush_at = now + 1000;
		}
		if (next != 0 && now >= next) {
			log_stats(c, s, &prev, drop_warn_pct);
			next = now + stats_ms;
		}
	}
	return 0;	/* main() logs the final counters */
}

void
det_sensor_cap_set_tick(struct det_sensor_cap *c, det_sensor_tick_cb *cb,
    void *arg)
{
	c->tick = cb;
	c->tick_arg = arg;
}

