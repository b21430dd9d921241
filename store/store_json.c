/*
 * store_json: alerts as JSON lines, the export format of gerbang-audit and
 * the import format of gerbang-store (docs/store-format.md). The parser
 * accepts one flat object per line with the known keys only; counts and
 * samples are arrays of flat objects. Bounded: line size, depth 2, array
 * lengths; every string is checked by store_alert_check().
 */
#include "store/store_int.h"
#include "core/gb_mask.h"

#include <arpa/inet.h>
#include <string.h>

#define LINE_MAX_JSON	65536

/*
 * The writer appends pieces with gb_buf_puts/put_u64/json_str, not
 * printf: the sensor formats every alert it raises, ~25 pieces each.
 */

/* ,"key": */
static int
put_key(struct gb_buf *b, const char *key)
{
	int rc = 0;

	rc |= gb_buf_puts(b, ",\"");
	rc |= gb_buf_puts(b, key);
	rc |= gb_buf_puts(b, "\":");
	return rc;
}

/* ,"key":"s" with s escaped */
static int
put_strn(struct gb_buf *b, const char *key, const char *s, size_t n)
{
	int rc = 0;

	rc |= put_key(b, key);
	rc |= gb_buf_putc(b, '"');
	rc |= gb_buf_json_str(b, s, n);
	rc |= gb_buf_putc(b, '"');
	return rc;
}

static int
put_str(struct gb_buf *b, const char *key, const struct store_str *s)
{
	if (s->n == 0)
		return 0;
	return put_strn(b, key, s->p, s->n);
}

static int
put_u64(struct gb_buf *b, const char *key, uint64_t v)
{
	return put_key(b, key) | gb_buf_put_u64(b, v);
}

static int
put_time(struct gb_buf *b, const char *key, uint64_t ns)
{
	char t[40];

	store_time_fmt(ns, t, sizeof(t));
	return put_strn(b, key, t, strlen(t));
}

static void
addr_str(uint8_t af, const uint8_t *a, char *buf, size_t len)
{
	if (inet_ntop(af == STORE_AF_INET ? AF_INET : AF_INET6, a, buf,
	    (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

int
store_json_alert(struct gb_buf *b, const struct store_alert *a,
    const uint8_t link[STORE_LINK_LEN])
{
	char addr[64], hex[2 * STORE_LINK_LEN + 1];
	const char *sev;
	size_t i;
	int rc = 0;

	rc |= gb_buf_puts(b, "{\"id\":");
	rc |= gb_buf_put_u64(b, a->id);
	rc |= put_time(b, "time", a->time_ns);
	rc |= put_str(b, "sensor", &a->sensor);
	rc |= put_str(b, "rule", &a->rule);
	sev = store_sev_str(a->severity);
	rc |= put_strn(b, "severity", sev, strlen(sev));
	if (a->af != STORE_AF_NONE) {
		addr_str(a->af, a->src, addr, sizeof(addr));
		rc |= put_strn(b, "src", addr, strlen(addr));
		rc |= put_u64(b, "sport", a->sport);
		addr_str(a->af, a->dst, addr, sizeof(addr));
		rc |= put_strn(b, "dst", addr, strlen(addr));
		rc |= put_u64(b, "dport", a->dport);
	}
	if (a->proto != 0)
		rc |= put_u64(b, "proto", a->proto);
	rc |= put_str(b, "consumer", &a->consumer);
	if (a->consumer.n > 0 || (a->flags & STORE_A_CONSUMER_VERIFIED)) {
		rc |= put_key(b, "consumer_verified");
		rc |= gb_buf_puts(b, a->flags & STORE_A_CONSUMER_VERIFIED ?
		    "true" : "false");
	}
	rc |= put_str(b, "method", &a->method);
	rc |= put_str(b, "host", &a->host);
	rc |= put_str(b, "path", &a->path);
	if (a->status != 0)
		rc |= put_u64(b, "status", a->status);
	rc |= put_u64(b, "bytes", a->bytes);
	if (a->win_start_ns != 0 || a->win_end_ns != 0) {
		rc |= put_time(b, "window_start", a->win_start_ns);
		rc |= put_time(b, "window_end", a->win_end_ns);
	}
	rc |= put_str(b, "incident", &a->incident);
	rc |= put_str(b, "message", &a->message);
	rc |= gb_buf_puts(b, ",\"counts\":[");
	for (i = 0; i < a->ncounts; i++) {
		rc |= gb_buf_puts(b, i ? ",{\"type\":\"" : "{\"type\":\"");
		rc |= gb_buf_json_str(b, a->counts[i].type.p,
		    a->counts[i].type.n);
		rc |= gb_buf_putc(b, '"');
		rc |= put_u64(b, "count", a->counts[i].count);
		rc |= put_u64(b, "distinct", a->counts[i].distinct);
		rc |= gb_buf_putc(b, '}');
	}
	rc |= gb_buf_puts(b, "],\"samples\":[");
	for (i = 0; i < a->nsamples; i++) {
		rc |= gb_buf_puts(b, i ? ",{\"type\":\"" : "{\"type\":\"");
		rc |= gb_buf_json_str(b, a->samples[i].type.p,
		    a->samples[i].type.n);
		rc |= gb_buf_putc(b, '"');
		rc |= put_strn(b, "value", a->samples[i].value.p,
		    a->samples[i].value.n);
		rc |= gb_buf_putc(b, '}');
	}
	rc |= gb_buf_putc(b, ']');
	if (link != NULL) {
		gb_hex(hex, link, STORE_LINK_LEN);
		rc |= put_strn(b, "link", hex, strlen(hex));
	}
	rc |= gb_buf_putc(b, '}');
	return rc == 0 ? 0 : -1;
}

/* --- the parser --- */

struct jp {
	const char	*p;
	const char	*end;
	char		*out;		/* scratch, reserved up front */
	size_t		 outn;
	size_t		 outcap;
	const char	*why;
};

static void
ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t'))
		j->p++;
}

static int
fail(struct jp *j, const char *why)
{
	if (j->why == NULL)
		j->why = why;
	return -1;
}

static int
lit(struct jp *j, char c)
{
	ws(j);
	if (j->p >= j->end || *j->p != c)
		return -1;
	j->p++;
	return 0;
}

static int
hex4(const char *p, unsigned *v)
{
	int i, d;

	*v = 0;
	for (i = 0; i < 4; i++) {
		if ((d = gb_hexval((unsigned char)p[i])) < 0)
			return -1;
		*v = (*v << 4) | (unsigned)d;
	}
	return 0;
}

static void
out_utf8(struct jp *j, unsigned cp)
{
	char *o = j->out + j->outn;

	if (cp < 0x80) {
		o[0] = (char)cp;
		j->outn += 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		j->outn += 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		j->outn += 3;
	} else {
		o[0] = (char)(0xf0 | (cp >> 18));
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		j->outn += 4;
	}
}

/* A string; without escapes a slice of the line, else decoded to out. */
static int
str(struct jp *j, struct store_str *s)
{
	const char *q;
	unsigned cp, lo;

	if (lit(j, '"') == -1)
		return fail(j, "expected a string");
	for (q = j->p; q < j->end && *q != '"' && *q != '\\'; q++)
		if ((unsigned char)*q < 0x20)
			return fail(j, "control byte in a string");
	if (q < j->end && *q == '"') {
		s->p = j->p;
		s->n = (size_t)(q - j->p);
		j->p = q + 1;
		return 0;
	}
	s->p = j->out + j->outn;
	for (q = j->p; q < j->end && *q != '"'; q++) {
		/* Decoded bytes never outnumber the input bytes. */
		if ((unsigned char)*q < 0x20)
			return fail(j, "control byte in a string");
		if (*q != '\\') {
			j->out[j->outn++] = *q;
			continue;
		}
		if (++q >= j->end)
			break;
		switch (*q) {
		case '"': case '\\': case '/':
			j->out[j->outn++] = *q;
			break;
		case 'b': j->out[j->outn++] = '\b'; break;
		case 'f': j->out[j->outn++] = '\f'; break;
		case 'n': j->out[j->outn++] = '\n'; break;
		case 'r': j->out[j->outn++] = '\r'; break;
		case 't': j->out[j->outn++] = '\t'; break;
		case 'u':
			if (j->end - q < 5 || hex4(q + 1, &cp) == -1)
				return fail(j, "bad \\u escape");
			q += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return fail(j, "lone low surrogate");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (j->end - q < 7 || q[1] != '\\' ||
				    q[2] != 'u' || hex4(q + 3, &lo) == -1 ||
				    lo < 0xdc00 || lo > 0xdfff)
					return fail(j, "lone high surrogate");
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				q += 6;
			}
			out_utf8(j, cp);
			break;
		default:
			return fail(j, "bad escape");
		}
	}
	if (q >= j->end)
		return fail(j, "unterminated string");
	s->n = (size_t)(j->out + j->outn - s->p);
	j->p = q + 1;
	return 0;
}

static int
u64(struct jp *j, uint64_t max, uint64_t *v)
{
	ws(j);
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return fail(j, "expected an unsigned integer");
	if (*j->p == '0' && j->p + 1 < j->end && j->p[1] >= '0' &&
	    j->p[1] <= '9')
		return fail(j, "leading zero");
	for (*v = 0; j->p < j->end && *j->p >= '0' && *j->p <= '9'; j->p++) {
		uint64_t d = (uint64_t)(*j->p - '0');

		if (*v > (max - d) / 10)
			return fail(j, "number out of range");
		*v = *v * 10 + d;
	}
	if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E'))
		return fail(j, "expected an unsigned integer");
	return 0;
}

static int
boolean(struct jp *j, bool *v)
{
	ws(j);
	if (j->end - j->p >= 4 && memcmp(j->p, "true", 4) == 0) {
		j->p += 4;
		*v = true;
		return 0;
	}
	if (j->end - j->p >= 5 && memcmp(j->p, "false", 5) == 0) {
		j->p += 5;
		*v = false;
		return 0;
	}
	return fail(j, "expected true or false");
}

static int
time_val(struct jp *j, uint64_t *ns)
{
	struct store_str s;
	char buf[72];

	if (str(j, &s) == -1)
		return -1;
	if (s.n < 10 || s.n >= sizeof(buf))
		return fail(j, "bad time");
	memcpy(buf, s.p, s.n);
	buf[s.n] = '\0';
	if (store_time_parse(buf, 0, ns) == -1)
		return fail(j, "bad time (ISO 8601 expected)");
	return 0;
}

static int
addr_val(struct jp *j, uint8_t *af, uint8_t a[16])
{
	struct store_str s;
	char buf[64];
	uint8_t f;

	if (str(j, &s) == -1)
		return -1;
	if (s.n == 0 || s.n >= sizeof(buf))
		return fail(j, "bad address");
	memcpy(buf, s.p, s.n);
	buf[s.n] = '\0';
	memset(a, 0, 16);
	if (inet_pton(AF_INET, buf, a) == 1)
		f = STORE_AF_INET;
	else if (inet_pton(AF_INET6, buf, a) == 1)
		f = STORE_AF_INET6;
	else
		return fail(j, "bad address");
	if (*af != STORE_AF_NONE && *af != f)
		return fail(j, "src and dst of different families");
	*af = f;
	return 0;
}

/* Keys of one object; bit i set once key i was seen. */
static int
key(struct jp *j, const char *const *names, uint64_t *seen)
{
	struct store_str k;
	int i;

	if (str(j, &k) == -1 || lit(j, ':') == -1)
		return fail(j, "expected \"key\":");
	for (i = 0; names[i] != NULL; i++)
		if (strlen(names[i]) == k.n && memcmp(names[i], k.p, k.n) == 0)
			break;
	if (names[i] == NULL)
		return fail(j, "unknown key");
	if (*seen & (1ULL << i))
		return fail(j, "duplicate key");
	*seen |= 1ULL << i;
	return i;
}

/* [ {..}, {..} ] of counts (samples false) or samples. */
static int
array(struct jp *j, struct store_alert *a, bool samples)
{
	static const char *const cnames[] = { "type", "count", "distinct",
		NULL };
	static const char *const snames[] = { "type", "value", NULL };
	uint64_t seen;
	int k;

	if (lit(j, '[') == -1)
		return fail(j, "expected an array");
	if (lit(j, ']') == 0)
		return 0;
	do {
		struct store_count *c = &a->counts[a->ncounts];
		struct store_sample *s = &a->samples[a->nsamples];

		if (samples ? a->nsamples == STORE_SAMPLES_MAX :
		    a->ncounts == STORE_COUNTS_MAX)
			return fail(j, "too many counts or samples");
		if (lit(j, '{') == -1)
			return fail(j, "expected an object");
		seen = 0;
		do {
			if ((k = key(j, samples ? snames : cnames, &seen)) < 0)
				return -1;
			if (k == 0 && str(j, samples ? &s->type : &c->type))
				return -1;
			if (!samples && k == 1 && u64(j, UINT64_MAX, &c->count))
				return -1;
			if (!samples && k == 2 &&
			    u64(j, UINT64_MAX, &c->distinct))
				return -1;
			if (samples && k == 1 && str(j, &s->value))
				return -1;
		} while (lit(j, ',') == 0);
		if (lit(j, '}') == -1)
			return fail(j, "expected , or }");
		if (seen != (samples ? 3u : 7u))
			return fail(j, samples ? "sample needs type and value" :
			    "count needs type, count and distinct");
		if (samples)
			a->nsamples++;
		else
			a->ncounts++;
	} while (lit(j, ',') == 0);
	if (lit(j, ']') == -1)
		return fail(j, "expected , or ]");
	return 0;
}

enum {
	K_ID = 0, K_TIME, K_SENSOR, K_RULE, K_SEV, K_SRC, K_SPORT, K_DST,
	K_DPORT, K_PROTO, K_CONSUMER, K_VERIFIED, K_METHOD, K_HOST, K_PATH,
	K_STATUS, K_BYTES, K_WSTART, K_WEND, K_INCIDENT, K_MESSAGE, K_COUNTS,
	K_SAMPLES, K_LINK
};

static int
field(struct jp *j, struct store_alert *a, int k)
{
	struct store_str s;
	uint64_t v;
	bool b;
	int sev;
	char name[16];

	switch (k) {
	case K_ID:
		return u64(j, UINT64_MAX, &v);
	case K_LINK:
		return str(j, &s);
	case K_TIME:
		return time_val(j, &a->time_ns);
	case K_WSTART:
		return time_val(j, &a->win_start_ns);
	case K_WEND:
		return time_val(j, &a->win_end_ns);
	case K_SENSOR:
		return str(j, &a->sensor);
	case K_RULE:
		return str(j, &a->rule);
	case K_CONSUMER:
		return str(j, &a->consumer);
	case K_METHOD:
		return str(j, &a->method);
	case K_HOST:
		return str(j, &a->host);
	case K_PATH:
		return str(j, &a->path);
	case K_INCIDENT:
		return str(j, &a->incident);
	case K_MESSAGE:
		return str(j, &a->message);
	case K_SEV:
		if (str(j, &s) == -1)
			return -1;
		if (s.n >= sizeof(name))
			return fail(j, "unknown severity");
		memcpy(name, s.p, s.n);
		name[s.n] = '\0';
		if ((sev = store_sev_from_str(name)) < 0)
			return fail(j, "unknown severity");
		a->severity = (uint8_t)sev;
		return 0;
	case K_SRC:
		return addr_val(j, &a->af, a->src);
	case K_DST:
		return addr_val(j, &a->af, a->dst);
	case K_SPORT:
		if (u64(j, 65535, &v) == -1)
			return -1;
		a->sport = (uint16_t)v;
		return 0;
	case K_DPORT:
		if (u64(j, 65535, &v) == -1)
			return -1;
		a->dport = (uint16_t)v;
		return 0;
	case K_PROTO:
		if (u64(j, 255, &v) == -1)
			return -1;
		a->proto = (uint8_t)v;
		return 0;
	case K_STATUS:
		if (u64(j, 999, &v) == -1)
			return -1;
		a->status = (uint16_t)v;
		return 0;
	case K_BYTES:
		return u64(j, UINT64_MAX, &a->bytes);
	case K_VERIFIED:
		if (boolean(j, &b) == -1)
			return -1;
		if (b)
			a->flags |= STORE_A_CONSUMER_VERIFIED;
		return 0;
	case K_COUNTS:
		return array(j, a, false);
	case K_SAMPLES:
		return array(j, a, true);
	default:
		return fail(j, "unknown key");
	}
}

int
store_json_parse(const char *line, size_t n, struct store_alert *a,
    struct gb_buf *scratch, const char **why)
{
	static const char *const names[] = {
		"id", "time", "sensor", "rule", "severity", "src", "sport",
		"dst", "dport", "proto", "consumer", "consumer_verified",
		"method", "host", "path", "status", "bytes", "window_start",
		"window_end", "incident", "message", "counts", "samples",
		"link", NULL,
	};
	struct jp j;
	uint64_t seen = 0;
	size_t i, room;
	int k;

	memset(a, 0, sizeof(*a));
	memset(&j, 0, sizeof(j));
	*why = NULL;
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (n > LINE_MAX_JSON) {
		*why = "line too long";
		return -1;
	}
	gb_buf_reset(scratch);
	/* Unescaped strings and masked samples: never more than this. */
	room = n + STORE_SAMPLES_MAX * 256 + 1;
	if ((j.out = (char *)gb_buf_reserve(scratch, room)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	j.outcap = room;
	j.p = line;
	j.end = line + n;
	if (lit(&j, '{') == -1) {
		*why = "expected a JSON object";
		return -1;
	}
	if (lit(&j, '}') == -1) {
		do {
			if ((k = key(&j, names, &seen)) < 0 ||
			    field(&j, a, k) == -1)
				goto bad;
		} while (lit(&j, ',') == 0);
		if (lit(&j, '}') == -1) {
			fail(&j, "expected , or }");
			goto bad;
		}
	}
	ws(&j);
	if (j.p != j.end) {
		fail(&j, "text after the object");
		goto bad;
	}
	/* Samples are stored masked: mask any value that is not. */
	for (i = 0; i < a->nsamples; i++) {
		struct store_sample *s = &a->samples[i];

		if (memchr(s->value.p, '*', s->value.n) != NULL ||
		    s->value.n == 0 || s->value.n > 255)
			continue;
		gb_mask(j.out + j.outn, 256, s->value.p, s->value.n);
		s->value.p = j.out + j.outn;
		j.outn += s->value.n;
	}
	if (store_alert_check(a, &j.why) == -1)
		goto bad;
	return 0;
bad:
	*why = j.why != NULL ? j.why : "malformed";
	return -1;
}
