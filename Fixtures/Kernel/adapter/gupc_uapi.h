/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ioctl interface between the GupConformance guest server (user space, Fixtures/Kernel/guest/gupc_server.c)
 * and the in-kernel adapter (drivers/misc/gupc_adapter.c, copied there by Fixtures/Kernel/build-kernel.sh).
 *
 * The adapter executes the contract's commands (Spec/CONTRACT.md) with the kernel's own functions on the mm of
 * the process that opened /dev/gupc. Ids (region, call, iter, bio, fv, netfs) are the contract's ids. A folio is
 * named by (region, folio index); region 0 is the shared zero page. Every ioctl returns 0 when the command was
 * executed (its kernel-level result, possibly -errno, is in the struct) and -1/errno only when the adapter could
 * not execute it at all (bad arguments, an unknown id): the server turns that into a structured error.
 */
#ifndef GUPC_UAPI_H
#define GUPC_UAPI_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/ioctl.h>
#else
#include <linux/types.h>
#include <sys/ioctl.h>
#endif

/* Bumped whenever a struct or a command below changes; the server refuses an adapter of another version. */
#define GUPC_ADAPTER_VERSION 4

#define GUPC_ZERO_REGION 0u
#define GUPC_UNKNOWN_REGION 0xffffffffu

enum gupc_kind { GUPC_ANON = 0, GUPC_ZERO = 1, GUPC_FILE = 2, GUPC_IO = 3, GUPC_PFNMAP = 4 };

enum gupc_entry {
	GUPC_GET_USER_PAGES = 0, GUPC_GET_USER_PAGES_REMOTE, GUPC_GET_USER_PAGES_UNLOCKED, GUPC_GET_USER_PAGES_FAST,
	GUPC_GET_USER_PAGES_FAST_ONLY, GUPC_PIN_USER_PAGES, GUPC_PIN_USER_PAGES_REMOTE, GUPC_PIN_USER_PAGES_UNLOCKED,
	GUPC_PIN_USER_PAGES_FAST, GUPC_PIN_USER_PAGES_FAST_ONLY,
};

enum gupc_release_fn {
	GUPC_PUT_PAGE = 0, GUPC_UNPIN_USER_PAGE, GUPC_UNPIN_USER_PAGES, GUPC_UNPIN_USER_PAGES_DIRTY_LOCK,
	GUPC_UNPIN_USER_PAGE_RANGE_DIRTY_LOCK,
};

enum gupc_iter_kind { GUPC_UBUF = 0, GUPC_IOVEC, GUPC_KVEC, GUPC_BVEC, GUPC_XARRAY, GUPC_DISCARD };

/* What the kernel has, reported once after open so the server can build its manifests. */
#define GUPC_HAS_FOLIO_ADD_PIN (1u << 0)
#define GUPC_HAS_EXTRACT (1u << 1)
#define GUPC_HAS_NETFS (1u << 2)
#define GUPC_HAS_FRAME_VECTOR (1u << 3)
#define GUPC_HAS_BIO (1u << 4)
#define GUPC_HAS_FAST_ONLY_PIN (1u << 5)
#define GUPC_HAS_FV_WRITE_ARG (1u << 6)

struct gupc_info {
	__u32 version;          /* GUPC_ADAPTER_VERSION */
	__u32 features;         /* GUPC_HAS_* */
	__u32 kernel_version;   /* LINUX_VERSION_CODE */
	__u32 max_order;        /* the largest folio order the adapter can map */
};

/* One page handle: a page of a folio of a region (region 0: the zero page). */
struct gupc_page {
	__u32 region;
	__u32 folio;
	__u32 index;
	__u32 pad;
};

/*
 * GUPC_IOC_MAP, before the server maps the region: anon, io and pfnmap regions get their memory from the adapter
 * (mmap of /dev/gupc at offset region << GUPC_MMAP_SHIFT); zero and file regions are mapped by the server itself.
 * GUPC_IOC_MAP_DONE, after the mapping exists: the adapter finds the pages and sets the start refcount.
 */
#define GUPC_MMAP_SHIFT 36
struct gupc_map {
	__u32 region;
	__u32 kind;
	__u64 start;
	__u32 folios;
	__u32 order;
	__s32 start_refcount;
	__s32 pad;
};

struct gupc_gup {
	__u32 call;
	__u32 entry;            /* enum gupc_entry */
	__u64 start;
	__s64 nr_pages;
	__u64 gup_flags;        /* the era's numeric FOLL_* word, passed as is */
	__u32 with_pages;
	__u32 pad;
	__s64 result;
	__u64 pages;            /* out: struct gupc_page[nr_pages] (only with_pages) */
};

struct gupc_release {
	__u32 call;
	__u32 fn;               /* enum gupc_release_fn */
	__u32 index;
	__u32 count;
	__u32 make_dirty;
	__u32 pad;
};

/*
 * unpin_user_pages() or unpin_user_pages_dirty_lock() (fn) on an array the caller built: null_prefix NULL entries,
 * then entries [index, index + count) of call; npages = null_prefix + count, or (unsigned long)-err when err != 0
 * (a caller handing on a GUP error as the count).
 */
struct gupc_unpin_array {
	__u32 call;
	__u32 fn;               /* GUPC_UNPIN_USER_PAGES or GUPC_UNPIN_USER_PAGES_DIRTY_LOCK */
	__u32 index;
	__u32 count;
	__u32 null_prefix;
	__u32 err;              /* 0, or a positive errno value */
	__u32 make_dirty;
	__u32 pad;
};

struct gupc_add_pin {
	__u32 new_call;
	__u32 from_call;
	__u32 index;
	__u32 pad;
	__u64 page;             /* out: struct gupc_page */
};

struct gupc_seg {
	__u64 addr;
	__u64 len;
};

struct gupc_iter_init {
	__u32 iter;
	__u32 kind;             /* enum gupc_iter_kind */
	__u32 dest;             /* 1: ITER_DEST (data goes into the pages), 0: ITER_SOURCE */
	__u32 nr_segs;
	__u64 segs;             /* struct gupc_seg[nr_segs] */
	__s64 result;
	__u64 count;            /* out: iov_iter_count() */
};

struct gupc_iter_extract {
	__u32 call;
	__u32 iter;
	__u64 max_size;
	__u32 max_pages;
	__u32 pad;
	__s64 result;
	__u64 offset0;
	__u64 count;            /* out: iov_iter_count() after the call */
	__u64 nr_pages;         /* out: entries written to pages */
	__u64 pages;            /* out: struct gupc_page[max_pages] */
};

struct gupc_iter_query {
	__u32 iter;
	__u32 will_pin;         /* out: iov_iter_extract_will_pin() */
};

struct gupc_bio_add {
	__u32 bio;
	__u32 iter;
	__u32 max_vecs;
	__u32 flags;            /* out: GUPC_BIO_* below */
	__s64 result;
	__u64 pages;            /* out: pages held by the bio */
	__u64 count;            /* out: iov_iter_count() after the call */
	__u32 logical_block_size; /* the device's bdev_logical_block_size() for this bio: 512, 1024, 2048 or 4096 */
	__u32 flag_bits;        /* out: bio->bi_flags, only the bits of the flags reported in flags */
};

#define GUPC_BIO_PAGE_PINNED (1u << 0)
#define GUPC_BIO_NO_PAGE_REF (1u << 1)
#define GUPC_BIO_CLONED (1u << 2)

struct gupc_bio_release {
	__u32 bio;
	__u32 mark_dirty;
};

struct gupc_fv {
	__u32 fv;
	__u32 nr;               /* nr_allocated (create) or nr_frames (get) */
	__u64 start;
	__u32 write;
	__u32 pad;
	__s64 result;
	__u32 nr_frames;        /* out */
	__u32 got_ref;          /* out */
	__u32 is_pfns;          /* out */
	__u32 pad2;
};

struct gupc_netfs {
	__u32 netfs;
	__u32 iter;
	__u64 max_size;
	__s64 result;
	__u64 count;            /* out: iov_iter_count() of the original iterator */
};

struct gupc_inspect {
	__u32 region;
	__u32 folio;
	__s32 refcount;         /* out: relative to the folio's refcount when it was mapped, plus its start refcount */
	__s32 pincount;         /* out: valid when has_pincount */
	__u32 has_pincount;     /* out: the kernel keeps an exact pin count for this folio */
	__u32 maybe_dma_pinned; /* out: folio_maybe_dma_pinned() */
	__u32 dirty;            /* out: folio_test_dirty() */
	__u32 known;            /* out: 0 when the adapter has no such folio */
};

struct gupc_vmstat {
	__s64 acquired;         /* out: nr_foll_pin_acquired since GUPC_IOC_BEGIN */
	__s64 released;
};

#define GUPC_IOC_MAGIC 'G'
#define GUPC_IOC_INFO _IOR(GUPC_IOC_MAGIC, 0, struct gupc_info)
#define GUPC_IOC_BEGIN _IO(GUPC_IOC_MAGIC, 1)
#define GUPC_IOC_PREPARE_END _IO(GUPC_IOC_MAGIC, 2)
#define GUPC_IOC_END _IO(GUPC_IOC_MAGIC, 3)
#define GUPC_IOC_MAP _IOW(GUPC_IOC_MAGIC, 4, struct gupc_map)
#define GUPC_IOC_MAP_DONE _IOW(GUPC_IOC_MAGIC, 5, struct gupc_map)
#define GUPC_IOC_GUP _IOWR(GUPC_IOC_MAGIC, 6, struct gupc_gup)
#define GUPC_IOC_RELEASE _IOW(GUPC_IOC_MAGIC, 7, struct gupc_release)
#define GUPC_IOC_ADD_PIN _IOWR(GUPC_IOC_MAGIC, 8, struct gupc_add_pin)
#define GUPC_IOC_ITER_INIT _IOWR(GUPC_IOC_MAGIC, 9, struct gupc_iter_init)
#define GUPC_IOC_ITER_EXTRACT _IOWR(GUPC_IOC_MAGIC, 10, struct gupc_iter_extract)
#define GUPC_IOC_ITER_WILL_PIN _IOWR(GUPC_IOC_MAGIC, 11, struct gupc_iter_query)
#define GUPC_IOC_BIO_ADD _IOWR(GUPC_IOC_MAGIC, 12, struct gupc_bio_add)
#define GUPC_IOC_BIO_RELEASE _IOW(GUPC_IOC_MAGIC, 13, struct gupc_bio_release)
#define GUPC_IOC_FV_CREATE _IOWR(GUPC_IOC_MAGIC, 14, struct gupc_fv)
#define GUPC_IOC_FV_GET _IOWR(GUPC_IOC_MAGIC, 15, struct gupc_fv)
#define GUPC_IOC_FV_PUT _IOWR(GUPC_IOC_MAGIC, 16, struct gupc_fv)
#define GUPC_IOC_NETFS_EXTRACT _IOWR(GUPC_IOC_MAGIC, 17, struct gupc_netfs)
#define GUPC_IOC_NETFS_FREE _IOWR(GUPC_IOC_MAGIC, 18, struct gupc_netfs)
#define GUPC_IOC_INSPECT _IOWR(GUPC_IOC_MAGIC, 19, struct gupc_inspect)
#define GUPC_IOC_VMSTAT _IOR(GUPC_IOC_MAGIC, 20, struct gupc_vmstat)
#define GUPC_IOC_BIO_DEVICE _IOW(GUPC_IOC_MAGIC, 21, __u32)
/* Before the server faults in user pages itself (a file region's page cache): see gupc_arm(). */
#define GUPC_IOC_ARM _IO(GUPC_IOC_MAGIC, 22)
#define GUPC_IOC_UNPIN_ARRAY _IOW(GUPC_IOC_MAGIC, 23, struct gupc_unpin_array)

#endif
