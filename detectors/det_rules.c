/*
 * det_rules.c: loading the detection rules from YAML (core/gb_yaml.h).
 * The schema is in docs/rules.md. Every file of a folder is checked, every
 * error reported with its position; nothing is returned unless all are
 * clean.
 */
/* SHA256_Init and friends: see det_allow_hash(). */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "core/gb_buf.h"
#include "core/gb_diag.h"
#include "core/gb_util.h"
#include "core/gb_yaml.h"
#include "detectors/det_rules.h"
#include "detectors/det_scan.h"
#include "detectors/det_scan_int.h"

#include <openssl/sha.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct allow {
	int		type;
	uint8_t		hash[32];
};

struct det_rules {
	struct det_type_rule	 types[DET_T_COUNT];
	unsigned		 type_line[DET_T_COUNT];	/* 0: default */
	char			*type_file[DET_T_COUNT];
	struct det_bulk_rule	*bulk;
	size_t			 nbulk;
	struct allow		*allow;
	size_t			 nallow;
	struct allow		*canary;
	size_t			 ncanary;
	struct det_bulk_allow	*ballow;
	size_t			 nballow;
};

static const char *const sev_names[] = { "info", "low", "medium", "high",
    "critical", NULL };
static const char *const scope_names[] = { "response", "flow", "source",
    "consumer", NULL };
static const char *const type_names[] = { "nik", "kk", "npwp", "phone",
    "email", "card", "nip", "bpjs", "passport", "sim", NULL };
static const char *const bulk_type_names[] = { "nik", "kk", "npwp", "phone",
    "email", "card", "nip", "bpjs", "passport", "sim", "any", NULL };

/* Default severities: financial data is specific personal data (UU PDP). */
static const enum det_severity default_sev[DET_T_COUNT] = {
	DET_SEV_HIGH, DET_SEV_HIGH, DET_SEV_MEDIUM, DET_SEV_MEDIUM,
	DET_SEV_LOW, DET_SEV_CRITICAL, DET_SEV_MEDIUM, DET_SEV_HIGH,
	DET_SEV_HIGH, DET_SEV_HIGH,
};

const char *
det_severity_str(enum det_severity s)
{
	if ((unsigned)s > DET_SEV_CRITICAL)
		return "?";
	return sev_names[s];
}

const char *
det_scope_str(enum det_scope s)
{
	if ((unsigned)s > DET_SCOPE_CONSUMER)
		return "?";
	return scope_names[s];
}

/*
 * det_allow_hash() runs once per finding when an allowlist or canary is
 * set. It uses OpenSSL's SHA256_Init/Update/Final, deprecated in 3.0 in
 * favour of EVP but still there: through EVP each digest allocates and
 * frees a provider context (measured ~160 ns for a 20-byte value with a
 * kept context, ~470 ns with a fresh one, against ~75 ns here).
 */
void
det_allow_hash(enum det_type t, const char *v, size_t n, uint8_t out[32])
{
	const char *name = det_type_str(t);
	SHA256_CTX ctx;

	SHA256_Init(&ctx);
	SHA256_Update(&ctx, name, strlen(name));
	SHA256_Update(&ctx, ":", 1);
	SHA256_Update(&ctx, v, n);
	SHA256_Final(out, &ctx);
}

int
det_rules_default(struct det_rules **out)
{
	struct det_rules *r;
	int t;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	for (t = 0; t < DET_T_COUNT; t++) {
		r->types[t].enabled = true;
		r->types[t].min_confidence = 50;
		r->types[t].severity = default_sev[t];
	}
	*out = r;
	return 0;
}

void
det_rules_free(struct det_rules *r)
{
	size_t i;
	int t;

	if (r == NULL)
		return;
	for (i = 0; i < r->nbulk; i++)
		free(r->bulk[i].name);
	for (t = 0; t < DET_T_COUNT; t++)
		free(r->type_file[t]);
	free(r->bulk);
	free(r->allow);
	free(r->canary);
	for (i = 0; i < r->nballow; i++)
		free(r->ballow[i].key);
	free(r->ballow);
	free(r);
}

static void
load_types(struct det_rules *r, const struct gb_ydoc *doc,
    struct gb_diags *d, const struct gb_ynode *n)
{
	static const char *const keys[] = { "enabled", "min_confidence",
	    "severity", NULL };
	const struct gb_ynode *k, *v;
	long long ll;
	size_t i;
	bool b;
	int t, e;

	if (gb_yexpect(doc, d, n, "types", GB_Y_MAP) == -1)
		return;
	for (i = 0; i < n->len && !gb_diags_full(d); i++) {
		k = n->pairs[i].key;
		v = n->pairs[i].val;
		if ((t = det_type_from_str(k->str)) < 0) {
			const char *dym = gb_did_you_mean(k->str,
			    type_names);

			if (dym != NULL)
				gb_ydiag(doc, d, k, GB_DIAG_ERROR,
				    "unknown type \"%s\" (did you mean "
				    "\"%s\"?)", k->str, dym);
			else
				gb_ydiag(doc, d, k, GB_DIAG_ERROR,
				    "unknown type \"%s\"", k->str);
			continue;
		}
		if (r->type_line[t] != 0) {
			gb_ydiag(doc, d, k, GB_DIAG_ERROR,
			    "type \"%s\" already configured at %s:%u",
			    k->str, r->type_file[t], r->type_line[t]);
			continue;
		}
		r->type_line[t] = k->line;
		free(r->type_file[t]);
		r->type_file[t] = strdup(doc->file);
		if (gb_ymap_check(doc, d, v, "type", keys) == -1 &&
		    v->type != GB_Y_MAP)
			continue;
		if (gb_ybool(doc, d, gb_ymap_get(v, "enabled"), "enabled",
		    &b) == 0)
			r->types[t].enabled = b;
		if (gb_yint(doc, d, gb_ymap_get(v, "min_confidence"),
		    "min_confidence", 0, 100, &ll) == 0)
			r->types[t].min_confidence = (uint8_t)ll;
		if (gb_yenum(doc, d, gb_ymap_get(v, "severity"), "severity",
		    sev_names, &e) == 0)
			r->types[t].severity = (enum det_severity)e;
	}
}

static void
load_bulk(struct det_rules *r, const struct gb_ydoc *doc,
    struct gb_diags *d, const struct gb_ynode *n)
{
	static const char *const keys[] = { "name", "type", "scope",
	    "distinct", "window", "severity", NULL };
	const struct gb_ynode *it, *w;
	struct det_bulk_rule br, *nb;
	const char *name;
	long long ll;
	uint64_t u;
	size_t i, j;
	int e, bad;

	if (gb_yexpect(doc, d, n, "bulk", GB_Y_SEQ) == -1)
		return;
	for (i = 0; i < n->len && !gb_diags_full(d); i++) {
		it = n->items[i];
		if (gb_ymap_check(doc, d, it, "bulk rule", keys) == -1)
			continue;
		memset(&br, 0, sizeof(br));
		br.line = it->line;
		br.severity = DET_SEV_HIGH;
		bad = 0;
		name = NULL;
		bad |= gb_ystr(doc, d, gb_ymap_need(doc, d, it, "bulk rule",
		    "name"), "name", &name);
		if (gb_yenum(doc, d, gb_ymap_need(doc, d, it, "bulk rule",
		    "type"), "type", bulk_type_names, &e) == 0)
			br.type = e == DET_T_COUNT ? -1 : e;
		else
			bad = -1;
		if (gb_yenum(doc, d, gb_ymap_need(doc, d, it, "bulk rule",
		    "scope"), "scope", scope_names, &e) == 0)
			br.scope = (enum det_scope)e;
		else
			bad = -1;
		if (gb_yint(doc, d, gb_ymap_need(doc, d, it, "bulk rule",
		    "distinct"), "distinct", 1, 1000000000, &ll) == 0)
			br.distinct = (uint64_t)ll;
		else
			bad = -1;
		w = gb_ymap_get(it, "window");
		if (w != NULL) {
			if (gb_yduration_ms(doc, d, w, "window", 1000,
			    31ULL * 86400 * 1000, &u) == 0)
				br.window_ms = u;
			else
				bad = -1;
			if (br.scope == DET_SCOPE_RESPONSE && bad == 0) {
				gb_ydiag(doc, d, w, GB_DIAG_ERROR,
				    "window: a response is its own window; "
				    "remove window or use scope flow, source "
				    "or consumer");
				bad = -1;
			}
		} else if (bad == 0 && br.scope != DET_SCOPE_RESPONSE) {
			gb_ydiag(doc, d, it, GB_DIAG_ERROR,
			    "bulk rule \"%s\": scope %s needs a window",
			    name, scope_names[br.scope]);
			bad = -1;
		}
		if (gb_ymap_get(it, "severity") != NULL) {
			if (gb_yenum(doc, d, gb_ymap_get(it, "severity"),
			    "severity", sev_names, &e) == 0)
				br.severity = (enum det_severity)e;
			else
				bad = -1;
		}
		if (bad != 0 || name == NULL)
			continue;
		for (j = 0; j < r->nbulk; j++)
			if (strcmp(r->bulk[j].name, name) == 0)
				break;
		if (j < r->nbulk) {
			gb_ydiag(doc, d, gb_ymap_get(it, "name"), GB_DIAG_ERROR,
			    "bulk rule \"%s\" already defined at line %u",
			    name, r->bulk[j].line);
			continue;
		}
		nb = realloc(r->bulk, (r->nbulk + 1) * sizeof(*nb));
		if (nb == NULL || (br.name = strdup(name)) == NULL) {
			if (nb != NULL)
				r->bulk = nb;
			gb_ydiag(doc, d, it, GB_DIAG_ERROR, "out of memory");
			return;
		}
		r->bulk = nb;
		r->bulk[r->nbulk++] = br;
	}
}

/* "allowlist" and "canaries": lists of hashed values. */
static void
load_allow(struct det_rules *r, const struct gb_ydoc *doc,
    struct gb_diags *d, const struct gb_ynode *n, bool canary)
{
	static const char *const keys[] = { "type", "sha256", "note", NULL };
	const char *what = canary ? "canaries" : "allowlist";
	const char *ewhat = canary ? "canary" : "allowlist entry";
	struct allow **list = canary ? &r->canary : &r->allow;
	size_t *count = canary ? &r->ncanary : &r->nallow;
	const struct gb_ynode *it, *hn;
	struct allow a, *na;
	const char *hex, *note;
	size_t i, k;
	int e;

	if (gb_yexpect(doc, d, n, what, GB_Y_SEQ) == -1)
		return;
	for (i = 0; i < n->len && !gb_diags_full(d); i++) {
		it = n->items[i];
		if (gb_ymap_check(doc, d, it, ewhat, keys) == -1)
			continue;
		if (gb_yenum(doc, d, gb_ymap_need(doc, d, it,
		    ewhat, "type"), "type", type_names, &e) == -1)
			e = -1;
		hn = gb_ymap_need(doc, d, it, ewhat, "sha256");
		if (gb_ystr(doc, d, hn, "sha256", &hex) == -1 || e < 0)
			continue;
		if (gb_ymap_get(it, "note") != NULL)
			(void)gb_ystr(doc, d, gb_ymap_get(it, "note"), "note",
			    &note);
		if (strlen(hex) != 64) {
			gb_ydiag(doc, d, hn, GB_DIAG_ERROR, "sha256: expected "
			    "64 hex digits (SHA-256 of \"%s:VALUE\"), got %zu "
			    "characters", type_names[e], strlen(hex));
			continue;
		}
		for (k = 0; k < 32; k++) {
			int hi = gb_hexval(hex[2 * k]), lo = gb_hexval(hex[2 * k + 1]);

			if (hi < 0 || lo < 0)
				break;
			a.hash[k] = (uint8_t)(hi << 4 | lo);
		}
		if (k < 32) {
			gb_ydiag(doc, d, hn, GB_DIAG_ERROR,
			    "sha256: not a hex digit at position %zu",
			    2 * k + (gb_hexval(hex[2 * k]) < 0 ? 1 : 2));
			continue;
		}
		a.type = e;
		if ((na = realloc(*list, (*count + 1) * sizeof(*na))) ==
		    NULL) {
			gb_ydiag(doc, d, it, GB_DIAG_ERROR, "out of memory");
			return;
		}
		*list = na;
		na[(*count)++] = a;
	}
}

/* "bulk_allow": subjects that may receive bulk data. */
static void
load_bulk_allow(struct det_rules *r, const struct gb_ydoc *doc,
    struct gb_diags *d, const struct gb_ynode *n)
{
	static const char *const keys[] = { "scope", "key", "note", NULL };
	const struct gb_ynode *it, *kn;
	struct det_bulk_allow *na;
	const char *key, *note;
	size_t i;
	int e;

	if (gb_yexpect(doc, d, n, "bulk_allow", GB_Y_SEQ) == -1)
		return;
	for (i = 0; i < n->len && !gb_diags_full(d); i++) {
		it = n->items[i];
		if (gb_ymap_check(doc, d, it, "bulk_allow entry", keys) == -1)
			continue;
		if (gb_yenum(doc, d, gb_ymap_need(doc, d, it,
		    "bulk_allow entry", "scope"), "scope", scope_names,
		    &e) == -1)
			e = -1;
		kn = gb_ymap_need(doc, d, it, "bulk_allow entry", "key");
		if (gb_ystr(doc, d, kn, "key", &key) == -1 || e < 0)
			continue;
		if (gb_ymap_get(it, "note") != NULL)
			(void)gb_ystr(doc, d, gb_ymap_get(it, "note"), "note",
			    &note);
		if (e == DET_SCOPE_RESPONSE) {
			gb_ydiag(doc, d, it, GB_DIAG_ERROR, "bulk_allow: scope "
			    "response has no stable key (use flow, source or "
			    "consumer)");
			continue;
		}
		if (key[0] == '\0') {
			gb_ydiag(doc, d, kn, GB_DIAG_ERROR, "key: empty");
			continue;
		}
		if ((na = realloc(r->ballow, (r->nballow + 1) *
		    sizeof(*na))) == NULL ||
		    ((r->ballow = na), (na[r->nballow].key = strdup(key)) ==
		    NULL)) {
			gb_ydiag(doc, d, it, GB_DIAG_ERROR, "out of memory");
			return;
		}
		na[r->nballow].scope = (enum det_scope)e;
		r->nballow++;
	}
}

static void
load_doc(struct det_rules *r, const struct gb_ydoc *doc, struct gb_diags *d)
{
	static const char *const keys[] = { "types", "bulk", "allowlist",
	    "canaries", "bulk_allow", NULL };
	const struct gb_ynode *root = doc->root, *n;

	if (root == NULL)
		return;		/* an empty file changes nothing */
	if (gb_ymap_check(doc, d, root, "rules file", keys) == -1)
		return;
	if ((n = gb_ymap_get(root, "types")) != NULL)
		load_types(r, doc, d, n);
	if ((n = gb_ymap_get(root, "bulk")) != NULL)
		load_bulk(r, doc, d, n);
	if ((n = gb_ymap_get(root, "allowlist")) != NULL)
		load_allow(r, doc, d, n, false);
	if ((n = gb_ymap_get(root, "canaries")) != NULL)
		load_allow(r, doc, d, n, true);
	if ((n = gb_ymap_get(root, "bulk_allow")) != NULL)
		load_bulk_allow(r, doc, d, n);
}

static int
finish(struct det_rules *r, struct det_rules **out, struct gb_diags *d,
    size_t errs0)
{
	if (d->nerrors + d->dropped > errs0) {
		det_rules_free(r);
		*out = NULL;
		return -1;
	}
	*out = r;
	return 0;
}

int
det_rules_load_mem(const char *name, const void *p, size_t n,
    struct det_rules **out, struct gb_diags *d)
{
	struct det_rules *r;
	struct gb_ydoc *doc;
	size_t errs0 = d->nerrors + d->dropped;

	*out = NULL;
	if (det_rules_default(&r) == -1) {
		gb_diag_add(d, GB_DIAG_ERROR, name, 0, 0, "out of memory");
		return -1;
	}
	if (gb_yaml_load_mem(name, p, n, NULL, &doc, d) == 0) {
		load_doc(r, doc, d);
		gb_ydoc_free(doc);
	}
	return finish(r, out, d, errs0);
}

int
det_rules_shipped_load(struct det_rules **out, struct gb_diags *d)
{
	return det_rules_load_mem("(built-in rules/)", det_rules_shipped,
	    det_rules_shipped_len, out, d);
}

int
det_rules_load_file(const char *path, struct det_rules **out,
    struct gb_diags *d)
{
	struct det_rules *r;
	struct gb_ydoc *doc;
	size_t errs0 = d->nerrors + d->dropped;

	*out = NULL;
	if (det_rules_default(&r) == -1) {
		gb_diag_add(d, GB_DIAG_ERROR, path, 0, 0, "out of memory");
		return -1;
	}
	if (gb_yaml_load_file(path, NULL, &doc, d) == 0) {
		load_doc(r, doc, d);
		gb_ydoc_free(doc);
	}
	return finish(r, out, d, errs0);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
det_rules_load_dir(const char *dir, struct det_rules **out,
    struct gb_diags *d)
{
	struct det_rules *r;
	struct gb_ydoc *doc;
	struct dirent *de;
	char **names = NULL, **nn, path[4096];
	size_t n = 0, i, len, errs0 = d->nerrors + d->dropped;
	DIR *dp;

	*out = NULL;
	if ((dp = opendir(dir)) == NULL) {
		gb_diag_add(d, GB_DIAG_ERROR, dir, 0, 0, "%s",
		    strerror(errno));
		return -1;
	}
	while ((de = readdir(dp)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 ||
		    strcmp(de->d_name + len - 5, ".yaml") != 0)
			continue;
		if ((nn = realloc(names, (n + 1) * sizeof(*nn))) == NULL ||
		    (nn[n] = strdup(de->d_name)) == NULL) {
			if (nn != NULL)
				names = nn;
			gb_diag_add(d, GB_DIAG_ERROR, dir, 0, 0,
			    "out of memory");
			goto fail;
		}
		names = nn;
		n++;
	}
	closedir(dp);
	dp = NULL;
	if (n == 0) {
		gb_diag_add(d, GB_DIAG_ERROR, dir, 0, 0,
		    "no rules files (*.yaml)");
		goto fail;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	if (det_rules_default(&r) == -1) {
		gb_diag_add(d, GB_DIAG_ERROR, dir, 0, 0, "out of memory");
		goto fail;
	}
	for (i = 0; i < n && !gb_diags_full(d); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (gb_yaml_load_file(path, NULL, &doc, d) == 0) {
			load_doc(r, doc, d);
			gb_ydoc_free(doc);
		}
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return finish(r, out, d, errs0);
fail:
	if (dp != NULL)
		closedir(dp);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return -1;
}

const struct det_type_rule *
det_rules_type(const struct det_rules *r, enum det_type t)
{
	return &r->types[(unsigned)t < DET_T_COUNT ? t : 0];
}

size_t
det_rules_bulk_count(const struct det_rules *r)
{
	return r->nbulk;
}

const struct det_bulk_rule *
det_rules_bulk(const struct det_rules *r, size_t i)
{
	return i < r->nbulk ? &r->bulk[i] : NULL;
}

size_t
det_rules_allow_count(const struct det_rules *r)
{
	return r->nallow;
}

void
det_rules_allow_get(const struct det_rules *r, size_t i, int *type,
    const uint8_t **hash)
{
	*type = r->allow[i].type;
	*hash = r->allow[i].hash;
}

size_t
det_rules_canary_count(const struct det_rules *r)
{
	return r->ncanary;
}

void
det_rules_canary_get(const struct det_rules *r, size_t i, int *type,
    const uint8_t **hash)
{
	*type = r->canary[i].type;
	*hash = r->canary[i].hash;
}

size_t
det_rules_bulk_allow_count(const struct det_rules *r)
{
	return r->nballow;
}

const struct det_bulk_allow *
det_rules_bulk_allow(const struct det_rules *r, size_t i)
{
	return &r->ballow[i];
}

bool
det_rules_allowed(const struct det_rules *r, enum det_type t, const char *v,
    size_t n)
{
	uint8_t h[32];
	size_t i;

	if (r->nallow == 0)
		return false;
	det_allow_hash(t, v, n, h);
	for (i = 0; i < r->nallow; i++)
		if (r->allow[i].type == (int)t &&
		    memcmp(r->allow[i].hash, h, 32) == 0)
			return true;
	return false;
}
