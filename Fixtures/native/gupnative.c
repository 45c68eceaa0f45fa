// SPDX-License-Identifier: MIT
/*
 * gupnative.c - a kernel-style C implementation of GUP pin/ref accounting for GupConformance
 *
 * Written from Spec/CONTRACT.md and the reference semantics, independently of the C# reference
 * implementation and of the model: folios with atomic _refcount/_pincount, VMAs, the GUP entry
 * points with their era's argument checks, try_grab_folio() and gup_put_folio().  It exports the
 * C ABI of Spec/gupconformance.h and runs inside the native host (host.c), never inside the suite.
 *
 * Facets: Core, LargeFolios and ZeroPage under the released profiles 5.6 … 6.18.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gupconformance.h"

#define PAGE_SHIFT	GUPC_PAGE_SHIFT
#define PAGE_SIZE	GUPC_PAGE_SIZE
#define TASK_SIZE_MAX	GUPC_TASK_SIZE_MAX
#define GUP_PIN_COUNTING_BIAS	GUPC_PIN_COUNTING_BIAS

#define FOLL_WRITE		GUPC_FOLL_WRITE
#define FOLL_TOUCH		GUPC_FOLL_TOUCH
#define FOLL_GET		GUPC_FOLL_GET
#define FOLL_FORCE		GUPC_FOLL_FORCE
#define FOLL_NOFAULT		GUPC_FOLL_NOFAULT
#define FOLL_LONGTERM		GUPC_FOLL_LONGTERM
#define FOLL_PCI_P2PDMA		GUPC_FOLL_PCI_P2PDMA
#define FOLL_HONOR_NUMA_FAULT	GUPC_FOLL_HONOR_NUMA_FAULT
#define FOLL_TRIED		GUPC_FOLL_TRIED
#define FOLL_REMOTE		GUPC_FOLL_REMOTE
#define FOLL_PIN		GUPC_FOLL_PIN
#define FOLL_FAST_ONLY		GUPC_FOLL_FAST_ONLY
#define FOLL_UNLOCKABLE		GUPC_FOLL_UNLOCKABLE
#define FOLL_MADV_POPULATE	GUPC_FOLL_MADV_POPULATE

#define WARN_ON_ONCE(x)	(x)
#define unlikely(x)	__builtin_expect(!!(x), 0)

/* ---- atomics, kernel style ------------------------------------------------------------------ */

typedef struct { atomic_int counter; } atomic_t;
typedef struct { atomic_long counter; } atomic_long_t;

static inline int atomic_read(const atomic_t *v) { return atomic_load_explicit(&v->counter, memory_order_relaxed); }
static inline void atomic_set(atomic_t *v, int i) { atomic_store_explicit(&v->counter, i, memory_order_relaxed); }
/* atomic_t wraps: do the arithmetic unsigned, as the kernel's atomics do */
static inline void atomic_add(int i, atomic_t *v)
{
	unsigned int old = (unsigned int)atomic_load(&v->counter);

	atomic_store(&v->counter, (int)(old + (unsigned int)i));
}
static inline void atomic_sub(int i, atomic_t *v) { atomic_add((int)(0u - (unsigned int)i), v); }
static inline void atomic_long_add(long i, atomic_long_t *v) { atomic_fetch_add(&v->counter, i); }
static inline long atomic_long_read(atomic_long_t *v) { return atomic_load(&v->counter); }

/* ---- eras ----------------------------------------------------------------------------------- */

enum pin_scheme { PINS_PLUS_ONE, PINS_EXACT_ABOVE_ORDER1, PINS_EXACT_ALL_LARGE, PINS_HAS_PINCOUNT };
enum validation { V_LEGACY57, V_LEGACY511, V_LEGACY62, V_VALID63, V_VALID68 };

#define ENTRY(e)	(1u << (e))
#define LEGACY57_ENTRIES (ENTRY(GUPC_GET_USER_PAGES) | ENTRY(GUPC_GET_USER_PAGES_REMOTE) | \
	ENTRY(GUPC_GET_USER_PAGES_UNLOCKED) | ENTRY(GUPC_GET_USER_PAGES_FAST) | ENTRY(GUPC_PIN_USER_PAGES) | \
	ENTRY(GUPC_PIN_USER_PAGES_REMOTE) | ENTRY(GUPC_PIN_USER_PAGES_FAST))
#define FAST_ONLY_ENTRIES (LEGACY57_ENTRIES | ENTRY(GUPC_GET_USER_PAGES_FAST_ONLY) | \
	ENTRY(GUPC_PIN_USER_PAGES_UNLOCKED) | ENTRY(GUPC_PIN_USER_PAGES_FAST_ONLY))
#define MODERN_ENTRIES	(FAST_ONLY_ENTRIES & ~ENTRY(GUPC_PIN_USER_PAGES_FAST_ONLY))

#define FAST57	(FOLL_WRITE | FOLL_LONGTERM | FOLL_FORCE | FOLL_PIN | FOLL_GET)
#define FAST515	(FAST57 | FOLL_FAST_ONLY | FOLL_NOFAULT)
#define FAST62	(FAST515 | FOLL_PCI_P2PDMA)
#define FAST65	(FAST62 | FOLL_HONOR_NUMA_FAULT)

struct gup_era {
	const char *id;
	enum pin_scheme pins;
	enum validation validation;
	bool is_64bit;
	bool zero_page_pinned;		/* before 6.5 (c8070b787519) */
	bool longterm_unshares_zero;	/* 6.2+ gup_must_unshare() */
	bool has_pin_vmstat;		/* 5.7+ */
	bool has_maybe_dma_pinned;	/* 5.7+ */
	bool has_folio_add_pin;		/* 6.5+ */
	bool refuses_longterm_file_write; /* 6.5+ */
	bool has_madv_populate;		/* 6.12+ flag table */
	long fast_overflow_result;	/* 0 up to 6.4, -EOVERFLOW from 6.5 */
	uint64_t fast_accepted;
	unsigned int entries;
};

static const struct gup_era eras[] = {
	{ "linux-5.6", PINS_PLUS_ONE, V_LEGACY57, true, true, false, false, false, false, false, false, 0, FAST57, LEGACY57_ENTRIES },
	{ "linux-5.7", PINS_EXACT_ABOVE_ORDER1, V_LEGACY57, true, true, false, true, true, false, false, false, 0, FAST57, LEGACY57_ENTRIES },
	{ "linux-5.19", PINS_EXACT_ALL_LARGE, V_LEGACY511, true, true, false, true, true, false, false, false, 0, FAST515, FAST_ONLY_ENTRIES },
	{ "linux-6.2", PINS_EXACT_ALL_LARGE, V_LEGACY62, true, true, true, true, true, false, false, false, 0, FAST62, FAST_ONLY_ENTRIES },
	{ "linux-6.5", PINS_EXACT_ALL_LARGE, V_VALID63, true, false, true, true, true, true, true, false, -EOVERFLOW, FAST65, MODERN_ENTRIES },
	{ "linux-6.8", PINS_EXACT_ALL_LARGE, V_VALID68, true, false, true, true, true, true, true, false, -EOVERFLOW, FAST65, MODERN_ENTRIES },
	{ "linux-6.15", PINS_HAS_PINCOUNT, V_VALID68, true, false, true, true, true, true, true, true, -EOVERFLOW, FAST65, MODERN_ENTRIES },
	{ "linux-6.15-32bit", PINS_HAS_PINCOUNT, V_VALID68, false, false, true, true, true, true, true, true, -EOVERFLOW, FAST65, MODERN_ENTRIES },
	{ "linux-6.18", PINS_HAS_PINCOUNT, V_VALID68, true, false, true, true, true, true, true, true, -EOVERFLOW, FAST65, MODERN_ENTRIES },
};

#define NR_ERAS (sizeof(eras) / sizeof(eras[0]))
#define CLAIMED_FACETS (GUPC_FACET_CORE | GUPC_FACET_LARGE_FOLIOS | GUPC_FACET_ZERO_PAGE)

/* ---- memory --------------------------------------------------------------------------------- */

#define PG_dirty	0

struct folio {
	atomic_t _refcount;
	atomic_t _pincount;
	unsigned long flags;
	unsigned int order;
	bool is_zero;
	char key[24];
};

#define VM_IO		0x00004000UL
#define VM_PFNMAP	0x00000400UL
#define VM_SHARED	0x00000008UL

struct vm_area_struct {
	uint64_t vm_start, vm_end;
	unsigned long vm_flags;
	enum gupc_region_kind kind;
	int region;
	unsigned int order;
	long nr_folios;
	struct folio **folios;		/* per folio (zero regions: per page, NULL until faulted) */
	bool *write_mapped;		/* file regions: per page, the PTE was made writable by a write fault */
};

enum hold { HOLD_NONE, HOLD_REF, HOLD_PIN };

struct page_entry {
	struct folio *folio;
	long page;			/* page index within the folio */
	enum hold hold;
};

struct pages_array {
	int call;
	long nr;
	struct page_entry *entries;
};

struct mm_struct {
	const struct gup_era *era;
	struct vm_area_struct *vmas;
	int nr_vmas;
	struct folio zero_folio;
	bool zero_mapped;
	struct pages_array *arrays;
	int nr_arrays;
	atomic_long_t nr_foll_pin_acquired;
	atomic_long_t nr_foll_pin_released;
};

struct gupc_instance {
	struct mm_struct mm;
	struct gupc_page_run *runs;
	size_t runs_cap;
	char error[256];
};

static inline int folio_ref_count(struct folio *folio) { return atomic_read(&folio->_refcount); }
static inline void folio_ref_add(struct folio *folio, int nr) { atomic_add(nr, &folio->_refcount); }
static inline void folio_put_refs(struct folio *folio, int refs) { atomic_sub(refs, &folio->_refcount); }
static inline bool is_zero_folio(struct folio *folio) { return folio->is_zero; }
static inline void folio_mark_dirty(struct folio *folio) { folio->flags |= 1UL << PG_dirty; }
static inline bool folio_test_dirty(struct folio *folio) { return folio->flags & (1UL << PG_dirty); }

/* Which folios keep an exact pin count in this era (Spec/CONTRACT.md §2). */
static bool folio_has_pincount(const struct mm_struct *mm, const struct folio *folio)
{
	switch (mm->era->pins) {
	case PINS_PLUS_ONE:
		return false;
	case PINS_EXACT_ABOVE_ORDER1:
		return folio->order > 1;
	case PINS_EXACT_ALL_LARGE:
		return folio->order >= 1;
	case PINS_HAS_PINCOUNT:
		return mm->era->is_64bit ? folio->order >= 1 : folio->order > 1;
	}
	return false;
}

static bool folio_maybe_dma_pinned(const struct mm_struct *mm, struct folio *folio)
{
	if (folio_has_pincount(mm, folio))
		return atomic_read(&folio->_pincount) > 0;
	return (unsigned int)folio_ref_count(folio) >= GUP_PIN_COUNTING_BIAS;
}

static void node_stat_mod_folio(struct mm_struct *mm, atomic_long_t *item, long nr)
{
	if (mm->era->has_pin_vmstat)
		atomic_long_add(nr, item);
}

/*
 * try_grab_folio() - take a reference or a pin on @folio
 *
 * Return: 0, or -ENOMEM when the refcount is not positive (no saturation: the check is made before
 * the add, so the counters wrap).
 */
static int try_grab_folio(struct mm_struct *mm, struct folio *folio, int refs, uint64_t flags)
{
	if (WARN_ON_ONCE(folio_ref_count(folio) <= 0))
		return -ENOMEM;

	if (flags & FOLL_PIN && is_zero_folio(folio) && !mm->era->zero_page_pinned)
		return 0;

	if (flags & FOLL_GET) {
		folio_ref_add(folio, refs);
	} else if (flags & FOLL_PIN) {
		if (mm->era->pins == PINS_PLUS_ONE) {
			folio_ref_add(folio, refs);
		} else if (folio_has_pincount(mm, folio)) {
			folio_ref_add(folio, refs);
			atomic_add(refs, &folio->_pincount);
		} else {
			folio_ref_add(folio, refs * GUP_PIN_COUNTING_BIAS);
		}
		node_stat_mod_folio(mm, &mm->nr_foll_pin_acquired, refs);
	}
	return 0;
}

/* gup_put_folio() - drop what try_grab_folio() took */
static void gup_put_folio(struct mm_struct *mm, struct folio *folio, int refs, uint64_t flags)
{
	if (flags & FOLL_PIN) {
		if (is_zero_folio(folio) && !mm->era->zero_page_pinned)
			return;
		node_stat_mod_folio(mm, &mm->nr_foll_pin_released, refs);
		if (mm->era->pins != PINS_PLUS_ONE) {
			if (folio_has_pincount(mm, folio))
				atomic_sub(refs, &folio->_pincount);
			else
				refs *= GUP_PIN_COUNTING_BIAS;
		}
	}
	folio_put_refs(folio, refs);
}

static void folio_add_pin(struct mm_struct *mm, struct folio *folio)
{
	if (is_zero_folio(folio) && !mm->era->zero_page_pinned)
		return;
	if (folio_has_pincount(mm, folio)) {
		folio_ref_add(folio, 1);
		atomic_add(1, &folio->_pincount);
	} else {
		folio_ref_add(folio, GUP_PIN_COUNTING_BIAS);
	}
}

static struct folio *folio_alloc(const char *key, unsigned int order, int refcount)
{
	struct folio *folio = calloc(1, sizeof(*folio));

	if (!folio)
		return NULL;
	atomic_set(&folio->_refcount, refcount);
	folio->order = order;
	snprintf(folio->key, sizeof(folio->key), "%s", key);
	return folio;
}

static struct vm_area_struct *find_vma(struct mm_struct *mm, uint64_t addr)
{
	for (int i = 0; i < mm->nr_vmas; i++)
		if (mm->vmas[i].vm_start <= addr && addr < mm->vmas[i].vm_end)
			return &mm->vmas[i];
	return NULL;
}

static struct folio *find_folio(struct mm_struct *mm, const char *key)
{
	if (!strcmp(key, "zero"))
		return mm->zero_mapped ? &mm->zero_folio : NULL;
	for (int i = 0; i < mm->nr_vmas; i++) {
		struct vm_area_struct *vma = &mm->vmas[i];

		for (long f = 0; f < vma->nr_folios; f++)
			if (vma->folios[f] && !strcmp(vma->folios[f]->key, key))
				return vma->folios[f];
	}
	return NULL;
}

static struct pages_array *find_array(struct mm_struct *mm, int call)
{
	for (int i = 0; i < mm->nr_arrays; i++)
		if (mm->arrays[i].call == call)
			return &mm->arrays[i];
	return NULL;
}

static struct pages_array *new_array(struct mm_struct *mm, int call, long nr)
{
	struct pages_array *a = find_array(mm, call);

	if (!a) {
		struct pages_array *grown = realloc(mm->arrays, sizeof(*grown) * (mm->nr_arrays + 1));

		if (!grown)
			return NULL;
		mm->arrays = grown;
		a = &mm->arrays[mm->nr_arrays++];
		a->call = call;
		a->entries = NULL;
	}
	free(a->entries);
	a->nr = 0;
	a->entries = nr ? calloc(nr, sizeof(*a->entries)) : NULL;
	if (nr && !a->entries)
		return NULL;
	return a;
}

/* ---- the walk ------------------------------------------------------------------------------- */

/*
 * follow_page() + try_grab_folio() for one address: the entry, or -errno.  A zero-page PTE is
 * replaced by a fresh anonymous folio on a write fault, and on a R/O long-term pin where the era
 * unshares it.
 */
static int follow_and_grab(struct mm_struct *mm, uint64_t addr, uint64_t flags, bool grab, struct page_entry *out)
{
	struct vm_area_struct *vma = find_vma(mm, addr);
	struct folio *folio;
	long page;
	int ret;

	/* check_vma_flags() of whichever VMA this address lies in: the walk crosses into the next one (GUP-WALK-NEXT-VMA) */
	if (!vma || vma->vm_flags & (VM_IO | VM_PFNMAP))
		return -EFAULT;
	/* v6.2 only: a long-term pin may not ask for P2PDMA pages (API-LONGTERM-P2PDMA); 6.3 moved it to is_valid_gup_args() */
	if (mm->era->validation == V_LEGACY62 &&
	    (flags & (FOLL_LONGTERM | FOLL_PCI_P2PDMA)) == (FOLL_LONGTERM | FOLL_PCI_P2PDMA))
		return -EOPNOTSUPP;
	if (vma->kind == GUPC_REGION_FILE && mm->era->refuses_longterm_file_write &&
	    (flags & (FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE)) == (FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE))
		return -EFAULT;

	page = (long)((addr - vma->vm_start) >> PAGE_SHIFT);
	/* FILE-WRITE-FAULT-DIRTY: a clean shared file page is mapped read-only, so a write lookup faults it
	 * writable first, and the fault dirties it (wp_page_shared() -> fault_dirty_shared_page()). */
	if (vma->kind == GUPC_REGION_FILE && flags & FOLL_WRITE && !vma->write_mapped[page]) {
		vma->write_mapped[page] = true;
		folio_mark_dirty(vma->folios[page]);
	}
	if (vma->kind == GUPC_REGION_ZERO) {
		folio = vma->folios[page];
		if (!folio) {
			bool unshare = (flags & (FOLL_PIN | FOLL_LONGTERM)) == (FOLL_PIN | FOLL_LONGTERM) &&
				       mm->era->longterm_unshares_zero;

			if (flags & FOLL_WRITE || unshare) {
				char key[24];

				snprintf(key, sizeof(key), "r%d.f%ld", vma->region, page);
				folio = folio_alloc(key, 0, 1);
				if (!folio)
					return -ENOMEM;
				vma->folios[page] = folio;
			} else {
				folio = &mm->zero_folio;
			}
		}
		out->page = 0;
	} else {
		folio = vma->folios[page >> vma->order];
		out->page = page & ((1L << vma->order) - 1);
	}

	out->folio = folio;
	out->hold = HOLD_NONE;
	if (!grab)
		return 0;
	ret = try_grab_folio(mm, folio, 1, flags);
	if (ret)
		return ret;
	out->hold = flags & FOLL_PIN ? HOLD_PIN : HOLD_REF;
	return 0;
}

static long __get_user_pages_locked(struct mm_struct *mm, uint64_t start, long nr_pages, uint64_t flags,
				    struct pages_array *pages)
{
	struct page_entry entry;
	long i;

	if (pages && !(flags & FOLL_PIN))
		flags |= FOLL_GET;

	for (i = 0; i < nr_pages; i++) {
		int ret = follow_and_grab(mm, start + (uint64_t)i * PAGE_SIZE, flags,
					  (flags & (FOLL_GET | FOLL_PIN)) != 0, &entry);

		if (ret) {
			if (i || flags & FOLL_FAST_ONLY)
				return i;
			return ret;
		}
		if (pages)
			pages->entries[pages->nr++] = entry;
	}
	return i;
}

/* is_valid_gup_args() (6.3+): 0 or a refusal; *gup_flags gets @to_set */
static bool is_valid_gup_args(const struct gup_era *era, bool with_pages, uint64_t *gup_flags, uint64_t to_set)
{
	uint64_t internal = FOLL_PIN | FOLL_TRIED | FOLL_UNLOCKABLE | FOLL_REMOTE | FOLL_FAST_ONLY;
	uint64_t flags = *gup_flags;

	if (era->validation == V_VALID68) {
		internal |= FOLL_TOUCH;
		if (era->has_madv_populate)
			internal |= FOLL_MADV_POPULATE;
	}
	if (WARN_ON_ONCE(flags & internal))
		return false;
	flags |= to_set;
	if (WARN_ON_ONCE((flags & (FOLL_PIN | FOLL_GET)) == (FOLL_PIN | FOLL_GET)))
		return false;
	if (WARN_ON_ONCE((flags & FOLL_LONGTERM) && !(flags & FOLL_PIN)))
		return false;
	if (WARN_ON_ONCE(!with_pages && (flags & (FOLL_GET | FOLL_PIN))))
		return false;
	if (WARN_ON_ONCE((flags & (FOLL_LONGTERM | FOLL_PCI_P2PDMA)) == (FOLL_LONGTERM | FOLL_PCI_P2PDMA)))
		return false;
	*gup_flags = flags;
	return true;
}

static uint64_t entry_to_set(enum gupc_entry entry)
{
	switch (entry) {
	case GUPC_GET_USER_PAGES: return FOLL_TOUCH;
	case GUPC_GET_USER_PAGES_REMOTE: return FOLL_TOUCH | FOLL_REMOTE;
	case GUPC_GET_USER_PAGES_UNLOCKED: return FOLL_TOUCH | FOLL_UNLOCKABLE;
	case GUPC_GET_USER_PAGES_FAST: return FOLL_GET;
	case GUPC_GET_USER_PAGES_FAST_ONLY: return FOLL_GET | FOLL_FAST_ONLY;
	case GUPC_PIN_USER_PAGES_FAST: return FOLL_PIN;
	case GUPC_PIN_USER_PAGES: return FOLL_PIN;
	case GUPC_PIN_USER_PAGES_REMOTE: return FOLL_PIN | FOLL_TOUCH | FOLL_REMOTE;
	case GUPC_PIN_USER_PAGES_UNLOCKED: return FOLL_PIN | FOLL_TOUCH | FOLL_UNLOCKABLE;
	case GUPC_PIN_USER_PAGES_FAST_ONLY: return FOLL_PIN | FOLL_FAST_ONLY;
	}
	return 0;
}

static bool entry_is_pin(enum gupc_entry e) { return e >= GUPC_PIN_USER_PAGES; }
static bool entry_is_fast(enum gupc_entry e)
{
	return e == GUPC_GET_USER_PAGES_FAST || e == GUPC_GET_USER_PAGES_FAST_ONLY ||
	       e == GUPC_PIN_USER_PAGES_FAST || e == GUPC_PIN_USER_PAGES_FAST_ONLY;
}

/* The pre-6.3 per-entry-point checks (5.7 … 6.2); 0 or -EINVAL, and the flags the entry point adds. */
static long legacy_gup_checks(const struct gup_era *era, enum gupc_entry entry, bool with_pages, uint64_t *gup_flags)
{
	uint64_t flags = *gup_flags;

	switch (entry) {
	case GUPC_GET_USER_PAGES:
	case GUPC_GET_USER_PAGES_REMOTE:
	case GUPC_GET_USER_PAGES_FAST:
		if (WARN_ON_ONCE(flags & FOLL_PIN))
			return -EINVAL;
		if (era->validation != V_LEGACY57 && WARN_ON_ONCE(flags & FOLL_LONGTERM))
			return -EINVAL;
		break;
	default:
		break;
	}
	if (entry_is_pin(entry) && WARN_ON_ONCE(flags & FOLL_GET))
		return -EINVAL;
	/* 6.2: every pin_*() refuses a NULL pages array (API-PAGES-REQUIRED) */
	if (era->validation == V_LEGACY62 && entry_is_pin(entry) && WARN_ON_ONCE(!with_pages))
		return -EINVAL;
	/*
	 * API-UNLOCKED-LONGTERM: up to 6.1 get_user_pages_unlocked() (and the pin variant through it) refuses
	 * FOLL_LONGTERM; 6.2 calls __gup_longterm_locked(), which refuses it only without FOLL_PIN.
	 */
	if (entry == GUPC_GET_USER_PAGES_UNLOCKED || entry == GUPC_PIN_USER_PAGES_UNLOCKED) {
		bool pin = entry == GUPC_PIN_USER_PAGES_UNLOCKED || (flags & FOLL_PIN);

		if (era->validation != V_LEGACY62 && WARN_ON_ONCE(flags & FOLL_LONGTERM))
			return -EINVAL;
		if (era->validation == V_LEGACY62 && WARN_ON_ONCE((flags & FOLL_LONGTERM) && !pin))
			return -EINVAL;
	}

	if (entry == GUPC_GET_USER_PAGES_FAST || entry == GUPC_GET_USER_PAGES_FAST_ONLY)
		flags |= FOLL_GET;
	if (entry_is_pin(entry))
		flags |= FOLL_PIN;
	if (entry == GUPC_GET_USER_PAGES_FAST_ONLY || entry == GUPC_PIN_USER_PAGES_FAST_ONLY)
		flags |= FOLL_FAST_ONLY;
	*gup_flags = flags;
	return 0;
}

/* One GUP entry point: argument checks, the fast-path range checks, then the walk. */
static long gup_entry(struct mm_struct *mm, const struct gupc_gup *g, struct pages_array *pages)
{
	const struct gup_era *era = mm->era;
	uint64_t flags = g->flags;
	long ret;

	if (era->validation >= V_VALID63) {
		if (!is_valid_gup_args(era, g->with_pages, &flags, entry_to_set(g->entry))) {
			bool returns_zero = g->entry == GUPC_PIN_USER_PAGES || g->entry == GUPC_PIN_USER_PAGES_REMOTE ||
					    g->entry == GUPC_PIN_USER_PAGES_UNLOCKED;

			return returns_zero ? 0 : -EINVAL;
		}
	} else {
		ret = legacy_gup_checks(era, g->entry, g->with_pages, &flags);
		if (ret)
			return ret;
	}

	if (entry_is_fast(g->entry)) {
		uint64_t len = (uint64_t)g->nr_pages << PAGE_SHIFT, end;

		if (WARN_ON_ONCE(flags & ~era->fast_accepted))
			return -EINVAL;
		if (__builtin_add_overflow(g->start, len, &end))
			return era->fast_overflow_result;
		if (end > TASK_SIZE_MAX)
			return -EFAULT;
	}
	return __get_user_pages_locked(mm, g->start, g->nr_pages, flags, pages);
}

/* ---- commands ------------------------------------------------------------------------------- */

static int fail(struct gupc_instance *inst, int code, const char *fmt, const char *arg)
{
	snprintf(inst->error, sizeof(inst->error), fmt, arg);
	return code;
}

static int do_map(struct gupc_instance *inst, const struct gupc_map *m, struct gupc_observation *obs)
{
	struct mm_struct *mm = &inst->mm;
	struct vm_area_struct *vmas = realloc(mm->vmas, sizeof(*vmas) * (mm->nr_vmas + 1));
	struct vm_area_struct *vma;

	if (!vmas)
		return fail(inst, GUPC_ERR_INTERNAL, "%s", "out of memory");
	mm->vmas = vmas;
	vma = &vmas[mm->nr_vmas++];
	memset(vma, 0, sizeof(*vma));
	vma->kind = m->kind;
	vma->region = m->region;
	vma->order = m->kind == GUPC_REGION_ANON ? (unsigned int)m->order : 0;
	vma->vm_start = m->start;
	vma->vm_end = m->start + ((uint64_t)m->folios << (vma->order + PAGE_SHIFT));
	vma->vm_flags = m->kind == GUPC_REGION_IO ? VM_IO : m->kind == GUPC_REGION_PFNMAP ? VM_PFNMAP :
			m->kind == GUPC_REGION_FILE ? VM_SHARED : 0;
	vma->nr_folios = m->folios;
	vma->folios = calloc(m->folios ? m->folios : 1, sizeof(*vma->folios));
	vma->write_mapped = calloc(m->folios ? m->folios : 1, sizeof(*vma->write_mapped));
	if (!vma->folios || !vma->write_mapped)
		return fail(inst, GUPC_ERR_INTERNAL, "%s", "out of memory");
	if (m->kind == GUPC_REGION_ZERO) {
		if (!mm->zero_mapped) {
			mm->zero_mapped = true;
			atomic_set(&mm->zero_folio._refcount, 1);
			mm->zero_folio.is_zero = true;
			strcpy(mm->zero_folio.key, "zero");
		}
	} else {
		for (long i = 0; i < m->folios; i++) {
			char key[24];

			snprintf(key, sizeof(key), "r%d.f%ld", m->region, i);
			vma->folios[i] = folio_alloc(key, vma->order, m->kind == GUPC_REGION_ANON ? m->start_refcount : 1);
			if (!vma->folios[i])
				return fail(inst, GUPC_ERR_INTERNAL, "%s", "out of memory");
		}
	}
	obs->present = GUPC_OBS_RESULT;
	obs->result = 0;
	return 0;
}

static int report_pages(struct gupc_instance *inst, const struct page_entry *entries, long nr, struct gupc_observation *obs)
{
	if ((size_t)nr > inst->runs_cap) {
		struct gupc_page_run *runs = realloc(inst->runs, sizeof(*runs) * (size_t)nr);

		if (!runs)
			return fail(inst, GUPC_ERR_INTERNAL, "%s", "out of memory");
		inst->runs = runs;
		inst->runs_cap = (size_t)nr;
	}
	obs->nr_runs = 0;
	for (long i = 0; i < nr; i++) {
		struct gupc_page_run *last = obs->nr_runs ? &inst->runs[obs->nr_runs - 1] : NULL;

		if (last && last->folio == entries[i].folio->key && last->first + last->count == entries[i].page) {
			last->count++;
			continue;
		}
		inst->runs[obs->nr_runs++] = (struct gupc_page_run){ entries[i].folio->key, entries[i].page, 1 };
	}
	obs->pages = inst->runs;
	obs->present |= GUPC_OBS_PAGES;
	return 0;
}

static int do_gup(struct gupc_instance *inst, const struct gupc_gup *g, struct gupc_observation *obs)
{
	struct mm_struct *mm = &inst->mm;
	struct pages_array *pages = NULL;
	long ret;

	if (!(mm->era->entries & ENTRY(g->entry)))
		return fail(inst, GUPC_ERR_BAD_COMMAND, "%s", "entry point not in this era");
	if (g->nr_pages < 1)
		return fail(inst, GUPC_ERR_BAD_COMMAND, "%s", "nr_pages < 1");
	if (g->with_pages) {
		/* a walk past every mapped page fails at a hole, so the array needs no more entries than that */
		long cap = 0;

		for (int i = 0; i < mm->nr_vmas; i++)
			cap += (long)((mm->vmas[i].vm_end - mm->vmas[i].vm_start) >> PAGE_SHIFT);
		pages = new_array(mm, g->call, g->nr_pages < cap ? g->nr_pages : cap);
		if (!pages && (g->nr_pages < cap ? g->nr_pages : cap))
			return fail(inst, GUPC_ERR_INTERNAL, "%s", "out of memory");
	}

	ret = gup_entry(mm, g, pages);
	if ((g->entry == GUPC_GET_USER_PAGES_FAST_ONLY || g->entry == GUPC_PIN_USER_PAGES_FAST_ONLY) &&
	    mm->era->validation < V_VALID63 && ret < 0)
		ret = 0;	/* before 6.3 the fast-only calls never return an error */

	obs->present = GUPC_OBS_RESULT;
	obs->result = ret;
	if (g->with_pages) {
		if (ret <= 0 && pages)
			pages->nr = 0;
		return report_pages(inst, pages ? pages->entries : NULL, pages ? pages->nr : 0, obs);
	}
	return 0;
}

static int do_release(struct gupc_instance *inst, const struct gupc_release *r, struct gupc_observation *obs)
{
	struct mm_struct *mm = &inst->mm;
	struct pages_array *a = find_array(mm, r->call);

	if (!a || r->index < 0 || r->count < 0 || r->index + r->count > a->nr)
		return fail(inst, GUPC_ERR_BAD_COMMAND, "%s", "no such entries");

	for (long i = r->index; i < r->index + r->count; i++) {
		struct folio *folio = a->entries[i].folio;

		switch (r->fn) {
		case GUPC_PUT_PAGE:
			gup_put_folio(mm, folio, 1, FOLL_GET);
			break;
		case GUPC_UNPIN_USER_PAGES_DIRTY_LOCK:
		case GUPC_UNPIN_USER_PAGE_RANGE_DIRTY_LOCK:
			if (r->make_dirty && !is_zero_folio(folio) && !folio_test_dirty(folio))
				folio_mark_dirty(folio);
			/* fall through */
		case GUPC_UNPIN_USER_PAGE:
		case GUPC_UNPIN_USER_PAGES:
			gup_put_folio(mm, folio, 1, FOLL_PIN);
			break;
		}
		a->entries[i].hold = HOLD_NONE;
	}
	obs->present = GUPC_OBS_RESULT;
	obs->result = 0;
	return 0;
}

static int do_folio_add_pin(struct gupc_instance *inst, const struct gupc_folio_add_pin *p, struct gupc_observation *obs)
{
	struct mm_struct *mm = &inst->mm;
	struct pages_array *from = find_array(mm, p->from_call);
	struct pages_array *to;
	struct page_entry entry;

	if (!mm->era->has_folio_add_pin)
		return fail(inst, GUPC_ERR_BAD_COMMAND, "%s", "no folio_add_pin() in this era");
	if (!from || p->index < 0 || p->index >= from->nr)
		return fail(inst, GUPC_ERR_BAD_COMMAND, "%s", "no such entry");
	entry = from->entries[p->index];
	folio_add_pin(mm, entry.folio);
	to = new_array(mm, p->new_call, 1);
	if (!to)
		return fail(inst, GUPC_ERR_INTERNAL, "%s", "out of memory");
	entry.hold = HOLD_PIN;
	to->entries[to->nr++] = entry;
	obs->present = GUPC_OBS_RESULT;
	obs->result = 0;
	return report_pages(inst, to->entries, 1, obs);
}

static int do_inspect(struct gupc_instance *inst, const char *key, struct gupc_observation *obs)
{
	struct mm_struct *mm = &inst->mm;
	struct folio *folio = find_folio(mm, key);

	if (!folio)
		return fail(inst, GUPC_ERR_BAD_COMMAND, "no folio %s", key);
	obs->present = GUPC_OBS_REFCOUNT;
	obs->refcount = folio_ref_count(folio);
	if (folio_has_pincount(mm, folio)) {
		obs->present |= GUPC_OBS_PINCOUNT;
		obs->pincount = atomic_read(&folio->_pincount);
	}
	if (mm->era->has_maybe_dma_pinned) {
		obs->present |= GUPC_OBS_MAYBE_DMA_PINNED;
		obs->maybe_dma_pinned = folio_maybe_dma_pinned(mm, folio);
	}
	if (!is_zero_folio(folio)) {
		obs->present |= GUPC_OBS_DIRTY;
		obs->dirty = folio_test_dirty(folio);
	}
	return 0;
}

/* ---- the ABI -------------------------------------------------------------------------------- */

uint32_t gupc_abi_version(void)
{
	return GUPC_ABI_VERSION;
}

const char *gupc_name(void)
{
	return "c-kernel-style";
}

int gupc_manifest(unsigned int idx, struct gupc_manifest *out)
{
	if (idx >= NR_ERAS)
		return -ENOENT;
	out->profile = eras[idx].id;
	out->facets = CLAIMED_FACETS;
	return 0;
}

struct gupc_instance *gupc_create(const char *profile)
{
	struct gupc_instance *inst;

	for (size_t i = 0; i < NR_ERAS; i++) {
		if (strcmp(eras[i].id, profile))
			continue;
		inst = calloc(1, sizeof(*inst));
		if (inst)
			inst->mm.era = &eras[i];
		return inst;
	}
	return NULL;
}

int gupc_execute(struct gupc_instance *inst, const struct gupc_command *cmd, struct gupc_observation *obs)
{
	struct mm_struct *mm = &inst->mm;

	inst->error[0] = '\0';
	switch (cmd->op) {
	case GUPC_OP_MAP:
		return do_map(inst, &cmd->u.map, obs);
	case GUPC_OP_GUP:
		return do_gup(inst, &cmd->u.gup, obs);
	case GUPC_OP_RELEASE:
		return do_release(inst, &cmd->u.release, obs);
	case GUPC_OP_FOLIO_ADD_PIN:
		return do_folio_add_pin(inst, &cmd->u.folio_add_pin, obs);
	case GUPC_OP_INSPECT_FOLIO:
		return do_inspect(inst, cmd->u.inspect_folio.folio, obs);
	case GUPC_OP_READ_VMSTAT:
		if (mm->era->has_pin_vmstat) {
			obs->present = GUPC_OBS_ACQUIRED | GUPC_OBS_RELEASED;
			obs->acquired = atomic_long_read(&mm->nr_foll_pin_acquired);
			obs->released = atomic_long_read(&mm->nr_foll_pin_released);
		}
		return 0;
	default:
		return fail(inst, GUPC_ERR_UNKNOWN_COMMAND, "%s", "this implementation covers Core, LargeFolios and ZeroPage only");
	}
}

const char *gupc_error(struct gupc_instance *inst)
{
	return inst->error;
}

void gupc_destroy(struct gupc_instance *inst)
{
	struct mm_struct *mm;

	if (!inst)
		return;
	mm = &inst->mm;
	for (int i = 0; i < mm->nr_vmas; i++) {
		for (long f = 0; f < mm->vmas[i].nr_folios; f++)
			free(mm->vmas[i].folios[f]);
		free(mm->vmas[i].folios);
		free(mm->vmas[i].write_mapped);
	}
	free(mm->vmas);
	for (int i = 0; i < mm->nr_arrays; i++)
		free(mm->arrays[i].entries);
	free(mm->arrays);
	free(inst->runs);
	free(inst);
}
