// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: I/O page fault queues (IOMMU_FAULT_QUEUE_ALLOC), the faults
 * that reach them, and their responses.
 *
 * A fault queue is an object of its fd (struct iolab_fault) and a file
 * (the fault fd) user space reads page requests from and writes responses
 * to, in upstream's record formats and errno rules. A HWPT allocated with
 * IOMMU_HWPT_FAULT_ID_VALID sends the page requests of every device
 * attached to it (RID or PASID) to its queue. Requests come from two
 * places: IOMMU_TEST_OP_TRIGGER_IOPF, which nobody waits on (upstream's
 * mock), and the DMA engine, whose request waits for its response
 * (iolab_fault_page_request(), devices with IOMMULAB_MOCK_DEV_PRI).
 *
 * Every request is one group of one fault (the last of its group): the
 * DMA engine asks for one page at a time, and the test op asks for one.
 *
 * Lifetimes. The queue proper (struct iolab_faultq) is reference counted
 * apart from the object, because three holders outlive one another in any
 * order: the object (until IOMMU_DESTROY or the fd's close), the fault fd
 * (until its release, which may run after the object is gone when the
 * allocation failed late), and each DMA waiting for a response. A group
 * is referenced by the queue (while it is unanswered) and by its waiter.
 * The fault fd also holds a users reference on the object (so
 * IOMMU_DESTROY is EBUSY while it is open, as upstream) and a reference
 * on the iommufd file (so the fd's context outlives it).
 *
 * Locking: iolab_faultq.mutex protects the queue's lists, counts and
 * state, and every field of its groups that changes. Lock order:
 * iolab_ctx.attach_lock -> iolab_faultq.mutex (requests are queued, and
 * answered on detach, under attach_lock) -> mmap_read_lock (the fd's read
 * and write copy records under it) and -> iolab_nl_lock (events are sent
 * under the mutex, so a response's event never precedes its request's).
 *
 * Nothing waits forever: an unanswered request is answered INVALID after
 * iopf_timeout_ms; closing the fault fd, destroying the queue, or the
 * device leaving the HWPT answers its requests INVALID; a queue holding
 * iopf_queue_depth unanswered requests refuses new ones at once.
 */
#include <linux/anon_inodes.h>
#include <linux/completion.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include <iommulab/iommufd_test.h>

#include "iommulab_private.h"
#include "iommu_driver.h"

static unsigned int iopf_timeout_ms = 10000;
module_param(iopf_timeout_ms, uint, 0644);
MODULE_PARM_DESC(iopf_timeout_ms,
		 "a DMA page request nobody answers within this many ms is answered INVALID (default 10000, at least 1)");

static unsigned int iopf_queue_depth = 256;
module_param(iopf_queue_depth, uint, 0644);
MODULE_PARM_DESC(iopf_queue_depth,
		 "unanswered page requests one fault queue holds; more are refused at once (default 256)");

/**
 * struct iolab_faultq - the queue behind a fault object and its fd
 * @kref: the object's, the fd's and each waiter's reference
 * @mutex: see the file comment
 * @deliver: groups not read yet, oldest first (iolab_fault_group.node)
 * @groups: cookie -> every unanswered group, read or not
 * @nr: entries in @groups
 * @wait: poll()ers of the fd
 * @closed: the fd was released or the object destroyed: new requests are
 *	    refused, and nothing is left in @groups
 * @ctx: the iommufd context; used only while the fd or the object lives
 * @fault_id: the object's ID, for events
 * @obj_users: the object whose users count the fd holds, until the fd's
 *	       release; NULL once dropped, or when the allocation failed
 */
struct iolab_faultq {
	struct kref kref;
	struct mutex mutex; /* see above */
	struct list_head deliver;
	struct xarray groups;
	unsigned int nr;
	wait_queue_head_t wait;
	bool closed;
	struct iolab_ctx *ctx;
	u32 fault_id;
	struct iolab_object *obj_users;
};

/**
 * struct iolab_fault - a fault queue object
 * @obj: object header (IOLAB_OBJ_FAULT)
 * @q: the queue (a reference)
 */
struct iolab_fault {
	struct iolab_object obj;
	struct iolab_faultq *q;
};

static_assert(offsetof(struct iolab_fault, obj) == 0);

/**
 * struct iolab_fault_group - one page request (a group of one fault)
 * @kref: the queue's reference while unanswered, and the waiter's
 * @node: in iolab_faultq.deliver until read
 * @hwpt: the HWPT it came through (identity only, never dereferenced)
 * @idev: the device (identity only, never dereferenced)
 * @pasid: the attachment it came through: the device's PASID, or
 *	   IOLAB_RID_PASID for the RID (also a PASID request sent to the
 *	   RID's nested HWPT, see iolab_fault_hwpt_of())
 * @rec: the record read() returns, @rec.cookie its cookie
 * @rid: the device's requester ID, for events
 * @pt_id: @hwpt's ID, for events
 * @dev_cookie: the device's bind cookie, for events
 * @read: read() returned it; only then may a response name it
 * @answered: it has its response (@code, @resp_by); under the mutex
 * @code: enum iommufd_page_response_code
 * @resp_by: enum iommulab_resp_by
 * @done: completed with the response
 */
struct iolab_fault_group {
	struct kref kref;
	struct list_head node;
	struct iolab_hwpt *hwpt;
	struct iolab_idev *idev;
	u32 pasid;
	struct iommu_hwpt_pgfault rec;
	u32 rid;
	u32 pt_id;
	u64 dev_cookie;
	bool read;
	bool answered;
	u32 code;
	u32 resp_by;
	struct completion done;
};

static void iolab_faultq_release(struct kref *kref)
{
	struct iolab_faultq *q = container_of(kref, struct iolab_faultq, kref);

	xa_destroy(&q->groups);
	mutex_destroy(&q->mutex);
	kfree(q);
}

static void iolab_faultq_put(struct iolab_faultq *q)
{
	kref_put(&q->kref, iolab_faultq_release);
}

static void iolab_fault_group_release(struct kref *kref)
{
	kfree(container_of(kref, struct iolab_fault_group, kref));
}

static void iolab_fault_group_put(struct iolab_fault_group *group)
{
	kref_put(&group->kref, iolab_fault_group_release);
}

static void iolab_fault_event(struct iolab_faultq *q,
			      struct iolab_fault_group *group, u32 type)
{
	struct iolab_event ev = {
		.type = type,
		.present = IOLAB_EV_FAULT_ID | IOLAB_EV_FAULT_COOKIE |
			   IOLAB_EV_DEV_ID | IOLAB_EV_RID | IOLAB_EV_PT_ID |
			   IOLAB_EV_ADDR | IOLAB_EV_PERM | IOLAB_EV_GRPID |
			   IOLAB_EV_DEV_COOKIE,
		.fault_id = q->fault_id,
		.fault_cookie = group->rec.cookie,
		.dev_id = group->rec.dev_id,
		.rid = group->rid,
		.pt_id = group->pt_id,
		.addr = group->rec.addr,
		.perm = group->rec.perm,
		.grpid = group->rec.grpid,
		.dev_cookie = group->dev_cookie,
	};

	if (group->rec.flags & IOMMU_PGFAULT_FLAGS_PASID_VALID) {
		ev.present |= IOLAB_EV_PASID;
		ev.pasid = group->rec.pasid;
	}
	if (type == IOMMULAB_EVENT_PAGE_RESPONSE) {
		ev.present |= IOLAB_EV_CODE | IOLAB_EV_RESP_BY;
		ev.code = group->code;
		ev.resp_by = group->resp_by;
	}
	iolab_notify(q->ctx, &ev);
}

/* Give @group its response and take it off @q. Holds q->mutex. */
static void iolab_fault_answer(struct iolab_faultq *q,
			       struct iolab_fault_group *group, u32 code,
			       u32 resp_by)
{
	lockdep_assert_held(&q->mutex);
	xa_erase(&q->groups, group->rec.cookie);
	q->nr--;
	if (!group->read)
		list_del(&group->node);
	group->answered = true;
	group->code = code;
	group->resp_by = resp_by;
	iolab_fault_event(q, group, IOMMULAB_EVENT_PAGE_RESPONSE);
	complete(&group->done);
	iolab_fault_group_put(group);
}

/* Answer every request of @q INVALID and refuse new ones. */
static void iolab_faultq_close(struct iolab_faultq *q)
{
	struct iolab_fault_group *group;
	unsigned long index;

	mutex_lock(&q->mutex);
	q->closed = true;
	xa_for_each(&q->groups, index, group)
		iolab_fault_answer(q, group, IOMMUFD_PAGE_RESP_INVALID,
				   IOMMULAB_RESP_BY_CLOSE);
	mutex_unlock(&q->mutex);
}

/*
 * Put @group on @q, which takes a reference. Return: 0; ESHUTDOWN when
 * the queue is closed, ENOSPC when it is full, ENOMEM.
 */
static int iolab_faultq_add(struct iolab_faultq *q,
			    struct iolab_fault_group *group)
{
	int rc;

	mutex_lock(&q->mutex);
	if (q->closed) {
		rc = -ESHUTDOWN;
		goto out;
	}
	if (q->nr >= READ_ONCE(iopf_queue_depth)) {
		/* Refused: told as a response no request event came before. */
		group->code = IOMMUFD_PAGE_RESP_INVALID;
		group->resp_by = IOMMULAB_RESP_BY_FULL;
		iolab_fault_event(q, group, IOMMULAB_EVENT_PAGE_RESPONSE);
		rc = -ENOSPC;
		goto out;
	}
	rc = xa_alloc(&q->groups, &group->rec.cookie, group, xa_limit_32b,
		      GFP_KERNEL_ACCOUNT);
	if (rc)
		goto out;
	q->nr++;
	kref_get(&group->kref);
	list_add_tail(&group->node, &q->deliver);
	iolab_fault_event(q, group, IOMMULAB_EVENT_PAGE_REQUEST);
out:
	mutex_unlock(&q->mutex);
	if (!rc)
		wake_up_interruptible(&q->wait);
	return rc;
}

static ssize_t iolab_fault_fops_read(struct file *filp, char __user *buf,
				     size_t count, loff_t *ppos)
{
	const size_t size = sizeof(struct iommu_hwpt_pgfault);
	struct iolab_faultq *q = filp->private_data;
	struct iolab_fault_group *group;
	size_t done = 0;
	int rc = 0;

	/* Upstream's rules: whole records, from no file position. */
	if (*ppos || count % size)
		return -ESPIPE;
	mutex_lock(&q->mutex);
	/* A request pending and no room for it: EINVAL, as upstream. */
	if (!list_empty(&q->deliver) && count < size)
		rc = -EINVAL;
	while (!list_empty(&q->deliver) && count - done >= size) {
		group = list_first_entry(&q->deliver, struct iolab_fault_group,
					 node);
		if (copy_to_user(buf + done, &group->rec, size)) {
			rc = -EFAULT;
			break;
		}
		list_del(&group->node);
		group->read = true;
		done += size;
	}
	mutex_unlock(&q->mutex);
	return done ? done : rc;
}

static ssize_t iolab_fault_fops_write(struct file *filp,
				      const char __user *buf, size_t count,
				      loff_t *ppos)
{
	const size_t size = sizeof(struct iommu_hwpt_page_response);
	struct iolab_faultq *q = filp->private_data;
	struct iommu_hwpt_page_response resp;
	struct iolab_fault_group *group;
	size_t done = 0;
	int rc = 0;

	if (*ppos || count % size)
		return -ESPIPE;
	mutex_lock(&q->mutex);
	while (done < count) {
		if (copy_from_user(&resp, buf + done, size)) {
			rc = -EFAULT;
			break;
		}
		if (resp.code != IOMMUFD_PAGE_RESP_SUCCESS &&
		    resp.code != IOMMUFD_PAGE_RESP_INVALID) {
			rc = -EINVAL;
			break;
		}
		/* Only a group that was read can be answered, as upstream. */
		group = xa_load(&q->groups, resp.cookie);
		if (!group || !group->read) {
			rc = -EINVAL;
			break;
		}
		iolab_fault_answer(q, group, resp.code, IOMMULAB_RESP_BY_USER);
		done += size;
	}
	mutex_unlock(&q->mutex);
	return done ? done : rc;
}

static __poll_t iolab_fault_fops_poll(struct file *filp,
				      struct poll_table_struct *wait)
{
	struct iolab_faultq *q = filp->private_data;
	__poll_t mask = EPOLLOUT;

	poll_wait(filp, &q->wait, wait);
	mutex_lock(&q->mutex);
	if (!list_empty(&q->deliver))
		mask |= EPOLLIN | EPOLLRDNORM;
	mutex_unlock(&q->mutex);
	return mask;
}

static int iolab_fault_fops_release(struct inode *inode, struct file *filp)
{
	struct iolab_faultq *q = filp->private_data;
	struct file *ctx_file = q->ctx->file;

	/* Closing the fd answers what it holds: nobody can read them now. */
	iolab_faultq_close(q);
	if (q->obj_users)
		refcount_dec(&q->obj_users->users);
	q->obj_users = NULL;
	iolab_faultq_put(q);
	fput(ctx_file);
	return 0;
}

static const struct file_operations iolab_fault_fops = {
	.owner = THIS_MODULE,
	.open = nonseekable_open,
	.read = iolab_fault_fops_read,
	.write = iolab_fault_fops_write,
	.poll = iolab_fault_fops_poll,
	.release = iolab_fault_fops_release,
};

void iolab_fault_destroy(struct iolab_object *obj)
{
	struct iolab_fault *fault = container_of(obj, struct iolab_fault, obj);

	iolab_faultq_close(fault->q);
	iolab_faultq_put(fault->q);
}

/* IOMMU_FAULT_QUEUE_ALLOC */
int iolab_fault_alloc_ioctl(struct iolab_ucmd *ucmd)
{
	struct iommu_fault_alloc *cmd = ucmd->cmd;
	struct iolab_ctx *ctx = ucmd->ctx;
	struct iolab_fault *fault;
	struct iolab_faultq *q;
	struct file *filp;
	int fdno, rc;

	if (cmd->flags)
		return -EOPNOTSUPP;
	q = kzalloc(sizeof(*q), GFP_KERNEL_ACCOUNT);
	if (!q)
		return -ENOMEM;
	kref_init(&q->kref);
	mutex_init(&q->mutex);
	INIT_LIST_HEAD(&q->deliver);
	xa_init_flags(&q->groups, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	init_waitqueue_head(&q->wait);
	q->ctx = ctx;

	fault = (struct iolab_fault *)iolab_object_alloc(ctx, sizeof(*fault),
							 IOLAB_OBJ_FAULT);
	if (IS_ERR(fault)) {
		rc = PTR_ERR(fault);
		goto err_q;
	}
	fault->q = q;
	q->fault_id = fault->obj.id;

	/* The file's references: the queue and the iommufd file. */
	kref_get(&q->kref);
	get_file(ctx->file);
	filp = anon_inode_getfile("[iommulab-pgfault]", &iolab_fault_fops, q,
				  O_RDWR);
	if (IS_ERR(filp)) {
		rc = PTR_ERR(filp);
		fput(ctx->file);
		iolab_faultq_put(q);
		goto err_obj;
	}
	fdno = get_unused_fd_flags(O_CLOEXEC);
	if (fdno < 0) {
		rc = fdno;
		goto err_file;
	}
	cmd->out_fault_id = fault->obj.id;
	cmd->out_fault_fd = fdno;
	rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto err_fd;
	/* From here on nothing fails: the fd holds a users reference. */
	refcount_inc(&fault->obj.users);
	q->obj_users = &fault->obj;
	iolab_object_finalize(ctx, &fault->obj);
	fd_install(fdno, filp);
	return 0;

err_fd:
	put_unused_fd(fdno);
err_file:
	/* Its release runs later and touches only the queue and ctx file. */
	fput(filp);
err_obj:
	iolab_object_abort_destroy(ctx, &fault->obj);
	return rc;
err_q:
	iolab_faultq_put(q);
	return rc;
}

/**
 * iolab_hwpt_set_fault() - a new HWPT sends its faults to a queue
 * @ctx: the fd
 * @hwpt: the HWPT, not yet finalized
 * @fault_id: IOMMU_HWPT_ALLOC's fault_id
 *
 * Return: 0, the HWPT holding a users reference on the queue (dropped by
 * iolab_hwpt_put_fault()); ENOENT for an ID that is not a fault queue.
 */
int iolab_hwpt_set_fault(struct iolab_ctx *ctx, struct iolab_hwpt *hwpt,
			 u32 fault_id)
{
	struct iolab_object *obj;

	obj = iolab_get_object(ctx, fault_id, IOLAB_OBJ_FAULT);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	/* The lookup's reference becomes the HWPT's. */
	hwpt->fault = container_of(obj, struct iolab_fault, obj);
	return 0;
}

void iolab_hwpt_put_fault(struct iolab_hwpt *hwpt)
{
	if (hwpt->fault)
		iolab_put_object(&hwpt->fault->obj);
	hwpt->fault = NULL;
}

/**
 * iolab_fault_detached() - @idev's @pasid left @hwpt: answer its requests
 * @hwpt: the HWPT it was attached to
 * @idev: the device
 * @pasid: the PASID, IOLAB_RID_PASID for the RID
 *
 * Holds the fd's attach_lock, under which requests are queued: after
 * this, no request of that attachment is pending.
 */
void iolab_fault_detached(struct iolab_hwpt *hwpt, struct iolab_idev *idev,
			  u32 pasid)
{
	struct iolab_fault_group *group;
	struct iolab_faultq *q;
	unsigned long index;

	lockdep_assert_held(&idev->ctx->attach_lock);
	if (!hwpt || !hwpt->fault)
		return;
	q = hwpt->fault->q;
	mutex_lock(&q->mutex);
	xa_for_each(&q->groups, index, group) {
		if (group->hwpt == hwpt && group->idev == idev &&
		    group->pasid == pasid)
			iolab_fault_answer(q, group, IOMMUFD_PAGE_RESP_INVALID,
					   IOMMULAB_RESP_BY_DETACH);
	}
	mutex_unlock(&q->mutex);
}

/*
 * A new request of @idev's @pasid on @hwpt, which has a queue. Holds the
 * fd's attach_lock. The caller owns the one reference.
 */
static struct iolab_fault_group *
iolab_fault_group_new(struct iolab_idev *idev, struct iolab_hwpt *hwpt,
		      u32 via, u32 pasid, u32 grpid, u32 perm, u64 addr)
{
	struct iolab_fault_group *group;

	group = kzalloc(sizeof(*group), GFP_KERNEL_ACCOUNT);
	if (!group)
		return NULL;
	kref_init(&group->kref);
	INIT_LIST_HEAD(&group->node);
	init_completion(&group->done);
	group->hwpt = hwpt;
	group->idev = idev;
	group->pasid = via;
	group->rid = iolab_idev_hwdev(idev)->rid;
	group->pt_id = hwpt->obj.id;
	group->dev_cookie = idev->cookie;
	group->rec.flags = IOMMU_PGFAULT_FLAGS_LAST_PAGE;
	if (pasid != IOLAB_RID_PASID)
		group->rec.flags |= IOMMU_PGFAULT_FLAGS_PASID_VALID;
	group->rec.dev_id = idev->obj.id;
	group->rec.pasid = pasid;
	group->rec.grpid = grpid;
	group->rec.perm = perm;
	group->rec.addr = addr;
	return group;
}

/*
 * The HWPT a page request of @idev with @pasid goes to, and in *@via the
 * attachment it goes through. Holds the fd's attach_lock. As upstream's
 * mock IOMMU, whose PASID table the user manages: a PASID with no HWPT of
 * its own takes the one of the RID when that is nested (the guest's
 * stage 1 holds the PASID table then).
 */
static struct iolab_hwpt *iolab_fault_hwpt_of(struct iolab_idev *idev,
					      u32 pasid, u32 *via)
{
	struct iolab_hwpt *hwpt;

	lockdep_assert_held(&idev->ctx->attach_lock);
	*via = pasid;
	if (pasid == IOLAB_RID_PASID)
		return idev->hwpt;
	hwpt = xa_load(&idev->pasids, pasid);
	if (hwpt)
		return hwpt;
	hwpt = idev->hwpt;
	if (!hwpt || hwpt->obj.type != IOLAB_OBJ_HWPT_NESTED)
		return NULL;
	*via = IOLAB_RID_PASID;
	return hwpt;
}

/*
 * IOMMU_TEST_OP_TRIGGER_IOPF: as upstream's mock, one fault of the device's
 * RID (pasid 0) or PASID goes to the queue of the HWPT attached there; with
 * no queue (or a full or closed one) the fault is dropped, answered by
 * nobody, and the call still succeeds; ENOMEM when it could not be made.
 */
int iolab_test_trigger_iopf(struct iolab_ucmd *ucmd,
			    struct iommu_test_cmd *cmd)
{
	struct iolab_ctx *ctx = ucmd->ctx;
	struct iolab_fault_group *group;
	struct iolab_idev *idev;
	struct iolab_hwpt *hwpt;
	u32 pasid = cmd->trigger_iopf.pasid, via;
	int rc = 0;

	idev = iolab_get_idev(ctx, cmd->trigger_iopf.dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	mutex_lock(&ctx->attach_lock);
	hwpt = iolab_fault_hwpt_of(idev, pasid, &via);
	if (hwpt && hwpt->fault) {
		group = iolab_fault_group_new(idev, hwpt, via, pasid,
					      cmd->trigger_iopf.grpid,
					      cmd->trigger_iopf.perm,
					      cmd->trigger_iopf.addr);
		if (!group) {
			rc = -ENOMEM;
		} else {
			/* A full or closed queue drops it, as upstream's. */
			if (iolab_faultq_add(hwpt->fault->q, group) == -ENOMEM)
				rc = -ENOMEM;
			iolab_fault_group_put(group);
		}
	}
	mutex_unlock(&ctx->attach_lock);
	iolab_put_object(&idev->obj);
	return rc;
}

/* What a request that never reached a queue's reader ends with. */
static u32 iolab_fault_reason(struct iolab_fault_group *group)
{
	if (group->code == IOMMUFD_PAGE_RESP_SUCCESS)
		return IOMMULAB_DMA_FAULT_NONE;
	if (group->resp_by == IOMMULAB_RESP_BY_TIMEOUT)
		return IOMMULAB_DMA_FAULT_PRQ_TIMEOUT;
	return IOMMULAB_DMA_FAULT_PRQ_INVALID;
}

/**
 * iolab_fault_page_request() - a device's DMA asks for a page and waits
 * @ctx: the fd driving the DMA (the owner of the device's group)
 * @busdev: the device (the caller holds it)
 * @hw_pasid: the request's PASID, IOMMULAB_NO_PASID for its RID
 * @addr: the faulting page's address
 * @write: the access was a write
 * @reason: set: IOMMULAB_DMA_FAULT_NONE when the response was SUCCESS
 *	    (retry), else an IOMMULAB_DMA_FAULT_PRQ_* reason
 *
 * Return: 0 with *@reason set; 1 when no request could be made (the
 * device is not bound to @ctx, or its HWPT there has no queue): the fault
 * stands as it is; EINTR when a signal ended the wait (the request is
 * answered INVALID); ENOMEM.
 */
int iolab_fault_page_request(struct iolab_ctx *ctx,
			     struct iolab_busdev *busdev, u32 hw_pasid,
			     u64 addr, bool write, u32 *reason)
{
	u32 pasid = hw_pasid == IOMMULAB_NO_PASID ? IOLAB_RID_PASID : hw_pasid;
	struct iolab_fault_group *group = NULL;
	struct iolab_faultq *q = NULL;
	struct iolab_idev *idev;
	struct iolab_hwpt *hwpt;
	unsigned long timeout;
	long left;
	u32 via;
	int rc = 1;

	idev = iolab_busdev_idev_get(ctx, busdev);
	if (!idev)
		return 1;
	mutex_lock(&ctx->attach_lock);
	hwpt = iolab_fault_hwpt_of(idev, pasid, &via);
	if (hwpt && hwpt->fault) {
		group = iolab_fault_group_new(idev, hwpt, via, pasid,
					      iolab_busdev_next_grpid(busdev),
					      write ? IOMMU_PGFAULT_PERM_WRITE :
						      IOMMU_PGFAULT_PERM_READ,
					      addr);
		rc = group ? 0 : -ENOMEM;
	}
	/*
	 * The device is let go before the request can be seen: a user who
	 * reads it (or polls) and unbinds the device at once must not find it
	 * still held here (EBUSY). attach_lock keeps it alive until the
	 * request is queued, for its destroy takes that lock first and then
	 * answers the request INVALID.
	 */
	iolab_put_object(&idev->obj);
	if (group) {
		q = hwpt->fault->q;
		kref_get(&q->kref);
		rc = iolab_faultq_add(q, group);
	}
	mutex_unlock(&ctx->attach_lock);
	if (rc == 1 || rc == -ENOMEM)
		goto out;
	/* Never queued: a full queue, or one whose fd is closed. */
	if (rc == -ENOSPC || rc == -ESHUTDOWN) {
		*reason = rc == -ENOSPC ? IOMMULAB_DMA_FAULT_PRQ_FULL :
					  IOMMULAB_DMA_FAULT_PRQ_INVALID;
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;

	timeout = msecs_to_jiffies(max(READ_ONCE(iopf_timeout_ms), 1U));
	left = wait_for_completion_interruptible_timeout(&group->done, timeout);
	if (left <= 0) {
		mutex_lock(&q->mutex);
		/* Unless the response came just now, answer it here. */
		if (!group->answered)
			iolab_fault_answer(q, group, IOMMUFD_PAGE_RESP_INVALID,
					   left ? IOMMULAB_RESP_BY_SIGNAL :
						  IOMMULAB_RESP_BY_TIMEOUT);
		mutex_unlock(&q->mutex);
	}
	if (group->resp_by == IOMMULAB_RESP_BY_SIGNAL) {
		rc = -EINTR;
	} else {
		*reason = iolab_fault_reason(group);
		rc = 0;
	}
out:
	if (group)
		iolab_fault_group_put(group);
	if (q)
		iolab_faultq_put(q);
	return rc;
}
