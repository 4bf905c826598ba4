// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: IOAS objects, the user's I/O address spaces, and their ioctls.
 */
#include <linux/err.h>
#include <linux/slab.h>

#include "iommulab_private.h"

int iolab_ioas_alloc_ioctl(struct iolab_ucmd *ucmd)
{
	struct iommu_ioas_alloc *cmd = ucmd->cmd;
	struct iolab_ioas *ioas;
	int rc;

	if (cmd->flags)
		return -EOPNOTSUPP;

	ioas = iolab_object_alloc(ucmd->ctx, ioas, IOLAB_OBJ_IOAS);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	mutex_init(&ioas->mutex);

	cmd->out_ioas_id = ioas->obj.id;
	rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		mutex_destroy(&ioas->mutex);
		iolab_object_abort(ucmd->ctx, &ioas->obj);
		return rc;
	}
	iolab_object_finalize(ucmd->ctx, &ioas->obj);
	return 0;
}

void iolab_ioas_destroy(struct iolab_object *obj)
{
	struct iolab_ioas *ioas = container_of(obj, struct iolab_ioas, obj);

	mutex_destroy(&ioas->mutex);
}

/* IOMMU_OPTION_HUGE_PAGES: object_id names the IOAS. */
int iolab_ioas_option(struct iolab_ucmd *ucmd)
{
	struct iommu_option *cmd = ucmd->cmd;
	struct iolab_object *obj;
	struct iolab_ioas *ioas;
	int rc = 0;

	/* As upstream: the ID is checked before the op and the value. */
	obj = iolab_get_object(ucmd->ctx, cmd->object_id, IOLAB_OBJ_IOAS);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	ioas = container_of(obj, struct iolab_ioas, obj);

	mutex_lock(&ioas->mutex);
	if (cmd->op == IOMMU_OPTION_OP_GET)
		cmd->val64 = !ioas->disable_large_pages;
	else if (cmd->op != IOMMU_OPTION_OP_SET)
		rc = -EOPNOTSUPP;
	else if (cmd->val64 > 1)
		rc = -EINVAL;
	else
		ioas->disable_large_pages = !cmd->val64;
	mutex_unlock(&ioas->mutex);

	iolab_put_object(obj);
	return rc;
}
