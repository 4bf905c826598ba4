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
 *   bit 6       DIRTY, set by the walker for a write (leaf only)
 *   bits 11-51  (leaf) the full output address of the page, which is
 *               aligned to the leaf size, so bit 11 can only be set by a
 *               2 KiB leaf
 *   bits 12-47  (table entry) the physical address of the next-level table
 *               page: table pages must lie below 2^48
 *   bits 48-63  (table entry) the dirty summary: bit 48 + g set means a
 *               leaf in group g of the next-level table (its entries
 *               32 * g to 32 * g + 31) may be dirty
 *   other bits  zero
 * An entry is either zero (not present), a leaf, or a table pointer.
 *
 * Dirty summary: whoever sets a leaf's DIRTY bit (iolab_pt_translate(),
 * iolab_pt_set_dirty(), a split copying DIRTY into new leaves) sets, after
 * the leaf and bottom up, the summary bit of the leaf's group in every table
 * entry on its path. So a dirty leaf always has its summary bits set up to
 * the top, and iolab_pt_read_dirty() skips every group whose bit is clear:
 * a harvest of a mostly clean table reads only the parts that were written.
 * A summary bit may be set with nothing dirty below (an unmap or a harvest
 * of part of a group leaves it), which only costs a read. See
 * pt_mark_dirty_path() for why no write is lost against a harvest clearing
 * summaries.
 *
 * Concurrency: callers serialise the "writers" (map, unmap, split, merge,
 * destroy) on one table. The "walkers" (translate, iova_to_phys, read_dirty,
 * walk_leaves, stats) only need the table to stay alive and may run
 * concurrently with each other: the walker's ACCESSED/DIRTY updates and
 * read_dirty's DIRTY clearing are each one atomic step per entry (a
 * compare-exchange or atomic bit clear, or plain accesses under the level 0
 * table's leaf lock: see pt_leaf_locks in iolab_pt.c), so no dirty bit is
 * lost or invented. A table with no empty tables below the top is kept as
 * an invariant, so unmapping everything frees every page but the top one.
 *
 * Writers and walkers together: map, unmap and split change each entry with
 * one atomic store, exchange or compare-exchange and account for ACCESSED
 * and DIRTY bits a walker sets meanwhile (read & unmap reads the DIRTY bit in
 * the same exchange that clears the entry), so they may run alongside
 * walkers provided @free_table does not let a page be reused while a walker
 * may still be inside it (e.g. it defers the free past an RCU grace period).
 * merge must not run alongside walkers: it folds the children's bits into
 * the new leaf before it installs it.
 */
#ifndef _IOLAB_PT_H
#define _IOLAB_PT_H

#ifdef __KERNEL__
#include <linux/bits.h>
#include <linux/types.h>
#else
#include "iolab_pt_user.h"
#endif

/*
 * IOLAB_HOT(name) puts a hot function at the start of a 4 KiB page of its
 * own (section .text.iolab_hot_<name>, which the module loader places at
 * its alignment). Under QEMU's TCG, which runs the test VM, a jump from one
 * translated block to another is chained directly only when the target
 * lies in the 4 KiB page where the jumping block starts; any other jump
 * looks its target up. A loop that happens to straddle a page boundary
 * therefore runs several times slower, and where a function lands moves
 * with every change to any file linked before it. Giving the harvest and
 * the plain read pages of their own keeps bench dirty's figures about the
 * code. Nothing here is needed for correctness; userspace leaves it empty.
 */
#ifdef __KERNEL__
#define IOLAB_HOT(name)							\
	__attribute__((__section__(".text.iolab_hot_" #name),		\
		       __aligned__(4096), __noinline__))
#else
#define IOLAB_HOT(name)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The number of bits set in @v, without a branch or a call: the TCG
 * guest's CPU model has no POPCNT, so hweight64() is a call there, and
 * under TCG a branch ends a translation block. Bits are summed in pairs,
 * then nibbles, then bytes, and the multiply adds the eight byte sums
 * into the top byte.
 */
static inline unsigned int iolab_bits64(u64 v)
{
	v -= (v >> 1) & 0x5555555555555555ULL;
	v = (v & 0x3333333333333333ULL) + ((v >> 2) & 0x3333333333333333ULL);
	v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (v * 0x0101010101010101ULL) >> 56;
}

/* Most levels a table can have: 2 KiB leaves and a 64-bit IOVA. */
#define IOLAB_PT_MAX_LEVELS	6
/* Size of one table page and number of entries in it. */
#define IOLAB_PT_TABLE_SIZE	4096
#define IOLAB_PT_ENTRIES	512

/* Entry bits, see the file comment. */
#define IOLAB_PTE_PRESENT	BIT_ULL(0)
#define IOLAB_PTE_READ		BIT_ULL(1)
#define IOLAB_PTE_WRITE		BIT_ULL(2)
#define IOLAB_PTE_LEAF		BIT_ULL(3)
#define IOLAB_PTE_ACCESSED	BIT_ULL(5)
#define IOLAB_PTE_DIRTY		BIT_ULL(6)
#define IOLAB_PTE_ADDR_MASK	GENMASK_ULL(51, 11)
#define IOLAB_PTE_TABLE_MASK	GENMASK_ULL(47, 12)
#define IOLAB_PTE_SUMMARY	GENMASK_ULL(63, 48)
#define IOLAB_PTE_SUMMARY_SHIFT	48
/* Entries of a table per dirty summary bit of the entry pointing to it */
#define IOLAB_PT_SUMMARY_GROUP	32

/* Protection flags for iolab_pt_map(), also reported in struct iolab_pt_leaf */
#define IOLAB_PT_READ		BIT(0)
#define IOLAB_PT_WRITE		BIT(1)
/* State flags reported in struct iolab_pt_leaf */
#define IOLAB_PT_ACCESSED	BIT(2)
#define IOLAB_PT_DIRTY		BIT(3)

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
 * @alloc_table: return a zeroed, 4 KiB aligned 4 KiB page whose
 *		 @virt_to_phys is below 2^48, or NULL
 * @free_table: give back a page from @alloc_table
 * @virt_to_phys: the address a table entry stores for @table
 * @phys_to_virt: the inverse of @virt_to_phys; NULL in the kernel means
 *		  phys_to_virt(), the direct map, which the walks then call
 *		  inline instead of through the op
 *
 * Every op gets the cookie given to iolab_pt_init(). Kernel users pass
 * get_zeroed_page(GFP_KERNEL_ACCOUNT), free_page() and virt_to_phys()
 * wrappers, and NULL for @phys_to_virt.
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
 * struct iolab_pt_dirty - a caller-owned dirty bitmap window
 * @iova: first IOVA of the window, aligned to @page_size
 * @length: bytes in the window, a multiple of @page_size
 * @page_size: bytes per bitmap bit, a power of two; it may be smaller or
 *             larger than the leaves of the table
 * @bitmap: bit i stands for [@iova + i * @page_size, + @page_size); the
 *          caller sizes and zeroes it; bits are only ever set
 * @nr_dirty: incremented by the number of bits newly set in @bitmap
 * @touched: one bit per word of @bitmap, which the caller sizes and
 *           zeroes: bit w is set whenever a bit of word w is, so the caller
 *           can read back only the words that got one
 *
 * A dirty leaf sets the bits of every @page_size unit it overlaps within the
 * window, so a dirty 2 MiB leaf reports all of its 4 KiB pages.
 */
struct iolab_pt_dirty {
	u64 iova;
	u64 length;
	u64 page_size;
	unsigned long *bitmap;
	u64 nr_dirty;
	unsigned long *touched;
};

/**
 * struct iolab_pt_leaf - one leaf, as reported by iolab_pt_walk_leaves()
 * @iova: first IOVA the leaf maps (aligned to @size)
 * @oa: output address of @iova
 * @size: bytes mapped by the leaf
 * @flags: IOLAB_PT_READ, IOLAB_PT_WRITE, IOLAB_PT_ACCESSED, IOLAB_PT_DIRTY
 * @level: table level of the leaf, 0 for the smallest leaves
 */
struct iolab_pt_leaf {
	u64 iova;
	u64 oa;
	u64 size;
	unsigned int flags;
	unsigned int level;
};

/**
 * struct iolab_pt_stats - shape of a table
 * @nr_tables: table pages in use, including the top one
 * @nr_leaves: leaves per level; iolab_pt_level_size() gives their size
 */
struct iolab_pt_stats {
	u64 nr_tables;
	u64 nr_leaves[IOLAB_PT_MAX_LEVELS];
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
 * iolab_pt_level_size() - bytes mapped by one entry of a level
 * @pt: the table
 * @level: 0 to @pt->top_level
 *
 * Return: 1 << (leaf_shift + 9 * @level).
 */
u64 iolab_pt_level_size(const struct iolab_pt *pt, unsigned int level);

/**
 * iolab_pt_map() - map [@iova, @iova + @len) to [@oa, @oa + @len)
 * @pt: the table
 * @iova: first IOVA, aligned to the smallest leaf size
 * @oa: first output address, aligned to the smallest leaf size, and
 *      @oa + @len must fit in 52 bits
 * @len: bytes, a non-zero multiple of the smallest leaf size
 * @prot: IOLAB_PT_READ and/or IOLAB_PT_WRITE
 * @mapped: if not NULL, set to the bytes mapped: @len or 0
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
		 unsigned int prot, u64 *mapped);

/**
 * iolab_pt_unmap() - remove the leaves inside [@iova, @iova + @len)
 * @pt: the table
 * @iova: first IOVA of the range
 * @len: bytes in the range
 * @dirty: NULL, or a window that receives the DIRTY bits of the removed
 *         leaves (read & unmap); it should cover the range, as leaves outside
 *         it are not reported
 *
 * Walks the range in IOVA order, skipping holes, and removes every leaf that
 * lies fully inside it. A leaf that sticks out of the range is never split:
 * the walk stops there. Table pages that become empty are freed. Each leaf is
 * cleared by one atomic exchange, and the DIRTY bit reported is the one it
 * returned, so a concurrent walker's write is either reported or faults.
 * An empty, wrapping or out of range request, or an invalid @dirty window
 * (see iolab_pt_read_dirty()), removes nothing.
 *
 * Return: the bytes removed, up to the leaf that stopped the walk.
 */
u64 iolab_pt_unmap(struct iolab_pt *pt, u64 iova, u64 len,
		   struct iolab_pt_dirty *dirty);

/**
 * iolab_pt_iova_to_phys() - look up a translation without side effects
 * @pt: the table
 * @iova: IOVA to look up
 * @pa: set to the output address of @iova
 * @prot: if not NULL, set to the leaf's IOLAB_PT_* flags (protection and
 *        the ACCESSED/DIRTY state)
 * @leaf_size: if not NULL, set to the bytes mapped by the leaf
 *
 * Unlike iolab_pt_translate() this does not touch ACCESSED or DIRTY.
 *
 * Return: 0, -ENOENT if @iova is not mapped, -ERANGE if it is beyond @ias.
 */
int iolab_pt_iova_to_phys(struct iolab_pt *pt, u64 iova, u64 *pa,
			  unsigned int *prot, u64 *leaf_size);

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
 * compare-exchange on the leaf, so it never loses against a concurrent
 * harvest that clears DIRTY.
 *
 * Return: 0; -ENOENT if @iova is not mapped; -EACCES for a write to a leaf
 * without WRITE or a read of a leaf without READ; -ERANGE beyond @ias.
 */
int iolab_pt_translate(struct iolab_pt *pt, u64 iova, bool write,
		       bool track_dirty, u64 *pa, u64 *leaf_size);

/**
 * iolab_pt_set_dirty() - set DIRTY on the leaf that maps @iova
 * @pt: the table
 * @iova: any IOVA inside the leaf
 *
 * What a DMA write with dirty tracking does to the leaf, without the
 * access: for tests that mark pages dirty directly (IOMMU_TEST_OP_DIRTY).
 * Atomic against walkers and harvests, as iolab_pt_translate() is.
 *
 * Return: 0, -ENOENT if @iova is not mapped, -ERANGE beyond @ias.
 */
int iolab_pt_set_dirty(struct iolab_pt *pt, u64 iova);

/**
 * iolab_pt_read_dirty() - harvest DIRTY bits into a bitmap window
 * @pt: the table
 * @iova: first IOVA of the range to harvest; need not be aligned
 * @len: bytes in the range, not 0
 * @clear: also clear the DIRTY bits that are reported
 * @d: the window, which must contain the range
 *
 * For each present leaf that intersects the range and is dirty, sets the
 * bits of all @d->page_size units the leaf overlaps within the window (the
 * whole leaf, even the part outside [@iova, @iova + @len)). With @clear, the
 * DIRTY bit of a leaf that lies entirely inside the window is cleared by a
 * compare-exchange that only succeeds on the value that was reported, so a
 * write that lands meanwhile stays for the next harvest. A leaf that sticks
 * out of the window is reported for its part inside and stays dirty: the
 * pages outside were not reported, so their dirty state must not be lost.
 *
 * Groups of a table whose dirty summary bit is clear are skipped. With
 * @clear, the summary bit of each group the range holds whole is cleared
 * (atomically, before its entries are read); without, summaries are left.
 *
 * Return: 0; -EINVAL for @len 0, a bad window or a range outside the window;
 * -ERANGE when the range goes beyond @ias or wraps.
 */
int iolab_pt_read_dirty(struct iolab_pt *pt, u64 iova, u64 len, bool clear,
			struct iolab_pt_dirty *d);

/**
 * iolab_pt_read_leaves() - read every entry of a range, changing nothing
 * @pt: the table
 * @iova: first IOVA of the range
 * @len: bytes in the range, not 0
 * @nr_leaves: set to the number of present leaves read
 *
 * The reference a harvest's cost is measured against: the same walk over
 * the same IOPTE memory as iolab_pt_read_dirty(), reading each entry once,
 * with no summary to skip by, no atomic operation and no bitmap.
 *
 * Return: 0, or -EINVAL/-ERANGE for a bad range.
 */
int iolab_pt_read_leaves(struct iolab_pt *pt, u64 iova, u64 len,
			 u64 *nr_leaves);

/**
 * iolab_pt_split() - break leaves into smaller ones
 * @pt: the table
 * @iova: first IOVA of the range
 * @len: bytes in the range, not 0
 * @new_leaf_size: a size in cfg.leaf_sizes
 *
 * Every leaf that intersects the range and is larger than @new_leaf_size is
 * replaced by a subtree in which the part inside the range is mapped by
 * @new_leaf_size leaves, and the rest by the largest leaves that fit. Every
 * new leaf keeps the protection, ACCESSED and DIRTY bits of the old one,
 * and the new table entries above a dirty leaf have their summary set.
 * Each subtree is built off-line and installed with one compare-exchange, so
 * translations never change and no DIRTY bit is lost. All table pages are
 * allocated before anything is changed.
 *
 * Return: 0; -EINVAL for @len 0 or a size not in cfg.leaf_sizes; -ERANGE
 * beyond @ias; -ENOMEM, with the table unchanged.
 */
int iolab_pt_split(struct iolab_pt *pt, u64 iova, u64 len, u64 new_leaf_size);

/**
 * iolab_pt_merge() - fold tables back into larger leaves
 * @pt: the table
 * @iova: first IOVA of the range
 * @len: bytes in the range, not 0
 *
 * Bottom up, every table whose span lies inside the range and that maps its
 * whole span physically contiguously, with one protection, from an output
 * address aligned to the span, is replaced by one leaf of the span's size if
 * that size is in cfg.leaf_sizes. The new leaf has the OR of the children's
 * ACCESSED and DIRTY bits. Tables that do not qualify are left alone. Must
 * not run alongside walkers (see the file comment).
 *
 * Return: 0; -EINVAL for @len 0; -ERANGE beyond @ias or wrapping.
 */
int iolab_pt_merge(struct iolab_pt *pt, u64 iova, u64 len);

/**
 * iolab_pt_walk_leaves() - call @fn for each leaf intersecting a range
 * @pt: the table
 * @iova: first IOVA of the range
 * @len: bytes in the range, not 0
 * @fn: called for each leaf in increasing IOVA order, with @arg; returns 0
 *      to go on, anything else to stop the walk
 * @arg: passed to @fn
 *
 * Return: 0, the first non-zero value @fn returned, or -EINVAL/-ERANGE for
 * a bad range.
 */
int iolab_pt_walk_leaves(struct iolab_pt *pt, u64 iova, u64 len,
			 int (*fn)(void *arg, const struct iolab_pt_leaf *leaf),
			 void *arg);

/**
 * iolab_pt_stats() - count the table pages and leaves of @pt
 * @pt: the table
 * @stats: filled in
 */
void iolab_pt_stats(struct iolab_pt *pt, struct iolab_pt_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* _IOLAB_PT_H */
