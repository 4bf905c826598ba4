// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: test accesses, the in-kernel users of an IOAS that pin and copy
 * by IOVA with software isolation only (the seeds' "sw mdev"), and their
 * IOMMU_TEST_CMD ops (CREATE_ACCESS, ACCESS_REPLACE_IOAS, ACCESS_PAGES,
 * DESTROY_ACCESS_PAGES, ACCESS_RW), which selftest.c dispatches.
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

int iolab_test_create_access(struct iolab_ucmd *ucmd,
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

int iolab_test_access_replace_ioas(struct iolab_ucmd *ucmd,
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
			return -EBADE;
		cond_resched();
	}
	return 0;
}

int iolab_test_access_pages(struct iolab_ucmd *ucmd,
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

int iolab_test_destroy_access_pages(struct iolab_ucmd *ucmd,
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

int iolab_test_access_rw(struct iolab_ucmd *ucmd,
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
