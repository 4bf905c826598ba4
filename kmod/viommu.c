// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: vIOMMU objects (IOMMU_VIOMMU_ALLOC), as much of upstream's as
 * PASID attach needs: a selftest-type vIOMMU on a NEST_PARENT HWPT, and
 * nested HWPTs allocated on it. No vDEVICEs, no driver data, no event
 * queues, no hardware queues yet: those calls answer EOPNOTSUPP.
 */
#include <linux/slab.h>

#include <iommulab/iommufd_test.h>

#include "iommu_driver.h"
#include "iommulab_private.h"

/*
 * Upstream's order of checks: flags and the default type, the device, the
 * type the device's IOMMU offers, then the HWPT (which must be a paging
 * one, else ENOENT, and a nesting parent, else EINVAL).
 */
int iolab_viommu_alloc_ioctl(struct iolab_ucmd *ucmd)
{
	struct iommu_viommu_alloc *cmd = ucmd->cmd;
	struct iolab_ctx *ctx = ucmd->ctx;
	struct iolab_viommu *viommu;
	struct iolab_object *obj;
	struct iolab_idev *idev;
	struct iolab_hwpt *hwpt;
	int rc;

	if (cmd->flags || cmd->type == IOMMU_VIOMMU_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	idev = iolab_get_idev(ctx, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	/* The mock IOMMU has one vIOMMU type, and no driver data for it yet. */
	if (cmd->type != IOMMU_VIOMMU_TYPE_SELFTEST || cmd->data_len) {
		rc = -EOPNOTSUPP;
		goto out_idev;
	}
	obj = iolab_get_object(ctx, cmd->hwpt_id, IOLAB_OBJ_HWPT_PAGING);
	if (IS_ERR(obj)) {
		rc = PTR_ERR(obj);
		goto out_idev;
	}
	hwpt = container_of(obj, struct iolab_hwpt, obj);
	if (!hwpt->nest_parent) {
		rc = -EINVAL;
		goto out_hwpt;
	}

	viommu = (struct iolab_viommu *)iolab_object_alloc(ctx, sizeof(*viommu),
							   IOLAB_OBJ_VIOMMU);
	if (IS_ERR(viommu)) {
		rc = PTR_ERR(viommu);
		goto out_hwpt;
	}
	viommu->type = cmd->type;
	refcount_inc(&hwpt->obj.users);
	viommu->parent = hwpt;
	cmd->out_viommu_id = viommu->obj.id;
	rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		iolab_object_abort_destroy(ctx, &viommu->obj);
	else
		iolab_object_finalize(ctx, &viommu->obj);
out_hwpt:
	iolab_put_object(obj);
out_idev:
	iolab_put_object(&idev->obj);
	return rc;
}

void iolab_viommu_destroy(struct iolab_object *obj)
{
	struct iolab_viommu *viommu = container_of(obj, struct iolab_viommu, obj);

	iolab_put_object(&viommu->parent->obj);
}

/**
 * iolab_viommu_alloc_nested() - IOMMU_HWPT_ALLOC with a vIOMMU as pt_id
 * @ctx: the fd
 * @viommu: the vIOMMU; the new HWPT takes a users reference on it
 * @dev: the device the domain must suit
 * @cmd: the user's IOMMU_HWPT_ALLOC
 *
 * A nested HWPT on the vIOMMU's parent, as iolab_hwpt_nested_alloc(), with
 * upstream's rules for a vIOMMU: only the PASID flag (a fault queue would
 * be the other), and data of the selftest type.
 *
 * Return: the HWPT, not yet finalized, or ERR_PTR.
 */
struct iolab_hwpt *iolab_viommu_alloc_nested(struct iolab_ctx *ctx,
					     struct iolab_viommu *viommu,
					     struct iolab_hwdev *dev,
					     struct iommu_hwpt_alloc *cmd)
{
	struct iolab_hwpt *hwpt;

	if (cmd->data_type != IOMMU_HWPT_DATA_SELFTEST && cmd->data_len)
		return ERR_PTR(-EOPNOTSUPP);
	hwpt = iolab_hwpt_nested_alloc(ctx, viommu->parent, dev, cmd);
	if (IS_ERR(hwpt))
		return hwpt;
	refcount_inc(&viommu->obj.users);
	hwpt->viommu = viommu;
	return hwpt;
}
