/* SPDX-License-Identifier: MIT */
/*
 * gupconformance.h - the C ABI of the GupConformance contract
 *
 * An implementation of the Linux page pin/reference accounting under test exports the functions
 * declared at the end of this file from a shared library.  The suite never loads that library into
 * its own process: the native host (Fixtures/native/host.c) dlopen()s it and speaks the process
 * protocol (Spec/PROTOCOL.md) on its behalf, so a crash in the implementation is a failed verdict,
 * not a crash of the suite.
 *
 * The vocabulary is the one of Spec/CONTRACT.md and Spec/Commands.cs: every command is a plain
 * struct in the union of &struct gupc_command, every observation field a member of
 * &struct gupc_observation, flagged in @present.  Kernel-level errors are results (-errno in
 * @result); the functions below fail only when the implementation itself cannot go on.
 *
 * Versioning: GUPC_ABI_VERSION changes whenever a struct layout, an enum value or a function
 * signature in this file changes.  gupc_abi_version() must return the value the library was built
 * with; the host refuses a library built for another version.
 *
 * Usage:
 *	gcc -shared -fPIC -O2 -Wall -I Spec -o libmygup.so mygup.c
 *	dotnet run --project Properties/GupConformance.Runner -- --impl native:./libmygup.so
 */
#ifndef _GUPCONFORMANCE_H
#define _GUPCONFORMANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GUPC_ABI_VERSION	1

#define GUPC_PAGE_SHIFT		12
#define GUPC_PAGE_SIZE		(1UL << GUPC_PAGE_SHIFT)
#define GUPC_TASK_SIZE_MAX	0x7FFFFFFFF000ULL
#define GUPC_PIN_COUNTING_BIAS	1024

/**
 * enum gupc_facet - the facets of the contract a manifest can claim (bit set)
 */
enum gupc_facet {
	GUPC_FACET_CORE		= 1 << 0,	/* order-0 pages, entry points, release, vmstat */
	GUPC_FACET_LARGE_FOLIOS	= 1 << 1,	/* folios of order 1..18, exact pin counts */
	GUPC_FACET_ZERO_PAGE	= 1 << 2,	/* the shared zero page and its faults */
	GUPC_FACET_IOV_ITER	= 1 << 3,	/* iov_iter_extract_pages() */
	GUPC_FACET_BIO		= 1 << 4,	/* bio_iov_iter_get_pages() / bio_release_pages() */
	GUPC_FACET_FRAME_VECTOR	= 1 << 5,	/* get_vaddr_frames() */
	GUPC_FACET_NETFS	= 1 << 6,	/* netfs_extract_user_iter() */
};

/*
 * The caller's gup_flags as contract symbols.  These bit numbers are the contract's own and never
 * change; &struct gupc_gup.gup_flags carries the same flags with the numeric values of the era
 * being checked (FOLL_PIN was 0x40000 up to 6.2, 1 << 19 from 6.3).
 */
#define GUPC_FOLL_WRITE			(1ULL << 0)
#define GUPC_FOLL_TOUCH			(1ULL << 1)
#define GUPC_FOLL_GET			(1ULL << 2)
#define GUPC_FOLL_DUMP			(1ULL << 3)
#define GUPC_FOLL_FORCE			(1ULL << 4)
#define GUPC_FOLL_NOWAIT		(1ULL << 5)
#define GUPC_FOLL_NOFAULT		(1ULL << 6)
#define GUPC_FOLL_HWPOISON		(1ULL << 7)
#define GUPC_FOLL_ANON			(1ULL << 8)
#define GUPC_FOLL_LONGTERM		(1ULL << 9)
#define GUPC_FOLL_SPLIT_PMD		(1ULL << 10)
#define GUPC_FOLL_PCI_P2PDMA		(1ULL << 11)
#define GUPC_FOLL_INTERRUPTIBLE		(1ULL << 12)
#define GUPC_FOLL_HONOR_NUMA_FAULT	(1ULL << 13)
#define GUPC_FOLL_TRIED			(1ULL << 14)
#define GUPC_FOLL_REMOTE		(1ULL << 15)
#define GUPC_FOLL_PIN			(1ULL << 16)
#define GUPC_FOLL_FAST_ONLY		(1ULL << 17)
#define GUPC_FOLL_UNLOCKABLE		(1ULL << 18)
#define GUPC_FOLL_MADV_POPULATE		(1ULL << 19)

/**
 * enum gupc_op - the commands (Spec/CONTRACT.md §1-§9)
 */
enum gupc_op {
	GUPC_OP_MAP,
	GUPC_OP_GUP,
	GUPC_OP_RELEASE,
	GUPC_OP_FOLIO_ADD_PIN,
	GUPC_OP_ITER_INIT,
	GUPC_OP_ITER_EXTRACT,
	GUPC_OP_ITER_RETENTION,
	GUPC_OP_BIO_ADD,
	GUPC_OP_BIO_RELEASE,
	GUPC_OP_FV_CREATE,
	GUPC_OP_FV_GET,
	GUPC_OP_FV_PUT,
	GUPC_OP_NETFS_EXTRACT,
	GUPC_OP_NETFS_FREE,
	GUPC_OP_INSPECT_FOLIO,
	GUPC_OP_READ_VMSTAT,
};

enum gupc_region_kind {
	GUPC_REGION_ANON,	/* private anonymous, populated with folios of the region's order */
	GUPC_REGION_ZERO,	/* private anonymous never written: maps the shared zero page */
	GUPC_REGION_FILE,	/* shared file mapping of order-0 page-cache pages */
	GUPC_REGION_IO,		/* VM_IO */
	GUPC_REGION_PFNMAP,	/* VM_PFNMAP */
};

enum gupc_entry {
	GUPC_GET_USER_PAGES,
	GUPC_GET_USER_PAGES_REMOTE,
	GUPC_GET_USER_PAGES_UNLOCKED,
	GUPC_GET_USER_PAGES_FAST,
	GUPC_GET_USER_PAGES_FAST_ONLY,
	GUPC_PIN_USER_PAGES,
	GUPC_PIN_USER_PAGES_REMOTE,
	GUPC_PIN_USER_PAGES_UNLOCKED,
	GUPC_PIN_USER_PAGES_FAST,
	GUPC_PIN_USER_PAGES_FAST_ONLY,
};

enum gupc_release_fn {
	GUPC_PUT_PAGE,
	GUPC_UNPIN_USER_PAGE,
	GUPC_UNPIN_USER_PAGES,
	GUPC_UNPIN_USER_PAGES_DIRTY_LOCK,
	GUPC_UNPIN_USER_PAGE_RANGE_DIRTY_LOCK,
};

enum gupc_iter_kind { GUPC_ITER_UBUF, GUPC_ITER_IOVEC, GUPC_ITER_KVEC, GUPC_ITER_BVEC, GUPC_ITER_XARRAY, GUPC_ITER_DISCARD };
enum gupc_iter_dir { GUPC_ITER_SOURCE, GUPC_ITER_DEST };

/**
 * struct gupc_map - map @folios folios of order @order at @start (page aligned)
 *
 * Folio i of region R is keyed "r{R}.f{i}"; anon folios start at refcount @start_refcount.
 */
struct gupc_map {
	int32_t region;
	enum gupc_region_kind kind;
	uint64_t start;
	int32_t folios;
	int32_t order;
	int32_t start_refcount;
};

/**
 * struct gupc_gup - call @entry(start, nr_pages, gup_flags, pages); the entries are pages array @call
 * @flags: the caller's flags, GUPC_FOLL_* (not the ones the entry point adds itself)
 * @gup_flags: the same flags with the era's numeric FOLL_* values
 * @with_pages: false passes pages = NULL
 */
struct gupc_gup {
	int32_t call;
	enum gupc_entry entry;
	uint64_t start;
	int64_t nr_pages;
	uint64_t flags;
	uint64_t gup_flags;
	bool with_pages;
};

/** struct gupc_release - release entries [@index, @index + @count) of pages array @call with @fn */
struct gupc_release {
	int32_t call;
	enum gupc_release_fn fn;
	int32_t index;
	int32_t count;
	bool make_dirty;
};

/** struct gupc_folio_add_pin - folio_add_pin() on entry @index of @from_call, remembered as @new_call */
struct gupc_folio_add_pin {
	int32_t new_call;
	int32_t from_call;
	int32_t index;
};

struct gupc_iter_seg {
	uint64_t addr;
	int64_t len;
};

struct gupc_iter_init {
	int32_t iter;
	enum gupc_iter_kind kind;
	enum gupc_iter_dir dir;
	size_t nr_segs;
	const struct gupc_iter_seg *segs;
};

struct gupc_iter_extract {
	int32_t call;
	int32_t iter;
	int64_t max_size;
	int32_t max_pages;
};

struct gupc_iter_retention { int32_t iter; };
struct gupc_bio_add { int32_t bio; int32_t iter; int32_t max_vecs; };
struct gupc_bio_release { int32_t bio; bool mark_dirty; };
struct gupc_fv_create { int32_t fv; int32_t nr_allocated; };
struct gupc_fv_get { int32_t fv; uint64_t start; int32_t nr_frames; bool write; };
struct gupc_fv_put { int32_t fv; };
struct gupc_netfs_extract { int32_t netfs; int32_t iter; int64_t max_size; };
struct gupc_netfs_free { int32_t netfs; };

/** struct gupc_inspect_folio - report folio @folio ("r1.f0", "zero") */
struct gupc_inspect_folio { const char *folio; };

/**
 * struct gupc_command - one command; @op selects the member of @u (none for GUPC_OP_READ_VMSTAT)
 */
struct gupc_command {
	enum gupc_op op;
	union {
		struct gupc_map map;
		struct gupc_gup gup;
		struct gupc_release release;
		struct gupc_folio_add_pin folio_add_pin;
		struct gupc_iter_init iter_init;
		struct gupc_iter_extract iter_extract;
		struct gupc_iter_retention iter_retention;
		struct gupc_bio_add bio_add;
		struct gupc_bio_release bio_release;
		struct gupc_fv_create fv_create;
		struct gupc_fv_get fv_get;
		struct gupc_fv_put fv_put;
		struct gupc_netfs_extract netfs_extract;
		struct gupc_netfs_free netfs_free;
		struct gupc_inspect_folio inspect_folio;
	} u;
};

/** struct gupc_page_run - entries @first .. @first + @count - 1 of folio @folio, consecutive in the array */
struct gupc_page_run {
	const char *folio;
	int64_t first;
	int64_t count;
};

/* Bits of &struct gupc_observation.present: which fields the implementation reports. */
#define GUPC_OBS_RESULT			(1U << 0)
#define GUPC_OBS_PAGES			(1U << 1)
#define GUPC_OBS_OFFSET0		(1U << 2)
#define GUPC_OBS_ITER_COUNT		(1U << 3)
#define GUPC_OBS_REFCOUNT		(1U << 4)
#define GUPC_OBS_PINCOUNT		(1U << 5)
#define GUPC_OBS_MAYBE_DMA_PINNED	(1U << 6)
#define GUPC_OBS_DIRTY			(1U << 7)
#define GUPC_OBS_ACQUIRED		(1U << 8)
#define GUPC_OBS_RELEASED		(1U << 9)
#define GUPC_OBS_WILL_PIN		(1U << 10)
#define GUPC_OBS_EXTRACT_MODE		(1U << 11)
#define GUPC_OBS_BIO_FLAGS		(1U << 12)
#define GUPC_OBS_BIO_PAGES		(1U << 13)
#define GUPC_OBS_GOT_REF		(1U << 14)
#define GUPC_OBS_IS_PFNS		(1U << 15)
#define GUPC_OBS_NR_FRAMES		(1U << 16)

/**
 * struct gupc_observation - what the implementation reports for one command
 * @present: GUPC_OBS_* bits of the fields set; the others are ignored
 * @pages, @nr_runs: the pages array (owned by the instance, valid until its next call)
 * @bio_flags, @nr_bio_flags: flag names such as "BIO_PAGE_PINNED" (owned by the instance)
 *
 * Spec/CONTRACT.md says which fields each command fills.  The caller zeroes the struct first.
 */
struct gupc_observation {
	uint32_t present;
	int64_t result;
	const struct gupc_page_run *pages;
	size_t nr_runs;
	int64_t offset0;
	int64_t iter_count;
	int64_t refcount;
	int64_t pincount;
	bool maybe_dma_pinned;
	bool dirty;
	int64_t acquired;
	int64_t released;
	bool will_pin;
	int64_t extract_mode;
	const char *const *bio_flags;
	size_t nr_bio_flags;
	int64_t bio_pages;
	bool got_ref;
	bool is_pfns;
	int64_t nr_frames;
};

/** struct gupc_manifest - one claimed profile ("linux-6.18") and the facets covered under it */
struct gupc_manifest {
	const char *profile;
	uint32_t facets;	/* enum gupc_facet bits */
};

/* Return values of gupc_execute() besides 0: the implementation cannot answer the command. */
#define GUPC_ERR_UNKNOWN_COMMAND	(-1)	/* an op it does not implement */
#define GUPC_ERR_BAD_COMMAND		(-2)	/* arguments it cannot make sense of */
#define GUPC_ERR_INTERNAL		(-3)	/* it is broken */

struct gupc_instance;

/*
 * The library's entry points.  All are required; the host resolves them with dlsym() and refuses a
 * library that lacks one.
 */

/** gupc_abi_version() - must return GUPC_ABI_VERSION as the library was built */
uint32_t gupc_abi_version(void);

/** gupc_name() - the implementation's name, for reports */
const char *gupc_name(void);

/**
 * gupc_manifest() - the @idx'th claimed profile
 *
 * Return: 0 with *@out filled, or a negative value past the last one.
 */
int gupc_manifest(unsigned int idx, struct gupc_manifest *out);

/**
 * gupc_create() - a fresh instance for one run under @profile: an empty address space, no folios,
 * both pin counters at 0
 *
 * Return: the instance, or NULL when @profile is not claimed.
 */
struct gupc_instance *gupc_create(const char *profile);

/**
 * gupc_execute() - execute @cmd on @inst and report into @obs (zeroed by the caller)
 *
 * Return: 0, or GUPC_ERR_* (gupc_error() then says why).  Kernel-level errors are not failures:
 * they are -errno in @obs->result.
 */
int gupc_execute(struct gupc_instance *inst, const struct gupc_command *cmd, struct gupc_observation *obs);

/** gupc_error() - the message of the last failed gupc_execute() on @inst */
const char *gupc_error(struct gupc_instance *inst);

/** gupc_destroy() - free @inst and everything it owns */
void gupc_destroy(struct gupc_instance *inst);

#ifdef __cplusplus
}
#endif

#endif /* _GUPCONFORMANCE_H */
