// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: IOMMU_TEST_CMD, binary-compatible with upstream's selftest
 * command: its dispatch and the ops on mock domains and devices (the
 * access ops are in access.c), the fd's handles on the mock devices it
 * plugged in (struct iolab_stdev), and IOMMULAB_BENCH_PIN.
 */
#include <linux/anon_inodes.h>
#include <linux/bitmap.h>
#include <linux/file.h>
#include <linux/io.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include <iommulab/iommufd_test.h>

#include "iommu_driver.h"
#include "iommulab_private.h"
#include "mock_iommu.h"

static void iolab_mock_release(struct iolab_hwdev *dev)
{
	iolab_mock_hwdev_destroy(container_of(dev, struct mock_hwdev, dev));
}

/* A new stdev and its mock device, not yet finalized. */
struct iolab_stdev *iolab_stdev_alloc(struct iolab_ctx *ctx,
				      u32 dev_flags,
				      struct iolab_busdev *sibling)
{
	struct iolab_stdev *stdev;
	struct mock_hwdev *mdev;
	int rc;

	stdev = (struct iolab_stdev *)iolab_object_alloc(ctx, sizeof(*stdev),
							 IOLAB_OBJ_SELFTEST);
	if (IS_ERR(stdev))
		return stdev;
	stdev->ctx = ctx;
	mdev = iolab_mock_hwdev_create(dev_flags);
	if (IS_ERR(mdev)) {
		rc = PTR_ERR(mdev);
		goto err_abort;
	}
	stdev->busdev = iolab_busdev_plug(&mdev->dev, iolab_mock_release, ctx,
					  sibling);
	if (IS_ERR(stdev->busdev)) {
		rc = PTR_ERR(stdev->busdev);
		iolab_mock_hwdev_destroy(mdev);
		goto err_abort;
	}
	return stdev;

err_abort:
	iolab_object_abort(ctx, &stdev->obj);
	return ERR_PTR(rc);
}

void iolab_selftest_destroy(struct iolab_object *obj)
{
	struct iolab_stdev *stdev = container_of(obj, struct iolab_stdev, obj);

	if (stdev->idev) {
		iolab_object_unpublish(stdev->ctx, &stdev->idev->obj);
		iolab_put_object(&stdev->idev->obj);
		iolab_object_destroy_wait(&stdev->idev->obj);
	}
	iolab_busdev_unplug(stdev->busdev);
	if (stdev->parent)
		iolab_put_object(&stdev->parent->obj);
}

struct iolab_stdev *iolab_get_stdev(struct iolab_ctx *ctx, u32 id)
{
	struct iolab_object *obj = iolab_get_object(ctx, id, IOLAB_OBJ_SELFTEST);

	if (IS_ERR(obj))
		return ERR_CAST(obj);
	return container_of(obj, struct iolab_stdev, obj);
}

/* How many long-term pins each page of a user range has: upstream's rule. */
static int iolab_test_md_check_refs(struct iommu_test_cmd *cmd)
{
	u64 uptr = cmd->check_refs.uptr, length = cmd->check_refs.length;

	if (length % PAGE_SIZE || uptr % PAGE_SIZE)
		return -EINVAL;
	for (; length; length -= PAGE_SIZE, uptr += PAGE_SIZE) {
		struct page *page;
		long got;

		got = get_user_pages_fast(uptr, 1, 0, &page);
		if (got != 1)
			return got < 0 ? got : -EFAULT;
		if (!PageCompound(page) &&
		    page_ref_count(page) / GUP_PIN_COUNTING_BIAS !=
			    cmd->check_refs.refs) {
			put_page(page);
			return -EIO;
		}
		put_page(page);
		cond_resched();
	}
	return 0;
}

static int iolab_test_add_reserved(struct iolab_ucmd *ucmd,
				   struct iommu_test_cmd *cmd)
{
	struct iolab_ioas *ioas;
	u64 last;
	int rc;

	if (!cmd->add_reserved.length)
		return -EINVAL;
	if (check_add_overflow(cmd->add_reserved.start,
			       cmd->add_reserved.length - 1, &last))
		return -EOVERFLOW;
	ioas = iolab_get_ioas(ucmd->ctx, cmd->id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	rc = iolab_iopt_reserve(&ioas->iopt, cmd->add_reserved.start, last);
	iolab_put_object(&ioas->obj);
	return rc;
}

/* MOCK_DOMAIN(_FLAGS): plug in a device, bind it, attach it to cmd->id. */
/* Unknown bits, or a device that both issues page requests and cannot. */
bool iolab_mock_dev_flags_bad(u32 flags)
{
	return (flags & ~IOLAB_MOCK_DEV_FLAGS) ||
	       ((flags & IOMMULAB_MOCK_DEV_PRI) &&
		(flags & IOMMULAB_MOCK_DEV_NO_IOPF));
}

static int iolab_test_mock_domain(struct iolab_ucmd *ucmd,
				  struct iommu_test_cmd *cmd, u32 dev_flags)
{
	struct iolab_ctx *ctx = ucmd->ctx;
	struct iolab_stdev *stdev;
	struct iolab_idev *idev;
	u32 hwpt_id;
	int rc;

	if (iolab_mock_dev_flags_bad(dev_flags))
		return -EINVAL;
	stdev = iolab_stdev_alloc(ctx, dev_flags, NULL);
	if (IS_ERR(stdev))
		return PTR_ERR(stdev);
	rc = iolab_idev_bind(ctx, stdev->busdev, &idev);
	if (rc)
		goto err_stdev;
	rc = iolab_idev_attach(idev, cmd->id, 0, &hwpt_id);
	if (rc)
		goto err_idev;

	cmd->mock_domain.out_stdev_id = stdev->obj.id;
	cmd->mock_domain.out_hwpt_id = hwpt_id;
	cmd->mock_domain.out_idev_id = idev->obj.id;
	rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto err_idev;
	refcount_inc(&idev->obj.users);
	stdev->idev = idev;
	iolab_object_finalize(ctx, &idev->obj);
	iolab_object_finalize(ctx, &stdev->obj);
	return 0;

err_idev:
	iolab_object_abort_destroy(ctx, &idev->obj);
err_stdev:
	iolab_object_abort_destroy(ctx, &stdev->obj);
	return rc;
}

static int iolab_test_mock_domain_replace(struct iolab_ucmd *ucmd,
					  struct iommu_test_cmd *cmd)
{
	struct iolab_stdev *stdev;
	u32 hwpt_id;
	int rc;

	stdev = iolab_get_stdev(ucmd->ctx, cmd->id);
	if (IS_ERR(stdev))
		return PTR_ERR(stdev);
	if (!stdev->idev) {
		rc = -EINVAL;
		goto out_put;
	}
	rc = iolab_idev_attach(stdev->idev, cmd->mock_domain_replace.pt_id,
			       0, &hwpt_id);
	if (rc)
		goto out_put;
	cmd->mock_domain_replace.pt_id = hwpt_id;
	rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
out_put:
	iolab_put_object(&stdev->obj);
	return rc;
}

/* MD_CHECK_MAP: the HWPT maps [iova, iova + length) onto the user's pages. */
static int iolab_test_md_check_map(struct iolab_ucmd *ucmd,
				   struct iommu_test_cmd *cmd)
{
	u64 iova = cmd->check_map.iova, length = cmd->check_map.length;
	u64 uptr = cmd->check_map.uptr, pgsize, end;
	struct iolab_domain *domain;
	struct iolab_object *obj;
	struct iolab_hwpt *hwpt;
	int rc = 0;

	/*
	 * As upstream: the arguments against its mock IO page (half a CPU
	 * page) first, then the ID, which must be a paging HWPT (a nested
	 * one is ENOENT, like any ID of another type).
	 */
	if ((iova | length | uptr) % (PAGE_SIZE / 2) ||
	    check_add_overflow(uptr, length, &end))
		return -EINVAL;
	obj = iolab_get_object(ucmd->ctx, cmd->id, IOLAB_OBJ_HWPT_PAGING);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	hwpt = container_of(obj, struct iolab_hwpt, obj);
	domain = hwpt->domain;
	pgsize = 1ULL << __ffs(domain->pgsize_bitmap);
	if ((iova | length | uptr) & (pgsize - 1)) {
		rc = -EINVAL;
		goto out_put;
	}
	for (; length; length -= pgsize, iova += pgsize, uptr += pgsize) {
		struct page *page;
		long got;

		got = get_user_pages_fast(uptr, 1, 0, &page);
		if (got != 1) {
			rc = got < 0 ? got : -EFAULT;
			break;
		}
		if (domain->ops->iova_to_phys(domain, iova) !=
		    page_to_phys(page) + offset_in_page(uptr))
			rc = -EINVAL;
		put_page(page);
		if (rc)
			break;
		cond_resched();
	}
out_put:
	iolab_put_object(&hwpt->obj);
	return rc;
}

/*
 * IOMMU_TEST_OP_DIRTY: mark dirty, as DMA writes would, the IOPTE of each
 * page whose bit is set in the user's bitmap; count those that are mapped.
 * Upstream's argument rules; the HWPT must be tracking (EINVAL).
 */
static int iolab_test_dirty(struct iolab_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	u64 iova = cmd->dirty.iova, length = cmd->dirty.length;
	u64 page_size = cmd->dirty.page_size, max, count = 0;
	void __user *uptr = u64_to_user_ptr(cmd->dirty.uptr);
	struct iolab_object *obj;
	struct iolab_hwpt *hwpt;
	unsigned long *tmp;
	int rc;

	if (!page_size || !length || iova % page_size || length % page_size ||
	    !uptr)
		return -EINVAL;
	max = div64_u64(length, page_size);
	if (max > (u64)SZ_16M * BITS_PER_BYTE)
		return -EOVERFLOW;
	obj = iolab_get_object(ucmd->ctx, cmd->id, IOLAB_OBJ_HWPT_PAGING);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	hwpt = container_of(obj, struct iolab_hwpt, obj);
	if (!iolab_mock_domain_tracking(hwpt->domain)) {
		rc = -EINVAL;
		goto out_put;
	}
	/* Up to 16 MiB: past what kmalloc() may be asked without a warning */
	tmp = kvcalloc(BITS_TO_LONGS(max), sizeof(*tmp), GFP_KERNEL_ACCOUNT);
	if (!tmp) {
		rc = -ENOMEM;
		goto out_put;
	}
	if (copy_from_user(tmp, uptr, DIV_ROUND_UP(max, BITS_PER_BYTE))) {
		rc = -EFAULT;
		goto out_free;
	}
	rc = iolab_mock_domain_set_dirty(hwpt->domain, iova, page_size, tmp,
					 max, &count);
	if (rc)
		goto out_free;
	cmd->dirty.out_nr_dirty = count;
	rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
out_free:
	kvfree(tmp);
out_put:
	iolab_put_object(&hwpt->obj);
	return rc;
}

/*
 * IOMMULAB_TEST_OP_READ_IOPTES (iommulab's own op): read every IOPTE of a
 * range of a mock HWPT, changing nothing, and count the leaves: the plain
 * read the harvest benchmark puts next to GET_DIRTY_BITMAP.
 */
static int iolab_test_read_ioptes(struct iolab_ucmd *ucmd,
				  struct iommu_test_cmd *cmd)
{
	struct iolab_object *obj;
	struct iolab_hwpt *hwpt;
	u64 n;
	int rc;

	if (cmd->dirty.flags || cmd->dirty.page_size || cmd->dirty.uptr)
		return -EINVAL;
	obj = iolab_get_object(ucmd->ctx, cmd->id, IOLAB_OBJ_HWPT_PAGING);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	hwpt = container_of(obj, struct iolab_hwpt, obj);
	rc = iolab_mock_domain_read_ioptes(hwpt->domain, cmd->dirty.iova,
					   cmd->dirty.length, &n);
	if (!rc) {
		cmd->dirty.out_nr_dirty = n;
		rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
	}
	iolab_put_object(&hwpt->obj);
	return rc;
}

static int iolab_test_md_check_iotlb(struct iolab_ucmd *ucmd,
				     struct iommu_test_cmd *cmd)
{
	struct iolab_object *obj;
	struct iolab_hwpt *hwpt;
	u32 val;
	int rc;

	/* As upstream: only a nested HWPT has the mock IOTLB (else ENOENT). */
	obj = iolab_get_object(ucmd->ctx, cmd->id, IOLAB_OBJ_HWPT_NESTED);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	hwpt = container_of(obj, struct iolab_hwpt, obj);
	rc = iolab_mock_nested_iotlb(hwpt->domain, cmd->check_iotlb.id, &val);
	if (!rc && val != cmd->check_iotlb.iotlb)
		rc = -EINVAL;
	iolab_put_object(&hwpt->obj);
	return rc;
}

/* The mock device's cache, which nothing invalidates: always the default. */
static int iolab_test_dev_check_cache(struct iolab_ucmd *ucmd,
				      struct iommu_test_cmd *cmd)
{
	struct iolab_idev *idev;
	int rc = 0;

	idev = iolab_get_idev(ucmd->ctx, cmd->id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	if (cmd->check_dev_cache.id > MOCK_DEV_CACHE_ID_MAX ||
	    cmd->check_dev_cache.cache != IOMMU_TEST_DEV_CACHE_DEFAULT)
		rc = -EINVAL;
	iolab_put_object(&idev->obj);
	return rc;
}

/*
 * PASID_ATTACH, _REPLACE, _DETACH and _CHECK_HWPT on a MOCK_DOMAIN device,
 * as upstream's: PASID 0 (IOLAB_RID_PASID) names the RID, and a detach
 * never fails (detaching what is not attached does nothing).
 */
static int iolab_test_pasid(struct iolab_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	struct iolab_stdev *stdev;
	struct iolab_idev *idev;
	u32 pasid, hwpt_id;
	int rc = 0;

	stdev = iolab_get_stdev(ucmd->ctx, cmd->id);
	if (IS_ERR(stdev))
		return PTR_ERR(stdev);
	idev = stdev->idev;
	if (!idev) {
		rc = -EINVAL;
		goto out_put;
	}
	switch (cmd->op) {
	case IOMMU_TEST_OP_PASID_ATTACH:
	case IOMMU_TEST_OP_PASID_REPLACE:
		pasid = cmd->pasid_attach.pasid;
		if (pasid != IOLAB_RID_PASID) {
			rc = iolab_idev_pasid_attach(idev, pasid,
						     cmd->pasid_attach.pt_id,
						     cmd->op == IOMMU_TEST_OP_PASID_REPLACE,
						     false);
			break;
		}
		/* The RID: attach wants it unattached, replace attached. */
		hwpt_id = iolab_idev_pasid_hwpt_id(idev, pasid);
		if (cmd->op == IOMMU_TEST_OP_PASID_ATTACH && hwpt_id)
			rc = -EBUSY;
		else if (cmd->op == IOMMU_TEST_OP_PASID_REPLACE && !hwpt_id)
			rc = -EINVAL;
		else
			rc = iolab_idev_attach(idev, cmd->pasid_attach.pt_id,
					       0, &cmd->pasid_attach.pt_id);
		if (!rc)
			rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
		break;
	case IOMMU_TEST_OP_PASID_DETACH:
		if (cmd->pasid_detach.pasid == IOLAB_RID_PASID)
			iolab_idev_detach(idev);
		else
			iolab_idev_pasid_detach(idev, cmd->pasid_detach.pasid);
		break;
	case IOMMU_TEST_OP_PASID_CHECK_HWPT:
		hwpt_id = iolab_idev_pasid_hwpt_id(idev, cmd->pasid_check.pasid);
		/* hwpt_id 0 asks whether the PASID has no HWPT. */
		if (cmd->pasid_check.hwpt_id) {
			struct iolab_object *obj;

			obj = iolab_get_object(ucmd->ctx, cmd->pasid_check.hwpt_id,
					       IOLAB_OBJ_ANY);
			if (IS_ERR(obj)) {
				rc = PTR_ERR(obj);
				break;
			}
			if (obj->type != IOLAB_OBJ_HWPT_PAGING &&
			    obj->type != IOLAB_OBJ_HWPT_NESTED)
				rc = -EINVAL;
			iolab_put_object(obj);
			if (rc)
				break;
		}
		if (hwpt_id != cmd->pasid_check.hwpt_id)
			rc = -EINVAL;
		break;
	}
out_put:
	iolab_put_object(&stdev->obj);
	return rc;
}

int iolab_test_cmd(struct iolab_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;

	/*
	 * @__reserved is not checked: upstream's test command ignores it, and
	 * a selftest program written for upstream must run here unchanged.
	 */
	switch (cmd->op) {
	case IOMMU_TEST_OP_ADD_RESERVED:
		return iolab_test_add_reserved(ucmd, cmd);
	case IOMMU_TEST_OP_MD_CHECK_REFS:
		return iolab_test_md_check_refs(cmd);
	case IOMMU_TEST_OP_CREATE_ACCESS:
		return iolab_test_create_access(ucmd, cmd);
	case IOMMU_TEST_OP_DESTROY_ACCESS_PAGES:
		return iolab_test_destroy_access_pages(ucmd, cmd);
	case IOMMU_TEST_OP_ACCESS_PAGES:
		return iolab_test_access_pages(ucmd, cmd);
	case IOMMU_TEST_OP_ACCESS_RW:
		return iolab_test_access_rw(ucmd, cmd);
	case IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT:
		WRITE_ONCE(ucmd->ctx->pin_batch,
			   cmd->memory_limit.limit ?: IOLAB_DEFAULT_PIN_BATCH);
		return 0;
	case IOMMU_TEST_OP_ACCESS_REPLACE_IOAS:
		return iolab_test_access_replace_ioas(ucmd, cmd);
	case IOMMU_TEST_OP_MOCK_DOMAIN:
		return iolab_test_mock_domain(ucmd, cmd, 0);
	case IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS:
		return iolab_test_mock_domain(ucmd, cmd,
					      cmd->mock_domain_flags.dev_flags);
	case IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE:
		return iolab_test_mock_domain_replace(ucmd, cmd);
	case IOMMU_TEST_OP_MD_CHECK_MAP:
		return iolab_test_md_check_map(ucmd, cmd);
	case IOMMU_TEST_OP_MD_CHECK_IOTLB:
		return iolab_test_md_check_iotlb(ucmd, cmd);
	case IOMMU_TEST_OP_DEV_CHECK_CACHE:
		return iolab_test_dev_check_cache(ucmd, cmd);
	case IOMMU_TEST_OP_DIRTY:
		return iolab_test_dirty(ucmd, cmd);
	case IOMMU_TEST_OP_PASID_ATTACH:
	case IOMMU_TEST_OP_PASID_REPLACE:
	case IOMMU_TEST_OP_PASID_DETACH:
	case IOMMU_TEST_OP_PASID_CHECK_HWPT:
		return iolab_test_pasid(ucmd, cmd);
	case IOMMULAB_TEST_OP_READ_IOPTES:
		return iolab_test_read_ioptes(ucmd, cmd);
	case IOMMU_TEST_OP_TRIGGER_IOPF:
		return iolab_test_trigger_iopf(ucmd, cmd);
	default:
		return -EOPNOTSUPP;
	}
}

/*
 * IOMMULAB_BENCH_PIN: pin and unpin a user range the way the first domain
 * of an IOAS does, with nothing else, and report the time each took: the
 * reference the IOAS benchmark compares MAP/UNMAP with.
 */
int iolab_bench_pin(struct iolab_ucmd *ucmd)
{
	struct iommulab_bench_pin *cmd = ucmd->cmd;
	struct iolab_pages *pages;
	u64 t0, t1;

	if (cmd->flags & ~IOMMULAB_BENCH_PIN_WRITE)
		return -EOPNOTSUPP;
	int rc;

	pages = iolab_pages_alloc_user(ucmd->ctx, cmd->uptr, cmd->length,
				       cmd->flags & IOMMULAB_BENCH_PIN_WRITE);
	if (IS_ERR(pages))
		return PTR_ERR(pages);
	t0 = ktime_get_ns();
	rc = iolab_pages_pin_get(pages);
	t1 = ktime_get_ns();
	if (!rc)
		iolab_pages_pin_put(pages);
	cmd->out_pin_ns = t1 - t0;
	cmd->out_unpin_ns = ktime_get_ns() - t1;
	iolab_pages_put(pages);
	if (rc)
		return rc;
	return iolab_ucmd_respond(ucmd, sizeof(*cmd));
}

