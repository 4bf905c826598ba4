// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: the IOVA space of an IOAS. Areas (mappings of pinned pages),
 * reserved ranges and allowed ranges are three interval trees under one
 * rw_semaphore; see struct iolab_iopt for the locking rules.
 *
 * Every loop whose length the user decides (areas, pages, ranges) calls
 * cond_resched() once per step: only sleeping locks (the rwsem, a domain's
 * rwsem) are held there, and a non-preemptible kernel must not sit for
 * seconds in one ioctl.
 */
#include <linux/bitmap.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "iommu_driver.h"
#include "iommulab_private.h"

#define area_of(n) container_of(n, struct iolab_area, node)

/* A reserved or allowed range; @owner is the domain that reserved it. */
struct iolab_range_node {
	struct interval_tree_node node;
	void *owner;
};

void iolab_iopt_init(struct iolab_iopt *iopt)
{
	init_rwsem(&iopt->rwsem);
	iopt->area_itree = RB_ROOT_CACHED;
	iopt->reserved_itree = RB_ROOT_CACHED;
	iopt->allowed_itree = RB_ROOT_CACHED;
	xa_init_flags(&iopt->domains, XA_FLAGS_ALLOC | XA_FLAGS_ACCOUNT);
	iopt->iova_alignment = 1;
}

static int iolab_iopt_prot(struct iolab_area *area)
{
	return (area->prot & IOLAB_PROT_READ ? IOLAB_IOMMU_READ : 0) |
	       (area->prot & IOLAB_PROT_WRITE ? IOLAB_IOMMU_WRITE : 0);
}

/* Remove @area's IOVA range from @domain and flush its IOTLB. */
static void iolab_area_unfill(struct iolab_area *area,
			      struct iolab_domain *domain, u64 len)
{
	if (!len)
		return;
	domain->ops->unmap_pages(domain, area->node.start, len, NULL);
	domain->ops->iotlb_sync(domain, area->node.start, len);
}

/*
 * Map @area into @domain, as physically contiguous runs of its pinned
 * pages (one page at a time when large pages are disabled, which forces
 * the smallest IOPTEs). The area's pages are pinned: the IOAS has a domain
 * (see iolab_area_pin()). On failure nothing of the area stays mapped.
 */
static int iolab_area_fill(struct iolab_iopt *iopt, struct iolab_area *area,
			   struct iolab_domain *domain)
{
	u64 len = area->node.last - area->node.start + 1;
	u64 byte = area->start_byte, iova = area->node.start, done = 0;
	int rc;

	while (done < len) {
		unsigned long index = byte / PAGE_SIZE;
		unsigned long off = byte % PAGE_SIZE;
		unsigned long run = 1;
		u64 n;

		/* Look no further than the area's own pages. */
		if (!iopt->disable_large_pages)
			run = iolab_pages_contig(area->pages, index,
						 DIV_ROUND_UP(off + len - done,
							      PAGE_SIZE));
		n = min_t(u64, run * PAGE_SIZE - off, len - done);
		rc = domain->ops->map_pages(domain, iova,
					    page_to_phys(iolab_pages_page(area->pages,
									  index)) +
						    off,
					    n, iolab_iopt_prot(area));
		if (rc) {
			iolab_area_unfill(area, domain, done);
			return rc;
		}
		done += n;
		iova += n;
		byte += n;
		cond_resched();
	}
	return 0;
}

/*
 * Lazy pinning: an area is a pin user of its pages exactly while the IOAS
 * has at least one domain (accesses pin on their own, per piece). The
 * first domain pins every area, the last one to go unpins them, and MAP
 * and UNMAP of an IOAS with domains pin and unpin their area.
 */
static bool iolab_iopt_has_domains(struct iolab_iopt *iopt)
{
	return !xa_empty(&iopt->domains);
}

static struct interval_tree_node *iolab_area_first(struct iolab_iopt *iopt)
{
	return interval_tree_iter_first(&iopt->area_itree, 0, ULONG_MAX);
}

static struct interval_tree_node *
iolab_area_next(struct interval_tree_node *node)
{
	return interval_tree_iter_next(node, 0, ULONG_MAX);
}

/* The first domain comes: pin every area's pages; on failure none. */
static int iolab_iopt_pin_areas(struct iolab_iopt *iopt)
{
	struct interval_tree_node *node, *undo;
	int rc;

	for (node = iolab_area_first(iopt); node;
	     node = iolab_area_next(node)) {
		rc = iolab_pages_pin_get(area_of(node)->pages);
		if (rc)
			goto err_undo;
		cond_resched();
	}
	return 0;

err_undo:
	for (undo = iolab_area_first(iopt); undo;
	     undo = iolab_area_next(undo)) {
		if (undo == node)
			break;
		iolab_pages_pin_put(area_of(undo)->pages);
		cond_resched();
	}
	return rc;
}

/* The last domain went: drop every area's pin. */
static void iolab_iopt_unpin_areas(struct iolab_iopt *iopt)
{
	struct interval_tree_node *node;

	for (node = iolab_area_first(iopt); node;
	     node = iolab_area_next(node)) {
		iolab_pages_pin_put(area_of(node)->pages);
		cond_resched();
	}
}

/* Map @area into every domain; on failure into none. */
static int iolab_area_fill_domains(struct iolab_iopt *iopt,
				   struct iolab_area *area)
{
	u64 len = area->node.last - area->node.start + 1;
	struct iolab_domain *domain, *undo;
	unsigned long index, uindex;
	int rc;

	xa_for_each(&iopt->domains, index, domain) {
		rc = iolab_area_fill(iopt, area, domain);
		if (rc)
			goto err_undo;
	}
	return 0;

err_undo:
	xa_for_each(&iopt->domains, uindex, undo) {
		if (uindex == index)
			break;
		iolab_area_unfill(area, undo, len);
	}
	return rc;
}

static void iolab_free_range_tree(struct rb_root_cached *root)
{
	struct interval_tree_node *node;

	while ((node = interval_tree_iter_first(root, 0, ULONG_MAX))) {
		interval_tree_remove(node, root);
		kfree(container_of(node, struct iolab_range_node, node));
		cond_resched();
	}
}

/*
 * The IOAS is gone: nothing uses it (every HWPT and access held a
 * reference), so no domain mirrors it and no access pins an area. Free
 * every area that is left and its pins; this cannot fail.
 */
void iolab_iopt_destroy(struct iolab_iopt *iopt)
{
	struct interval_tree_node *node;

	while ((node = interval_tree_iter_first(&iopt->area_itree, 0,
						ULONG_MAX))) {
		struct iolab_area *area = area_of(node);

		if (atomic_read(&area->num_pins))
			pr_err("iommulab: IOAS destroyed with a pinned area\n");
		interval_tree_remove(node, &iopt->area_itree);
		iolab_pages_put(area->pages);
		kfree(area);
		cond_resched();
	}
	iolab_free_range_tree(&iopt->reserved_itree);
	iolab_free_range_tree(&iopt->allowed_itree);
	xa_destroy(&iopt->domains);
}

static struct interval_tree_node *iolab_used_first(struct iolab_iopt *iopt,
						   u64 start, u64 last)
{
	struct interval_tree_node *a, *r;

	a = interval_tree_iter_first(&iopt->area_itree, start, last);
	r = interval_tree_iter_first(&iopt->reserved_itree, start, last);
	if (!a)
		return r;
	if (!r)
		return a;
	return a->start <= r->start ? a : r;
}

/*
 * Choose an IOVA for @length bytes: inside an allowed range (or anywhere
 * from PAGE_SIZE up when none is set), clear of areas and reserved ranges,
 * aligned like the user pointer to keep huge pages mappable, and with the
 * same offset inside a page as the user pointer.
 */
static int iolab_iopt_alloc_iova(struct iolab_iopt *iopt, u64 uptr,
				 u64 length, u64 *iova)
{
	u64 page_offset = uptr % PAGE_SIZE;
	struct interval_tree_node *allowed = NULL;
	u64 align, win_start, win_last;

	lockdep_assert_held(&iopt->rwsem);
	if (!length || length >= U64_MAX / 2)
		return -EOVERFLOW;
	align = roundup_pow_of_two(length);
	if (uptr)
		align = min_t(u64, align, 1ULL << __ffs64(uptr));
	if (align < iopt->iova_alignment)
		return -EINVAL;

	if (!RB_EMPTY_ROOT(&iopt->allowed_itree.rb_root))
		allowed = interval_tree_iter_first(&iopt->allowed_itree, 0,
						   ULONG_MAX);
	do {
		struct interval_tree_node *used;
		u64 cand, cand_last;

		win_start = allowed ? max_t(u64, allowed->start, PAGE_SIZE) :
				      PAGE_SIZE;
		win_last = allowed ? min_t(u64, allowed->last,
					   ULONG_MAX - PAGE_SIZE) :
				     ULONG_MAX - PAGE_SIZE;
		cand = ALIGN(win_start, align) | page_offset;
		while (cand >= win_start &&
		       !check_add_overflow(cand, length - 1, &cand_last) &&
		       cand_last <= win_last) {
			used = iolab_used_first(iopt, cand, cand_last);
			if (!used) {
				*iova = cand;
				return 0;
			}
			if (used->last >= win_last)
				break;
			cand = ALIGN(used->last + 1, align) | page_offset;
		}
		if (allowed)
			allowed = interval_tree_iter_next(allowed, 0, ULONG_MAX);
	} while (allowed);
	return -ENOSPC;
}

static int iolab_iopt_check_iova(struct iolab_iopt *iopt, u64 iova,
				 u64 length)
{
	u64 last;

	lockdep_assert_held(&iopt->rwsem);
	if (iova & (iopt->iova_alignment - 1))
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	if (interval_tree_iter_first(&iopt->reserved_itree, iova, last))
		return -EINVAL;
	if (interval_tree_iter_first(&iopt->area_itree, iova, last))
		return -EEXIST;
	return 0;
}

/**
 * iolab_iopt_map_pages() - map part of a pinned range into the IOVA space
 * @iopt: the IOVA space
 * @pages: the pinned memory; on success the new area holds a reference
 * @start_byte: offset into @pages of the first mapped byte
 * @length: bytes to map
 * @iova: in: the IOVA when @fixed; out: the IOVA used
 * @prot: IOLAB_PROT_*
 * @fixed: use *@iova instead of choosing one
 *
 * Return: 0, or EINVAL (length or alignment), EPERM (write to memory pinned
 * read-only), EOVERFLOW, EEXIST (already mapped), ENOSPC, ENOMEM.
 */
int iolab_iopt_map_pages(struct iolab_iopt *iopt, struct iolab_pages *pages,
			 u64 start_byte, u64 length, u64 *iova, int prot,
			 bool fixed)
{
	struct iolab_area *area;
	int rc;

	if ((prot & IOLAB_PROT_WRITE) && !pages->writable)
		return -EPERM;
	area = kzalloc(sizeof(*area), GFP_KERNEL_ACCOUNT);
	if (!area)
		return -ENOMEM;

	down_write(&iopt->rwsem);
	if (!length || (length & (iopt->iova_alignment - 1)) ||
	    ((start_byte % PAGE_SIZE) & (iopt->iova_alignment - 1))) {
		rc = -EINVAL;
		goto err_unlock;
	}
	if (fixed)
		rc = iolab_iopt_check_iova(iopt, *iova, length);
	else
		rc = iolab_iopt_alloc_iova(iopt, pages->uptr + start_byte,
					   length, iova);
	if (rc)
		goto err_unlock;

	area->node.start = *iova;
	area->node.last = *iova + length - 1;
	area->start_byte = start_byte;
	area->prot = prot;
	area->pages = pages;
	atomic_set(&area->num_pins, 0);
	if (iolab_iopt_has_domains(iopt)) {
		rc = iolab_pages_pin_get(pages);
		if (rc)
			goto err_unlock;
		rc = iolab_area_fill_domains(iopt, area);
		if (rc) {
			iolab_pages_pin_put(pages);
			goto err_unlock;
		}
	}
	iolab_pages_get(pages);
	interval_tree_insert(&area->node, &iopt->area_itree);
	up_write(&iopt->rwsem);
	return 0;

err_unlock:
	up_write(&iopt->rwsem);
	kfree(area);
	return rc;
}

/*
 * The area that contains all of [iova, iova + length - 1], with a reference
 * on its pages and the offset of @iova in them; ENOENT if no one area does.
 */
int iolab_iopt_get_pages(struct iolab_iopt *iopt, u64 iova, u64 length,
			 struct iolab_pages **pages, u64 *start_byte)
{
	struct interval_tree_node *node;
	u64 last;
	int rc = -ENOENT;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;

	down_read(&iopt->rwsem);
	node = interval_tree_iter_first(&iopt->area_itree, iova, iova);
	if (node && node->last >= last) {
		struct iolab_area *area = area_of(node);

		*pages = area->pages;
		*start_byte = area->start_byte + (iova - node->start);
		iolab_pages_get(area->pages);
		rc = 0;
	}
	up_read(&iopt->rwsem);
	return rc;
}

/**
 * iolab_iopt_unmap() - remove every area inside [start, last]
 * @iopt: the IOVA space
 * @start: first IOVA
 * @last: last IOVA (inclusive)
 * @unmapped: bytes removed
 * @notify: asked once to make in-kernel users drop their pins in
 *	    [start, last] (inclusive: the whole space has no length)
 * @arg: for @notify
 *
 * Nothing is removed unless everything can be: an area only partly inside
 * the range is ENOENT, an empty range is ENOENT, and an area still pinned
 * by an access after @notify is EBUSY.
 */
int iolab_iopt_unmap(struct iolab_iopt *iopt, u64 start, u64 last,
		     u64 *unmapped,
		     void (*notify)(void *arg, u64 iova, u64 last),
		     void *arg)
{
	return iolab_iopt_unmap_dirty(iopt, start, last, unmapped, notify, arg,
				      NULL);
}

/* Mark every page of [@iova, @last] dirty in @win, which contains it. */
static void iolab_dirty_win_fill(struct iolab_dirty_bitmap *win, u64 iova,
				 u64 last)
{
	unsigned int shift = __ffs64(win->page_size);
	u64 first = (iova - win->iova) >> shift;
	u64 end = ((last - win->iova) >> shift) + 1;

	bitmap_set(win->bitmap, first, end - first);
	bitmap_set(win->touched, first / BITS_PER_LONG,
		   DIV_ROUND_UP(end, BITS_PER_LONG) - first / BITS_PER_LONG);
}

/*
 * Whether @domain's dirty bits tell all of what DMA wrote to @ub's range:
 * it can track, and (under VFIO type1's rule, where a domain that does not
 * track now reports every page) it does now.
 */
static bool iolab_dirty_trusted(struct iolab_domain *domain,
				struct iolab_ubitmap *ub)
{
	if (ub->all_dirty || !domain->dirty_capable)
		return false;
	return !ub->untracked_dirty || domain->ops->dirty_tracking(domain);
}

struct iolab_unmap_fill {
	struct iolab_iopt *iopt;
	struct iolab_ubitmap *ub;
};

/*
 * Read & unmap: every domain unmaps a piece; the dirty-capable report it,
 * and under VFIO's rule a domain whose bits are not trusted marks it all.
 */
static int iolab_unmap_dirty_fill(void *arg, u64 iova, u64 last,
				  struct iolab_dirty_bitmap *win)
{
	struct iolab_unmap_fill *uf = arg;
	struct iolab_domain *domain;
	unsigned long index;

	xa_for_each(&uf->iopt->domains, index, domain) {
		bool trusted = iolab_dirty_trusted(domain, uf->ub);

		domain->ops->unmap_pages(domain, iova, last - iova + 1,
					 domain->dirty_capable ? win : NULL);
		if (!trusted && uf->ub->untracked_dirty)
			iolab_dirty_win_fill(win, iova, last);
	}
	if (uf->ub->all_dirty)
		iolab_dirty_win_fill(win, iova, last);
	return 0;
}

/*
 * Whether every domain of @iopt fits @ub, and one can track dirty pages
 * (not asked under VFIO's rule, where any domain can answer).
 */
static int iolab_iopt_check_dirty(struct iolab_iopt *iopt,
				  struct iolab_ubitmap *ub)
{
	struct iolab_domain *domain;
	unsigned long index;
	bool any = ub->untracked_dirty;

	xa_for_each(&iopt->domains, index, domain) {
		if (!iolab_ubitmap_fits(ub, domain))
			return -EINVAL;
		any |= domain->dirty_capable;
	}
	return any ? 0 : -EINVAL;
}

/**
 * iolab_iopt_unmap_dirty() - iolab_iopt_unmap(), and read & unmap
 * @iopt: the IOVA space
 * @start: first IOVA
 * @last: last IOVA (inclusive)
 * @unmapped: bytes removed
 * @notify: as for iolab_iopt_unmap()
 * @arg: for @notify
 * @ub: NULL, or a pinned bitmap covering [start, last] that receives the
 *	dirty bits of the IOPTEs removed from the dirty-capable domains
 *	(EINVAL, before anything changes, if the IOAS has none)
 *
 * Each domain's IOPTEs are read and cleared in one step by the driver, a
 * chunk of the bitmap at a time, before the IOTLB of the area is synced.
 */
int iolab_iopt_unmap_dirty(struct iolab_iopt *iopt, u64 start, u64 last,
			   u64 *unmapped,
			   void (*notify)(void *arg, u64 iova, u64 last),
			   void *arg, struct iolab_ubitmap *ub)
{
	struct interval_tree_node *node;
	bool notified = false;
	bool pinned;
	u64 total;
	int rc;

again:
	down_write(&iopt->rwsem);
	if (ub) {
		rc = iolab_iopt_check_dirty(iopt, ub);
		if (rc) {
			up_write(&iopt->rwsem);
			return rc;
		}
	}
	total = 0;
	pinned = false;
	for (node = interval_tree_iter_first(&iopt->area_itree, start, last);
	     node; node = interval_tree_iter_next(node, start, last)) {
		if (node->start < start || node->last > last) {
			up_write(&iopt->rwsem);
			return -ENOENT;
		}
		if (atomic_read(&area_of(node)->num_pins))
			pinned = true;
		total += node->last - node->start + 1;
		cond_resched();
	}
	if (!total) {
		up_write(&iopt->rwsem);
		return -ENOENT;
	}
	if (pinned) {
		up_write(&iopt->rwsem);
		if (notified || !notify)
			return -EBUSY;
		notify(arg, start, last);
		notified = true;
		goto again;
	}

	while ((node = interval_tree_iter_first(&iopt->area_itree, start,
						last))) {
		struct iolab_area *area = area_of(node);
		struct iolab_domain *domain;
		unsigned long index;

		if (ub) {
			struct iolab_unmap_fill uf = { .iopt = iopt, .ub = ub };

			iolab_ubitmap_harvest(ub, node->start, node->last,
					      iolab_unmap_dirty_fill, &uf);
			xa_for_each(&iopt->domains, index, domain)
				domain->ops->iotlb_sync(domain, node->start,
							node->last -
							node->start + 1);
		} else {
			xa_for_each(&iopt->domains, index, domain)
				iolab_area_unfill(area, domain,
						  node->last - node->start + 1);
		}
		if (iolab_iopt_has_domains(iopt))
			iolab_pages_pin_put(area->pages);
		interval_tree_remove(node, &iopt->area_itree);
		iolab_pages_put(area->pages);
		kfree(area);
		cond_resched();
	}
	up_write(&iopt->rwsem);
	*unmapped = total;
	return 0;
}

/* Whether any area lies in [start, last] at the time of the call. */
bool iolab_iopt_any_area(struct iolab_iopt *iopt, u64 start, u64 last)
{
	bool found;

	down_read(&iopt->rwsem);
	found = interval_tree_iter_first(&iopt->area_itree, start, last);
	up_read(&iopt->rwsem);
	return found;
}

/**
 * iolab_iopt_cut() - split the area holding @iova so that one ends there
 * @iopt: the IOVA space
 * @iova: the last IOVA of the left part
 *
 * For VFIO type1 (v1) containers, which may unmap part of a mapping:
 * afterwards no area crosses @iova / @iova + 1, so an unmap may start or
 * end there. The two parts share the area's pages, its protection and its
 * place in every domain; nothing is remapped. Only an IOAS with large
 * pages disabled may be cut (its domains hold no IOPTE larger than a CPU
 * page, so each part can be unmapped alone).
 * Return: 0, also when no area holds @iova or one ends there; EINVAL when
 * @iova + 1 is not aligned to the IOVA alignment (nor its offset in the
 * pages), when large pages are enabled and a domain mirrors the IOAS, or
 * while an access pins the area (pins are not split, as upstream); ENOMEM.
 * On failure nothing changed.
 */
int iolab_iopt_cut(struct iolab_iopt *iopt, u64 iova)
{
	struct interval_tree_node *node;
	struct iolab_area *area, *rhs;
	u64 start, start_byte;
	int rc;

	rhs = kzalloc(sizeof(*rhs), GFP_KERNEL_ACCOUNT);
	if (!rhs)
		return -ENOMEM;

	down_write(&iopt->rwsem);
	node = interval_tree_iter_first(&iopt->area_itree, iova, iova);
	if (!node || node->last == iova) {
		rc = 0;
		goto err_free;
	}
	area = area_of(node);
	start = iova + 1;
	start_byte = area->start_byte + (start - node->start);
	if ((start | start_byte) & (iopt->iova_alignment - 1)) {
		rc = -EINVAL;
		goto err_free;
	}
	if ((iolab_iopt_has_domains(iopt) && !iopt->disable_large_pages) ||
	    atomic_read(&area->num_pins)) {
		rc = -EINVAL;
		goto err_free;
	}
	/* The new area is one more pin user while domains hold the pages. */
	if (iolab_iopt_has_domains(iopt)) {
		rc = iolab_pages_pin_get(area->pages);
		if (rc)
			goto err_free;
	}
	iolab_pages_get(area->pages);
	rhs->pages = area->pages;
	rhs->start_byte = start_byte;
	rhs->prot = area->prot;
	atomic_set(&rhs->num_pins, 0);
	rhs->node.start = start;
	rhs->node.last = node->last;

	interval_tree_remove(node, &iopt->area_itree);
	node->last = iova;
	interval_tree_insert(node, &iopt->area_itree);
	interval_tree_insert(&rhs->node, &iopt->area_itree);
	up_write(&iopt->rwsem);
	return 0;

err_free:
	up_write(&iopt->rwsem);
	kfree(rhs);
	return rc;
}

/* Reserve [start, last] for @owner: EADDRINUSE if mapped or allowed. */
static int iolab_iopt_reserve_locked(struct iolab_iopt *iopt, u64 start,
				     u64 last, void *owner)
{
	struct iolab_range_node *res;

	lockdep_assert_held_write(&iopt->rwsem);
	if (interval_tree_iter_first(&iopt->area_itree, start, last) ||
	    interval_tree_iter_first(&iopt->allowed_itree, start, last))
		return -EADDRINUSE;
	res = kzalloc(sizeof(*res), GFP_KERNEL_ACCOUNT);
	if (!res)
		return -ENOMEM;
	res->node.start = start;
	res->node.last = last;
	res->owner = owner;
	interval_tree_insert(&res->node, &iopt->reserved_itree);
	return 0;
}

int iolab_iopt_reserve(struct iolab_iopt *iopt, u64 start, u64 last)
{
	int rc;

	down_write(&iopt->rwsem);
	rc = iolab_iopt_reserve_locked(iopt, start, last, NULL);
	up_write(&iopt->rwsem);
	return rc;
}

static void iolab_iopt_unreserve_owner(struct iolab_iopt *iopt, void *owner)
{
	struct interval_tree_node *node, *next;

	for (node = interval_tree_iter_first(&iopt->reserved_itree, 0,
					     ULONG_MAX);
	     node; node = next) {
		struct iolab_range_node *res =
			container_of(node, struct iolab_range_node, node);

		next = interval_tree_iter_next(node, 0, ULONG_MAX);
		cond_resched();
		if (res->owner != owner)
			continue;
		interval_tree_remove(node, &iopt->reserved_itree);
		kfree(res);
	}
}

/*
 * The alignment every domain's smallest IOPTE size asks for, and at least
 * PAGE_SIZE while HUGE_PAGES is off (every IOPTE is then at most a page
 * of the CPU's, as upstream's iopt_calculate_iova_alignment() has it).
 */
static void iolab_iopt_update_alignment(struct iolab_iopt *iopt)
{
	struct iolab_domain *domain;
	unsigned long index, align = iopt->disable_large_pages ? PAGE_SIZE : 1;

	xa_for_each(&iopt->domains, index, domain)
		align = max(align, 1UL << __ffs(domain->pgsize_bitmap));
	iopt->iova_alignment = align;
}

/**
 * iolab_iopt_set_large_pages() - IOMMU_OPTION_HUGE_PAGES
 * @iopt: the IOVA space
 * @enable: the option's new value
 *
 * Turning large pages off raises the IOVA alignment to PAGE_SIZE, as
 * upstream's iopt_disable_large_pages() does: refused with EINVAL while
 * domains hold mappings (those may already use large IOPTEs), and with
 * EADDRINUSE when a mapping is not PAGE_SIZE aligned (its IOVA, length or
 * offset in its first page). Turning them back on, or off again, always
 * works. On failure nothing changed.
 */
int iolab_iopt_set_large_pages(struct iolab_iopt *iopt, bool enable)
{
	struct interval_tree_node *node;
	int rc = 0;

	down_write(&iopt->rwsem);
	if (enable || iopt->disable_large_pages)
		goto out_set;
	if (!xa_empty(&iopt->domains) &&
	    !RB_EMPTY_ROOT(&iopt->area_itree.rb_root)) {
		rc = -EINVAL;
		goto out_unlock;
	}
	for (node = interval_tree_iter_first(&iopt->area_itree, 0, ULONG_MAX);
	     node; node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		if ((node->start | (node->last + 1) |
		     area_of(node)->start_byte) & ~PAGE_MASK) {
			rc = -EADDRINUSE;
			goto out_unlock;
		}
		cond_resched();
	}
out_set:
	iopt->disable_large_pages = !enable;
	iolab_iopt_update_alignment(iopt);
out_unlock:
	up_write(&iopt->rwsem);
	return rc;
}

/**
 * iolab_iopt_add_domain() - make @domain mirror the IOAS
 * @iopt: the IOVA space
 * @domain: a paging domain not used by any IOAS
 *
 * The IOVA outside the domain's aperture becomes reserved, every existing
 * mapping is copied into the domain, and MAP/UNMAP keep it in step from
 * then on. The first domain of an IOAS pins the pages of every mapping.
 * Return: 0; EADDRINUSE when a mapping is not aligned to the domain's
 * smallest IOPTE (as upstream), or when a mapping or an allowed range lies
 * outside the aperture; ENOMEM; what pinning returns (EFAULT when mapped
 * memory is gone, ENOMEM past RLIMIT_MEMLOCK). On failure nothing changed.
 */
int iolab_iopt_add_domain(struct iolab_iopt *iopt, struct iolab_domain *domain)
{
	unsigned long align = 1UL << __ffs(domain->pgsize_bitmap);
	struct interval_tree_node *node;
	bool first;
	u32 index;
	int rc;

	down_write(&iopt->rwsem);
	for (node = interval_tree_iter_first(&iopt->area_itree, 0, ULONG_MAX);
	     node; node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		if ((node->start | (node->last + 1) |
		     (area_of(node)->start_byte % PAGE_SIZE)) & (align - 1)) {
			rc = -EADDRINUSE;
			goto out_unlock;
		}
		cond_resched();
	}
	if (domain->aperture_start) {
		rc = iolab_iopt_reserve_locked(iopt, 0,
					       domain->aperture_start - 1,
					       domain);
		if (rc)
			goto err_unreserve;
	}
	if (domain->aperture_end != ULONG_MAX) {
		rc = iolab_iopt_reserve_locked(iopt, domain->aperture_end + 1,
					       ULONG_MAX, domain);
		if (rc)
			goto err_unreserve;
	}
	/* As upstream: the aperture is checked before anything is pinned. */
	first = !iolab_iopt_has_domains(iopt);
	if (first) {
		rc = iolab_iopt_pin_areas(iopt);
		if (rc)
			goto err_unreserve;
	}
	for (node = interval_tree_iter_first(&iopt->area_itree, 0, ULONG_MAX);
	     node; node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		rc = iolab_area_fill(iopt, area_of(node), domain);
		if (rc)
			goto err_unfill;
	}
	rc = xa_alloc(&iopt->domains, &index, domain, xa_limit_32b,
		      GFP_KERNEL_ACCOUNT);
	if (rc)
		goto err_unfill;
	iolab_iopt_update_alignment(iopt);
	up_write(&iopt->rwsem);
	return 0;

err_unfill:
	{
		struct interval_tree_node *undo;

		for (undo = interval_tree_iter_first(&iopt->area_itree, 0,
						     ULONG_MAX);
		     undo != node;
		     undo = interval_tree_iter_next(undo, 0, ULONG_MAX)) {
			iolab_area_unfill(area_of(undo), domain,
					  undo->last - undo->start + 1);
			cond_resched();
		}
	}
	if (first)
		iolab_iopt_unpin_areas(iopt);
err_unreserve:
	iolab_iopt_unreserve_owner(iopt, domain);
out_unlock:
	up_write(&iopt->rwsem);
	return rc;
}

/* Undo iolab_iopt_add_domain(): the domain is empty afterwards. */
void iolab_iopt_remove_domain(struct iolab_iopt *iopt,
			      struct iolab_domain *domain)
{
	struct interval_tree_node *node;
	struct iolab_domain *entry;
	unsigned long index;

	down_write(&iopt->rwsem);
	xa_for_each(&iopt->domains, index, entry)
		if (entry == domain)
			xa_erase(&iopt->domains, index);
	for (node = interval_tree_iter_first(&iopt->area_itree, 0, ULONG_MAX);
	     node; node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		iolab_area_unfill(area_of(node), domain,
				  node->last - node->start + 1);
		cond_resched();
	}
	iolab_iopt_unreserve_owner(iopt, domain);
	if (!iolab_iopt_has_domains(iopt))
		iolab_iopt_unpin_areas(iopt);
	iolab_iopt_update_alignment(iopt);
	up_write(&iopt->rwsem);
}

/* Swap in a new allowed tree unless a reserved range overlaps it. */
int iolab_iopt_set_allowed(struct iolab_iopt *iopt,
			   struct rb_root_cached *allowed)
{
	struct interval_tree_node *node;

	down_write(&iopt->rwsem);
	for (node = interval_tree_iter_first(allowed, 0, ULONG_MAX); node;
	     node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		if (interval_tree_iter_first(&iopt->reserved_itree, node->start,
					     node->last)) {
			up_write(&iopt->rwsem);
			return -EADDRINUSE;
		}
		cond_resched();
	}
	swap(*allowed, iopt->allowed_itree);
	up_write(&iopt->rwsem);
	return 0;
}

int iolab_iopt_add_allowed(struct rb_root_cached *allowed, u64 start,
			   u64 last)
{
	struct iolab_range_node *node;

	node = kzalloc(sizeof(*node), GFP_KERNEL_ACCOUNT);
	if (!node)
		return -ENOMEM;
	node->node.start = start;
	node->node.last = last;
	interval_tree_insert(&node->node, allowed);
	return 0;
}

void iolab_iopt_free_allowed(struct rb_root_cached *allowed)
{
	iolab_free_range_tree(allowed);
}

/*
 * Report the holes between reserved ranges, as IOVA_RANGES does, to the
 * user array @uranges of @max entries; returns how many there are.
 */
int iolab_iopt_report_ranges(struct iolab_iopt *iopt,
			     struct iommu_iova_range __user *uranges,
			     u32 max, u32 *count, u64 *alignment)
{
	struct interval_tree_node *node;
	u64 next = 0;
	u32 n = 0;
	int rc = 0;

	down_read(&iopt->rwsem);
	node = interval_tree_iter_first(&iopt->reserved_itree, 0, ULONG_MAX);
	for (;;) {
		struct iommu_iova_range range = { .start = next };
		bool emit = !node || node->start > next;

		range.last = node ? node->start - 1 : ULONG_MAX;
		if (emit && n < max &&
		    copy_to_user(&uranges[n], &range, sizeof(range))) {
			rc = -EFAULT;
			break;
		}
		n += emit;
		if (!node || node->last == ULONG_MAX)
			break;
		cond_resched();
		next = max(next, node->last + 1);
		node = interval_tree_iter_next(node, 0, ULONG_MAX);
	}
	*alignment = iopt->iova_alignment;
	up_read(&iopt->rwsem);
	*count = n;
	return rc;
}

/*
 * Walk the areas that cover [iova, last] without a gap, calling @fn on each
 * piece; ENOENT at the first gap. Called with the rwsem held.
 */
static int iolab_iopt_walk_pieces(struct iolab_iopt *iopt, u64 iova, u64 last,
				  int (*fn)(struct iolab_area *area, u64 iova,
					    u64 last, void *arg),
				  void *arg)
{
	for (;;) {
		struct interval_tree_node *node;
		u64 piece_last;
		int rc;

		node = interval_tree_iter_first(&iopt->area_itree, iova, iova);
		if (!node)
			return -ENOENT;
		piece_last = min(last, node->last);
		rc = fn(area_of(node), iova, piece_last, arg);
		if (rc)
			return rc;
		if (piece_last == last)
			return 0;
		iova = piece_last + 1;
		cond_resched();
	}
}

struct iolab_read_dirty {
	struct iolab_domain *domain;
	bool clear;
};

static int iolab_read_dirty_fill(void *arg, u64 iova, u64 last,
				 struct iolab_dirty_bitmap *win)
{
	struct iolab_read_dirty *rd = arg;

	return rd->domain->ops->read_and_clear_dirty(rd->domain, iova,
						      last - iova + 1,
						      rd->clear, win);
}

static int iolab_piece_nop(struct iolab_area *area, u64 iova, u64 last,
			   void *arg)
{
	return 0;
}

/**
 * iolab_iopt_read_dirty() - IOMMU_HWPT_GET_DIRTY_BITMAP of @domain
 * @iopt: the IOVA space @domain mirrors
 * @domain: a dirty-capable paging domain
 * @clear: clear the bits reported (else NO_CLEAR)
 * @ub: the pinned bitmap, whose range must be mapped without a hole
 *
 * Return: 0; EINVAL for a hole, or while the domain does not track.
 */
int iolab_iopt_read_dirty(struct iolab_iopt *iopt, struct iolab_domain *domain,
			  bool clear, struct iolab_ubitmap *ub)
{
	struct iolab_read_dirty rd = { .domain = domain, .clear = clear };
	int rc;

	down_read(&iopt->rwsem);
	if (!iolab_ubitmap_fits(ub, domain) ||
	    iolab_iopt_walk_pieces(iopt, ub->iova, ub->last, iolab_piece_nop,
				   NULL)) {
		rc = -EINVAL;
		goto out;
	}
	rc = iolab_ubitmap_harvest(ub, ub->iova, ub->last,
				   iolab_read_dirty_fill, &rd);
	/* The next write must walk and set the bit again; drain DMA. */
	if (!rc && clear)
		domain->ops->iotlb_sync(domain, ub->iova,
					ub->last - ub->iova + 1);
out:
	up_read(&iopt->rwsem);
	return rc;
}

/* Every domain reports a piece: read & clear where trusted, else all. */
static int iolab_read_dirty_all_fill(void *arg, u64 iova, u64 last,
				     struct iolab_dirty_bitmap *win)
{
	struct iolab_unmap_fill *uf = arg;
	struct iolab_domain *domain;
	unsigned long index;

	xa_for_each(&uf->iopt->domains, index, domain) {
		/* Stopped meanwhile (EINVAL): its bits no longer tell all. */
		if (!iolab_dirty_trusted(domain, uf->ub) ||
		    domain->ops->read_and_clear_dirty(domain, iova,
						      last - iova + 1, true,
						      win))
			iolab_dirty_win_fill(win, iova, last);
	}
	if (uf->ub->all_dirty)
		iolab_dirty_win_fill(win, iova, last);
	return 0;
}

/**
 * iolab_iopt_read_dirty_all() - VFIO_IOMMU_DIRTY_PAGES' GET_BITMAP
 * @iopt: the compat container's IOVA space
 * @ub: the pinned bitmap, with @ub->untracked_dirty set
 *
 * Reads and clears the dirty bits of every domain mirroring @iopt, ORed
 * together, for each mapping in @ub's range; a hole reports nothing, and
 * a domain whose bits do not tell all (see struct iolab_ubitmap) reports
 * each page it maps. A mapping must lie wholly inside the range or
 * outside it (type1's rule), checked before any bit is read.
 *
 * Return: 0; EINVAL for a mapping the range cuts, or a domain whose
 * largest IOPTE is larger than a harvest chunk.
 */
int iolab_iopt_read_dirty_all(struct iolab_iopt *iopt,
			      struct iolab_ubitmap *ub)
{
	struct iolab_unmap_fill uf = { .iopt = iopt, .ub = ub };
	struct interval_tree_node *node;
	struct iolab_domain *domain;
	unsigned long index;
	int rc;

	down_read(&iopt->rwsem);
	rc = iolab_iopt_check_dirty(iopt, ub);
	if (rc)
		goto out;
	for (node = interval_tree_iter_first(&iopt->area_itree, ub->iova,
					     ub->last);
	     node; node = interval_tree_iter_next(node, ub->iova, ub->last)) {
		if (node->start < ub->iova || node->last > ub->last) {
			rc = -EINVAL;
			goto out;
		}
	}
	for (node = interval_tree_iter_first(&iopt->area_itree, ub->iova,
					     ub->last);
	     node; node = interval_tree_iter_next(node, ub->iova, ub->last))
		iolab_ubitmap_harvest(ub, node->start, node->last,
				      iolab_read_dirty_all_fill, &uf);
	/* The next write must walk and set the bit again; drain DMA. */
	xa_for_each(&iopt->domains, index, domain)
		domain->ops->iotlb_sync(domain, ub->iova,
					ub->last - ub->iova + 1);
out:
	up_read(&iopt->rwsem);
	return rc;
}

/* Offset of the byte at @iova of @area from its pages' first page. */
static u64 iolab_area_byte(struct iolab_area *area, u64 iova)
{
	return area->start_byte + (iova - area->node.start);
}

struct iolab_pin_walk {
	bool write;
	struct page **out;	/* one entry per IOVA page from @base */
	u64 base;		/* page-aligned first IOVA of the range */
	u64 next;		/* index of the next @out entry to fill */
	u64 failed_at;		/* first IOVA of the piece that failed */
};

static int iolab_check_piece(struct iolab_area *area, u64 iova, u64 last,
			     void *arg)
{
	struct iolab_pin_walk *w = arg;

	if (w->write && !(area->prot & IOLAB_PROT_WRITE))
		return -EPERM;
	return 0;
}

/* An access pins a piece: the area's pages become pinned (if not yet). */
static int iolab_pin_piece(struct iolab_area *area, u64 iova, u64 last,
			   void *arg)
{
	struct iolab_pin_walk *w = arg;
	u64 last_index;
	int rc;

	rc = iolab_pages_pin_get(area->pages);
	if (rc) {
		w->failed_at = iova;
		return rc;
	}
	atomic_inc(&area->num_pins);
	if (!w->out)
		return 0;
	/*
	 * One page per IOVA page, filled by the piece holding the page's
	 * first byte in the range. Offsets from @base cannot wrap.
	 */
	last_index = (last - w->base) >> PAGE_SHIFT;
	for (; w->next <= last_index; w->next++) {
		u64 at = max(w->base + (w->next << PAGE_SHIFT), iova);

		w->out[w->next] = iolab_pages_page(area->pages,
						   iolab_area_byte(area, at) /
							   PAGE_SIZE);
		cond_resched();
	}
	return 0;
}

static int iolab_unpin_piece(struct iolab_area *area, u64 iova, u64 last,
			     void *arg)
{
	atomic_dec(&area->num_pins);
	iolab_pages_pin_put(area->pages);
	return 0;
}

/*
 * Check all of [iova, iova + length) is mapped (ENOENT) and, for @write,
 * writeable (EPERM), then call @fn on each piece, all under one read lock.
 * On a failure of @fn at piece @w->failed_at, @undo is called on every
 * piece before it, still under the lock.
 */
static int iolab_iopt_walk_checked(struct iolab_iopt *iopt, u64 iova,
				   u64 length, struct iolab_pin_walk *w,
				   int (*fn)(struct iolab_area *area, u64 iova,
					     u64 last, void *arg),
				   int (*undo)(struct iolab_area *area, u64 iova,
					       u64 last, void *arg),
				   void *arg)
{
	u64 last;
	int rc;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;

	down_read(&iopt->rwsem);
	rc = iolab_iopt_walk_pieces(iopt, iova, last, iolab_check_piece, w);
	if (!rc) {
		w->failed_at = iova;
		rc = iolab_iopt_walk_pieces(iopt, iova, last, fn, arg);
		if (rc && undo && w->failed_at != iova)
			iolab_iopt_walk_pieces(iopt, iova, w->failed_at - 1,
					       undo, arg);
	}
	up_read(&iopt->rwsem);
	return rc;
}

/**
 * iolab_iopt_access_pin() - hold the pages behind an IOVA range
 * @iopt: the IOVA space
 * @iova: first IOVA
 * @length: bytes, not 0
 * @out: one page per IOVA page of the range, or NULL
 * @write: the caller will write; the mappings must be writeable
 *
 * The pages of every mapping touched are pinned (now, if nothing had
 * pinned them yet) and the mappings cannot be unmapped until
 * iolab_iopt_access_unpin() of the same range. Return: 0, ENOENT (a hole),
 * EPERM, EOVERFLOW, EINVAL, or what pinning returns (EFAULT, ENOMEM);
 * on failure nothing is held.
 */
int iolab_iopt_access_pin(struct iolab_iopt *iopt, u64 iova, u64 length,
			  struct page **out, bool write)
{
	struct iolab_pin_walk w = {
		.write = write,
		.out = out,
		.base = ALIGN_DOWN(iova, PAGE_SIZE),
	};

	return iolab_iopt_walk_checked(iopt, iova, length, &w, iolab_pin_piece,
				       iolab_unpin_piece, &w);
}

/* Undo one successful iolab_iopt_access_pin() of exactly this range. */
void iolab_iopt_access_unpin(struct iolab_iopt *iopt, u64 iova, u64 length)
{
	down_read(&iopt->rwsem);
	iolab_iopt_walk_pieces(iopt, iova, iova + length - 1,
			       iolab_unpin_piece, NULL);
	up_read(&iopt->rwsem);
}

struct iolab_rw_walk {
	struct iolab_pin_walk check;
	u8 *buf;
};

static int iolab_rw_piece(struct iolab_area *area, u64 iova, u64 last,
			  void *arg)
{
	struct iolab_rw_walk *w = arg;
	u64 n = last - iova + 1;
	int rc;

	rc = iolab_pages_rw(area->pages, iolab_area_byte(area, iova), w->buf,
			    n, w->check.write);
	w->buf += n;
	return rc;
}

/**
 * iolab_iopt_access_rw() - copy between a kernel buffer and an IOVA range
 * @iopt: the IOVA space
 * @iova: first IOVA
 * @buf: kernel buffer of @length bytes
 * @length: bytes, not 0
 * @write: copy @buf to the IOVA range (needs writeable mappings)
 *
 * The whole range is checked before one byte moves: a hole is ENOENT and
 * a read-only mapping refuses a write with EPERM, both touching nothing.
 * Memory nothing has pinned is pinned for the copy only; if it cannot be
 * (EFAULT: the memory or its process is gone), the copy stops there.
 */
int iolab_iopt_access_rw(struct iolab_iopt *iopt, u64 iova, void *buf,
			 u64 length, bool write)
{
	struct iolab_rw_walk w = { .check.write = write, .buf = buf };

	return iolab_iopt_walk_checked(iopt, iova, length, &w.check,
				       iolab_rw_piece, NULL, &w);
}

/*
 * Add every file source of @iopt's areas to @list (each once, through
 * iolab_pages.move_item, which must be empty unless already on @list);
 * EINVAL at the first area of user memory. The caller holds the rwsem
 * for write.
 */
int iolab_iopt_collect_pages(struct iolab_iopt *iopt, struct list_head *list)
{
	struct interval_tree_node *node;

	lockdep_assert_held_write(&iopt->rwsem);
	for (node = iolab_area_first(iopt); node;
	     node = iolab_area_next(node)) {
		struct iolab_pages *pages = area_of(node)->pages;

		if (!pages->file)
			return -EINVAL;
		if (list_empty(&pages->move_item))
			list_add_tail(&pages->move_item, list);
		cond_resched();
	}
	return 0;
}
