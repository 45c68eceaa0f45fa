/*
 * The GupConformance guest server: runs as the only program of the test VM's initramfs, speaks the JSON-lines
 * process protocol (Spec/PROTOCOL.md) on a serial port, maps the contract's regions into its own address space
 * and turns every command into an ioctl of the in-kernel adapter /dev/gupc (Fixtures/Kernel/adapter/). After
 * every command it reads the kernel log: a WARN the contract does not anticipate, a BUG, an oops or a bad page
 * turns that command's observation into a structured error, so the engine reports it as a named Fail with the
 * command prefix that led to it.
 *
 * Built static by Fixtures/Kernel/build-kernel.sh: gcc -static -O2 -I adapter guest/gupc_server.c guest/json.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <termios.h>
#include <unistd.h>

#include "gupc_uapi.h"
#include "json.h"

#define PROTOCOL 1
#define PAGE 4096UL
#define MAX_REGIONS 4096

#define F_CORE (1u << 0)
#define F_LARGE (1u << 1)
#define F_ZERO (1u << 2)
#define F_IOV (1u << 3)
#define F_BIO (1u << 4)
#define F_FV (1u << 5)
#define F_NETFS (1u << 6)
#define F_RELEASE_ARGS (1u << 7)
#define F_PRE_IOV (F_CORE | F_LARGE | F_ZERO | F_BIO | F_FV)
#define F_ALL (F_PRE_IOV | F_IOV | F_NETFS | F_RELEASE_ARGS)

static const char *const facet_names[] = { "core", "large_folios", "zero_page", "iov_iter", "bio", "frame_vector", "netfs",
					    "release_arguments" };

/* The profiles a kernel can claim, with the facets each profile has (Spec/Profiles.cs). */
static const struct { const char *id; unsigned int facets; } known_profiles[] = {
	{ "linux-5.19", F_PRE_IOV | F_RELEASE_ARGS }, { "linux-6.1.y", F_PRE_IOV | F_RELEASE_ARGS },
	{ "linux-6.2", F_PRE_IOV | F_RELEASE_ARGS },
	{ "linux-6.5", F_ALL }, { "linux-6.8", F_ALL }, { "linux-6.12.118", F_ALL }, { "linux-6.15", F_ALL },
	{ "linux-6.18", F_ALL },
};

/* The profile that stands for a kernel version when the host names none (gupc.profiles= on the command line). */
static const char *default_profile(unsigned int major, unsigned int minor)
{
	unsigned int v = major * 100 + minor;

	if (v == 601)
		return "linux-6.1.y";
	if (v == 612)
		return "linux-6.12.118";
	if (v >= 519 && v < 602)
		return "linux-5.19";
	if (v == 602)
		return "linux-6.2";
	if (v >= 603 && v < 608)
		return "linux-6.5";
	if (v >= 608 && v < 615)
		return "linux-6.8";
	if (v >= 615)
		return "linux-6.18";
	return NULL;
}

/*
 * WARNs the contract anticipates: the kernel's own reaction to a command the contract defines as refused or
 * clamped. Each is named by the function the WARN is in; any other WARN fails the command.
 */
static const char *const anticipated_warns[] = {
	/* Argument validation of the entry points (API-* rules): is_valid_gup_args() from v6.3, the per-entry
	 * WARN_ON_ONCE()s and is_valid_gup_flags() before it, the fast entry points' flag mask. */
	"is_valid_gup_args", "is_valid_gup_flags", "get_user_pages", "get_user_pages_remote", "__get_user_pages_remote",
	"get_user_pages_unlocked", "get_user_pages_fast", "get_user_pages_fast_only", "pin_user_pages",
	"pin_user_pages_remote", "pin_user_pages_unlocked", "pin_user_pages_fast", "pin_user_pages_fast_only",
	"internal_get_user_pages_fast", "gup_fast_fallback", "__gup_longterm_locked",
	/* The refcount sign checks before a grab (OVF-SIGN-CHECK). */
	"try_grab_page", "try_grab_folio", "try_get_folio", "try_grab_folio_fast",
	/* folio_add_pin() on a folio that shows no pin: the contract allows it only after a misuse release
	 * (REL-MISUSE-*) dropped the pins of a folio an array still holds as pinned; the result is still checked. */
	"folio_add_pin",
	/* get_vaddr_frames() clamping nr_frames to nr_allocated (FV-CLAMP). */
	"get_vaddr_frames",
	/* netfs_extract_user_iter() refusing a kernel-backed iterator (NETFS-REJECTS-KERNEL). */
	"netfs_extract_user_iter",
	/* unpin_user_pages() given an error value as its count (REL-UNPIN-ERRNO-COUNT): WARN_ON(IS_ERR_VALUE(npages)). */
	"unpin_user_pages",
};

struct region {
	uint32_t id;
	uint32_t kind;
	uint64_t start;
	uint64_t len;
	int fd;
	char path[64];
};

static int tty = -1, dev = -1, kmsg = -1;
static struct gupc_info info;
static char kernel_release[65];
static struct region regions[MAX_REGIONS];
static int nregions;
static bool in_run;
static unsigned long tolerated_warns;

static void logf_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "gupc-server: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

static void send_line(struct jout *o)
{
	size_t off = 0;

	jout_raw(o, "\n");
	while (off < o->len) {
		ssize_t n = write(tty, o->buf + off, o->len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			logf_("write to the protocol port failed: %s", strerror(errno));
			exit(3);
		}
		off += (size_t)n;
	}
	o->len = 0;
}

/* ---- the kernel log ------------------------------------------------------------------------------------ */

/* The function a "WARNING: CPU: 0 PID: 1 at mm/gup.c:123 func+0x12/0x34" line names. */
static void warn_function(const char *line, char *out, size_t cap)
{
	const char *at = strstr(line, " at ");
	const char *sp, *end;
	size_t n;

	out[0] = '\0';
	if (!at)
		return;
	sp = strchr(at + 4, ' ');
	if (!sp)
		return;
	sp++;
	end = sp;
	while (*end && *end != '+' && *end != ' ' && *end != '\n')
		end++;
	n = (size_t)(end - sp);
	if (n >= cap)
		n = cap - 1;
	memcpy(out, sp, n);
	out[n] = '\0';
}

static bool anticipated(const char *fn)
{
	size_t i;

	for (i = 0; i < sizeof(anticipated_warns) / sizeof(anticipated_warns[0]); i++)
		if (strcmp(fn, anticipated_warns[i]) == 0)
			return true;
	return false;
}

static bool is_problem(const char *text)
{
	static const char *const marks[] = {
		"BUG:", "kernel BUG at", "Oops", "Kernel panic", "general protection fault", "Bad page",
		"list_del corruption", "list_add corruption", "refcount_t:", "Unable to handle",
	};
	size_t i;

	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strstr(text, marks[i]))
			return true;
	return false;
}

/*
 * Reads every new kernel log record. Returns true, with a one-line description in `problem`, if one of them is a
 * WARN the contract does not anticipate or any sign of a kernel bug.
 */
static bool check_kmsg(char *problem, size_t cap)
{
	char rec[2048];
	bool found = false, collecting = false;
	int trace_lines = 0;

	problem[0] = '\0';
	if (kmsg < 0)
		return false;
	for (;;) {
		ssize_t n = read(kmsg, rec, sizeof(rec) - 1);
		char *text, *nl;

		if (n < 0) {
			if (errno == EPIPE)
				continue; /* records were overwritten before we read them */
			break;
		}
		rec[n] = '\0';
		text = strchr(rec, ';');
		text = text ? text + 1 : rec;
		nl = strchr(text, '\n');
		if (nl)
			*nl = '\0';
		if (strncmp(text, "WARNING:", 8) == 0) {
			char fn[128];

			warn_function(text, fn, sizeof(fn));
			if (anticipated(fn)) {
				tolerated_warns++;
				continue;
			}
			if (!found) {
				snprintf(problem, cap, "kernel %.1024s", text);
				found = collecting = true;
			}
			continue;
		}
		if (is_problem(text) && !found) {
			snprintf(problem, cap, "kernel %.1024s", text);
			found = collecting = true;
			continue;
		}
		/* A few lines of the report's context: where it happened and the first callers. */
		if (collecting && trace_lines < 6 && (strncmp(text, "RIP:", 4) == 0 || strncmp(text, " ", 1) == 0)) {
			size_t len = strlen(problem);

			snprintf(problem + len, cap - len, " | %s", text[0] == ' ' ? text + 1 : text);
			trace_lines++;
		}
	}
	return found;
}

/* ---- regions ------------------------------------------------------------------------------------------ */

static void touch_pages(uint64_t start, uint64_t len, bool write)
{
	volatile char *p = (volatile char *)(uintptr_t)start;
	uint64_t off;

	for (off = 0; off < len; off += PAGE) {
		if (write)
			p[off] = 1;
		else
			(void)p[off];
	}
}

static void drop_regions(void)
{
	int i;

	if (dev >= 0)
		ioctl(dev, GUPC_IOC_PREPARE_END);
	for (i = 0; i < nregions; i++) {
		munmap((void *)(uintptr_t)regions[i].start, regions[i].len);
		if (regions[i].fd >= 0) {
			close(regions[i].fd);
			unlink(regions[i].path);
		}
	}
	nregions = 0;
	if (dev >= 0)
		ioctl(dev, GUPC_IOC_END);
}

/* ---- commands ----------------------------------------------------------------------------------------- */

struct cmd_error {
	const char *code;
	char message[1536];
};

static bool fail(struct cmd_error *e, const char *code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return false;
}

static bool get_u64(const struct jval *c, const char *key, uint64_t *v, struct cmd_error *e)
{
	if (!json_u64(json_get(c, key), v))
		return fail(e, "bad_command", "field '%s' is missing or not a non-negative integer", key);
	return true;
}

static bool get_i64(const struct jval *c, const char *key, int64_t *v, struct cmd_error *e)
{
	if (!json_i64(json_get(c, key), v))
		return fail(e, "bad_command", "field '%s' is missing or not an integer", key);
	return true;
}

static bool get_bool(const struct jval *c, const char *key, bool *v, struct cmd_error *e)
{
	const struct jval *j = json_get(c, key);

	if (!j || j->kind != J_BOOL)
		return fail(e, "bad_command", "field '%s' is missing or not a boolean", key);
	*v = j->b;
	return true;
}

static const char *get_str(const struct jval *c, const char *key)
{
	const struct jval *j = json_get(c, key);

	return j && j->kind == J_STR ? j->s : NULL;
}

static int lookup(const char *s, const char *const *names, int n)
{
	int i;

	for (i = 0; s && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

static bool ioctl_ok(unsigned long req, void *arg, const char *what, struct cmd_error *e)
{
	if (ioctl(dev, req, arg) == 0)
		return true;
	if (errno == ENOTTY)
		return fail(e, "unknown_command", "this kernel's adapter cannot do %s", what);
	return fail(e, "adapter_error", "the adapter could not execute %s: %s", what, strerror(errno));
}

/* Writes a pages array as canonical runs (consecutive pages of one folio merged). */
static bool write_pages(struct jout *o, bool *first, const struct gupc_page *p, uint64_t n, struct cmd_error *e)
{
	uint64_t i = 0;
	bool firstrun = true;
	char key[48];

	jout_key(o, first, "pages");
	jout_raw(o, "[");
	while (i < n) {
		uint64_t run = 1;
		bool f = true;

		if (p[i].region == GUPC_UNKNOWN_REGION)
			return fail(e, "unexpected_page", "entry %llu is not the page the contract maps at its address",
				    (unsigned long long)i);
		while (i + run < n && p[i + run].region == p[i].region && p[i + run].folio == p[i].folio &&
		       p[i + run].index == p[i].index + run && p[i].region != GUPC_ZERO_REGION)
			run++;
		if (p[i].region == GUPC_ZERO_REGION)
			snprintf(key, sizeof(key), "zero");
		else
			snprintf(key, sizeof(key), "r%u.f%u", p[i].region, p[i].folio);
		if (!firstrun)
			jout_raw(o, ",");
		firstrun = false;
		jout_raw(o, "{");
		jout_key(o, &f, "folio");
		jout_str(o, key);
		jout_key(o, &f, "first");
		jout_u64(o, p[i].index);
		jout_key(o, &f, "count");
		jout_u64(o, run);
		jout_raw(o, "}");
		i += run;
	}
	jout_raw(o, "]");
	return true;
}

static bool do_map(const struct jval *c, struct jout *o, bool *first, struct cmd_error *e)
{
	static const char *const kinds[] = { "anon", "zero", "file", "io", "pfnmap" };
	uint64_t region, start, folios, order;
	int64_t refcount;
	struct gupc_map m;
	struct region *r;
	int kind = lookup(get_str(c, "kind"), kinds, 5);
	void *p;

	(void)o;
	(void)first;
	if (!get_u64(c, "region", &region, e) || !get_u64(c, "start", &start, e) || !get_u64(c, "folios", &folios, e) ||
	    !get_u64(c, "order", &order, e) || !get_i64(c, "start_refcount", &refcount, e))
		return false;
	if (kind < 0)
		return fail(e, "bad_command", "unknown region kind");
	if (order > info.max_order)
		return fail(e, "bad_command", "order %llu is above the largest this adapter maps (%u)",
			    (unsigned long long)order, info.max_order);
	if (nregions >= MAX_REGIONS || region > UINT32_MAX || folios == 0 || folios > (1u << 20) ||
	    refcount < 1 || refcount > INT32_MAX)
		return fail(e, "bad_command", "region arguments out of range");
	memset(&m, 0, sizeof(m));
	m.region = (uint32_t)region;
	m.kind = (uint32_t)kind;
	m.start = start;
	m.folios = (uint32_t)folios;
	m.order = (uint32_t)order;
	m.start_refcount = (int32_t)refcount;
	r = &regions[nregions];
	memset(r, 0, sizeof(*r));
	r->id = m.region;
	r->kind = m.kind;
	r->start = start;
	r->len = (folios << order) * PAGE;
	r->fd = -1;

	switch (kind) {
	case GUPC_ANON:
	case GUPC_IO:
	case GUPC_PFNMAP:
		if (!ioctl_ok(GUPC_IOC_MAP, &m, "map", e))
			return false;
		p = mmap((void *)(uintptr_t)start, r->len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, dev,
			 (off_t)((uint64_t)m.region << GUPC_MMAP_SHIFT));
		if (p == MAP_FAILED) {
			int err = errno;

			ioctl(dev, GUPC_IOC_MAP_DONE, &m);
			nregions++; /* so the next end frees the adapter's memory */
			r->len = 0;
			return fail(e, "map_failed", "mmap of region %u at 0x%llx failed: %s", m.region,
				    (unsigned long long)start, strerror(err));
		}
		/* Written once, as a program writes its buffer: the PTEs are dirty, so FOLL_TOUCH does not dirty the
		 * folio on a FOLL_WRITE lookup (the contract's anon folios start clean and mapped writable). */
		if (kind == GUPC_ANON)
			touch_pages(start, r->len, true);
		break;
	case GUPC_ZERO:
		p = mmap((void *)(uintptr_t)start, r->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED)
			return fail(e, "map_failed", "mmap of zero region at 0x%llx failed: %s", (unsigned long long)start,
				    strerror(errno));
		madvise(p, r->len, MADV_NOHUGEPAGE);
		/* Read faults map the shared zero page at every page. */
		touch_pages(start, r->len, false);
		if (!ioctl_ok(GUPC_IOC_MAP, &m, "map", e)) {
			munmap(p, r->len);
			return false;
		}
		break;
	case GUPC_FILE:
		snprintf(r->path, sizeof(r->path), "/mnt/gupc-r%u", m.region);
		r->fd = open(r->path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (r->fd < 0 || ftruncate(r->fd, (off_t)r->len) != 0)
			return fail(e, "map_failed", "cannot create %s: %s", r->path, strerror(errno));
		p = mmap((void *)(uintptr_t)start, r->len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE,
			 r->fd, 0);
		if (p == MAP_FAILED) {
			close(r->fd);
			unlink(r->path);
			return fail(e, "map_failed", "mmap of %s failed: %s", r->path, strerror(errno));
		}
		/* Read faults: page-cache pages, mapped read-only until written (the mapping tracks dirtying); the
		 * allocator is armed first so that they are not physically adjacent (CONTRACT §1). */
		ioctl(dev, GUPC_IOC_ARM);
		touch_pages(start, r->len, false);
		if (!ioctl_ok(GUPC_IOC_MAP, &m, "map", e)) {
			munmap(p, r->len);
			close(r->fd);
			unlink(r->path);
			return false;
		}
		break;
	}
	nregions++;
	return ioctl_ok(GUPC_IOC_MAP_DONE, &m, "map (finding its pages)", e);
}

static const char *const entries[] = {
	"get_user_pages", "get_user_pages_remote", "get_user_pages_unlocked", "get_user_pages_fast",
	"get_user_pages_fast_only", "pin_user_pages", "pin_user_pages_remote", "pin_user_pages_unlocked",
	"pin_user_pages_fast", "pin_user_pages_fast_only",
};

static bool do_gup(const struct jval *c, struct jout *o, bool *first, struct cmd_error *e)
{
	uint64_t call, start, flags;
	int64_t nr;
	bool with_pages = false;
	struct gupc_gup g;
	struct gupc_page *pages = NULL;
	int entry = lookup(get_str(c, "entry"), entries, 10);
	bool ok;

	if (!get_u64(c, "call", &call, e) || !get_u64(c, "start", &start, e) || !get_i64(c, "nr_pages", &nr, e) ||
	    !get_u64(c, "gup_flags", &flags, e) || !get_bool(c, "with_pages", &with_pages, e))
		return false;
	if (entry < 0)
		return fail(e, "bad_command", "unknown entry point '%s'", get_str(c, "entry") ? get_str(c, "entry") : "?");
	if (nr < 1 || (with_pages && nr > (1 << 22)))
		return fail(e, "bad_command", "nr_pages %lld out of range", (long long)nr);
	memset(&g, 0, sizeof(g));
	g.call = (uint32_t)call;
	g.entry = (uint32_t)entry;
	g.start = start;
	g.nr_pages = nr;
	g.gup_flags = flags;
	g.with_pages = with_pages;
	if (with_pages) {
		pages = calloc((size_t)nr, sizeof(*pages));
		if (!pages)
			return fail(e, "adapter_error", "out of memory");
		g.pages = (uint64_t)(uintptr_t)pages;
	}
	if (!ioctl_ok(GUPC_IOC_GUP, &g, entries[entry], e)) {
		free(pages);
		return false;
	}
	jout_key(o, first, "result");
	jout_i64(o, g.result);
	ok = true;
	if (with_pages)
		ok = write_pages(o, first, pages, g.result > 0 ? (uint64_t)g.result : 0, e);
	free(pages);
	return ok;
}

static bool do_release(const struct jval *c, struct jout *o, bool *first, struct cmd_error *e)
{
	static const char *const fns[] = { "put_page", "unpin_user_page", "unpin_user_pages", "unpin_user_pages_dirty_lock",
					   "unpin_user_page_range_dirty_lock" };
	uint64_t call, index, count;
	bool dirty = false;
	struct gupc_release r;
	int fn = lookup(get_str(c, "fn"), fns, 5);

	if (!get_u64(c, "call", &call, e) || !get_u64(c, "index", &index, e) || !get_u64(c, "count", &count, e))
		return false;
	if (json_get(c, "make_dirty") && !get_bool(c, "make_dirty", &dirty, e))
		return false;
	if (fn < 0)
		return fail(e, "bad_command", "unknown release function");
	memset(&r, 0, sizeof(r));
	r.call = (uint32_t)call;
	r.fn = (uint32_t)fn;
	r.index = (uint32_t)index;
	r.count = (uint32_t)count;
	r.make_dirty = dirty;
	if (!ioctl_ok(GUPC_IOC_RELEASE, &r, fns[fn], e))
		return false;
	jout_key(o, first, "result");
	jout_i64(o, 0);
	return true;
}

static bool do_unpin_array(const struct jval *c, struct jout *o, bool *first, struct cmd_error *e)
{
	static const char *const fns[] = { "put_page", "unpin_user_page", "unpin_user_pages", "unpin_user_pages_dirty_lock" };
	uint64_t call, index, count, null_prefix, err;
	bool dirty = false;
	struct gupc_unpin_array u;
	int fn = lookup(get_str(c, "fn"), fns, 4);

	if (!get_u64(c, "call", &call, e) || !get_u64(c, "index", &index, e) || !get_u64(c, "count", &count, e)
	    || !get_u64(c, "null_prefix", &null_prefix, e) || !get_u64(c, "errno", &err, e))
		return false;
	if (json_get(c, "make_dirty") && !get_bool(c, "make_dirty", &dirty, e))
		return false;
	if (fn != GUPC_UNPIN_USER_PAGES && fn != GUPC_UNPIN_USER_PAGES_DIRTY_LOCK)
		return fail(e, "bad_command", "unpin_array takes unpin_user_pages or unpin_user_pages_dirty_lock");
	memset(&u, 0, sizeof(u));
	u.call = (uint32_t)call;
	u.fn = (uint32_t)fn;
	u.index = (uint32_t)index;
	u.count = (uint32_t)count;
	u.null_prefix = (uint32_t)null_prefix;
	u.err = (uint32_t)err;
	u.make_dirty = dirty;
	if (!ioctl_ok(GUPC_IOC_UNPIN_ARRAY, &u, fns[fn], e))
		return false;
	jout_key(o, first, "result");
	jout_i64(o, 0);
	return true;
}

static bool do_add_pin(const struct jval *c, struct jout *o, bool *first, struct cmd_error *e)
{
	uint64_t nc, fc, index;
	struct gupc_add_pin a;
	struct gupc_page page;

	if (!get_u64(c, "new_call", &nc, e) || !get_u64(c, "from_call", &fc, e) || !get_u64(c, "index", &index, e))
		return false;
	memset(&a, 0, sizeof(a));
	a.new_call = (uint32_t)nc;
	a.from_call = (uint32_t)fc;
	a.index = (uint32_t)index;
	a.page = (uint64_t)(uintptr_t)&page;
	if (!ioctl_ok(GUPC_IOC_ADD_PIN, &a, "folio_add_pin", e))
		return false;
	jout_key(o, first, "result");
	jout_i64(o, 0);
	return write_pages(o, first, &page, 1, e);
}

static bool do_iter_init(const struct jval *c, struct jout *o, bool *first, struct cmd_error *e)
{
	static const char *const kinds[] = { "ubuf", "iovec", "kvec", "bvec", "xarray", "discard" };
	const struct jval *segs = json_get(c, "segs");
	struct gupc_seg s[64];
	struct gupc_iter_init in;
	uint64_t iter;
	int kind = lookup(get_str(c, "kind"), kinds, 6);
	const char *dir = get_str(c, "dir");
	size_t i;

	if (!get_u64(c, "iter", &iter, e))
		return false;
	if (kind < 0 || !dir || !segs || segs->kind != J_ARR || segs->n == 0 || segs->n > 64)
		return fail(e, "bad_command", "bad iterator kind, direction or segments");
	for (i = 0; i < segs->n; i++) {
		int64_t len;
		uint64_t addr;

		if (!get_u64(&segs->items[i], "addr", &addr, e) || !get_i64(&segs->items[i], "len", &len, e))
			return false;
		s[i].addr = addr;
		if (len < 0)
			return fail(e, "bad_command", "negative segment length");
		s[i].len = (uint64_t)len;
	}
	memset(&in, 0, sizeof(in));
	in.iter = (uint32_t)iter;
	in.kind = (uint32_t)kind;
	in.dest = strcmp(dir, "dest") == 0;
	in.nr_segs = (uint32_t)segs->n;
	in.segs = (uint64_t)(uintptr_t)s;
	if (!ioctl_ok(GUPC_IOC_ITER_INIT, &in, "iter_init", e))
		return false;
	jout_key(o, first, "result");
	jout_i64(o, in.result);
	jout_key(o, first, "iter_count");
	jout_u64(o, in.count);
	return true;
}

static bool do_iter_extract(const struct jval *c, struct jout *o, bool *first, struct cmd_error *e)
{
	uint64_t call, iter, max_pages;
	int64_t max_size;
	struct gupc_iter_extract x;
	struct gupc_page *pages;
	bool ok = true;

	if (!get_u64(c, "call", &call, e) || !get_u64(c, "iter", &iter, e) || !get_i64(c, "max_size", &max_size, e) ||
	    !get_u64(c, "max_pages", &max_pages, e))
		return false;
	if (max_pages == 0 || max_pages > (1u << 22) || max_size < 0)
		return fail(e, "bad_command", "max_pages or max_size out of range");
	pages = calloc(max_pages, sizeof(*pages));
	if (!pages)
		return fail(e, "adapter_error", "out of memory");
	memset(&x, 0, sizeof(x));
	x.call = (uint32_t)call;
	x.iter = (uint32_t)iter;
	x.max_size = (uint64_t)max_size;
	x.max_pages = (uint32_t)max_pages;
	x.pages = (uint64_t)(uintptr_t)pages;
	if (!ioctl_ok(GUPC_IOC_ITER_EXTRACT, &x, "iov_iter_extract_pages", e)) {
		free(pages);
		return false;
	}
	jout_key(o, first, "result");
	jout_i64(o, x.result);
	ok = write_pages(o, first, pages, x.result > 0 ? x.nr_pages : 0, e);
	if (ok && x.result > 0) {
		jout_key(o, first, "offset0");
		jout_u64(o, x.offset0);
	}
	jout_key(o, first, "iter_count");
	jout_u64(o, x.count);
	free(pages);
	return ok;
}

static bool do_iter_retention(const struct jval *c, struct jout *o, bool *first, struct cmd_error *e)
{
	uint64_t iter;
	struct gupc_iter_query q;

	if (!get_u64(c, "iter", &iter, e))
		return false;
	memset(&q, 0, sizeof(q));
	q.iter = (uint32_t)iter;
	if (!ioctl_ok(GUPC_IOC_ITER_WILL_PIN, &q, "iov_iter_extract_will_pin", e))
		return false;
	jout_key(o, first, "will_pin");
	jout_raw(o, q.will_pin ? "true" : "false");
	return true;
}

static bool do_bio_add(const struct jval *c, struct jout *o, bool *first, struct cmd_error *e)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ GUPC_BIO_PAGE_PINNED, "BIO_PAGE_PINNED" }, { GUPC_BIO_NO_PAGE_REF, "BIO_NO_PAGE_REF" },
		{ GUPC_BIO_CLONED, "BIO_CLONED" },
	};
	uint64_t bio, iter, max_vecs, lbs;
	struct gupc_bio_add b;
	bool f1 = true;
	size_t i;

	if (!get_u64(c, "bio", &bio, e) || !get_u64(c, "iter", &iter, e) || !get_u64(c, "max_vecs", &max_vecs, e)
	    || !get_u64(c, "logical_block_size", &lbs, e))
		return false;
	memset(&b, 0, sizeof(b));
	b.bio = (uint32_t)bio;
	b.iter = (uint32_t)iter;
	b.max_vecs = (uint32_t)max_vecs;
	b.logical_block_size = (uint32_t)lbs;
	if (!ioctl_ok(GUPC_IOC_BIO_ADD, &b, "bio_iov_iter_get_pages", e))
		return false;
	jout_key(o, first, "result");
	jout_i64(o, b.result);
	jout_key(o, first, "bio_flags");
	jout_raw(o, "[");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(b.flags & names[i].bit))
			continue;
		if (!f1)
			jout_raw(o, ",");
		jout_str(o, names[i].name);
		f1 = false;
	}
	jout_raw(o, "]");
	jout_key(o, first, "bio_flag_bits");
	jout_u64(o, b.flag_bits);
	jout_key(o, first, "bio_pages");
	jout_u64(o, b.pages);
	jout_key(o, first, "iter_count");
	jout_u64(o, b.count);
	return true;
}

static bool do_bio_release(const struct jval *c, struct jout *o, bool *first, struct cmd_error *e)
{
	uint64_t bio;
	bool dirty = false;
	struct gupc_bio_release b;

	if (!get_u64(c, "bio", &bio, e) || !get_bool(c, "mark_dirty", &dirty, e))
		return false;
	b.bio = (uint32_t)bio;
	b.mark_dirty = dirty;
	if (!ioctl_ok(GUPC_IOC_BIO_RELEASE, &b, "bio_release_pages", e))
		return false;
	jout_key(o, first, "result");
	jout_i64(o, 0);
	return true;
}

static void write_fv(struct jout *o, bool *first, const struct gupc_fv *f, bool full)
{
	jout_key(o, first, "result");
	jout_i64(o, f->result);
	if (!full)
		return;
	jout_key(o, first, "nr_frames");
	jout_u64(o, f->nr_frames);
	jout_key(o, first, "got_ref");
	jout_raw(o, f->got_ref ? "true" : "false");
	jout_key(o, first, "is_pfns");
	jout_raw(o, f->is_pfns ? "true" : "false");
}

static bool do_fv(const char *op, const struct jval *c, struct jout *o, bool *first, struct cmd_error *e)
{
	uint64_t fv, v;
	bool write = false;
	struct gupc_fv f;

	if (!get_u64(c, "fv", &fv, e))
		return false;
	memset(&f, 0, sizeof(f));
	f.fv = (uint32_t)fv;
	if (strcmp(op, "fv_create") == 0) {
		if (!get_u64(c, "nr_allocated", &v, e))
			return false;
		f.nr = (uint32_t)v;
		if (!ioctl_ok(GUPC_IOC_FV_CREATE, &f, "frame_vector_create", e))
			return false;
		write_fv(o, first, &f, false);
		return true;
	}
	if (strcmp(op, "fv_get") == 0) {
		uint64_t start;

		if (!get_u64(c, "start", &start, e) || !get_u64(c, "nr_frames", &v, e) || !get_bool(c, "write", &write, e))
			return false;
		f.start = start;
		f.nr = (uint32_t)v;
		f.write = write;
		if (!ioctl_ok(GUPC_IOC_FV_GET, &f, "get_vaddr_frames", e))
			return false;
		write_fv(o, first, &f, true);
		return true;
	}
	if (!ioctl_ok(GUPC_IOC_FV_PUT, &f, "put_vaddr_frames", e))
		return false;
	jout_key(o, first, "result");
	jout_i64(o, 0);
	jout_key(o, first, "nr_frames");
	jout_u64(o, f.nr_frames);
	return true;
}

static bool do_netfs(const char *op, const struct jval *c, struct jout *o, bool *first, struct cmd_error *e)
{
	uint64_t netfs, iter;
	int64_t max_size;
	struct gupc_netfs n;

	if (!get_u64(c, "netfs", &netfs, e))
		return false;
	memset(&n, 0, sizeof(n));
	n.netfs = (uint32_t)netfs;
	if (strcmp(op, "netfs_extract") == 0) {
		if (!get_u64(c, "iter", &iter, e) || !get_i64(c, "max_size", &max_size, e))
			return false;
		n.iter = (uint32_t)iter;
		n.max_size = max_size < 0 ? 0 : (uint64_t)max_size;
		if (!ioctl_ok(GUPC_IOC_NETFS_EXTRACT, &n, "netfs_extract_user_iter", e))
			return false;
		jout_key(o, first, "result");
		jout_i64(o, n.result);
		jout_key(o, first, "iter_count");
		jout_u64(o, n.count);
		return true;
	}
	if (!ioctl_ok(GUPC_IOC_NETFS_FREE, &n, "netfs_free_request", e))
		return false;
	jout_key(o, first, "result");
	jout_i64(o, 0);
	return true;
}

static bool do_inspect(const struct jval *c, struct jout *o, bool *first, struct cmd_error *e)
{
	const char *key = get_str(c, "folio");
	struct gupc_inspect q;
	unsigned int region, folio;
	char tail;

	memset(&q, 0, sizeof(q));
	if (key && strcmp(key, "zero") == 0) {
		q.region = GUPC_ZERO_REGION;
	} else if (key && sscanf(key, "r%u.f%u%c", &region, &folio, &tail) == 2 && region != GUPC_ZERO_REGION) {
		q.region = region;
		q.folio = folio;
	} else {
		return fail(e, "bad_command", "bad folio key '%s'", key ? key : "?");
	}
	if (!ioctl_ok(GUPC_IOC_INSPECT, &q, "inspect_folio", e))
		return false;
	if (!q.known)
		return fail(e, "bad_command", "the adapter knows no folio '%s'", key);
	jout_key(o, first, "refcount");
	jout_i64(o, q.refcount);
	if (q.has_pincount) {
		jout_key(o, first, "pincount");
		jout_i64(o, q.pincount);
	}
	jout_key(o, first, "maybe_dma_pinned");
	jout_raw(o, q.maybe_dma_pinned ? "true" : "false");
	if (q.region != GUPC_ZERO_REGION) {
		jout_key(o, first, "dirty");
		jout_raw(o, q.dirty ? "true" : "false");
	}
	return true;
}

static bool do_vmstat(struct jout *o, bool *first, struct cmd_error *e)
{
	struct gupc_vmstat v;

	if (!ioctl_ok(GUPC_IOC_VMSTAT, &v, "read_vmstat", e))
		return false;
	jout_key(o, first, "acquired");
	jout_i64(o, v.acquired);
	jout_key(o, first, "released");
	jout_i64(o, v.released);
	return true;
}

static bool execute(const struct jval *c, struct jout *o, bool *first, struct cmd_error *e)
{
	const char *op = get_str(c, "op");

	if (!op)
		return fail(e, "bad_command", "a command without 'op'");
	if (strcmp(op, "map") == 0)
		return do_map(c, o, first, e);
	if (strcmp(op, "gup") == 0)
		return do_gup(c, o, first, e);
	if (strcmp(op, "release") == 0)
		return do_release(c, o, first, e);
	if (strcmp(op, "folio_add_pin") == 0)
		return do_add_pin(c, o, first, e);
	if (strcmp(op, "iter_init") == 0)
		return do_iter_init(c, o, first, e);
	if (strcmp(op, "iter_extract") == 0)
		return do_iter_extract(c, o, first, e);
	if (strcmp(op, "iter_retention") == 0)
		return do_iter_retention(c, o, first, e);
	if (strcmp(op, "unpin_array") == 0)
		return do_unpin_array(c, o, first, e);
	if (strcmp(op, "bio_add") == 0)
		return do_bio_add(c, o, first, e);
	if (strcmp(op, "bio_release") == 0)
		return do_bio_release(c, o, first, e);
	if (strncmp(op, "fv_", 3) == 0)
		return do_fv(op, c, o, first, e);
	if (strncmp(op, "netfs_", 6) == 0)
		return do_netfs(op, c, o, first, e);
	if (strcmp(op, "inspect_folio") == 0)
		return do_inspect(c, o, first, e);
	if (strcmp(op, "read_vmstat") == 0)
		return do_vmstat(o, first, e);
	return fail(e, "unknown_command", "the kernel adapter does not know op '%s'", op);
}

/* ---- the conversation -------------------------------------------------------------------------------- */

static void send_error(const char *code, const char *message)
{
	struct jout o = { 0 };
	bool first = true;

	jout_raw(&o, "{");
	jout_key(&o, &first, "type");
	jout_str(&o, "error");
	jout_key(&o, &first, "code");
	jout_str(&o, code);
	jout_key(&o, &first, "message");
	jout_str(&o, message);
	jout_raw(&o, "}");
	send_line(&o);
	free(o.buf);
}

static unsigned int kernel_facets(void)
{
	unsigned int f = F_CORE | F_LARGE | F_ZERO | F_RELEASE_ARGS;

	if (info.features & GUPC_HAS_BIO)
		f |= F_BIO;
	if (info.features & GUPC_HAS_FRAME_VECTOR)
		f |= F_FV;
	if (info.features & GUPC_HAS_EXTRACT)
		f |= F_IOV;
	if (info.features & GUPC_HAS_NETFS)
		f |= F_NETFS;
	return f;
}

/* The profiles to claim: gupc.profiles=a,b on the kernel command line, else the one for this kernel version. */
static void claimed_profiles(char *out, size_t cap)
{
	char cmdline[4096] = "";
	unsigned int major = 0, minor = 0;
	const char *p, *def;
	FILE *f = fopen("/proc/cmdline", "r");

	out[0] = '\0';
	if (f) {
		if (!fgets(cmdline, sizeof(cmdline), f))
			cmdline[0] = '\0';
		fclose(f);
	}
	p = strstr(cmdline, "gupc.profiles=");
	if (p) {
		size_t n;

		p += strlen("gupc.profiles=");
		n = strcspn(p, " \n");
		if (n >= cap)
			n = cap - 1;
		memcpy(out, p, n);
		out[n] = '\0';
		return;
	}
	sscanf(kernel_release, "%u.%u", &major, &minor);
	def = default_profile(major, minor);
	if (def)
		snprintf(out, cap, "%s", def);
}

static void send_hello(void)
{
	char list[512], *tok, *save = NULL;
	struct jout o = { 0 };
	bool first = true, firstm = true;
	unsigned int have = kernel_facets();

	claimed_profiles(list, sizeof(list));
	jout_raw(&o, "{");
	jout_key(&o, &first, "type");
	jout_str(&o, "hello");
	jout_key(&o, &first, "protocol");
	jout_i64(&o, PROTOCOL);
	jout_key(&o, &first, "implementation");
	{
		char name[128];

		snprintf(name, sizeof(name), "linux-%s", kernel_release);
		jout_str(&o, name);
	}
	jout_key(&o, &first, "manifests");
	jout_raw(&o, "[");
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned int facets = 0;
		bool f2 = true, ff = true;
		size_t i;

		for (i = 0; i < sizeof(known_profiles) / sizeof(known_profiles[0]); i++)
			if (strcmp(tok, known_profiles[i].id) == 0)
				facets = known_profiles[i].facets & have;
		if (!facets) {
			logf_("not claiming unknown profile '%s'", tok);
			continue;
		}
		if (!firstm)
			jout_raw(&o, ",");
		firstm = false;
		jout_raw(&o, "{");
		jout_key(&o, &f2, "profile");
		jout_str(&o, tok);
		jout_key(&o, &f2, "facets");
		jout_raw(&o, "[");
		for (i = 0; i < sizeof(facet_names) / sizeof(facet_names[0]); i++) {
			if (!(facets & (1u << i)))
				continue;
			if (!ff)
				jout_raw(&o, ",");
			ff = false;
			jout_str(&o, facet_names[i]);
		}
		jout_raw(&o, "]");
		jout_key(&o, &f2, "max_order");
		jout_u64(&o, info.max_order);
		jout_raw(&o, "}");
	}
	jout_raw(&o, "]}");
	send_line(&o);
	free(o.buf);
}

static void handle_batch(const struct jval *msg)
{
	const struct jval *cmds = json_get(msg, "commands");
	struct jout o = { 0 };
	bool first = true;
	uint64_t seq = 0;
	char problem[1536];
	bool broken = false;
	size_t i;

	json_u64(json_get(msg, "seq"), &seq);
	if (!cmds || cmds->kind != J_ARR) {
		send_error("bad_request", "a batch without a 'commands' array");
		return;
	}
	jout_raw(&o, "{");
	jout_key(&o, &first, "type");
	jout_str(&o, "observations");
	jout_key(&o, &first, "seq");
	jout_u64(&o, seq);
	jout_key(&o, &first, "observations");
	jout_raw(&o, "[");
	for (i = 0; i < cmds->n; i++) {
		struct jout one = { 0 };
		struct cmd_error e = { NULL, "" };
		bool f1 = true, ok;

		if (i)
			jout_raw(&o, ",");
		if (broken) {
			jout_raw(&o, "{\"error\":{\"code\":\"kernel_warning\",\"message\":\"not executed: the kernel reported a problem earlier in this batch\"}}");
			continue;
		}
		ok = execute(&cmds->items[i], &one, &f1, &e);
		if (check_kmsg(problem, sizeof(problem))) {
			ok = false;
			broken = true;
			e.code = "kernel_warning";
			snprintf(e.message, sizeof(e.message), "%s", problem);
		}
		if (ok) {
			jout_raw(&o, "{");
			if (one.buf)
				jout_raw(&o, one.buf);
			jout_raw(&o, "}");
		} else {
			bool f2 = true;

			jout_raw(&o, "{\"error\":{");
			jout_key(&o, &f2, "code");
			jout_str(&o, e.code);
			jout_key(&o, &f2, "message");
			jout_str(&o, e.message);
			jout_raw(&o, "}}");
		}
		free(one.buf);
	}
	jout_raw(&o, "]}");
	send_line(&o);
	free(o.buf);
}

static void handle(char *line)
{
	const char *err = NULL;
	struct jval *msg = json_parse(line, &err);
	const char *type;
	struct jout o = { 0 };
	bool first = true;
	uint64_t run = 0;

	if (!msg) {
		send_error("malformed_request", err ? err : "not JSON");
		return;
	}
	type = get_str(msg, "type");
	if (!type) {
		send_error("malformed_request", "a request without 'type'");
	} else if (strcmp(type, "hello") == 0) {
		send_hello();
	} else if (strcmp(type, "begin") == 0) {
		if (in_run)
			drop_regions();
		json_u64(json_get(msg, "run"), &run);
		ioctl(dev, GUPC_IOC_BEGIN);
		check_kmsg((char[256]){ 0 }, 256);
		in_run = true;
		jout_raw(&o, "{");
		jout_key(&o, &first, "type");
		jout_str(&o, "ready");
		jout_key(&o, &first, "run");
		jout_u64(&o, run);
		jout_raw(&o, "}");
		send_line(&o);
	} else if (strcmp(type, "batch") == 0) {
		if (!in_run)
			send_error("no_run", "a batch outside a run (no begin)");
		else
			handle_batch(msg);
	} else if (strcmp(type, "end") == 0) {
		drop_regions();
		in_run = false;
		json_u64(json_get(msg, "run"), &run);
		jout_raw(&o, "{");
		jout_key(&o, &first, "type");
		jout_str(&o, "ended");
		jout_key(&o, &first, "run");
		jout_u64(&o, run);
		jout_raw(&o, "}");
		send_line(&o);
	} else if (strcmp(type, "shutdown") == 0) {
		if (in_run)
			drop_regions();
		logf_("shutdown after %lu anticipated kernel warnings", tolerated_warns);
		json_free(msg);
		exit(0);
	} else {
		send_error("unknown_request", type);
	}
	free(o.buf);
	json_free(msg);
}

int main(int argc, char **argv)
{
	const char *port = argc > 1 ? argv[1] : "/dev/ttyS1";
	struct termios t;
	struct utsname u;
	char *buf = NULL;
	size_t cap = 0, len = 0;
	int ram;

	tty = open(port, O_RDWR | O_NOCTTY);
	if (tty < 0) {
		logf_("cannot open %s: %s", port, strerror(errno));
		return 2;
	}
	if (tcgetattr(tty, &t) == 0) {
		cfmakeraw(&t);
		cfsetispeed(&t, B115200);
		cfsetospeed(&t, B115200);
		tcsetattr(tty, TCSANOW, &t);
	}
	dev = open("/dev/gupc", O_RDWR);
	if (dev < 0 || ioctl(dev, GUPC_IOC_INFO, &info) != 0) {
		send_error("no_adapter", "this kernel has no /dev/gupc (was it built with CONFIG_GUPC_ADAPTER?)");
		return 2;
	}
	if (info.version != GUPC_ADAPTER_VERSION) {
		send_error("adapter_version", "the kernel's adapter and this server were built from different sources");
		return 2;
	}
	uname(&u);
	snprintf(kernel_release, sizeof(kernel_release), "%s", u.release);
	ram = open("/dev/ram1", O_RDWR);
	if (ram >= 0) {
		uint32_t fd = (uint32_t)ram;

		if (ioctl(dev, GUPC_IOC_BIO_DEVICE, &fd) != 0)
			logf_("no block device for bios: %s", strerror(errno));
	}
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg >= 0)
		lseek(kmsg, 0, SEEK_END);
	/* The host forwards nothing until it sees this line, so nothing is sent before the port is raw. */
	{
		struct jout o = { 0 };
		bool first = true;

		jout_raw(&o, "{");
		jout_key(&o, &first, "type");
		jout_str(&o, "guest-ready");
		jout_key(&o, &first, "kernel");
		jout_str(&o, kernel_release);
		jout_raw(&o, "}");
		send_line(&o);
		free(o.buf);
	}
	for (;;) {
		char *nl;
		ssize_t n;

		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			buf = realloc(buf, cap);
			if (!buf)
				return 3;
		}
		n = read(tty, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		while ((nl = memchr(buf, '\n', len)) != NULL) {
			size_t used = (size_t)(nl - buf) + 1;

			*nl = '\0';
			if (nl > buf && nl[-1] == '\r')
				nl[-1] = '\0';
			if (buf[0])
				handle(buf);
			memmove(buf, buf + used, len - used);
			len -= used;
			buf[len] = '\0';
		}
	}
	if (in_run)
		drop_regions();
	return 0;
}
