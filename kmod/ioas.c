// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: IOAS objects, the user's I/O address spaces, and their ioctls.
 * The IOVA bookkeeping itself is in io_pagetable.c, pinning in pages.c.
 */
#include <linux/err.h>
#include <linux/file.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "iommulab_private.h"

#define IOLAB_MAP_FLAGS                                                     \
	(IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE |              \
	 IOMMU_IOAS_MAP_READABLE)

struct iolab_ioas *iolab_get_ioas(struct iolab_ctx *ctx, u32 id)
{
	struct iolab_object *obj = iolab_get_object(ctx, id, IOLAB_OBJ_IOAS);

	if (IS_ERR(obj))
		return ERR_CAST(obj);
	return container_of(obj, struct iolab_ioas, obj);
}

static void iolab_put_ioas(struct iolab_ioas *ioas)
{
	iolab_put_object(&ioas->obj);
}

int iolab_ioas_alloc_ioctl(struct iolab_ucmd *ucmd)
{
	struct iommu_ioas_alloc *cmd = ucmd->cmd;
	struct iolab_ioas *ioas;
	int rc;

	if (cmd->flags)
		return -EOPNOTSUPP;

	ioas = (struct iolab_ioas *)iolab_object_alloc(ucmd->ctx, sizeof(*ioas),
						       IOLAB_OBJ_IOAS);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	iolab_iopt_init(&ioas->iopt);
	mutex_init(&ioas->access_lock);
	INIT_LIST_HEAD(&ioas->accesses);
	INIT_LIST_HEAD(&ioas->hwpts);

	cmd->out_ioas_id = ioas->obj.id;
	rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		iolab_object_abort_destroy(ucmd->ctx, &ioas->obj);
		return rc;
	}
	iolab_object_finalize(ucmd->ctx, &ioas->obj);
	return 0;
}

/* Nothing can use the IOAS any more: every access held a reference. */
void iolab_ioas_destroy(struct iolab_object *obj)
{
	struct iolab_ioas *ioas = container_of(obj, struct iolab_ioas, obj);

	/* Frees every area and its pins; it cannot fail. */
	iolab_iopt_destroy(&ioas->iopt);
	mutex_destroy(&ioas->access_lock);
}

/* IOMMU_OPTION_HUGE_PAGES: object_id names the IOAS. */
int iolab_ioas_option(struct iolab_ucmd *ucmd)
{
	struct iommu_option *cmd = ucmd->cmd;
	struct iolab_ioas *ioas;
	int rc = 0;

	/* As upstream: the ID is checked before the op and the value. */
	ioas = iolab_get_ioas(ucmd->ctx, cmd->object_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	if (cmd->op == IOMMU_OPTION_OP_GET) {
		down_read(&ioas->iopt.rwsem);
		cmd->val64 = !ioas->iopt.disable_large_pages;
		up_read(&ioas->iopt.rwsem);
	} else if (cmd->op != IOMMU_OPTION_OP_SET) {
		rc = -EOPNOTSUPP;
	} else if (cmd->val64 > 1) {
		rc = -EINVAL;
	} else {
		/* Off raises the IOVA alignment: see the function. */
		rc = iolab_iopt_set_large_pages(&ioas->iopt, cmd->val64);
	}

	iolab_put_ioas(ioas);
	return rc;
}

static int iolab_prot_of(u32 flags)
{
	return (flags & IOMMU_IOAS_MAP_READABLE ? IOLAB_PROT_READ : 0) |
	       (flags & IOMMU_IOAS_MAP_WRITEABLE ? IOLAB_PROT_WRITE : 0);
}

/* Ask every access on @arg (an IOAS) to drop its pins in the range. */
static void iolab_ioas_notify_unmap(void *arg, u64 iova, u64 last)
{
	struct iolab_ioas *ioas = arg;
	struct iolab_access *access;

	mutex_lock(&ioas->access_lock);
	list_for_each_entry(access, &ioas->accesses, item)
		access->ops->unmap(access->data, iova, last);
	mutex_unlock(&ioas->access_lock);
}

int iolab_ioas_unmap_range(struct iolab_ioas *ioas, u64 iova, u64 length,
			   u64 *unmapped)
{
	u64 last;

	*unmapped = 0;
	if (!length)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	return iolab_iopt_unmap(&ioas->iopt, iova, last, unmapped,
				iolab_ioas_notify_unmap, ioas);
}

/* Read & unmap: iolab_ioas_unmap_range() filling the pinned bitmap @ub. */
int iolab_ioas_unmap_range_dirty(struct iolab_ioas *ioas, u64 iova,
				 u64 length, u64 *unmapped,
				 struct iolab_ubitmap *ub)
{
	*unmapped = 0;
	return iolab_iopt_unmap_dirty(&ioas->iopt, iova, iova + (length - 1),
				      unmapped, iolab_ioas_notify_unmap, ioas,
				      ub);
}

/* Unmap everything; an IOAS with nothing mapped is not an error. */
int iolab_ioas_unmap_all(struct iolab_ioas *ioas, u64 *unmapped)
{
	int rc;

	*unmapped = 0;
	rc = iolab_iopt_unmap(&ioas->iopt, 0, ULONG_MAX, unmapped,
			      iolab_ioas_notify_unmap, ioas);
	return rc == -ENOENT ? 0 : rc;
}

/* MAP's and MAP_FILE's checks before any lookup, in upstream's order. */
static int iolab_map_check(u32 flags, u32 reserved, u64 iova, u64 length)
{
	if (flags & ~IOLAB_MAP_FLAGS || reserved)
		return -EOPNOTSUPP;
	if (iova >= ULONG_MAX || length >= ULONG_MAX)
		return -EOVERFLOW;
	if (!(flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
		return -EINVAL;
	return 0;
}

/*
 * Map @length bytes of @pages from @start_byte into @ioas at *@iova
 * (chosen unless FIXED_IOVA in @flags), then answer the user; a failed
 * answer unmaps again. Consumes the caller's references on @pages and on
 * @ioas; an ERR_PTR @pages is returned as the error.
 */
static int iolab_ioas_map_pages(struct iolab_ucmd *ucmd,
				struct iolab_ioas *ioas,
				struct iolab_pages *pages, u64 start_byte,
				u64 length, u32 flags, u64 *iova,
				size_t cmd_len)
{
	u64 at = *iova, unmapped;
	int rc;

	if (IS_ERR(pages)) {
		rc = PTR_ERR(pages);
		goto out_put;
	}
	rc = iolab_iopt_map_pages(&ioas->iopt, pages, start_byte, length, &at,
				  iolab_prot_of(flags),
				  flags & IOMMU_IOAS_MAP_FIXED_IOVA);
	/* On success the area holds its own reference. */
	iolab_pages_put(pages);
	if (!rc) {
		*iova = at;
		rc = iolab_ucmd_respond(ucmd, cmd_len);
		if (rc)
			iolab_ioas_unmap_range(ioas, at, length, &unmapped);
	}
out_put:
	iolab_put_ioas(ioas);
	return rc;
}

int iolab_ioas_map(struct iolab_ucmd *ucmd)
{
	struct iommu_ioas_map *cmd = ucmd->cmd;
	struct iolab_pages *pages;
	struct iolab_ioas *ioas;
	int rc;

	rc = iolab_map_check(cmd->flags, cmd->__reserved, cmd->iova,
			     cmd->length);
	if (rc)
		return rc;
	ioas = iolab_get_ioas(ucmd->ctx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	/* Remembered, not pinned: the first domain or access pins. */
	pages = iolab_pages_alloc_user(ucmd->ctx, cmd->user_va, cmd->length,
				       cmd->flags & IOMMU_IOAS_MAP_WRITEABLE);
	return iolab_ioas_map_pages(ucmd, ioas, pages,
				    IS_ERR(pages) ? 0 :
						    cmd->user_va - pages->uptr,
				    cmd->length, cmd->flags, &cmd->iova,
				    sizeof(*cmd));
}

/* IOMMU_IOAS_MAP_FILE: as MAP, with a range of a memfd for memory. */
int iolab_ioas_map_file(struct iolab_ucmd *ucmd)
{
	struct iommu_ioas_map_file *cmd = ucmd->cmd;
	struct iolab_pages *pages;
	struct iolab_ioas *ioas;
	struct file *file;
	int rc;

	rc = iolab_map_check(cmd->flags, 0, cmd->iova, cmd->length);
	if (rc)
		return rc;
	ioas = iolab_get_ioas(ucmd->ctx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	file = fget(cmd->fd);
	if (!file) {
		iolab_put_ioas(ioas);
		return -EBADF;
	}
	pages = iolab_pages_alloc_file(ucmd->ctx, file, cmd->start,
				       cmd->length,
				       cmd->flags & IOMMU_IOAS_MAP_WRITEABLE);
	fput(file);
	return iolab_ioas_map_pages(ucmd, ioas, pages,
				    IS_ERR(pages) ? 0 :
						    cmd->start - pages->uptr,
				    cmd->length, cmd->flags, &cmd->iova,
				    sizeof(*cmd));
}

/*
 * Every IOAS of @ctx, each with a users reference, in a kvmalloc'ed array
 * of *@nr. Counted, then taken under the table's lock; if more have come
 * in between, taken again, so that none is missed. (One made afterwards
 * shares no source with these: a COPY out of them waits for their locks.)
 */
static struct iolab_ioas **iolab_ctx_get_ioases(struct iolab_ctx *ctx,
						unsigned int *nr)
{
	struct iolab_object *obj;
	unsigned long id;

	for (;;) {
		struct iolab_ioas **ioases;
		unsigned int max = 0, n = 0;
		bool more = false;

		xa_lock(&ctx->objects);
		xa_for_each(&ctx->objects, id, obj)
			max += !xa_is_zero(obj) && obj->type == IOLAB_OBJ_IOAS;
		xa_unlock(&ctx->objects);
		ioases = kvcalloc(max ?: 1, sizeof(*ioases),
				  GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (!ioases)
			return ERR_PTR(-ENOMEM);
		xa_lock(&ctx->objects);
		xa_for_each(&ctx->objects, id, obj) {
			if (xa_is_zero(obj) || obj->type != IOLAB_OBJ_IOAS)
				continue;
			if (n == max) {
				more = true;
				break;
			}
			if (refcount_inc_not_zero(&obj->users))
				ioases[n++] = container_of(obj, struct iolab_ioas,
							   obj);
		}
		xa_unlock(&ctx->objects);
		if (!more) {
			*nr = n;
			return ioases;
		}
		while (n--)
			iolab_put_ioas(ioases[n]);
		kvfree(ioases);
		cond_resched();
	}
}

/*
 * IOMMU_IOAS_CHANGE_PROCESS: the calling process takes over the pinned
 * memory of every mapping of every IOAS of the fd: its charge now, and
 * every later pin. Only IOAS_MAP_FILE mappings can move (a user address
 * means nothing in another mm): any other mapping is EINVAL. All the
 * IOASes are locked for the whole call, so it moves everything or, on
 * failure (EINVAL, ENOMEM past the caller's RLIMIT_MEMLOCK), nothing.
 */
int iolab_ioas_change_process(struct iolab_ucmd *ucmd)
{
	struct iommu_ioas_change_process *cmd = ucmd->cmd;
	struct iolab_ctx *ctx = ucmd->ctx;
	struct iolab_pages *pages, *undo, *next;
	struct iolab_ioas **ioases;
	unsigned int n = 0, i;
	LIST_HEAD(sources);
	int rc = 0;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	mutex_lock(&ctx->attach_lock);
	ioases = iolab_ctx_get_ioases(ctx, &n);
	if (IS_ERR(ioases)) {
		rc = PTR_ERR(ioases);
		goto out_unlock;
	}
	/* Many rwsems of one class: lockdep takes attach_lock's word. */
	for (i = 0; i != n; i++) {
		down_write_nest_lock(&ioases[i]->iopt.rwsem, &ctx->attach_lock);
		cond_resched();
	}

	for (i = 0; i != n && !rc; i++)
		rc = iolab_iopt_collect_pages(&ioases[i]->iopt, &sources);
	if (rc)
		goto out_release;
	list_for_each_entry(pages, &sources, move_item) {
		rc = iolab_pages_charge_current(pages);
		if (rc) {
			list_for_each_entry(undo, &sources, move_item) {
				if (undo == pages)
					break;
				iolab_pages_uncharge_current(undo);
			}
			goto out_release;
		}
	}
	list_for_each_entry(pages, &sources, move_item) {
		iolab_pages_move_to_current(pages);
		cond_resched();
	}

out_release:
	list_for_each_entry_safe(pages, next, &sources, move_item)
		list_del_init(&pages->move_item);
	for (i = 0; i != n; i++) {
		up_write(&ioases[i]->iopt.rwsem);
		iolab_put_ioas(ioases[i]);
		cond_resched();
	}
	kvfree(ioases);
out_unlock:
	mutex_unlock(&ctx->attach_lock);
	return rc;
}

int iolab_ioas_copy(struct iolab_ucmd *ucmd)
{
	struct iommu_ioas_copy *cmd = ucmd->cmd;
	struct iolab_ioas *src, *dst;
	struct iolab_pages *pages;
	u64 iova = cmd->dst_iova;
	u64 start_byte, unmapped;
	int rc;

	if (cmd->flags & ~IOLAB_MAP_FLAGS)
		return -EOPNOTSUPP;
	if (cmd->length >= ULONG_MAX || cmd->src_iova >= ULONG_MAX ||
	    cmd->dst_iova >= ULONG_MAX)
		return -EOVERFLOW;
	if (!(cmd->flags &
	      (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
		return -EINVAL;

	src = iolab_get_ioas(ucmd->ctx, cmd->src_ioas_id);
	if (IS_ERR(src))
		return PTR_ERR(src);
	rc = iolab_iopt_get_pages(&src->iopt, cmd->src_iova, cmd->length,
				  &pages, &start_byte);
	iolab_put_ioas(src);
	if (rc)
		return rc;

	dst = iolab_get_ioas(ucmd->ctx, cmd->dst_ioas_id);
	if (IS_ERR(dst)) {
		rc = PTR_ERR(dst);
		goto out_pages;
	}
	rc = iolab_iopt_map_pages(&dst->iopt, pages, start_byte, cmd->length,
				  &iova, iolab_prot_of(cmd->flags),
				  cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA);
	if (rc)
		goto out_dst;

	cmd->dst_iova = iova;
	rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		iolab_ioas_unmap_range(dst, iova, cmd->length, &unmapped);
out_dst:
	iolab_put_ioas(dst);
out_pages:
	iolab_pages_put(pages);
	return rc;
}

int iolab_ioas_unmap(struct iolab_ucmd *ucmd)
{
	struct iommu_ioas_unmap *cmd = ucmd->cmd;
	struct iolab_ioas *ioas;
	u64 unmapped = 0;
	int rc;

	ioas = iolab_get_ioas(ucmd->ctx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	if (cmd->iova == 0 && cmd->length == U64_MAX) {
		rc = iolab_ioas_unmap_all(ioas, &unmapped);
	} else if (cmd->iova >= ULONG_MAX || cmd->length >= ULONG_MAX) {
		rc = -EOVERFLOW;
	} else {
		rc = iolab_ioas_unmap_range(ioas, cmd->iova, cmd->length,
					    &unmapped);
	}
	if (!rc) {
		cmd->length = unmapped;
		rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
	}
	iolab_put_ioas(ioas);
	return rc;
}

int iolab_ioas_iova_ranges(struct iolab_ucmd *ucmd)
{
	struct iommu_ioas_iova_ranges *cmd = ucmd->cmd;
	struct iolab_ioas *ioas;
	u32 max = cmd->num_iovas;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ioas = iolab_get_ioas(ucmd->ctx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	rc = iolab_iopt_report_ranges(&ioas->iopt,
				      u64_to_user_ptr(cmd->allowed_iovas), max,
				      &cmd->num_iovas,
				      &cmd->out_iova_alignment);
	if (!rc)
		rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
	if (!rc && cmd->num_iovas > max)
		rc = -EMSGSIZE;
	iolab_put_ioas(ioas);
	return rc;
}

int iolab_ioas_allow_iovas(struct iolab_ucmd *ucmd)
{
	struct iommu_ioas_allow_iovas *cmd = ucmd->cmd;
	struct iommu_iova_range __user *ranges;
	struct rb_root_cached allowed = RB_ROOT_CACHED;
	struct iolab_ioas *ioas;
	u32 i;
	int rc = 0;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ioas = iolab_get_ioas(ucmd->ctx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	ranges = u64_to_user_ptr(cmd->allowed_iovas);
	for (i = 0; i != cmd->num_iovas; i++) {
		struct iommu_iova_range range;

		if (copy_from_user(&range, ranges + i, sizeof(range))) {
			rc = -EFAULT;
			goto out_free;
		}
		if (range.start >= range.last) {
			rc = -EINVAL;
			goto out_free;
		}
		/* As upstream: the ranges of one call must not overlap. */
		if (interval_tree_iter_first(&allowed, range.start,
					     range.last)) {
			rc = -EINVAL;
			goto out_free;
		}
		rc = iolab_iopt_add_allowed(&allowed, range.start, range.last);
		if (rc)
			goto out_free;
		if (fatal_signal_pending(current)) {
			rc = -EINTR;
			goto out_free;
		}
	}
	/* On success this swaps the old list into @allowed, freed below. */
	rc = iolab_iopt_set_allowed(&ioas->iopt, &allowed);
out_free:
	iolab_iopt_free_allowed(&allowed);
	iolab_put_ioas(ioas);
	return rc;
}
