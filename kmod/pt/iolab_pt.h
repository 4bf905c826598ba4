/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommulab: radix I/O page tables for the mock IOMMU, as a library.
 *
 * The table has no fd, object or locking policy of its own, and builds both
 * in the kernel and in userspace (see iolab_pt_user.h), where it is unit
 * tested.
 *
 * Geometry: every table level is one 4 KiB page of 512 64-bit entries, so
 * each level decodes 9 bits of IOVA. A level 0 entry maps 1 << leaf_shift
 * bytes (4 KiB, or 2 KiB for the selftest flavour); a level n entry maps
 * 1 << (leaf_shift + 9 * n) bytes. The top level is the lowest one whose
 * entries cover @ias input address bits; its table may use fewer than 512
 * entries.
 *
 * Entry format (u64):
 *   bit 0       PRESENT
 *   bit 1       READ   (leaf only)
 *   bit 2       WRITE  (leaf only)
 *   bit 3       LEAF   (set for every leaf, including level 0)
 *   bit 5       ACCESSED, set by the walker (leaf only)
 *   bit 6       DIRTY, set by the walker for a write when asked to track
 *               dirty pages (leaf only)
 *   bits 11-51  address: for a leaf, the full output address of the page,
 *               which is aligned to the leaf size, so bit 11 can only be set
 *               by a 2 KiB leaf; for a table entry, the physical address of
 *               the next-level table page (4 KiB aligned, so bit 11 is 0).
 *   other bits  zero
 * An entry is either zero (not present), a leaf, or a table pointer.
 *
 * Concurrency: callers serialise the "writers" (map, unmap, destroy) on one
 * table. The "walkers" (translate, iova_to_phys) only need the table to stay
 * alive and may run concurrently with each other: the walker's
 * ACCESSED/DIRTY updates are atomic per entry. A table with no empty tables
 * below the top is kept as an invariant, so unmapping everything frees every
 * page but the top one.
 *
 * Writers and walkers together: map and unmap change each entry with one
 * atomic store or exchange, and a walker sets ACCESSED and DIRTY with a
 * compare-exchange that fails on an entry changed meanwhile, so they may run
 * alongside walkers provided @free_table does not let a page be reused while
 * a walker may still be inside it (e.g. it defers the free past an RCU grace
 * period).
 */
#ifndef _IOLAB_PT_H
#define _IOLAB_PT_H

#ifdef __KERNEL__
#include <linux/bits.h>
#include <linux/types.h>
#else
#include "iolab_pt_user.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Most levels a table can have: 2 KiB leaves and a 64-bit IOVA. */
#define IOLAB_PT_MAX_LEVELS	6
/* Number of entries in one (4 KiB) table page. */
#define IOLAB_PT_ENTRIES	512

/* Entry bits, see the file comment. */
#define IOLAB_PTE_PRESENT	BIT_ULL(0)
#define IOLAB_PTE_READ		BIT_ULL(1)
#define IOLAB_PTE_WRITE		BIT_ULL(2)
#define IOLAB_PTE_LEAF		BIT_ULL(3)
#define IOLAB_PTE_ACCESSED	BIT_ULL(5)
#define IOLAB_PTE_DIRTY		BIT_ULL(6)
#define IOLAB_PTE_ADDR_MASK	GENMASK_ULL(51, 11)

/* Protection flags for iolab_pt_map() */
#define IOLAB_PT_READ		BIT(0)
#define IOLAB_PT_WRITE		BIT(1)

/**
 * struct iolab_pt_cfg - format of one table
 * @leaf_shift: log2 of the level 0 page size: 12 (4 KiB) or 11 (2 KiB)
 * @ias: input address bits, from @leaf_shift + 9 to 64; IOVAs at or beyond
 *       1 << @ias cannot be mapped
 * @leaf_sizes: bitmap of the leaf sizes that may be used, like an iommu
 *              domain's pgsize_bitmap: bit n set means a leaf of 1 << n bytes.
 *              It must contain 1 << @leaf_shift and only sizes of levels the
 *              table has (1 << (@leaf_shift + 9 * level)).
 */
struct iolab_pt_cfg {
	unsigned int leaf_shift;
	unsigned int ias;
	unsigned long leaf_sizes;
};

/**
 * struct iolab_pt_ops - where table pages come from
 * @alloc_table: return a zeroed, 4 KiB aligned 4 KiB page, or NULL
 * @free_table: give back a page from @alloc_table
 * @virt_to_phys: the address a table entry stores for @table
 * @phys_to_virt: the inverse of @virt_to_phys
 *
 * Every op gets the cookie given to iolab_pt_init(). Kernel users pass
 * get_zeroed_page(GFP_KERNEL_ACCOUNT), free_page(), virt_to_phys() and
 * phys_to_virt() wrappers.
 */
struct iolab_pt_ops {
	void *(*alloc_table)(void *cookie);
	void (*free_table)(void *cookie, void *table);
	u64 (*virt_to_phys)(void *cookie, void *table);
	void *(*phys_to_virt)(void *cookie, u64 phys);
};

/**
 * struct iolab_pt - one I/O page table
 * @cfg: the format, copied at init
 * @ops: table page allocator
 * @cookie: passed to every op
 * @top: the top-level table page
 * @top_level: level of @top, 0 for a one-level table
 * @max_iova: the last IOVA the table can map
 *
 * All fields are read-only after iolab_pt_init().
 */
struct iolab_pt {
	struct iolab_pt_cfg cfg;
	const struct iolab_pt_ops *ops;
	void *cookie;
	u64 *top;
	unsigned int top_level;
	u64 max_iova;
};

/**
 * iolab_pt_init() - set up an empty table
 * @pt: the table to set up
 * @cfg: its format
 * @ops: table page allocator, must outlive @pt
 * @cookie: passed to every op
 *
 * Return: 0, -EINVAL for a @cfg this library cannot build, or -ENOMEM when
 * the top table page cannot be allocated.
 */
int iolab_pt_init(struct iolab_pt *pt, const struct iolab_pt_cfg *cfg,
		  const struct iolab_pt_ops *ops, void *cookie);

/**
 * iolab_pt_destroy() - free every table page of @pt
 * @pt: a table set up by iolab_pt_init()
 *
 * The memory the leaves point to is not the table's and is left alone.
 */
void iolab_pt_destroy(struct iolab_pt *pt);

/**
 * iolab_pt_map() - map [@iova, @iova + @len) to [@oa, @oa + @len)
 * @pt: the table
 * @iova: first IOVA, aligned to the smallest leaf size
 * @oa: first output address, aligned to the smallest leaf size, and
 *      @oa + @len must fit in 52 bits
 * @len: bytes, a non-zero multiple of the smallest leaf size
 * @prot: IOLAB_PT_READ and/or IOLAB_PT_WRITE
 *
 * Each step uses the largest size in cfg.leaf_sizes to which both the IOVA
 * and the output address are aligned and which the remaining length covers.
 * On failure the table is left exactly as it was: the leaves and table pages
 * added by this call are removed again.
 *
 * Return: 0; -EINVAL for a bad @prot, a misaligned value or @len 0; -ERANGE
 * when the IOVA range goes beyond @ias or wraps, or the output range beyond
 * 52 bits; -EEXIST if any part of the range is already mapped; -ENOMEM if a
 * table page cannot be allocated.
 */
int iolab_pt_map(struct iolab_pt *pt, u64 iova, u64 oa, u64 len,
		 unsigned int prot);

/**
 * iolab_pt_unmap() - remove the leaves inside [@iova, @iova + @len)
 * @pt: the table
 * @iova: first IOVA of the range
 * @len: bytes in the range
 *
 * Walks the range in IOVA order, skipping holes, and removes every leaf that
 * lies fully inside it. A leaf that sticks out of the range is never split:
 * the walk stops there. Table pages that become empty are freed. Each leaf is
 * cleared by one atomic exchange, so a concurrent walker either translated
 * through it before or faults. An empty, wrapping or out of range request
 * removes nothing.
 *
 * Return: the bytes removed, up to the leaf that stopped the walk.
 */
u64 iolab_pt_unmap(struct iolab_pt *pt, u64 iova, u64 len);

/**
 * iolab_pt_iova_to_phys() - look up a translation without side effects
 * @pt: the table
 * @iova: IOVA to look up
 * @pa: set to the output address of @iova
 *
 * Unlike iolab_pt_translate() this does not touch ACCESSED or DIRTY.
 *
 * Return: 0, -ENOENT if @iova is not mapped, -ERANGE if it is beyond @ias.
 */
int iolab_pt_iova_to_phys(struct iolab_pt *pt, u64 iova, u64 *pa);

/**
 * iolab_pt_translate() - walk the table as the IOMMU hardware would
 * @pt: the table
 * @iova: IOVA the device accesses
 * @write: the access is a write (else a read)
 * @track_dirty: the domain tracks dirty pages: a write sets DIRTY
 * @pa: set to the output address of @iova
 * @leaf_size: if not NULL, set to the bytes mapped by the leaf
 *
 * On success sets ACCESSED, and DIRTY for a write when @track_dirty, with a
 * compare-exchange on the leaf, so it never brings back an entry that an
 * unmap cleared meanwhile.
 *
 * Return: 0; -ENOENT if @iova is not mapped; -EACCES for a write to a leaf
 * without WRITE or a read of a leaf without READ; -ERANGE beyond @ias.
 */
int iolab_pt_translate(struct iolab_pt *pt, u64 iova, bool write,
		       bool track_dirty, u64 *pa, u64 *leaf_size);

#ifdef __cplusplus
}
#endif

#endif /* _IOLAB_PT_H */
