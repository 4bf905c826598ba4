// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: the aux-domain path (the API Linux had until 5.18:
 * iommu_aux_attach_device(), iommu_aux_get_pasid()), next to the PASID
 * attach path of device.c, on the same mock hardware.
 *
 * Attaching a paging HWPT to a device "as aux" gives the domain a default
 * PASID, which the kernel picks, and programs the device's PASID table
 * with it; the caller learns the PASID and programs its hardware (a work
 * queue, an mdev) to tag its requests with it. The aux fact lives on the
 * domain: one domain aux-attached to several devices keeps one default
 * PASID, taken at its first aux attach and given back at its last aux
 * detach. The old API's rules hold: a domain aux-attached to a device is
 * not also that device's RID domain (EBUSY), nor the reverse; attaching
 * it twice to one device is EBUSY.
 *
 * The default PASID comes from the fd's IOASID set (ioasid.c), counted in
 * its quota, or from the system space when the fd has no set; only the
 * kernel frees it.
 *
 * Everything here is under the fd's attach_lock (iolab_hwpt.aux_pasid and
 * .nr_aux, the device's PASID table), as device.c's attaches are.
 */
#include "iommulab_private.h"

/* Whether @hwpt is aux-attached to @idev. Holds ctx->attach_lock. */
bool iolab_aux_attached(struct iolab_idev *idev, struct iolab_hwpt *hwpt)
{
	lockdep_assert_held(&idev->ctx->attach_lock);
	return hwpt->nr_aux &&
	       xa_load(&idev->pasids, hwpt->aux_pasid) == hwpt &&
	       xa_get_mark(&idev->pasids, hwpt->aux_pasid, IOLAB_PASID_AUX);
}

static int iolab_aux_attach(struct iolab_idev *idev, struct iolab_hwpt *hwpt,
			    u32 *pasid)
{
	bool first = !hwpt->nr_aux;
	u32 id = hwpt->aux_pasid;
	int rc;

	lockdep_assert_held(&idev->ctx->attach_lock);
	if (hwpt->dying)
		return -ENOENT;
	if (idev->hwpt == hwpt || iolab_aux_attached(idev, hwpt))
		return -EBUSY;
	/* Checked with any PASID: the device's support and its group. */
	rc = iolab_idev_pasid_ok(idev, 1);
	if (rc)
		return rc;
	if (first) {
		rc = iolab_ioasid_alloc(idev->ctx, true, &id);
		if (rc)
			return rc;
	}
	rc = iolab_idev_pasid_install(idev, id, hwpt, IOLAB_PASID_AUX);
	if (rc) {
		if (first)
			iolab_ioasid_free(id);
		return rc;
	}
	hwpt->aux_pasid = id;
	hwpt->nr_aux++;
	*pasid = id;
	return 0;
}

/**
 * iolab_aux_detach_locked() - @hwpt stops being aux-attached to @idev
 * @idev: the device
 * @hwpt: a HWPT aux-attached to it
 *
 * Holds ctx->attach_lock. The last aux detach of the domain gives its
 * default PASID back.
 */
static void __iolab_aux_detach(struct iolab_idev *idev, struct iolab_hwpt *hwpt,
			       bool notify)
{
	u32 pasid = hwpt->aux_pasid;

	lockdep_assert_held(&idev->ctx->attach_lock);
	iolab_idev_pasid_uninstall(idev, pasid);
	if (notify)
		iolab_notify_dev(idev, IOMMULAB_EVENT_AUX_DETACH, pasid, 0,
				 hwpt->obj.id);
	if (!--hwpt->nr_aux) {
		iolab_ioasid_free(pasid);
		hwpt->aux_pasid = 0;
	}
	iolab_put_object(&hwpt->obj);
}

void iolab_aux_detach_locked(struct iolab_idev *idev, struct iolab_hwpt *hwpt)
{
	__iolab_aux_detach(idev, hwpt, true);
}

typedef int (*iolab_aux_fn)(struct iolab_ucmd *ucmd, struct iolab_idev *idev,
			    struct iolab_hwpt *hwpt);

/*
 * Runs @fn of an IOMMULAB_AUX_* call under the fd's attach_lock, with a
 * reference on its device and its HWPT. The HWPT must be a paging one made
 * by IOMMU_HWPT_ALLOC: a nested HWPT is EINVAL (the old API knew no
 * nesting), and so is an automatic one, which dies with its last RID
 * attachment and must not be held by an aux attachment meanwhile.
 */
static int iolab_aux_call(struct iolab_ucmd *ucmd, iolab_aux_fn fn)
{
	struct iommulab_aux *cmd = ucmd->cmd;
	struct iolab_ctx *ctx = ucmd->ctx;
	struct iolab_object *obj;
	struct iolab_idev *idev;
	struct iolab_hwpt *hwpt;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	idev = iolab_get_idev(ctx, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	obj = iolab_get_object(ctx, cmd->hwpt_id, IOLAB_OBJ_ANY);
	if (IS_ERR(obj)) {
		rc = PTR_ERR(obj);
		goto out_idev;
	}
	hwpt = container_of(obj, struct iolab_hwpt, obj);
	rc = -EINVAL;
	if (obj->type == IOLAB_OBJ_HWPT_PAGING && !hwpt->auto_domain) {
		mutex_lock(&ctx->attach_lock);
		rc = fn(ucmd, idev, hwpt);
		mutex_unlock(&ctx->attach_lock);
	}
	iolab_put_object(obj);
out_idev:
	iolab_put_object(&idev->obj);
	return rc;
}

static int iolab_aux_attach_fn(struct iolab_ucmd *ucmd,
			       struct iolab_idev *idev, struct iolab_hwpt *hwpt)
{
	struct iommulab_aux *cmd = ucmd->cmd;
	bool first = !hwpt->nr_aux;
	int rc;

	rc = iolab_aux_attach(idev, hwpt, &cmd->out_pasid);
	if (rc)
		return rc;
	rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		/* Undone before anyone was told. */
		__iolab_aux_detach(idev, hwpt, false);
		return rc;
	}
	if (first)
		iolab_ioasid_announce(cmd->out_pasid);
	iolab_notify_dev(idev, IOMMULAB_EVENT_AUX_ATTACH, cmd->out_pasid,
			 hwpt->obj.id, 0);
	return 0;
}

static int iolab_aux_detach_fn(struct iolab_ucmd *ucmd,
			       struct iolab_idev *idev, struct iolab_hwpt *hwpt)
{
	if (!iolab_aux_attached(idev, hwpt))
		return -EINVAL;
	iolab_aux_detach_locked(idev, hwpt);
	return 0;
}

/* aux_get_pasid(domain, device): ENOENT when not aux-attached to it. */
static int iolab_aux_get_pasid_fn(struct iolab_ucmd *ucmd,
				  struct iolab_idev *idev,
				  struct iolab_hwpt *hwpt)
{
	struct iommulab_aux *cmd = ucmd->cmd;

	if (!iolab_aux_attached(idev, hwpt))
		return -ENOENT;
	cmd->out_pasid = hwpt->aux_pasid;
	return iolab_ucmd_respond(ucmd, sizeof(*cmd));
}

int iolab_aux_attach_ioctl(struct iolab_ucmd *ucmd)
{
	return iolab_aux_call(ucmd, iolab_aux_attach_fn);
}

int iolab_aux_detach_ioctl(struct iolab_ucmd *ucmd)
{
	return iolab_aux_call(ucmd, iolab_aux_detach_fn);
}

int iolab_aux_get_pasid_ioctl(struct iolab_ucmd *ucmd)
{
	return iolab_aux_call(ucmd, iolab_aux_get_pasid_fn);
}
