// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: the mock IOMMU, the one implementation of iommu_driver.h.
 *
 * It behaves like hardware: a paging domain is a radix I/O page table
 * (pt/iolab_pt.c) whose IOPTEs carry permission, accessed and dirty bits;
 * each mock device has a context (the domain its RID uses, and a PASID
 * table: one domain per attached PASID) that the DMA engine looks up for
 * every request; a small IOTLB per domain caches translations until the
 * core syncs it after an unmap.
 *
 * Two page-table flavours: upstream's selftest one (2 KiB IOPTEs, plus
 * 1 MiB ones for MOCK_FLAGS_DEVICE_HUGE_IOVA devices, aperture
 * MOCK_APERTURE_START..LAST), and a "4 KiB" one (IOMMULAB_MOCK_DEV_4K:
 * 4 KiB, 2 MiB and 1 GiB IOPTEs over a 48-bit aperture). HUGE_IOVA only
 * widens the leaf sizes of a domain its device allocates; the format is
 * the same, so (as upstream's mock) plain and HUGE_IOVA devices share
 * each other's domains and walk whatever leaves they find.
 *
 * Locks, in the order they nest (the whole module's order is in
 * iommulab_private.h):
 *   mock_hwdev.ctx_rwsem   the device context (RID domain, PASID table);
 *			  DMA holds it for read for a whole request,
 *			  attach_dev and set_dev_pasid for write
 *   mock_domain.split_lock  serialises IOPTE splits (mutex), which
 *			  change the table's shape under mock_domain.lock
 *			  held for read, alongside DMA (see below)
 *   mock_domain.lock	  the page table's shape and the dirty-tracking
 *			  switch: map, unmap, merge and starting or
 *			  stopping tracking take it for write; DMA, dirty
 *			  harvests and splits hold it for read
 *   mock_domain.iotlb_lock  the IOTLB entries (spinlock)
 *
 * The IOTLB sync after an unmap flushes under mock_domain.lock taken for
 * write. A DMA holds that lock for read from its first translation to its
 * last byte, so the sync also waits for every request that may still be
 * using a stale entry: once it returns, no request can reach the unmapped
 * pages, neither through the table nor through the IOTLB, and the core
 * may unpin them at once.
 *
 * Dirty tracking, as hardware does it: while it is on, a write walk sets
 * the IOPTE's DIRTY bit (one compare-exchange, before the first byte
 * moves), and the IOTLB only caches a translation for writing after such a
 * walk. A harvest reads and clears each DIRTY bit in one atomic step while
 * DMA goes on (the library's leaf locks or an atomic bit clear), then the
 * core syncs the IOTLB: the flush makes the next write walk and set the bit
 * again, and taking the lock for write waits for every request that used a
 * translation cached before the clear. Such a request's page was dirty when
 * it was cached, so it is reported by this harvest, and its bytes have
 * landed when the harvest returns; any later write is reported by the next
 * one. No write is lost.
 *
 * A split installs each new subtree with one compare-exchange while DMA
 * walks (the library's rule, iolab_pt.h): translations never change. A
 * merge frees table pages, so it takes the lock for write: DMA waits for it
 * and never faults.
 */
#include <linux/highmem.h>
#include <linux/idr.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include <iommulab/iommufd_test.h>
#include <iommulab/iommulab.h>

#include "iommu_driver.h"
#include "mock_iommu.h"
#include "pt/iolab_pt.h"

#define MOCK_IOTLB_ENTRIES 16
#define MOCK_SELFTEST_PGSIZE (PAGE_SIZE / 2)
#define MOCK_SELFTEST_HUGE (512 * MOCK_SELFTEST_PGSIZE)

/*
 * One cached translation. @readable and @writable record only what a walk
 * has checked for this entry: a hit serves an access of a kind the entry
 * has not been checked for as a miss, so a read through an entry cached by
 * a write to a write-only IOPTE walks again and faults.
 */
struct mock_iotlb_entry {
	bool valid;
	bool readable;
	bool writable;
	u64 iova_pfn;		/* IOVA >> leaf_shift */
	u64 pa;			/* physical address of that IOVA page */
	u64 iopte_size;		/* size of the IOPTE it came from */
};

struct mock_domain {
	struct iolab_domain domain;
	u32 flavour;
	bool nest_parent;
	bool enforce_dirty;	/* only devices that can track dirty pages */
	bool dirty_tracking;	/* DMA writes set DIRTY; under @lock */
	struct mutex split_lock;
	struct rw_semaphore lock;
	struct iolab_pt pt;
	spinlock_t iotlb_lock; /* protects @iotlb */
	struct mock_iotlb_entry iotlb[MOCK_IOTLB_ENTRIES];
};

struct mock_nested {
	struct iolab_domain domain;
	u64 s1_offset;		/* stage 1: IOVA -> IOVA + s1_offset */
	spinlock_t lock;	/* protects @iotlb */
	u32 iotlb[MOCK_NESTED_DOMAIN_IOTLB_NUM];
};

static const struct iolab_domain_ops mock_paging_ops;
static const struct iolab_domain_ops mock_nested_ops;
static const struct iolab_domain_ops mock_blocked_ops = {};
static const struct iolab_iommu_ops mock_iommu_ops;

struct iolab_domain iolab_mock_blocked_domain = {
	.ops = &mock_blocked_ops,
	.type = IOLAB_DOMAIN_BLOCKED,
};

static DEFINE_IDA(mock_rid_ida);

static struct mock_hwdev *to_mock_hwdev(struct iolab_hwdev *dev)
{
	return container_of(dev, struct mock_hwdev, dev);
}

static struct mock_domain *to_mock_domain(struct iolab_domain *domain)
{
	return container_of(domain, struct mock_domain, domain);
}

static struct mock_nested *to_mock_nested(struct iolab_domain *domain)
{
	return container_of(domain, struct mock_nested, domain);
}

/*
 * Page-table pages for the library: zeroed, charged to the user, and below
 * 2^48 as the library's table entries need (a page above is a failure).
 */
static void *mock_pt_alloc(void *cookie)
{
	void *page = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

	if (page && (virt_to_phys(page) & ~IOLAB_PTE_TABLE_MASK)) {
		free_page((unsigned long)page);
		return NULL;
	}
	return page;
}

static void mock_pt_free(void *cookie, void *table)
{
	free_page((unsigned long)table);
}

static u64 mock_pt_virt_to_phys(void *cookie, void *table)
{
	return virt_to_phys(table);
}

static const struct iolab_pt_ops mock_pt_ops = {
	.alloc_table = mock_pt_alloc,
	.free_table = mock_pt_free,
	.virt_to_phys = mock_pt_virt_to_phys,
	/* NULL: the direct map, called inline by the library */
	.phys_to_virt = NULL,
};

/* The page-table format a device of @flags uses. */
static void mock_flavour_cfg(u32 flags, struct iolab_pt_cfg *cfg,
			     u64 *aperture_end)
{
	if (flags & IOMMULAB_MOCK_DEV_4K) {
		cfg->leaf_shift = 12;
		cfg->ias = 48;
		cfg->leaf_sizes = SZ_4K | SZ_2M | SZ_1G;
		*aperture_end = (1ULL << 48) - 1;
	} else {
		cfg->leaf_shift = ilog2(MOCK_SELFTEST_PGSIZE);
		cfg->ias = 32;
		cfg->leaf_sizes = MOCK_SELFTEST_PGSIZE;
		if (flags & MOCK_FLAGS_DEVICE_HUGE_IOVA)
			cfg->leaf_sizes |= MOCK_SELFTEST_HUGE;
		*aperture_end = MOCK_APERTURE_LAST;
	}
}

/* Flags that make two devices need different page-table formats. */
static u32 mock_flavour_of(u32 dev_flags)
{
	return dev_flags & IOMMULAB_MOCK_DEV_4K;
}

static struct iolab_domain *mock_domain_alloc_paging(struct iolab_hwdev *dev,
						     u32 flags)
{
	struct mock_hwdev *mdev = to_mock_hwdev(dev);
	struct iolab_pt_cfg cfg;
	struct mock_domain *mock;
	int rc;

	if (flags & ~(IOLAB_DOMAIN_NEST_PARENT | IOLAB_DOMAIN_DIRTY_TRACKING))
		return ERR_PTR(-EOPNOTSUPP);
	if ((flags & IOLAB_DOMAIN_DIRTY_TRACKING) &&
	    (mdev->flags & MOCK_FLAGS_DEVICE_NO_DIRTY))
		return ERR_PTR(-EOPNOTSUPP);

	mock = kzalloc(sizeof(*mock), GFP_KERNEL_ACCOUNT);
	if (!mock)
		return ERR_PTR(-ENOMEM);
	mock->flavour = mock_flavour_of(mdev->flags);
	mock->nest_parent = flags & IOLAB_DOMAIN_NEST_PARENT;
	mock->enforce_dirty = flags & IOLAB_DOMAIN_DIRTY_TRACKING;
	mock->domain.dirty_capable = mock->enforce_dirty;
	mock_flavour_cfg(mdev->flags, &cfg, &mock->domain.aperture_end);
	rc = iolab_pt_init(&mock->pt, &cfg, &mock_pt_ops, mock);
	if (rc) {
		kfree(mock);
		return ERR_PTR(rc);
	}
	init_rwsem(&mock->lock);
	mutex_init(&mock->split_lock);
	spin_lock_init(&mock->iotlb_lock);
	mock->domain.ops = &mock_paging_ops;
	mock->domain.type = IOLAB_DOMAIN_PAGING;
	mock->domain.pgsize_bitmap = cfg.leaf_sizes;
	mock->domain.aperture_start = MOCK_APERTURE_START;
	return &mock->domain;
}

static void mock_domain_free(struct iolab_domain *domain)
{
	struct mock_domain *mock = to_mock_domain(domain);

	iolab_pt_destroy(&mock->pt);
	mutex_destroy(&mock->split_lock);
	kfree(mock);
}

static int mock_domain_map_pages(struct iolab_domain *domain, u64 iova,
				 u64 paddr, u64 len, int prot)
{
	struct mock_domain *mock = to_mock_domain(domain);
	unsigned int pt_prot = 0;
	int rc;

	if (prot & IOLAB_IOMMU_READ)
		pt_prot |= IOLAB_PT_READ;
	if (prot & IOLAB_IOMMU_WRITE)
		pt_prot |= IOLAB_PT_WRITE;
	down_write(&mock->lock);
	rc = iolab_pt_map(&mock->pt, iova, paddr, len, pt_prot, NULL);
	up_write(&mock->lock);
	return rc;
}

static void mock_iotlb_flush(struct mock_domain *mock, u64 iova, u64 len)
{
	u64 first = iova >> mock->pt.cfg.leaf_shift;
	u64 last = (iova + len - 1) >> mock->pt.cfg.leaf_shift;
	unsigned int i;

	spin_lock(&mock->iotlb_lock);
	for (i = 0; i != MOCK_IOTLB_ENTRIES; i++)
		if (mock->iotlb[i].iova_pfn >= first &&
		    mock->iotlb[i].iova_pfn <= last)
			mock->iotlb[i].valid = false;
	spin_unlock(&mock->iotlb_lock);
}

/* The library's view of a bitmap the core gave: the same fields. */
static void mock_pt_dirty(struct iolab_pt_dirty *d,
			  const struct iolab_dirty_bitmap *dirty)
{
	d->iova = dirty->iova;
	d->length = dirty->length;
	d->page_size = dirty->page_size;
	d->bitmap = dirty->bitmap;
	d->nr_dirty = 0;
	d->touched = dirty->touched;
}

static u64 mock_domain_unmap_pages(struct iolab_domain *domain, u64 iova,
				   u64 len, struct iolab_dirty_bitmap *dirty)
{
	struct mock_domain *mock = to_mock_domain(domain);
	struct iolab_pt_dirty d;
	u64 done;

	if (dirty && mock->enforce_dirty)
		mock_pt_dirty(&d, dirty);
	else
		dirty = NULL;
	down_write(&mock->lock);
	done = iolab_pt_unmap(&mock->pt, iova, len, dirty ? &d : NULL);
	up_write(&mock->lock);
	if (dirty)
		dirty->nr_dirty += d.nr_dirty;
	return done;
}

/* Flush, and wait for in-flight DMA: see the file comment. */
static void mock_domain_iotlb_sync(struct iolab_domain *domain, u64 iova,
				   u64 len)
{
	struct mock_domain *mock = to_mock_domain(domain);

	if (!len)
		return;
	down_write(&mock->lock);
	mock_iotlb_flush(mock, iova, len);
	up_write(&mock->lock);
}

static u64 mock_domain_iova_to_phys(struct iolab_domain *domain, u64 iova)
{
	struct mock_domain *mock = to_mock_domain(domain);
	u64 pa = 0;

	down_read(&mock->lock);
	if (iolab_pt_iova_to_phys(&mock->pt, iova, &pa, NULL, NULL))
		pa = 0;
	up_read(&mock->lock);
	return pa;
}

/* Clear every DIRTY bit of the table: one window bit covers it all. */
static void mock_clear_all_dirty(struct mock_domain *mock)
{
	unsigned long bit = 0, mark = 0;
	struct iolab_pt_dirty d = {
		.iova = 0,
		.length = mock->pt.max_iova + 1,
		.page_size = mock->pt.max_iova + 1,
		.bitmap = &bit,
		.touched = &mark,
	};

	iolab_pt_read_dirty(&mock->pt, 0, mock->pt.max_iova + 1, true, &d);
}

static int mock_domain_set_dirty_tracking(struct iolab_domain *domain,
					  bool enable)
{
	struct mock_domain *mock = to_mock_domain(domain);

	if (!mock->enforce_dirty)
		return -EOPNOTSUPP;
	down_write(&mock->lock);
	/* Every enable starts clean, also one while tracking (as upstream) */
	if (enable) {
		mock_clear_all_dirty(mock);
		/* Cached write translations never set DIRTY: walk again. */
		mock_iotlb_flush(mock, 0, mock->pt.max_iova + 1);
	}
	mock->dirty_tracking = enable;
	up_write(&mock->lock);
	return 0;
}

static int mock_domain_read_and_clear_dirty(struct iolab_domain *domain,
					    u64 iova, u64 len, bool clear,
					    struct iolab_dirty_bitmap *dirty)
{
	struct mock_domain *mock = to_mock_domain(domain);
	struct iolab_pt_dirty d;
	int rc;

	if (!mock->enforce_dirty)
		return -EOPNOTSUPP;
	mock_pt_dirty(&d, dirty);
	down_read(&mock->lock);
	if (mock->dirty_tracking)
		rc = iolab_pt_read_dirty(&mock->pt, iova, len, clear, &d);
	else
		rc = -EINVAL;
	up_read(&mock->lock);
	dirty->nr_dirty += d.nr_dirty;
	return rc;
}

static int mock_count_leaf(void *arg, const struct iolab_pt_leaf *leaf)
{
	(*(u64 *)arg)++;
	return 0;
}

/* IOPTEs intersecting [@iova, @iova + @len); the caller holds the lock. */
static u64 mock_count_leaves(struct mock_domain *mock, u64 iova, u64 len)
{
	u64 n = 0;

	iolab_pt_walk_leaves(&mock->pt, iova, len, mock_count_leaf, &n);
	return n;
}

static int mock_domain_split(struct iolab_domain *domain, u64 iova, u64 len,
			     u64 leaf_size, u64 *before, u64 *after)
{
	struct mock_domain *mock = to_mock_domain(domain);
	int rc;

	mutex_lock(&mock->split_lock);
	down_read(&mock->lock);
	*before = mock_count_leaves(mock, iova, len);
	rc = iolab_pt_split(&mock->pt, iova, len, leaf_size);
	*after = mock_count_leaves(mock, iova, len);
	/*
	 * The translation is the same, but cached entries name the old leaf
	 * size. A walk racing the split may cache it again; it stays correct.
	 */
	if (!rc)
		mock_iotlb_flush(mock, iova, len);
	up_read(&mock->lock);
	mutex_unlock(&mock->split_lock);
	return rc;
}

static int mock_domain_merge(struct iolab_domain *domain, u64 iova, u64 len,
			     u64 *before, u64 *after)
{
	struct mock_domain *mock = to_mock_domain(domain);
	int rc;

	down_write(&mock->lock);
	*before = mock_count_leaves(mock, iova, len);
	rc = iolab_pt_merge(&mock->pt, iova, len);
	*after = mock_count_leaves(mock, iova, len);
	/* Cached translations name the old, smaller IOPTEs' sizes. */
	if (!rc)
		mock_iotlb_flush(mock, iova, len);
	up_write(&mock->lock);
	return rc;
}

/* Set bits of one IOMMU_TEST_OP_DIRTY batch, under mock_domain.lock */
#define MOCK_DIRTY_BATCH 4096

/**
 * iolab_mock_domain_set_dirty() - IOMMU_TEST_OP_DIRTY: mark pages dirty
 * @domain: a paging domain of the mock
 * @iova: the IOVA of bit 0 of @bitmap
 * @page_size: bytes per bit
 * @bitmap: bit i set: mark the IOPTE of @iova + i * @page_size dirty, as a
 *	    DMA write would (its summary bits included)
 * @nbits: bits in @bitmap
 * @count: set to the number of bits whose IOVA is mapped and was marked
 *
 * The lock is taken for read per batch of set bits, and the CPU yielded
 * between batches. A page is only marked while the domain tracks dirty
 * pages.
 *
 * Return: 0, or -EINVAL if @domain is not the mock's.
 */
int iolab_mock_domain_set_dirty(struct iolab_domain *domain, u64 iova,
				u64 page_size, const unsigned long *bitmap,
				u64 nbits, u64 *count)
{
	struct mock_domain *mock;
	unsigned long i = 0;
	unsigned int n;

	*count = 0;
	if (domain->ops != &mock_paging_ops)
		return -EINVAL;
	mock = to_mock_domain(domain);
	for (;;) {
		i = find_next_bit(bitmap, nbits, i);
		if (i >= nbits)
			return 0;
		down_read(&mock->lock);
		for (n = 0; i < nbits && n < MOCK_DIRTY_BATCH; n++) {
			if (mock->dirty_tracking &&
			    !iolab_pt_set_dirty(&mock->pt, iova + i * page_size))
				(*count)++;
			i = find_next_bit(bitmap, nbits, i + 1);
		}
		up_read(&mock->lock);
		cond_resched();
	}
}

/* Bytes of IOVA one IOMMULAB_TEST_OP_READ_IOPTES step reads under the lock */
#define MOCK_READ_STEP SZ_1G

/**
 * iolab_mock_domain_read_ioptes() - read every IOPTE of a range
 * @domain: a paging domain of the mock
 * @iova: first IOVA
 * @len: bytes, not 0
 * @nr_leaves: set to the IOPTEs (leaves) read
 *
 * The plain read of the harvest benchmark: the same IOPTE memory a harvest
 * reads, walked the same way, in steps of MOCK_READ_STEP (as a harvest goes
 * by chunks), the lock taken for read per step.
 *
 * Return: 0; -EINVAL if @domain is not the mock's or @len is 0; -EOVERFLOW
 * if the range wraps; -ERANGE beyond the table; -EINTR on a fatal signal.
 */
int iolab_mock_domain_read_ioptes(struct iolab_domain *domain, u64 iova,
				  u64 len, u64 *nr_leaves)
{
	struct mock_domain *mock;
	u64 last, cur = iova;
	int rc;

	*nr_leaves = 0;
	if (domain->ops != &mock_paging_ops || !len)
		return -EINVAL;
	if (check_add_overflow(iova, len - 1, &last))
		return -EOVERFLOW;
	mock = to_mock_domain(domain);
	if (last > mock->pt.max_iova)
		return -ERANGE;
	for (;;) {
		u64 end = min(last, cur | (MOCK_READ_STEP - 1));
		u64 n;

		down_read(&mock->lock);
		rc = iolab_pt_read_leaves(&mock->pt, cur, end - cur + 1, &n);
		up_read(&mock->lock);
		if (rc)
			return rc;
		*nr_leaves += n;
		if (end == last)
			return 0;
		if (fatal_signal_pending(current))
			return -EINTR;
		cur = end + 1;
		cond_resched();
	}
}

/* Whether @domain is the mock's and tracks dirty pages now. */
bool iolab_mock_domain_tracking(struct iolab_domain *domain)
{
	struct mock_domain *mock;
	bool on;

	if (domain->ops != &mock_paging_ops)
		return false;
	mock = to_mock_domain(domain);
	down_read(&mock->lock);
	on = mock->dirty_tracking;
	up_read(&mock->lock);
	return on;
}

static const struct iolab_domain_ops mock_paging_ops = {
	.map_pages = mock_domain_map_pages,
	.unmap_pages = mock_domain_unmap_pages,
	.iova_to_phys = mock_domain_iova_to_phys,
	.iotlb_sync = mock_domain_iotlb_sync,
	.set_dirty_tracking = mock_domain_set_dirty_tracking,
	.dirty_tracking = iolab_mock_domain_tracking,
	.read_and_clear_dirty = mock_domain_read_and_clear_dirty,
	.split = mock_domain_split,
	.merge = mock_domain_merge,
	.free = mock_domain_free,
};

/*
 * Copy one driver-data structure from user space with upstream's rule
 * for them (iommu_copy_struct_from_user()): @len must hold at least the
 * mandatory part (@min bytes) and at most the whole structure (@size
 * bytes); anything else is EINVAL, never a silent zero fill or E2BIG.
 */
static int mock_copy_user_data(void *dst, size_t size, size_t min,
			       const void __user *src, u32 len)
{
	if (len < min || len > size)
		return -EINVAL;
	return copy_struct_from_user(dst, size, src, len);
}

/*
 * Nested domains take upstream's selftest data (stage 1 is the identity)
 * or iommulab's, whose stage 1 adds a fixed offset to every IOVA: a
 * stand-in for a guest page table that tests can reason about.
 */
static struct iolab_domain *
mock_domain_alloc_nested(struct iolab_hwdev *dev, struct iolab_domain *parent,
			 u32 data_type, const void __user *data, u32 data_len)
{
	struct iommulab_hwpt_mock_s1 s1 = {};
	struct mock_nested *nested;
	unsigned int i;
	int rc;

	if (parent->ops != &mock_paging_ops ||
	    !to_mock_domain(parent)->nest_parent)
		return ERR_PTR(-EINVAL);

	switch (data_type) {
	case IOMMU_HWPT_DATA_SELFTEST: {
		struct iommu_hwpt_selftest st;

		rc = mock_copy_user_data(&st, sizeof(st),
					 offsetofend(typeof(st), iotlb), data,
					 data_len);
		s1.iotlb = st.iotlb;
		break;
	}
	case IOMMULAB_HWPT_DATA_MOCK_S1:
		rc = mock_copy_user_data(&s1, sizeof(s1),
					 offsetofend(typeof(s1), s1_offset),
					 data, data_len);
		if (!rc && s1.flags)
			rc = -EOPNOTSUPP;
		break;
	default:
		return ERR_PTR(-EOPNOTSUPP);
	}
	if (rc)
		return ERR_PTR(rc);

	nested = kzalloc(sizeof(*nested), GFP_KERNEL_ACCOUNT);
	if (!nested)
		return ERR_PTR(-ENOMEM);
	nested->domain.ops = &mock_nested_ops;
	nested->domain.type = IOLAB_DOMAIN_NESTED;
	nested->domain.parent = parent;
	nested->domain.pgsize_bitmap = parent->pgsize_bitmap;
	nested->domain.aperture_start = parent->aperture_start;
	nested->domain.aperture_end = parent->aperture_end;
	nested->s1_offset = s1.s1_offset;
	spin_lock_init(&nested->lock);
	for (i = 0; i != MOCK_NESTED_DOMAIN_IOTLB_NUM; i++)
		nested->iotlb[i] = s1.iotlb;
	return &nested->domain;
}

static void mock_nested_free(struct iolab_domain *domain)
{
	kfree(to_mock_nested(domain));
}

static int mock_nested_invalidate(struct iolab_domain *domain,
				  const void __user *data, u32 data_type,
				  u32 entry_len, u32 entry_num, u32 *done)
{
	struct mock_nested *nested = to_mock_nested(domain);
	u32 i, j;
	int rc = 0;

	*done = 0;
	if (data_type != IOMMU_HWPT_INVALIDATE_DATA_SELFTEST)
		return -EINVAL;
	for (i = 0; i != entry_num; i++) {
		struct iommu_hwpt_invalidate_selftest inv;

		rc = mock_copy_user_data(&inv, sizeof(inv),
					 offsetofend(typeof(inv), iotlb_id),
					 data + (size_t)i * entry_len,
					 entry_len);
		if (rc)
			break;
		if (inv.flags & ~IOMMU_TEST_INVALIDATE_FLAG_ALL) {
			rc = -EOPNOTSUPP;
			break;
		}
		/* As upstream: checked even when FLAG_ALL ignores the ID. */
		if (inv.iotlb_id > MOCK_NESTED_DOMAIN_IOTLB_ID_MAX) {
			rc = -EINVAL;
			break;
		}
		spin_lock(&nested->lock);
		if (inv.flags & IOMMU_TEST_INVALIDATE_FLAG_ALL) {
			for (j = 0; j != MOCK_NESTED_DOMAIN_IOTLB_NUM; j++)
				nested->iotlb[j] = 0;
		} else {
			nested->iotlb[inv.iotlb_id] = 0;
		}
		spin_unlock(&nested->lock);
		(*done)++;
		/* entry_num is the user's: no spinlock is held here. */
		cond_resched();
	}
	return rc;
}

static const struct iolab_domain_ops mock_nested_ops = {
	.cache_invalidate_user = mock_nested_invalidate,
	.free = mock_nested_free,
};

/* MD_CHECK_IOTLB: one entry of a nested domain's mock IOTLB. */
int iolab_mock_nested_iotlb(struct iolab_domain *domain, u32 id, u32 *val)
{
	struct mock_nested *nested;

	if (domain->ops != &mock_nested_ops)
		return -EINVAL;
	if (id > MOCK_NESTED_DOMAIN_IOTLB_ID_MAX)
		return -EINVAL;
	nested = to_mock_nested(domain);
	spin_lock(&nested->lock);
	*val = nested->iotlb[id];
	spin_unlock(&nested->lock);
	return 0;
}

/* Whether @domain may translate for @mdev: same table format, dirty ok. */
static int mock_check_compat(struct iolab_domain *domain, struct mock_hwdev *mdev)
{
	struct mock_domain *mock;

	if (domain->type == IOLAB_DOMAIN_BLOCKED)
		return 0;
	if (domain->type == IOLAB_DOMAIN_NESTED)
		domain = domain->parent;
	if (domain->ops != &mock_paging_ops)
		return -EINVAL;
	mock = to_mock_domain(domain);
	if (mock->flavour != mock_flavour_of(mdev->flags))
		return -EINVAL;
	if (mock->enforce_dirty && (mdev->flags & MOCK_FLAGS_DEVICE_NO_DIRTY))
		return -EINVAL;
	return 0;
}

static int mock_attach_dev(struct iolab_domain *domain, struct iolab_hwdev *dev)
{
	struct mock_hwdev *mdev = to_mock_hwdev(dev);
	int rc;

	rc = mock_check_compat(domain, mdev);
	if (rc)
		return rc;
	down_write(&mdev->ctx_rwsem);
	mdev->rid_domain = domain;
	up_write(&mdev->ctx_rwsem);
	return 0;
}

/*
 * IOMMU_TEST_PASID_RESERVED fails every second attach to it (a replace, in
 * upstream's tests) with ENOMEM, as upstream's mock does; removing the
 * PASID's translation disarms it. Under ctx_rwsem taken for write.
 */
static bool mock_pasid_reserved_fails(struct mock_hwdev *mdev, u32 pasid)
{
	return pasid == IOMMU_TEST_PASID_RESERVED &&
	       atomic_xchg(&mdev->pasid_reserved_armed, 0);
}

static int mock_set_dev_pasid(struct iolab_domain *domain,
			      struct iolab_hwdev *dev, u32 pasid)
{
	struct mock_hwdev *mdev = to_mock_hwdev(dev);
	bool remove = domain->type == IOLAB_DOMAIN_BLOCKED;
	int rc = 0;

	if (!(mdev->flags & MOCK_FLAGS_DEVICE_PASID) || !pasid ||
	    pasid >= BIT(MOCK_PASID_WIDTH))
		return -EINVAL;
	if (!remove) {
		rc = mock_check_compat(domain, mdev);
		if (rc)
			return rc;
	}
	down_write(&mdev->ctx_rwsem);
	if (remove) {
		xa_erase(&mdev->pasids, pasid);
		atomic_set(&mdev->pasid_reserved_armed, 0);
	} else if (mock_pasid_reserved_fails(mdev, pasid)) {
		rc = -ENOMEM;
	} else {
		rc = xa_err(xa_store(&mdev->pasids, pasid, domain,
				     GFP_KERNEL_ACCOUNT));
		if (!rc && pasid == IOMMU_TEST_PASID_RESERVED)
			atomic_set(&mdev->pasid_reserved_armed, 1);
	}
	up_write(&mdev->ctx_rwsem);
	return rc;
}

static bool mock_capable(struct iolab_hwdev *dev, enum iolab_iommu_cap cap)
{
	struct mock_hwdev *mdev = to_mock_hwdev(dev);

	switch (cap) {
	case IOLAB_CAP_DIRTY_TRACKING:
		return !(mdev->flags & MOCK_FLAGS_DEVICE_NO_DIRTY);
	case IOLAB_CAP_IOPF:
		return !(mdev->flags & IOMMULAB_MOCK_DEV_NO_IOPF);
	case IOLAB_CAP_PRI:
		return mdev->flags & IOMMULAB_MOCK_DEV_PRI;
	}
	return false;
}

static u32 mock_hw_info(struct iolab_hwdev *dev, void *data, u32 len, u32 *type)
{
	struct iommu_test_hw_info info = {
		.test_reg = IOMMU_HW_INFO_SELFTEST_REGVAL,
	};

	len = min_t(u32, len, sizeof(info));
	memcpy(data, &info, len);
	*type = IOMMU_HW_INFO_TYPE_SELFTEST;
	return len;
}

static u8 mock_max_pasid_log2(struct iolab_hwdev *dev)
{
	return to_mock_hwdev(dev)->flags & MOCK_FLAGS_DEVICE_PASID ?
		       MOCK_PASID_WIDTH : 0;
}

static const struct iolab_iommu_ops mock_iommu_ops = {
	.domain_alloc_paging = mock_domain_alloc_paging,
	.domain_alloc_nested = mock_domain_alloc_nested,
	.blocked_domain = &iolab_mock_blocked_domain,
	.attach_dev = mock_attach_dev,
	.set_dev_pasid = mock_set_dev_pasid,
	.capable = mock_capable,
	.hw_info = mock_hw_info,
	.max_pasid_log2 = mock_max_pasid_log2,
};

/**
 * iolab_mock_hwdev_create() - a new mock device, with a fresh RID
 * @flags: MOCK_FLAGS_DEVICE_* and IOMMULAB_MOCK_DEV_*
 *
 * The device starts with every request blocked.
 */
struct mock_hwdev *iolab_mock_hwdev_create(u32 flags)
{
	struct mock_hwdev *mdev;
	int rid;

	mdev = kzalloc(sizeof(*mdev), GFP_KERNEL_ACCOUNT);
	if (!mdev)
		return ERR_PTR(-ENOMEM);
	rid = ida_alloc_range(&mock_rid_ida, 0x100, 0xffff, GFP_KERNEL_ACCOUNT);
	if (rid < 0) {
		kfree(mdev);
		return ERR_PTR(rid);
	}
	mdev->dev.ops = &mock_iommu_ops;
	mdev->dev.rid = rid;
	mdev->flags = flags;
	mdev->rid_domain = &iolab_mock_blocked_domain;
	init_rwsem(&mdev->ctx_rwsem);
	xa_init(&mdev->pasids);
	return mdev;
}

/* The core has removed every PASID's translation before this. */
void iolab_mock_hwdev_destroy(struct mock_hwdev *mdev)
{
	xa_destroy(&mdev->pasids);
	ida_free(&mock_rid_ida, mdev->dev.rid);
	kfree(mdev);
}

/*
 * Translate one request of the device at @iova through @domain, as far as
 * it stays in one IOPTE; returns the physical address and how many bytes
 * from @iova the same IOPTE covers.
 */
static int mock_translate(struct iolab_domain *domain, u64 iova, bool write,
			  u64 *pa, u64 *span, u64 *iopte, u32 *reason)
{
	struct mock_domain *mock;
	unsigned int i;
	u64 leaf, pfn;
	bool hit = false;
	int rc;

	if (domain->type == IOLAB_DOMAIN_BLOCKED) {
		*reason = IOMMULAB_DMA_FAULT_BLOCKED;
		return -EFAULT;
	}
	if (domain->type == IOLAB_DOMAIN_NESTED) {
		u64 s2;

		if (check_add_overflow(iova, to_mock_nested(domain)->s1_offset,
				       &s2)) {
			*reason = IOMMULAB_DMA_FAULT_NOT_MAPPED;
			return -EFAULT;
		}
		iova = s2;
		domain = domain->parent;
	}
	mock = to_mock_domain(domain);
	if (iova < domain->aperture_start || iova > domain->aperture_end) {
		*reason = IOMMULAB_DMA_FAULT_NOT_MAPPED;
		return -EFAULT;
	}

	pfn = iova >> mock->pt.cfg.leaf_shift;
	i = pfn % MOCK_IOTLB_ENTRIES;
	spin_lock(&mock->iotlb_lock);
	/* Permissions are checked on every hit, as on every walk. */
	if (mock->iotlb[i].valid && mock->iotlb[i].iova_pfn == pfn &&
	    (write ? mock->iotlb[i].writable : mock->iotlb[i].readable)) {
		*pa = mock->iotlb[i].pa +
		      (iova & ((1ULL << mock->pt.cfg.leaf_shift) - 1));
		*iopte = mock->iotlb[i].iopte_size;
		hit = true;
	}
	spin_unlock(&mock->iotlb_lock);
	leaf = 1ULL << mock->pt.cfg.leaf_shift;
	if (!hit) {
		/* Under mock->lock, held for the whole request. */
		rc = iolab_pt_translate(&mock->pt, iova, write,
					mock->dirty_tracking, pa, &leaf);
		if (rc) {
			*reason = rc == -EACCES ? IOMMULAB_DMA_FAULT_PERMISSION :
						  IOMMULAB_DMA_FAULT_NOT_MAPPED;
			return -EFAULT;
		}
		spin_lock(&mock->iotlb_lock);
		mock->iotlb[i].valid = true;
		mock->iotlb[i].iova_pfn = pfn;
		mock->iotlb[i].readable = !write;
		mock->iotlb[i].pa = *pa & ~((1ULL << mock->pt.cfg.leaf_shift) - 1);
		mock->iotlb[i].writable = write;
		mock->iotlb[i].iopte_size = leaf;
		spin_unlock(&mock->iotlb_lock);
		*iopte = leaf;
		/* The IOTLB caches base pages: go on one base page at a time. */
		leaf = 1ULL << mock->pt.cfg.leaf_shift;
	}
	*span = leaf - (iova & (leaf - 1));
	return 0;
}

/* Copy between @buf and physical memory at @pa, within one page. */
static void mock_dma_copy(u64 pa, void *buf, size_t n, bool write)
{
	struct page *page = pfn_to_page(PHYS_PFN(pa));
	void *va = kmap_local_page(page);

	if (write)
		memcpy(va + offset_in_page(pa), buf, n);
	else
		memcpy(buf, va + offset_in_page(pa), n);
	kunmap_local(va);
	if (write)
		set_page_dirty_lock(page);
}

/**
 * iolab_mock_dma() - the device issues a DMA request
 * @mdev: the device
 * @pasid: the PASID of the request, or IOMMULAB_NO_PASID for its RID
 * @iova: the address the device uses
 * @buf: kernel buffer: the data to write, or where read data goes
 * @len: bytes
 * @write: the device writes memory (else it reads)
 * @res: filled in: bytes moved, and the faulting IOVA and reason
 *
 * Moves bytes IOPTE by IOPTE and stops before the first byte whose
 * translation faults: a faulting access never touches memory.
 */
void iolab_mock_dma(struct mock_hwdev *mdev, u32 pasid, u64 iova, void *buf,
		    u64 len, bool write, struct iolab_dma_result *res)
{
	struct iolab_domain *domain;
	struct mock_domain *locked = NULL;

	res->done = 0;
	res->fault_reason = IOMMULAB_DMA_FAULT_NONE;
	res->fault_iova = 0;
	res->max_iopte = 0;

	down_read(&mdev->ctx_rwsem);
	domain = pasid == IOMMULAB_NO_PASID ? mdev->rid_domain :
					      xa_load(&mdev->pasids, pasid);
	if (!domain) {
		res->fault_reason = IOMMULAB_DMA_FAULT_NO_PASID;
		res->fault_iova = iova;
		goto out;
	}
	if (domain->type != IOLAB_DOMAIN_BLOCKED) {
		locked = to_mock_domain(domain->type == IOLAB_DOMAIN_NESTED ?
						domain->parent : domain);
		down_read(&locked->lock);
	}
	while (res->done < len) {
		u64 cur = iova + res->done, pa, span, iopte, n;

		if (cur < iova ||
		    mock_translate(domain, cur, write, &pa, &span, &iopte,
				   &res->fault_reason)) {
			if (res->fault_reason == IOMMULAB_DMA_FAULT_NONE)
				res->fault_reason = IOMMULAB_DMA_FAULT_NOT_MAPPED;
			res->fault_iova = cur;
			break;
		}
		res->max_iopte = max(res->max_iopte, iopte);
		n = min3(span, len - res->done, PAGE_SIZE - offset_in_page(pa));
		mock_dma_copy(pa, buf + res->done, n, write);
		res->done += n;
	}
	if (locked)
		up_read(&locked->lock);
out:
	up_read(&mdev->ctx_rwsem);
}
