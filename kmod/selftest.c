// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: IOMMU_TEST_CMD, binary-compatible with upstream's selftest
 * command, and the test accesses: in-kernel users that pin and copy by
 * IOVA with software isolation only (the seeds' "sw mdev").
 *
 * A test access is a file descriptor of its own (CREATE_ACCESS returns it);
 * its ops name it by that fd in cmd->id. It holds a reference on the iommufd
 * file and on its IOAS.
 *
 * Locks of an access, in the order they nest: ioas_lock (which IOAS it is
 * attached to), then the IOAS's access_lock, then lock (the pinned items),
 * then the IOAS's iopt rwsem.
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

/**
 * struct iolab_stdev - an fd's handle on a mock device it plugged in
 * @obj: object header (IOLAB_OBJ_SELFTEST); destroying it unplugs
 * @ctx: the fd
 * @pdev: the device (a reference)
 * @idev: MOCK_DOMAIN only: the binding it made (a users reference), which
 *	  goes with it
 */
struct iolab_stdev {
	struct iolab_object obj;
	struct iolab_ctx *ctx;
	struct iolab_pdev *pdev;
	struct iolab_device *idev;
};

static_assert(offsetof(struct iolab_stdev, obj) == 0);

#define IOLAB_MOCK_DEV_FLAGS                                                \
	(MOCK_FLAGS_DEVICE_NO_DIRTY | MOCK_FLAGS_DEVICE_HUGE_IOVA |          \
	 MOCK_FLAGS_DEVICE_PASID | IOMMULAB_MOCK_DEV_4K)

static void iolab_mock_release(struct iolab_dev *dev)
{
	iolab_mock_dev_destroy(container_of(dev, struct mock_dev, dev));
}

/* A new stdev and its mock device, not yet finalized. */
static struct iolab_stdev *iolab_stdev_alloc(struct iolab_ctx *ctx,
					     u32 dev_flags,
					     struct iolab_pdev *sibling)
{
	struct iolab_stdev *stdev;
	struct mock_dev *mdev;
	int rc;

	stdev = (struct iolab_stdev *)iolab_object_alloc(ctx, sizeof(*stdev),
							 IOLAB_OBJ_SELFTEST);
	if (IS_ERR(stdev))
		return stdev;
	stdev->ctx = ctx;
	mdev = iolab_mock_dev_create(dev_flags);
	if (IS_ERR(mdev)) {
		rc = PTR_ERR(mdev);
		goto err_abort;
	}
	stdev->pdev = iolab_pdev_plug(&mdev->dev, iolab_mock_release, ctx,
				      sibling);
	if (IS_ERR(stdev->pdev)) {
		rc = PTR_ERR(stdev->pdev);
		iolab_mock_dev_destroy(mdev);
		goto err_abort;
	}
	return stdev;

err_abort:
	iolab_object_abort(ctx, &stdev->obj);
	return ERR_PTR(rc);
}

void iolab_selftest_destroy(struct iolab_object *obj)
{
	struct iolab_stdev *stdev = container_of(obj, struct iolab_stdev, obj);

	if (stdev->idev) {
		iolab_object_unpublish(stdev->ctx, &stdev->idev->obj);
		iolab_put_object(&stdev->idev->obj);
		iolab_object_destroy_wait(&stdev->idev->obj);
	}
	iolab_pdev_unplug(stdev->pdev);
}

static struct iolab_stdev *iolab_get_stdev(struct iolab_ctx *ctx, u32 id)
{
	struct iolab_object *obj = iolab_get_object(ctx, id, IOLAB_OBJ_SELFTEST);

	if (IS_ERR(obj))
		return ERR_CAST(obj);
	return container_of(obj, struct iolab_stdev, obj);
}

struct iolab_staccess {
	struct iolab_ctx *ctx;
	unsigned int flags;
	struct mutex ioas_lock; /* protects @ioas and the attachment */
	struct iolab_ioas *ioas;
	struct iolab_access access;
	struct mutex lock; /* protects @items */
	struct xarray items;
};

struct iolab_staccess_item {
	u64 iova;
	u64 length;
	struct page **pages;
};

/* Largest kernel buffer ACCESS_RW and ACCESS_PAGES make, as upstream. */
#define IOLAB_TEST_MAX_BUF SZ_16M

#define IOLAB_ACCESS_CREATE_FLAGS                                           \
	(MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES |                          \
	 IOMMULAB_ACCESS_CREATE_HOLD_PINS)

static void iolab_staccess_free_item(struct iolab_staccess *sa,
				     struct iolab_staccess_item *item)
{
	iolab_iopt_access_unpin(&sa->ioas->iopt, item->iova, item->length);
	kvfree(item->pages);
	kfree(item);
}

/*
 * Drop the items intersecting [iova, last] (inclusive, so that the whole
 * IOVA space can be named). Holds sa->lock.
 */
static void iolab_staccess_drop(struct iolab_staccess *sa, u64 iova, u64 last)
{
	struct iolab_staccess_item *item;
	unsigned long index;

	lockdep_assert_held(&sa->lock);
	xa_for_each(&sa->items, index, item) {
		/* Pinning checked that this does not wrap. */
		u64 item_last = item->iova + item->length - 1;

		if (item_last < iova || last < item->iova)
			continue;
		xa_erase(&sa->items, index);
		iolab_staccess_free_item(sa, item);
		cond_resched();
	}
}

/* Called with the IOAS's access_lock held. */
static void iolab_staccess_unmap(void *data, u64 iova, u64 last)
{
	struct iolab_staccess *sa = data;

	if (sa->flags & IOMMULAB_ACCESS_CREATE_HOLD_PINS)
		return;
	mutex_lock(&sa->lock);
	iolab_staccess_drop(sa, iova, last);
	mutex_unlock(&sa->lock);
}

static const struct iolab_access_ops iolab_staccess_ops = {
	.unmap = iolab_staccess_unmap,
};

/* Attach to @ioas (its reference moves to @sa). Holds sa->ioas_lock. */
static void iolab_staccess_attach(struct iolab_staccess *sa,
				  struct iolab_ioas *ioas)
{
	sa->ioas = ioas;
	mutex_lock(&ioas->access_lock);
	list_add_tail(&sa->access.item, &ioas->accesses);
	mutex_unlock(&ioas->access_lock);
}

/* Drop every pin and leave the IOAS. Holds sa->ioas_lock. */
static void iolab_staccess_detach(struct iolab_staccess *sa)
{
	struct iolab_ioas *ioas = sa->ioas;

	mutex_lock(&sa->lock);
	iolab_staccess_drop(sa, 0, U64_MAX);
	mutex_unlock(&sa->lock);
	mutex_lock(&ioas->access_lock);
	list_del(&sa->access.item);
	mutex_unlock(&ioas->access_lock);
	iolab_put_object(&ioas->obj);
	sa->ioas = NULL;
}

static int iolab_staccess_release(struct inode *inode, struct file *file)
{
	struct iolab_staccess *sa = file->private_data;

	mutex_lock(&sa->ioas_lock);
	iolab_staccess_detach(sa);
	mutex_unlock(&sa->ioas_lock);
	xa_destroy(&sa->items);
	mutex_destroy(&sa->lock);
	mutex_destroy(&sa->ioas_lock);
	fput(sa->ctx->file);
	kfree(sa);
	return 0;
}

static const struct file_operations iolab_staccess_fops = {
	.owner = THIS_MODULE,
	.release = iolab_staccess_release,
};

/*
 * The access behind fd @fd of this context, with a file reference. As
 * upstream, no such fd and an fd that is not a test access are both
 * EBADFD; so is another iommufd's access, which this one cannot use.
 */
static struct iolab_staccess *iolab_staccess_get(struct iolab_ctx *ctx,
						 int fd, struct file **filep)
{
	struct file *file = fget(fd);

	if (!file)
		return ERR_PTR(-EBADFD);
	if (file->f_op != &iolab_staccess_fops ||
	    ((struct iolab_staccess *)file->private_data)->ctx != ctx) {
		fput(file);
		return ERR_PTR(-EBADFD);
	}
	*filep = file;
	return file->private_data;
}

static int iolab_test_create_access(struct iolab_ucmd *ucmd,
				    struct iommu_test_cmd *cmd)
{
	struct iolab_staccess *sa;
	struct iolab_ioas *ioas;
	struct file *file;
	int fd, rc;

	if (cmd->create_access.flags & ~IOLAB_ACCESS_CREATE_FLAGS)
		return -EOPNOTSUPP;
	ioas = iolab_get_ioas(ucmd->ctx, cmd->id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	sa = kzalloc(sizeof(*sa), GFP_KERNEL_ACCOUNT);
	if (!sa) {
		rc = -ENOMEM;
		goto err_ioas;
	}
	sa->ctx = ucmd->ctx;
	sa->flags = cmd->create_access.flags;
	sa->access.ops = &iolab_staccess_ops;
	sa->access.data = sa;
	mutex_init(&sa->ioas_lock);
	mutex_init(&sa->lock);
	xa_init_flags(&sa->items, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		rc = fd;
		goto err_free;
	}
	file = anon_inode_getfile("[iommulab_access]", &iolab_staccess_fops,
				  sa, O_RDWR);
	if (IS_ERR(file)) {
		rc = PTR_ERR(file);
		goto err_fd;
	}
	/* From here the file's release undoes everything. */
	get_file(ucmd->ctx->file);
	mutex_lock(&sa->ioas_lock);
	iolab_staccess_attach(sa, ioas);
	mutex_unlock(&sa->ioas_lock);

	cmd->create_access.out_access_fd = fd;
	rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		fput(file);
		put_unused_fd(fd);
		return rc;
	}
	fd_install(fd, file);
	return 0;

err_fd:
	put_unused_fd(fd);
err_free:
	mutex_destroy(&sa->lock);
	mutex_destroy(&sa->ioas_lock);
	kfree(sa);
err_ioas:
	iolab_put_object(&ioas->obj);
	return rc;
}

static int iolab_test_access_replace_ioas(struct iolab_ucmd *ucmd,
					  struct iommu_test_cmd *cmd)
{
	struct iolab_staccess *sa;
	struct iolab_ioas *ioas;
	struct file *file;

	sa = iolab_staccess_get(ucmd->ctx, cmd->id, &file);
	if (IS_ERR(sa))
		return PTR_ERR(sa);
	ioas = iolab_get_ioas(ucmd->ctx, cmd->access_replace_ioas.ioas_id);
	if (IS_ERR(ioas)) {
		fput(file);
		return PTR_ERR(ioas);
	}
	mutex_lock(&sa->ioas_lock);
	if (ioas == sa->ioas) {
		/* As upstream: the same IOAS is a no-op; every pin stays. */
		iolab_put_object(&ioas->obj);
	} else {
		iolab_staccess_detach(sa);
		iolab_staccess_attach(sa, ioas);
	}
	mutex_unlock(&sa->ioas_lock);
	fput(file);
	return 0;
}

/*
 * MOCK_FLAGS_ACCESS_SYZ (upstream's syzkaller mode): @syz is not an IOVA
 * but an area index (low 32 bits) and an offset into that area (high 32
 * bits), so that a fuzzer that cannot know the IOVAs MAP chose still hits
 * mapped ones. Returns that IOVA, or 0 when the IOAS has fewer areas.
 * Holds sa->ioas_lock.
 */
static u64 iolab_staccess_syz_iova(struct iolab_staccess *sa, u64 syz)
{
	struct iolab_iopt *iopt = &sa->ioas->iopt;
	struct interval_tree_node *node;
	u32 nth = lower_32_bits(syz);
	u64 iova = 0;

	lockdep_assert_held(&sa->ioas_lock);
	down_read(&iopt->rwsem);
	for (node = interval_tree_iter_first(&iopt->area_itree, 0, ULONG_MAX);
	     node; node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		if (!nth--) {
			iova = node->start + upper_32_bits(syz);
			break;
		}
		cond_resched();
	}
	up_read(&iopt->rwsem);
	return iova;
}

/* The pages of [uptr, uptr + npages pages) must be exactly @pages. */
static int iolab_check_same_pages(u64 uptr, struct page **pages,
				  unsigned long npages)
{
	unsigned long i;

	for (i = 0; i != npages; i++) {
		struct page *page;
		long got;

		got = get_user_pages_fast(uptr + i * PAGE_SIZE, 1, 0, &page);
		if (got != 1)
			return got < 0 ? got : -EFAULT;
		put_page(page);
		if (page != pages[i])
			return -EINVAL;
		cond_resched();
	}
	return 0;
}

static int iolab_test_access_pages(struct iolab_ucmd *ucmd,
				   struct iommu_test_cmd *cmd)
{
	u64 iova = cmd->access_pages.iova, length = cmd->access_pages.length;
	u32 flags = cmd->access_pages.flags;
	struct iolab_staccess_item *item;
	struct iolab_staccess *sa;
	unsigned long npages;
	struct file *file;
	u64 last;
	u32 id;
	int rc;

	/*
	 * Upstream's order: a length too big for its page array (ENOMEM),
	 * flags, the access fd (EBADFD), an access made without
	 * NEEDS_PIN_PAGES (EOPNOTSUPP), then the range.
	 */
	if (length > IOLAB_TEST_MAX_BUF)
		return -ENOMEM;
	if (flags & ~(MOCK_FLAGS_ACCESS_WRITE | MOCK_FLAGS_ACCESS_SYZ))
		return -EOPNOTSUPP;
	sa = iolab_staccess_get(ucmd->ctx, cmd->id, &file);
	if (IS_ERR(sa))
		return PTR_ERR(sa);
	if (!(sa->flags & MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES)) {
		rc = -EOPNOTSUPP;
		goto out_file;
	}
	item = kzalloc(sizeof(*item), GFP_KERNEL_ACCOUNT);
	if (!item) {
		rc = -ENOMEM;
		goto out_file;
	}

	mutex_lock(&sa->ioas_lock);
	if (flags & MOCK_FLAGS_ACCESS_SYZ)
		iova = iolab_staccess_syz_iova(sa, iova);
	if (!length) {
		rc = -EINVAL;
		goto err_unlock_ioas;
	}
	if (check_add_overflow(iova, length - 1, &last)) {
		rc = -EOVERFLOW;
		goto err_unlock_ioas;
	}
	npages = last / PAGE_SIZE - iova / PAGE_SIZE + 1;
	item->iova = iova;
	item->length = length;
	item->pages = kvcalloc(npages, sizeof(*item->pages),
			       GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!item->pages) {
		rc = -ENOMEM;
		goto err_unlock_ioas;
	}
	mutex_lock(&sa->lock);
	rc = iolab_iopt_access_pin(&sa->ioas->iopt, iova, length, item->pages,
				   flags & MOCK_FLAGS_ACCESS_WRITE);
	if (rc)
		goto err_unlock;
	if (cmd->access_pages.uptr) {
		rc = iolab_check_same_pages(cmd->access_pages.uptr, item->pages,
					    npages);
		if (rc)
			goto err_unpin;
	}
	rc = xa_alloc(&sa->items, &id, item, xa_limit_31b, GFP_KERNEL_ACCOUNT);
	if (rc)
		goto err_unpin;
	cmd->access_pages.out_access_pages_id = id;
	rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		xa_erase(&sa->items, id);
		goto err_unpin;
	}
	mutex_unlock(&sa->lock);
	mutex_unlock(&sa->ioas_lock);
	fput(file);
	return 0;

err_unpin:
	iolab_iopt_access_unpin(&sa->ioas->iopt, iova, length);
err_unlock:
	mutex_unlock(&sa->lock);
err_unlock_ioas:
	mutex_unlock(&sa->ioas_lock);
	kvfree(item->pages);
	kfree(item);
out_file:
	fput(file);
	return rc;
}

static int iolab_test_destroy_access_pages(struct iolab_ucmd *ucmd,
					   struct iommu_test_cmd *cmd)
{
	struct iolab_staccess_item *item;
	struct iolab_staccess *sa;
	struct file *file;
	int rc = 0;

	sa = iolab_staccess_get(ucmd->ctx, cmd->id, &file);
	if (IS_ERR(sa))
		return PTR_ERR(sa);
	mutex_lock(&sa->ioas_lock);
	mutex_lock(&sa->lock);
	item = xa_erase(&sa->items, cmd->destroy_access_pages.access_pages_id);
	if (item)
		iolab_staccess_free_item(sa, item);
	else
		rc = -ENOENT;
	mutex_unlock(&sa->lock);
	mutex_unlock(&sa->ioas_lock);
	fput(file);
	return rc;
}

static int iolab_test_access_rw(struct iolab_ucmd *ucmd,
				struct iommu_test_cmd *cmd)
{
	void __user *uptr = u64_to_user_ptr(cmd->access_rw.uptr);
	u64 length = cmd->access_rw.length, iova = cmd->access_rw.iova;
	u32 flags = cmd->access_rw.flags;
	bool write = flags & MOCK_ACCESS_RW_WRITE;
	struct iolab_staccess *sa;
	struct file *file;
	u64 end;
	void *buf;
	int rc;

	/* Upstream's order: the buffer size, flags, the access fd. */
	if (length > IOLAB_TEST_MAX_BUF)
		return -ENOMEM;
	if (flags & ~(MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH |
		      MOCK_FLAGS_ACCESS_SYZ))
		return -EOPNOTSUPP;
	sa = iolab_staccess_get(ucmd->ctx, cmd->id, &file);
	if (IS_ERR(sa))
		return PTR_ERR(sa);
	if (!length) {
		rc = -EINVAL;
		goto out_file;
	}
	if (check_add_overflow(cmd->access_rw.uptr, length, &end)) {
		rc = -EOVERFLOW;
		goto out_file;
	}
	buf = kvzalloc(length, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!buf) {
		rc = -ENOMEM;
		goto out_file;
	}
	if (write && copy_from_user(buf, uptr, length)) {
		rc = -EFAULT;
		goto out_free;
	}
	mutex_lock(&sa->ioas_lock);
	if (flags & MOCK_FLAGS_ACCESS_SYZ)
		iova = iolab_staccess_syz_iova(sa, iova);
	if (check_add_overflow(iova, length - 1, &end))
		rc = -EOVERFLOW;
	else
		rc = iolab_iopt_access_rw(&sa->ioas->iopt, iova, buf, length,
					  write);
	mutex_unlock(&sa->ioas_lock);
	if (!rc && !write && copy_to_user(uptr, buf, length))
		rc = -EFAULT;
out_free:
	kvfree(buf);
out_file:
	fput(file);
	return rc;
}

/* How many long-term pins each page of a user range has: upstream's rule. */
static int iolab_test_md_check_refs(struct iommu_test_cmd *cmd)
{
	u64 uptr = cmd->check_refs.uptr, length = cmd->check_refs.length;

	if (length % PAGE_SIZE || uptr % PAGE_SIZE)
		return -EINVAL;
	for (; length; length -= PAGE_SIZE, uptr += PAGE_SIZE) {
		struct page *page;
		long got;

		got = get_user_pages_fast(uptr, 1, 0, &page);
		if (got != 1)
			return got < 0 ? got : -EFAULT;
		if (!PageCompound(page) &&
		    page_ref_count(page) / GUP_PIN_COUNTING_BIAS !=
			    cmd->check_refs.refs) {
			put_page(page);
			return -EIO;
		}
		put_page(page);
		cond_resched();
	}
	return 0;
}

static int iolab_test_add_reserved(struct iolab_ucmd *ucmd,
				   struct iommu_test_cmd *cmd)
{
	struct iolab_ioas *ioas;
	u64 last;
	int rc;

	if (!cmd->add_reserved.length)
		return -EINVAL;
	if (check_add_overflow(cmd->add_reserved.start,
			       cmd->add_reserved.length - 1, &last))
		return -EOVERFLOW;
	ioas = iolab_get_ioas(ucmd->ctx, cmd->id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	rc = iolab_iopt_reserve(&ioas->iopt, cmd->add_reserved.start, last);
	iolab_put_object(&ioas->obj);
	return rc;
}

/* MOCK_DOMAIN(_FLAGS): plug in a device, bind it, attach it to cmd->id. */
static int iolab_test_mock_domain(struct iolab_ucmd *ucmd,
				  struct iommu_test_cmd *cmd, u32 dev_flags)
{
	struct iolab_ctx *ctx = ucmd->ctx;
	struct iolab_stdev *stdev;
	struct iolab_device *idev;
	u32 hwpt_id;
	int rc;

	if (dev_flags & ~IOLAB_MOCK_DEV_FLAGS)
		return -EINVAL;
	stdev = iolab_stdev_alloc(ctx, dev_flags, NULL);
	if (IS_ERR(stdev))
		return PTR_ERR(stdev);
	rc = iolab_device_bind(ctx, stdev->pdev, &idev);
	if (rc)
		goto err_stdev;
	rc = iolab_device_attach(idev, cmd->id, &hwpt_id);
	if (rc)
		goto err_idev;

	cmd->mock_domain.out_stdev_id = stdev->obj.id;
	cmd->mock_domain.out_hwpt_id = hwpt_id;
	cmd->mock_domain.out_idev_id = idev->obj.id;
	rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto err_idev;
	refcount_inc(&idev->obj.users);
	stdev->idev = idev;
	iolab_object_finalize(ctx, &idev->obj);
	iolab_object_finalize(ctx, &stdev->obj);
	return 0;

err_idev:
	iolab_device_destroy(&idev->obj);
	iolab_object_abort(ctx, &idev->obj);
err_stdev:
	iolab_selftest_destroy(&stdev->obj);
	iolab_object_abort(ctx, &stdev->obj);
	return rc;
}

static int iolab_test_mock_domain_replace(struct iolab_ucmd *ucmd,
					  struct iommu_test_cmd *cmd)
{
	struct iolab_stdev *stdev;
	u32 hwpt_id;
	int rc;

	stdev = iolab_get_stdev(ucmd->ctx, cmd->id);
	if (IS_ERR(stdev))
		return PTR_ERR(stdev);
	if (!stdev->idev) {
		rc = -EINVAL;
		goto out_put;
	}
	rc = iolab_device_attach(stdev->idev, cmd->mock_domain_replace.pt_id,
				 &hwpt_id);
	if (rc)
		goto out_put;
	cmd->mock_domain_replace.pt_id = hwpt_id;
	rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
out_put:
	iolab_put_object(&stdev->obj);
	return rc;
}

/* MD_CHECK_MAP: the HWPT maps [iova, iova + length) onto the user's pages. */
static int iolab_test_md_check_map(struct iolab_ucmd *ucmd,
				   struct iommu_test_cmd *cmd)
{
	u64 iova = cmd->check_map.iova, length = cmd->check_map.length;
	u64 uptr = cmd->check_map.uptr, pgsize, end;
	struct iolab_domain *domain;
	struct iolab_object *obj;
	struct iolab_hwpt *hwpt;
	int rc = 0;

	/*
	 * As upstream: the arguments against its mock IO page (half a CPU
	 * page) first, then the ID, which must be a paging HWPT (a nested
	 * one is ENOENT, like any ID of another type).
	 */
	if ((iova | length | uptr) % (PAGE_SIZE / 2) ||
	    check_add_overflow(uptr, length, &end))
		return -EINVAL;
	obj = iolab_get_object(ucmd->ctx, cmd->id, IOLAB_OBJ_HWPT_PAGING);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	hwpt = container_of(obj, struct iolab_hwpt, obj);
	domain = hwpt->domain;
	pgsize = 1ULL << __ffs(domain->pgsize_bitmap);
	if ((iova | length | uptr) & (pgsize - 1)) {
		rc = -EINVAL;
		goto out_put;
	}
	for (; length; length -= pgsize, iova += pgsize, uptr += pgsize) {
		struct page *page;
		long got;

		got = get_user_pages_fast(uptr, 1, 0, &page);
		if (got != 1) {
			rc = got < 0 ? got : -EFAULT;
			break;
		}
		if (domain->ops->iova_to_phys(domain, iova) !=
		    page_to_phys(page) + offset_in_page(uptr))
			rc = -EINVAL;
		put_page(page);
		if (rc)
			break;
		cond_resched();
	}
out_put:
	iolab_put_object(&hwpt->obj);
	return rc;
}

static int iolab_test_md_check_iotlb(struct iolab_ucmd *ucmd,
				     struct iommu_test_cmd *cmd)
{
	struct iolab_object *obj;
	struct iolab_hwpt *hwpt;
	u32 val;
	int rc;

	/* As upstream: only a nested HWPT has the mock IOTLB (else ENOENT). */
	obj = iolab_get_object(ucmd->ctx, cmd->id, IOLAB_OBJ_HWPT_NESTED);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	hwpt = container_of(obj, struct iolab_hwpt, obj);
	rc = iolab_mock_nested_iotlb(hwpt->domain, cmd->check_iotlb.id, &val);
	if (!rc && val != cmd->check_iotlb.iotlb)
		rc = -EINVAL;
	iolab_put_object(&hwpt->obj);
	return rc;
}

/* The mock device's cache, which nothing invalidates: always the default. */
static int iolab_test_dev_check_cache(struct iolab_ucmd *ucmd,
				      struct iommu_test_cmd *cmd)
{
	struct iolab_device *idev;
	int rc = 0;

	idev = iolab_get_device(ucmd->ctx, cmd->id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	if (cmd->check_dev_cache.id > MOCK_DEV_CACHE_ID_MAX ||
	    cmd->check_dev_cache.cache != IOMMU_TEST_DEV_CACHE_DEFAULT)
		rc = -EINVAL;
	iolab_put_object(&idev->obj);
	return rc;
}

int iolab_test_cmd(struct iolab_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	switch (cmd->op) {
	case IOMMU_TEST_OP_ADD_RESERVED:
		return iolab_test_add_reserved(ucmd, cmd);
	case IOMMU_TEST_OP_MD_CHECK_REFS:
		return iolab_test_md_check_refs(cmd);
	case IOMMU_TEST_OP_CREATE_ACCESS:
		return iolab_test_create_access(ucmd, cmd);
	case IOMMU_TEST_OP_DESTROY_ACCESS_PAGES:
		return iolab_test_destroy_access_pages(ucmd, cmd);
	case IOMMU_TEST_OP_ACCESS_PAGES:
		return iolab_test_access_pages(ucmd, cmd);
	case IOMMU_TEST_OP_ACCESS_RW:
		return iolab_test_access_rw(ucmd, cmd);
	case IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT:
		WRITE_ONCE(ucmd->ctx->pin_batch,
			   cmd->memory_limit.limit ?: IOLAB_DEFAULT_PIN_BATCH);
		return 0;
	case IOMMU_TEST_OP_ACCESS_REPLACE_IOAS:
		return iolab_test_access_replace_ioas(ucmd, cmd);
	case IOMMU_TEST_OP_MOCK_DOMAIN:
		return iolab_test_mock_domain(ucmd, cmd, 0);
	case IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS:
		return iolab_test_mock_domain(ucmd, cmd,
					      cmd->mock_domain_flags.dev_flags);
	case IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE:
		return iolab_test_mock_domain_replace(ucmd, cmd);
	case IOMMU_TEST_OP_MD_CHECK_MAP:
		return iolab_test_md_check_map(ucmd, cmd);
	case IOMMU_TEST_OP_MD_CHECK_IOTLB:
		return iolab_test_md_check_iotlb(ucmd, cmd);
	case IOMMU_TEST_OP_DEV_CHECK_CACHE:
		return iolab_test_dev_check_cache(ucmd, cmd);
	default:
		return -EOPNOTSUPP;
	}
}

/*
 * IOMMULAB_BENCH_PIN: pin and unpin a user range the way the first domain
 * of an IOAS does, with nothing else, and report the time each took: the
 * reference the IOAS benchmark compares MAP/UNMAP with.
 */
int iolab_bench_pin(struct iolab_ucmd *ucmd)
{
	struct iommulab_bench_pin *cmd = ucmd->cmd;
	struct iolab_pages *pages;
	u64 t0, t1;

	if (cmd->flags & ~IOMMULAB_BENCH_PIN_WRITE)
		return -EOPNOTSUPP;
	int rc;

	pages = iolab_pages_alloc_user(ucmd->ctx, cmd->uptr, cmd->length,
				       cmd->flags & IOMMULAB_BENCH_PIN_WRITE);
	if (IS_ERR(pages))
		return PTR_ERR(pages);
	t0 = ktime_get_ns();
	rc = iolab_pages_pin_get(pages);
	t1 = ktime_get_ns();
	if (!rc)
		iolab_pages_pin_put(pages);
	cmd->out_pin_ns = t1 - t0;
	cmd->out_unpin_ns = ktime_get_ns() - t1;
	iolab_pages_put(pages);
	if (rc)
		return rc;
	return iolab_ucmd_respond(ucmd, sizeof(*cmd));
}

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
	    cmd->dev_flags & ~IOLAB_MOCK_DEV_FLAGS)
		return -EINVAL;

	for (n = 0; n != cmd->nr_devices; n++) {
		stdevs[n] = iolab_stdev_alloc(ctx, cmd->dev_flags,
					      n ? stdevs[0]->pdev : NULL);
		if (IS_ERR(stdevs[n])) {
			rc = PTR_ERR(stdevs[n]);
			goto err_undo;
		}
		info[n].stdev_id = stdevs[n]->obj.id;
		info[n].rid = iolab_pdev_dev(stdevs[n]->pdev)->rid;
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
	while (n--) {
		iolab_selftest_destroy(&stdevs[n]->obj);
		iolab_object_abort(ctx, &stdevs[n]->obj);
	}
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
	rc = iolab_pdev_set_driver(stdev->pdev, cmd->bound);
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
		*rid = iolab_device_dev(container_of(obj, struct iolab_device,
						     obj))->rid;
	else if (obj->type == IOLAB_OBJ_SELFTEST)
		*rid = iolab_pdev_dev(container_of(obj, struct iolab_stdev,
						   obj)->pdev)->rid;
	else
		rc = -ENOENT;
	iolab_put_object(obj);
	return rc;
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
	struct iolab_pdev *pdev;
	struct iolab_dev *dev;
	u32 pasid = IOMMULAB_NO_PASID;
	u32 rid = cmd->rid;
	u64 done = 0, max_iopte = 0, end;
	void *buf;
	int rc = 0;

	if (cmd->flags & ~(IOMMULAB_DMA_WRITE | IOMMULAB_DMA_PASID |
			   IOMMULAB_DMA_DEV_ID) ||
	    cmd->__reserved)
		return -EOPNOTSUPP;
	if (!cmd->length || cmd->length > IOLAB_DMA_MAX)
		return -EINVAL;
	if (cmd->flags & IOMMULAB_DMA_PASID) {
		if (cmd->pasid == IOMMULAB_NO_PASID)
			return -EINVAL;
		pasid = cmd->pasid;
	}
	if (check_add_overflow(cmd->uptr, cmd->length, &end) ||
	    check_add_overflow(cmd->iova, cmd->length - 1, &end))
		return -EOVERFLOW;

	if (cmd->flags & IOMMULAB_DMA_DEV_ID) {
		rc = iolab_rid_of_id(ucmd->ctx, cmd->rid, &rid);
		if (rc)
			return rc;
	}
	dev = iolab_dev_for_dma(ucmd->ctx, rid, &pdev);
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
		iolab_mock_dma(container_of(dev, struct mock_dev, dev), pasid,
			       cmd->iova + done, buf, n, write, &res);
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
	iolab_pdev_put(pdev);
	return rc;
}
