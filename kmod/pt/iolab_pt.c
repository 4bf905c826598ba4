// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: radix I/O page tables for the mock IOMMU.
 *
 * iolab_pt.h describes the format and who may run concurrently with whom.
 * Every range operation is a function that handles the entries of one table
 * in [start, last] (inclusive, so a range may end at U64_MAX) and calls
 * itself for the next level down: the recursion is at most
 * IOLAB_PT_MAX_LEVELS deep and its frames are small.
 *
 * Invariant: no table page below the top one is empty. map undoes its
 * partial work including the table pages it allocated, and unmap frees the
 * tables it empties. So a table entry always has some leaf below it.
 */
#ifdef __KERNEL__
#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <linux/types.h>
#endif

#include "iolab_pt.h"

#define PT_LEVEL_BITS	9
#define PT_OA_BITS	52
#define PT_IDX_MASK	(IOLAB_PT_ENTRIES - 1)

#define PTE_TYPE	(IOLAB_PTE_PRESENT | IOLAB_PTE_LEAF)

static inline unsigned int pt_shift(const struct iolab_pt *pt,
				    unsigned int lvl)
{
	return pt->cfg.leaf_shift + PT_LEVEL_BITS * lvl;
}

static inline u64 *pt_entry(const struct iolab_pt *pt, u64 *table,
			    unsigned int lvl, u64 iova)
{
	return &table[(iova >> pt_shift(pt, lvl)) & PT_IDX_MASK];
}

static inline bool pt_leaf_ok(const struct iolab_pt *pt, unsigned int lvl)
{
	return pt->cfg.leaf_sizes & BIT(pt_shift(pt, lvl));
}

static inline bool pte_is_leaf(u64 pte)
{
	return (pte & PTE_TYPE) == PTE_TYPE;
}

static inline bool pte_is_table(u64 pte)
{
	return (pte & PTE_TYPE) == IOLAB_PTE_PRESENT;
}

static inline u64 pte_addr(u64 pte)
{
	return pte & IOLAB_PTE_ADDR_MASK;
}

static u64 *pt_table_of(const struct iolab_pt *pt, u64 pte)
{
	return pt->ops->phys_to_virt(pt->cookie, pte_addr(pte));
}

static u64 pt_mk_table(const struct iolab_pt *pt, u64 *table)
{
	return pt->ops->virt_to_phys(pt->cookie, table) | IOLAB_PTE_PRESENT;
}

static void pt_free_table(struct iolab_pt *pt, u64 *table)
{
	pt->ops->free_table(pt->cookie, table);
}

static bool pt_table_empty(u64 *table)
{
	unsigned int i;

	for (i = 0; i < IOLAB_PT_ENTRIES; i++)
		if (READ_ONCE(table[i]))
			return false;
	return true;
}

/* Free @table, whose entries are at level @lvl, and every table below it. */
static void pt_free_subtree(struct iolab_pt *pt, u64 *table, unsigned int lvl)
{
	unsigned int i;

	for (i = 0; lvl && i < IOLAB_PT_ENTRIES; i++) {
		u64 pte = READ_ONCE(table[i]);

		if (pte_is_table(pte))
			pt_free_subtree(pt, pt_table_of(pt, pte), lvl - 1);
	}
	pt_free_table(pt, table);
}

/* Check that [@iova, @iova + @len) is not empty, does not wrap and fits. */
static int pt_check_range(const struct iolab_pt *pt, u64 iova, u64 len,
			  u64 *last)
{
	if (!len)
		return -EINVAL;
	*last = iova + (len - 1);
	if (*last < iova || *last > pt->max_iova)
		return -ERANGE;
	return 0;
}

int iolab_pt_init(struct iolab_pt *pt, const struct iolab_pt_cfg *cfg,
		  const struct iolab_pt_ops *ops, void *cookie)
{
	unsigned long allowed = 0;
	unsigned int lvl, top;

	if (cfg->leaf_shift != 11 && cfg->leaf_shift != 12)
		return -EINVAL;
	if (cfg->ias < cfg->leaf_shift + PT_LEVEL_BITS || cfg->ias > 64)
		return -EINVAL;
	/* the lowest level whose entries, with the ones below, cover ias */
	top = (cfg->ias - cfg->leaf_shift - 1) / PT_LEVEL_BITS;
	for (lvl = 0; lvl <= top; lvl++)
		allowed |= BIT(cfg->leaf_shift + PT_LEVEL_BITS * lvl);
	if (!(cfg->leaf_sizes & BIT(cfg->leaf_shift)) ||
	    (cfg->leaf_sizes & ~allowed))
		return -EINVAL;

	memset(pt, 0, sizeof(*pt));
	pt->cfg = *cfg;
	pt->ops = ops;
	pt->cookie = cookie;
	pt->top_level = top;
	pt->max_iova = cfg->ias == 64 ? U64_MAX : BIT_ULL(cfg->ias) - 1;
	pt->top = ops->alloc_table(cookie);
	if (!pt->top)
		return -ENOMEM;
	return 0;
}

void iolab_pt_destroy(struct iolab_pt *pt)
{
	if (!pt->top)
		return;
	pt_free_subtree(pt, pt->top, pt->top_level);
	pt->top = NULL;
}

/* Map */

struct pt_map_state {
	u64 iova;	/* next IOVA to map */
	u64 oa;		/* where it goes */
	u64 last;	/* last IOVA to map */
	u64 bits;	/* PRESENT, LEAF and the protection of the new leaves */
	bool done;
};

static int pt_map_level(struct iolab_pt *pt, u64 *table, unsigned int lvl,
			struct pt_map_state *st)
{
	unsigned int shift = pt_shift(pt, lvl);
	u64 size = BIT_ULL(shift);
	int ret;

	do {
		u64 *ptep = pt_entry(pt, table, lvl, st->iova);
		u64 pte = READ_ONCE(*ptep);
		u64 *child;

		if (pt_leaf_ok(pt, lvl) && !((st->iova | st->oa) & (size - 1)) &&
		    st->last - st->iova >= size - 1) {
			/* A table here would have a leaf below: no empty tables */
			if (pte)
				return -EEXIST;
			WRITE_ONCE(*ptep, st->oa | st->bits);
			if (st->last - st->iova == size - 1) {
				st->done = true;
				return 0;
			}
			st->iova += size;
			st->oa += size;
			continue;
		}

		/* Level 0 is always a leaf size and everything is aligned to it */
		if (pte_is_leaf(pte) || !lvl)
			return -EEXIST;
		if (pte) {
			child = pt_table_of(pt, pte);
		} else {
			child = pt->ops->alloc_table(pt->cookie);
			if (!child)
				return -ENOMEM;
			/* Publish the zeroed page before the pointer to it */
			smp_store_release(ptep, pt_mk_table(pt, child));
		}
		ret = pt_map_level(pt, child, lvl - 1, st);
		if (ret || st->done)
			return ret;
	} while ((st->iova >> shift) & PT_IDX_MASK);
	return 0;
}

/* Free the empty tables on the walk to @iova, bottom up. */
static void pt_prune(struct iolab_pt *pt, u64 iova)
{
	u64 *path[IOLAB_PT_MAX_LEVELS];
	unsigned int lvl = pt->top_level, n = 0;
	u64 *table = pt->top;

	for (;;) {
		u64 *ptep = pt_entry(pt, table, lvl, iova);
		u64 pte = READ_ONCE(*ptep);

		if (!pte_is_table(pte))
			break;
		path[n++] = ptep;
		table = pt_table_of(pt, pte);
		lvl--;
	}
	while (n--) {
		table = pt_table_of(pt, READ_ONCE(*path[n]));
		if (!pt_table_empty(table))
			break;
		WRITE_ONCE(*path[n], 0);
		pt_free_table(pt, table);
	}
}

/* Unmap */

struct pt_unmap_state {
	u64 unmapped;
	bool stop;	/* met a leaf sticking out of the range */
};

static void pt_unmap_level(struct iolab_pt *pt, u64 *table, unsigned int lvl,
			   u64 start, u64 last, struct pt_unmap_state *st)
{
	u64 size = BIT_ULL(pt_shift(pt, lvl));
	u64 cur = start;

	for (;;) {
		u64 *ptep = pt_entry(pt, table, lvl, cur);
		u64 base = cur & ~(size - 1);
		u64 end = base + (size - 1);
		u64 pte = READ_ONCE(*ptep);

		if (pte_is_leaf(pte)) {
			if (base < start || end > last) {
				st->stop = true;
				return;
			}
			/* Atomically: a walker may be setting ACCESSED or DIRTY */
			xchg(ptep, 0);
			st->unmapped += size;
		} else if (pte_is_table(pte)) {
			u64 *child = pt_table_of(pt, pte);

			pt_unmap_level(pt, child, lvl - 1, cur, min(last, end),
				       st);
			if (pt_table_empty(child)) {
				WRITE_ONCE(*ptep, 0);
				pt_free_table(pt, child);
			}
			if (st->stop)
				return;
		}
		if (end >= last)
			return;
		cur = end + 1;
	}
}

int iolab_pt_map(struct iolab_pt *pt, u64 iova, u64 oa, u64 len,
		 unsigned int prot)
{
	u64 min_size = BIT_ULL(pt->cfg.leaf_shift);
	struct pt_map_state st = { .iova = iova, .oa = oa };
	int ret;

	if (!prot || (prot & ~(IOLAB_PT_READ | IOLAB_PT_WRITE)))
		return -EINVAL;
	if ((iova | oa | len) & (min_size - 1))
		return -EINVAL;
	ret = pt_check_range(pt, iova, len, &st.last);
	if (ret)
		return ret;
	if (oa + (len - 1) < oa || oa + (len - 1) >= BIT_ULL(PT_OA_BITS))
		return -ERANGE;

	st.bits = PTE_TYPE;
	if (prot & IOLAB_PT_READ)
		st.bits |= IOLAB_PTE_READ;
	if (prot & IOLAB_PT_WRITE)
		st.bits |= IOLAB_PTE_WRITE;

	ret = pt_map_level(pt, pt->top, pt->top_level, &st);
	if (ret) {
		/* Everything in [iova, st.iova) is ours; past it, only tables */
		if (st.iova != iova) {
			struct pt_unmap_state undo = {};

			pt_unmap_level(pt, pt->top, pt->top_level, iova,
				       st.iova - 1, &undo);
		}
		pt_prune(pt, st.iova);
		return ret;
	}
	return 0;
}

u64 iolab_pt_unmap(struct iolab_pt *pt, u64 iova, u64 len)
{
	struct pt_unmap_state st = {};
	u64 last;

	if (pt_check_range(pt, iova, len, &last))
		return 0;
	pt_unmap_level(pt, pt->top, pt->top_level, iova, last, &st);
	return st.unmapped;
}

/* Single translations */

/* Find the leaf for @iova: its entry, value and level, or NULL. */
static u64 *pt_find_leaf(struct iolab_pt *pt, u64 iova, u64 *ptev,
			 unsigned int *lvlp)
{
	unsigned int lvl = pt->top_level;
	u64 *table = pt->top;

	for (;;) {
		u64 *ptep = pt_entry(pt, table, lvl, iova);
		u64 pte = READ_ONCE(*ptep);

		if (pte_is_leaf(pte)) {
			*ptev = pte;
			*lvlp = lvl;
			return ptep;
		}
		if (!pte_is_table(pte) || !lvl)
			return NULL;
		table = pt_table_of(pt, pte);
		lvl--;
	}
}

int iolab_pt_iova_to_phys(struct iolab_pt *pt, u64 iova, u64 *pa)
{
	unsigned int lvl;
	u64 pte, size;

	if (iova > pt->max_iova)
		return -ERANGE;
	if (!pt_find_leaf(pt, iova, &pte, &lvl))
		return -ENOENT;
	size = BIT_ULL(pt_shift(pt, lvl));
	*pa = pte_addr(pte) + (iova & (size - 1));
	return 0;
}

int iolab_pt_translate(struct iolab_pt *pt, u64 iova, bool write,
		       bool track_dirty, u64 *pa, u64 *leaf_size)
{
	u64 need = write ? IOLAB_PTE_WRITE : IOLAB_PTE_READ;
	u64 set = IOLAB_PTE_ACCESSED;
	unsigned int lvl;
	u64 *ptep;
	u64 pte, size;

	if (iova > pt->max_iova)
		return -ERANGE;
	if (write && track_dirty)
		set |= IOLAB_PTE_DIRTY;
	for (;;) {
		ptep = pt_find_leaf(pt, iova, &pte, &lvl);
		if (!ptep)
			return -ENOENT;
		if (!(pte & need))
			return -EACCES;
		if ((pte & set) == set || cmpxchg64(ptep, pte, pte | set) == pte)
			break;
		/* Changed meanwhile (another walker, an unmap): walk again */
	}
	size = BIT_ULL(pt_shift(pt, lvl));
	*pa = pte_addr(pte) + (iova & (size - 1));
	if (leaf_size)
		*leaf_size = size;
	return 0;
}
