// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: the VFIO compatibility layer.
 *
 * IOMMU_VFIO_IOAS chooses the fd's compatibility IOAS. The VFIO type1
 * container ioctls (type ';', numbers below iommufd's 0x80) then work on
 * that IOAS, so that /dev/iommu answers as a VFIO container with a type1
 * or type1v2 IOMMU would: iolab_fops_ioctl() hands every number its table
 * does not know to iolab_vfio_ioctl(). They name no IOAS; without a
 * compatibility IOAS every one that needs it is ENODEV (VFIO's answer for
 * a container with no group). Mapping and unmapping go through the IOAS
 * code (ioas.c, io_pagetable.c), so domains, accesses and pinning behave
 * as for IOMMU_IOAS_MAP and IOMMU_IOAS_UNMAP.
 *
 * type1 and type1v2 differ in one rule: type1 may unmap part of a
 * mapping. VFIO_SET_IOMMU(VFIO_TYPE1_IOMMU) turns the IOAS's large pages
 * off (IOMMU_OPTION_HUGE_PAGES 0), so that no IOPTE is larger than a CPU
 * page, and an unmap then first cuts the mappings at its two ends.
 */
#include <linux/err.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/uaccess.h>
#include <uapi/linux/vfio.h>

#include "iommu_driver.h"
#include "iommulab_private.h"

/*
 * type1's largest dirty bitmap, reported in the migration capability: one
 * bit per page for INT_MAX pages, rounded up to whole u64 words (256 MiB).
 */
#define IOLAB_VFIO_DIRTY_BITMAP_MAX                                         \
	(ALIGN((u64)INT_MAX, BITS_PER_TYPE(u64)) / BITS_PER_BYTE)

#define IOLAB_VFIO_MAP_FLAGS (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
#define IOLAB_VFIO_UNMAP_FLAGS                                              \
	(VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | VFIO_DMA_UNMAP_FLAG_ALL)

/* The two range types have one layout: IOVA_RANGES' code fills both. */
static_assert(sizeof(struct vfio_iova_range) ==
	      sizeof(struct iommu_iova_range));
static_assert(offsetof(struct vfio_iova_range, end) ==
	      offsetof(struct iommu_iova_range, last));

int iolab_vfio_ioas(struct iolab_ucmd *ucmd)
{
	struct iommu_vfio_ioas *cmd = ucmd->cmd;
	struct iolab_ctx *ctx = ucmd->ctx;
	struct iolab_ioas *ioas;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	switch (cmd->op) {
	case IOMMU_VFIO_IOAS_GET:
		/* Under xa_lock the IOAS cannot be destroyed (see iolab_ctx). */
		xa_lock(&ctx->objects);
		ioas = ctx->vfio_ioas;
		if (ioas)
			cmd->ioas_id = ioas->obj.id;
		xa_unlock(&ctx->objects);
		if (!ioas)
			return -ENODEV;
		return iolab_ucmd_respond(ucmd, sizeof(*cmd));
	case IOMMU_VFIO_IOAS_SET:
		ioas = iolab_get_ioas(ctx, cmd->ioas_id);
		if (IS_ERR(ioas))
			return PTR_ERR(ioas);
		xa_lock(&ctx->objects);
		ctx->vfio_ioas = ioas;
		xa_unlock(&ctx->objects);
		iolab_put_object(&ioas->obj);
		return 0;
	case IOMMU_VFIO_IOAS_CLEAR:
		xa_lock(&ctx->objects);
		ctx->vfio_ioas = NULL;
		xa_unlock(&ctx->objects);
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

/* The compatibility IOAS with a users reference, or ENODEV. */
static struct iolab_ioas *iolab_vfio_get_ioas(struct iolab_ctx *ctx)
{
	struct iolab_ioas *ioas;

	/* Destroying the IOAS clears ctx->vfio_ioas under this lock. */
	xa_lock(&ctx->objects);
	ioas = ctx->vfio_ioas;
	if (!ioas || !refcount_inc_not_zero(&ioas->obj.users))
		ioas = ERR_PTR(-ENODEV);
	xa_unlock(&ctx->objects);
	return ioas;
}

static long iolab_vfio_check_extension(unsigned long ext)
{
	switch (ext) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	default:
		/*
		 * Among them VFIO_UPDATE_VADDR (as upstream: a mapping's
		 * memory cannot safely change under a domain) and the no-IOMMU
		 * and nesting types, which iommulab has not.
		 */
		return 0;
	}
}

static long iolab_vfio_set_iommu(struct iolab_ctx *ctx, unsigned long type)
{
	struct iolab_ioas *ioas;
	int rc = 0;

	if (type != VFIO_TYPE1_IOMMU && type != VFIO_TYPE1v2_IOMMU)
		return -EINVAL;
	ioas = iolab_vfio_get_ioas(ctx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	/*
	 * type1 may unmap inside a mapping: with IOPTEs of at most a CPU page
	 * every mapping can be cut. As HUGE_PAGES 0, this is EINVAL once a
	 * domain holds mappings, and changes nothing then.
	 */
	if (type == VFIO_TYPE1_IOMMU)
		rc = iolab_iopt_set_large_pages(&ioas->iopt, false);
	iolab_put_object(&ioas->obj);
	return rc;
}

/*
 * The IO page sizes every domain of the IOAS supports; sizes below a CPU
 * page count as one CPU page (type1's rule), and none is smaller than the
 * IOVA alignment. With no domain, every size from a CPU page up.
 */
static u64 iolab_vfio_pgsizes(struct iolab_ioas *ioas)
{
	struct iolab_iopt *iopt = &ioas->iopt;
	unsigned long bitmap = ULONG_MAX;
	struct iolab_domain *domain;
	unsigned long index;

	down_read(&iopt->rwsem);
	xa_for_each(&iopt->domains, index, domain)
		bitmap &= domain->pgsize_bitmap;
	if (bitmap & ~PAGE_MASK)
		bitmap = (bitmap & PAGE_MASK) | PAGE_SIZE;
	bitmap = max(bitmap, iopt->iova_alignment);
	up_read(&iopt->rwsem);
	return bitmap;
}

/*
 * A capability of VFIO_IOMMU_GET_INFO. It is written at @ucap when its
 * @avail bytes hold all of it (the IOVA ranges: each range that fits is
 * written, the header only if all do), and nothing of it beyond @avail.
 * Returns its size, or an errno.
 */
typedef int (*iolab_vfio_cap_fn)(struct iolab_ioas *ioas, u64 pgsizes,
				 void __user *ucap, size_t avail);

static int iolab_vfio_cap_dma_avail(struct iolab_ioas *ioas, u64 pgsizes,
				    void __user *ucap, size_t avail)
{
	/*
	 * iommulab bounds mappings by pinned-memory accounting, not by a
	 * count: as upstream, the largest count there is.
	 */
	struct vfio_iommu_type1_info_dma_avail cap = {
		.header.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
		.header.version = 1,
		.avail = U32_MAX,
	};

	if (avail >= sizeof(cap) && copy_to_user(ucap, &cap, sizeof(cap)))
		return -EFAULT;
	return sizeof(cap);
}

/* The usable IOVA: the holes between reserved ranges, as IOVA_RANGES. */
static int iolab_vfio_cap_iova_range(struct iolab_ioas *ioas, u64 pgsizes,
				     void __user *ucap, size_t avail)
{
	const size_t head =
		offsetof(struct vfio_iommu_type1_info_cap_iova_range,
			 iova_ranges);
	struct vfio_iommu_type1_info_cap_iova_range cap = {
		.header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
		.header.version = 1,
	};
	size_t max = avail > head ? (avail - head) / sizeof(cap.iova_ranges[0]) :
				    0;
	size_t size;
	u64 alignment;
	int rc;

	rc = iolab_iopt_report_ranges(&ioas->iopt,
				      ucap ? (struct iommu_iova_range __user *)
						     (ucap + head) :
					     NULL,
				      min_t(size_t, max, U32_MAX),
				      &cap.nr_iovas, &alignment);
	if (rc)
		return rc;
	size = struct_size(&cap, iova_ranges, cap.nr_iovas);
	if (avail >= size && copy_to_user(ucap, &cap, head))
		return -EFAULT;
	return size;
}

/*
 * type1's migration capability: dirty pages are tracked at the smallest
 * IO page size, in bitmaps of at most IOLAB_VFIO_DIRTY_BITMAP_MAX bytes.
 */
static int iolab_vfio_cap_migration(struct iolab_ioas *ioas, u64 pgsizes,
				    void __user *ucap, size_t avail)
{
	struct vfio_iommu_type1_info_cap_migration cap = {
		.header.id = VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION,
		.header.version = 1,
		.pgsize_bitmap = pgsizes ? 1ULL << __ffs64(pgsizes) : 0,
		.max_dirty_bitmap_size = IOLAB_VFIO_DIRTY_BITMAP_MAX,
	};

	if (avail >= sizeof(cap) && copy_to_user(ucap, &cap, sizeof(cap)))
		return -EFAULT;
	return sizeof(cap);
}

/*
 * VFIO_IOMMU_GET_INFO. argsz must reach iova_pgsizes (EINVAL); the answer
 * is written up to the smaller of argsz and the structure, and argsz comes
 * back as the size that holds every capability. The capabilities follow
 * the structure, each at an 8-byte boundary and chained by next; when
 * argsz holds them all, cap_offset points to the first, else it is 0 and
 * only what fits was written.
 */
static long iolab_vfio_get_info(struct iolab_ctx *ctx, void __user *arg)
{
	static const iolab_vfio_cap_fn caps[] = {
		iolab_vfio_cap_dma_avail,
		iolab_vfio_cap_iova_range,
		iolab_vfio_cap_migration,
	};
	const size_t minsz = offsetofend(struct vfio_iommu_type1_info,
					 iova_pgsizes);
	struct vfio_iommu_type1_info info = {};
	size_t total = sizeof(info), prev = 0, outsz;
	struct iolab_ioas *ioas;
	unsigned int i;
	u64 pgsizes;
	int rc = 0;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	outsz = min_t(size_t, info.argsz, sizeof(info));

	ioas = iolab_vfio_get_ioas(ctx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	pgsizes = iolab_vfio_pgsizes(ioas);

	for (i = 0; i != ARRAY_SIZE(caps); i++) {
		bool room = info.argsz > total;
		int size;

		size = caps[i](ioas, pgsizes, room ? arg + total : NULL,
			       room ? info.argsz - total : 0);
		if (size < 0) {
			rc = size;
			goto out_put;
		}
		/* The previous capability was written whole: chain it. */
		if (prev && info.argsz >= total &&
		    put_user((u32)total,
			     (u32 __user *)(arg + prev +
					    offsetof(struct vfio_info_cap_header,
						     next)))) {
			rc = -EFAULT;
			goto out_put;
		}
		prev = total;
		total += ALIGN(size, sizeof(u64));
	}

	info.flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
	info.iova_pgsizes = pgsizes;
	info.cap_offset = info.argsz >= total ? sizeof(info) : 0;
	info.argsz = total;
	if (copy_to_user(arg, &info, outsz))
		rc = -EFAULT;
out_put:
	iolab_put_object(&ioas->obj);
	return rc;
}

/*
 * VFIO_IOMMU_MAP_DMA: map size bytes at vaddr to the fixed IOVA iova.
 * EINVAL for a short argsz, an unknown flag (VFIO_DMA_MAP_FLAG_VADDR among
 * them) and, as type1, for neither READ nor WRITE; then what IOAS_MAP of
 * a fixed IOVA answers. The pinned memory is accounted as the fd's
 * IOMMU_OPTION_RLIMIT_MODE says, as upstream's.
 */
static long iolab_vfio_map_dma(struct iolab_ctx *ctx, void __user *arg)
{
	const size_t minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	struct vfio_iommu_type1_dma_map map;
	struct iolab_pages *pages;
	struct iolab_ioas *ioas;
	int prot = 0;
	u64 iova;
	int rc;

	if (copy_from_user(&map, arg, minsz))
		return -EFAULT;
	if (map.argsz < minsz || map.flags & ~IOLAB_VFIO_MAP_FLAGS)
		return -EINVAL;
	if (map.flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= IOLAB_PROT_READ;
	if (map.flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOLAB_PROT_WRITE;

	ioas = iolab_vfio_get_ioas(ctx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	if (!prot) {
		rc = -EINVAL;
		goto out_put;
	}
	/* Remembered, not pinned: the first domain or access pins. */
	pages = iolab_pages_alloc_user(ctx, map.vaddr, map.size,
				       prot & IOLAB_PROT_WRITE);
	if (IS_ERR(pages)) {
		rc = PTR_ERR(pages);
		goto out_put;
	}
	iova = map.iova;
	rc = iolab_iopt_map_pages(&ioas->iopt, pages, map.vaddr - pages->uptr,
				  map.size, &iova, prot, true);
	/* On success the area holds its own reference. */
	iolab_pages_put(pages);
out_put:
	iolab_put_object(&ioas->obj);
	return rc;
}

/*
 * Dirty pages, type1's uAPI on iommufd's hardware dirty bits. START turns
 * dirty tracking on in every dirty-capable domain of the compatibility
 * IOAS (each starts from a clean snapshot, as IOMMU_HWPT_SET_DIRTY_TRACKING
 * does), STOP turns it off; GET_BITMAP and UNMAP_DMA's GET_DIRTY_BITMAP
 * read and clear the bits of every domain, ORed, one bit per page of the
 * smallest IO page size, bit 0 at the range's first IOVA. Nothing written
 * by a device is lost: a domain that cannot track, or does not now (it
 * joined after START, or its HWPT's tracking was stopped), reports every
 * page it maps, as type1 reports every pinned page when no IOMMU tracks;
 * so does every mapping while an access (which no IOMMU watches) is
 * attached. type1's errnos: EACCES for DIRTY_PAGES on type1 (v1, large
 * pages off), EINVAL for a bad flag, size, page size or range, and for a
 * bitmap while tracking is stopped.
 */
#define IOLAB_VFIO_DIRTY_FLAGS                                              \
	(VFIO_IOMMU_DIRTY_PAGES_FLAG_START | VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP | \
	 VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP)

/* type1's bitmap rules for @size bytes of IOVA, before any lookup. */
static int iolab_vfio_bitmap_check(u64 size, const struct vfio_bitmap *bm)
{
	u64 npages;

	if (!bm->pgsize || !is_power_of_2(bm->pgsize))
		return -EINVAL;
	if (!access_ok(bm->data, bm->size))
		return -EINVAL;
	npages = size >> __ffs64(bm->pgsize);
	if (!npages || !bm->size || bm->size > IOLAB_VFIO_DIRTY_BITMAP_MAX ||
	    bm->size < ALIGN(npages, BITS_PER_TYPE(u64)) / BITS_PER_BYTE)
		return -EINVAL;
	return 0;
}

/*
 * Pin @bm for [@iova, @iova + @size) of @ioas: type1's range rules, the
 * bitmap's page size the smallest IO page size. EINVAL while tracking is
 * stopped.
 */
static int iolab_vfio_bitmap_init(struct iolab_ioas *ioas, u64 iova, u64 size,
				  const struct vfio_bitmap *bm,
				  struct iolab_ubitmap *ub)
{
	u64 pgsize = 1ULL << __ffs64(iolab_vfio_pgsizes(ioas));
	int rc;

	if (bm->pgsize != pgsize || (iova | size) & (pgsize - 1) || !size ||
	    !READ_ONCE(ioas->vfio_dirty))
		return -EINVAL;
	rc = iolab_ubitmap_init(ub, iova, size, pgsize,
				(unsigned long)bm->data);
	if (rc)
		return rc;
	ub->untracked_dirty = true;
	mutex_lock(&ioas->access_lock);
	ub->all_dirty = !list_empty(&ioas->accesses);
	mutex_unlock(&ioas->access_lock);
	return 0;
}

static void iolab_vfio_dirty_track(struct iolab_ioas *ioas, bool enable)
{
	struct iolab_iopt *iopt = &ioas->iopt;
	struct iolab_domain *domain;
	unsigned long index;

	down_write(&iopt->rwsem);
	if (ioas->vfio_dirty != enable) {
		/*
		 * Cannot fail on a dirty-capable domain (iommu_driver.h). One
		 * already tracking (its HWPT's own start) keeps its bits.
		 */
		xa_for_each(&iopt->domains, index, domain)
			if (domain->dirty_capable &&
			    (!enable || !domain->ops->dirty_tracking(domain)))
				domain->ops->set_dirty_tracking(domain, enable);
		WRITE_ONCE(ioas->vfio_dirty, enable);
	}
	up_write(&iopt->rwsem);
}

static long iolab_vfio_dirty_pages(struct iolab_ctx *ctx, void __user *arg)
{
	const size_t minsz = offsetofend(struct vfio_iommu_type1_dirty_bitmap,
					 flags);
	struct vfio_iommu_type1_dirty_bitmap_get range;
	struct vfio_iommu_type1_dirty_bitmap dirty;
	struct iolab_ubitmap ub;
	struct iolab_ioas *ioas;
	u64 end;
	int rc;

	if (copy_from_user(&dirty, arg, minsz))
		return -EFAULT;
	/* Exactly one flag. */
	if (dirty.argsz < minsz || dirty.flags & ~IOLAB_VFIO_DIRTY_FLAGS ||
	    hweight32(dirty.flags) != 1)
		return -EINVAL;
	if (dirty.flags & VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP) {
		if (dirty.argsz - minsz < sizeof(range))
			return -EINVAL;
		if (copy_from_user(&range, arg + minsz, sizeof(range)))
			return -EFAULT;
		if (check_add_overflow(range.iova, range.size, &end))
			return -EINVAL;
		rc = iolab_vfio_bitmap_check(range.size, &range.bitmap);
		if (rc)
			return rc;
	}

	ioas = iolab_vfio_get_ioas(ctx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	if (READ_ONCE(ioas->iopt.disable_large_pages)) {
		rc = -EACCES;
	} else if (!(dirty.flags & VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP)) {
		iolab_vfio_dirty_track(ioas, dirty.flags &
				       VFIO_IOMMU_DIRTY_PAGES_FLAG_START);
		rc = 0;
	} else {
		rc = iolab_vfio_bitmap_init(ioas, range.iova, range.size,
					    &range.bitmap, &ub);
		if (!rc) {
			rc = iolab_iopt_read_dirty_all(&ioas->iopt, &ub);
			iolab_ubitmap_destroy(&ub);
		}
	}
	iolab_put_object(&ioas->obj);
	return rc;
}

/*
 * VFIO_IOMMU_UNMAP_DMA: unmap every mapping inside [iova, iova + size),
 * or, with VFIO_DMA_UNMAP_FLAG_ALL (iova and size 0, else EINVAL), every
 * mapping; size comes back as the bytes unmapped. A range with nothing
 * mapped in it unmaps nothing and succeeds. type1v2: a mapping the range
 * only partly covers is ENOENT and nothing is unmapped. type1: mappings
 * are first cut at the range's ends (large pages are off), so any range
 * aligned to the IOVA alignment can be unmapped. With
 * VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP (not with ALL; a struct vfio_bitmap
 * follows) the dirty bits of what is unmapped are read in the same step
 * into the bitmap, bit 0 at iova: type1's read & unmap.
 */
static long iolab_vfio_unmap_dma(struct iolab_ctx *ctx, void __user *arg)
{
	const size_t minsz = offsetofend(struct vfio_iommu_type1_dma_unmap,
					 size);
	struct iolab_ubitmap ub, *dirty = NULL;
	struct vfio_iommu_type1_dma_unmap unmap;
	struct vfio_bitmap bitmap;
	struct iolab_ioas *ioas;
	u64 unmapped = 0, last;
	int rc;

	if (copy_from_user(&unmap, arg, minsz))
		return -EFAULT;
	if (unmap.argsz < minsz || unmap.flags & ~IOLAB_VFIO_UNMAP_FLAGS)
		return -EINVAL;
	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) {
		if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL ||
		    unmap.argsz < minsz + sizeof(bitmap))
			return -EINVAL;
		if (copy_from_user(&bitmap, arg + minsz, sizeof(bitmap)))
			return -EFAULT;
		rc = iolab_vfio_bitmap_check(unmap.size, &bitmap);
		if (rc)
			return rc;
	}

	ioas = iolab_vfio_get_ioas(ctx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) {
		rc = iolab_vfio_bitmap_init(ioas, unmap.iova, unmap.size,
					    &bitmap, &ub);
		if (rc)
			goto out_put;
		dirty = &ub;
	}

	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		rc = -EINVAL;
		if (!unmap.iova && !unmap.size)
			rc = iolab_ioas_unmap_all(ioas, &unmapped);
		goto out_done;
	}
	if (!unmap.size) {
		rc = -EINVAL;
		goto out_put;
	}
	if (check_add_overflow(unmap.iova, unmap.size - 1, &last)) {
		rc = -EOVERFLOW;
		goto out_put;
	}
	/*
	 * type1: cut at both ends. A cut alone changes no translation, so a
	 * failed unmap after it leaves every IOVA mapped as before.
	 */
	if (READ_ONCE(ioas->iopt.disable_large_pages)) {
		rc = iolab_iopt_cut(&ioas->iopt, last);
		if (!rc && unmap.iova)
			rc = iolab_iopt_cut(&ioas->iopt, unmap.iova - 1);
		if (rc)
			goto out_put;
	}
	rc = iolab_ioas_unmap_range_dirty(ioas, unmap.iova, unmap.size,
					  &unmapped, dirty);
	/* ENOENT for nothing mapped there: VFIO's unmap of nothing works. */
	if (rc == -ENOENT &&
	    !iolab_iopt_any_area(&ioas->iopt, unmap.iova, last)) {
		unmapped = 0;
		rc = 0;
	}
out_done:
	if (!rc) {
		unmap.size = unmapped;
		if (copy_to_user(arg, &unmap, minsz))
			rc = -EFAULT;
	}
out_put:
	if (dirty)
		iolab_ubitmap_destroy(dirty);
	iolab_put_object(&ioas->obj);
	return rc;
}

/**
 * iolab_vfio_ioctl() - the VFIO type1 container ioctls of /dev/iommu
 * @ctx: the fd
 * @cmd: an ioctl number iolab_fops_ioctl()'s table does not have
 * @arg: its argument: a value or a user pointer, as the ioctl defines
 *
 * Return: the ioctl's result, or ENOTTY for any other number.
 */
long iolab_vfio_ioctl(struct iolab_ctx *ctx, unsigned int cmd,
		      unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return iolab_vfio_check_extension(arg);
	case VFIO_SET_IOMMU:
		return iolab_vfio_set_iommu(ctx, arg);
	case VFIO_IOMMU_GET_INFO:
		return iolab_vfio_get_info(ctx, uarg);
	case VFIO_IOMMU_MAP_DMA:
		return iolab_vfio_map_dma(ctx, uarg);
	case VFIO_IOMMU_UNMAP_DMA:
		return iolab_vfio_unmap_dma(ctx, uarg);
	case VFIO_IOMMU_DIRTY_PAGES:
		return iolab_vfio_dirty_pages(ctx, uarg);
	default:
		return -ENOTTY;
	}
}
