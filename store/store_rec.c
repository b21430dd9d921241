/*
 * store_rec: the alert record encoding, version 1 (docs/store-format.md).
 *
 * A fixed little-endian header of 76 bytes, then TLVs (tag u8, length u16
 * LE, value) in ascending tag order; only counts and samples repeat.
 * The decoder reads through a bounds-checked cursor and accepts exactly
 * what the encoder writes.
 */
#include "store/store_int.h"

#include <string.h>

#define HDR_LEN		76

enum {
	T_SENSOR = 1,
	T_RULE,
	T_CONSUMER,
	T_METHOD,
	T_HOST,
	T_PATH,
	T_INCIDENT,
	T_MESSAGE,
	T_COUNT,
	T_SAMPLE,
	T_MAX = T_SAMPLE
};

static const char *const sev_names[STORE_SEV_COUNT] = {
	"info", "low", "medium", "high", "critical",
};

struct store_str
store_str(const char *s)
{
	struct store_str r = { s, s == NULL ? 0 : strlen(s) };

	return r;
}

const char *
store_sev_str(int sev)
{
	if (sev < 0 || sev >= STORE_SEV_COUNT)
		return "?";
	return sev_names[sev];
}

int
store_sev_from_str(const char *s)
{
	int i;

	for (i = 0; i < STORE_SEV_COUNT; i++)
		if (strcmp(s, sev_names[i]) == 0)
			return i;
	return -1;
}

/* Valid UTF-8 without control characters (C0, DEL, C1) or NUL. */
static bool
text_ok(const struct store_str *s, size_t max, bool required)
{
	const uint8_t *p = (const uint8_t *)s->p;
	size_t i, n = s->n, k;
	uint32_t cp;

	if (n == 0)
		return !required;
	if (p == NULL || n > max)
		return false;
	for (i = 0; i < n;) {
		uint8_t c = p[i];

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else
			return false;
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + j] & 0x3f);
		}
		/* C1 controls (U+0080-U+009F) are terminal escapes too. */
		if ((k == 1 && cp < 0xa0) ||
		    (k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += k + 1;
	}
	return true;
}

/* Identifier type names: [a-z0-9_-], 1 to STORE_TYPE_MAX bytes. */
static bool
type_ok(const struct store_str *s)
{
	size_t i;

	if (s->n == 0 || s->n > STORE_TYPE_MAX || s->p == NULL)
		return false;
	for (i = 0; i < s->n; i++) {
		char c = s->p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-'))
			return false;
	}
	return true;
}

static bool
zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

int
store_alert_check(const struct store_alert *a, const char **why)
{
	const char *w = NULL;
	size_t i;

	if (a->severity >= STORE_SEV_COUNT)
		w = "severity out of range";
	else if (a->flags & ~STORE_A_FLAGS_ALL)
		w = "unknown flags";
	else if (a->af != STORE_AF_NONE && a->af != STORE_AF_INET &&
	    a->af != STORE_AF_INET6)
		w = "unknown address family";
	else if (a->af == STORE_AF_NONE && (!zero(a->src, 16) ||
	    !zero(a->dst, 16) || a->sport != 0 || a->dport != 0))
		w = "addresses without an address family";
	else if (a->af == STORE_AF_INET && (!zero(a->src + 4, 12) ||
	    !zero(a->dst + 4, 12)))
		w = "IPv4 address with bytes past the fourth";
	else if (a->win_end_ns < a->win_start_ns)
		w = "window ends before it starts";
	else if (a->status > 999)
		w = "HTTP status out of range";
	else if (!text_ok(&a->sensor, STORE_NAME_MAX, true))
		w = "sensor missing, too long or not printable UTF-8";
	else if (!text_ok(&a->rule, STORE_NAME_MAX, true))
		w = "rule missing, too long or not printable UTF-8";
	else if (!text_ok(&a->consumer, STORE_NAME_MAX, false))
		w = "consumer too long or not printable UTF-8";
	else if (!text_ok(&a->incident, STORE_NAME_MAX, false))
		w = "incident too long or not printable UTF-8";
	else if (!text_ok(&a->method, 32, false))
		w = "method too long or not printable";
	else if (!text_ok(&a->host, STORE_NAME_MAX, false))
		w = "host too long or not printable UTF-8";
	else if (!text_ok(&a->path, STORE_TEXT_MAX, false))
		w = "path too long or not printable UTF-8";
	else if (!text_ok(&a->message, STORE_TEXT_MAX, false))
		w = "message too long or not printable UTF-8";
	else if (a->ncounts > STORE_COUNTS_MAX)
		w = "too many counts";
	else if (a->nsamples > STORE_SAMPLES_MAX)
		w = "too many samples";
	for (i = 0; w == NULL && i < a->ncounts; i++) {
		if (!type_ok(&a->counts[i].type))
			w = "count type not [a-z0-9_-]{1,32}";
		else if (a->counts[i].distinct > a->counts[i].count)
			w = "distinct greater than count";
	}
	for (i = 0; w == NULL && i < a->nsamples; i++) {
		if (!type_ok(&a->samples[i].type))
			w = "sample type not [a-z0-9_-]{1,32}";
		else if (!text_ok(&a->samples[i].value, 255, true))
			w = "sample value empty, too long or not printable";
	}
	if (why != NULL)
		*why = w;
	return w == NULL ? 0 : -1;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

int
store_rec_encode(const struct store_alert *a, struct gb_buf *out)
{
	if (store_alert_check(a, NULL) == -1)
		return -1;
	return store_rec_encode_checked(a, out);
}

int
store_rec_encode_checked(const struct store_alert *a, struct gb_buf *out)
{
	const struct store_str *strs[] = {
		&a->sensor, &a->rule, &a->consumer, &a->method, &a->host,
		&a->path, &a->incident, &a->message,
	};
	size_t need = HDR_LEN, i, start;
	uint8_t *p;

	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (strs[i]->n > 0)
			need += 3 + strs[i]->n;
	for (i = 0; i < a->ncounts; i++)
		need += 3 + 1 + a->counts[i].type.n + 16;
	for (i = 0; i < a->nsamples; i++)
		need += 3 + 1 + a->samples[i].type.n + a->samples[i].value.n;
	if (need > STORE_REC_MAX || (p = gb_buf_reserve(out, need)) == NULL)
		return -1;
	p[0] = STORE_REC_VERSION;
	p[1] = a->severity;
	p[2] = a->flags;
	p[3] = a->af;
	p[4] = a->proto;
	p[5] = 0;
	put16(p + 6, a->sport);
	put16(p + 8, a->dport);
	put16(p + 10, a->status);
	put64(p + 12, a->time_ns);
	put64(p + 20, a->win_start_ns);
	put64(p + 28, a->win_end_ns);
	put64(p + 36, a->bytes);
	memcpy(p + 44, a->src, 16);
	memcpy(p + 60, a->dst, 16);
	start = HDR_LEN;
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if (strs[i]->n == 0)
			continue;
		p[start] = (uint8_t)(T_SENSOR + i);
		put16(p + start + 1, (uint16_t)strs[i]->n);
		memcpy(p + start + 3, strs[i]->p, strs[i]->n);
		start += 3 + strs[i]->n;
	}
	for (i = 0; i < a->ncounts; i++) {
		const struct store_count *c = &a->counts[i];

		p[start] = T_COUNT;
		put16(p + start + 1, (uint16_t)(1 + c->type.n + 16));
		p[start + 3] = (uint8_t)c->type.n;
		memcpy(p + start + 4, c->type.p, c->type.n);
		put64(p + start + 4 + c->type.n, c->count);
		put64(p + start + 12 + c->type.n, c->distinct);
		start += 3 + 1 + c->type.n + 16;
	}
	for (i = 0; i < a->nsamples; i++) {
		const struct store_sample *s = &a->samples[i];

		p[start] = T_SAMPLE;
		put16(p + start + 1, (uint16_t)(1 + s->type.n + s->value.n));
		p[start + 3] = (uint8_t)s->type.n;
		memcpy(p + start + 4, s->type.p, s->type.n);
		memcpy(p + start + 4 + s->type.n, s->value.p, s->value.n);
		start += 3 + 1 + s->type.n + s->value.n;
	}
	gb_buf_commit(out, start);
	return 0;
}

int
store_rec_decode(const uint8_t *p, size_t n, struct store_alert *a)
{
	if (store_rec_decode_fields(p, n, a) == -1)
		return -1;
	return store_alert_check(a, NULL);
}

int
store_rec_decode_fields(const uint8_t *p, size_t n, struct store_alert *a)
{
	struct store_str *strs[] = {
		&a->sensor, &a->rule, &a->consumer, &a->method, &a->host,
		&a->path, &a->incident, &a->message,
	};
	size_t off, len, tl;
	unsigned tag, last = 0;
	uint64_t id = a->id;

	if (n < HDR_LEN || n > STORE_REC_MAX || p[0] != STORE_REC_VERSION ||
	    p[5] != 0)
		return -1;
	/* Not memset: the count and sample arrays are 2 KiB; set n only. */
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		strs[i]->p = NULL;
		strs[i]->n = 0;
	}
	a->ncounts = a->nsamples = 0;
	a->id = id;
	a->severity = p[1];
	a->flags = p[2];
	a->af = p[3];
	a->proto = p[4];
	a->sport = get16(p + 6);
	a->dport = get16(p + 8);
	a->status = get16(p + 10);
	a->time_ns = get64(p + 12);
	a->win_start_ns = get64(p + 20);
	a->win_end_ns = get64(p + 28);
	a->bytes = get64(p + 36);
	memcpy(a->src, p + 44, 16);
	memcpy(a->dst, p + 60, 16);
	for (off = HDR_LEN; off < n; off += 3 + len) {
		if (n - off < 3)
			return -1;
		tag = p[off];
		len = get16(p + off + 1);
		if (len == 0 || len > n - off - 3 || tag == 0 || tag > T_MAX)
			return -1;
		/* Ascending order; only counts and samples repeat. */
		if (tag < last || (tag == last && tag < T_COUNT))
			return -1;
		last = tag;
		if (tag < T_COUNT) {
			strs[tag - T_SENSOR]->p = (const char *)p + off + 3;
			strs[tag - T_SENSOR]->n = len;
			continue;
		}
		tl = p[off + 3];
		if (tl == 0 || 1 + tl > len)
			return -1;
		if (tag == T_COUNT) {
			struct store_count *c;

			if (len != 1 + tl + 16 || a->ncounts == STORE_COUNTS_MAX)
				return -1;
			c = &a->counts[a->ncounts++];
			c->type.p = (const char *)p + off + 4;
			c->type.n = tl;
			c->count = get64(p + off + 4 + tl);
			c->distinct = get64(p + off + 12 + tl);
		} else {
			struct store_sample *s;

			if (len == 1 + tl || a->nsamples == STORE_SAMPLES_MAX)
				return -1;
			s = &a->samples[a->nsamples++];
			s->type.p = (const char *)p + off + 4;
			s->type.n = tl;
			s->value.p = (const char *)p + off + 4 + tl;
			s->value.n = len - 1 - tl;
		}
	}
	return 0;
}
