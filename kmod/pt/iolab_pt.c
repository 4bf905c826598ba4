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
 * partial work including the table pages it allocated, unmap frees the
 * tables it empties, split installs only populated tables and merge frees
 * what it folds. So a table entry always has some leaf below it.
 */
#ifdef __KERNEL__
#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/hash.h>
#include <linux/io.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/types.h>
#endif

#include "iolab_pt.h"

#define PT_LEVEL_BITS	9
#define PT_OA_BITS	52
#define PT_IDX_MASK	(IOLAB_PT_ENTRIES - 1)

#define PTE_TYPE	(IOLAB_PTE_PRESENT | IOLAB_PTE_LEAF)
#define PTE_PROT	(IOLAB_PTE_READ | IOLAB_PTE_WRITE)
#define PTE_AD		(IOLAB_PTE_ACCESSED | IOLAB_PTE_DIRTY)

/*
 * Leaf locks. Every store to an entry of a level 0 table that walkers can
 * reach (map filling it, unmap clearing it, a walker setting ACCESSED or
 * DIRTY, a harvest clearing DIRTY) is made holding the lock that the
 * table's address hashes to; none is ever held with another. So a harvest
 * holding a table's lock reads and clears the DIRTY bits of its 512 entries
 * with plain loads and stores, each read and clear one atomic step against
 * every other writer, instead of one locked instruction per dirty entry.
 * The one change made without the lock is a harvest of a mostly clean
 * table clearing a DIRTY bit with one atomic bit operation: it changes
 * nothing else, so the stores made under the lock stay right (at worst two
 * harvests running at once both report a page that was written). The
 * higher levels, where a split installs tables beside walkers without any
 * lock, keep one compare-exchange per change.
 */
#define PT_LEAF_LOCK_BITS	6
#ifdef __KERNEL__
static spinlock_t pt_leaf_locks[BIT(PT_LEAF_LOCK_BITS)] = {
	[0 ... BIT(PT_LEAF_LOCK_BITS) - 1] =
		__SPIN_LOCK_UNLOCKED(pt_leaf_locks),
};
#else
static spinlock_t pt_leaf_locks[BIT(PT_LEAF_LOCK_BITS)];
#endif

/* The leaf lock of the level 0 table holding the entry (or table) @p */
static spinlock_t *pt_leaf_lock(const u64 *p)
{
	unsigned long table = (unsigned long)p / IOLAB_PT_TABLE_SIZE;

	return &pt_leaf_locks[hash_long(table, PT_LEAF_LOCK_BITS)];
}

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

static unsigned int pt_leaf_flags(u64 pte)
{
	unsigned int flags = 0;

	if (pte & IOLAB_PTE_READ)
		flags |= IOLAB_PT_READ;
	if (pte & IOLAB_PTE_WRITE)
		flags |= IOLAB_PT_WRITE;
	if (pte & IOLAB_PTE_ACCESSED)
		flags |= IOLAB_PT_ACCESSED;
	if (pte & IOLAB_PTE_DIRTY)
		flags |= IOLAB_PT_DIRTY;
	return flags;
}

static inline u64 *pt_table_of(const struct iolab_pt *pt, u64 pte)
{
	u64 phys = pte & IOLAB_PTE_TABLE_MASK;

#ifdef __KERNEL__
	/* The direct map: no indirect call on the walks' paths */
	if (!pt->ops->phys_to_virt)
		return phys_to_virt(phys);
#endif
	return pt->ops->phys_to_virt(pt->cookie, phys);
}

/* The summary bit, in the entry above, of the entry of @iova at @lvl. */
static inline u64 pt_summary_bit(const struct iolab_pt *pt, unsigned int lvl,
				 u64 iova)
{
	unsigned int idx = (iova >> pt_shift(pt, lvl)) & PT_IDX_MASK;

	return BIT_ULL(IOLAB_PTE_SUMMARY_SHIFT + idx / IOLAB_PT_SUMMARY_GROUP);
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

u64 iolab_pt_level_size(const struct iolab_pt *pt, unsigned int level)
{
	return BIT_ULL(pt_shift(pt, level));
}

/* Dirty bitmap windows */

static int pt_dirty_check(const struct iolab_pt_dirty *d)
{
	if (!is_power_of_2(d->page_size) || !d->length || !d->bitmap)
		return -EINVAL;
	if ((d->iova | d->length) & (d->page_size - 1))
		return -EINVAL;
	if (d->iova + (d->length - 1) < d->iova)
		return -EINVAL;
	return 0;
}

/* Set bits @first to @last of @map, return how many were clear before. */
static u64 pt_bitmap_set(unsigned long *map, u64 first, u64 last)
{
	u64 added = 0;

	while (first <= last) {
		u64 word = first / BITS_PER_LONG;
		u64 top = last - word * BITS_PER_LONG;
		unsigned int lo = first % BITS_PER_LONG;
		unsigned int hi = top < BITS_PER_LONG ? top : BITS_PER_LONG - 1;
		unsigned long mask = GENMASK(hi, lo);

		added += iolab_bits64(mask & ~map[word]);
		map[word] |= mask;
		first = (word + 1) * BITS_PER_LONG;
	}
	return added;
}

/* Report the dirty leaf [@base, @end] in the window @d. */
static void pt_dirty_record(struct iolab_pt_dirty *d, u64 base, u64 end)
{
	u64 wlast = d->iova + (d->length - 1);
	u64 first, last;

	if (end < d->iova || base > wlast)
		return;
	base = max(base, d->iova);
	end = min(end, wlast);
	first = (base - d->iova) / d->page_size;
	last = (end - d->iova) / d->page_size;
	d->nr_dirty += pt_bitmap_set(d->bitmap, first, last);
	pt_bitmap_set(d->touched, first / BITS_PER_LONG, last / BITS_PER_LONG);
}

/* Map */

struct pt_map_state {
	u64 iova;	/* next IOVA to map */
	u64 oa;		/* where it goes */
	u64 last;	/* last IOVA to map */
	u64 bits;	/* PRESENT, LEAF and the protection of the new leaves */
	bool done;
};

/* Level 0 of a map: each entry is a leaf of the smallest size, aligned */
static int pt_map_leaves(struct iolab_pt *pt, u64 *table,
			 struct pt_map_state *st)
{
	u64 size = BIT_ULL(pt->cfg.leaf_shift);
	spinlock_t *lock = pt_leaf_lock(table);
	int ret = 0;

	spin_lock(lock);
	do {
		u64 *ptep = pt_entry(pt, table, 0, st->iova);

		if (READ_ONCE(*ptep)) {
			ret = -EEXIST;
			break;
		}
		WRITE_ONCE(*ptep, st->oa | st->bits);
		if (st->last - st->iova == size - 1) {
			st->done = true;
			break;
		}
		st->iova += size;
		st->oa += size;
	} while ((st->iova >> pt->cfg.leaf_shift) & PT_IDX_MASK);
	spin_unlock(lock);
	return ret;
}

static int pt_map_level(struct iolab_pt *pt, u64 *table, unsigned int lvl,
			struct pt_map_state *st)
{
	unsigned int shift = pt_shift(pt, lvl);
	u64 size = BIT_ULL(shift);
	int ret;

	if (!lvl)
		return pt_map_leaves(pt, table, st);
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
	struct iolab_pt_dirty *dirty;
	bool stop;	/* met a leaf sticking out of the range */
};

static void pt_unmap_level(struct iolab_pt *pt, u64 *table, unsigned int lvl,
			   u64 start, u64 last, struct pt_unmap_state *st);

static void pt_unmap_entries(struct iolab_pt *pt, u64 *table,
			     unsigned int lvl, u64 start, u64 last,
			     struct pt_unmap_state *st)
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
			/* The DIRTY bit a walker set up to now comes back here */
			pte = xchg(ptep, 0);
			if (st->dirty && (pte & IOLAB_PTE_DIRTY))
				pt_dirty_record(st->dirty, base, end);
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
		 unsigned int prot, u64 *mapped)
{
	u64 min_size = BIT_ULL(pt->cfg.leaf_shift);
	struct pt_map_state st = { .iova = iova, .oa = oa };
	int ret;

	if (mapped)
		*mapped = 0;
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
	if (mapped)
		*mapped = len;
	return 0;
}

u64 iolab_pt_unmap(struct iolab_pt *pt, u64 iova, u64 len,
		   struct iolab_pt_dirty *dirty)
{
	struct pt_unmap_state st = { .dirty = dirty };
	u64 last;

	if (pt_check_range(pt, iova, len, &last))
		return 0;
	if (dirty && pt_dirty_check(dirty))
		return 0;
	pt_unmap_level(pt, pt->top, pt->top_level, iova, last, &st);
	return st.unmapped;
}

/* A level 0 table is unmapped under its leaf lock. */
static void pt_unmap_level(struct iolab_pt *pt, u64 *table, unsigned int lvl,
			   u64 start, u64 last, struct pt_unmap_state *st)
{
	spinlock_t *lock; /* @table's leaf lock */

	if (lvl) {
		pt_unmap_entries(pt, table, lvl, start, last, st);
		return;
	}
	lock = pt_leaf_lock(table);
	spin_lock(lock);
	pt_unmap_entries(pt, table, 0, start, last, st);
	spin_unlock(lock);
}

/* Single translations */

/*
 * Find the leaf for @iova: its entry, value and level, or NULL. If @path is
 * not NULL, @path[n] is set to the table entry at level n on the way, for
 * each level above the leaf's.
 */
static u64 *pt_find_leaf(struct iolab_pt *pt, u64 iova, u64 *ptev,
			 unsigned int *lvlp, u64 **path)
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
		if (path)
			path[lvl] = ptep;
		table = pt_table_of(pt, pte);
		lvl--;
	}
}

/*
 * A walker changes the leaf *@ptep at @lvl from @old to @new, if it still
 * holds @old; a level 0 leaf under its leaf lock. Return whether it did.
 */
static bool pt_update_leaf(u64 *ptep, unsigned int lvl, u64 old, u64 new)
{
	spinlock_t *lock; /* the leaf lock of @ptep's table */
	bool done;

	if (lvl)
		return cmpxchg64(ptep, old, new) == old;
	lock = pt_leaf_lock(ptep);
	spin_lock(lock);
	done = cmpxchg64(ptep, old, new) == old;
	spin_unlock(lock);
	return done;
}

/*
 * Set the summary bit @bit in the table entry *@ptep, unless it is set or
 * the entry is no longer a table (unmapped meanwhile: nothing to mark).
 */
static void pt_set_summary(u64 *ptep, u64 bit)
{
	u64 pte = READ_ONCE(*ptep), prev;

	while (pte_is_table(pte) && !(pte & bit)) {
		prev = cmpxchg64(ptep, pte, pte | bit);
		if (prev == pte)
			break;
		pte = prev;
	}
}

/*
 * A leaf at @lvl on @path was just made dirty: set the summary bits of its
 * path, bottom up.
 *
 * Why no dirty bit is lost: the leaf's DIRTY is set first (a fully ordered
 * compare-exchange), then each summary bit from the leaf's parent entry up
 * to the top. A harvest goes top down and clears a summary bit (a fully
 * ordered compare-exchange) before it reads anything below it. Take the
 * highest summary bit on the path that a harvest finds clear, or clears: if
 * this store setting it came before the harvest's read, the harvest saw it
 * set, and since every store below came earlier still, it finds (or clears
 * and goes past) each lower bit set and reaches the leaf after its DIRTY
 * was set: the write is in this harvest. If this store came after, the bit
 * is set again for the next harvest, with everything below it set before
 * it: the write is in the next one. Setting bits top down instead would let
 * a harvest clear an upper bit, find a lower one not yet set and skip, and
 * the upper bit would then be set over a path that the next harvest finds
 * clear further down: a lost write. A bit found already set needs no store:
 * its clearing harvest has not read below it yet, so it will see the leaf.
 */
static void pt_mark_dirty_path(struct iolab_pt *pt, u64 iova,
			       unsigned int lvl, u64 **path)
{
	for (; lvl < pt->top_level; lvl++)
		pt_set_summary(path[lvl + 1], pt_summary_bit(pt, lvl, iova));
}

int iolab_pt_iova_to_phys(struct iolab_pt *pt, u64 iova, u64 *pa,
			  unsigned int *prot, u64 *leaf_size)
{
	unsigned int lvl;
	u64 pte, size;

	if (iova > pt->max_iova)
		return -ERANGE;
	if (!pt_find_leaf(pt, iova, &pte, &lvl, NULL))
		return -ENOENT;
	size = iolab_pt_level_size(pt, lvl);
	*pa = pte_addr(pte) + (iova & (size - 1));
	if (prot)
		*prot = pt_leaf_flags(pte);
	if (leaf_size)
		*leaf_size = size;
	return 0;
}

int iolab_pt_translate(struct iolab_pt *pt, u64 iova, bool write,
		       bool track_dirty, u64 *pa, u64 *leaf_size)
{
	u64 need = write ? IOLAB_PTE_WRITE : IOLAB_PTE_READ;
	u64 *path[IOLAB_PT_MAX_LEVELS];
	u64 set = IOLAB_PTE_ACCESSED;
	unsigned int lvl;
	u64 *ptep;
	u64 pte, size;

	if (iova > pt->max_iova)
		return -ERANGE;
	if (write && track_dirty)
		set |= IOLAB_PTE_DIRTY;
	for (;;) {
		ptep = pt_find_leaf(pt, iova, &pte, &lvl, path);
		if (!ptep)
			return -ENOENT;
		if (!(pte & need))
			return -EACCES;
		if ((pte & set) == set)
			break;
		if (pt_update_leaf(ptep, lvl, pte, pte | set)) {
			if ((set & ~pte) & IOLAB_PTE_DIRTY)
				pt_mark_dirty_path(pt, iova, lvl, path);
			break;
		}
		/* Harvested, split or unmapped meanwhile: walk again */
	}
	size = iolab_pt_level_size(pt, lvl);
	*pa = pte_addr(pte) + (iova & (size - 1));
	if (leaf_size)
		*leaf_size = size;
	return 0;
}

int iolab_pt_set_dirty(struct iolab_pt *pt, u64 iova)
{
	u64 *path[IOLAB_PT_MAX_LEVELS];
	unsigned int lvl;
	u64 *ptep;
	u64 pte;

	if (iova > pt->max_iova)
		return -ERANGE;
	for (;;) {
		ptep = pt_find_leaf(pt, iova, &pte, &lvl, path);
		if (!ptep)
			return -ENOENT;
		if (pte & IOLAB_PTE_DIRTY)
			return 0;
		if (pt_update_leaf(ptep, lvl, pte, pte | IOLAB_PTE_DIRTY)) {
			pt_mark_dirty_path(pt, iova, lvl, path);
			return 0;
		}
	}
}

/* Dirty harvest */

/*
 * Clear DIRTY in a dirty leaf and return the value it had, or return what
 * the entry holds now if it is no longer a dirty leaf (cleared by someone
 * else, unmapped or split meanwhile).
 */
static u64 pt_test_and_clear_dirty(u64 *ptep)
{
	u64 pte = READ_ONCE(*ptep), prev;

	while (pte_is_leaf(pte) && (pte & IOLAB_PTE_DIRTY)) {
		prev = cmpxchg64(ptep, pte, pte & ~IOLAB_PTE_DIRTY);
		if (prev == pte)
			break;
		pte = prev;
	}
	return pte;
}

/*
 * Clear the summary bits @mask of the table entry *@ptep and return the
 * value it had, or what it holds now if none of them is set or it is no
 * longer a table.
 */
static u64 pt_test_and_clear_summary(u64 *ptep, u64 mask)
{
	u64 pte = READ_ONCE(*ptep), prev;

	while (pte_is_table(pte) && (pte & mask)) {
		prev = cmpxchg64(ptep, pte, pte & ~mask);
		if (prev == pte)
			break;
		pte = prev;
	}
	return pte;
}

/* How a harvest treats a level 0 table */
enum pt_leaf_mode {
	PT_LEAF_READ,		/* NO_CLEAR: loads only, no lock */
	PT_LEAF_LOCKED,		/* clear under the leaf lock */
	PT_LEAF_DENSE,		/* the same, every entry stored back */
	PT_LEAF_ATOMIC,		/* clear without it, an atomic per dirty bit */
};

struct pt_dirty_state {
	struct iolab_pt_dirty *d;
	bool clear;
	/* The window's bits are the level 0 leaves: the fast path applies */
	bool one_bit_per_leaf;
};

static void pt_dirty_level(struct iolab_pt *pt, u64 *table, unsigned int lvl,
			   u64 start, u64 last, struct pt_dirty_state *st,
			   enum pt_leaf_mode mode);

/* Flush the bits @acc of bitmap word @word into the window. */
static __always_inline void pt_dirty_flush_word(struct iolab_pt_dirty *d,
						u64 word, unsigned long acc)
{
	unsigned long old = d->bitmap[word], added = acc & ~old;

	/* No branch: a word that stays zero stays unmarked */
	d->nr_dirty += iolab_bits64(added);
	d->bitmap[word] = old | added;
	d->touched[word / BITS_PER_LONG] |=
		(unsigned long)!!(old | added) << (word % BITS_PER_LONG);
}

/*
 * The DIRTY bits of the @k (at most BITS_PER_LONG) level 0 entries from
 * @ptes, as bits 0 to @k - 1, cleared unless @mode is PT_LEAF_READ; the
 * caller holds the table's leaf lock for the others, so no entry changes
 * under us but for a DIRTY bit that a lockless harvest clears (and storing
 * an entry back with DIRTY clear is then the same store). Eight entries go
 * at a time, their bits gathered without a branch: under TCG a branch ends
 * a translation block, and that costs more than the few instructions it
 * could skip. A clean eight is not stored back, but for PT_LEAF_DENSE,
 * chosen when every group of the table is marked, which stores every entry
 * and takes no branch at all. The eight are addressed from one pointer and
 * stay in registers: a spill to the stack costs as much as a table load.
 */
static __always_inline unsigned long pt_dirty_run(u64 *ptes, unsigned int k,
						  const enum pt_leaf_mode mode)
{
	const u64 D = IOLAB_PTE_DIRTY;
	unsigned int dshift = ilog2(IOLAB_PTE_DIRTY);
	u64 p0, p1, p2, p3, p4, p5, p6, p7;
	unsigned long acc = 0, m;
	unsigned int j = 0;
	u64 *q = ptes;

	for (; j + 8 <= k; j += 8, q += 8) {
		p0 = READ_ONCE(q[0]);
		p1 = READ_ONCE(q[1]);
		p2 = READ_ONCE(q[2]);
		p3 = READ_ONCE(q[3]);
		p4 = READ_ONCE(q[4]);
		p5 = READ_ONCE(q[5]);
		p6 = READ_ONCE(q[6]);
		p7 = READ_ONCE(q[7]);
		m = ((p0 & D) | (p1 & D) << 1 | (p2 & D) << 2 |
		     (p3 & D) << 3 | (p4 & D) << 4 | (p5 & D) << 5 |
		     (p6 & D) << 6 | (p7 & D) << 7) >> dshift;
		acc |= m << j;
		if (mode == PT_LEAF_READ || (mode != PT_LEAF_DENSE && !m))
			continue;
		WRITE_ONCE(q[0], p0 & ~D);
		WRITE_ONCE(q[1], p1 & ~D);
		WRITE_ONCE(q[2], p2 & ~D);
		WRITE_ONCE(q[3], p3 & ~D);
		WRITE_ONCE(q[4], p4 & ~D);
		WRITE_ONCE(q[5], p5 & ~D);
		WRITE_ONCE(q[6], p6 & ~D);
		WRITE_ONCE(q[7], p7 & ~D);
	}
	for (; j < k; j++, q++) {
		p0 = READ_ONCE(*q);
		if (!(p0 & D))
			continue;
		if (mode != PT_LEAF_READ)
			WRITE_ONCE(*q, p0 & ~D);
		acc |= BIT(j);
	}
	return acc;
}

/*
 * The same without the leaf lock, for a table with little dirty: each
 * DIRTY found set is cleared with one atomic bit operation, which changes
 * only that bit, so it may run beside anyone holding the lock (see
 * pt_leaf_locks). A dirty eight is read again entry by entry rather than
 * kept: it is rare, and keeping it would spill it to the stack.
 */
static __always_inline unsigned long
pt_dirty_run_atomic(u64 *ptes, unsigned int k)
{
	unsigned int dbit = ilog2(IOLAB_PTE_DIRTY);
	unsigned long acc = 0;
	unsigned int j, x;
	u64 *q = ptes;

	for (j = 0; j + 8 <= k; j += 8, q += 8) {
		if (!((READ_ONCE(q[0]) | READ_ONCE(q[1]) | READ_ONCE(q[2]) |
		       READ_ONCE(q[3]) | READ_ONCE(q[4]) | READ_ONCE(q[5]) |
		       READ_ONCE(q[6]) | READ_ONCE(q[7])) & IOLAB_PTE_DIRTY))
			continue;
		for (x = 0; x < 8; x++)
			if ((READ_ONCE(q[x]) & IOLAB_PTE_DIRTY) &&
			    test_and_clear_bit(dbit, (unsigned long *)&q[x]))
				acc |= BIT(j + x);
	}
	for (; j < k; j++, q++)
		if ((READ_ONCE(*q) & IOLAB_PTE_DIRTY) &&
		    test_and_clear_bit(dbit, (unsigned long *)q))
			acc |= BIT(j);
	return acc;
}

/*
 * Level 0 entries in [@start, @last] when each is one bit of the window:
 * they are leaves or empty, never tables; the caller holds their leaf lock
 * for PT_LEAF_LOCKED. The bits go to the window a word at a time.
 */
static __always_inline void pt_dirty_leaves(struct iolab_pt *pt, u64 *table,
					    u64 start, u64 last,
					    struct pt_dirty_state *st,
					    enum pt_leaf_mode mode)
{
	unsigned int shift = pt->cfg.leaf_shift;
	unsigned int i = (start >> shift) & PT_IDX_MASK;
	unsigned int n = ((last >> shift) & PT_IDX_MASK) + 1;
	u64 bit = (start - st->d->iova) >> shift;

	while (i < n) {
		unsigned int off = bit % BITS_PER_LONG;
		unsigned int k = min(n - i, (unsigned int)BITS_PER_LONG - off);
		unsigned long acc;

		if (mode == PT_LEAF_ATOMIC)
			acc = pt_dirty_run_atomic(table + i, k);
		else
			acc = pt_dirty_run(table + i, k, mode);
		if (acc)
			pt_dirty_flush_word(st->d, bit / BITS_PER_LONG,
					    acc << off);
		i += k;
		bit += k;
	}
}

/*
 * A clearing harvest of a level 0 table with at most two groups marked
 * dirty clears its bits one atomic each, without the leaf lock: a mostly
 * clean table costs no lock.
 */
static inline bool pt_at_most_two(unsigned long set)
{
	set &= set - 1;
	return !(set & (set - 1));
}

/*
 * Harvest the runs of groups @set (bit g: group g) of the table @child at
 * @lvl - 1, which maps from @base, clipped to [@start, @last].
 */
static __always_inline void
pt_dirty_groups(struct iolab_pt *pt, u64 *child, unsigned int lvl,
		unsigned long set, u64 base, u64 start, u64 last,
		struct pt_dirty_state *st, enum pt_leaf_mode mode)
{
	unsigned int gshift = pt_shift(pt, lvl - 1) +
			      ilog2(IOLAB_PT_SUMMARY_GROUP);
	u64 gstart, glast;
	unsigned int g, h;

	while (set) {
		g = __ffs(set);
		/* h: the run's last group, below the first clear bit above g */
		h = __ffs(~(set | (BIT(g) - 1))) - 1;
		set &= ~GENMASK(h, g);
		gstart = max(start, base + ((u64)g << gshift));
		glast = min(last, base + ((u64)(h + 1) << gshift) - 1);
		if (lvl == 1 && st->one_bit_per_leaf)
			pt_dirty_leaves(pt, child, gstart, glast, st, mode);
		else
			pt_dirty_level(pt, child, lvl - 1, gstart, glast, st,
				       mode);
	}
}

/* Every group of a table marked, as bits 0-15 */
#define PT_ALL_GROUPS	GENMASK(IOLAB_PT_ENTRIES / IOLAB_PT_SUMMARY_GROUP - 1, 0)

/*
 * A clearing harvest of the level 0 table @child, which maps from @base,
 * with one or two groups @set marked, each entry a bit of the window,
 * clipped to [@start, @last]: a mostly clean table, the common case of a
 * sparse harvest, so its path is short. A group the range holds whole is
 * read in one step, its 32 DIRTY bits gathered without a branch, and only
 * the entries found dirty are cleared, one atomic bit operation each, as
 * pt_dirty_run_atomic() does; a group cut by the range goes that way.
 */
static __always_inline void pt_dirty_sparse(struct iolab_pt *pt, u64 *child,
					    unsigned long set, u64 base,
					    u64 start, u64 last,
					    struct pt_dirty_state *st)
{
	const unsigned int n = IOLAB_PT_SUMMARY_GROUP;
	unsigned int shift = pt->cfg.leaf_shift;
	unsigned int dbit = ilog2(IOLAB_PTE_DIRTY);
	u64 gsize = (u64)n << shift;
	unsigned long acc, m;
	unsigned int g, x, off;
	u64 gbase, bit, *q;

	while (set) {
		g = __ffs(set);
		set &= set - 1;
		gbase = base + g * gsize;
		if (gbase < start || gbase + (gsize - 1) > last) {
			pt_dirty_leaves(pt, child, max(start, gbase),
					min(last, gbase + (gsize - 1)), st,
					PT_LEAF_ATOMIC);
			continue;
		}
		q = child + g * n;
		m = 0;
#pragma GCC unroll 32
		for (x = 0; x < n; x++)
			m |= (READ_ONCE(q[x]) & IOLAB_PTE_DIRTY) << x;
		m >>= dbit;
		acc = 0;
		while (m) {
			x = __ffs(m);
			m &= m - 1;
			if (test_and_clear_bit(dbit, (unsigned long *)&q[x]))
				acc |= BIT(x);
		}
		if (!acc)
			continue;
		bit = (gbase - st->d->iova) >> shift;
		off = bit % BITS_PER_LONG;
		pt_dirty_flush_word(st->d, bit / BITS_PER_LONG, acc << off);
		if (off > BITS_PER_LONG - n)
			pt_dirty_flush_word(st->d, bit / BITS_PER_LONG + 1,
					    acc >> (BITS_PER_LONG - off));
	}
}

/*
 * The table entry *@ptep (value @pte) maps [@base, @end]; harvest its part
 * [@start, @last] group by group, skipping the groups whose summary bit is
 * clear. With clearing, the bits of the groups the range holds whole are
 * cleared first (pt_mark_dirty_path() says why that order loses nothing).
 */
static __always_inline void
pt_dirty_table(struct iolab_pt *pt, u64 *ptep, u64 pte, unsigned int lvl,
	       u64 base, u64 start, u64 last, struct pt_dirty_state *st)
{
	unsigned int gshift = pt_shift(pt, lvl - 1) +
			      ilog2(IOLAB_PT_SUMMARY_GROUP);
	unsigned int g0 = (start - base) >> gshift;
	unsigned int g1 = (last - base) >> gshift;
	u64 in = GENMASK_ULL(IOLAB_PTE_SUMMARY_SHIFT + g1,
			     IOLAB_PTE_SUMMARY_SHIFT + g0);
	u64 whole = in;
	spinlock_t *lock; /* the level 0 table's leaf lock */
	unsigned long set;
	u64 *child;

	if (!(pte & in))
		return;
	if (st->clear) {
		/* A group cut by the range keeps its bit: part is unread */
		if (start != base + ((u64)g0 << gshift))
			whole &= ~BIT_ULL(IOLAB_PTE_SUMMARY_SHIFT + g0);
		if (last != base + ((u64)g1 << gshift) +
			    (BIT_ULL(gshift) - 1))
			whole &= ~BIT_ULL(IOLAB_PTE_SUMMARY_SHIFT + g1);
		if (pte & whole) {
			pte = pt_test_and_clear_summary(ptep, pte & whole);
			if (!pte_is_table(pte))
				return;
		}
	}
	child = pt_table_of(pt, pte);
	/* The groups to read, as bits 0-15 */
	set = (pte & in) >> IOLAB_PTE_SUMMARY_SHIFT;
	if (lvl != 1 || !st->clear) {
		pt_dirty_groups(pt, child, lvl, set, base, start, last, st,
				PT_LEAF_READ);
	} else if (pt_at_most_two(set)) {
		if (st->one_bit_per_leaf)
			pt_dirty_sparse(pt, child, set, base, start, last, st);
		else
			pt_dirty_groups(pt, child, lvl, set, base, start, last,
					st, PT_LEAF_ATOMIC);
	} else {
		lock = pt_leaf_lock(child);
		spin_lock(lock);
		pt_dirty_groups(pt, child, lvl, set, base, start, last, st,
				set == PT_ALL_GROUPS ? PT_LEAF_DENSE :
				PT_LEAF_LOCKED);
		spin_unlock(lock);
	}
}

/*
 * The entry *@ptep at @lvl maps [@base, @base + its size - 1], of which
 * [@cur, @last] is harvested.
 */
static __always_inline void pt_dirty_entry(struct iolab_pt *pt, u64 *ptep,
					   unsigned int lvl, u64 base, u64 cur,
					   u64 last, struct pt_dirty_state *st)
{
	u64 end = base + (BIT_ULL(pt_shift(pt, lvl)) - 1);
	u64 pte = READ_ONCE(*ptep);

	/*
	 * Only a leaf the window holds whole is cleared: every bit it stands
	 * for is reported. One that sticks out stays dirty, so its pages
	 * outside the window are not lost.
	 */
	if (st->clear && pte_is_leaf(pte) && (pte & IOLAB_PTE_DIRTY) &&
	    base >= st->d->iova && end <= st->d->iova + (st->d->length - 1))
		pte = pt_test_and_clear_dirty(ptep);
	if (pte_is_table(pte) && (pte & IOLAB_PTE_SUMMARY))
		pt_dirty_table(pt, ptep, pte, lvl, base, cur, last, st);
	else if (pte_is_leaf(pte) && (pte & IOLAB_PTE_DIRTY))
		pt_dirty_record(st->d, base, end);
}

/*
 * A clearing harvest of the level 1 table @table, each level 0 entry a bit
 * of the window, for [@start, @last]: the level every table of leaves hangs
 * from, so its cost is paid once per level 0 table. It finds the entries
 * worth a look (a summary bit or DIRTY set) eight at a time without a
 * branch, and takes a level 0 table the range holds whole on a short path:
 * its summary bits cleared by one compare-exchange of the value just read
 * (before anything below is read, as pt_mark_dirty_path() needs), then its
 * marked groups. Any other entry, or a compare-exchange that loses a race,
 * goes the general way, pt_dirty_entry().
 */
static IOLAB_HOT(dirty1) void
pt_dirty_level1(struct iolab_pt *pt, u64 *table, u64 start, u64 last,
		struct pt_dirty_state *st)
{
	const u64 look = IOLAB_PTE_SUMMARY | IOLAB_PTE_DIRTY;
	unsigned int shift = pt_shift(pt, 1);
	u64 size = BIT_ULL(shift);
	u64 tbase = start & ~(BIT_ULL(shift + PT_LEVEL_BITS) - 1);
	unsigned int i = (start >> shift) & PT_IDX_MASK;
	unsigned int e = (last >> shift) & PT_IDX_MASK;
	unsigned int i0, x, lo, hi;
	spinlock_t *lock; /* the level 0 table's leaf lock */
	u64 base, end, pte, *q, *child;
	unsigned long m, set;

	for (i0 = i & ~7U; i0 <= e; i0 += 8) {
		q = table + i0;
		m = (unsigned long)!!(READ_ONCE(q[0]) & look) |
		    (unsigned long)!!(READ_ONCE(q[1]) & look) << 1 |
		    (unsigned long)!!(READ_ONCE(q[2]) & look) << 2 |
		    (unsigned long)!!(READ_ONCE(q[3]) & look) << 3 |
		    (unsigned long)!!(READ_ONCE(q[4]) & look) << 4 |
		    (unsigned long)!!(READ_ONCE(q[5]) & look) << 5 |
		    (unsigned long)!!(READ_ONCE(q[6]) & look) << 6 |
		    (unsigned long)!!(READ_ONCE(q[7]) & look) << 7;
		/* Only the entries from i to e */
		lo = i > i0 ? i - i0 : 0;
		hi = e - i0 < 7 ? e - i0 : 7;
		m &= GENMASK(hi, lo);
		while (m) {
			x = __ffs(m);
			m &= m - 1;
			base = tbase + ((u64)(i0 + x) << shift);
			end = base + (size - 1);
			pte = READ_ONCE(q[x]);
			if (pte_is_table(pte) && (pte & IOLAB_PTE_SUMMARY) &&
			    base >= start && end <= last &&
			    cmpxchg64(&q[x], pte, pte & ~IOLAB_PTE_SUMMARY) ==
			    pte) {
				child = pt_table_of(pt, pte);
				set = (pte & IOLAB_PTE_SUMMARY) >>
				      IOLAB_PTE_SUMMARY_SHIFT;
				if (pt_at_most_two(set)) {
					pt_dirty_sparse(pt, child, set, base,
							base, end, st);
					continue;
				}
				lock = pt_leaf_lock(child);
				spin_lock(lock);
				if (set == PT_ALL_GROUPS)
					pt_dirty_leaves(pt, child, base, end,
							st, PT_LEAF_DENSE);
				else
					pt_dirty_groups(pt, child, 1, set,
							base, base, end, st,
							PT_LEAF_LOCKED);
				spin_unlock(lock);
				continue;
			}
			pt_dirty_entry(pt, &q[x], 1, base, max(start, base),
				       min(last, end), st);
		}
	}
}

/*
 * At level 0, @mode says whether the caller holds @table's leaf lock; the
 * DIRTY bits are cleared with compare-exchanges in either case.
 */
static IOLAB_HOT(dirty) void
pt_dirty_level(struct iolab_pt *pt, u64 *table, unsigned int lvl, u64 start,
	       u64 last, struct pt_dirty_state *st, enum pt_leaf_mode mode)
{
	u64 size = BIT_ULL(pt_shift(pt, lvl));
	u64 cur = start;

	if (!lvl && st->one_bit_per_leaf) {
		pt_dirty_leaves(pt, table, start, last, st, mode);
		return;
	}
	if (lvl == 1 && st->clear && st->one_bit_per_leaf) {
		pt_dirty_level1(pt, table, start, last, st);
		return;
	}
	for (;;) {
		u64 base = cur & ~(size - 1);
		u64 end = base + (size - 1);

		pt_dirty_entry(pt, pt_entry(pt, table, lvl, cur), lvl, base, cur,
			       min(last, end), st);
		if (end >= last)
			return;
		cur = end + 1;
	}
}

int iolab_pt_read_dirty(struct iolab_pt *pt, u64 iova, u64 len, bool clear,
			struct iolab_pt_dirty *d)
{
	struct pt_dirty_state st = { .d = d, .clear = clear };
	u64 last;
	int ret;

	ret = pt_check_range(pt, iova, len, &last);
	if (ret)
		return ret;
	ret = pt_dirty_check(d);
	if (ret)
		return ret;
	if (iova < d->iova || last > d->iova + (d->length - 1))
		return -EINVAL;
	st.one_bit_per_leaf = d->page_size == BIT_ULL(pt->cfg.leaf_shift);
	if (pt->top_level || !clear) {
		pt_dirty_level(pt, pt->top, pt->top_level, iova, last, &st,
			       PT_LEAF_READ);
		return 0;
	}
	spin_lock(pt_leaf_lock(pt->top));
	pt_dirty_level(pt, pt->top, 0, iova, last, &st, PT_LEAF_LOCKED);
	spin_unlock(pt_leaf_lock(pt->top));
	return 0;
}

/* The plain read: iolab_pt_read_leaves() */

static IOLAB_HOT(read) u64
pt_read_level(struct iolab_pt *pt, u64 *table, unsigned int lvl, u64 start,
	      u64 last)
{
	u64 size = BIT_ULL(pt_shift(pt, lvl));
	u64 cur = start, n = 0;

	if (!lvl) {
		unsigned int i = (start >> pt->cfg.leaf_shift) & PT_IDX_MASK;
		unsigned int e = (last >> pt->cfg.leaf_shift) & PT_IDX_MASK;
		unsigned int x;

		/* Unrolled as the harvest's pt_dirty_run(): a fair baseline */
		for (; i + 8 <= e + 1; i += 8) {
#pragma GCC unroll 8
			for (x = 0; x < 8; x++)
				n += pte_is_leaf(READ_ONCE(table[i + x]));
		}
		for (; i <= e; i++)
			n += pte_is_leaf(READ_ONCE(table[i]));
		return n;
	}
	for (;;) {
		u64 pte = READ_ONCE(*pt_entry(pt, table, lvl, cur));
		u64 end = (cur & ~(size - 1)) + (size - 1);

		if (pte_is_table(pte))
			n += pt_read_level(pt, pt_table_of(pt, pte), lvl - 1,
					   cur, min(last, end));
		else
			n += pte_is_leaf(pte);
		if (end >= last)
			return n;
		cur = end + 1;
	}
}

int iolab_pt_read_leaves(struct iolab_pt *pt, u64 iova, u64 len,
			 u64 *nr_leaves)
{
	u64 last;
	int ret;

	ret = pt_check_range(pt, iova, len, &last);
	if (ret)
		return ret;
	*nr_leaves = pt_read_level(pt, pt->top, pt->top_level, iova, last);
	return 0;
}

/* Split */

/*
 * A split runs twice over the range: first to count the table pages it
 * needs, then, once they are all allocated, to build and install. The free
 * pages are chained through their first word, which is zeroed again when a
 * page is taken.
 */
struct pt_pool {
	void *head;
	u64 need;
	bool counting;
};

struct pt_split_state {
	u64 start;
	u64 last;
	unsigned int target;	/* level of the new leaf size */
	struct pt_pool pool;
};

static u64 *pt_pool_take(struct pt_pool *pool)
{
	void **page = pool->head;

	if (pool->counting) {
		pool->need++;
		return NULL;
	}
	pool->head = *page;
	*page = NULL;
	return (u64 *)page;
}

static void pt_pool_drain(struct iolab_pt *pt, struct pt_pool *pool)
{
	while (pool->head) {
		void **page = pool->head;

		pool->head = *page;
		*page = NULL;
		pt_free_table(pt, (u64 *)page);
	}
}

static int pt_pool_fill(struct iolab_pt *pt, struct pt_pool *pool)
{
	u64 n;

	for (n = 0; n < pool->need; n++) {
		void **page = pt->ops->alloc_table(pt->cookie);

		if (!page) {
			pt_pool_drain(pt, pool);
			return -ENOMEM;
		}
		*page = pool->head;
		pool->head = page;
	}
	pool->counting = false;
	return 0;
}

/* The summary of a new table entry above leaves that copy the leaf @pte */
static inline u64 pt_split_summary(u64 pte)
{
	return pte & IOLAB_PTE_DIRTY ? IOLAB_PTE_SUMMARY : 0;
}

/*
 * Build the table, with entries at level @lvl, that stands for the leaf @pte
 * mapping @base one level up. Entries inside the range get the target size
 * (or a table down to it); the others get the largest size that fits. When
 * counting, only count the pages and return NULL.
 */
static u64 *pt_split_build(struct iolab_pt *pt, unsigned int lvl, u64 base,
			   u64 pte, struct pt_split_state *st)
{
	u64 size = BIT_ULL(pt_shift(pt, lvl));
	u64 *table = pt_pool_take(&st->pool);
	unsigned int i;

	for (i = 0; i < IOLAB_PT_ENTRIES; i++) {
		u64 cbase = base + i * size;
		u64 cend = cbase + (size - 1);
		/* Same bits, the address moved on: it cannot carry out */
		u64 child = pte + i * size;
		bool inside = cend >= st->start && cbase <= st->last;
		u64 *sub;

		if (pt_leaf_ok(pt, lvl) && (lvl <= st->target || !inside)) {
			if (table)
				table[i] = child;
			continue;
		}
		sub = pt_split_build(pt, lvl - 1, cbase, child, st);
		if (table)
			table[i] = pt_mk_table(pt, sub) | pt_split_summary(pte);
	}
	return table;
}

/*
 * Give every leaf below the unpublished @table the ACCESSED/DIRTY @ad, and
 * every table entry below it the summary that goes with it.
 */
static void pt_split_set_ad(struct iolab_pt *pt, u64 *table, unsigned int lvl,
			    u64 ad)
{
	unsigned int i;

	for (i = 0; i < IOLAB_PT_ENTRIES; i++) {
		if (pte_is_leaf(table[i])) {
			table[i] = (table[i] & ~PTE_AD) | ad;
			continue;
		}
		table[i] = (table[i] & ~IOLAB_PTE_SUMMARY) |
			   pt_split_summary(ad);
		pt_split_set_ad(pt, pt_table_of(pt, table[i]), lvl - 1, ad);
	}
}

static void pt_split_leaf(struct iolab_pt *pt, u64 *ptep, unsigned int lvl,
			  u64 base, u64 pte, struct pt_split_state *st)
{
	u64 *table = pt_split_build(pt, lvl - 1, base, pte, st);
	u64 prev;

	if (!table)
		return;
	/*
	 * A walker may set ACCESSED or DIRTY, and a harvest clear DIRTY, until
	 * the subtree is in: copy the leaf's bits again and retry.
	 */
	for (;;) {
		prev = cmpxchg64(ptep, pte,
				 pt_mk_table(pt, table) | pt_split_summary(pte));
		if (prev == pte)
			break;
		pt_split_set_ad(pt, table, lvl - 1, prev & PTE_AD);
		pte = prev;
	}
}

static void pt_split_level(struct iolab_pt *pt, u64 *table, unsigned int lvl,
			   u64 start, u64 last, struct pt_split_state *st)
{
	u64 size = BIT_ULL(pt_shift(pt, lvl));
	u64 cur = start;

	for (;;) {
		u64 *ptep = pt_entry(pt, table, lvl, cur);
		u64 base = cur & ~(size - 1);
		u64 end = base + (size - 1);
		u64 pte = READ_ONCE(*ptep);

		if (pte_is_table(pte))
			pt_split_level(pt, pt_table_of(pt, pte), lvl - 1, cur,
				       min(last, end), st);
		else if (pte_is_leaf(pte) && lvl > st->target)
			pt_split_leaf(pt, ptep, lvl, base, pte, st);
		if (end >= last)
			return;
		cur = end + 1;
	}
}

int iolab_pt_split(struct iolab_pt *pt, u64 iova, u64 len, u64 new_leaf_size)
{
	struct pt_split_state st = { .start = iova };
	int ret;

	ret = pt_check_range(pt, iova, len, &st.last);
	if (ret)
		return ret;
	if (!is_power_of_2(new_leaf_size) ||
	    !(pt->cfg.leaf_sizes & new_leaf_size))
		return -EINVAL;
	while (iolab_pt_level_size(pt, st.target) != new_leaf_size)
		st.target++;

	st.pool.counting = true;
	pt_split_level(pt, pt->top, pt->top_level, iova, st.last, &st);
	if (!st.pool.need)
		return 0;
	ret = pt_pool_fill(pt, &st.pool);
	if (ret)
		return ret;
	pt_split_level(pt, pt->top, pt->top_level, iova, st.last, &st);
	/* The count is exact; drain in case it ever is not */
	pt_pool_drain(pt, &st.pool);
	return 0;
}

/* Merge */

/* What a table maps, when it maps one contiguous run with one protection */
struct pt_run {
	u64 oa;
	u64 bits;	/* PRESENT, LEAF and protection */
	u64 ad;		/* OR of the ACCESSED and DIRTY bits */
};

/*
 * Merge what can be merged below @table (entries at level @lvl, mapping from
 * @base) in [@start, @last]. If @whole (the table's span is in the range),
 * return true and fill @run when the table maps its span as one run, from an
 * output address aligned to the span, that a leaf one level up can take.
 */
static bool pt_merge_level(struct iolab_pt *pt, u64 *table, unsigned int lvl,
			   u64 base, u64 start, u64 last, bool whole,
			   struct pt_run *run)
{
	u64 size = BIT_ULL(pt_shift(pt, lvl));
	bool uniform = whole;
	u64 cur = start;

	for (;;) {
		u64 *ptep = pt_entry(pt, table, lvl, cur);
		u64 ebase = cur & ~(size - 1);
		u64 end = ebase + (size - 1);
		u64 pte = READ_ONCE(*ptep);
		struct pt_run sub = {};

		if (pte_is_table(pte)) {
			u64 *child = pt_table_of(pt, pte);
			bool inside = ebase >= start && end <= last;

			if (!pt_merge_level(pt, child, lvl - 1, ebase, cur,
					    min(last, end), inside, &sub)) {
				uniform = false;
			} else if (pt_leaf_ok(pt, lvl)) {
				WRITE_ONCE(*ptep, sub.oa | sub.bits | sub.ad);
				pt_free_subtree(pt, child, lvl - 1);
			}
		} else if (pte_is_leaf(pte)) {
			sub.oa = pte_addr(pte);
			sub.bits = pte & (PTE_TYPE | PTE_PROT);
			sub.ad = pte & PTE_AD;
		} else {
			uniform = false;
		}

		if (uniform && ebase == base) {
			*run = sub;
			/* whole: not the top table, so the span fits in u64 */
			if (sub.oa & (size * IOLAB_PT_ENTRIES - 1))
				uniform = false;
		} else if (uniform) {
			if (sub.oa != run->oa + (ebase - base) ||
			    sub.bits != run->bits)
				uniform = false;
			run->ad |= sub.ad;
		}
		if (end >= last)
			return uniform;
		cur = end + 1;
	}
}

int iolab_pt_merge(struct iolab_pt *pt, u64 iova, u64 len)
{
	struct pt_run run;
	u64 last;
	int ret;

	ret = pt_check_range(pt, iova, len, &last);
	if (ret)
		return ret;
	pt_merge_level(pt, pt->top, pt->top_level, 0, iova, last, false, &run);
	return 0;
}

/* Inspection */

struct pt_each_state {
	int (*fn)(void *arg, const struct iolab_pt_leaf *leaf);
	void *arg;
};

static int pt_each_level(struct iolab_pt *pt, u64 *table, unsigned int lvl,
			 u64 start, u64 last, struct pt_each_state *st)
{
	u64 size = BIT_ULL(pt_shift(pt, lvl));
	u64 cur = start;
	int ret = 0;

	for (;;) {
		u64 *ptep = pt_entry(pt, table, lvl, cur);
		u64 base = cur & ~(size - 1);
		u64 end = base + (size - 1);
		u64 pte = READ_ONCE(*ptep);

		if (pte_is_table(pte)) {
			ret = pt_each_level(pt, pt_table_of(pt, pte), lvl - 1,
					    cur, min(last, end), st);
		} else if (pte_is_leaf(pte)) {
			struct iolab_pt_leaf leaf = {
				.iova = base,
				.oa = pte_addr(pte),
				.size = size,
				.flags = pt_leaf_flags(pte),
				.level = lvl,
			};

			ret = st->fn(st->arg, &leaf);
		}
		if (ret || end >= last)
			return ret;
		cur = end + 1;
	}
}

int iolab_pt_walk_leaves(struct iolab_pt *pt, u64 iova, u64 len,
			 int (*fn)(void *arg, const struct iolab_pt_leaf *leaf),
			 void *arg)
{
	struct pt_each_state st = { .fn = fn, .arg = arg };
	u64 last;
	int ret;

	ret = pt_check_range(pt, iova, len, &last);
	if (ret)
		return ret;
	return pt_each_level(pt, pt->top, pt->top_level, iova, last, &st);
}

static void pt_stats_level(struct iolab_pt *pt, u64 *table, unsigned int lvl,
			   struct iolab_pt_stats *stats)
{
	unsigned int i;

	stats->nr_tables++;
	for (i = 0; i < IOLAB_PT_ENTRIES; i++) {
		u64 pte = READ_ONCE(table[i]);

		if (pte_is_leaf(pte))
			stats->nr_leaves[lvl]++;
		else if (pte_is_table(pte))
			pt_stats_level(pt, pt_table_of(pt, pte), lvl - 1,
				       stats);
	}
}

void iolab_pt_stats(struct iolab_pt *pt, struct iolab_pt_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	pt_stats_level(pt, pt->top, pt->top_level, stats);
}
