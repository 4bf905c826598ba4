// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: mock sub-devices (seed 001's work queues of a shared device,
 * mdevs) and how their DMA is translated.
 *
 * A sub-device is a device of its own to everything above the IOMMU
 * driver: a busdev with a group of its own, found by a handle outside the
 * RID space, bindable by any fd, attachable like any device. Below, it has
 * no RID: its requests leave with its parent's RID and a PASID, so
 * attaching it programs one entry of the parent's PASID table, by one of
 * the two paths Linux had:
 *
 *   the PASID path	the sub-device gets a PASID of its own from the
 *			binding fd's IOASID set, kept across replaces and
 *			freed by the detach; the HWPT must be PASID-capable
 *			(IOMMU_HWPT_ALLOC_PASID), as upstream's PASID
 *			attach requires.
 *   the aux path	the sub-device uses the HWPT's default PASID, the
 *			one IOMMULAB_AUX_ATTACH gives a domain (aux.c): made
 *			at the domain's first aux user, freed with its last,
 *			so a replace changes the PASID. Any paging HWPT.
 *
 * A parent without PASIDs (or in a group of several, whose PASIDs the
 * IOMMU cannot tell apart) has software-mediated sub-devices instead:
 * nothing is programmed into the IOMMU, and their DMA is copied through
 * the IOAS they are attached to, which maps exactly what they may reach.
 *
 * The driver ops a sub-device shows the core forward domain allocation
 * and the device's capabilities to its parent; it has no PASIDs of its own
 * (the PASID calls refuse it), and the core attaches it through
 * iolab_subdev_attach() instead of attach_dev.
 *
 * Locks (the module's order is in iommulab_private.h):
 *   binding fd's attach_lock	every attach, replace and detach of the
 *				sub-device, as for any device
 *   iolab_subdev.route_rwsem	the route (path, PASID, HWPT ID, IOAS): held
 *				for write while a route changes, for read by
 *				the sub-device's DMA, so that when a detach or
 *				replace returns no request is still using the
 *				old route. Taken under attach_lock, before
 *				the parent's ctx_rwsem and an IOAS's rwsem.
 */
#include <linux/idr.h>
#include <linux/moduleparam.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "iommu_driver.h"
#include "iommulab_private.h"
#include "mock_iommu.h"

static bool subdev_aux;
module_param(subdev_aux, bool, 0644);
MODULE_PARM_DESC(subdev_aux,
		 "Path of a sub-device attach that names none: 0 the PASID path (default), 1 the aux-domain path");

#define IOLAB_SUBDEV_FIRST 0x10000
#define IOLAB_SUBDEV_LAST 0x1ffff
#define IOLAB_MAX_SUBDEVS 8

/* Sub-device handles; one is freed when its sub-device is. */
static DEFINE_IDA(iolab_subdev_ida);

/**
 * struct iolab_subdev - a sub-device and its route
 * @dev: what the core sees: the handle as its RID, iolab_subdev_ops
 * @parent: the parent device (a reference), whose RID and PASID table
 *	    the sub-device's requests use
 * @sw: software-mediated (fixed at creation)
 * @route_rwsem: see the file comment; protects the fields below, which
 *		 change only under the binding fd's attach_lock as well
 * @path: enum iommulab_subdev_path
 * @pasid: the PASID on the parent (routed paths), else 0
 * @hwpt_id: the HWPT translating it (routed paths), else 0; the HWPT
 *	     itself is the binding's iolab_idev.hwpt
 * @ioas: software-mediated: the IOAS it is attached to (a users
 *	  reference), else NULL
 */
struct iolab_subdev {
	struct iolab_hwdev dev;
	struct iolab_busdev *parent;
	bool sw;
	struct rw_semaphore route_rwsem; /* see above */
	enum iommulab_subdev_path path;
	u32 pasid;
	u32 hwpt_id;
	struct iolab_ioas *ioas;
};

static struct iolab_subdev *to_subdev(struct iolab_hwdev *dev)
{
	return container_of(dev, struct iolab_subdev, dev);
}

static struct iolab_hwdev *subdev_parent(struct iolab_hwdev *dev)
{
	return iolab_busdev_hwdev(to_subdev(dev)->parent);
}

static struct iolab_domain *subdev_domain_alloc_paging(struct iolab_hwdev *dev,
						       u32 flags)
{
	struct iolab_hwdev *parent = subdev_parent(dev);

	return parent->ops->domain_alloc_paging(parent, flags);
}

static struct iolab_domain *
subdev_domain_alloc_nested(struct iolab_hwdev *dev, struct iolab_domain *pd,
			   u32 data_type, const void __user *data, u32 len)
{
	struct iolab_hwdev *parent = subdev_parent(dev);

	return parent->ops->domain_alloc_nested(parent, pd, data_type, data,
						len);
}

/* Only the blocked domain, which a first bind of its group moves it to. */
static int subdev_attach_dev(struct iolab_domain *domain,
			     struct iolab_hwdev *dev)
{
	return domain->type == IOLAB_DOMAIN_BLOCKED ? 0 : -EINVAL;
}

static int subdev_set_dev_pasid(struct iolab_domain *domain,
				struct iolab_hwdev *dev, u32 pasid)
{
	return -EINVAL;
}

static bool subdev_capable(struct iolab_hwdev *dev, enum iolab_iommu_cap cap)
{
	struct iolab_hwdev *parent = subdev_parent(dev);

	return parent->ops->capable(parent, cap);
}

static u32 subdev_hw_info(struct iolab_hwdev *dev, void *data, u32 len,
			  u32 *type)
{
	struct iolab_hwdev *parent = subdev_parent(dev);

	return parent->ops->hw_info(parent, data, len, type);
}

static u8 subdev_max_pasid_log2(struct iolab_hwdev *dev)
{
	return 0;
}

static const struct iolab_iommu_ops iolab_subdev_ops = {
	.domain_alloc_paging = subdev_domain_alloc_paging,
	.domain_alloc_nested = subdev_domain_alloc_nested,
	.blocked_domain = &iolab_mock_blocked_domain,
	.attach_dev = subdev_attach_dev,
	.set_dev_pasid = subdev_set_dev_pasid,
	.capable = subdev_capable,
	.hw_info = subdev_hw_info,
	.max_pasid_log2 = subdev_max_pasid_log2,
};

bool iolab_hwdev_is_subdev(struct iolab_hwdev *dev)
{
	return dev->ops == &iolab_subdev_ops;
}

/* The path of an attach with @flags, or EINVAL. */
static int iolab_subdev_pick_path(struct iolab_subdev *sd, u32 flags,
				  enum iommulab_subdev_path *path)
{
	enum iommulab_subdev_path want;

	if (sd->sw) {
		if (flags)
			return -EINVAL;
		*path = IOMMULAB_SUBDEV_PATH_SW;
		return 0;
	}
	if (flags == (IOMMULAB_ATTACH_SUBDEV_AUX | IOMMULAB_ATTACH_SUBDEV_PASID))
		return -EINVAL;
	if (flags & IOMMULAB_ATTACH_SUBDEV_AUX)
		want = IOMMULAB_SUBDEV_PATH_AUX;
	else if (flags & IOMMULAB_ATTACH_SUBDEV_PASID)
		want = IOMMULAB_SUBDEV_PATH_PASID;
	else if (sd->path != IOMMULAB_SUBDEV_PATH_NONE)
		want = sd->path;
	else
		want = READ_ONCE(subdev_aux) ? IOMMULAB_SUBDEV_PATH_AUX :
					       IOMMULAB_SUBDEV_PATH_PASID;
	/* A replace stays on its path: detach first to change it. */
	if (sd->path != IOMMULAB_SUBDEV_PATH_NONE && want != sd->path)
		return -EINVAL;
	*path = want;
	return 0;
}

/*
 * The sub-device lets go of @hwpt, which it used by @path: the aux path's
 * last user frees the domain's default PASID. An automatic HWPT left with
 * no device is returned in *@dead (see iolab_hwpt_put_attached()).
 */
static void iolab_subdev_unuse(struct iolab_ctx *ctx,
			       enum iommulab_subdev_path path,
			       struct iolab_hwpt *hwpt, struct iolab_hwpt **dead)
{
	if (path == IOMMULAB_SUBDEV_PATH_AUX && !--hwpt->nr_aux) {
		iolab_ioasid_free(hwpt->aux_pasid);
		hwpt->aux_pasid = 0;
	}
	*dead = iolab_hwpt_put_attached(ctx, hwpt);
}

/*
 * Route @idev's sub-device through @hwpt by @path, replacing its current
 * HWPT (of the same path) in one step. EINVAL when the HWPT does not suit
 * (the caller may try another). On failure nothing changed.
 */
static int iolab_subdev_route(struct iolab_idev *idev,
			      enum iommulab_subdev_path path,
			      struct iolab_hwpt *hwpt, struct iolab_hwpt **dead)
{
	struct iolab_subdev *sd = to_subdev(iolab_idev_hwdev(idev));
	struct iolab_hwdev *phw = iolab_busdev_hwdev(sd->parent);
	struct iolab_ctx *ctx = idev->ctx;
	struct iolab_hwpt *old = idev->hwpt;
	u32 old_pasid = sd->pasid, old_id = old ? old->obj.id : 0, pasid;
	bool new_pasid = false, kept;
	int rc;

	lockdep_assert_held(&ctx->attach_lock);
	if (old == hwpt)
		return 0;
	if (hwpt->dying)
		return -ENOENT;
	if (hwpt->obj.type != IOLAB_OBJ_HWPT_PAGING)
		return -EINVAL;
	if (path == IOMMULAB_SUBDEV_PATH_PASID) {
		if (!hwpt->pasid_compat)
			return -EINVAL;
		pasid = old_pasid;
	} else {
		/* The old API's rule: not also the parent's RID domain. */
		if (iolab_busdev_rid_uses(sd->parent, ctx, hwpt))
			return -EBUSY;
		pasid = hwpt->nr_aux ? hwpt->aux_pasid : 0;
	}
	if (!pasid) {
		rc = iolab_ioasid_alloc(ctx, true, &pasid);
		if (rc)
			return rc;
		new_pasid = true;
	}
	kept = old && pasid == old_pasid;
	rc = iolab_busdev_pasid_claim(sd->parent, pasid, sd);
	if (rc)
		goto err_free;

	down_write(&sd->route_rwsem);
	rc = phw->ops->set_dev_pasid(hwpt->domain, phw, pasid);
	if (rc) {
		up_write(&sd->route_rwsem);
		goto err_release;
	}
	if (old && !kept)
		phw->ops->set_dev_pasid(phw->ops->blocked_domain, phw,
					old_pasid);
	sd->path = path;
	sd->pasid = pasid;
	sd->hwpt_id = hwpt->obj.id;
	up_write(&sd->route_rwsem);

	if (old && !kept)
		iolab_busdev_pasid_release(sd->parent, old_pasid, sd);
	if (path == IOMMULAB_SUBDEV_PATH_AUX) {
		hwpt->aux_pasid = pasid;
		hwpt->nr_aux++;
	}
	refcount_inc(&hwpt->obj.users);
	hwpt->nr_devices++;
	idev->hwpt = hwpt;
	if (new_pasid)
		iolab_ioasid_announce(pasid);
	iolab_notify_dev(idev, old ? IOMMULAB_EVENT_RID_REPLACE :
				     IOMMULAB_EVENT_RID_ATTACH,
			 pasid, hwpt->obj.id, old_id);
	if (old) {
		iolab_fault_detached(old, idev, IOLAB_RID_PASID);
		iolab_subdev_unuse(ctx, path, old, dead);
	}
	return 0;

err_release:
	if (!kept)
		iolab_busdev_pasid_release(sd->parent, pasid, sd);
err_free:
	if (new_pasid)
		iolab_ioasid_free(pasid);
	return rc;
}

static int iolab_subdev_route_fn(struct iolab_idev *idev,
				 struct iolab_hwpt *hwpt, void *arg,
				 struct iolab_hwpt **dead)
{
	return iolab_subdev_route(idev, *(enum iommulab_subdev_path *)arg, hwpt,
				  dead);
}

/* Software-mediated: the sub-device's DMA goes through @ioas. */
static int iolab_subdev_attach_sw(struct iolab_idev *idev,
				  struct iolab_object *pt, u32 *hwpt_id)
{
	struct iolab_subdev *sd = to_subdev(iolab_idev_hwdev(idev));
	struct iolab_ioas *ioas, *old;

	if (pt->type != IOLAB_OBJ_IOAS)
		return -EINVAL;
	ioas = container_of(pt, struct iolab_ioas, obj);
	*hwpt_id = 0;
	if (sd->ioas == ioas)
		return 0;
	refcount_inc(&ioas->obj.users);
	down_write(&sd->route_rwsem);
	old = sd->ioas;
	sd->ioas = ioas;
	sd->path = IOMMULAB_SUBDEV_PATH_SW;
	up_write(&sd->route_rwsem);
	iolab_notify_dev(idev, old ? IOMMULAB_EVENT_RID_REPLACE :
				     IOMMULAB_EVENT_RID_ATTACH,
			 IOLAB_RID_PASID, ioas->obj.id, old ? old->obj.id : 0);
	if (old)
		iolab_put_object(&old->obj);
	return 0;
}

/**
 * iolab_subdev_attach() - attach or replace a sub-device's route
 * @idev: the binding of a sub-device
 * @pt: an IOAS or HWPT of the binding fd (the caller's reference)
 * @flags: enum iommulab_attach_flags
 * @hwpt_id: the HWPT now used (0: software-mediated)
 * @dead: an automatic HWPT the sub-device left with no device, for the
 *	  caller to destroy once attach_lock is released
 *
 * Holds the binding fd's attach_lock. Return: 0; EINVAL (the path, a HWPT
 * that does not suit); EBUSY (the PASID is another user's on the parent,
 * or the aux rules); ENOSPC (no PASID left); ENOENT; ENOMEM. On failure
 * the old route stays.
 */
int iolab_subdev_attach(struct iolab_idev *idev, struct iolab_object *pt,
			u32 flags, u32 *hwpt_id, struct iolab_hwpt **dead)
{
	struct iolab_subdev *sd = to_subdev(iolab_idev_hwdev(idev));
	enum iommulab_subdev_path path;
	int rc;

	lockdep_assert_held(&idev->ctx->attach_lock);
	rc = iolab_subdev_pick_path(sd, flags, &path);
	if (rc)
		return rc;
	if (path == IOMMULAB_SUBDEV_PATH_SW)
		return iolab_subdev_attach_sw(idev, pt, hwpt_id);
	switch (pt->type) {
	case IOLAB_OBJ_IOAS:
		/* An automatic HWPT: PASID-capable for the PASID path. */
		return iolab_attach_auto_hwpt(idev,
					      container_of(pt, struct iolab_ioas,
							   obj),
					      path == IOMMULAB_SUBDEV_PATH_PASID ?
						      IOMMU_HWPT_ALLOC_PASID : 0,
					      iolab_subdev_route_fn, &path,
					      hwpt_id, dead);
	case IOLAB_OBJ_HWPT_PAGING:
		rc = iolab_subdev_route(idev, path,
					container_of(pt, struct iolab_hwpt, obj),
					dead);
		if (!rc)
			*hwpt_id = pt->id;
		return rc;
	default:
		return -EINVAL;
	}
}

/**
 * iolab_subdev_detach() - a sub-device loses its route: its DMA faults
 * @idev: the binding of a sub-device
 * @dead: as for iolab_subdev_attach()
 *
 * Holds the binding fd's attach_lock. When this returns, no request of the
 * sub-device reaches the old domain or IOAS. The PASID path's PASID is
 * freed. Return: 0, or EINVAL when it is not attached.
 */
int iolab_subdev_detach(struct iolab_idev *idev, struct iolab_hwpt **dead)
{
	struct iolab_subdev *sd = to_subdev(iolab_idev_hwdev(idev));
	struct iolab_hwdev *phw = iolab_busdev_hwdev(sd->parent);
	enum iommulab_subdev_path path = sd->path;
	struct iolab_hwpt *old = idev->hwpt;
	struct iolab_ioas *ioas;
	u32 pasid = sd->pasid;

	lockdep_assert_held(&idev->ctx->attach_lock);
	if (path == IOMMULAB_SUBDEV_PATH_NONE)
		return -EINVAL;
	down_write(&sd->route_rwsem);
	ioas = sd->ioas;
	if (path != IOMMULAB_SUBDEV_PATH_SW)
		phw->ops->set_dev_pasid(phw->ops->blocked_domain, phw, pasid);
	sd->path = IOMMULAB_SUBDEV_PATH_NONE;
	sd->pasid = 0;
	sd->hwpt_id = 0;
	sd->ioas = NULL;
	up_write(&sd->route_rwsem);

	if (path == IOMMULAB_SUBDEV_PATH_SW) {
		iolab_notify_dev(idev, IOMMULAB_EVENT_RID_DETACH,
				 IOLAB_RID_PASID, 0, ioas->obj.id);
		iolab_put_object(&ioas->obj);
		return 0;
	}
	iolab_busdev_pasid_release(sd->parent, pasid, sd);
	idev->hwpt = NULL;
	iolab_notify_dev(idev, IOMMULAB_EVENT_RID_DETACH, pasid, 0,
			 old->obj.id);
	if (path == IOMMULAB_SUBDEV_PATH_PASID)
		iolab_ioasid_free(pasid);
	iolab_fault_detached(old, idev, IOLAB_RID_PASID);
	iolab_subdev_unuse(idev->ctx, path, old, dead);
	return 0;
}

/* Software-mediated DMA: page by page through the IOAS, to the first fault. */
static void iolab_subdev_dma_sw(struct iolab_ioas *ioas, u64 iova, void *buf,
				u64 len, bool write,
				struct iolab_dma_result *res)
{
	while (res->done < len) {
		u64 cur = iova + res->done;
		u64 n = min_t(u64, len - res->done, PAGE_SIZE - (cur & ~PAGE_MASK));
		int rc;

		rc = iolab_iopt_access_rw(&ioas->iopt, cur, buf + res->done, n,
					  write);
		if (rc) {
			res->fault_iova = cur;
			res->fault_reason = rc == -EPERM ?
						    IOMMULAB_DMA_FAULT_PERMISSION :
						    IOMMULAB_DMA_FAULT_NOT_MAPPED;
			return;
		}
		res->done += n;
	}
}

/**
 * iolab_subdev_dma() - a sub-device's DMA request
 * @ctx: the fd driving it (its group's owner, the binding fd)
 * @dev: the sub-device
 * @tagged: its driver tagged the request with @tag
 * @tag: a vPASID of @ctx's IOASID set, or a PASID
 * @iova: the address
 * @buf: the data
 * @len: bytes
 * @write: the device writes memory
 * @res: what happened
 *
 * The parent puts the sub-device's own PASID on the request, whatever its
 * driver tagged it with: a tag naming another PASID faults, touching
 * nothing. Return: 0; EINVAL for a tag on a software-mediated sub-device.
 */
int iolab_subdev_dma(struct iolab_ctx *ctx, struct iolab_hwdev *dev,
		     bool tagged, u32 tag, u64 iova, void *buf, u64 len,
		     bool write, struct iolab_dma_result *res)
{
	struct iolab_subdev *sd = to_subdev(dev);
	u32 vpasid_of = 0;

	if (tagged && sd->sw)
		return -EINVAL;
	if (tagged)
		vpasid_of = iolab_ioasid_vpasid_lookup(ctx, tag);
	memset(res, 0, sizeof(*res));
	down_read(&sd->route_rwsem);
	switch (sd->path) {
	case IOMMULAB_SUBDEV_PATH_NONE:
		res->fault_reason = IOMMULAB_DMA_FAULT_BLOCKED;
		res->fault_iova = iova;
		break;
	case IOMMULAB_SUBDEV_PATH_SW:
		iolab_subdev_dma_sw(sd->ioas, iova, buf, len, write, res);
		break;
	default:
		if (tagged && tag != sd->pasid && vpasid_of != sd->pasid) {
			res->fault_reason = IOMMULAB_DMA_FAULT_NO_PASID;
			res->fault_iova = iova;
			break;
		}
		iolab_mock_dma(container_of(iolab_busdev_hwdev(sd->parent),
					    struct mock_hwdev, dev),
			       sd->pasid, iova, buf, len, write, res);
	}
	up_read(&sd->route_rwsem);
	return 0;
}

/* busdev release: the last binding of the sub-device is gone. */
static void iolab_subdev_release(struct iolab_hwdev *dev)
{
	struct iolab_subdev *sd = to_subdev(dev);

	ida_free(&iolab_subdev_ida, dev->rid);
	iolab_busdev_put(sd->parent);
	kfree(sd);
}

/* A new sub-device of @parent and its stdev, not yet finalized. */
static struct iolab_stdev *iolab_subdev_new(struct iolab_ctx *ctx,
					    struct iolab_stdev *parent,
					    bool sw)
{
	struct iolab_stdev *stdev;
	struct iolab_subdev *sd;
	int handle, rc;

	stdev = (struct iolab_stdev *)iolab_object_alloc(ctx, sizeof(*stdev),
							 IOLAB_OBJ_SELFTEST);
	if (IS_ERR(stdev))
		return stdev;
	stdev->ctx = ctx;
	sd = kzalloc(sizeof(*sd), GFP_KERNEL_ACCOUNT);
	if (!sd) {
		rc = -ENOMEM;
		goto err_abort;
	}
	handle = ida_alloc_range(&iolab_subdev_ida, IOLAB_SUBDEV_FIRST,
				 IOLAB_SUBDEV_LAST, GFP_KERNEL_ACCOUNT);
	if (handle < 0) {
		rc = handle;
		kfree(sd);
		goto err_abort;
	}
	sd->dev.ops = &iolab_subdev_ops;
	sd->dev.rid = handle;
	sd->sw = sw;
	init_rwsem(&sd->route_rwsem);
	iolab_busdev_get(parent->busdev);
	sd->parent = parent->busdev;
	stdev->busdev = iolab_busdev_plug(&sd->dev, iolab_subdev_release, ctx,
					  NULL);
	if (IS_ERR(stdev->busdev)) {
		rc = PTR_ERR(stdev->busdev);
		iolab_subdev_release(&sd->dev);
		goto err_abort;
	}
	refcount_inc(&parent->obj.users);
	stdev->parent = parent;
	return stdev;

err_abort:
	iolab_object_abort(ctx, &stdev->obj);
	return ERR_PTR(rc);
}

/* IOMMULAB_MOCK_SUBDEV_ALLOC: give a mock device sub-devices. */
int iolab_mock_subdev_alloc(struct iolab_ucmd *ucmd)
{
	struct iommulab_mock_subdev_alloc *cmd = ucmd->cmd;
	struct iommulab_mock_dev_info info[IOLAB_MAX_SUBDEVS] = {};
	struct iolab_stdev *stdevs[IOLAB_MAX_SUBDEVS] = {};
	struct iolab_ctx *ctx = ucmd->ctx;
	struct iolab_stdev *parent;
	struct iolab_hwdev *phw;
	u32 i, n = 0;
	bool sw;
	int rc = 0;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	if (!cmd->nr_subdevs || cmd->nr_subdevs > IOLAB_MAX_SUBDEVS)
		return -EINVAL;
	parent = iolab_get_stdev(ctx, cmd->parent_id);
	if (IS_ERR(parent))
		return PTR_ERR(parent);
	phw = iolab_busdev_hwdev(parent->busdev);
	if (iolab_hwdev_is_subdev(phw)) {
		rc = -EINVAL;
		goto out_put;
	}
	sw = !phw->ops->max_pasid_log2(phw) ||
	     !iolab_busdev_is_singleton(parent->busdev);

	for (n = 0; n != cmd->nr_subdevs; n++) {
		stdevs[n] = iolab_subdev_new(ctx, parent, sw);
		if (IS_ERR(stdevs[n])) {
			rc = PTR_ERR(stdevs[n]);
			goto err_undo;
		}
		info[n].stdev_id = stdevs[n]->obj.id;
		info[n].rid = iolab_busdev_hwdev(stdevs[n]->busdev)->rid;
	}
	if (copy_to_user(u64_to_user_ptr(cmd->subdevs_uptr), info,
			 sizeof(info[0]) * n)) {
		rc = -EFAULT;
		goto err_undo;
	}
	cmd->out_path = sw ? IOMMULAB_SUBDEV_PATH_SW : IOMMULAB_SUBDEV_PATH_NONE;
	rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto err_undo;
	for (i = 0; i != n; i++)
		iolab_object_finalize(ctx, &stdevs[i]->obj);
	goto out_put;

err_undo:
	while (n--)
		iolab_object_abort_destroy(ctx, &stdevs[n]->obj);
out_put:
	iolab_put_object(&parent->obj);
	return rc;
}

/* IOMMULAB_AUX_GET_DOMAIN: a sub-device's route. */
int iolab_aux_get_domain_ioctl(struct iolab_ucmd *ucmd)
{
	struct iommulab_aux_get_domain *cmd = ucmd->cmd;
	struct iolab_hwdev *dev = NULL;
	struct iolab_object *obj;
	struct iolab_subdev *sd;
	int rc = 0;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	obj = iolab_get_object(ucmd->ctx, cmd->dev_id, IOLAB_OBJ_ANY);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	if (obj->type == IOLAB_OBJ_DEVICE)
		dev = iolab_idev_hwdev(container_of(obj, struct iolab_idev, obj));
	else if (obj->type == IOLAB_OBJ_SELFTEST)
		dev = iolab_busdev_hwdev(container_of(obj, struct iolab_stdev,
						      obj)->busdev);
	if (!dev) {
		rc = -ENOENT;
		goto out_put;
	}
	if (!iolab_hwdev_is_subdev(dev)) {
		rc = -EINVAL;
		goto out_put;
	}
	sd = to_subdev(dev);
	down_read(&sd->route_rwsem);
	cmd->out_path = sd->path;
	cmd->out_pasid = sd->pasid;
	cmd->out_hwpt_id = sd->hwpt_id;
	up_read(&sd->route_rwsem);
	cmd->out_parent_rid = iolab_busdev_hwdev(sd->parent)->rid;
	if (cmd->out_path == IOMMULAB_SUBDEV_PATH_NONE)
		rc = -ENOENT;
	else
		rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
out_put:
	iolab_put_object(obj);
	return rc;
}

void iolab_subdev_exit(void)
{
	ida_destroy(&iolab_subdev_ida);
}
