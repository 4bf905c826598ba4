// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: the mock hardware's extension ioctls: plugging in groups of
 * mock devices (IOMMULAB_MOCK_GROUP_ALLOC), binding and unbinding a
 * simulated kernel driver (IOMMULAB_MOCK_SET_DRIVER), and making a device
 * issue DMA through its IOMMU (IOMMULAB_MOCK_DMA, the DMA engine of
 * mock_iommu.c). Part of the test interface (the test_ops parameter).
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/io.h>
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

#define IOLAB_MAX_GROUP_DEVICES 8

/* IOMMULAB_MOCK_GROUP_ALLOC: plug in a group of mock devices. */
int iolab_mock_group_alloc(struct iolab_ucmd *ucmd)
{
	struct iommulab_mock_group_alloc *cmd = ucmd->cmd;
	struct iommulab_mock_dev_info info[IOLAB_MAX_GROUP_DEVICES] = {};
	struct iolab_stdev *stdevs[IOLAB_MAX_GROUP_DEVICES] = {};
	struct iolab_ctx *ctx = ucmd->ctx;
	u32 i, n = 0;
	int rc = 0;

	if (cmd->flags)
		return -EOPNOTSUPP;
	if (!cmd->nr_devices || cmd->nr_devices > IOLAB_MAX_GROUP_DEVICES ||
	    iolab_mock_dev_flags_bad(cmd->dev_flags))
		return -EINVAL;

	for (n = 0; n != cmd->nr_devices; n++) {
		stdevs[n] = iolab_stdev_alloc(ctx, cmd->dev_flags,
					      n ? stdevs[0]->busdev : NULL);
		if (IS_ERR(stdevs[n])) {
			rc = PTR_ERR(stdevs[n]);
			goto err_undo;
		}
		info[n].stdev_id = stdevs[n]->obj.id;
		info[n].rid = iolab_busdev_hwdev(stdevs[n]->busdev)->rid;
	}
	if (copy_to_user(u64_to_user_ptr(cmd->devs_uptr), info,
			 sizeof(info[0]) * n)) {
		rc = -EFAULT;
		goto err_undo;
	}
	for (i = 0; i != n; i++)
		iolab_object_finalize(ctx, &stdevs[i]->obj);
	return 0;

err_undo:
	while (n--)
		iolab_object_abort_destroy(ctx, &stdevs[n]->obj);
	return rc;
}

int iolab_mock_set_driver(struct iolab_ucmd *ucmd)
{
	struct iommulab_mock_set_driver *cmd = ucmd->cmd;
	struct iolab_stdev *stdev;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->bound > 1)
		return -EINVAL;
	stdev = iolab_get_stdev(ucmd->ctx, cmd->stdev_id);
	if (IS_ERR(stdev))
		return PTR_ERR(stdev);
	rc = iolab_busdev_set_driver(stdev->busdev, cmd->bound);
	iolab_put_object(&stdev->obj);
	return rc;
}

/* The RID of a device object (bound device or stdev) of @ctx. */
static int iolab_rid_of_id(struct iolab_ctx *ctx, u32 id, u32 *rid)
{
	struct iolab_object *obj = iolab_get_object(ctx, id, IOLAB_OBJ_ANY);
	int rc = 0;

	if (IS_ERR(obj))
		return PTR_ERR(obj);
	if (obj->type == IOLAB_OBJ_DEVICE)
		*rid = iolab_idev_hwdev(container_of(obj, struct iolab_idev,
						     obj))->rid;
	else if (obj->type == IOLAB_OBJ_SELFTEST)
		*rid = iolab_busdev_hwdev(container_of(obj, struct iolab_stdev,
						       obj)->busdev)->rid;
	else
		rc = -ENOENT;
	iolab_put_object(obj);
	return rc;
}

/*
 * The flags IOMMULAB_MOCK_DMA and _BURST take, and the device and PASID of
 * their requests: @pasid with IOMMULAB_DMA_PASID (EINVAL for
 * IOMMULAB_NO_PASID), and @rid a requester ID, or with IOMMULAB_DMA_DEV_ID
 * an ID of @ctx (ENOENT, EPERM: see iolab_hwdev_for_dma()). On success the
 * caller holds *@busdevp and drops it with iolab_busdev_put().
 */
#define IOLAB_DMA_FLAGS \
	(IOMMULAB_DMA_WRITE | IOMMULAB_DMA_PASID | IOMMULAB_DMA_DEV_ID)

static struct iolab_hwdev *iolab_dma_resolve(struct iolab_ctx *ctx, u32 flags,
					     u32 rid, u32 pasid, u32 *hw_pasid,
					     struct iolab_busdev **busdevp)
{
	int rc;

	*hw_pasid = IOMMULAB_NO_PASID;
	if (flags & IOMMULAB_DMA_PASID) {
		if (pasid == IOMMULAB_NO_PASID)
			return ERR_PTR(-EINVAL);
		*hw_pasid = pasid;
	}
	if (flags & IOMMULAB_DMA_DEV_ID) {
		rc = iolab_rid_of_id(ctx, rid, &rid);
		if (rc)
			return ERR_PTR(rc);
	}
	return iolab_hwdev_for_dma(ctx, rid, busdevp);
}

/*
 * One request of a mock device, as iolab_mock_dma() issues it, with the
 * page requests of a device that makes them (IOMMULAB_MOCK_DEV_PRI): a
 * translation fault asks the HWPT's fault queue for the page, waits, and
 * on SUCCESS retries from the faulting byte. One page request per page:
 * a page still faulting after a SUCCESS faults for good. Return: 0 with
 * *@res as iolab_mock_dma() fills it (the reason a PRQ_* one when the
 * request was refused or answered so); EINTR; ENOMEM.
 */
static int iolab_dma_pri(struct iolab_ctx *ctx, struct iolab_busdev *busdev,
			 struct iolab_hwdev *dev, u32 pasid, u64 iova,
			 void *buf, u64 len, bool write,
			 struct iolab_dma_result *res)
{
	struct mock_hwdev *mdev = container_of(dev, struct mock_hwdev, dev);
	u64 done = 0, max_iopte = 0, asked = U64_MAX, page;
	u32 reason;
	int rc;

	for (;;) {
		iolab_mock_dma(mdev, pasid, iova + done, buf + done, len - done,
			       write, res);
		done += res->done;
		max_iopte = max(max_iopte, res->max_iopte);
		if ((res->fault_reason != IOMMULAB_DMA_FAULT_NOT_MAPPED &&
		     res->fault_reason != IOMMULAB_DMA_FAULT_PERMISSION) ||
		    !dev->ops->capable(dev, IOLAB_CAP_PRI))
			break;
		page = ALIGN_DOWN(res->fault_iova, SZ_4K);
		if (page == asked)
			break;
		asked = page;
		rc = iolab_fault_page_request(ctx, busdev, pasid, page, write,
					      &reason);
		if (rc < 0)
			return rc;
		if (rc)
			break;
		if (reason) {
			res->fault_reason = reason;
			break;
		}
	}
	res->done = done;
	res->max_iopte = max_iopte;
	return 0;
}

#define IOLAB_DMA_MAX SZ_64M
#define IOLAB_DMA_CHUNK SZ_1M

/* IOMMULAB_MOCK_DMA: a mock device reads or writes memory by IOVA. */
int iolab_mock_dma_ioctl(struct iolab_ucmd *ucmd)
{
	struct iommulab_mock_dma *cmd = ucmd->cmd;
	bool write = cmd->flags & IOMMULAB_DMA_WRITE;
	u8 __user *uptr = u64_to_user_ptr(cmd->uptr);
	struct iolab_dma_result res = {};
	struct iolab_busdev *busdev;
	struct iolab_hwdev *dev;
	u64 done = 0, max_iopte = 0, end;
	u32 pasid;
	void *buf;
	int rc = 0;

	if (cmd->flags & ~IOLAB_DMA_FLAGS || cmd->__reserved)
		return -EOPNOTSUPP;
	if (!cmd->length || cmd->length > IOLAB_DMA_MAX)
		return -EINVAL;
	/* A bad PASID (iolab_dma_resolve()) is EINVAL before EOVERFLOW */
	if ((cmd->flags & IOMMULAB_DMA_PASID) &&
	    cmd->pasid == IOMMULAB_NO_PASID)
		return -EINVAL;
	if (check_add_overflow(cmd->uptr, cmd->length, &end) ||
	    check_add_overflow(cmd->iova, cmd->length - 1, &end))
		return -EOVERFLOW;

	dev = iolab_dma_resolve(ucmd->ctx, cmd->flags, cmd->rid, cmd->pasid,
				&pasid, &busdev);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	buf = kvmalloc(min_t(u64, cmd->length, IOLAB_DMA_CHUNK),
		       GFP_KERNEL_ACCOUNT);
	if (!buf) {
		rc = -ENOMEM;
		goto out_put;
	}
	while (done < cmd->length) {
		u64 n = min_t(u64, cmd->length - done, IOLAB_DMA_CHUNK);

		if (write && copy_from_user(buf, uptr + done, n)) {
			rc = -EFAULT;
			break;
		}
		if (iolab_hwdev_is_subdev(dev)) {
			rc = iolab_subdev_dma(ucmd->ctx, dev,
					      cmd->flags & IOMMULAB_DMA_PASID,
					      cmd->pasid, cmd->iova + done, buf,
					      n, write, &res);
			if (rc)
				break;
		} else {
			rc = iolab_dma_pri(ucmd->ctx, busdev, dev, pasid,
					   cmd->iova + done, buf, n, write,
					   &res);
			if (rc)
				break;
		}
		if (!write && copy_to_user(uptr + done, buf, res.done)) {
			rc = -EFAULT;
			break;
		}
		done += res.done;
		max_iopte = max(max_iopte, res.max_iopte);
		if (res.fault_reason)
			break;
		cond_resched();
	}
	kvfree(buf);
	if (rc)
		goto out_put;
	cmd->out_done = done;
	cmd->out_fault_iova = res.fault_reason ? res.fault_iova : 0;
	cmd->out_fault_reason = res.fault_reason;
	cmd->out_max_iopte = max_iopte;
	rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
out_put:
	iolab_busdev_put(busdev);
	return rc;
}

#define IOLAB_BURST_MAX_NR 65536
#define IOLAB_BURST_MAX_LEN 4096
#define IOLAB_BURST_IOVAS 512

/* IOMMULAB_MOCK_DMA_BURST: many small requests of one device. */
int iolab_mock_dma_burst_ioctl(struct iolab_ucmd *ucmd)
{
	struct iommulab_mock_dma_burst *cmd = ucmd->cmd;
	u64 __user *uiovas = u64_to_user_ptr(cmd->iovas_uptr);
	bool write = cmd->flags & IOMMULAB_DMA_WRITE;
	struct iolab_dma_result res = {};
	struct iolab_busdev *busdev;
	struct iolab_hwdev *dev;
	u32 pasid, done = 0;
	u64 *iovas;
	void *buf;
	int rc = 0;

	if (cmd->flags & ~IOLAB_DMA_FLAGS || cmd->__reserved)
		return -EOPNOTSUPP;
	if (!cmd->nr || cmd->nr > IOLAB_BURST_MAX_NR || !cmd->length ||
	    cmd->length > IOLAB_BURST_MAX_LEN || cmd->value > U8_MAX ||
	    (!write && cmd->value))
		return -EINVAL;
	dev = iolab_dma_resolve(ucmd->ctx, cmd->flags, cmd->rid, cmd->pasid,
				&pasid, &busdev);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	buf = kmalloc(IOLAB_BURST_MAX_LEN, GFP_KERNEL_ACCOUNT);
	iovas = kmalloc_array(IOLAB_BURST_IOVAS, sizeof(*iovas),
			      GFP_KERNEL_ACCOUNT);
	if (!buf || !iovas) {
		rc = -ENOMEM;
		goto out_free;
	}
	memset(buf, cmd->value, cmd->length);
	while (done < cmd->nr && !res.fault_reason) {
		u32 n = min_t(u32, cmd->nr - done, IOLAB_BURST_IOVAS), i;

		if (copy_from_user(iovas, uiovas + done, n * sizeof(*iovas))) {
			rc = -EFAULT;
			break;
		}
		for (i = 0; i != n; i++) {
			u64 end;

			if (check_add_overflow(iovas[i], (u64)cmd->length - 1,
					       &end)) {
				res.fault_reason = IOMMULAB_DMA_FAULT_NOT_MAPPED;
				res.fault_iova = iovas[i];
				break;
			}
			if (iolab_hwdev_is_subdev(dev)) {
				rc = iolab_subdev_dma(ucmd->ctx, dev,
						      cmd->flags &
						      IOMMULAB_DMA_PASID,
						      cmd->pasid, iovas[i], buf,
						      cmd->length, write, &res);
				if (rc)
					break;
			} else {
				rc = iolab_dma_pri(ucmd->ctx, busdev, dev,
						   pasid, iovas[i], buf,
						   cmd->length, write, &res);
				if (rc)
					break;
			}
			if (res.fault_reason)
				break;
			done++;
		}
		if (rc)
			break;
		cond_resched();
	}
	if (rc)
		goto out_free;
	cmd->out_done = done;
	cmd->out_fault_reason = res.fault_reason;
	cmd->out_fault_iova = res.fault_reason ? res.fault_iova : 0;
	rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
out_free:
	kfree(iovas);
	kfree(buf);
	iolab_busdev_put(busdev);
	return rc;
}
