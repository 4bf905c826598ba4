// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: the character device, the per-fd context, the object table and
 * the ioctl dispatch table.
 *
 * To follow a command: find its row in iolab_ioctl_ops[] below, then its
 * handler in the file named after the object it works on.
 */
#define pr_fmt(fmt) "iommulab: " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include <iommulab/iommufd_test.h>

#include "iommulab_private.h"

static char *devname = "iommu";
module_param(devname, charp, 0444);
MODULE_PARM_DESC(devname, "name of the device node under /dev (default: iommu)");

/*
 * Who may use the test interface: IOMMU_TEST_CMD and iommulab's mock and
 * benchmark commands (rows marked .test below). The test interface can
 * plug in devices, make them issue DMA and read page reference counts of
 * any page the caller can map, so it is a deliberate setting:
 *   0  nobody: the commands do not exist (ENOTTY), as on a kernel without
 *	CONFIG_IOMMUFD_TEST;
 *   1  only callers with CAP_SYS_ADMIN (others get EPERM);
 *   2  anyone who can open the device node (the default), as on an
 *	upstream kernel built with CONFIG_IOMMUFD_TEST.
 * Writable at run time (/sys/module/iommulab/parameters/test_ops); it is
 * checked at each call.
 */
static unsigned int test_ops = 2;
module_param(test_ops, uint, 0644);
MODULE_PARM_DESC(test_ops,
		 "test interface: 0 off (ENOTTY), 1 CAP_SYS_ADMIN only (EPERM), 2 anyone who can open the device (default)");

/* Objects alive in all contexts, allocated but not yet freed. */
static atomic_long_t iolab_nr_objects_all = ATOMIC_LONG_INIT(0);

/* Woken when a users reference is dropped; see iolab_object_destroy_wait(). */
static DECLARE_WAIT_QUEUE_HEAD(iolab_object_wait);

struct iolab_object_ops {
	void (*destroy)(struct iolab_object *obj);
};

static const struct iolab_object_ops iolab_object_ops[IOLAB_OBJ_MAX] = {
	[IOLAB_OBJ_IOAS] = { .destroy = iolab_ioas_destroy },
	[IOLAB_OBJ_DEVICE] = { .destroy = iolab_idev_destroy },
	[IOLAB_OBJ_HWPT_PAGING] = { .destroy = iolab_hwpt_destroy },
	[IOLAB_OBJ_HWPT_NESTED] = { .destroy = iolab_hwpt_destroy },
	[IOLAB_OBJ_SELFTEST] = { .destroy = iolab_selftest_destroy },
	[IOLAB_OBJ_VIOMMU] = { .destroy = iolab_viommu_destroy },
	[IOLAB_OBJ_IOASID_SET] = { .destroy = iolab_ioasid_set_destroy },
	[IOLAB_OBJ_FAULT] = { .destroy = iolab_fault_destroy },
};

static void iolab_object_free(struct iolab_object *obj)
{
	atomic_long_dec(&iolab_nr_objects_all);
	kfree(obj);
}

/*
 * Reserve an ID for a new object of @type. The object stays invisible to
 * every lookup until iolab_object_finalize(); iolab_object_abort() undoes
 * this call completely.
 */
struct iolab_object *iolab_object_alloc(struct iolab_ctx *ctx, size_t size,
					enum iolab_obj_type type)
{
	struct iolab_object *obj;
	int rc;

	obj = kzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!obj)
		return ERR_PTR(-ENOMEM);
	obj->type = type;
	refcount_set(&obj->users, 1);
	rc = xa_alloc(&ctx->objects, &obj->id, XA_ZERO_ENTRY, xa_limit_31b,
		      GFP_KERNEL_ACCOUNT);
	if (rc) {
		kfree(obj);
		return ERR_PTR(rc);
	}
	atomic_long_inc(&iolab_nr_objects_all);
	return obj;
}

/* Make a fully built object visible. Must not fail, so call it last. */
void iolab_object_finalize(struct iolab_ctx *ctx, struct iolab_object *obj)
{
	/* The slot holds our XA_ZERO_ENTRY, so this store needs no memory. */
	xa_store(&ctx->objects, obj->id, obj, GFP_KERNEL_ACCOUNT);
}

/* Free an object that was never finalized, as if it had never existed. */
void iolab_object_abort(struct iolab_ctx *ctx, struct iolab_object *obj)
{
	xa_erase(&ctx->objects, obj->id);
	iolab_object_free(obj);
}

/*
 * Undo a new object that its creator filled in but could not finalize (a
 * later step failed, or the answer to the user did not get through): its
 * type's destroy undoes the filling, then the ID is released unused.
 */
void iolab_object_abort_destroy(struct iolab_ctx *ctx,
				struct iolab_object *obj)
{
	iolab_object_ops[obj->type].destroy(obj);
	iolab_object_abort(ctx, obj);
}

/*
 * Look up @id and take a users reference on it. @type IOLAB_OBJ_ANY
 * matches every type. An unknown ID and an ID of another type both give
 * ENOENT, as upstream does.
 */
struct iolab_object *iolab_get_object(struct iolab_ctx *ctx, u32 id,
				      enum iolab_obj_type type)
{
	struct iolab_object *obj;

	xa_lock(&ctx->objects);
	obj = xa_load(&ctx->objects, id);
	if (!obj || (type != IOLAB_OBJ_ANY && obj->type != type) ||
	    !refcount_inc_not_zero(&obj->users))
		obj = ERR_PTR(-ENOENT);
	xa_unlock(&ctx->objects);
	return obj;
}

/*
 * Whether @id names a live object of any type, without a reference: for
 * the commands whose errno for an ID of the wrong type is EINVAL rather
 * than ENOENT (upstream looks those up as any type), so that asking never
 * makes the object look busy to IOMMU_DESTROY.
 */
bool iolab_object_exists(struct iolab_ctx *ctx, u32 id)
{
	bool exists;

	/* xa_load() returns NULL for an ID reserved but not finalized. */
	xa_lock(&ctx->objects);
	exists = xa_load(&ctx->objects, id);
	xa_unlock(&ctx->objects);
	return exists;
}

void iolab_put_object(struct iolab_object *obj)
{
	/*
	 * The table's reference (or, for an unpublished object, its
	 * destroyer's) outlives every other, so this never hits 0.
	 */
	refcount_dec(&obj->users);
	if (wq_has_sleeper(&iolab_object_wait))
		wake_up_all(&iolab_object_wait);
}

/**
 * iolab_object_unpublish() - take an object out of the table
 * @ctx: the fd
 * @obj: a finalized object of @ctx
 *
 * No lookup finds @obj afterwards; the table's reference becomes the
 * caller's, to be given to iolab_object_destroy_wait(). For objects that
 * die with the thing using them (an automatic HWPT with its last device, a
 * MOCK_DOMAIN device with its stdev), which user space cannot destroy.
 */
void iolab_object_unpublish(struct iolab_ctx *ctx, struct iolab_object *obj)
{
	xa_lock(&ctx->objects);
	if (xa_load(&ctx->objects, obj->id) == obj)
		__xa_erase(&ctx->objects, obj->id);
	xa_unlock(&ctx->objects);
}

/**
 * iolab_object_destroy_wait() - destroy an unpublished object
 * @obj: the object; the caller holds the table's former reference
 *
 * Waits until the ioctls that looked @obj up before it was unpublished
 * have dropped their short-term references (nothing can look it up any
 * more, and such objects have no long-term users left), then destroys it,
 * so that whatever @obj used (its IOAS) is free again when this returns:
 * a detach followed by IOMMU_DESTROY of the IOAS always works. Call it
 * with no lock held that such an ioctl may be waiting for.
 */
void iolab_object_destroy_wait(struct iolab_object *obj)
{
	wait_event(iolab_object_wait, refcount_read(&obj->users) == 1);
	iolab_object_ops[obj->type].destroy(obj);
	iolab_object_free(obj);
}

static int iolab_object_destroy_id(struct iolab_ctx *ctx, u32 id)
{
	struct iolab_object *obj;

	xa_lock(&ctx->objects);
	obj = xa_load(&ctx->objects, id);
	if (!obj) {
		xa_unlock(&ctx->objects);
		return -ENOENT;
	}
	if (!refcount_dec_if_one(&obj->users)) {
		xa_unlock(&ctx->objects);
		return -EBUSY;
	}
	__xa_erase(&ctx->objects, id);
	/* The compatibility IOAS is a plain pointer: forget it here. */
	if (ctx->vfio_ioas && &ctx->vfio_ioas->obj == obj)
		ctx->vfio_ioas = NULL;
	xa_unlock(&ctx->objects);

	iolab_object_ops[obj->type].destroy(obj);
	iolab_object_free(obj);
	return 0;
}

int iolab_ucmd_respond(struct iolab_ucmd *ucmd, size_t cmd_len)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min_t(size_t, ucmd->user_size, cmd_len)))
		return -EFAULT;
	return 0;
}

static int iolab_destroy(struct iolab_ucmd *ucmd)
{
	struct iommu_destroy *cmd = ucmd->cmd;

	return iolab_object_destroy_id(ucmd->ctx, cmd->id);
}

static int iolab_option_rlimit_mode(struct iolab_ucmd *ucmd)
{
	struct iommu_option *cmd = ucmd->cmd;
	struct iolab_ctx *ctx = ucmd->ctx;
	int rc = 0;

	if (cmd->object_id)
		return -EOPNOTSUPP;

	if (cmd->op == IOMMU_OPTION_OP_GET) {
		cmd->val64 = READ_ONCE(ctx->account_mode) == IOLAB_ACCOUNT_MM;
		return 0;
	}
	if (cmd->op != IOMMU_OPTION_OP_SET)
		return -EOPNOTSUPP;
	if (!capable(CAP_SYS_RESOURCE))
		return -EPERM;
	if (cmd->val64 > 1)
		return -EINVAL;

	/* Pages already charged one way must be returned the same way. */
	xa_lock(&ctx->objects);
	if (!xa_empty(&ctx->objects))
		rc = -EBUSY;
	else
		WRITE_ONCE(ctx->account_mode, cmd->val64 ? IOLAB_ACCOUNT_MM :
							    IOLAB_ACCOUNT_USER);
	xa_unlock(&ctx->objects);
	return rc;
}

static int iolab_option(struct iolab_ucmd *ucmd)
{
	struct iommu_option *cmd = ucmd->cmd;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	switch (cmd->option_id) {
	case IOMMU_OPTION_RLIMIT_MODE:
		rc = iolab_option_rlimit_mode(ucmd);
		break;
	case IOMMU_OPTION_HUGE_PAGES:
		rc = iolab_ioas_option(ucmd);
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (rc)
		return rc;
	return iolab_ucmd_respond(ucmd, sizeof(*cmd));
}

static int iolab_get_info(struct iolab_ucmd *ucmd)
{
	struct iommulab_info *cmd = ucmd->cmd;
	struct iolab_ctx *ctx = ucmd->ctx;
	struct iolab_object *obj;
	unsigned long index;
	u32 nr = 0;

	if (cmd->flags)
		return -EOPNOTSUPP;

	xa_lock(&ctx->objects);
	xa_for_each(&ctx->objects, index, obj)
		nr++;
	xa_unlock(&ctx->objects);

	cmd->out_abi_version = IOMMULAB_ABI_VERSION;
	cmd->out_nr_objects = nr;
	cmd->out_features = IOMMULAB_FEATURE_IOAS | IOMMULAB_FEATURE_OPTION |
			    IOMMULAB_FEATURE_IOAS_MAP |
			    IOMMULAB_FEATURE_TEST_ACCESS |
			    IOMMULAB_FEATURE_MOCK_IOMMU;
	cmd->out_nr_objects_all = atomic_long_read(&iolab_nr_objects_all);
	cmd->out_fd_id = ctx->notify_id;
	cmd->out_fd_uid = from_kuid_munged(current_user_ns(), ctx->notify_uid);
	return iolab_ucmd_respond(ucmd, sizeof(*cmd));
}

/*
 * The handler of every upstream command iommulab does not implement yet.
 * The dispatcher has applied the size rules (EINVAL, E2BIG) by now, as
 * upstream does before any handler runs; what upstream's handler would
 * check next, a non-zero reserved field or an unknown flag, it refuses
 * with EOPNOTSUPP, the answer given here for every argument. So a program
 * learns exactly what an upstream kernel without the feature tells it, and
 * ENOTTY stays for numbers upstream does not know.
 */
static int iolab_cmd_not_implemented(struct iolab_ucmd *ucmd)
{
	return -EOPNOTSUPP;
}

/* Large enough for the argument of every command in iolab_ioctl_ops[]. */
union iolab_ucmd_buffer {
	struct iommu_destroy destroy;
	struct iommu_fault_alloc fault_alloc;
	struct iommu_hw_info hw_info;
	struct iommu_hw_queue_alloc hw_queue_alloc;
	struct iommu_hwpt_alloc hwpt_alloc;
	struct iommu_hwpt_get_dirty_bitmap get_dirty_bitmap;
	struct iommu_hwpt_invalidate hwpt_invalidate;
	struct iommu_hwpt_set_dirty_tracking set_dirty_tracking;
	struct iommulab_mock_group_alloc mock_group_alloc;
	struct iommulab_device_bind device_bind;
	struct iommulab_device_attach device_attach;
	struct iommulab_device_detach device_detach;
	struct iommulab_device_pasid device_pasid;
	struct iommulab_aux aux;
	struct iommulab_aux_get_domain aux_get_domain;
	struct iommulab_mock_subdev_alloc mock_subdev_alloc;
	struct iommulab_ioasid_set_alloc ioasid_set_alloc;
	struct iommulab_ioasid ioasid;
	struct iommulab_ioasid_set_info ioasid_set_info;
	struct iommulab_mock_set_driver mock_set_driver;
	struct iommulab_mock_dma mock_dma;
	struct iommulab_mock_dma_burst mock_dma_burst;
	struct iommulab_ioas_unmap_dirty ioas_unmap_dirty;
	struct iommulab_hwpt_iopte hwpt_iopte;
	struct iommu_ioas_alloc ioas_alloc;
	struct iommu_ioas_allow_iovas allow_iovas;
	struct iommu_ioas_change_process change_process;
	struct iommu_ioas_copy ioas_copy;
	struct iommu_ioas_iova_ranges iova_ranges;
	struct iommu_ioas_map map;
	struct iommu_ioas_map_file map_file;
	struct iommu_ioas_unmap unmap;
	struct iommu_option option;
	struct iommu_vdevice_alloc vdevice_alloc;
	struct iommu_veventq_alloc veventq_alloc;
	struct iommu_vfio_ioas vfio_ioas;
	struct iommu_viommu_alloc viommu_alloc;
	struct iommu_test_cmd test;
	struct iommulab_info info;
	struct iommulab_bench_pin bench_pin;
};

/**
 * struct iolab_ioctl_op - one row of the dispatch table
 * @size: the kernel's size of the argument structure
 * @min_size: end of the last mandatory field; a smaller user size is EINVAL
 * @ioctl_num: the full ioctl number, checked against the caller's
 * @test: part of the test interface, governed by the test_ops parameter
 * @execute: the handler
 */
struct iolab_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	unsigned int ioctl_num;
	bool test;
	int (*execute)(struct iolab_ucmd *ucmd);
};

#define __IOLAB_IOCTL_OP(_ioctl, _fn, _struct, _last, _test)                 \
	{                                                                    \
		.size = sizeof(_struct) +                                    \
			BUILD_BUG_ON_ZERO(sizeof(union iolab_ucmd_buffer) <  \
					  sizeof(_struct)),                  \
		.min_size = offsetofend(_struct, _last),                     \
		.ioctl_num = _ioctl,                                         \
		.test = _test,                                               \
		.execute = _fn,                                              \
	}
#define IOLAB_IOCTL_OP(_ioctl, _fn, _struct, _last)                          \
	__IOLAB_IOCTL_OP(_ioctl, _fn, _struct, _last, false)
#define IOLAB_TEST_OP(_ioctl, _fn, _struct, _last)                           \
	__IOLAB_IOCTL_OP(_ioctl, _fn, _struct, _last, true)

/*
 * The dispatch table: one row per command, upstream's numbers (0x80...)
 * and iommulab's extension range (0xc0...) alike. Every number upstream
 * defines has a row, with upstream's last mandatory field, implemented or
 * not (iolab_cmd_not_implemented()). A number with no row is an unknown
 * command (ENOTTY).
 */
static const struct iolab_ioctl_op iolab_ioctl_ops[] = {
	IOLAB_IOCTL_OP(IOMMU_DESTROY, iolab_destroy, struct iommu_destroy, id),
	IOLAB_IOCTL_OP(IOMMU_FAULT_QUEUE_ALLOC, iolab_fault_alloc_ioctl,
		       struct iommu_fault_alloc, out_fault_fd),
	IOLAB_IOCTL_OP(IOMMU_GET_HW_INFO, iolab_get_hw_info,
		       struct iommu_hw_info, __reserved),
	IOLAB_IOCTL_OP(IOMMU_HW_QUEUE_ALLOC, iolab_cmd_not_implemented,
		       struct iommu_hw_queue_alloc, length),
	IOLAB_IOCTL_OP(IOMMU_HWPT_ALLOC, iolab_hwpt_alloc_ioctl,
		       struct iommu_hwpt_alloc, __reserved),
	IOLAB_IOCTL_OP(IOMMU_HWPT_GET_DIRTY_BITMAP, iolab_hwpt_get_dirty_bitmap,
		       struct iommu_hwpt_get_dirty_bitmap, data),
	IOLAB_IOCTL_OP(IOMMU_HWPT_INVALIDATE, iolab_hwpt_invalidate,
		       struct iommu_hwpt_invalidate, __reserved),
	IOLAB_IOCTL_OP(IOMMU_HWPT_SET_DIRTY_TRACKING,
		       iolab_hwpt_set_dirty_tracking,
		       struct iommu_hwpt_set_dirty_tracking, __reserved),
	IOLAB_IOCTL_OP(IOMMU_IOAS_ALLOC, iolab_ioas_alloc_ioctl,
		       struct iommu_ioas_alloc, out_ioas_id),
	IOLAB_IOCTL_OP(IOMMU_IOAS_ALLOW_IOVAS, iolab_ioas_allow_iovas,
		       struct iommu_ioas_allow_iovas, allowed_iovas),
	IOLAB_IOCTL_OP(IOMMU_IOAS_COPY, iolab_ioas_copy, struct iommu_ioas_copy,
		       src_iova),
	IOLAB_IOCTL_OP(IOMMU_IOAS_IOVA_RANGES, iolab_ioas_iova_ranges,
		       struct iommu_ioas_iova_ranges, out_iova_alignment),
	IOLAB_IOCTL_OP(IOMMU_IOAS_MAP, iolab_ioas_map, struct iommu_ioas_map,
		       iova),
	IOLAB_IOCTL_OP(IOMMU_IOAS_MAP_FILE, iolab_ioas_map_file,
		       struct iommu_ioas_map_file, iova),
	IOLAB_IOCTL_OP(IOMMU_IOAS_CHANGE_PROCESS, iolab_ioas_change_process,
		       struct iommu_ioas_change_process, __reserved),
	IOLAB_IOCTL_OP(IOMMU_IOAS_UNMAP, iolab_ioas_unmap,
		       struct iommu_ioas_unmap, length),
	IOLAB_IOCTL_OP(IOMMU_OPTION, iolab_option, struct iommu_option, val64),
	IOLAB_IOCTL_OP(IOMMU_VDEVICE_ALLOC, iolab_cmd_not_implemented,
		       struct iommu_vdevice_alloc, virt_id),
	IOLAB_IOCTL_OP(IOMMU_VEVENTQ_ALLOC, iolab_cmd_not_implemented,
		       struct iommu_veventq_alloc, out_veventq_fd),
	IOLAB_IOCTL_OP(IOMMU_VFIO_IOAS, iolab_vfio_ioas, struct iommu_vfio_ioas,
		       __reserved),
	IOLAB_IOCTL_OP(IOMMU_VIOMMU_ALLOC, iolab_viommu_alloc_ioctl,
		       struct iommu_viommu_alloc, out_viommu_id),
	IOLAB_TEST_OP(IOMMU_TEST_CMD, iolab_test_cmd, struct iommu_test_cmd,
		      last),
	IOLAB_IOCTL_OP(IOMMULAB_GET_INFO, iolab_get_info, struct iommulab_info,
		       out_nr_objects_all),
	IOLAB_TEST_OP(IOMMULAB_BENCH_PIN, iolab_bench_pin,
		      struct iommulab_bench_pin, out_unpin_ns),
	IOLAB_TEST_OP(IOMMULAB_MOCK_GROUP_ALLOC, iolab_mock_group_alloc,
		      struct iommulab_mock_group_alloc, devs_uptr),
	IOLAB_IOCTL_OP(IOMMULAB_DEVICE_BIND, iolab_idev_bind_ioctl,
		       struct iommulab_device_bind, cookie),
	IOLAB_IOCTL_OP(IOMMULAB_DEVICE_ATTACH, iolab_idev_attach_ioctl,
		       struct iommulab_device_attach, __reserved),
	IOLAB_IOCTL_OP(IOMMULAB_DEVICE_DETACH, iolab_idev_detach_ioctl,
		       struct iommulab_device_detach, dev_id),
	IOLAB_IOCTL_OP(IOMMULAB_DEVICE_PASID, iolab_idev_pasid_ioctl,
		       struct iommulab_device_pasid, pt_id),
	IOLAB_IOCTL_OP(IOMMULAB_AUX_ATTACH, iolab_aux_attach_ioctl,
		       struct iommulab_aux, __reserved),
	IOLAB_IOCTL_OP(IOMMULAB_AUX_DETACH, iolab_aux_detach_ioctl,
		       struct iommulab_aux, __reserved),
	IOLAB_IOCTL_OP(IOMMULAB_AUX_GET_PASID, iolab_aux_get_pasid_ioctl,
		       struct iommulab_aux, __reserved),
	IOLAB_IOCTL_OP(IOMMULAB_AUX_GET_DOMAIN, iolab_aux_get_domain_ioctl,
		       struct iommulab_aux_get_domain, __reserved),
	IOLAB_IOCTL_OP(IOMMULAB_IOASID_SET_ALLOC, iolab_ioasid_set_alloc_ioctl,
		       struct iommulab_ioasid_set_alloc, out_token_id),
	IOLAB_IOCTL_OP(IOMMULAB_IOASID, iolab_ioasid_ioctl,
		       struct iommulab_ioasid, vpasid),
	IOLAB_IOCTL_OP(IOMMULAB_IOASID_SET_INFO, iolab_ioasid_set_info_ioctl,
		       struct iommulab_ioasid_set_info, out_token_id),
	IOLAB_TEST_OP(IOMMULAB_MOCK_SET_DRIVER, iolab_mock_set_driver,
		      struct iommulab_mock_set_driver, __reserved),
	IOLAB_TEST_OP(IOMMULAB_MOCK_DMA, iolab_mock_dma_ioctl,
		      struct iommulab_mock_dma, __reserved),
	IOLAB_TEST_OP(IOMMULAB_MOCK_SUBDEV_ALLOC, iolab_mock_subdev_alloc,
		      struct iommulab_mock_subdev_alloc, __reserved),
	IOLAB_TEST_OP(IOMMULAB_MOCK_DMA_BURST, iolab_mock_dma_burst_ioctl,
		      struct iommulab_mock_dma_burst, out_fault_iova),
	IOLAB_IOCTL_OP(IOMMULAB_IOAS_UNMAP_DIRTY, iolab_ioas_unmap_dirty,
		       struct iommulab_ioas_unmap_dirty, out_nr_dirty),
	IOLAB_IOCTL_OP(IOMMULAB_HWPT_SPLIT, iolab_hwpt_split,
		       struct iommulab_hwpt_iopte, out_iopte_after),
	IOLAB_IOCTL_OP(IOMMULAB_HWPT_MERGE, iolab_hwpt_merge,
		       struct iommulab_hwpt_iopte, out_iopte_after),
};

static const struct iolab_ioctl_op *iolab_find_op(unsigned int cmd)
{
	unsigned int i;

	for (i = 0; i != ARRAY_SIZE(iolab_ioctl_ops); i++)
		if (iolab_ioctl_ops[i].ioctl_num == cmd)
			return &iolab_ioctl_ops[i];
	return NULL;
}

static long iolab_fops_ioctl(struct file *filp, unsigned int cmd,
			     unsigned long arg)
{
	const struct iolab_ioctl_op *op;
	union iolab_ucmd_buffer buf;
	struct iolab_ucmd ucmd = {
		.ctx = filp->private_data,
		.ubuffer = (void __user *)arg,
		.cmd = &buf,
	};
	int rc;

	op = iolab_find_op(cmd);
	/* Not an iommufd number: a VFIO container ioctl, or ENOTTY. */
	if (!op)
		return iolab_vfio_ioctl(ucmd.ctx, cmd, arg);
	if (op->test) {
		unsigned int mode = READ_ONCE(test_ops);

		if (!mode)
			return -ENOTTY;
		if (mode == 1 && !capable(CAP_SYS_ADMIN))
			return -EPERM;
	}

	if (get_user(ucmd.user_size, (u32 __user *)ucmd.ubuffer))
		return -EFAULT;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;
	rc = copy_struct_from_user(ucmd.cmd, op->size, ucmd.ubuffer,
				   ucmd.user_size);
	if (rc)
		return rc;
	return op->execute(&ucmd);
}

static int iolab_fops_open(struct inode *inode, struct file *filp)
{
	struct iolab_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;
	xa_init_flags(&ctx->objects, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	ctx->file = filp;
	ctx->account_mode = IOLAB_ACCOUNT_USER;
	ctx->pin_batch = IOLAB_DEFAULT_PIN_BATCH;
	mutex_init(&ctx->attach_lock);
	iolab_notify_ctx_init(ctx, filp);
	filp->private_data = ctx;
	return 0;
}

/*
 * Objects reference each other (a user holds a users count on what it
 * uses), so destroy in rounds: each round removes every object nobody else
 * uses, which releases the objects those used, until the table is empty.
 */
static int iolab_fops_release(struct inode *inode, struct file *filp)
{
	struct iolab_ctx *ctx = filp->private_data;
	struct iolab_object *obj;
	unsigned long index;

	/* The owner's PASIDs go first: they hold the IOASID set. */
	iolab_ioasid_ctx_close(ctx);
	while (!xa_empty(&ctx->objects)) {
		unsigned int destroyed = 0;

		xa_for_each(&ctx->objects, index, obj) {
			if (!refcount_dec_if_one(&obj->users))
				continue;
			xa_erase(&ctx->objects, index);
			iolab_object_ops[obj->type].destroy(obj);
			iolab_object_free(obj);
			destroyed++;
		}
		if (!destroyed) {
			/* A reference cycle: a module bug, never user input. */
			pr_err("objects left at close, leaking them\n");
			break;
		}
	}
	xa_destroy(&ctx->objects);
	iolab_ioasid_ctx_release(ctx);
	mutex_destroy(&ctx->attach_lock);
	kfree(ctx);
	return 0;
}

static const struct file_operations iolab_fops = {
	.owner = THIS_MODULE,
	.open = iolab_fops_open,
	.release = iolab_fops_release,
	.unlocked_ioctl = iolab_fops_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice iolab_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.fops = &iolab_fops,
	.mode = 0660,
};

static int __init iolab_init(void)
{
	int rc;

	iolab_misc.name = devname;
	iolab_misc.nodename = devname;
	/* Events can be sent as soon as the device node exists. */
	rc = iolab_notify_init();
	if (rc)
		return rc;
	rc = misc_register(&iolab_misc);
	if (rc) {
		iolab_notify_exit();
		return rc;
	}
	pr_info("ready on /dev/%s\n", devname);
	return 0;
}

static void __exit iolab_exit(void)
{
	misc_deregister(&iolab_misc);
	iolab_notify_exit();
	iolab_ioasid_exit();
	iolab_subdev_exit();
}

module_init(iolab_init);
module_exit(iolab_exit);

MODULE_DESCRIPTION("iommufd-style objects over a mock IOMMU, for testing and reference");
MODULE_LICENSE("GPL");
