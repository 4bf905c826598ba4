// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: devices, groups, binding to an fd, and attach/replace/detach.
 *
 * A busdev is a device plugged into the machine (today always a mock device),
 * known to every fd by its requester ID. Devices that the IOMMU cannot
 * isolate from one another form a group. Binding a device to an fd makes an
 * iolab_idev object (upstream's idev); the first bind of a group checks
 * that the group is viable (no device of it has a kernel driver) and claims
 * the whole group for that fd, moving every device of it into the blocked
 * domain; the last unbind gives the group back to the kernel.
 *
 * Locks (the module's whole order is in iommulab_private.h):
 *   iolab_group.lock	serialises the binds and unbinds of a group's
 *			members and protects its member list; it is held
 *			while a first bind moves the group into the blocked
 *			domain (which waits for in-flight DMA), so that
 *			waiting stays inside one group.
 *			A PASID attach takes it under the fd's attach_lock
 *			to check that the group is a singleton.
 *   iolab_devices_lock	the RID registry, group ownership and counts,
 *			busdev.idev, busdev.creator and busdev.kernel_driver.
 *			Held only for short lookups and updates, never
 *			across a driver call, so one fd's bind or DMA never
 *			waits for another group's DMA.
 *   busdev.pasid_claims	its own xa_lock: which user holds each PASID of
 *			the device's PASID table (a leaf).
 */
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "iommu_driver.h"
#include "iommulab_private.h"

/**
 * struct iolab_group - devices that share their isolation
 * @kref: one reference per member
 * @lock: see the file comment
 * @busdevs: the members (iolab_busdev.group_item), under @lock
 * @owner: the fd the group is claimed by, NULL while kernel-owned
 * @nr_bound: members bound to @owner
 * @hwpt: the HWPT the attached members use (under @owner's attach_lock)
 * @nr_attached: members attached to @hwpt (same lock)
 */
struct iolab_group {
	struct kref kref;
	struct mutex lock; /* see the file comment */
	struct list_head busdevs;
	struct iolab_ctx *owner;
	unsigned int nr_bound;
	struct iolab_hwpt *hwpt;
	unsigned int nr_attached;
};

/**
 * struct iolab_busdev - a device plugged into the machine
 * @kref: the plugging fd's stdev and a bound idev each hold one
 * @dev: the hardware, as the IOMMU driver knows it
 * @release: frees @dev when the last reference goes
 * @group: its group (a reference)
 * @group_item: entry in @group's list
 * @creator: the fd that plugged it in; NULL once unplugged
 * @kernel_driver: a (simulated) kernel driver is bound
 * @idev: the fd binding of the device, NULL when unbound
 * @pasid_claims: PASID -> the user that programs it into the device's
 *		  PASID table: the device's own binding (either path), or
 *		  one of its sub-devices (subdev.c). A user holds a PASID
 *		  slot from before it programs it until after it removes
 *		  it, so two users, perhaps of two fds, never share one.
 */
struct iolab_busdev {
	struct kref kref;
	struct iolab_hwdev *dev;
	void (*release)(struct iolab_hwdev *dev);
	struct iolab_group *group;
	struct list_head group_item;
	struct iolab_ctx *creator;
	bool kernel_driver;
	struct iolab_idev *idev;
	struct xarray pasid_claims;
	atomic_t next_grpid;
};

static DEFINE_MUTEX(iolab_devices_lock);
static DEFINE_XARRAY(iolab_devices);

struct iolab_hwdev *iolab_busdev_hwdev(struct iolab_busdev *busdev)
{
	return busdev->dev;
}

struct iolab_hwdev *iolab_idev_hwdev(struct iolab_idev *idev)
{
	return idev->busdev->dev;
}

static void iolab_group_release(struct kref *kref)
{
	struct iolab_group *group = container_of(kref, struct iolab_group, kref);

	mutex_destroy(&group->lock);
	kfree(group);
}

/*
 * Called with iolab_devices_lock held by kref_put_mutex(); drops it. The
 * RID left the registry at unplug, so nothing can find the busdev any more.
 */
static void iolab_busdev_release(struct kref *kref)
{
	struct iolab_busdev *busdev = container_of(kref, struct iolab_busdev, kref);
	struct iolab_group *group = busdev->group;

	mutex_unlock(&iolab_devices_lock);
	mutex_lock(&group->lock);
	list_del(&busdev->group_item);
	mutex_unlock(&group->lock);
	kref_put(&group->kref, iolab_group_release);
	xa_destroy(&busdev->pasid_claims);
	busdev->release(busdev->dev);
	kfree(busdev);
}

void iolab_busdev_put(struct iolab_busdev *busdev)
{
	kref_put_mutex(&busdev->kref, iolab_busdev_release, &iolab_devices_lock);
}

void iolab_busdev_get(struct iolab_busdev *busdev)
{
	kref_get(&busdev->kref);
}

/**
 * iolab_busdev_pasid_claim() - @owner takes @pasid of @busdev's PASID table
 * @busdev: the device
 * @pasid: the PASID
 * @owner: who programs it (an idev, a sub-device)
 *
 * Return: 0 (also when @owner holds it already); EBUSY when another user
 * does; ENOMEM.
 */
int iolab_busdev_pasid_claim(struct iolab_busdev *busdev, u32 pasid,
			     void *owner)
{
	void *old = xa_cmpxchg(&busdev->pasid_claims, pasid, NULL, owner,
			       GFP_KERNEL_ACCOUNT);

	if (xa_is_err(old))
		return xa_err(old);
	return old && old != owner ? -EBUSY : 0;
}

/* @owner gives @pasid of @busdev back. */
void iolab_busdev_pasid_release(struct iolab_busdev *busdev, u32 pasid,
				void *owner)
{
	xa_cmpxchg(&busdev->pasid_claims, pasid, owner, NULL, 0);
}

/* Whether anyone holds @pasid of @busdev. */
static bool iolab_busdev_pasid_claimed(struct iolab_busdev *busdev, u32 pasid)
{
	return xa_load(&busdev->pasid_claims, pasid);
}

/*
 * Whether @busdev's RID is attached to @hwpt, a HWPT of @ctx (a binding in
 * another fd cannot use it). Holds @ctx's attach_lock, which keeps a
 * binding of @ctx from changing its HWPT.
 */
bool iolab_busdev_rid_uses(struct iolab_busdev *busdev, struct iolab_ctx *ctx,
			   struct iolab_hwpt *hwpt)
{
	bool uses;

	lockdep_assert_held(&ctx->attach_lock);
	mutex_lock(&iolab_devices_lock);
	uses = busdev->idev && busdev->idev->ctx == ctx &&
	       busdev->idev->hwpt == hwpt;
	mutex_unlock(&iolab_devices_lock);
	return uses;
}

/**
 * iolab_busdev_plug() - plug a device in
 * @dev: the hardware
 * @release: frees @dev after the last user is gone
 * @creator: the fd plugging it in
 * @sibling: a device whose group it joins, or NULL for a group of its own
 *
 * Return: the busdev with one reference (the creator's), or ERR_PTR.
 */
struct iolab_busdev *iolab_busdev_plug(struct iolab_hwdev *dev,
				       void (*release)(struct iolab_hwdev *dev),
				       struct iolab_ctx *creator,
				       struct iolab_busdev *sibling)
{
	struct iolab_group *group = NULL;
	struct iolab_busdev *busdev;
	int rc;

	busdev = kzalloc(sizeof(*busdev), GFP_KERNEL_ACCOUNT);
	if (!busdev)
		return ERR_PTR(-ENOMEM);
	if (!sibling) {
		group = kzalloc(sizeof(*group), GFP_KERNEL_ACCOUNT);
		if (!group) {
			kfree(busdev);
			return ERR_PTR(-ENOMEM);
		}
		kref_init(&group->kref);
		mutex_init(&group->lock);
		INIT_LIST_HEAD(&group->busdevs);
	}
	kref_init(&busdev->kref);
	xa_init_flags(&busdev->pasid_claims, XA_FLAGS_ACCOUNT);
	busdev->dev = dev;
	busdev->release = release;
	busdev->creator = creator;

	if (sibling) {
		group = sibling->group;
		kref_get(&group->kref);
	}
	busdev->group = group;
	/* A member before it has a RID: a bind of a sibling blocks it too. */
	mutex_lock(&group->lock);
	list_add_tail(&busdev->group_item, &group->busdevs);
	mutex_unlock(&group->lock);

	mutex_lock(&iolab_devices_lock);
	rc = xa_insert(&iolab_devices, dev->rid, busdev, GFP_KERNEL_ACCOUNT);
	mutex_unlock(&iolab_devices_lock);
	if (rc) {
		mutex_lock(&group->lock);
		list_del(&busdev->group_item);
		mutex_unlock(&group->lock);
		kref_put(&group->kref, iolab_group_release);
		kfree(busdev);
		return ERR_PTR(rc);
	}
	return busdev;
}

/* Unplug: the RID disappears; a binding keeps the device until unbound. */
void iolab_busdev_unplug(struct iolab_busdev *busdev)
{
	mutex_lock(&iolab_devices_lock);
	xa_erase(&iolab_devices, busdev->dev->rid);
	busdev->creator = NULL;
	mutex_unlock(&iolab_devices_lock);
	iolab_busdev_put(busdev);
}

/* A kernel driver binds to (or leaves) an unbound device. */
int iolab_busdev_set_driver(struct iolab_busdev *busdev, bool bound)
{
	int rc = 0;

	mutex_lock(&iolab_devices_lock);
	if (busdev->group->owner)
		rc = -EBUSY;
	else
		busdev->kernel_driver = bound;
	mutex_unlock(&iolab_devices_lock);
	return rc;
}

/*
 * The device @ctx may make issue DMA: one it plugged in or bound (else
 * ENOENT), in a group @ctx owns (else EPERM: a kernel-owned group's DMA is
 * the kernel's, and a group another fd owns is that fd's; see
 * IOMMULAB_MOCK_DMA). Returns it with a reference in *@pdevp.
 */
struct iolab_hwdev *iolab_hwdev_for_dma(struct iolab_ctx *ctx, u32 rid,
					struct iolab_busdev **pdevp)
{
	struct iolab_busdev *busdev;
	struct iolab_hwdev *dev;

	mutex_lock(&iolab_devices_lock);
	busdev = xa_load(&iolab_devices, rid);
	if (!busdev ||
	    (busdev->creator != ctx && (!busdev->idev || busdev->idev->ctx != ctx))) {
		dev = ERR_PTR(-ENOENT);
	} else if (busdev->group->owner != ctx) {
		dev = ERR_PTR(-EPERM);
	} else {
		kref_get(&busdev->kref);
		*pdevp = busdev;
		dev = busdev->dev;
	}
	mutex_unlock(&iolab_devices_lock);
	return dev;
}

/**
 * iolab_busdev_idev_get() - @busdev's binding in @ctx
 * @ctx: the fd
 * @busdev: the device
 *
 * Return: the bound device with a users reference, or NULL when @busdev
 * is not bound to @ctx.
 */
struct iolab_idev *iolab_busdev_idev_get(struct iolab_ctx *ctx,
					 struct iolab_busdev *busdev)
{
	struct iolab_idev *idev;
	u32 id = 0;

	mutex_lock(&iolab_devices_lock);
	if (busdev->idev && busdev->idev->ctx == ctx)
		id = busdev->idev->obj.id;
	mutex_unlock(&iolab_devices_lock);
	if (!id)
		return NULL;
	/* By ID: the binding may have gone since, or be another now. */
	idev = iolab_get_idev(ctx, id);
	if (IS_ERR(idev))
		return NULL;
	if (idev->busdev != busdev) {
		iolab_put_object(&idev->obj);
		return NULL;
	}
	return idev;
}

/* The next page request group index of @busdev (PCIe's 9 bits). */
u32 iolab_busdev_next_grpid(struct iolab_busdev *busdev)
{
	return atomic_inc_return(&busdev->next_grpid) & 0x1ff;
}

/*
 * A HWPT whose faults go to a queue takes only devices that can fault
 * (upstream enables the device's IOPF at attach; iommulab's mock devices
 * can, but those plugged in with IOMMULAB_MOCK_DEV_NO_IOPF).
 */
static int iolab_hwpt_dev_iopf_ok(struct iolab_hwpt *hwpt,
				  struct iolab_hwdev *dev)
{
	if (hwpt->fault && !dev->ops->capable(dev, IOLAB_CAP_IOPF))
		return -EOPNOTSUPP;
	return 0;
}

/* Every device of @group into the blocked domain. Holds group->lock. */
static void iolab_group_block(struct iolab_group *group)
{
	struct iolab_busdev *busdev;

	lockdep_assert_held(&group->lock);
	list_for_each_entry(busdev, &group->busdevs, group_item)
		busdev->dev->ops->attach_dev(busdev->dev->ops->blocked_domain,
					   busdev->dev);
}

/**
 * iolab_idev_bind() - bind @busdev to @ctx
 * @ctx: the fd
 * @busdev: the device
 * @out: the new device object, not yet finalized
 *
 * Return: 0; EBUSY if the device is bound already, or its group is owned
 * by another fd or not viable; ENOMEM.
 */
int iolab_idev_bind(struct iolab_ctx *ctx, struct iolab_busdev *busdev,
		    struct iolab_idev **out)
{
	struct iolab_group *group = busdev->group;
	struct iolab_idev *idev;
	struct iolab_busdev *member;
	bool claim;
	int rc = 0;

	idev = (struct iolab_idev *)iolab_object_alloc(ctx, sizeof(*idev),
							 IOLAB_OBJ_DEVICE);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	idev->ctx = ctx;
	idev->busdev = busdev;
	xa_init_flags(&idev->pasids, XA_FLAGS_ACCOUNT);

	mutex_lock(&group->lock);
	mutex_lock(&iolab_devices_lock);
	if (busdev->idev || (group->owner && group->owner != ctx)) {
		rc = -EBUSY;
		goto err_unlock;
	}
	claim = !group->owner;
	if (claim) {
		list_for_each_entry(member, &group->busdevs, group_item) {
			if (member->kernel_driver) {
				rc = -EBUSY;
				goto err_unlock;
			}
		}
		group->owner = ctx;
	}
	kref_get(&busdev->kref);
	group->nr_bound++;
	busdev->idev = idev;
	mutex_unlock(&iolab_devices_lock);
	/*
	 * A kernel-owned group's devices already sit in the blocked domain;
	 * say so again to the driver as the group changes hands. Under the
	 * group's lock only: this waits for the devices' in-flight DMA.
	 */
	if (claim)
		iolab_group_block(group);
	mutex_unlock(&group->lock);
	*out = idev;
	return 0;

err_unlock:
	mutex_unlock(&iolab_devices_lock);
	mutex_unlock(&group->lock);
	iolab_object_abort(ctx, &idev->obj);
	return rc;
}

/* Give the binding back; the last one returns the group to the kernel. */
static void iolab_idev_unbind(struct iolab_idev *idev)
{
	struct iolab_busdev *busdev = idev->busdev;
	struct iolab_group *group = busdev->group;

	mutex_lock(&group->lock);
	mutex_lock(&iolab_devices_lock);
	busdev->idev = NULL;
	if (!--group->nr_bound)
		group->owner = NULL;
	mutex_unlock(&iolab_devices_lock);
	mutex_unlock(&group->lock);
	iolab_busdev_put(busdev);
}

/*
 * A device lets go of @hwpt. An automatic HWPT dies with its last device:
 * it leaves its IOAS's list and the object table here, under attach_lock,
 * so nothing can find or attach to it any more, and it is returned for the
 * caller to destroy with iolab_object_destroy_wait() once attach_lock is
 * released (an ioctl holding a short-term reference on it may be waiting
 * for attach_lock).
 */
struct iolab_hwpt *iolab_hwpt_put_attached(struct iolab_ctx *ctx,
					   struct iolab_hwpt *hwpt)
{
	lockdep_assert_held(&ctx->attach_lock);
	if (--hwpt->nr_devices || !hwpt->auto_domain) {
		iolab_put_object(&hwpt->obj);
		return NULL;
	}
	list_del_init(&hwpt->ioas_item);
	hwpt->dying = true;
	iolab_object_unpublish(ctx, &hwpt->obj);
	iolab_put_object(&hwpt->obj);
	return hwpt;
}

/*
 * Attach (or move) @idev's RID to @hwpt. Holds ctx->attach_lock. A replaced
 * automatic HWPT that had no other device is left in *@dead.
 */
static int iolab_attach_hwpt(struct iolab_idev *idev, struct iolab_hwpt *hwpt,
			     struct iolab_hwpt **dead)
{
	struct iolab_group *group = idev->busdev->group;
	struct iolab_hwdev *dev = idev->busdev->dev;
	struct iolab_hwpt *old = idev->hwpt;
	int rc;

	lockdep_assert_held(&idev->ctx->attach_lock);
	if (old == hwpt)
		return 0;
	/* Found by an ioctl just before its last device left. */
	if (hwpt->dying)
		return -ENOENT;
	/*
	 * As upstream's mock: a HWPT nested on a vIOMMU translates a device's
	 * RID only through the device's vDEVICE on that vIOMMU, and iommulab
	 * has no IOMMU_VDEVICE_ALLOC yet.
	 */
	if (hwpt->viommu)
		return -ENOENT;
	rc = iolab_hwpt_dev_iopf_ok(hwpt, dev);
	if (rc)
		return rc;
	/*
	 * While the PASID path has PASIDs attached, the RID stays
	 * PASID-compatible; a HWPT aux-attached to the device is not also
	 * its RID's.
	 */
	if (!hwpt->pasid_compat && xa_marked(&idev->pasids, IOLAB_PASID_PATH))
		return -EINVAL;
	/* Aux-attached to this device, directly or by a sub-device. */
	if (hwpt->nr_aux &&
	    iolab_busdev_pasid_claimed(idev->busdev, hwpt->aux_pasid))
		return -EBUSY;
	/* Devices of one group share one HWPT, as upstream requires. */
	if (group->hwpt && group->hwpt != hwpt &&
	    !(group->nr_attached == 1 && old))
		return -EINVAL;
	rc = dev->ops->attach_dev(hwpt->domain, dev);
	if (rc)
		return rc;
	refcount_inc(&hwpt->obj.users);
	hwpt->nr_devices++;
	idev->hwpt = hwpt;
	group->hwpt = hwpt;
	if (old) {
		iolab_fault_detached(old, idev, IOLAB_RID_PASID);
		*dead = iolab_hwpt_put_attached(idev->ctx, old);
	} else {
		group->nr_attached++;
	}
	return 0;
}

/**
 * iolab_attach_auto_hwpt() - attach to an automatic HWPT of an IOAS
 * @idev: the bound device
 * @ioas: the IOAS
 * @flags: IOMMU_HWPT_ALLOC_* of a new automatic HWPT
 * @attach: attaches @idev to one HWPT; EINVAL or EBUSY when that HWPT does
 *	    not suit it (the next one is tried), having changed nothing
 * @arg: passed to @attach
 * @hwpt_id: the HWPT now used
 * @dead: as for @attach: an automatic HWPT the device left
 *
 * Reuses the first automatic HWPT of @ioas that @attach takes, else makes
 * one. Holds ctx->attach_lock. Return: 0, or the first other error.
 */
int iolab_attach_auto_hwpt(struct iolab_idev *idev, struct iolab_ioas *ioas,
			   u32 flags, iolab_attach_fn attach, void *arg,
			   u32 *hwpt_id, struct iolab_hwpt **dead)
{
	struct iolab_ctx *ctx = idev->ctx;
	struct iolab_hwpt *hwpt;
	int rc;

	lockdep_assert_held(&ctx->attach_lock);
	list_for_each_entry(hwpt, &ioas->hwpts, ioas_item) {
		rc = attach(idev, hwpt, arg, dead);
		if (!rc) {
			*hwpt_id = hwpt->obj.id;
			return 0;
		}
		if (rc != -EINVAL && rc != -EBUSY)
			return rc;
	}

	hwpt = iolab_hwpt_paging_alloc(ctx, ioas, idev->busdev->dev, flags, true);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);
	rc = attach(idev, hwpt, arg, dead);
	if (rc) {
		iolab_object_abort_destroy(ctx, &hwpt->obj);
		return rc;
	}
	list_add_tail(&hwpt->ioas_item, &ioas->hwpts);
	*hwpt_id = hwpt->obj.id;
	iolab_object_finalize(ctx, &hwpt->obj);
	return 0;
}

static int iolab_attach_hwpt_fn(struct iolab_idev *idev,
				struct iolab_hwpt *hwpt, void *arg,
				struct iolab_hwpt **dead)
{
	return iolab_attach_hwpt(idev, hwpt, dead);
}

/*
 * Attach a device's RID to an IOAS. Upstream's automatic HWPTs are never
 * PASID-compatible, so a device with PASIDs of the PASID path attached
 * cannot use one (EINVAL).
 */
static int iolab_attach_ioas(struct iolab_idev *idev, struct iolab_ioas *ioas,
			     u32 *hwpt_id, struct iolab_hwpt **dead)
{
	if (xa_marked(&idev->pasids, IOLAB_PASID_PATH))
		return -EINVAL;
	return iolab_attach_auto_hwpt(idev, ioas, 0, iolab_attach_hwpt_fn, NULL,
				      hwpt_id, dead);
}

/**
 * iolab_idev_attach() - attach or replace the domain of a device's RID
 * @idev: the bound device
 * @pt_id: an IOAS or a HWPT of the same fd
 * @flags: enum iommulab_attach_flags (a sub-device's path)
 * @hwpt_id: the HWPT now used
 *
 * A sub-device is routed by subdev.c instead.
 *
 * Return: 0; ENOENT for a bad @pt_id; EINVAL when the device cannot use
 * the HWPT or its group uses another one, or for @flags on a device that
 * is not a sub-device; ENOMEM. On failure the device keeps its old
 * attachment.
 */
int iolab_idev_attach(struct iolab_idev *idev, u32 pt_id, u32 flags,
		      u32 *hwpt_id)
{
	struct iolab_ctx *ctx = idev->ctx;
	bool subdev = iolab_hwdev_is_subdev(idev->busdev->dev);
	struct iolab_hwpt *dead = NULL;
	struct iolab_object *pt;
	u32 old_id;
	int rc;

	if (flags && !subdev)
		return -EINVAL;
	pt = iolab_get_object(ctx, pt_id, IOLAB_OBJ_ANY);
	if (IS_ERR(pt))
		return PTR_ERR(pt);
	mutex_lock(&ctx->attach_lock);
	if (subdev) {
		rc = iolab_subdev_attach(idev, pt, flags, hwpt_id, &dead);
		goto out_unlock;
	}
	old_id = idev->hwpt ? idev->hwpt->obj.id : 0;
	switch (pt->type) {
	case IOLAB_OBJ_IOAS:
		rc = iolab_attach_ioas(idev, container_of(pt, struct iolab_ioas,
							  obj), hwpt_id, &dead);
		break;
	case IOLAB_OBJ_HWPT_PAGING:
	case IOLAB_OBJ_HWPT_NESTED:
		rc = iolab_attach_hwpt(idev, container_of(pt, struct iolab_hwpt,
							  obj), &dead);
		*hwpt_id = pt_id;
		break;
	default:
		rc = -EINVAL;
	}
	/* Under attach_lock: the fd's events go out in the order of commits. */
	if (!rc && *hwpt_id != old_id)
		iolab_notify_dev(idev, old_id ? IOMMULAB_EVENT_RID_REPLACE :
						IOMMULAB_EVENT_RID_ATTACH,
				 IOLAB_RID_PASID, *hwpt_id, old_id);
out_unlock:
	mutex_unlock(&ctx->attach_lock);
	iolab_put_object(pt);
	if (dead)
		iolab_object_destroy_wait(&dead->obj);
	return rc;
}

/* Back to the blocked domain. EINVAL if not attached. */
int iolab_idev_detach(struct iolab_idev *idev)
{
	struct iolab_group *group = idev->busdev->group;
	struct iolab_hwdev *dev = idev->busdev->dev;
	struct iolab_ctx *ctx = idev->ctx;
	struct iolab_hwpt *old, *dead = NULL;
	u32 old_id;
	int rc;

	mutex_lock(&ctx->attach_lock);
	if (iolab_hwdev_is_subdev(dev)) {
		rc = iolab_subdev_detach(idev, &dead);
		mutex_unlock(&ctx->attach_lock);
		if (dead)
			iolab_object_destroy_wait(&dead->obj);
		return rc;
	}
	old = idev->hwpt;
	if (!old) {
		mutex_unlock(&ctx->attach_lock);
		return -EINVAL;
	}
	dev->ops->attach_dev(dev->ops->blocked_domain, dev);
	idev->hwpt = NULL;
	if (!--group->nr_attached)
		group->hwpt = NULL;
	old_id = old->obj.id;
	iolab_fault_detached(old, idev, IOLAB_RID_PASID);
	dead = iolab_hwpt_put_attached(ctx, old);
	iolab_notify_dev(idev, IOMMULAB_EVENT_RID_DETACH, IOLAB_RID_PASID, 0,
			 old_id);
	mutex_unlock(&ctx->attach_lock);
	if (dead)
		iolab_object_destroy_wait(&dead->obj);
	return 0;
}

/*
 * PASIDs. A PASID of a device gets a HWPT of its own, by one of two paths:
 *
 * The PASID attach path (upstream 6.15's, its rules and errnos):
 *   - the device must support PASIDs, and the PASID fit its width;
 *   - only a HWPT allocated with IOMMU_HWPT_ALLOC_PASID may translate a
 *     PASID (an IOAS, whose automatic HWPTs are not, is EINVAL);
 *   - while a PASID is attached, the RID must sit on such a HWPT too (or
 *     be blocked): attaching a PASID while the RID is on another is
 *     EINVAL, and so is moving the RID to another while PASIDs are
 *     attached;
 *   - attach is for a PASID with no HWPT (else EBUSY), replace for one
 *     that has one (else EINVAL).
 * The aux-domain path (aux.c): the kernel picks the PASID.
 *
 * For both, iommulab's rule: the device's group must be a singleton
 * (EINVAL), as upstream's IOMMU core first required: the devices of a
 * group cannot be told apart by the IOMMU, so neither can their PASIDs.
 * iolab_idev.pasids holds every attached PASID of a device, marked with
 * the path that attached it; one path never detaches the other's (EBUSY).
 */
static bool iolab_group_is_singleton(struct iolab_group *group)
{
	bool singleton;

	mutex_lock(&group->lock);
	singleton = list_is_singular(&group->busdevs);
	mutex_unlock(&group->lock);
	return singleton;
}

bool iolab_busdev_is_singleton(struct iolab_busdev *busdev)
{
	return iolab_group_is_singleton(busdev->group);
}

/**
 * iolab_idev_pasid_ok() - whether @idev may have @pasid attached at all
 * @idev: the bound device
 * @pasid: a PASID, not IOLAB_RID_PASID
 *
 * Holds ctx->attach_lock. Return: 0, or EINVAL (no PASID support, too
 * wide, a group of several devices).
 */
int iolab_idev_pasid_ok(struct iolab_idev *idev, u32 pasid)
{
	struct iolab_hwdev *dev = idev->busdev->dev;
	u8 width = dev->ops->max_pasid_log2(dev);

	lockdep_assert_held(&idev->ctx->attach_lock);
	if (pasid == IOLAB_RID_PASID || !width || pasid >= BIT(width))
		return -EINVAL;
	if (!iolab_group_is_singleton(idev->busdev->group))
		return -EINVAL;
	return 0;
}

/**
 * iolab_idev_pasid_install() - give a free PASID of @idev the HWPT @hwpt
 * @idev: the bound device
 * @pasid: a PASID iolab_idev_pasid_ok() allows
 * @hwpt: the HWPT; the attachment takes a users reference
 * @mark: the path attaching it (IOLAB_PASID_PATH or IOLAB_PASID_AUX)
 *
 * Holds ctx->attach_lock. Return: 0; EBUSY if the PASID has a HWPT; the
 * driver's error (nothing changed).
 */
int iolab_idev_pasid_install(struct iolab_idev *idev, u32 pasid,
			     struct iolab_hwpt *hwpt, xa_mark_t mark)
{
	struct iolab_hwdev *dev = idev->busdev->dev;
	int rc;

	lockdep_assert_held(&idev->ctx->attach_lock);
	rc = iolab_hwpt_dev_iopf_ok(hwpt, dev);
	if (rc)
		return rc;
	rc = xa_insert(&idev->pasids, pasid, hwpt, GFP_KERNEL_ACCOUNT);
	if (rc)
		return rc;
	/* A sub-device of this device may hold the PASID. */
	rc = iolab_busdev_pasid_claim(idev->busdev, pasid, idev);
	if (rc)
		goto err_erase;
	rc = dev->ops->set_dev_pasid(hwpt->domain, dev, pasid);
	if (rc) {
		iolab_busdev_pasid_release(idev->busdev, pasid, idev);
		goto err_erase;
	}
	xa_set_mark(&idev->pasids, pasid, mark);
	refcount_inc(&hwpt->obj.users);
	return 0;

err_erase:
	xa_erase(&idev->pasids, pasid);
	return rc;
}

/**
 * iolab_idev_pasid_uninstall() - @pasid of @idev loses its HWPT
 * @idev: the bound device
 * @pasid: an attached PASID
 *
 * Holds ctx->attach_lock. When this returns, no request with @pasid
 * reaches the old HWPT. Return: the old HWPT, whose reference the caller
 * now owns and puts.
 */
struct iolab_hwpt *iolab_idev_pasid_uninstall(struct iolab_idev *idev,
					      u32 pasid)
{
	struct iolab_hwdev *dev = idev->busdev->dev;
	struct iolab_hwpt *old;

	lockdep_assert_held(&idev->ctx->attach_lock);
	/* Translation off first: removing it cannot fail. */
	dev->ops->set_dev_pasid(dev->ops->blocked_domain, dev, pasid);
	iolab_busdev_pasid_release(idev->busdev, pasid, idev);
	old = xa_erase(&idev->pasids, pasid);
	iolab_fault_detached(old, idev, pasid);
	return old;
}

/*
 * The PASID path's detach of @pasid: off, announced, and then the PASID
 * of the fd's set it held is let go (which may free it: that event comes
 * after the detach's).
 */
static void iolab_pasid_path_uninstall(struct iolab_idev *idev, u32 pasid)
{
	bool held = xa_get_mark(&idev->pasids, pasid, IOLAB_PASID_SET);
	struct iolab_hwpt *old = iolab_idev_pasid_uninstall(idev, pasid);

	iolab_notify_dev(idev, IOMMULAB_EVENT_PASID_DETACH, pasid, 0,
			 old->obj.id);
	if (held)
		iolab_ioasid_put(pasid);
	iolab_put_object(&old->obj);
}

/* Whether @idev's @pasid may use @hwpt by the PASID path. */
static int iolab_pasid_check(struct iolab_idev *idev, u32 pasid,
			     struct iolab_hwpt *hwpt)
{
	int rc = iolab_idev_pasid_ok(idev, pasid);

	if (rc)
		return rc;
	if (!hwpt->pasid_compat)
		return -EINVAL;
	if (idev->hwpt && !idev->hwpt->pasid_compat)
		return -EINVAL;
	return 0;
}

/* A new attach by the PASID path, holding the PASID of the fd's set. */
static int iolab_pasid_install_path(struct iolab_idev *idev, u32 pasid,
				    struct iolab_hwpt *hwpt, bool from_set)
{
	int held = from_set ? iolab_ioasid_get(idev->ctx, pasid) : 0;
	int rc;

	if (held < 0)
		return held;
	rc = iolab_idev_pasid_install(idev, pasid, hwpt, IOLAB_PASID_PATH);
	if (rc) {
		if (held)
			iolab_ioasid_put(pasid);
		return rc;
	}
	if (held) {
		xa_set_mark(&idev->pasids, pasid, IOLAB_PASID_SET);
		/* Kernel-picked (IOMMULAB_DEVICE_PASID_ALLOC): told now. */
		iolab_ioasid_announce(pasid);
	}
	return 0;
}

/**
 * iolab_idev_pasid_attach() - attach or replace the HWPT of a PASID
 * @idev: the bound device
 * @pasid: the PASID, not IOLAB_RID_PASID (0: the RID's)
 * @pt_id: a HWPT of the same fd allocated with IOMMU_HWPT_ALLOC_PASID
 * @replace: the PASID has a HWPT, to be replaced (else EINVAL); without,
 *	     the PASID must have none (else EBUSY)
 * @from_set: for an fd with an IOASID set, a new attach needs a PASID of
 *	      that set and holds it while attached (IOMMULAB_DEVICE_PASID;
 *	      upstream's test ops name PASIDs freely)
 *
 * Replacing installs the new translation in one step: the PASID's requests
 * never see a moment without one. On failure the PASID keeps what it had.
 *
 * Return: 0; ENOENT for a bad @pt_id; EINVAL (see the rules above); EBUSY
 * (also for a PASID the aux path attached); ENOMEM.
 */
int iolab_idev_pasid_attach(struct iolab_idev *idev, u32 pasid, u32 pt_id,
			    bool replace, bool from_set)
{
	struct iolab_hwdev *dev = idev->busdev->dev;
	struct iolab_ctx *ctx = idev->ctx;
	struct iolab_hwpt *hwpt, *old;
	struct iolab_object *pt;
	int rc;

	if (pasid == IOLAB_RID_PASID)
		return -EINVAL;
	pt = iolab_get_object(ctx, pt_id, IOLAB_OBJ_ANY);
	if (IS_ERR(pt))
		return PTR_ERR(pt);
	if (pt->type != IOLAB_OBJ_HWPT_PAGING &&
	    pt->type != IOLAB_OBJ_HWPT_NESTED) {
		rc = -EINVAL;
		goto out_put;
	}
	hwpt = container_of(pt, struct iolab_hwpt, obj);

	mutex_lock(&ctx->attach_lock);
	/* The aux path's PASIDs are not the PASID path's to touch. */
	old = xa_load(&idev->pasids, pasid);
	if (old && !xa_get_mark(&idev->pasids, pasid, IOLAB_PASID_PATH)) {
		rc = -EBUSY;
		goto out_unlock;
	}
	rc = iolab_pasid_check(idev, pasid, hwpt);
	if (rc)
		goto out_unlock;
	if (!replace && old)
		rc = -EBUSY;
	else if (replace && !old)
		rc = -EINVAL;
	else if (!old)
		rc = iolab_pasid_install_path(idev, pasid, hwpt, from_set);
	else if (old != hwpt)
		rc = iolab_hwpt_dev_iopf_ok(hwpt, dev) ?:
		     dev->ops->set_dev_pasid(hwpt->domain, dev, pasid);
	if (!rc && !old)
		iolab_notify_dev(idev, IOMMULAB_EVENT_PASID_ATTACH, pasid,
				 hwpt->obj.id, 0);
	if (rc || !old || old == hwpt)
		goto out_unlock;
	/* The slot exists: storing over it allocates nothing. */
	refcount_inc(&hwpt->obj.users);
	xa_store(&idev->pasids, pasid, hwpt, GFP_KERNEL_ACCOUNT);
	iolab_fault_detached(old, idev, pasid);
	iolab_notify_dev(idev, IOMMULAB_EVENT_PASID_REPLACE, pasid,
			 hwpt->obj.id, old->obj.id);
	iolab_put_object(&old->obj);
out_unlock:
	mutex_unlock(&ctx->attach_lock);
out_put:
	iolab_put_object(pt);
	return rc;
}

/**
 * iolab_idev_pasid_detach() - a PASID loses its HWPT: its requests fault
 * @idev: the bound device
 * @pasid: a PASID the PASID path attached
 *
 * When this returns, no request with @pasid reaches the old HWPT.
 *
 * Return: 0; EINVAL if the PASID has no HWPT; EBUSY if the aux path
 * attached it (IOMMULAB_AUX_DETACH detaches it).
 */
int iolab_idev_pasid_detach(struct iolab_idev *idev, u32 pasid)
{
	struct iolab_ctx *ctx = idev->ctx;
	int rc = 0;

	mutex_lock(&ctx->attach_lock);
	if (pasid == IOLAB_RID_PASID || !xa_load(&idev->pasids, pasid))
		rc = -EINVAL;
	else if (!xa_get_mark(&idev->pasids, pasid, IOLAB_PASID_PATH))
		rc = -EBUSY;
	else
		iolab_pasid_path_uninstall(idev, pasid);
	mutex_unlock(&ctx->attach_lock);
	return rc;
}

/* The ID of the HWPT @pasid (IOLAB_RID_PASID: the RID) uses, 0 if none. */
u32 iolab_idev_pasid_hwpt_id(struct iolab_idev *idev, u32 pasid)
{
	struct iolab_hwpt *hwpt;
	u32 id;

	mutex_lock(&idev->ctx->attach_lock);
	hwpt = pasid == IOLAB_RID_PASID ? idev->hwpt :
					  xa_load(&idev->pasids, pasid);
	id = hwpt ? hwpt->obj.id : 0;
	mutex_unlock(&idev->ctx->attach_lock);
	return id;
}

/* Every PASID detached, by either path, as the device is destroyed. */
static void iolab_idev_pasids_clear(struct iolab_idev *idev)
{
	struct iolab_hwpt *hwpt;
	unsigned long pasid;

	mutex_lock(&idev->ctx->attach_lock);
	xa_for_each(&idev->pasids, pasid, hwpt) {
		if (xa_get_mark(&idev->pasids, pasid, IOLAB_PASID_AUX)) {
			iolab_aux_detach_locked(idev, hwpt);
			continue;
		}
		iolab_pasid_path_uninstall(idev, pasid);
	}
	mutex_unlock(&idev->ctx->attach_lock);
	xa_destroy(&idev->pasids);
}

/* Object destroy: detach, then unbind. */
void iolab_idev_destroy(struct iolab_object *obj)
{
	struct iolab_idev *idev = container_of(obj, struct iolab_idev, obj);

	iolab_idev_pasids_clear(idev);
	iolab_idev_detach(idev);
	iolab_idev_unbind(idev);
}

struct iolab_idev *iolab_get_idev(struct iolab_ctx *ctx, u32 id)
{
	struct iolab_object *obj = iolab_get_object(ctx, id, IOLAB_OBJ_DEVICE);

	if (IS_ERR(obj))
		return ERR_CAST(obj);
	return container_of(obj, struct iolab_idev, obj);
}

int iolab_idev_bind_ioctl(struct iolab_ucmd *ucmd)
{
	struct iommulab_device_bind *cmd = ucmd->cmd;
	struct iolab_idev *idev;
	struct iolab_busdev *busdev;
	int rc;

	if (cmd->flags)
		return -EOPNOTSUPP;
	mutex_lock(&iolab_devices_lock);
	busdev = xa_load(&iolab_devices, cmd->rid);
	if (busdev)
		kref_get(&busdev->kref);
	mutex_unlock(&iolab_devices_lock);
	if (!busdev)
		return -ENOENT;

	rc = iolab_idev_bind(ucmd->ctx, busdev, &idev);
	if (rc)
		goto out_put;
	idev->cookie = cmd->cookie;
	cmd->out_dev_id = idev->obj.id;
	rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		iolab_object_abort_destroy(ucmd->ctx, &idev->obj);
		goto out_put;
	}
	iolab_object_finalize(ucmd->ctx, &idev->obj);
out_put:
	iolab_busdev_put(busdev);
	return rc;
}

int iolab_idev_attach_ioctl(struct iolab_ucmd *ucmd)
{
	struct iommulab_device_attach *cmd = ucmd->cmd;
	struct iolab_idev *idev;
	int rc;

	if (cmd->flags & ~(IOMMULAB_ATTACH_SUBDEV_AUX |
			   IOMMULAB_ATTACH_SUBDEV_PASID) ||
	    cmd->__reserved)
		return -EOPNOTSUPP;
	idev = iolab_get_idev(ucmd->ctx, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	rc = iolab_idev_attach(idev, cmd->pt_id, cmd->flags, &cmd->out_hwpt_id);
	if (!rc)
		rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
	iolab_put_object(&idev->obj);
	return rc;
}

int iolab_idev_detach_ioctl(struct iolab_ucmd *ucmd)
{
	struct iommulab_device_detach *cmd = ucmd->cmd;
	struct iolab_idev *idev;
	int rc;

	idev = iolab_get_idev(ucmd->ctx, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	rc = iolab_idev_detach(idev);
	iolab_put_object(&idev->obj);
	return rc;
}

int iolab_idev_pasid_ioctl(struct iolab_ucmd *ucmd)
{
	struct iommulab_device_pasid *cmd = ucmd->cmd;
	bool alloc = cmd->flags & IOMMULAB_DEVICE_PASID_ALLOC;
	struct iolab_idev *idev;
	int rc;

	if (cmd->flags & ~IOMMULAB_DEVICE_PASID_ALLOC)
		return -EOPNOTSUPP;
	if (cmd->op > IOMMULAB_PASID_DETACH ||
	    (cmd->op == IOMMULAB_PASID_DETACH && cmd->pt_id) ||
	    (alloc && (cmd->op != IOMMULAB_PASID_ATTACH || cmd->pasid)))
		return -EINVAL;
	idev = iolab_get_idev(ucmd->ctx, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	if (cmd->op == IOMMULAB_PASID_DETACH) {
		rc = iolab_idev_pasid_detach(idev, cmd->pasid);
		goto out_put;
	}
	if (alloc) {
		rc = iolab_ioasid_alloc(ucmd->ctx, false, &cmd->pasid);
		if (rc)
			goto out_put;
	}
	rc = iolab_idev_pasid_attach(idev, cmd->pasid, cmd->pt_id,
				     cmd->op == IOMMULAB_PASID_REPLACE, true);
	if (!rc && alloc) {
		rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
		if (rc)
			iolab_idev_pasid_detach(idev, cmd->pasid);
	}
	if (rc && alloc)
		iolab_ioasid_free(cmd->pasid);
out_put:
	iolab_put_object(&idev->obj);
	return rc;
}

int iolab_get_hw_info(struct iolab_ucmd *ucmd)
{
	struct iommu_hw_info *cmd = ucmd->cmd;
	void __user *uptr = u64_to_user_ptr(cmd->data_uptr);
	struct iolab_idev *idev;
	struct iolab_hwdev *dev;
	u8 data[64] = {};
	u32 len, type = 0;
	int rc = 0;

	if (cmd->flags & ~IOMMU_HW_INFO_FLAG_INPUT_TYPE)
		return -EOPNOTSUPP;
	if (cmd->__reserved[0] || cmd->__reserved[1] || cmd->__reserved[2])
		return -EOPNOTSUPP;
	/* Without the flag the field is output only: its input means nothing. */
	if (!(cmd->flags & IOMMU_HW_INFO_FLAG_INPUT_TYPE))
		cmd->in_data_type = IOMMU_HW_INFO_TYPE_DEFAULT;
	idev = iolab_get_idev(ucmd->ctx, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	dev = idev->busdev->dev;

	/* Only what the driver wrote is copied out, whatever it returned. */
	len = min_t(u32, dev->ops->hw_info(dev, data, sizeof(data), &type),
		    sizeof(data));
	/* A driver has records of one format; asking for another: EOPNOTSUPP */
	if (cmd->in_data_type != IOMMU_HW_INFO_TYPE_DEFAULT &&
	    cmd->in_data_type != type) {
		rc = -EOPNOTSUPP;
		goto out_put;
	}
	/*
	 * As upstream, a buffer length with no buffer fails in the copy
	 * (EFAULT), after the device lookup.
	 */
	if (cmd->data_len) {
		if (copy_to_user(uptr, data, min(len, cmd->data_len)) ||
		    (cmd->data_len > len &&
		     clear_user(uptr + len, cmd->data_len - len))) {
			rc = -EFAULT;
			goto out_put;
		}
	}
	cmd->data_len = len;
	cmd->out_data_type = type;
	cmd->out_max_pasid_log2 = dev->ops->max_pasid_log2(dev);
	cmd->out_capabilities = 0;
	if (dev->ops->capable(dev, IOLAB_CAP_DIRTY_TRACKING))
		cmd->out_capabilities |= IOMMU_HW_CAP_DIRTY_TRACKING;
	rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
out_put:
	iolab_put_object(&idev->obj);
	return rc;
}
