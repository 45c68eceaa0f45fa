// SPDX-License-Identifier: MIT
/*
 * host.c - runs a shared library with the C ABI of Spec/gupconformance.h behind the process
 * protocol of Spec/PROTOCOL.md (JSON lines on stdin/stdout)
 *
 *	gupconformance-host LIBRARY.so
 *
 * The suite starts this program (--impl native:LIBRARY.so); the library runs here, never inside
 * the suite, so a crash in it kills only this process.  On SIGSEGV, SIGBUS, SIGABRT, SIGFPE and
 * SIGILL the host writes {"type":"crash","signal":N,"name":"SIGxxx"} to stdout and dies of the
 * same signal, so the suite names the signal.  A library that cannot be loaded, lacks a symbol or
 * was built for another ABI version is reported as a structured error in reply to hello.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gupconformance.h"

#define PROTOCOL_VERSION 1

/* ---- a small JSON reader -------------------------------------------------------------------- */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jval {
	enum jtype type;
	bool b;
	bool neg;
	uint64_t u;		/* magnitude of an integer */
	char *s;		/* J_STR */
	size_t n;		/* J_ARR / J_OBJ: number of items */
	char **keys;		/* J_OBJ */
	struct jval *items;
};

struct jparser {
	const char *p;
	const char *err;
};

static void jskip(struct jparser *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n')
		j->p++;
}

static bool jparse(struct jparser *j, struct jval *v, int depth);

static char *jstring(struct jparser *j)
{
	size_t cap = 16, len = 0;
	char *s = malloc(cap);

	if (!s || *j->p != '"')
		goto bad;
	j->p++;
	while (*j->p && *j->p != '"') {
		char c = *j->p++;

		if (c == '\\') {
			char e = *j->p++;

			switch (e) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u':
				/* keys and values of the protocol are ASCII; keep a placeholder */
				for (int k = 0; k < 4; k++)
					if (*j->p)
						j->p++;
				c = '?';
				break;
			case '\0': goto bad;
			default: c = e; break;
			}
		}
		if (len + 2 > cap) {
			char *grown = realloc(s, cap *= 2);

			if (!grown)
				goto bad;
			s = grown;
		}
		s[len++] = c;
	}
	if (*j->p != '"')
		goto bad;
	j->p++;
	s[len] = '\0';
	return s;
bad:
	free(s);
	j->err = "bad string";
	return NULL;
}

static bool jparse(struct jparser *j, struct jval *v, int depth)
{
	memset(v, 0, sizeof(*v));
	if (depth > 32) {
		j->err = "nested too deeply";
		return false;
	}
	jskip(j);
	switch (*j->p) {
	case '{':
	case '[': {
		bool obj = *j->p == '{';
		size_t cap = 0;

		v->type = obj ? J_OBJ : J_ARR;
		j->p++;
		jskip(j);
		if (*j->p == (obj ? '}' : ']')) {
			j->p++;
			return true;
		}
		for (;;) {
			char *key = NULL;

			jskip(j);
			if (obj) {
				key = jstring(j);
				if (!key)
					return false;
				jskip(j);
				if (*j->p++ != ':') {
					free(key);
					j->err = "expected ':'";
					return false;
				}
			}
			if (v->n == cap) {
				cap = cap ? cap * 2 : 8;
				v->items = realloc(v->items, cap * sizeof(*v->items));
				if (obj)
					v->keys = realloc(v->keys, cap * sizeof(*v->keys));
				if (!v->items || (obj && !v->keys)) {
					j->err = "out of memory";
					return false;
				}
			}
			if (obj)
				v->keys[v->n] = key;
			if (!jparse(j, &v->items[v->n], depth + 1)) {
				v->n++;
				return false;
			}
			v->n++;
			jskip(j);
			if (*j->p == ',') {
				j->p++;
				continue;
			}
			if (*j->p == (obj ? '}' : ']')) {
				j->p++;
				return true;
			}
			j->err = "expected ',' or a closing bracket";
			return false;
		}
	}
	case '"':
		v->type = J_STR;
		v->s = jstring(j);
		return v->s != NULL;
	case 't':
		if (strncmp(j->p, "true", 4))
			break;
		j->p += 4;
		v->type = J_BOOL;
		v->b = true;
		return true;
	case 'f':
		if (strncmp(j->p, "false", 5))
			break;
		j->p += 5;
		v->type = J_BOOL;
		return true;
	case 'n':
		if (strncmp(j->p, "null", 4))
			break;
		j->p += 4;
		return true;
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) {
			char *end;

			v->type = J_NUM;
			v->neg = *j->p == '-';
			errno = 0;
			v->u = strtoull(j->p + v->neg, &end, 10);
			if (errno || end == j->p + v->neg) {
				j->err = "bad number";
				return false;
			}
			j->p = end;
			if (*j->p == '.' || *j->p == 'e' || *j->p == 'E') {
				j->err = "not an integer";
				return false;
			}
			return true;
		}
	}
	j->err = "unexpected character";
	return false;
}

static void jfree(struct jval *v)
{
	for (size_t i = 0; i < v->n; i++) {
		jfree(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->s);
}

static const struct jval *jget(const struct jval *o, const char *key)
{
	if (!o || o->type != J_OBJ)
		return NULL;
	for (size_t i = 0; i < o->n; i++)
		if (!strcmp(o->keys[i], key))
			return &o->items[i];
	return NULL;
}

static const char *jstr(const struct jval *o, const char *key)
{
	const struct jval *v = jget(o, key);

	return v && v->type == J_STR ? v->s : NULL;
}

static int64_t jint(const struct jval *o, const char *key, int64_t dflt)
{
	const struct jval *v = jget(o, key);

	if (!v || v->type != J_NUM)
		return dflt;
	return v->neg ? -(int64_t)v->u : (int64_t)v->u;
}

static uint64_t juint(const struct jval *o, const char *key)
{
	const struct jval *v = jget(o, key);

	return v && v->type == J_NUM && !v->neg ? v->u : 0;
}

static bool jbool(const struct jval *o, const char *key)
{
	const struct jval *v = jget(o, key);

	return v && v->type == J_BOOL && v->b;
}

/* ---- output --------------------------------------------------------------------------------- */

static char *out;
static size_t out_len, out_cap;

static void emit(const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = out_cap - out_len;

		va_start(ap, fmt);
		n = vsnprintf(out + out_len, room, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < room) {
			out_len += (size_t)n;
			return;
		}
		out_cap = out_cap ? out_cap * 2 + (size_t)n : 65536;
		out = realloc(out, out_cap);
		if (!out)
			abort();
	}
}

static void emit_str(const char *s)
{
	emit("\"");
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			emit("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			emit("\\u%04x", *s);
		else
			emit("%c", *s);
	}
	emit("\"");
}

static void flush_line(void)
{
	size_t done = 0;

	emit("\n");
	while (done < out_len) {
		ssize_t n = write(STDOUT_FILENO, out + done, out_len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			exit(1);
		}
		done += (size_t)n;
	}
	out_len = 0;
}

static void reply_error(const char *code, const char *message, const char *fix)
{
	emit("{\"type\":\"error\",\"code\":");
	emit_str(code);
	emit(",\"message\":");
	emit_str(message);
	if (fix) {
		emit(",\"fix\":");
		emit_str(fix);
	}
	emit("}");
	flush_line();
}

/* ---- crash reporting ------------------------------------------------------------------------ */

static void on_crash(int sig)
{
	char line[96];
	const char *name = sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : sig == SIGABRT ? "SIGABRT" :
			   sig == SIGFPE ? "SIGFPE" : sig == SIGILL ? "SIGILL" : "signal";
	int n = snprintf(line, sizeof(line), "\n{\"type\":\"crash\",\"signal\":%d,\"name\":\"%s\"}\n", sig, name);

	if (n > 0 && write(STDOUT_FILENO, line, (size_t)n) < 0)
		_exit(128 + sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ---- the library ---------------------------------------------------------------------------- */

static struct {
	uint32_t (*abi_version)(void);
	const char *(*name)(void);
	int (*manifest)(unsigned int, struct gupc_manifest *);
	struct gupc_instance *(*create)(const char *);
	int (*execute)(struct gupc_instance *, const struct gupc_command *, struct gupc_observation *);
	const char *(*error)(struct gupc_instance *);
	void (*destroy)(struct gupc_instance *);
} lib;

static char load_error[1024];
static const char *load_code;
static const char *load_fix;

static void load(const char *path)
{
	static const char *const names[] = { "gupc_abi_version", "gupc_name", "gupc_manifest", "gupc_create",
					     "gupc_execute", "gupc_error", "gupc_destroy" };
	void **slots[] = { (void **)&lib.abi_version, (void **)&lib.name, (void **)&lib.manifest,
			   (void **)&lib.create, (void **)&lib.execute, (void **)&lib.error, (void **)&lib.destroy };
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		load_code = "library_load_failed";
		snprintf(load_error, sizeof(load_error), "cannot load %s: %s", path, dlerror());
		load_fix = "pass a shared library built for this machine (gcc -shared -fPIC -I Spec -o libmy.so my.c)";
		return;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		*slots[i] = dlsym(h, names[i]);
		if (!*slots[i]) {
			load_code = "missing_symbol";
			snprintf(load_error, sizeof(load_error), "%s does not export %s", path, names[i]);
			load_fix = "export every function declared in Spec/gupconformance.h (gupc_abi_version, gupc_name, gupc_manifest, gupc_create, gupc_execute, gupc_error, gupc_destroy)";
			return;
		}
	}
	if (lib.abi_version() != GUPC_ABI_VERSION) {
		load_code = "abi_mismatch";
		snprintf(load_error, sizeof(load_error), "%s implements C ABI version %u, the host speaks version %u",
			 path, lib.abi_version(), GUPC_ABI_VERSION);
		load_fix = "rebuild the library against the Spec/gupconformance.h of this suite";
	}
}

static const char *const facet_names[] = { "core", "large_folios", "zero_page", "iov_iter", "bio", "frame_vector", "netfs" };

static void hello(const struct jval *msg)
{
	const struct jval *accepts = jget(msg, "accepts");
	bool ok = false;

	if (accepts && accepts->type == J_ARR) {
		for (size_t i = 0; i < accepts->n; i++)
			ok |= accepts->items[i].type == J_NUM && accepts->items[i].u == PROTOCOL_VERSION;
	} else {
		ok = jint(msg, "protocol", 0) == PROTOCOL_VERSION;
	}
	if (!ok) {
		emit("{\"type\":\"error\",\"code\":\"version_mismatch\",\"protocol\":%d,\"message\":\"the native host speaks protocol %d\"}",
		     PROTOCOL_VERSION, PROTOCOL_VERSION);
		flush_line();
		exit(2);
	}
	if (load_code) {
		reply_error(load_code, load_error, load_fix);
		exit(2);
	}
	emit("{\"type\":\"hello\",\"protocol\":%d,\"implementation\":", PROTOCOL_VERSION);
	emit_str(lib.name());
	emit(",\"manifests\":[");
	for (unsigned int i = 0;; i++) {
		struct gupc_manifest m;
		bool first = true;

		if (lib.manifest(i, &m))
			break;
		emit("%s{\"profile\":", i ? "," : "");
		emit_str(m.profile);
		emit(",\"facets\":[");
		for (unsigned int f = 0; f < sizeof(facet_names) / sizeof(facet_names[0]); f++) {
			if (m.facets & (1u << f)) {
				emit("%s\"%s\"", first ? "" : ",", facet_names[f]);
				first = false;
			}
		}
		emit("]}");
	}
	emit("]}");
	flush_line();
}

static int lookup(const char *s, const char *const *names, int n)
{
	for (int i = 0; s && i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

#define LOOKUP(s, names) lookup(s, names, (int)(sizeof(names) / sizeof(names[0])))

static const char *const ops[] = { "map", "gup", "release", "folio_add_pin", "iter_init", "iter_extract",
				   "iter_retention", "bio_add", "bio_release", "fv_create", "fv_get", "fv_put",
				   "netfs_extract", "netfs_free", "inspect_folio", "read_vmstat" };
static const char *const kinds[] = { "anon", "zero", "file", "io", "pfnmap" };
static const char *const entries[] = { "get_user_pages", "get_user_pages_remote", "get_user_pages_unlocked",
				       "get_user_pages_fast", "get_user_pages_fast_only", "pin_user_pages",
				       "pin_user_pages_remote", "pin_user_pages_unlocked", "pin_user_pages_fast",
				       "pin_user_pages_fast_only" };
static const char *const fns[] = { "put_page", "unpin_user_page", "unpin_user_pages", "unpin_user_pages_dirty_lock",
				   "unpin_user_page_range_dirty_lock" };
static const char *const iter_kinds[] = { "ubuf", "iovec", "kvec", "bvec", "xarray", "discard" };
static const char *const dirs[] = { "source", "dest" };
static const char *const foll[] = { "FOLL_WRITE", "FOLL_TOUCH", "FOLL_GET", "FOLL_DUMP", "FOLL_FORCE", "FOLL_NOWAIT",
				    "FOLL_NOFAULT", "FOLL_HWPOISON", "FOLL_ANON", "FOLL_LONGTERM", "FOLL_SPLIT_PMD",
				    "FOLL_PCI_P2PDMA", "FOLL_INTERRUPTIBLE", "FOLL_HONOR_NUMA_FAULT", "FOLL_TRIED",
				    "FOLL_REMOTE", "FOLL_PIN", "FOLL_FAST_ONLY", "FOLL_UNLOCKABLE", "FOLL_MADV_POPULATE" };

/* Decodes one command; NULL on success, else why not (segs are malloc'ed into *segs). */
static const char *decode(const struct jval *c, struct gupc_command *cmd, struct gupc_iter_seg **segs)
{
	int op = LOOKUP(jstr(c, "op"), ops);

	memset(cmd, 0, sizeof(*cmd));
	if (op < 0)
		return "unknown op";
	cmd->op = (enum gupc_op)op;
	switch (cmd->op) {
	case GUPC_OP_MAP: {
		int k = LOOKUP(jstr(c, "kind"), kinds);

		if (k < 0)
			return "unknown region kind";
		cmd->u.map = (struct gupc_map){ (int32_t)jint(c, "region", 0), (enum gupc_region_kind)k, juint(c, "start"),
						(int32_t)jint(c, "folios", 0), (int32_t)jint(c, "order", 0),
						(int32_t)jint(c, "start_refcount", 1) };
		break;
	}
	case GUPC_OP_GUP: {
		int e = LOOKUP(jstr(c, "entry"), entries);
		const struct jval *fl = jget(c, "flags");
		uint64_t flags = 0;

		if (e < 0)
			return "unknown entry point";
		for (size_t i = 0; fl && fl->type == J_ARR && i < fl->n; i++) {
			int b = LOOKUP(fl->items[i].s, foll);

			if (b < 0)
				return "unknown flag";
			flags |= 1ULL << b;
		}
		cmd->u.gup = (struct gupc_gup){ (int32_t)jint(c, "call", 0), (enum gupc_entry)e, juint(c, "start"),
						jint(c, "nr_pages", 0), flags, juint(c, "gup_flags"), jbool(c, "with_pages") };
		break;
	}
	case GUPC_OP_RELEASE: {
		int f = LOOKUP(jstr(c, "fn"), fns);

		if (f < 0)
			return "unknown release function";
		cmd->u.release = (struct gupc_release){ (int32_t)jint(c, "call", 0), (enum gupc_release_fn)f,
							(int32_t)jint(c, "index", 0), (int32_t)jint(c, "count", 0),
							jbool(c, "make_dirty") };
		break;
	}
	case GUPC_OP_FOLIO_ADD_PIN:
		cmd->u.folio_add_pin = (struct gupc_folio_add_pin){ (int32_t)jint(c, "new_call", 0),
								    (int32_t)jint(c, "from_call", 0), (int32_t)jint(c, "index", 0) };
		break;
	case GUPC_OP_ITER_INIT: {
		const struct jval *s = jget(c, "segs");
		int k = LOOKUP(jstr(c, "kind"), iter_kinds), d = LOOKUP(jstr(c, "dir"), dirs);
		size_t n = s && s->type == J_ARR ? s->n : 0;

		if (k < 0 || d < 0)
			return "unknown iterator kind or direction";
		*segs = calloc(n ? n : 1, sizeof(**segs));
		if (!*segs)
			return "out of memory";
		for (size_t i = 0; i < n; i++)
			(*segs)[i] = (struct gupc_iter_seg){ juint(&s->items[i], "addr"), jint(&s->items[i], "len", 0) };
		cmd->u.iter_init = (struct gupc_iter_init){ (int32_t)jint(c, "iter", 0), (enum gupc_iter_kind)k,
							    (enum gupc_iter_dir)d, n, *segs };
		break;
	}
	case GUPC_OP_ITER_EXTRACT:
		cmd->u.iter_extract = (struct gupc_iter_extract){ (int32_t)jint(c, "call", 0), (int32_t)jint(c, "iter", 0),
								  jint(c, "max_size", 0), (int32_t)jint(c, "max_pages", 0) };
		break;
	case GUPC_OP_ITER_RETENTION:
		cmd->u.iter_retention.iter = (int32_t)jint(c, "iter", 0);
		break;
	case GUPC_OP_BIO_ADD:
		cmd->u.bio_add = (struct gupc_bio_add){ (int32_t)jint(c, "bio", 0), (int32_t)jint(c, "iter", 0),
							(int32_t)jint(c, "max_vecs", 0) };
		break;
	case GUPC_OP_BIO_RELEASE:
		cmd->u.bio_release = (struct gupc_bio_release){ (int32_t)jint(c, "bio", 0), jbool(c, "mark_dirty") };
		break;
	case GUPC_OP_FV_CREATE:
		cmd->u.fv_create = (struct gupc_fv_create){ (int32_t)jint(c, "fv", 0), (int32_t)jint(c, "nr_allocated", 0) };
		break;
	case GUPC_OP_FV_GET:
		cmd->u.fv_get = (struct gupc_fv_get){ (int32_t)jint(c, "fv", 0), juint(c, "start"),
						      (int32_t)jint(c, "nr_frames", 0), jbool(c, "write") };
		break;
	case GUPC_OP_FV_PUT:
		cmd->u.fv_put.fv = (int32_t)jint(c, "fv", 0);
		break;
	case GUPC_OP_NETFS_EXTRACT:
		cmd->u.netfs_extract = (struct gupc_netfs_extract){ (int32_t)jint(c, "netfs", 0), (int32_t)jint(c, "iter", 0),
								    jint(c, "max_size", 0) };
		break;
	case GUPC_OP_NETFS_FREE:
		cmd->u.netfs_free.netfs = (int32_t)jint(c, "netfs", 0);
		break;
	case GUPC_OP_INSPECT_FOLIO:
		cmd->u.inspect_folio.folio = jstr(c, "folio");
		if (!cmd->u.inspect_folio.folio)
			return "inspect_folio without a folio";
		break;
	case GUPC_OP_READ_VMSTAT:
		break;
	}
	return NULL;
}

static void emit_observation(const struct gupc_observation *o)
{
	const char *sep = "";

#define FIELD(bit, fmt, ...) do { if (o->present & (bit)) { emit("%s" fmt, sep, __VA_ARGS__); sep = ","; } } while (0)
	emit("{");
	FIELD(GUPC_OBS_RESULT, "\"result\":%" PRId64, o->result);
	if (o->present & GUPC_OBS_PAGES) {
		emit("%s\"pages\":[", sep);
		for (size_t i = 0; i < o->nr_runs; i++) {
			emit("%s{\"folio\":", i ? "," : "");
			emit_str(o->pages[i].folio);
			emit(",\"first\":%" PRId64 ",\"count\":%" PRId64 "}", o->pages[i].first, o->pages[i].count);
		}
		emit("]");
		sep = ",";
	}
	FIELD(GUPC_OBS_OFFSET0, "\"offset0\":%" PRId64, o->offset0);
	FIELD(GUPC_OBS_ITER_COUNT, "\"iter_count\":%" PRId64, o->iter_count);
	FIELD(GUPC_OBS_REFCOUNT, "\"refcount\":%" PRId64, o->refcount);
	FIELD(GUPC_OBS_PINCOUNT, "\"pincount\":%" PRId64, o->pincount);
	FIELD(GUPC_OBS_MAYBE_DMA_PINNED, "\"maybe_dma_pinned\":%s", o->maybe_dma_pinned ? "true" : "false");
	FIELD(GUPC_OBS_DIRTY, "\"dirty\":%s", o->dirty ? "true" : "false");
	FIELD(GUPC_OBS_ACQUIRED, "\"acquired\":%" PRId64, o->acquired);
	FIELD(GUPC_OBS_RELEASED, "\"released\":%" PRId64, o->released);
	FIELD(GUPC_OBS_WILL_PIN, "\"will_pin\":%s", o->will_pin ? "true" : "false");
	FIELD(GUPC_OBS_EXTRACT_MODE, "\"extract_mode\":%" PRId64, o->extract_mode);
	if (o->present & GUPC_OBS_BIO_FLAGS) {
		emit("%s\"bio_flags\":[", sep);
		for (size_t i = 0; i < o->nr_bio_flags; i++) {
			emit(i ? "," : "");
			emit_str(o->bio_flags[i]);
		}
		emit("]");
		sep = ",";
	}
	FIELD(GUPC_OBS_BIO_PAGES, "\"bio_pages\":%" PRId64, o->bio_pages);
	FIELD(GUPC_OBS_GOT_REF, "\"got_ref\":%s", o->got_ref ? "true" : "false");
	FIELD(GUPC_OBS_IS_PFNS, "\"is_pfns\":%s", o->is_pfns ? "true" : "false");
	FIELD(GUPC_OBS_NR_FRAMES, "\"nr_frames\":%" PRId64, o->nr_frames);
	emit("}");
#undef FIELD
}

static void batch(struct gupc_instance *inst, const struct jval *msg)
{
	const struct jval *cmds = jget(msg, "commands");

	if (!inst) {
		reply_error("no_run", "a batch arrived before begin", NULL);
		return;
	}
	emit("{\"type\":\"observations\",\"seq\":%" PRId64 ",\"observations\":[", jint(msg, "seq", 0));
	for (size_t i = 0; cmds && cmds->type == J_ARR && i < cmds->n; i++) {
		struct gupc_command cmd;
		struct gupc_observation obs;
		struct gupc_iter_seg *segs = NULL;
		const char *why = decode(&cmds->items[i], &cmd, &segs);
		int ret;

		if (i)
			emit(",");
		if (why) {
			emit("{\"error\":{\"code\":\"%s\",\"message\":", !strcmp(why, "unknown op") ? "unknown_command" : "bad_command");
			emit_str(why);
			emit("}}");
			free(segs);
			continue;
		}
		memset(&obs, 0, sizeof(obs));
		ret = lib.execute(inst, &cmd, &obs);
		free(segs);
		if (ret) {
			emit("{\"error\":{\"code\":\"%s\",\"message\":",
			     ret == GUPC_ERR_UNKNOWN_COMMAND ? "unknown_command" : ret == GUPC_ERR_BAD_COMMAND ? "bad_command" : "internal");
			emit_str(lib.error(inst));
			emit("}}");
			continue;
		}
		emit_observation(&obs);
	}
	emit("]}");
	flush_line();
}

int main(int argc, char **argv)
{
	static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };
	struct gupc_instance *inst = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (argc != 2) {
		fprintf(stderr, "usage: %s LIBRARY.so\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(crash_signals) / sizeof(crash_signals[0]); i++)
		signal(crash_signals[i], on_crash);
	load(argv[1]);

	while ((len = getline(&line, &cap, stdin)) > 0) {
		struct jparser j = { line, NULL };
		struct jval msg;
		const char *type;

		if (len == 1)
			continue;
		if (!jparse(&j, &msg, 0)) {
			reply_error("malformed_request", j.err, NULL);
			jfree(&msg);
			continue;
		}
		type = jstr(&msg, "type");
		if (!type) {
			reply_error("malformed_request", "no type", NULL);
		} else if (!strcmp(type, "hello")) {
			hello(&msg);
		} else if (!strcmp(type, "begin")) {
			const char *profile = jstr(&msg, "profile");

			if (inst)
				lib.destroy(inst);
			inst = profile ? lib.create(profile) : NULL;
			if (!inst) {
				reply_error("unknown_profile", profile ? profile : "no profile", NULL);
			} else {
				emit("{\"type\":\"ready\",\"run\":%" PRId64 "}", jint(&msg, "run", 0));
				flush_line();
			}
		} else if (!strcmp(type, "batch")) {
			batch(inst, &msg);
		} else if (!strcmp(type, "end")) {
			if (inst)
				lib.destroy(inst);
			inst = NULL;
			emit("{\"type\":\"ended\",\"run\":%" PRId64 "}", jint(&msg, "run", 0));
			flush_line();
		} else if (!strcmp(type, "shutdown")) {
			jfree(&msg);
			break;
		} else {
			reply_error("unknown_request", type, NULL);
		}
		jfree(&msg);
	}
	if (inst)
		lib.destroy(inst);
	free(line);
	free(out);
	return 0;
}
