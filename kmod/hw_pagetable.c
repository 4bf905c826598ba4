// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: HWPT objects. A paging HWPT is an IOMMU domain that mirrors an
 * IOAS (every map and unmap of the IOAS reaches it); a nested HWPT is a
 * user stage 1 on top of a NEST_PARENT paging HWPT.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "iommu_driver.h"
#include "iommulab_private.h"

#define IOLAB_HWPT_ALLOC_FLAGS                                              \
	(IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING |    \
	 IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID)

/* An ERR_PTR from iolab_object_alloc() converts unchanged. */
static_assert(offsetof(struct iolab_hwpt, obj) == 0);

/**
 * iolab_hwpt_paging_alloc() - a paging HWPT mirroring @ioas, for @dev
 * @ctx: the fd
 * @ioas: the IOAS; the HWPT takes a users reference on it
 * @dev: the device the domain must suit
 * @flags: IOMMU_HWPT_ALLOC_NEST_PARENT / _DIRTY_TRACKING / _PASID
 * @auto_domain: made by an attach, destroyed with its last device
 *
 * Return: the HWPT, filled with the IOAS's mappings but not yet finalized.
 */
struct iolab_hwpt *iolab_hwpt_paging_alloc(struct iolab_ctx *ctx,
					   struct iolab_ioas *ioas,
					   struct iolab_hwdev *dev, u32 flags,
					   bool auto_domain)
{
	u32 dflags = 0;
	struct iolab_hwpt *hwpt;
	int rc;

	if (flags & IOMMU_HWPT_ALLOC_NEST_PARENT)
		dflags |= IOLAB_DOMAIN_NEST_PARENT;
	if (flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING)
		dflags |= IOLAB_DOMAIN_DIRTY_TRACKING;

	hwpt = (struct iolab_hwpt *)iolab_object_alloc(ctx, sizeof(*hwpt),
						       IOLAB_OBJ_HWPT_PAGING);
	if (IS_ERR(hwpt))
		return hwpt;
	hwpt->auto_domain = auto_domain;
	hwpt->nest_parent = flags & IOMMU_HWPT_ALLOC_NEST_PARENT;
	hwpt->pasid_compat = flags & IOMMU_HWPT_ALLOC_PASID;
	INIT_LIST_HEAD(&hwpt->ioas_item);
	hwpt->domain = dev->ops->domain_alloc_paging(dev, dflags);
	if (IS_ERR(hwpt->domain)) {
		rc = PTR_ERR(hwpt->domain);
		goto err_abort;
	}
	rc = iolab_iopt_add_domain(&ioas->iopt, hwpt->domain);
	if (rc)
		goto err_free;
	refcount_inc(&ioas->obj.users);
	hwpt->ioas = ioas;
	return hwpt;

err_free:
	hwpt->domain->ops->free(hwpt->domain);
err_abort:
	iolab_object_abort(ctx, &hwpt->obj);
	return ERR_PTR(rc);
}

/* Object destroy; also undoes a HWPT that was never finalized. */
void iolab_hwpt_destroy(struct iolab_object *obj)
{
	struct iolab_hwpt *hwpt = container_of(obj, struct iolab_hwpt, obj);

	iolab_hwpt_put_fault(hwpt);
	if (hwpt->ioas) {
		iolab_iopt_remove_domain(&hwpt->ioas->iopt, hwpt->domain);
		hwpt->domain->ops->free(hwpt->domain);
		iolab_put_object(&hwpt->ioas->obj);
	} else {
		hwpt->domain->ops->free(hwpt->domain);
		iolab_put_object(&hwpt->parent->obj);
		if (hwpt->viommu)
			iolab_put_object(&hwpt->viommu->obj);
	}
}

/**
 * iolab_hwpt_nested_alloc() - a nested HWPT on @parent, for @dev
 * @ctx: the fd
 * @parent: a NEST_PARENT paging HWPT; the new one takes a users reference
 * @dev: the device the domain must suit
 * @cmd: the user's IOMMU_HWPT_ALLOC (flags, data type and data)
 *
 * Return: the HWPT, not yet finalized; EOPNOTSUPP for a flag other than
 * IOMMU_HWPT_ALLOC_PASID or no data, EINVAL if @parent cannot nest, or the
 * driver's error for the data.
 */
struct iolab_hwpt *iolab_hwpt_nested_alloc(struct iolab_ctx *ctx,
					   struct iolab_hwpt *parent,
					   struct iolab_hwdev *dev,
					   struct iommu_hwpt_alloc *cmd)
{
	struct iolab_hwpt *hwpt;
	int rc;

	/*
	 * Upstream's order: what cannot be nested at all (a flag, no data:
	 * DATA_NONE) is EOPNOTSUPP before a parent that cannot be one is
	 * EINVAL.
	 */
	if (cmd->flags & ~(IOMMU_HWPT_ALLOC_PASID | IOMMU_HWPT_FAULT_ID_VALID) ||
	    !cmd->data_len)
		return ERR_PTR(-EOPNOTSUPP);
	if (!parent->nest_parent)
		return ERR_PTR(-EINVAL);

	hwpt = (struct iolab_hwpt *)iolab_object_alloc(ctx, sizeof(*hwpt),
						       IOLAB_OBJ_HWPT_NESTED);
	if (IS_ERR(hwpt))
		return hwpt;
	INIT_LIST_HEAD(&hwpt->ioas_item);
	hwpt->pasid_compat = cmd->flags & IOMMU_HWPT_ALLOC_PASID;
	hwpt->domain = dev->ops->domain_alloc_nested(dev, parent->domain,
						     cmd->data_type,
						     u64_to_user_ptr(cmd->data_uptr),
						     cmd->data_len);
	if (IS_ERR(hwpt->domain)) {
		rc = PTR_ERR(hwpt->domain);
		iolab_object_abort(ctx, &hwpt->obj);
		return ERR_PTR(rc);
	}
	refcount_inc(&parent->obj.users);
	hwpt->parent = parent;
	return hwpt;
}

int iolab_hwpt_alloc_ioctl(struct iolab_ucmd *ucmd)
{
	struct iommu_hwpt_alloc *cmd = ucmd->cmd;
	struct iolab_ctx *ctx = ucmd->ctx;
	struct iolab_hwpt *hwpt = NULL;
	struct iolab_idev *idev;
	struct iolab_object *pt;
	int rc;

	if (cmd->__reserved || cmd->__reserved2)
		return -EOPNOTSUPP;
	if (cmd->flags & ~IOLAB_HWPT_ALLOC_FLAGS)
		return -EOPNOTSUPP;
	/* Data comes exactly with a data type. */
	if (!cmd->data_len != !cmd->data_type)
		return -EINVAL;

	idev = iolab_get_idev(ctx, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	/* As upstream: a pt_id that names nothing is EINVAL, not ENOENT. */
	pt = iolab_get_object(ctx, cmd->pt_id, IOLAB_OBJ_ANY);
	if (IS_ERR(pt)) {
		rc = -EINVAL;
		goto out_idev;
	}

	mutex_lock(&ctx->attach_lock);
	switch (pt->type) {
	case IOLAB_OBJ_IOAS:
		if (cmd->data_type != IOMMU_HWPT_DATA_NONE)
			hwpt = ERR_PTR(-EINVAL);
		/* A stage 2 under nested ones takes no faults, as upstream. */
		else if ((cmd->flags & IOMMU_HWPT_FAULT_ID_VALID) &&
			 (cmd->flags & IOMMU_HWPT_ALLOC_NEST_PARENT))
			hwpt = ERR_PTR(-EOPNOTSUPP);
		else
			hwpt = iolab_hwpt_paging_alloc(ctx,
						       container_of(pt, struct iolab_ioas, obj),
						       iolab_idev_hwdev(idev), cmd->flags,
						       false);
		break;
	case IOLAB_OBJ_HWPT_PAGING:
		hwpt = iolab_hwpt_nested_alloc(ctx,
					       container_of(pt, struct iolab_hwpt, obj),
					       iolab_idev_hwdev(idev), cmd);
		break;
	case IOLAB_OBJ_VIOMMU:
		hwpt = iolab_viommu_alloc_nested(ctx,
						 container_of(pt, struct iolab_viommu, obj),
						 iolab_idev_hwdev(idev), cmd);
		break;
	default:
		hwpt = ERR_PTR(-EINVAL);
	}
	if (IS_ERR(hwpt)) {
		rc = PTR_ERR(hwpt);
		goto out_unlock;
	}
	/* As upstream: the queue is looked up once the HWPT exists. */
	if (cmd->flags & IOMMU_HWPT_FAULT_ID_VALID) {
		struct iolab_hwdev *dev = iolab_idev_hwdev(idev);

		rc = dev->ops->capable(dev, IOLAB_CAP_IOPF) ?
			     iolab_hwpt_set_fault(ctx, hwpt, cmd->fault_id) :
			     -EOPNOTSUPP;
		if (rc) {
			iolab_object_abort_destroy(ctx, &hwpt->obj);
			goto out_unlock;
		}
	}
	cmd->out_hwpt_id = hwpt->obj.id;
	rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		iolab_object_abort_destroy(ctx, &hwpt->obj);
		goto out_unlock;
	}
	iolab_object_finalize(ctx, &hwpt->obj);
out_unlock:
	mutex_unlock(&ctx->attach_lock);
	iolab_put_object(pt);
out_idev:
	iolab_put_object(&idev->obj);
	return rc;
}

/*
 * The most requests one call takes, as upstream's (since the 6.12.96
 * stable update): a bound on how long one call keeps the CPU.
 */
#define IOLAB_HWPT_INVALIDATE_MAX_ENTRIES BIT(19)

/*
 * entry_num is written back however the call ends, 0 when it failed before
 * the first request (as upstream does), so a caller can always tell how
 * many requests took effect.
 */
int iolab_hwpt_invalidate(struct iolab_ucmd *ucmd)
{
	struct iommu_hwpt_invalidate *cmd = ucmd->cmd;
	struct iolab_object *obj;
	struct iolab_hwpt *hwpt;
	u32 done = 0;
	int rc = 0;

	if (cmd->__reserved) {
		rc = -EOPNOTSUPP;
		goto out;
	}
	if (cmd->entry_num &&
	    (!cmd->data_uptr || !cmd->entry_len || cmd->entry_len > PAGE_SIZE ||
	     cmd->entry_num > IOLAB_HWPT_INVALIDATE_MAX_ENTRIES)) {
		rc = -EINVAL;
		goto out;
	}
	/* As upstream: an object of another type is EINVAL, none ENOENT. */
	obj = iolab_get_object(ucmd->ctx, cmd->hwpt_id, IOLAB_OBJ_HWPT_NESTED);
	if (IS_ERR(obj)) {
		rc = iolab_object_exists(ucmd->ctx, cmd->hwpt_id) ? -EINVAL :
								    PTR_ERR(obj);
		goto out;
	}
	hwpt = container_of(obj, struct iolab_hwpt, obj);
	rc = hwpt->domain->ops->cache_invalidate_user(hwpt->domain,
			u64_to_user_ptr(cmd->data_uptr), cmd->data_type,
			cmd->entry_len, cmd->entry_num, &done);
	iolab_put_object(obj);
out:
	cmd->entry_num = done;
	if (iolab_ucmd_respond(ucmd, sizeof(*cmd)))
		return -EFAULT;
	return rc;
}
