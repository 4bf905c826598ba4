// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: pinned user memory and its RLIMIT_MEMLOCK accounting.
 *
 * A struct iolab_pages is one user range pinned long-term, once, when it is
 * first mapped. Every IOAS area made from it (by MAP, and by COPY into any
 * IOAS) holds a reference; the pages are unpinned, marked dirty if they
 * were writeable, and the charge is returned when the last reference goes.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "iommulab_private.h"

/* The page array stays a kvmalloc of at most INT_MAX bytes: 1 TiB pinned. */
#define IOLAB_MAX_PIN_PAGES (INT_MAX / sizeof(struct page *))

/* Charge @npages to whoever pays for @pages; ENOMEM past RLIMIT_MEMLOCK. */
static int iolab_pages_charge(struct iolab_pages *pages, unsigned long npages)
{
	unsigned long limit, cur;
	int rc;

	switch (pages->account_mode) {
	case IOLAB_ACCOUNT_NONE:
		return 0;
	case IOLAB_ACCOUNT_USER:
		limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
		do {
			cur = atomic_long_read(&pages->user->locked_vm);
			if (cur + npages < cur || cur + npages > limit)
				return -ENOMEM;
		} while (atomic_long_cmpxchg(&pages->user->locked_vm, cur,
					     cur + npages) != cur);
		atomic64_add(npages, &pages->mm->pinned_vm);
		return 0;
	case IOLAB_ACCOUNT_MM:
		mmap_write_lock(pages->mm);
		rc = __account_locked_vm(pages->mm, npages, true, current, false);
		mmap_write_unlock(pages->mm);
		return rc;
	}
	return -EINVAL;
}

static void iolab_pages_uncharge(struct iolab_pages *pages,
				 unsigned long npages)
{
	switch (pages->account_mode) {
	case IOLAB_ACCOUNT_NONE:
		break;
	case IOLAB_ACCOUNT_USER:
		atomic_long_sub(npages, &pages->user->locked_vm);
		atomic64_sub(npages, &pages->mm->pinned_vm);
		break;
	case IOLAB_ACCOUNT_MM:
		mmap_write_lock(pages->mm);
		__account_locked_vm(pages->mm, npages, false, NULL, false);
		mmap_write_unlock(pages->mm);
		break;
	}
}

/* Unpin in batches, with a resched point between them. */
#define IOLAB_UNPIN_BATCH 4096UL

/* Unpin the first @npages pages; @dirty marks them dirty first. */
static void iolab_pages_unpin(struct iolab_pages *pages, unsigned long npages,
			      bool dirty)
{
	unsigned long done, n;

	for (done = 0; done < npages; done += n) {
		n = min(npages - done, IOLAB_UNPIN_BATCH);
		unpin_user_pages_dirty_lock(pages->pages + done, n, dirty);
		cond_resched();
	}
}

/**
 * iolab_pages_pin() - pin a user range of the calling process
 * @ctx: the fd's context (accounting mode, pinning batch size)
 * @uptr: start of the range, any alignment
 * @length: bytes, not 0
 * @writable: pin for write; a read-only range can then not be written
 *
 * Return: the pinned pages with one reference, or ERR_PTR: EINVAL, EOVERFLOW
 * (@uptr + @length wraps), ENOMEM (out of memory, over RLIMIT_MEMLOCK, or
 * more than IOLAB_MAX_PIN_PAGES), EFAULT (beyond user space, not mapped, or
 * not writeable when @writable). On error nothing stays pinned or charged.
 */
struct iolab_pages *iolab_pages_pin(struct iolab_ctx *ctx, u64 uptr,
				    u64 length, bool writable)
{
	unsigned int gup_flags = FOLL_LONGTERM | (writable ? FOLL_WRITE : 0);
	unsigned long batch = max_t(unsigned long, ctx->pin_batch, 1);
	struct iolab_pages *pages;
	unsigned long done = 0;
	u64 end;
	int rc;

	if (!length || length > SIZE_MAX - PAGE_SIZE)
		return ERR_PTR(-EINVAL);
	if (check_add_overflow(uptr, length, &end))
		return ERR_PTR(-EOVERFLOW);
	if (end > TASK_SIZE_MAX)
		return ERR_PTR(-EFAULT);

	pages = kzalloc(sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages)
		return ERR_PTR(-ENOMEM);
	kref_init(&pages->kref);
	pages->uptr = ALIGN_DOWN(uptr, PAGE_SIZE);
	pages->npages = DIV_ROUND_UP(end - pages->uptr, PAGE_SIZE);
	pages->writable = writable;
	pages->mm = current->mm;
	mmgrab(pages->mm);
	pages->user = get_uid(current_user());
	if (capable(CAP_IPC_LOCK))
		pages->account_mode = IOLAB_ACCOUNT_NONE;
	else
		pages->account_mode = READ_ONCE(ctx->account_mode);

	/* Over the limit costs nothing: charge before the page array. */
	rc = iolab_pages_charge(pages, pages->npages);
	if (rc)
		goto err_put;
	/* One pointer per page, in one array: at most IOLAB_MAX_PIN_PAGES. */
	if (pages->npages > IOLAB_MAX_PIN_PAGES) {
		rc = -ENOMEM;
		goto err_uncharge;
	}
	pages->pages = kvcalloc(pages->npages, sizeof(*pages->pages),
				GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!pages->pages) {
		rc = -ENOMEM;
		goto err_uncharge;
	}

	while (done < pages->npages) {
		unsigned long n = min(pages->npages - done, batch);
		int got;

		n = min_t(unsigned long, n, INT_MAX);
		got = pin_user_pages_fast(pages->uptr + done * PAGE_SIZE, n,
					  gup_flags, pages->pages + done);
		if (got <= 0) {
			rc = got ? got : -EFAULT;
			goto err_unpin;
		}
		done += got;
		if (fatal_signal_pending(current)) {
			rc = -EINTR;
			goto err_unpin;
		}
		cond_resched();
	}
	return pages;

err_unpin:
	/* Nothing was written through these pins: do not dirty the pages. */
	iolab_pages_unpin(pages, done, false);
	kvfree(pages->pages);
err_uncharge:
	iolab_pages_uncharge(pages, pages->npages);
err_put:
	free_uid(pages->user);
	mmdrop(pages->mm);
	kfree(pages);
	return ERR_PTR(rc);
}

static void iolab_pages_release(struct kref *kref)
{
	struct iolab_pages *pages = container_of(kref, struct iolab_pages, kref);

	iolab_pages_unpin(pages, pages->npages, pages->writable);
	iolab_pages_uncharge(pages, pages->npages);
	free_uid(pages->user);
	mmdrop(pages->mm);
	kvfree(pages->pages);
	kfree(pages);
}

void iolab_pages_put(struct iolab_pages *pages)
{
	kref_put(&pages->kref, iolab_pages_release);
}

void iolab_pages_get(struct iolab_pages *pages)
{
	kref_get(&pages->kref);
}

/*
 * How many pages from @index on are physically contiguous (at most @max):
 * a THP-backed buffer yields long runs that a domain can map with large
 * IOPTEs.
 */
unsigned long iolab_pages_contig(struct iolab_pages *pages,
				 unsigned long index, unsigned long max)
{
	unsigned long pfn = page_to_pfn(pages->pages[index]);
	unsigned long n = 1;

	while (n < max && index + n < pages->npages &&
	       page_to_pfn(pages->pages[index + n]) == pfn + n) {
		n++;
		if (!(n % 4096))
			cond_resched();
	}
	return n;
}
