// SPDX-License-Identifier: GPL-2.0
/*
 * GupConformance in-kernel adapter (test only; never build it into a kernel that runs anything else).
 *
 * /dev/gupc executes the GupConformance contract's commands (Spec/CONTRACT.md in the GupConformance repository)
 * with this kernel's own functions -- get_user_pages*(), pin_user_pages*(), unpin_user_page*(), folio_add_pin(),
 * iov_iter_extract_pages(), bio_iov_iter_get_pages() + bio_release_pages(), get_vaddr_frames(),
 * netfs_extract_user_iter() -- on the mm of the process that opened it, and reports what the contract observes:
 * refcounts, exact pin counts, folio_maybe_dma_pinned(), dirty flags and the nr_foll_pin_* counters.
 *
 * Fixtures/Kernel/build-kernel.sh copies this file into drivers/misc/ of the tree under test and adds a
 * Kconfig entry; the guest server (Fixtures/Kernel/guest/gupc_server.c) is its only user.
 *
 * Memory. The contract wants anonymous regions whose folios have a given order, are physically contiguous in
 * order (unpin_user_page_range_dirty_lock() and bvec iterators walk struct pages by pointer arithmetic) and
 * start at a given refcount. Ordinary anonymous faults give none of that, so anon regions (and the VM_IO /
 * VM_PFNMAP ones) are built here: one physically contiguous allocation, cut into compound folios of the order
 * asked for, mapped by PTEs into a MAP_SHARED mapping of /dev/gupc. The GUP code that then runs on them is the
 * kernel's ordinary code for normal, refcounted, PTE-mapped pages. Zero-page regions are real anonymous
 * memory (the zero page only exists there) and file regions are real page-cache pages of ext2 on a ram disk.
 *
 * Refcounts. Right after mapping, a folio of ours holds one reference from this adapter plus one per PTE. The
 * adapter lends those out: it sets the refcount to exactly the start refcount the contract asks for, so the
 * kernel's sign checks and wrap-arounds happen at the values the contract names, and gives them back before
 * the mapping goes away (GUPC_IOC_PREPARE_END). Folios the adapter does not own (page cache, faulted anon
 * pages, the zero page) are reported relative to their refcount when first seen.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/pagewalk.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/version.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>
#include <linux/xarray.h>

#if IS_BUILTIN(CONFIG_VIDEOBUF2_CORE)
#include <media/frame_vector.h>
#define GUPC_FRAME_VECTOR 1
#else
#define GUPC_FRAME_VECTOR 0
#endif

/* iov_iter_extract_pages() and netfs_extract_user_iter() arrived together in v6.3. */
#define GUPC_EXTRACT (LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0))
#if GUPC_EXTRACT && IS_BUILTIN(CONFIG_NETFS_SUPPORT)
#include <linux/netfs.h>
#define GUPC_NETFS 1
#else
#define GUPC_NETFS 0
#endif

#include "gupc_uapi.h"

/* mm/page_alloc.c; declared in mm/internal.h, which a driver should not include. */
extern void prep_compound_page(struct page *page, unsigned int order);

#define GUPC_MAX_PAGES (1L << 22)
#define GUPC_MAX_SEGS 64
#define GUPC_MAX_ORDER 10

/* The largest order the buddy allocator hands out (MAX_ORDER was exclusive before v6.4, renamed in v6.8). */
#ifdef MAX_PAGE_ORDER
#define GUPC_BUDDY_ORDER MAX_PAGE_ORDER
#else
#define GUPC_BUDDY_ORDER (MAX_ORDER - 1)
#endif

struct gupc_folio {
	struct folio *folio;
	int start;      /* the contract's start refcount */
	int base;       /* the real refcount that stands for `start` */
	int natural;    /* the real refcount to restore before the mapping goes away */
	bool lent;      /* owned by the adapter: base == start, references lent out */
};

struct gupc_region {
	u32 id, kind, order, folios;
	unsigned long start, npages;
	int start_refcount;
	struct page *block;        /* anon/io/pfnmap: npages physically consecutive pages */
	struct gupc_folio *recs;   /* anon/io/pfnmap: one per folio; zero/file: one per page */
	bool inserted, done;
};

struct gupc_call {
	unsigned long nr;
	struct page **pages;
	struct gupc_page *names;
};

struct gupc_iter {
	struct iov_iter it;
	u32 kind;
	u32 nr_segs;
	struct gupc_seg segs[GUPC_MAX_SEGS];
	size_t total;
	struct iovec *iov;
	struct kvec *kvec;
	struct bio_vec *bvec;
	void *maps[GUPC_MAX_SEGS];
	struct xarray xa;
	bool has_xa;
};

struct gupc_request {
	struct iov_iter it;
	ssize_t nbv;
	bool will_pin;
};

static DEFINE_MUTEX(gupc_lock);
static DEFINE_XARRAY(gupc_regions);
static DEFINE_XARRAY(gupc_calls);
static DEFINE_XARRAY(gupc_iters);
static DEFINE_XARRAY(gupc_bios);
static DEFINE_XARRAY(gupc_fvs);
static DEFINE_XARRAY(gupc_netfss);
static LIST_HEAD(gupc_spacers);
static int gupc_zero_base;
static long gupc_acq_base, gupc_rel_base;
static struct file *gupc_bio_file;

/* ---- counters ---------------------------------------------------------------------------------------- */

/* The exact value of a node counter: the global atomic plus every CPU's not yet folded difference. */
static long gupc_node_stat(enum node_stat_item item)
{
	struct pglist_data *pgdat;
	long sum = 0;
	int cpu;

	for_each_online_pgdat(pgdat) {
		sum += atomic_long_read(&pgdat->vm_stat[item]);
		for_each_online_cpu(cpu)
			sum += per_cpu_ptr(pgdat->per_cpu_nodestats, cpu)->vm_node_stat_diff[item];
	}
	return sum;
}

/* ---- regions and page names --------------------------------------------------------------------------- */

static struct gupc_region *gupc_region_at(unsigned long addr)
{
	struct gupc_region *r;
	unsigned long id;

	xa_for_each(&gupc_regions, id, r) {
		if (r->done && addr >= r->start && addr < r->start + (r->npages << PAGE_SHIFT))
			return r;
	}
	return NULL;
}

static bool gupc_owned(const struct gupc_region *r)
{
	return r->kind == GUPC_ANON || r->kind == GUPC_IO || r->kind == GUPC_PFNMAP;
}

struct gupc_walk {
	struct page *page;
	bool present;
};

static int gupc_pte(pte_t *ptep, unsigned long addr, unsigned long next, struct mm_walk *walk)
{
	struct gupc_walk *w = walk->private;
	pte_t pte = ptep_get(ptep);

	if (pte_present(pte)) {
		w->present = true;
		w->page = pfn_valid(pte_pfn(pte)) ? pte_page(pte) : NULL;
	}
	return 0;
}

static const struct mm_walk_ops gupc_walk_ops = {
	.pte_entry = gupc_pte,
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	.walk_lock = PGWALK_RDLOCK,
#endif
};

/* The page mapped at addr in the caller's mm (no reference taken), or NULL. */
static struct page *gupc_mapped_page(unsigned long addr)
{
	struct gupc_walk w = { NULL, false };
	struct mm_struct *mm = current->mm;

	mmap_read_lock(mm);
	walk_page_range(mm, addr & PAGE_MASK, (addr & PAGE_MASK) + PAGE_SIZE, &gupc_walk_ops, &w);
	mmap_read_unlock(mm);
	return w.present ? w.page : NULL;
}

/* Track a page that a fault put into a zero region (the contract's r{R}.f{i}, order 0, refcount 1). */
static struct gupc_folio *gupc_zero_rec(struct gupc_region *r, unsigned long idx, struct page *page)
{
	struct gupc_folio *rec = &r->recs[idx];

	if (!rec->folio && page && !is_zero_page(page)) {
		rec->folio = page_folio(page);
		rec->start = 1;
		/* A freshly faulted anon page is mapped once; anything above that are the grabs of this command. */
		rec->base = 1;
		rec->natural = 1;
	}
	return rec->folio ? rec : NULL;
}

/*
 * Names the page the kernel handed out for user address addr: the region's folio and the page in it. A page
 * that is not the one the region maps there is a surprise the server reports as an adapter error.
 */
static int gupc_name(unsigned long addr, struct page *page, struct gupc_page *out)
{
	struct gupc_region *r;
	unsigned long idx;

	memset(out, 0, sizeof(*out));
	if (is_zero_page(page)) {
		out->region = GUPC_ZERO_REGION;
		return 0;
	}
	out->region = GUPC_UNKNOWN_REGION;
	r = gupc_region_at(addr);
	if (!r)
		return -ENOENT;
	idx = (addr - r->start) >> PAGE_SHIFT;
	if (gupc_owned(r)) {
		if (page != r->block + idx)
			return -ENOENT;
		out->folio = idx >> r->order;
		out->index = idx & ((1UL << r->order) - 1);
	} else if (r->kind == GUPC_FILE) {
		if (!r->recs[idx].folio || page_folio(page) != r->recs[idx].folio)
			return -ENOENT;
		out->folio = idx;
	} else {
		struct gupc_folio *rec = gupc_zero_rec(r, idx, page);

		if (!rec || rec->folio != page_folio(page))
			return -ENOENT;
		out->folio = idx;
	}
	out->region = r->id;
	return 0;
}

/* The page at a user address of a region, as a kernel-backed iterator would list it. */
static struct page *gupc_page_at(unsigned long addr)
{
	struct gupc_region *r = gupc_region_at(addr);
	unsigned long idx;

	if (!r)
		return NULL;
	idx = (addr - r->start) >> PAGE_SHIFT;
	if (gupc_owned(r))
		return r->block + idx;
	if (r->kind == GUPC_FILE)
		return r->recs[idx].folio ? folio_page(r->recs[idx].folio, 0) : NULL;
	{
		struct page *page = gupc_mapped_page(addr);
		struct gupc_folio *rec = gupc_zero_rec(r, idx, page);

		return rec ? folio_page(rec->folio, 0) : page;
	}
}

/* ---- physical adjacency ------------------------------------------------------------------------------- */

/*
 * The contract says which pages are physically adjacent (CONTRACT §1): the pages of one anon region, in order, and
 * nothing else. A bio merges adjacent pages into one bvec, so the kernel must not be handed adjacent pages the
 * contract calls apart: a guard page follows every region's block, and before anything that may allocate user
 * pages (a fault in a zero-page region, a file region's page cache) the adapter arms the page allocator. It takes
 * one physically contiguous block of GUPC_ARM_PAGES pages, keeps every even page and the last, and frees the odd
 * ones; order-0 allocations are served last-freed-first from the per-CPU list, so the next user pages are these,
 * none touching another free or later-used page. Freeing from the top down hands them out in ascending order.
 * The kept pages are spacers until the run ends. When no such block is free (fragmented memory), fall back to
 * taking single pages and freeing those whose two neighbours were both taken.
 */
#define GUPC_ARM_ORDER 5
#define GUPC_ARM_PAGES (1 << GUPC_ARM_ORDER)

static void gupc_arm_scattered(void)
{
	struct page *p[48], *t;
	bool keep[48];
	int n, i, j, freed = 0;

	for (n = 0; n < 48; n++) {
		p[n] = alloc_page(GFP_HIGHUSER_MOVABLE | __GFP_NOWARN);
		if (!p[n])
			break;
	}
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && page_to_pfn(p[j - 1]) > page_to_pfn(p[j]); j--) {
			t = p[j];
			p[j] = p[j - 1];
			p[j - 1] = t;
		}
	for (i = 0; i < n; i++)
		keep[i] = true;
	for (i = 1; i + 1 < n && freed < 16; i++) {
		if (page_to_pfn(p[i - 1]) + 1 == page_to_pfn(p[i]) && page_to_pfn(p[i]) + 1 == page_to_pfn(p[i + 1])) {
			keep[i] = false;
			freed++;
			i++;
		}
	}
	for (i = 0; i < n; i++) {
		if (keep[i])
			list_add(&p[i]->lru, &gupc_spacers);
		else
			__free_page(p[i]);
	}
}

static void gupc_arm(void)
{
	struct page *block = alloc_pages(GFP_HIGHUSER_MOVABLE | __GFP_NOWARN | __GFP_NORETRY, GUPC_ARM_ORDER);
	int i;

	if (!block) {
		gupc_arm_scattered();
		return;
	}
	split_page(block, GUPC_ARM_ORDER);
	for (i = 0; i < GUPC_ARM_PAGES; i += 2)
		list_add(&nth_page(block, i)->lru, &gupc_spacers);
	list_add(&nth_page(block, GUPC_ARM_PAGES - 1)->lru, &gupc_spacers);
	for (i = GUPC_ARM_PAGES - 3; i >= 1; i -= 2)
		__free_page(nth_page(block, i));
}

static void gupc_disarm(void)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, &gupc_spacers, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
}

/* ---- memory of anon / io / pfnmap regions ------------------------------------------------------------ */

static void gupc_free_block(struct gupc_region *r)
{
	unsigned long i;

	if (!r->block)
		return;
	if (r->kind == GUPC_ANON && r->order > 0) {
		for (i = 0; i < r->folios; i++)
			folio_put(page_folio(r->block + (i << r->order)));
	} else {
		for (i = 0; i < r->npages; i++)
			__free_page(r->block + i);
	}
	__free_page(r->block + r->npages);
	r->block = NULL;
}

static int gupc_alloc_block(struct gupc_region *r)
{
	/* One page more than the region: the guard that keeps the next block from being adjacent (gupc_arm()). */
	unsigned long n = r->npages + 1, i;
	struct page *block;

	if (n <= (1UL << GUPC_BUDDY_ORDER)) {
		unsigned int order = get_order(n << PAGE_SHIFT);

		block = alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN, order);
		if (!block)
			return -ENOMEM;
		split_page(block, order);
		for (i = n; i < (1UL << order); i++)
			__free_page(block + i);
	} else {
#ifdef CONFIG_CONTIG_ALLOC
		/* Larger than the buddy allocator's largest block; the pages come back refcounted one by one. */
		block = alloc_contig_pages(n, GFP_KERNEL | __GFP_NOWARN, numa_node_id(), NULL);
		if (!block)
			return -ENOMEM;
#else
		return -E2BIG;
#endif
	}
	/* Every page now has refcount 1; a folio of order > 0 keeps the head's and gives up the tails'. */
	if (r->kind == GUPC_ANON && r->order > 0) {
		for (i = 0; i < r->folios; i++) {
			struct page *head = block + (i << r->order);
			unsigned long j;

			for (j = 1; j < (1UL << r->order); j++)
				set_page_count(head + j, 0);
			prep_compound_page(head, r->order);
		}
	}
	r->block = block;
	return 0;
}

static int gupc_mmap(struct file *file, struct vm_area_struct *vma)
{
	unsigned long id = vma->vm_pgoff >> (GUPC_MMAP_SHIFT - PAGE_SHIFT);
	unsigned long len = vma->vm_end - vma->vm_start, i;
	struct gupc_region *r;
	int ret = 0;

	mutex_lock(&gupc_lock);
	r = xa_load(&gupc_regions, id);
	if (!r || !r->block || r->inserted || !(vma->vm_flags & VM_SHARED) || len != (r->npages << PAGE_SHIFT) ||
	    vma->vm_start != r->start) {
		ret = -EINVAL;
		goto out;
	}
	if (r->kind == GUPC_PFNMAP || r->kind == GUPC_IO) {
		/*
		 * As drivers map device memory: remap_pfn_range() makes the VMA VM_IO | VM_PFNMAP and the PTEs special.
		 * (VM_IO alone over vm_insert_page()'s ordinary PTEs is no such mapping: GUP-fast never looks at VMA
		 * flags and would pin those pages; only the slow path's check_vma_flags() refuses VM_IO.)
		 */
		ret = remap_pfn_range(vma, vma->vm_start, page_to_pfn(r->block), len, vma->vm_page_prot);
	} else {
		for (i = 0; i < r->npages && !ret; i++)
			ret = vm_insert_page(vma, vma->vm_start + (i << PAGE_SHIFT), r->block + i);
	}
	if (!ret)
		r->inserted = true;
out:
	mutex_unlock(&gupc_lock);
	return ret;
}

static int gupc_map(struct gupc_map *m)
{
	struct gupc_region *r;
	unsigned long npages;
	int ret;

	if (m->region == GUPC_ZERO_REGION || m->region >= (1u << 20) || xa_load(&gupc_regions, m->region) ||
	    m->kind > GUPC_PFNMAP || m->folios == 0 || m->order > GUPC_MAX_ORDER || m->start & ~PAGE_MASK ||
	    (m->kind != GUPC_ANON && m->order != 0) || m->start_refcount < 1)
		return -EINVAL;
	npages = (unsigned long)m->folios << m->order;
	if (npages > GUPC_MAX_PAGES)
		return -E2BIG;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->id = m->region;
	r->kind = m->kind;
	r->order = m->order;
	r->folios = m->folios;
	r->start = m->start;
	r->npages = npages;
	r->start_refcount = m->start_refcount;
	r->recs = kvcalloc(gupc_owned(r) ? r->folios : npages, sizeof(*r->recs), GFP_KERNEL);
	if (!r->recs) {
		kfree(r);
		return -ENOMEM;
	}
	if (gupc_owned(r)) {
		ret = gupc_alloc_block(r);
		if (ret) {
			kvfree(r->recs);
			kfree(r);
			return ret;
		}
	}
	ret = xa_err(xa_store(&gupc_regions, r->id, r, GFP_KERNEL));
	if (ret) {
		gupc_free_block(r);
		kvfree(r->recs);
		kfree(r);
	}
	return ret;
}

/* After the mapping exists: find the pages and set every folio to its start refcount. */
static int gupc_map_done(struct gupc_map *m)
{
	struct gupc_region *r = xa_load(&gupc_regions, m->region);
	unsigned long i;

	if (!r || r->done)
		return -EINVAL;
	lru_add_drain();
	if (gupc_owned(r)) {
		if (!r->inserted)
			return -EINVAL;
		for (i = 0; i < r->folios; i++) {
			struct gupc_folio *rec = &r->recs[i];
			int start = r->kind == GUPC_ANON ? r->start_refcount : 1;

			rec->folio = page_folio(r->block + (i << (r->kind == GUPC_ANON ? r->order : 0)));
			rec->natural = folio_ref_count(rec->folio);
			rec->start = start;
			rec->base = start;
			rec->lent = true;
			folio_ref_add(rec->folio, start - rec->natural);
			/*
			 * While mapped, the folio says it is anonymous, as the contract's anon folios are. GUP-fast asks
			 * (gup_fast_folio_allowed(), v6.5+): for a FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE grab it lets anon
			 * folios through and sends a folio without a mapping to the slow path after taking and dropping a
			 * pin -- a round trip that anonymous memory never makes, visible in nr_foll_pin_*. The PTEs are
			 * writable and dirty, so nothing else asks; PREPARE_END clears it before the mapping goes away.
			 */
			if (r->kind == GUPC_ANON)
				WRITE_ONCE(rec->folio->mapping, (struct address_space *)PAGE_MAPPING_ANON);
		}
	} else {
		for (i = 0; i < r->npages; i++) {
			struct page *page = gupc_mapped_page(r->start + (i << PAGE_SHIFT));

			if (r->kind == GUPC_ZERO) {
				if (!page || !is_zero_page(page))
					return -EFAULT;
				continue;
			}
			if (!page)
				return -EFAULT;
			r->recs[i].folio = page_folio(page);
			r->recs[i].start = 1;
			r->recs[i].base = folio_ref_count(r->recs[i].folio);
			r->recs[i].natural = r->recs[i].base;
		}
	}
	r->done = true;
	return 0;
}

/* ---- GUP ------------------------------------------------------------------------------------------- */

static void gupc_free_call(struct gupc_call *c)
{
	if (!c)
		return;
	kvfree(c->pages);
	kvfree(c->names);
	kfree(c);
}

/* Remembers pages (a kvmalloc()ed array) as array `id` and names them; entry k stands for first_addr + k pages. */
static int gupc_store_call(u32 id, struct page **pages, unsigned long nr, unsigned long first_addr,
			   struct gupc_page __user *out)
{
	struct gupc_call *c;
	unsigned long k;
	int ret = 0;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	c->nr = nr;
	c->pages = pages;
	c->names = kvcalloc(nr ? nr : 1, sizeof(*c->names), GFP_KERNEL);
	if (!c->names) {
		kfree(c);
		return -ENOMEM;
	}
	for (k = 0; k < nr; k++)
		gupc_name(first_addr + (k << PAGE_SHIFT), pages[k], &c->names[k]);
	if (out && nr && copy_to_user(out, c->names, nr * sizeof(*c->names)))
		ret = -EFAULT;
	gupc_free_call(xa_store(&gupc_calls, id, c, GFP_KERNEL));
	return ret;
}

static long gupc_call_entry(struct gupc_gup *g, struct page **pages)
{
	struct mm_struct *mm = current->mm;
	unsigned long start = g->start, nr = g->nr_pages;
	unsigned int flags = g->gup_flags;
	long r;

	switch (g->entry) {
	case GUPC_GET_USER_PAGES:
		mmap_read_lock(mm);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
		r = get_user_pages(start, nr, flags, pages);
#else
		r = get_user_pages(start, nr, flags, pages, NULL);
#endif
		mmap_read_unlock(mm);
		return r;
	case GUPC_GET_USER_PAGES_REMOTE:
		mmap_read_lock(mm);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
		r = get_user_pages_remote(mm, start, nr, flags, pages, NULL);
#else
		r = get_user_pages_remote(mm, start, nr, flags, pages, NULL, NULL);
#endif
		mmap_read_unlock(mm);
		return r;
	case GUPC_GET_USER_PAGES_UNLOCKED:
		return get_user_pages_unlocked(start, nr, pages, flags);
	case GUPC_GET_USER_PAGES_FAST:
		return get_user_pages_fast(start, (int)nr, flags, pages);
	case GUPC_GET_USER_PAGES_FAST_ONLY:
		return get_user_pages_fast_only(start, (int)nr, flags, pages);
	case GUPC_PIN_USER_PAGES:
		mmap_read_lock(mm);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
		r = pin_user_pages(start, nr, flags, pages);
#else
		r = pin_user_pages(start, nr, flags, pages, NULL);
#endif
		mmap_read_unlock(mm);
		return r;
	case GUPC_PIN_USER_PAGES_REMOTE:
		mmap_read_lock(mm);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
		r = pin_user_pages_remote(mm, start, nr, flags, pages, NULL);
#else
		r = pin_user_pages_remote(mm, start, nr, flags, pages, NULL, NULL);
#endif
		mmap_read_unlock(mm);
		return r;
	case GUPC_PIN_USER_PAGES_UNLOCKED:
		return pin_user_pages_unlocked(start, nr, pages, flags);
	case GUPC_PIN_USER_PAGES_FAST:
		return pin_user_pages_fast(start, (int)nr, flags, pages);
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
	case GUPC_PIN_USER_PAGES_FAST_ONLY:
		return pin_user_pages_fast_only(start, (int)nr, flags, pages);
#endif
	}
	return -ENOTTY;
}

static int gupc_gup(struct gupc_gup *g)
{
	struct page **pages = NULL;
	long r;
	int ret;

	if (g->nr_pages < 1 || (g->with_pages && g->nr_pages > GUPC_MAX_PAGES))
		return -EINVAL;
	if (g->with_pages) {
		pages = kvcalloc(g->nr_pages, sizeof(*pages), GFP_KERNEL);
		if (!pages)
			return -ENOMEM;
	}
	r = gupc_call_entry(g, pages);
	if (r == -ENOTTY) {
		kvfree(pages);
		return -ENOTTY;
	}
	g->result = r;
	if (!pages)
		return 0;
	ret = gupc_store_call(g->call, pages, r > 0 ? r : 0, g->start,
			      (struct gupc_page __user *)(uintptr_t)g->pages);
	return ret;
}

/* ---- release --------------------------------------------------------------------------------------- */

static int gupc_release(struct gupc_release *rel)
{
	struct gupc_call *c = xa_load(&gupc_calls, rel->call);
	struct page **p;
	unsigned long i;

	if (!c || rel->count == 0 || (u64)rel->index + rel->count > c->nr)
		return -EINVAL;
	p = c->pages + rel->index;
	switch (rel->fn) {
	case GUPC_PUT_PAGE:
		for (i = 0; i < rel->count; i++)
			put_page(p[i]);
		return 0;
	case GUPC_UNPIN_USER_PAGE:
		for (i = 0; i < rel->count; i++)
			unpin_user_page(p[i]);
		return 0;
	case GUPC_UNPIN_USER_PAGES:
		unpin_user_pages(p, rel->count);
		return 0;
	case GUPC_UNPIN_USER_PAGES_DIRTY_LOCK:
		unpin_user_pages_dirty_lock(p, rel->count, rel->make_dirty);
		return 0;
	case GUPC_UNPIN_USER_PAGE_RANGE_DIRTY_LOCK:
		/*
		 * The function walks struct pages from p[0] by pointer arithmetic. The adapter's own regions are
		 * physically contiguous; page-cache and faulted pages are not, so the range is passed in runs of
		 * physically consecutive pages. Such runs break only between folios, and the function handles each
		 * folio on its own, so the effect is that of one call.
		 */
		for (i = 0; i < rel->count;) {
			unsigned long n = 1;

			while (i + n < rel->count && page_to_pfn(p[i + n]) == page_to_pfn(p[i]) + n)
				n++;
			unpin_user_page_range_dirty_lock(p[i], n, rel->make_dirty);
			i += n;
		}
		return 0;
	}
	return -EINVAL;
}

/*
 * The release calls given what a caller may pass besides a GUP result: NULL entries ahead of the pages, or an error
 * value as the count. Which of these an era survives is the contract's to say (CONTRACT §10 keeps the oopses out).
 */
static int gupc_unpin_array(struct gupc_unpin_array *u)
{
	struct gupc_call *c = xa_load(&gupc_calls, u->call);
	unsigned long n, npages, i;
	struct page **arr;

	if (!c || u->null_prefix > 64 || (u64)u->index + u->count > c->nr || u->err > MAX_ERRNO
	    || (u->fn != GUPC_UNPIN_USER_PAGES && u->fn != GUPC_UNPIN_USER_PAGES_DIRTY_LOCK))
		return -EINVAL;
	n = (unsigned long)u->null_prefix + u->count;
	arr = kvcalloc(n ? n : 1, sizeof(*arr), GFP_KERNEL);
	if (!arr)
		return -ENOMEM;
	for (i = 0; i < u->count; i++)
		arr[u->null_prefix + i] = c->pages[u->index + i];
	npages = u->err ? (unsigned long)-(long)u->err : n;
	if (u->fn == GUPC_UNPIN_USER_PAGES)
		unpin_user_pages(arr, npages);
	else
		unpin_user_pages_dirty_lock(arr, npages, u->make_dirty);
	kvfree(arr);
	return 0;
}

static int gupc_add_pin(struct gupc_add_pin *a)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	struct gupc_call *from = xa_load(&gupc_calls, a->from_call), *c;
	struct page **pages;

	if (!from || a->index >= from->nr)
		return -EINVAL;
	folio_add_pin(page_folio(from->pages[a->index]));
	pages = kvcalloc(1, sizeof(*pages), GFP_KERNEL);
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!pages || !c) {
		kvfree(pages);
		kfree(c);
		return -ENOMEM;
	}
	c->names = kvcalloc(1, sizeof(*c->names), GFP_KERNEL);
	if (!c->names) {
		kvfree(pages);
		kfree(c);
		return -ENOMEM;
	}
	pages[0] = from->pages[a->index];
	c->nr = 1;
	c->pages = pages;
	c->names[0] = from->names[a->index];
	if (copy_to_user((void __user *)(uintptr_t)a->page, &c->names[0], sizeof(c->names[0]))) {
		gupc_free_call(c);
		return -EFAULT;
	}
	gupc_free_call(xa_store(&gupc_calls, a->new_call, c, GFP_KERNEL));
	return 0;
#else
	return -ENOTTY;
#endif
}

/* ---- iterators -------------------------------------------------------------------------------------- */

static void gupc_free_iter(struct gupc_iter *it)
{
	u32 i;

	if (!it)
		return;
	for (i = 0; i < GUPC_MAX_SEGS; i++)
		if (it->maps[i])
			vunmap(it->maps[i]);
	if (it->has_xa)
		xa_destroy(&it->xa);
	kfree(it->iov);
	kfree(it->kvec);
	kvfree(it->bvec);
	kfree(it);
}

/* The pages a segment covers, in address order; NULL entries where no page is known. */
static int gupc_seg_pages(const struct gupc_seg *s, struct page ***out, unsigned long *nr)
{
	unsigned long first = s->addr & PAGE_MASK, k;
	unsigned long n = s->len ? (PAGE_ALIGN(s->addr + s->len) - first) >> PAGE_SHIFT : 0;
	struct page **pages;

	*out = NULL;
	*nr = n;
	if (!n)
		return 0;
	if (n > GUPC_MAX_PAGES)
		return -E2BIG;
	pages = kvcalloc(n, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	for (k = 0; k < n; k++) {
		pages[k] = gupc_page_at(first + (k << PAGE_SHIFT));
		if (!pages[k]) {
			kvfree(pages);
			return -EFAULT;
		}
	}
	*out = pages;
	return 0;
}

static int gupc_iter_init(struct gupc_iter_init *in)
{
	struct gupc_iter *it;
	unsigned int dir = in->dest ? READ : WRITE;
	u32 i;
	int ret = 0;

	if (in->nr_segs == 0 || in->nr_segs > GUPC_MAX_SEGS || in->kind > GUPC_DISCARD)
		return -EINVAL;
	it = kzalloc(sizeof(*it), GFP_KERNEL);
	if (!it)
		return -ENOMEM;
	it->kind = in->kind;
	it->nr_segs = in->nr_segs;
	if (copy_from_user(it->segs, (void __user *)(uintptr_t)in->segs, in->nr_segs * sizeof(it->segs[0]))) {
		kfree(it);
		return -EFAULT;
	}
	for (i = 0; i < in->nr_segs; i++)
		it->total += it->segs[i].len;

	switch (in->kind) {
	case GUPC_UBUF:
		iov_iter_ubuf(&it->it, dir, (void __user *)(uintptr_t)it->segs[0].addr, it->segs[0].len);
		break;
	case GUPC_IOVEC:
		it->iov = kcalloc(in->nr_segs, sizeof(*it->iov), GFP_KERNEL);
		if (!it->iov) {
			ret = -ENOMEM;
			break;
		}
		for (i = 0; i < in->nr_segs; i++) {
			it->iov[i].iov_base = (void __user *)(uintptr_t)it->segs[i].addr;
			it->iov[i].iov_len = it->segs[i].len;
		}
		iov_iter_init(&it->it, dir, it->iov, in->nr_segs, it->total);
		break;
	case GUPC_KVEC:
		/* A kernel address for each segment: its pages mapped contiguously with vmap(). */
		it->kvec = kcalloc(in->nr_segs, sizeof(*it->kvec), GFP_KERNEL);
		if (!it->kvec) {
			ret = -ENOMEM;
			break;
		}
		for (i = 0; i < in->nr_segs && !ret; i++) {
			struct page **pages;
			unsigned long n;

			ret = gupc_seg_pages(&it->segs[i], &pages, &n);
			if (ret || !n)
				continue;
			it->maps[i] = vmap(pages, n, VM_MAP, PAGE_KERNEL);
			kvfree(pages);
			if (!it->maps[i]) {
				ret = -ENOMEM;
				break;
			}
			it->kvec[i].iov_base = it->maps[i] + (it->segs[i].addr & ~PAGE_MASK);
			it->kvec[i].iov_len = it->segs[i].len;
		}
		if (!ret)
			iov_iter_kvec(&it->it, dir, it->kvec, in->nr_segs, it->total);
		break;
	case GUPC_BVEC: {
		/*
		 * One bio_vec per segment, split further only where pages are not physically consecutive (a bvec may span
		 * pages only that way; the contract's segments are, so each is one bvec).
		 */
		unsigned long total = 0, nb = 0;

		for (i = 0; i < in->nr_segs; i++)
			total += DIV_ROUND_UP((it->segs[i].addr & ~PAGE_MASK) + it->segs[i].len, PAGE_SIZE);
		it->bvec = kvcalloc(total ? total : 1, sizeof(*it->bvec), GFP_KERNEL);
		if (!it->bvec) {
			ret = -ENOMEM;
			break;
		}
		for (i = 0; i < in->nr_segs && !ret; i++) {
			struct page **pages;
			unsigned long n, k;
			size_t off = it->segs[i].addr & ~PAGE_MASK, left = it->segs[i].len;

			ret = gupc_seg_pages(&it->segs[i], &pages, &n);
			if (ret)
				break;
			for (k = 0; k < n;) {
				unsigned long run = 1;
				size_t len;

				while (k + run < n && page_to_pfn(pages[k + run]) == page_to_pfn(pages[k]) + run)
					run++;
				len = min_t(size_t, left, (run << PAGE_SHIFT) - off);
				it->bvec[nb].bv_page = pages[k];
				it->bvec[nb].bv_offset = off;
				it->bvec[nb].bv_len = len;
				nb++;
				left -= len;
				off = 0;
				k += run;
			}
			kvfree(pages);
		}
		if (!ret)
			iov_iter_bvec(&it->it, dir, it->bvec, nb, it->total);
		break;
	}
	case GUPC_XARRAY: {
		/* The region's folios at their page indexes, as the page cache would hold them. */
		struct gupc_region *r = gupc_region_at(it->segs[0].addr);
		struct page **pages;
		unsigned long n, k, first;

		if (in->nr_segs != 1 || !r) {
			ret = -EINVAL;
			break;
		}
		ret = gupc_seg_pages(&it->segs[0], &pages, &n);
		if (ret)
			break;
		xa_init(&it->xa);
		it->has_xa = true;
		first = (it->segs[0].addr - r->start) >> PAGE_SHIFT;
		for (k = 0; k < n && !ret; k++)
			ret = xa_err(xa_store(&it->xa, first + k, &page_folio(pages[k])->page, GFP_KERNEL));
		kvfree(pages);
		if (!ret)
			iov_iter_xarray(&it->it, dir, &it->xa, ((loff_t)first << PAGE_SHIFT) +
					(it->segs[0].addr & ~PAGE_MASK), it->segs[0].len);
		break;
	}
	case GUPC_DISCARD:
		/* iov_iter_discard() BUG()s on anything but READ: a discard iterator is always a destination. */
		iov_iter_discard(&it->it, READ, it->total);
		break;
	}
	if (ret) {
		gupc_free_iter(it);
		return ret;
	}
	in->result = 0;
	in->count = iov_iter_count(&it->it);
	gupc_free_iter(xa_store(&gupc_iters, in->iter, it, GFP_KERNEL));
	return 0;
}

#if GUPC_EXTRACT
/* The user address the iterator's next byte stands for (the first non-empty segment from where it is). */
static unsigned long gupc_iter_addr(struct gupc_iter *it)
{
	size_t done = it->total - iov_iter_count(&it->it);
	u32 i;

	for (i = 0; i < it->nr_segs; i++) {
		if (done < it->segs[i].len)
			return it->segs[i].addr + done;
		done -= it->segs[i].len;
	}
	return 0;
}

#endif

static int gupc_iter_extract(struct gupc_iter_extract *x)
{
#if GUPC_EXTRACT
	struct gupc_iter *it = xa_load(&gupc_iters, x->iter);
	struct page **pages = NULL;
	size_t off0 = 0;
	unsigned long addr, nr = 0;
	ssize_t r;
	int ret;

	if (!it || x->max_pages == 0)
		return -EINVAL;
	addr = gupc_iter_addr(it);
	r = iov_iter_extract_pages(&it->it, &pages, x->max_size, x->max_pages, 0, &off0);
	x->result = r;
	x->offset0 = off0;
	x->count = iov_iter_count(&it->it);
	if (r > 0)
		nr = DIV_ROUND_UP(r + off0, PAGE_SIZE);
	x->nr_pages = nr;
	if (r <= 0 && pages) {
		kvfree(pages);
		pages = NULL;
	}
	if (!pages) {
		pages = kvcalloc(1, sizeof(*pages), GFP_KERNEL);
		if (!pages)
			return -ENOMEM;
	}
	ret = gupc_store_call(x->call, pages, nr, addr & PAGE_MASK,
			      (struct gupc_page __user *)(uintptr_t)x->pages);
	return ret;
#else
	return -ENOTTY;
#endif
}

static int gupc_iter_will_pin(struct gupc_iter_query *q)
{
#if GUPC_EXTRACT
	struct gupc_iter *it = xa_load(&gupc_iters, q->iter);

	if (!it)
		return -EINVAL;
	q->will_pin = iov_iter_extract_will_pin(&it->it);
	return 0;
#else
	return -ENOTTY;
#endif
}

/* ---- bios -------------------------------------------------------------------------------------------- */

/* A bio_kmalloc()ed bio is freed by hand (bio_put() would hand it to a bio_set it never came from). */
static void gupc_free_bio(struct bio *bio)
{
	bio_uninit(bio);
	kfree(bio);
}

/*
 * The ram disk stands for a device of the logical block size the command names: bio_iov_iter_get_pages() trims each
 * extraction to bdev_logical_block_size() (v6.0-v6.17), and nothing is ever submitted, so the limit is all that matters.
 */
static int gupc_set_logical_block_size(struct block_device *bdev, unsigned int lbs)
{
	struct request_queue *q = bdev_get_queue(bdev);

	if (lbs != 512 && lbs != 1024 && lbs != 2048 && lbs != 4096)
		return -EINVAL;
	if (bdev_logical_block_size(bdev) == lbs)
		return 0;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	{
		struct queue_limits lim = queue_limits_start_update(q);

		lim.logical_block_size = lbs;
		return queue_limits_commit_update(q, &lim);
	}
#else
	blk_queue_logical_block_size(q, lbs);
	return 0;
#endif
}

static int gupc_bio_add(struct gupc_bio_add *b)
{
	struct gupc_iter *it = xa_load(&gupc_iters, b->iter);
	struct block_device *bdev;
	struct bvec_iter bi;
	struct bio_vec bv;
	struct bio *bio;
	unsigned short nr_vecs;
	int r;

	if (!it || !gupc_bio_file || b->max_vecs == 0 || b->max_vecs > BIO_MAX_VECS || xa_load(&gupc_bios, b->bio))
		return -EINVAL;
	bdev = I_BDEV(gupc_bio_file->f_mapping->host);
	r = gupc_set_logical_block_size(bdev, b->logical_block_size);
	if (r)
		return r;
	/*
	 * Exactly max_vecs bvecs: bio_alloc() rounds the table up to its inline or slab size (4, 16, 64, ...), and the
	 * contract's max_vecs is the bio's capacity. A BVEC iterator's bio gets none, as bio_iov_vecs_to_alloc() has
	 * callers do (bio_iov_bvec_set() WARNs on a bio with a table of its own).
	 */
	nr_vecs = iov_iter_is_bvec(&it->it) ? 0 : b->max_vecs;
	bio = bio_kmalloc(nr_vecs, GFP_KERNEL);
	if (!bio)
		return -ENOMEM;
	bio_init(bio, bdev, nr_vecs ? bio->bi_inline_vecs : NULL, nr_vecs,
		 iov_iter_rw(&it->it) == READ ? REQ_OP_READ : REQ_OP_WRITE);
	r = bio_iov_iter_get_pages(bio, &it->it);
	b->result = r;
	b->flags = 0;
	b->flag_bits = 0;
	/* The names and the bits both come from this kernel's enum: the contract compares the era's bit numbers. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	if (bio_flagged(bio, BIO_PAGE_PINNED)) {
		b->flags |= GUPC_BIO_PAGE_PINNED;
		b->flag_bits |= 1u << BIO_PAGE_PINNED;
	}
#else
	if (bio_flagged(bio, BIO_NO_PAGE_REF)) {
		b->flags |= GUPC_BIO_NO_PAGE_REF;
		b->flag_bits |= 1u << BIO_NO_PAGE_REF;
	}
#endif
	if (bio_flagged(bio, BIO_CLONED)) {
		b->flags |= GUPC_BIO_CLONED;
		b->flag_bits |= 1u << BIO_CLONED;
	}
	b->pages = 0;
	bio_for_each_segment(bv, bio, bi)
		b->pages++;
	b->count = iov_iter_count(&it->it);
	return xa_err(xa_store(&gupc_bios, b->bio, bio, GFP_KERNEL));
}

static int gupc_bio_release(struct gupc_bio_release *b)
{
	struct bio *bio = xa_erase(&gupc_bios, b->bio);

	if (!bio)
		return -EINVAL;
	bio_release_pages(bio, b->mark_dirty);
	gupc_free_bio(bio);
	return 0;
}

/* ---- frame vectors --------------------------------------------------------------------------------- */

#if GUPC_FRAME_VECTOR
static void gupc_fv_fill(struct gupc_fv *f, struct frame_vector *vec)
{
	f->nr_frames = vec->nr_frames;
	f->got_ref = vec->got_ref;
	f->is_pfns = vec->is_pfns;
}
#endif

static int gupc_fv(unsigned int cmd, struct gupc_fv *f)
{
#if GUPC_FRAME_VECTOR
	struct frame_vector *vec = xa_load(&gupc_fvs, f->fv);

	switch (cmd) {
	case GUPC_IOC_FV_CREATE:
		if (vec || f->nr == 0)
			return -EINVAL;
		vec = frame_vector_create(f->nr);
		if (!vec)
			return -ENOMEM;
		f->result = 0;
		gupc_fv_fill(f, vec);
		return xa_err(xa_store(&gupc_fvs, f->fv, vec, GFP_KERNEL));
	case GUPC_IOC_FV_GET:
		if (!vec)
			return -EINVAL;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
		f->result = get_vaddr_frames(f->start, f->nr, f->write, vec);
#else
		/* Before v6.2 there is no write argument: the frames are always pinned FOLL_WRITE | FOLL_FORCE. */
		f->result = get_vaddr_frames(f->start, f->nr, vec);
#endif
		gupc_fv_fill(f, vec);
		return 0;
	case GUPC_IOC_FV_PUT:
		if (!vec)
			return -EINVAL;
		put_vaddr_frames(vec);
		f->result = 0;
		gupc_fv_fill(f, vec);
		return 0;
	}
#endif
	return -ENOTTY;
}

/* ---- netfs ----------------------------------------------------------------------------------------- */

static void gupc_free_netfs(struct gupc_request *n)
{
	if (!n)
		return;
	if (n->nbv > 0)
		kvfree(n->it.bvec);
	kfree(n);
}

static int gupc_netfs(unsigned int cmd, struct gupc_netfs *in)
{
#if GUPC_NETFS
	struct gupc_iter *it;
	struct gupc_request *n;
	ssize_t i;

	if (cmd == GUPC_IOC_NETFS_EXTRACT) {
		it = xa_load(&gupc_iters, in->iter);
		if (!it || xa_load(&gupc_netfss, in->netfs))
			return -EINVAL;
		n = kzalloc(sizeof(*n), GFP_KERNEL);
		if (!n)
			return -ENOMEM;
		/* As netfs does: ask the original iterator how to clean up before it is replaced. */
		n->will_pin = iov_iter_extract_will_pin(&it->it);
		n->nbv = netfs_extract_user_iter(&it->it, in->max_size, &n->it, 0);
		in->result = n->nbv;
		in->count = iov_iter_count(&it->it);
		return xa_err(xa_store(&gupc_netfss, in->netfs, n, GFP_KERNEL));
	}
	n = xa_erase(&gupc_netfss, in->netfs);
	if (!n)
		return -EINVAL;
	/* netfs_free_request(): unpin every bvec page when the recorded answer says so. */
	if (n->will_pin)
		for (i = 0; i < n->nbv; i++)
			if (n->it.bvec[i].bv_page)
				unpin_user_page(n->it.bvec[i].bv_page);
	gupc_free_netfs(n);
	in->result = 0;
	return 0;
#else
	return -ENOTTY;
#endif
}

/* ---- queries --------------------------------------------------------------------------------------- */

static int gupc_inspect(struct gupc_inspect *q)
{
	struct gupc_region *r;
	struct gupc_folio *rec = NULL;
	struct folio *folio;

	q->known = 0;
	/* Transient references of the per-CPU LRU batches are not the contract's. */
	lru_add_drain();
	if (q->region == GUPC_ZERO_REGION) {
		folio = page_folio(ZERO_PAGE(0));
		q->refcount = folio_ref_count(folio) - gupc_zero_base + 1;
	} else {
		r = xa_load(&gupc_regions, q->region);
		if (!r || !r->done)
			return 0;
		if (gupc_owned(r)) {
			if (q->folio >= r->folios)
				return 0;
			rec = &r->recs[q->folio];
		} else {
			if (q->folio >= r->npages)
				return 0;
			rec = &r->recs[q->folio];
			if (r->kind == GUPC_ZERO && !rec->folio)
				rec = gupc_zero_rec(r, q->folio, gupc_mapped_page(r->start + ((unsigned long)q->folio << PAGE_SHIFT)));
			if (!rec || !rec->folio)
				return 0;
		}
		folio = rec->folio;
		q->refcount = (int)((unsigned int)folio_ref_count(folio) - (unsigned int)rec->base + (unsigned int)rec->start);
	}
	q->known = 1;
	q->has_pincount = folio_test_large(folio);
	q->pincount = q->has_pincount ? atomic_read(&folio->_pincount) : 0;
	q->maybe_dma_pinned = folio_maybe_dma_pinned(folio);
	q->dirty = folio_test_dirty(folio);
	return 0;
}

/* ---- runs -------------------------------------------------------------------------------------------- */

static void gupc_restore(struct gupc_folio *rec)
{
	if (!rec->folio)
		return;
	if (rec->lent && ((unsigned long)READ_ONCE(rec->folio->mapping) & PAGE_MAPPING_FLAGS))
		WRITE_ONCE(rec->folio->mapping, NULL);
	folio_ref_add(rec->folio, rec->natural - folio_ref_count(rec->folio));
	if (folio_test_large(rec->folio))
		atomic_set(&rec->folio->_pincount, 0);
}

/*
 * Before the server unmaps the regions: drop every array, iterator, bio, vector and request without releasing
 * anything, then put every folio back to the refcount its mappings and owners account for, so unmapping and
 * freeing find a consistent page whatever the run did to it.
 */
static void gupc_prepare_end(void)
{
	struct gupc_region *r;
	unsigned long id, i;
	void *p;

	xa_for_each(&gupc_calls, id, p)
		gupc_free_call(xa_erase(&gupc_calls, id));
	xa_for_each(&gupc_iters, id, p)
		gupc_free_iter(xa_erase(&gupc_iters, id));
	xa_for_each(&gupc_bios, id, p)
		gupc_free_bio(xa_erase(&gupc_bios, id));
#if GUPC_FRAME_VECTOR
	xa_for_each(&gupc_fvs, id, p) {
		struct frame_vector *vec = xa_erase(&gupc_fvs, id);

		vec->nr_frames = 0;
		frame_vector_destroy(vec);
	}
#endif
	xa_for_each(&gupc_netfss, id, p)
		gupc_free_netfs(xa_erase(&gupc_netfss, id));
	lru_add_drain();
	xa_for_each(&gupc_regions, id, r) {
		unsigned long n = gupc_owned(r) ? r->folios : r->npages;

		for (i = 0; i < n; i++)
			gupc_restore(&r->recs[i]);
	}
	folio_ref_add(page_folio(ZERO_PAGE(0)), gupc_zero_base - folio_ref_count(page_folio(ZERO_PAGE(0))));
}

/* After the server unmapped them: free the adapter's memory and forget the regions. */
static void gupc_end(void)
{
	struct gupc_region *r;
	unsigned long id;

	gupc_disarm();
	xa_for_each(&gupc_regions, id, r) {
		xa_erase(&gupc_regions, id);
		gupc_free_block(r);
		kvfree(r->recs);
		kfree(r);
	}
}

static void gupc_begin(void)
{
	gupc_zero_base = folio_ref_count(page_folio(ZERO_PAGE(0)));
	gupc_acq_base = gupc_node_stat(NR_FOLL_PIN_ACQUIRED);
	gupc_rel_base = gupc_node_stat(NR_FOLL_PIN_RELEASED);
}

/* ---- the device -------------------------------------------------------------------------------------- */

static unsigned int gupc_features(void)
{
	unsigned int f = GUPC_HAS_BIO;

	if (LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0))
		f |= GUPC_HAS_FOLIO_ADD_PIN;
	if (GUPC_EXTRACT)
		f |= GUPC_HAS_EXTRACT;
	if (GUPC_NETFS)
		f |= GUPC_HAS_NETFS;
	if (GUPC_FRAME_VECTOR)
		f |= GUPC_HAS_FRAME_VECTOR;
	if (LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0))
		f |= GUPC_HAS_FAST_ONLY_PIN;
	if (LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0))
		f |= GUPC_HAS_FV_WRITE_ARG;
	return f;
}

#define GUPC_IO(type, fn)                                                              \
	do {                                                                           \
		type v;                                                                \
		if (copy_from_user(&v, argp, sizeof(v)))                               \
			return -EFAULT;                                                \
		ret = fn;                                                              \
		if (!ret && copy_to_user(argp, &v, sizeof(v)))                         \
			ret = -EFAULT;                                                 \
	} while (0)

static long gupc_dispatch(unsigned int cmd, void __user *argp)
{
	long ret;

	switch (cmd) {
	case GUPC_IOC_INFO: {
		struct gupc_info info = {
			.version = GUPC_ADAPTER_VERSION,
			.features = gupc_features(),
			.kernel_version = LINUX_VERSION_CODE,
			.max_order = GUPC_MAX_ORDER,
		};

		return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
	}
	case GUPC_IOC_BEGIN:
		gupc_begin();
		return 0;
	case GUPC_IOC_PREPARE_END:
		gupc_prepare_end();
		return 0;
	case GUPC_IOC_END:
		gupc_end();
		return 0;
	case GUPC_IOC_ARM:
		gupc_arm();
		return 0;
	case GUPC_IOC_MAP:
		GUPC_IO(struct gupc_map, gupc_map(&v));
		return ret;
	case GUPC_IOC_MAP_DONE:
		GUPC_IO(struct gupc_map, gupc_map_done(&v));
		return ret;
	case GUPC_IOC_GUP:
		gupc_arm();
		GUPC_IO(struct gupc_gup, gupc_gup(&v));
		return ret;
	case GUPC_IOC_RELEASE:
		GUPC_IO(struct gupc_release, gupc_release(&v));
		return ret;
	case GUPC_IOC_UNPIN_ARRAY:
		GUPC_IO(struct gupc_unpin_array, gupc_unpin_array(&v));
		return ret;
	case GUPC_IOC_ADD_PIN:
		GUPC_IO(struct gupc_add_pin, gupc_add_pin(&v));
		return ret;
	case GUPC_IOC_ITER_INIT:
		GUPC_IO(struct gupc_iter_init, gupc_iter_init(&v));
		return ret;
	case GUPC_IOC_ITER_EXTRACT:
		gupc_arm();
		GUPC_IO(struct gupc_iter_extract, gupc_iter_extract(&v));
		return ret;
	case GUPC_IOC_ITER_WILL_PIN:
		GUPC_IO(struct gupc_iter_query, gupc_iter_will_pin(&v));
		return ret;
	case GUPC_IOC_BIO_ADD:
		gupc_arm();
		GUPC_IO(struct gupc_bio_add, gupc_bio_add(&v));
		return ret;
	case GUPC_IOC_BIO_RELEASE:
		GUPC_IO(struct gupc_bio_release, gupc_bio_release(&v));
		return ret;
	case GUPC_IOC_FV_CREATE:
	case GUPC_IOC_FV_GET:
	case GUPC_IOC_FV_PUT:
		if (cmd == GUPC_IOC_FV_GET)
			gupc_arm();
		GUPC_IO(struct gupc_fv, gupc_fv(cmd, &v));
		return ret;
	case GUPC_IOC_NETFS_EXTRACT:
		gupc_arm();
		fallthrough;
	case GUPC_IOC_NETFS_FREE:
		GUPC_IO(struct gupc_netfs, gupc_netfs(cmd, &v));
		return ret;
	case GUPC_IOC_INSPECT:
		GUPC_IO(struct gupc_inspect, gupc_inspect(&v));
		return ret;
	case GUPC_IOC_VMSTAT: {
		struct gupc_vmstat v = {
			.acquired = gupc_node_stat(NR_FOLL_PIN_ACQUIRED) - gupc_acq_base,
			.released = gupc_node_stat(NR_FOLL_PIN_RELEASED) - gupc_rel_base,
		};

		return copy_to_user(argp, &v, sizeof(v)) ? -EFAULT : 0;
	}
	case GUPC_IOC_BIO_DEVICE: {
		__u32 fd;
		struct file *f;

		if (copy_from_user(&fd, argp, sizeof(fd)))
			return -EFAULT;
		f = fget(fd);
		if (!f)
			return -EBADF;
		if (!S_ISBLK(file_inode(f)->i_mode)) {
			fput(f);
			return -ENOTBLK;
		}
		if (gupc_bio_file)
			fput(gupc_bio_file);
		gupc_bio_file = f;
		return 0;
	}
	}
	return -ENOTTY;
}

static long gupc_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	long ret;

	/*
	 * The server is single-threaded, so commands never overlap; the lock only keeps a second opener from
	 * interleaving. (GUP takes mmap_lock under it, gupc_mmap() takes it under mmap_lock: a second, concurrent
	 * opener could deadlock, which is why the device is root-only and meant for the test guest alone.)
	 */
	mutex_lock(&gupc_lock);
	ret = gupc_dispatch(cmd, (void __user *)arg);
	mutex_unlock(&gupc_lock);
	return ret;
}

static const struct file_operations gupc_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = gupc_ioctl,
	.mmap = gupc_mmap,
};

static struct miscdevice gupc_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "gupc",
	.fops = &gupc_fops,
	.mode = 0600,
};

static int __init gupc_init(void)
{
	return misc_register(&gupc_dev);
}
device_initcall(gupc_init);
