// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: the VFIO compatibility layer. For now only IOMMU_VFIO_IOAS,
 * which chooses the fd's compatibility IOAS: the one IOAS that the VFIO
 * type1 container interface, which names no IOAS, will work on.
 */
#include <linux/err.h>

#include "iommulab_private.h"

int iolab_vfio_ioas(struct iolab_ucmd *ucmd)
{
	struct iommu_vfio_ioas *cmd = ucmd->cmd;
	struct iolab_ctx *ctx = ucmd->ctx;
	struct iolab_ioas *ioas;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	switch (cmd->op) {
	case IOMMU_VFIO_IOAS_GET:
		/* Under xa_lock the IOAS cannot be destroyed (see iolab_ctx). */
		xa_lock(&ctx->objects);
		ioas = ctx->vfio_ioas;
		if (ioas)
			cmd->ioas_id = ioas->obj.id;
		xa_unlock(&ctx->objects);
		if (!ioas)
			return -ENODEV;
		return iolab_ucmd_respond(ucmd, sizeof(*cmd));
	case IOMMU_VFIO_IOAS_SET:
		ioas = iolab_get_ioas(ctx, cmd->ioas_id);
		if (IS_ERR(ioas))
			return PTR_ERR(ioas);
		xa_lock(&ctx->objects);
		ctx->vfio_ioas = ioas;
		xa_unlock(&ctx->objects);
		iolab_put_object(&ioas->obj);
		return 0;
	case IOMMU_VFIO_IOAS_CLEAR:
		xa_lock(&ctx->objects);
		ctx->vfio_ioas = NULL;
		xa_unlock(&ctx->objects);
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}
