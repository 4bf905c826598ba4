// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: IOASID sets. The system has one PASID space, 1 .. pasid_max
 * (PASID 0 is every device's RID), carved into sets: a set belongs to one
 * fd, has a quota and a token (the owner's mm by default: one VM, one
 * set), and maps set-private IDs (a guest's vPASIDs) to system PASIDs.
 *
 * A PASID is held by its allocation and by each device PASID attached
 * with it (iolab_ioasid.users). Freeing it while a device still uses it
 * leaves it free-pending: out of the owner's hands, still in the quota,
 * not handed out again, and released when its last user lets go. PASIDs
 * the kernel picks for an fd (an aux domain's default PASID, a PASID
 * attach that asks for one) come from the fd's set, or from the system
 * space under no quota when the fd has none.
 *
 * Every allocated or free-pending PASID of a set holds a users reference
 * on the set's object, so IOMMU_DESTROY of a set that still has PASIDs is
 * EBUSY; closing the fd first frees the owner's PASIDs
 * (iolab_ioasid_ctx_close()), then the device PASIDs go with their
 * devices, and the set with the last of them. The PASIDs an fd without a
 * set took from the system space go once its devices are gone
 * (iolab_ioasid_ctx_release()).
 *
 * Locking: iolab_ioasid_lock, a mutex, protects the system space
 * (iolab_pasids), the registry of sets (iolab_ioasid_sets), every
 * iolab_ioasid, every set's PASID list, vPASID table and counts but
 * iolab_ioasid_set.nr, and every iolab_ctx.ioasid_set. It comes after
 * iolab_ctx.attach_lock (attaches take and drop PASID users) and takes
 * no other lock of the module but the object table's xa_lock (a
 * reference on the set) and iolab_nl_lock (notify.c: events are sent
 * under it, so that they go out in the order of the changes).
 * iolab_ioasid_set.nr is an atomic: the quota check and the count update
 * are one atomic_add_unless().
 *
 * Notifications: set create and destroy; PASID alloc once the allocation
 * is the caller's for good (the answer reached it: "announced"), free
 * when it is released and free-pending when it goes so; vPASID bind and
 * unbind. A PASID allocated and undone within one failed call is never
 * announced, so no event tells of it.
 */
#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "iommulab_private.h"

#define IOLAB_PASID_LAST (BIT(20) - 1)

static unsigned int pasid_max = IOLAB_PASID_LAST;
module_param(pasid_max, uint, 0644);
MODULE_PARM_DESC(pasid_max,
		 "Last PASID of the system-wide space (1 to 2^20 - 1); lowering it affects only later allocations");

static DEFINE_MUTEX(iolab_ioasid_lock);
/* System PASID -> struct iolab_ioasid; under iolab_ioasid_lock. */
static DEFINE_XARRAY_ALLOC1(iolab_pasids);
/* Every set, to keep a token to one set; under iolab_ioasid_lock. */
static LIST_HEAD(iolab_ioasid_sets);
static atomic64_t iolab_token_ids = ATOMIC64_INIT(0);

/**
 * struct iolab_ioasid - one PASID of the system space
 * @pasid: the PASID
 * @vpasid: the set-private ID bound to it, or 0
 * @set: the set it counts in (holding a reference on its object), or NULL
 *	 for a PASID the kernel took from the system space
 * @node: in @set's list
 * @users: device PASIDs attached with it
 * @allocated: its allocation stands; clear: free-pending
 * @kernel: the kernel allocated it (an aux domain's default PASID); only
 *	    the kernel frees it
 * @announced: its PASID_ALLOC event went out (see iolab_ioasid_announce())
 * @ctx: the fd it was allocated for (its events are that fd's)
 *
 * All under iolab_ioasid_lock.
 */
struct iolab_ioasid {
	u32 pasid;
	u32 vpasid;
	struct iolab_ioasid_set *set;
	struct list_head node;
	unsigned int users;
	bool allocated;
	bool kernel;
	bool announced;
	struct iolab_ctx *ctx;
};

/**
 * struct iolab_ioasid_set - IOLAB_OBJ_IOASID_SET
 * @obj: the object header
 * @ctx: the fd owning it
 * @item: in iolab_ioasid_sets
 * @mm: the token when it is an mm (a grab keeps it from being reused), or
 *	NULL
 * @token: the token when it is a value
 * @token_id: the token's identity as user space sees it
 * @quota: most PASIDs held at once
 * @nr: PASIDs held, free-pending ones included; never above @quota
 * @nr_pending: of those, the free-pending ones
 * @nr_bound: PASIDs with a vPASID
 * @pasids: the struct iolab_ioasid it holds
 * @vpasids: vPASID -> struct iolab_ioasid
 *
 * All but @nr (an atomic) under iolab_ioasid_lock.
 */
struct iolab_ioasid_set {
	struct iolab_object obj;
	struct iolab_ctx *ctx;
	struct list_head item;
	struct mm_struct *mm;
	u64 token;
	u64 token_id;
	u32 quota;
	atomic_t nr;
	unsigned int nr_pending;
	unsigned int nr_bound;
	struct list_head pasids;
	struct xarray vpasids;
};

/* An event of @set (NULL: none) about @pasid (0: none) and @vpasid. */
static void iolab_ioasid_notify(struct iolab_ctx *ctx, u32 type,
				struct iolab_ioasid_set *set, u32 pasid,
				u32 vpasid)
{
	struct iolab_event ev = {
		.type = type,
		.present = IOLAB_EV_SET_ID,
		.pasid = pasid,
		.vpasid = vpasid,
	};

	if (set) {
		ev.present |= IOLAB_EV_TOKEN;
		ev.set_id = set->obj.id;
		ev.token = set->token_id;
	}
	if (pasid)
		ev.present |= IOLAB_EV_PASID;
	if (vpasid)
		ev.present |= IOLAB_EV_VPASID;
	iolab_notify(ctx, &ev);
}

static void iolab_ioasid_event(struct iolab_ioasid *ioasid, u32 type)
{
	iolab_ioasid_notify(ioasid->ctx, type, ioasid->set, ioasid->pasid,
			    type == IOMMULAB_EVENT_VPASID_BIND ||
			    type == IOMMULAB_EVENT_VPASID_UNBIND ?
			    ioasid->vpasid : 0);
}

static void iolab_ioasid_announce_one(struct iolab_ioasid *ioasid)
{
	if (ioasid && !ioasid->announced) {
		ioasid->announced = true;
		iolab_ioasid_event(ioasid, IOMMULAB_EVENT_PASID_ALLOC);
	}
}

static void iolab_ioasid_release(struct iolab_ioasid *ioasid)
{
	struct iolab_ioasid_set *set = ioasid->set;

	lockdep_assert_held(&iolab_ioasid_lock);
	if (ioasid->announced)
		iolab_ioasid_event(ioasid, IOMMULAB_EVENT_PASID_FREE);
	xa_erase(&iolab_pasids, ioasid->pasid);
	if (set) {
		list_del(&ioasid->node);
		atomic_dec(&set->nr);
		iolab_put_object(&set->obj);
	}
	kfree(ioasid);
}

static void iolab_ioasid_unbind(struct iolab_ioasid *ioasid)
{
	if (!ioasid->vpasid)
		return;
	iolab_ioasid_event(ioasid, IOMMULAB_EVENT_VPASID_UNBIND);
	xa_erase(&ioasid->set->vpasids, ioasid->vpasid);
	ioasid->set->nr_bound--;
	ioasid->vpasid = 0;
}

/* Its allocation goes: released now, or free-pending until its users go. */
static void iolab_ioasid_drop(struct iolab_ioasid *ioasid)
{
	lockdep_assert_held(&iolab_ioasid_lock);
	ioasid->allocated = false;
	if (ioasid->set)
		iolab_ioasid_unbind(ioasid);
	if (!ioasid->users) {
		iolab_ioasid_release(ioasid);
		return;
	}
	if (ioasid->set)
		ioasid->set->nr_pending++;
	if (ioasid->announced)
		iolab_ioasid_event(ioasid, IOMMULAB_EVENT_PASID_FREE_PENDING);
}

/*
 * A new PASID in @set (NULL: the system space). The caller holds a
 * reference on @set's object, which becomes the PASID's on success.
 */
static int iolab_ioasid_new(struct iolab_ctx *ctx,
			    struct iolab_ioasid_set *set, bool kernel,
			    u32 *pasid)
{
	struct iolab_ioasid *ioasid;
	int rc;

	lockdep_assert_held(&iolab_ioasid_lock);
	if (set && !atomic_add_unless(&set->nr, 1, set->quota))
		return -ENOSPC;
	rc = -ENOMEM;
	ioasid = kzalloc(sizeof(*ioasid), GFP_KERNEL_ACCOUNT);
	if (!ioasid)
		goto err_quota;
	rc = xa_alloc(&iolab_pasids, &ioasid->pasid, ioasid,
		      XA_LIMIT(1, clamp_val(READ_ONCE(pasid_max), 1,
					    IOLAB_PASID_LAST)),
		      GFP_KERNEL_ACCOUNT);
	if (rc) {
		kfree(ioasid);
		/* A full space is the same answer as a full quota. */
		rc = rc == -EBUSY ? -ENOSPC : rc;
		goto err_quota;
	}
	ioasid->set = set;
	ioasid->ctx = ctx;
	ioasid->allocated = true;
	ioasid->kernel = kernel;
	if (set)
		list_add_tail(&ioasid->node, &set->pasids);
	*pasid = ioasid->pasid;
	return 0;

err_quota:
	if (set)
		atomic_dec(&set->nr);
	return rc;
}

/* The fd's set with a reference on its object, or NULL (none or dying). */
static struct iolab_ioasid_set *iolab_ctx_set_get(struct iolab_ctx *ctx)
{
	struct iolab_ioasid_set *set = ctx->ioasid_set;

	lockdep_assert_held(&iolab_ioasid_lock);
	if (set && refcount_inc_not_zero(&set->obj.users))
		return set;
	return NULL;
}

/**
 * iolab_ioasid_alloc() - a PASID the kernel picks for @ctx
 * @ctx: the fd; its set, or the system space when it has none
 * @kernel: the kernel owns the allocation (an aux domain's default PASID;
 *	    free it with iolab_ioasid_free()); else the fd's owner
 *	    does, as if by IOMMULAB_IOASID ALLOC
 * @pasid: the PASID
 *
 * Return: 0; ENOSPC (the set's quota, the system space); ENOMEM.
 */
int iolab_ioasid_alloc(struct iolab_ctx *ctx, bool kernel, u32 *pasid)
{
	struct iolab_ioasid_set *set;
	int rc;

	mutex_lock(&iolab_ioasid_lock);
	set = iolab_ctx_set_get(ctx);
	rc = iolab_ioasid_new(ctx, set, kernel, pasid);
	if (rc && set)
		iolab_put_object(&set->obj);
	mutex_unlock(&iolab_ioasid_lock);
	return rc;
}

/* The PASID @vpasid names in @ctx's IOASID set; 0 for none (or no set). */
u32 iolab_ioasid_vpasid_lookup(struct iolab_ctx *ctx, u32 vpasid)
{
	struct iolab_ioasid *ioasid = NULL;
	u32 pasid;

	mutex_lock(&iolab_ioasid_lock);
	if (ctx->ioasid_set)
		ioasid = xa_load(&ctx->ioasid_set->vpasids, vpasid);
	pasid = ioasid ? ioasid->pasid : 0;
	mutex_unlock(&iolab_ioasid_lock);
	return pasid;
}

/*
 * The allocation of @pasid (by iolab_ioasid_alloc()) is the caller's for
 * good: the call that made it succeeded. Its PASID_ALLOC event goes out.
 */
void iolab_ioasid_announce(u32 pasid)
{
	mutex_lock(&iolab_ioasid_lock);
	iolab_ioasid_announce_one(xa_load(&iolab_pasids, pasid));
	mutex_unlock(&iolab_ioasid_lock);
}

/*
 * The allocation of @pasid (by iolab_ioasid_alloc()) goes: released now,
 * or free-pending while devices use it.
 */
void iolab_ioasid_free(u32 pasid)
{
	struct iolab_ioasid *ioasid;

	mutex_lock(&iolab_ioasid_lock);
	ioasid = xa_load(&iolab_pasids, pasid);
	if (ioasid && ioasid->allocated)
		iolab_ioasid_drop(ioasid);
	mutex_unlock(&iolab_ioasid_lock);
}

/**
 * iolab_ioasid_get() - a device PASID of @ctx starts using @pasid
 * @ctx: the fd attaching it
 * @pasid: the PASID
 *
 * Return: 1 when @pasid is a PASID of the fd's set, now with one more
 * user (give it back with iolab_ioasid_put()); 0 when the fd has no set
 * (its PASIDs are its own business, as with upstream's test ops); ENOENT
 * when @pasid is not allocated in the fd's set (or free-pending); EBUSY
 * for an aux domain's default PASID.
 */
int iolab_ioasid_get(struct iolab_ctx *ctx, u32 pasid)
{
	struct iolab_ioasid *ioasid;
	int rc = 1;

	mutex_lock(&iolab_ioasid_lock);
	ioasid = xa_load(&iolab_pasids, pasid);
	if (!ctx->ioasid_set)
		rc = 0;
	else if (!ioasid || ioasid->set != ctx->ioasid_set ||
		 !ioasid->allocated)
		rc = -ENOENT;
	else if (ioasid->kernel)
		rc = -EBUSY;
	else
		ioasid->users++;
	mutex_unlock(&iolab_ioasid_lock);
	return rc;
}

/* Undo iolab_ioasid_get() that returned 1: a free-pending PASID may go. */
void iolab_ioasid_put(u32 pasid)
{
	struct iolab_ioasid *ioasid;

	mutex_lock(&iolab_ioasid_lock);
	ioasid = xa_load(&iolab_pasids, pasid);
	if (ioasid && ioasid->users && !--ioasid->users && !ioasid->allocated) {
		ioasid->set->nr_pending--;
		iolab_ioasid_release(ioasid);
	}
	mutex_unlock(&iolab_ioasid_lock);
}

static void iolab_set_notify_create(struct iolab_ioasid_set *set)
{
	struct iolab_event ev = {
		.type = IOMMULAB_EVENT_SET_CREATE,
		.present = IOLAB_EV_SET_ID | IOLAB_EV_TOKEN | IOLAB_EV_QUOTA,
		.set_id = set->obj.id,
		.token = set->token_id,
		.quota = set->quota,
	};

	iolab_notify(set->ctx, &ev);
}

static bool iolab_token_taken(struct mm_struct *mm, u64 token)
{
	struct iolab_ioasid_set *set;

	lockdep_assert_held(&iolab_ioasid_lock);
	list_for_each_entry(set, &iolab_ioasid_sets, item)
		if (mm ? set->mm == mm : !set->mm && set->token == token)
			return true;
	return false;
}

int iolab_ioasid_set_alloc_ioctl(struct iolab_ucmd *ucmd)
{
	struct iommulab_ioasid_set_alloc *cmd = ucmd->cmd;
	struct iolab_ctx *ctx = ucmd->ctx;
	bool value = cmd->flags & IOMMULAB_IOASID_SET_TOKEN_VALUE;
	struct mm_struct *mm = value ? NULL : current->mm;
	struct iolab_ioasid_set *set;
	struct iolab_object *obj;
	int rc;

	if (cmd->flags & ~IOMMULAB_IOASID_SET_TOKEN_VALUE)
		return -EOPNOTSUPP;
	if (!cmd->quota || cmd->quota > IOLAB_PASID_LAST ||
	    value != !!cmd->token || (!value && !mm))
		return -EINVAL;

	obj = iolab_object_alloc(ctx, sizeof(*set), IOLAB_OBJ_IOASID_SET);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	set = container_of(obj, struct iolab_ioasid_set, obj);
	set->ctx = ctx;
	set->quota = cmd->quota;
	set->token = cmd->token;
	atomic_set(&set->nr, 0);
	INIT_LIST_HEAD(&set->pasids);
	xa_init(&set->vpasids);

	mutex_lock(&iolab_ioasid_lock);
	if (ctx->ioasid_set || iolab_token_taken(mm, cmd->token)) {
		mutex_unlock(&iolab_ioasid_lock);
		iolab_object_abort(ctx, obj);
		return -EEXIST;
	}
	cmd->out_set_id = obj->id;
	cmd->out_token_id = atomic64_inc_return(&iolab_token_ids);
	rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		mutex_unlock(&iolab_ioasid_lock);
		iolab_object_abort(ctx, obj);
		return rc;
	}
	if (mm) {
		mmgrab(mm);
		set->mm = mm;
	}
	set->token_id = cmd->out_token_id;
	list_add_tail(&set->item, &iolab_ioasid_sets);
	ctx->ioasid_set = set;
	iolab_object_finalize(ctx, obj);
	iolab_set_notify_create(set);
	mutex_unlock(&iolab_ioasid_lock);
	return 0;
}

/*
 * Object destroy. Its PASIDs held references on it, so none is left: the
 * set only leaves the registry and the fd.
 */
void iolab_ioasid_set_destroy(struct iolab_object *obj)
{
	struct iolab_ioasid_set *set =
		container_of(obj, struct iolab_ioasid_set, obj);

	mutex_lock(&iolab_ioasid_lock);
	list_del(&set->item);
	if (set->ctx->ioasid_set == set)
		set->ctx->ioasid_set = NULL;
	iolab_ioasid_notify(set->ctx, IOMMULAB_EVENT_SET_DESTROY, set, 0, 0);
	mutex_unlock(&iolab_ioasid_lock);
	xa_destroy(&set->vpasids);
	if (set->mm)
		mmdrop(set->mm);
}

/*
 * The fd is closing: every allocation its owner holds goes, so that the
 * set is left only with the PASIDs its devices (destroyed next) use.
 */
void iolab_ioasid_ctx_close(struct iolab_ctx *ctx)
{
	struct iolab_ioasid *ioasid, *next;
	struct iolab_ioasid_set *set;

	mutex_lock(&iolab_ioasid_lock);
	set = ctx->ioasid_set;
	if (set)
		list_for_each_entry_safe(ioasid, next, &set->pasids, node)
			if (ioasid->allocated && !ioasid->kernel)
				iolab_ioasid_drop(ioasid);
	mutex_unlock(&iolab_ioasid_lock);
}

/*
 * The fd is gone, its objects destroyed: the PASIDs it took from the
 * system space without a set (IOMMULAB_DEVICE_PASID_ALLOC) are freed
 * too, now that no device of it can still use them.
 */
void iolab_ioasid_ctx_release(struct iolab_ctx *ctx)
{
	struct iolab_ioasid *ioasid;
	unsigned long pasid;

	mutex_lock(&iolab_ioasid_lock);
	xa_for_each(&iolab_pasids, pasid, ioasid)
		if (ioasid->ctx == ctx && !ioasid->set && ioasid->allocated)
			iolab_ioasid_drop(ioasid);
	mutex_unlock(&iolab_ioasid_lock);
}

/* @pasid of @set, allocated (not free-pending), or NULL. */
static struct iolab_ioasid *iolab_set_pasid(struct iolab_ioasid_set *set,
					    u32 pasid)
{
	struct iolab_ioasid *ioasid = xa_load(&iolab_pasids, pasid);

	if (!ioasid || ioasid->set != set || !ioasid->allocated)
		return NULL;
	return ioasid;
}

static int iolab_ioasid_bind(struct iolab_ioasid_set *set, u32 pasid,
			     u32 vpasid)
{
	struct iolab_ioasid *ioasid = iolab_set_pasid(set, pasid);
	int rc;

	if (!vpasid || vpasid > IOLAB_PASID_LAST)
		return -EINVAL;
	if (!ioasid)
		return -ENOENT;
	if (xa_load(&set->vpasids, vpasid))
		return -EEXIST;
	if (ioasid->vpasid)
		return -EBUSY;
	rc = xa_insert(&set->vpasids, vpasid, ioasid, GFP_KERNEL_ACCOUNT);
	if (rc)
		return rc;
	ioasid->vpasid = vpasid;
	set->nr_bound++;
	iolab_ioasid_event(ioasid, IOMMULAB_EVENT_VPASID_BIND);
	return 0;
}

/* One IOMMULAB_IOASID op on @set; under iolab_ioasid_lock. */
static int iolab_ioasid_op(struct iolab_ioasid_set *set,
			   struct iommulab_ioasid *cmd)
{
	struct iolab_ioasid *ioasid;
	int rc;

	switch (cmd->op) {
	case IOMMULAB_IOASID_ALLOC:
		if (cmd->pasid || cmd->vpasid)
			return -EINVAL;
		/* The new PASID's reference on the set. */
		refcount_inc(&set->obj.users);
		rc = iolab_ioasid_new(set->ctx, set, false, &cmd->pasid);
		if (rc)
			iolab_put_object(&set->obj);
		return rc;
	case IOMMULAB_IOASID_FREE:
		if (cmd->vpasid)
			return -EINVAL;
		ioasid = iolab_set_pasid(set, cmd->pasid);
		if (!ioasid)
			return -ENOENT;
		if (ioasid->kernel)
			return -EBUSY;
		iolab_ioasid_drop(ioasid);
		return 0;
	case IOMMULAB_IOASID_BIND:
		return iolab_ioasid_bind(set, cmd->pasid, cmd->vpasid);
	case IOMMULAB_IOASID_UNBIND:
		if (cmd->vpasid)
			return -EINVAL;
		ioasid = iolab_set_pasid(set, cmd->pasid);
		if (!ioasid || !ioasid->vpasid)
			return -ENOENT;
		iolab_ioasid_unbind(ioasid);
		return 0;
	case IOMMULAB_IOASID_LOOKUP:
		if (cmd->pasid || !cmd->vpasid)
			return -EINVAL;
		ioasid = xa_load(&set->vpasids, cmd->vpasid);
		if (!ioasid)
			return -ENOENT;
		cmd->pasid = ioasid->pasid;
		return 0;
	}
	return -EINVAL;
}

/* Undo a successful ALLOC or BIND whose answer did not reach the user. */
static void iolab_ioasid_op_undo(struct iolab_ioasid_set *set,
				 struct iommulab_ioasid *cmd)
{
	struct iolab_ioasid *ioasid = iolab_set_pasid(set, cmd->pasid);

	if (!ioasid)
		return;
	if (cmd->op == IOMMULAB_IOASID_ALLOC)
		iolab_ioasid_drop(ioasid);
	else if (cmd->op == IOMMULAB_IOASID_BIND)
		iolab_ioasid_unbind(ioasid);
}

static struct iolab_ioasid_set *iolab_get_set(struct iolab_ctx *ctx, u32 id)
{
	struct iolab_object *obj;

	obj = iolab_get_object(ctx, id, IOLAB_OBJ_IOASID_SET);
	if (IS_ERR(obj))
		return ERR_CAST(obj);
	return container_of(obj, struct iolab_ioasid_set, obj);
}

int iolab_ioasid_ioctl(struct iolab_ucmd *ucmd)
{
	struct iommulab_ioasid *cmd = ucmd->cmd;
	struct iolab_ioasid_set *set;
	int rc;

	if (cmd->flags)
		return -EOPNOTSUPP;
	if (cmd->op > IOMMULAB_IOASID_LOOKUP)
		return -EINVAL;
	set = iolab_get_set(ucmd->ctx, cmd->set_id);
	if (IS_ERR(set))
		return PTR_ERR(set);
	mutex_lock(&iolab_ioasid_lock);
	rc = iolab_ioasid_op(set, cmd);
	if (!rc && (cmd->op == IOMMULAB_IOASID_ALLOC ||
		    cmd->op == IOMMULAB_IOASID_LOOKUP)) {
		rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
		if (rc)
			iolab_ioasid_op_undo(set, cmd);
		else if (cmd->op == IOMMULAB_IOASID_ALLOC)
			iolab_ioasid_announce_one(iolab_set_pasid(set,
								  cmd->pasid));
	}
	mutex_unlock(&iolab_ioasid_lock);
	iolab_put_object(&set->obj);
	return rc;
}

int iolab_ioasid_set_info_ioctl(struct iolab_ucmd *ucmd)
{
	struct iommulab_ioasid_set_info *cmd = ucmd->cmd;
	struct iolab_ioasid_set *set;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	set = iolab_get_set(ucmd->ctx, cmd->set_id);
	if (IS_ERR(set))
		return PTR_ERR(set);
	mutex_lock(&iolab_ioasid_lock);
	cmd->out_quota = set->quota;
	cmd->out_nr_pasids = atomic_read(&set->nr);
	cmd->out_nr_pending = set->nr_pending;
	cmd->out_nr_bound = set->nr_bound;
	cmd->out_token_id = set->token_id;
	mutex_unlock(&iolab_ioasid_lock);
	rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
	iolab_put_object(&set->obj);
	return rc;
}

/* Module unload: every fd is closed, so every PASID is released. */
void iolab_ioasid_exit(void)
{
	if (!xa_empty(&iolab_pasids))
		pr_err("PASIDs left at unload\n");
	xa_destroy(&iolab_pasids);
}
