/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommulab: the interface between the iommufd-style core and an IOMMU
 * driver, shaped like the kernel's struct iommu_ops / iommu_domain_ops.
 *
 * The core (device.c, hw_pagetable.c, io_pagetable.c) only ever calls
 * through these ops; the mock IOMMU (mock_iommu.c) is one implementation.
 * Comparing the aux-domain and PASID paths fairly depends on that.
 */
#ifndef _IOMMULAB_IOMMU_DRIVER_H
#define _IOMMULAB_IOMMU_DRIVER_H

#include <linux/bits.h>
#include <linux/types.h>

struct iolab_hwdev;
struct iolab_domain;

/* Protection bits of a mapping */
#define IOLAB_IOMMU_READ BIT(0)
#define IOLAB_IOMMU_WRITE BIT(1)

enum iolab_domain_type {
	IOLAB_DOMAIN_BLOCKED,	/* every DMA faults */
	IOLAB_DOMAIN_PAGING,	/* an I/O page table the core maps into */
	IOLAB_DOMAIN_NESTED,	/* a user stage 1 on top of a paging parent */
};

/* Flags of iolab_iommu_ops.domain_alloc_paging() */
#define IOLAB_DOMAIN_NEST_PARENT BIT(0)
#define IOLAB_DOMAIN_DIRTY_TRACKING BIT(1)

/* Capabilities a device's IOMMU reports (iolab_iommu_ops.capable) */
enum iolab_iommu_cap {
	IOLAB_CAP_DIRTY_TRACKING,
	IOLAB_CAP_IOPF,	/* it may sit in a domain whose faults go to a queue */
	IOLAB_CAP_PRI,	/* a translation fault of its DMA is a page request */
};

/**
 * struct iolab_dirty_bitmap - where a driver reports dirty IOPTEs
 * @iova: the IOVA bit 0 stands for, aligned to @page_size
 * @length: bytes the bitmap covers, a non-zero multiple of @page_size
 * @page_size: bytes per bit, a power of two
 * @bitmap: kernel memory the caller sized and zeroed; bit i stands for
 *	    [@iova + i * @page_size, + @page_size). Drivers only set bits
 * @nr_dirty: drivers add the number of bits they newly set
 * @touched: one bit per word of @bitmap, which the caller zeroed: whoever
 *	     sets a bit of word w sets bit w here too (the caller reads back
 *	     only the words marked)
 *
 * A dirty IOPTE sets the bit of every @page_size unit it overlaps inside
 * the bitmap, so a dirty 2 MiB IOPTE reports each of its 4 KiB pages.
 */
struct iolab_dirty_bitmap {
	u64 iova;
	u64 length;
	u64 page_size;
	unsigned long *bitmap;
	u64 nr_dirty;
	unsigned long *touched;
};

/**
 * struct iolab_domain - a translation context, as the core sees it
 * @ops: the driver's domain ops
 * @type: enum iolab_domain_type
 * @pgsize_bitmap: supported IOPTE sizes (bit n: 1 << n bytes)
 * @aperture_start: first IOVA the domain can translate
 * @aperture_end: last IOVA the domain can translate
 * @parent: for a nested domain, the paging domain of stage 2
 * @dirty_capable: a paging domain allocated with IOLAB_DOMAIN_DIRTY_TRACKING:
 *		   it has the dirty ops, and only devices that can track
 *		   dirty pages may attach to it
 *
 * Drivers embed it in their own domain structure.
 */
struct iolab_domain {
	const struct iolab_domain_ops *ops;
	enum iolab_domain_type type;
	unsigned long pgsize_bitmap;
	u64 aperture_start;
	u64 aperture_end;
	struct iolab_domain *parent;
	bool dirty_capable;
};

/**
 * struct iolab_domain_ops - what a domain can do
 * @map_pages: map [@iova, @iova + @len) to physical [@paddr, ...) with
 *	       @prot; on failure nothing of this call stays mapped
 * @unmap_pages: unmap [@iova, @iova + @len); returns the bytes removed.
 *		 With @dirty (read & unmap, dirty-capable domains only), each
 *		 IOPTE's dirty bit is reported into @dirty by the same atomic
 *		 step that clears the IOPTE, so a DMA write either lands
 *		 before and is reported, or faults after
 * @iova_to_phys: look up a translation (0 if none), no side effects
 * @iotlb_sync: drop cached translations of a range; the core calls it
 *		after every unmap, before the pages can be reused. When it
 *		returns, no DMA can reach the range any more (requests that
 *		were still using a cached translation have completed)
 * @set_dirty_tracking: dirty-capable domains: start or stop setting dirty
 *			bits on DMA writes. Every start, also one while
 *			tracking, clears every dirty bit first (a clean
 *			snapshot); stopping keeps them, for a
 *			last read & unmap. EOPNOTSUPP if not dirty-capable,
 *			else 0: it cannot fail
 * @dirty_tracking: dirty-capable domains: whether DMA writes set dirty
 *		    bits now (a snapshot: it may change right after)
 * @read_and_clear_dirty: report the dirty IOPTEs that intersect
 *			  [@iova, @iova + @len) into @dirty, which contains
 *			  the range, and with @clear clear the dirty bit of
 *			  each one that @dirty holds whole, in the atomic
 *			  step that reads it (an IOPTE sticking out of @dirty
 *			  stays dirty). EOPNOTSUPP if not dirty-capable,
 *			  EINVAL while tracking is stopped. The caller then
 *			  calls @iotlb_sync, so the next write sets the bit
 *			  again
 * @split: break the IOPTEs that intersect [@iova, @iova + @len) down to
 *	   @leaf_size inside the range (outside it, the largest sizes that
 *	   fit), translations and access/dirty bits unchanged at every
 *	   instant; *@before / *@after: IOPTEs intersecting the range
 * @merge: fold runs of IOPTEs inside the range into the largest IOPTEs the
 *	   domain supports where they map contiguous memory with one
 *	   permission; the new IOPTE is dirty if any folded one was
 * @cache_invalidate_user: nested domains: a user IOTLB invalidation of
 *			   @data_type, @entry_num entries of @entry_len bytes;
 *			   sets *@done to the entries handled
 * @free: release the domain; it is attached to nothing any more
 */
struct iolab_domain_ops {
	int (*map_pages)(struct iolab_domain *domain, u64 iova, u64 paddr,
			 u64 len, int prot);
	u64 (*unmap_pages)(struct iolab_domain *domain, u64 iova, u64 len,
			   struct iolab_dirty_bitmap *dirty);
	u64 (*iova_to_phys)(struct iolab_domain *domain, u64 iova);
	void (*iotlb_sync)(struct iolab_domain *domain, u64 iova, u64 len);
	int (*set_dirty_tracking)(struct iolab_domain *domain, bool enable);
	bool (*dirty_tracking)(struct iolab_domain *domain);
	int (*read_and_clear_dirty)(struct iolab_domain *domain, u64 iova,
				    u64 len, bool clear,
				    struct iolab_dirty_bitmap *dirty);
	int (*split)(struct iolab_domain *domain, u64 iova, u64 len,
		     u64 leaf_size, u64 *before, u64 *after);
	int (*merge)(struct iolab_domain *domain, u64 iova, u64 len,
		     u64 *before, u64 *after);
	int (*cache_invalidate_user)(struct iolab_domain *domain,
				     const void __user *data, u32 data_type,
				     u32 entry_len, u32 entry_num, u32 *done);
	void (*free)(struct iolab_domain *domain);
};

/**
 * struct iolab_iommu_ops - the driver's entry points for a device
 * @domain_alloc_paging: a new paging domain suited to @dev; IOLAB_DOMAIN_*
 *			 @flags; ERR_PTR on failure (EOPNOTSUPP: a flag the
 *			 device's IOMMU cannot honour)
 * @domain_alloc_nested: a nested domain on @parent from user data of
 *			 @data_type (@data, @data_len bytes)
 * @blocked_domain: the shared domain that blocks all DMA
 * @attach_dev: make @domain translate @dev's requests without a PASID
 *		(its RID); EINVAL if @dev cannot use @domain
 * @set_dev_pasid: make @domain translate @dev's requests that carry
 *		   @pasid, replacing what translated them before (nothing,
 *		   or another domain) in one step; @blocked_domain removes
 *		   the PASID's translation and cannot fail. On failure the
 *		   PASID keeps its old translation. EINVAL if @dev has no
 *		   such PASID or cannot use @domain. The core checks the
 *		   PASID rules (width, compatible RID domain) before calling.
 * @capable: whether @dev's IOMMU has enum iolab_iommu_cap @cap
 * @hw_info: write the driver's info record to @data (@len bytes of room)
 *	     and set *@type; returns the bytes written, never more than
 *	     @len (a record that does not fit is the driver's bug, and the
 *	     core reports only the bytes that fit)
 * @max_pasid_log2: PASID width of @dev, 0 without PASID support
 */
struct iolab_iommu_ops {
	struct iolab_domain *(*domain_alloc_paging)(struct iolab_hwdev *dev,
						    u32 flags);
	struct iolab_domain *(*domain_alloc_nested)(struct iolab_hwdev *dev,
						    struct iolab_domain *parent,
						    u32 data_type,
						    const void __user *data,
						    u32 data_len);
	struct iolab_domain *blocked_domain;
	int (*attach_dev)(struct iolab_domain *domain, struct iolab_hwdev *dev);
	int (*set_dev_pasid)(struct iolab_domain *domain, struct iolab_hwdev *dev,
			     u32 pasid);
	bool (*capable)(struct iolab_hwdev *dev, enum iolab_iommu_cap cap);
	u32 (*hw_info)(struct iolab_hwdev *dev, void *data, u32 len, u32 *type);
	u8 (*max_pasid_log2)(struct iolab_hwdev *dev);
};

/**
 * struct iolab_hwdev - a device behind an IOMMU, as the core sees it
 * @ops: the IOMMU driver that translates this device's DMA
 * @rid: requester ID (bus/device/function) carried by its DMA requests
 */
struct iolab_hwdev {
	const struct iolab_iommu_ops *ops;
	u32 rid;
};

#endif
