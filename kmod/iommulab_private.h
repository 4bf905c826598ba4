/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommulab: the one private header that ties the module's files together.
 *
 * Object model: every object a file descriptor creates lives in that fd's
 * context (struct iolab_ctx) under a u32 ID, with a users refcount. The
 * table holds one reference; every other holder (an in-flight ioctl, an
 * object that depends on it) holds one more. An object is destroyed only
 * when the table's reference is the last one, so IOMMU_DESTROY of an object
 * still in use fails with EBUSY instead of waiting.
 */
#ifndef _IOMMULAB_PRIVATE_H
#define _IOMMULAB_PRIVATE_H

#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include <iommulab/iommufd.h>
#include <iommulab/iommulab.h>

struct file;

enum iolab_obj_type {
	IOLAB_OBJ_NONE,
	IOLAB_OBJ_ANY = IOLAB_OBJ_NONE,
	IOLAB_OBJ_IOAS,
	IOLAB_OBJ_MAX,
};

/**
 * struct iolab_object - header embedded first in every object
 * @users: the table's reference plus one per user; see the file comment
 * @type: enum iolab_obj_type, fixed at allocation
 * @id: the ID user space names the object by, never 0
 */
struct iolab_object {
	refcount_t users;
	enum iolab_obj_type type;
	u32 id;
};

enum iolab_account_mode {
	IOLAB_ACCOUNT_USER = 0,
	IOLAB_ACCOUNT_MM = 1,
};

/**
 * struct iolab_ctx - everything one open /dev/iommu file descriptor owns
 * @file: the file this context belongs to
 * @objects: ID -> struct iolab_object. An ID allocated but not yet
 *	     finalized holds XA_ZERO_ENTRY, which lookups never return.
 *	     The xarray's own spinlock (xa_lock) protects the table, every
 *	     users count transition that removes an object, and @account_mode.
 * @account_mode: enum iolab_account_mode for pinned-memory accounting
 */
struct iolab_ctx {
	struct file *file;
	struct xarray objects;
	enum iolab_account_mode account_mode;
};

/**
 * struct iolab_ucmd - one ioctl call as the handlers see it
 * @ctx: the calling fd's context
 * @ubuffer: the user's argument structure
 * @user_size: the size the user declared in its first field
 * @cmd: kernel copy of the argument, zero-extended to the kernel's size
 */
struct iolab_ucmd {
	struct iolab_ctx *ctx;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

int iolab_ucmd_respond(struct iolab_ucmd *ucmd, size_t cmd_len);

/* Object lifecycle (main.c) */
struct iolab_object *_iolab_object_alloc(struct iolab_ctx *ctx, size_t size,
					 enum iolab_obj_type type);
/* @obj must come first so that an ERR_PTR converts unchanged. */
#define iolab_object_alloc(ctx, ptr, type)                                  \
	container_of(_iolab_object_alloc(ctx,                                \
					 sizeof(*(ptr)) +                    \
					 BUILD_BUG_ON_ZERO(offsetof(         \
						 typeof(*(ptr)), obj)),      \
					 type),                              \
		     typeof(*(ptr)), obj)
void iolab_object_finalize(struct iolab_ctx *ctx, struct iolab_object *obj);
void iolab_object_abort(struct iolab_ctx *ctx, struct iolab_object *obj);
struct iolab_object *iolab_get_object(struct iolab_ctx *ctx, u32 id,
				      enum iolab_obj_type type);
void iolab_put_object(struct iolab_object *obj);

/* IOAS (ioas.c) */

/**
 * struct iolab_ioas - an I/O address space
 * @obj: object header
 * @mutex: protects @disable_large_pages (and, later, the IOVA tree)
 * @disable_large_pages: IOMMU_OPTION_HUGE_PAGES was set to 0
 */
struct iolab_ioas {
	struct iolab_object obj;
	struct mutex mutex;
	bool disable_large_pages;
};

int iolab_ioas_alloc_ioctl(struct iolab_ucmd *ucmd);
void iolab_ioas_destroy(struct iolab_object *obj);
int iolab_ioas_option(struct iolab_ucmd *ucmd);

#endif
