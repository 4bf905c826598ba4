// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: the memory behind IOAS mappings, pinned lazily, and its
 * RLIMIT_MEMLOCK accounting.
 *
 * A struct iolab_pages is one source range: a user address range of the
 * process that mapped it (IOAS_MAP), or a range of a shmem or hugetlbfs
 * file (IOAS_MAP_FILE). Every IOAS area made from it (by MAP, and by COPY
 * into any IOAS) holds a reference (@kref); the source is remembered, not
 * pinned. The pages are pinned long-term, all at once, when the first pin
 * user comes (a domain must be filled, an access pins), shared by every
 * later pin user, and unpinned (marked dirty if they were pinned for
 * write) with the charge returned when the last pin user goes. Copies
 * through an access of a range that is not pinned pin only the pages they
 * touch, for the length of the copy, and charge nothing.
 *
 * Pinning a user range of another process (the mapper forked, or handed
 * the fd over) uses that process's mm while it lives; once it is gone the
 * pages cannot be pinned any more and a pin fails with EFAULT, as upstream
 * does. The charge goes to the owner (the mapper, or the process that took
 * a memfd mapping over with IOAS_CHANGE_PROCESS: its user or its mm, as
 * the fd's IOMMU_OPTION_RLIMIT_MODE said at MAP time), against the owner's
 * RLIMIT_MEMLOCK, at the moment of the pin.
 *
 * A pin covers the whole source, all its pages at once, even when the
 * area that needs it (a COPY of part of a mapping, an access pinning one
 * page) uses only part of it; upstream pins per area. A memfd's folios
 * are pinned directly where the kernel can (a shmem file, with
 * memfd_pin_folios(), 6.11 and later, see compat.h); otherwise through a
 * temporary shared mapping in the pinning process, which that process's
 * address-space limits (RLIMIT_AS, mlockall) apply to.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/hugetlb_inline.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "compat.h"
#include "iommulab_private.h"

/* The page array stays a kvmalloc of at most INT_MAX bytes: 1 TiB pinned. */
#define IOLAB_MAX_PIN_PAGES (INT_MAX / sizeof(struct page *))

/* Who pays for pinned pages: the mapper, or the process it moved to. */
struct iolab_owner {
	struct mm_struct *mm;
	struct task_struct *task;
	struct user_struct *user;
};

/*
 * Charge @npages to @o as @mode says; ENOMEM past @o's RLIMIT_MEMLOCK.
 * Both modes count the pages in the mm's pinned_vm (VmPin), as upstream
 * does; USER mode checks the user's locked_vm, MM mode the mm's (VmLck).
 */
static int iolab_owner_charge(const struct iolab_owner *o,
			      enum iolab_account_mode mode,
			      unsigned long npages)
{
	unsigned long limit, cur;
	int rc;

	switch (mode) {
	case IOLAB_ACCOUNT_NONE:
		return 0;
	case IOLAB_ACCOUNT_USER:
		limit = task_rlimit(o->task, RLIMIT_MEMLOCK) >> PAGE_SHIFT;
		do {
			cur = atomic_long_read(&o->user->locked_vm);
			if (cur + npages < cur || cur + npages > limit)
				return -ENOMEM;
		} while (atomic_long_cmpxchg(&o->user->locked_vm, cur,
					     cur + npages) != cur);
		break;
	case IOLAB_ACCOUNT_MM:
		mmap_write_lock(o->mm);
		rc = __account_locked_vm(o->mm, npages, true, o->task, false);
		mmap_write_unlock(o->mm);
		if (rc)
			return rc;
		break;
	}
	atomic64_add(npages, &o->mm->pinned_vm);
	return 0;
}

static void iolab_owner_uncharge(const struct iolab_owner *o,
				 enum iolab_account_mode mode,
				 unsigned long npages)
{
	switch (mode) {
	case IOLAB_ACCOUNT_NONE:
		return;
	case IOLAB_ACCOUNT_USER:
		atomic_long_sub(npages, &o->user->locked_vm);
		break;
	case IOLAB_ACCOUNT_MM:
		mmap_write_lock(o->mm);
		__account_locked_vm(o->mm, npages, false, o->task, false);
		mmap_write_unlock(o->mm);
		break;
	}
	atomic64_sub(npages, &o->mm->pinned_vm);
}

static struct iolab_owner iolab_pages_owner(struct iolab_pages *pages)
{
	return (struct iolab_owner){
		.mm = pages->mm, .task = pages->task, .user = pages->user,
	};
}

/* Charge @npages to whoever pays for @pages; ENOMEM past RLIMIT_MEMLOCK. */
static int iolab_pages_charge(struct iolab_pages *pages, unsigned long npages)
{
	struct iolab_owner o = iolab_pages_owner(pages);

	return iolab_owner_charge(&o, pages->account_mode, npages);
}

static void iolab_pages_uncharge(struct iolab_pages *pages,
				 unsigned long npages)
{
	struct iolab_owner o = iolab_pages_owner(pages);

	iolab_owner_uncharge(&o, pages->account_mode, npages);
}

/* Unpin in batches, with a resched point between them. */
#define IOLAB_UNPIN_BATCH 4096UL

/* Unpin @npages pages of @array; @dirty marks them dirty first. */
static void iolab_unpin_array(struct page **array, unsigned long npages,
			      bool dirty)
{
	unsigned long done, n;

	for (done = 0; done < npages; done += n) {
		n = min(npages - done, IOLAB_UNPIN_BATCH);
		unpin_user_pages_dirty_lock(array + done, n, dirty);
		cond_resched();
	}
}

/*
 * The GUP flags for a long-term pin from @at in @vma, and how many pages
 * of the VMA from @at they are good for.
 *
 * A read-only pin of a copy-on-write mapping (a private file mapping,
 * anonymous memory shared with a fork) must hold the page the process
 * sees after its next write, or the write moves the process to a new page
 * and the device keeps reading the old one. Newer kernels' GUP unshares
 * such pages itself for FOLL_LONGTERM (IOLAB_HAVE_GUP_COW_UNSHARE); 6.1's
 * does it only for anonymous pages. So there a read-only pin of a COW
 * mapping breaks the COW now, as a debugger's write would (FOLL_WRITE |
 * FOLL_FORCE): the page pinned is the process's own. The device still
 * gets a read-only mapping.
 */
static unsigned int iolab_vma_pin_flags(struct vm_area_struct *vma,
					unsigned long at, unsigned int gup_flags,
					unsigned long *max_pages)
{
	*max_pages = (vma->vm_end - at) >> PAGE_SHIFT;
	/*
	 * Only where GUP does not unshare by itself (6.1, not anonymous
	 * memory), where FOLL_FORCE can write (not hugetlb), and never past
	 * the VMA's protection: memory the process cannot read stays refused.
	 */
	if (!IOLAB_HAVE_GUP_COW_UNSHARE &&
	    (gup_flags & (FOLL_LONGTERM | FOLL_WRITE)) == FOLL_LONGTERM &&
	    is_cow_mapping(vma->vm_flags) && (vma->vm_flags & VM_READ) &&
	    !vma_is_anonymous(vma) && !is_vm_hugetlb_page(vma))
		gup_flags |= FOLL_WRITE | FOLL_FORCE;
	return gup_flags;
}

/* One GUP call of at most @todo pages from @at, under @mm's mmap lock. */
static long iolab_pin_locked(struct mm_struct *mm, unsigned long at,
			     unsigned long todo, unsigned int gup_flags,
			     struct page **out)
{
	struct vm_area_struct *vma;
	unsigned long max_pages;
	long got;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, at);
	if (!vma) {
		mmap_read_unlock(mm);
		return -EFAULT;
	}
	gup_flags = iolab_vma_pin_flags(vma, at, gup_flags, &max_pages);
	got = iolab_pin_user_pages_remote(mm, at, min(todo, max_pages),
					  gup_flags, out);
	mmap_read_unlock(mm);
	return got;
}

/*
 * Pin @n pages from user address @addr of @mm into @out, @batch pages per
 * call. A writeable pin of the caller's own mm takes the fast path; a
 * read-only one, and any pin of another process's mm, looks at each VMA
 * (see iolab_vma_pin_flags()). Another process's mm is used only while it
 * still has users. On error nothing stays pinned.
 */
static int iolab_pin_user_range(struct mm_struct *mm, unsigned long addr,
				unsigned long n, unsigned int gup_flags,
				unsigned long batch, struct page **out)
{
	bool local = current->mm == mm;
	unsigned long done = 0;
	int rc = 0;

	if (!local && !mmget_not_zero(mm))
		return -EFAULT;
	while (done < n) {
		unsigned long todo = min3(n - done, batch, (unsigned long)INT_MAX);
		unsigned long at = addr + done * PAGE_SIZE;
		long got;

		if (local && (gup_flags & FOLL_WRITE))
			got = pin_user_pages_fast(at, todo, gup_flags,
						  out + done);
		else
			got = iolab_pin_locked(mm, at, todo, gup_flags,
					       out + done);
		if (got <= 0) {
			rc = got ? got : -EFAULT;
			break;
		}
		done += got;
		if (fatal_signal_pending(current)) {
			rc = -EINTR;
			break;
		}
		cond_resched();
	}
	if (!local)
		mmput(mm);
	if (rc)
		/* Nothing was written through these pins: no dirtying. */
		iolab_unpin_array(out, done, false);
	return rc;
}

/*
 * Pin @n pages of a shmem file from byte @first of it with
 * memfd_pin_folios() (IOLAB_HAVE_MEMFD_PIN_FOLIOS), one page per call: a
 * call pins each folio it returns once, and every page of the array holds
 * a pin of its own (the unpin is per page), so a large folio is asked for
 * once per page of it that is pinned. Missing pages are allocated into
 * the file, as a fault through a mapping would. On error nothing stays
 * pinned.
 */
static int iolab_pin_file_folios(struct file *file, u64 first, unsigned long n,
				 struct page **out)
{
	unsigned long done;
	int rc = 0;

	for (done = 0; done < n; done++) {
		loff_t pos = first + (u64)done * PAGE_SIZE;
		struct folio *folio;
		pgoff_t offset;
		long got;

		got = memfd_pin_folios(file, pos, pos + PAGE_SIZE - 1, &folio, 1,
				       &offset);
		if (got != 1) {
			rc = got < 0 ? got : -EFAULT;
			break;
		}
		out[done] = folio_page(folio, offset >> PAGE_SHIFT);
		if (fatal_signal_pending(current)) {
			done++;
			rc = -EINTR;
			break;
		}
		cond_resched();
	}
	if (rc)
		iolab_unpin_array(out, done, false);
	return rc;
}

/* Whether @file lives on a filesystem of @magic (TMPFS_MAGIC, ...). */
static bool iolab_file_has_magic(struct file *file, unsigned long magic)
{
	return file_inode(file)->i_sb->s_magic == magic;
}

/*
 * Pin @n pages of a shmem or hugetlbfs file from page @index of @pages.
 * Without memfd_pin_folios() (6.1), and for hugetlbfs files everywhere,
 * the file is mapped shared into the caller's address space for the
 * length of the pin (aligned to the file's page size, which hugetlbfs
 * requires), pinned there like user memory, and unmapped again; the pins
 * keep the file's pages.
 */
static int iolab_pin_file_range(struct iolab_pages *pages, unsigned long index,
				unsigned long n, unsigned int gup_flags,
				struct page **out)
{
	unsigned long align = i_blocksize(file_inode(pages->file));
	u64 first = pages->uptr + (u64)index * PAGE_SIZE;
	u64 start = ALIGN_DOWN(first, align);
	u64 end = ALIGN(first + (u64)n * PAGE_SIZE, align);
	unsigned long addr;
	int prot = PROT_READ | (gup_flags & FOLL_WRITE ? PROT_WRITE : 0);
	int rc;

	/*
	 * Pages past the end of the file (truncated since MAP_FILE) are gone:
	 * EFAULT, checked here because mapping a hugetlbfs file writeable
	 * past its end would grow it.
	 */
	if (first + (u64)n * PAGE_SIZE > i_size_read(file_inode(pages->file)))
		return -EFAULT;
	if (IOLAB_HAVE_MEMFD_PIN_FOLIOS &&
	    iolab_file_has_magic(pages->file, TMPFS_MAGIC))
		return iolab_pin_file_folios(pages->file, first, n, out);
	if (!current->mm)
		return -EFAULT;
	addr = vm_mmap(pages->file, 0, end - start, prot, MAP_SHARED, start);
	if (IS_ERR_VALUE(addr))
		return (int)addr;
	rc = iolab_pin_user_range(current->mm, addr + (first - start), n,
				  gup_flags, pages->pin_batch, out);
	/*
	 * Unmapping can fail to allocate (6.1's munmap allocates, and more
	 * so when the mapping merged with a neighbour and must be split):
	 * try again rather than leave it in the process (only a dying
	 * process, whose mm goes anyway, gives up).
	 */
	while (vm_munmap(addr, end - start) == -ENOMEM &&
	       !fatal_signal_pending(current))
		cond_resched();
	return rc;
}

/*
 * Pin pages [@index, @index + @n) of @pages' source into @out: long-term,
 * or for a copy of a moment only (@longterm false).
 */
static int iolab_pages_pin_range(struct iolab_pages *pages,
				 unsigned long index, unsigned long n,
				 bool write, bool longterm, struct page **out)
{
	unsigned int gup_flags = (longterm ? FOLL_LONGTERM : 0) |
				 (write ? FOLL_WRITE : 0);

	if (pages->file)
		return iolab_pin_file_range(pages, index, n, gup_flags, out);
	return iolab_pin_user_range(pages->mm,
				    pages->uptr + (u64)index * PAGE_SIZE, n,
				    gup_flags, pages->pin_batch, out);
}

/*
 * A new unpinned source of @npages pages from @start (page aligned) for
 * the calling process; the charge, when it comes, goes to its user or mm.
 */
static struct iolab_pages *iolab_pages_alloc(struct iolab_ctx *ctx, u64 start,
					     unsigned long npages,
					     bool writable)
{
	struct iolab_pages *pages;

	/* One pointer per page, in one array: at most IOLAB_MAX_PIN_PAGES. */
	if (npages > IOLAB_MAX_PIN_PAGES)
		return ERR_PTR(-ENOMEM);
	pages = kzalloc(sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages)
		return ERR_PTR(-ENOMEM);
	kref_init(&pages->kref);
	mutex_init(&pages->mutex);
	INIT_LIST_HEAD(&pages->move_item);
	pages->uptr = start;
	pages->npages = npages;
	pages->writable = writable;
	pages->pin_batch = max_t(unsigned int, READ_ONCE(ctx->pin_batch), 1);
	pages->mm = current->mm;
	mmgrab(pages->mm);
	pages->task = current->group_leader;
	get_task_struct(pages->task);
	pages->user = get_uid(current_user());
	if (capable(CAP_IPC_LOCK))
		pages->account_mode = IOLAB_ACCOUNT_NONE;
	else
		pages->account_mode = READ_ONCE(ctx->account_mode);
	return pages;
}

/**
 * iolab_pages_alloc_user() - remember a user range of the calling process
 * @ctx: the fd's context (accounting mode, pinning batch size)
 * @uptr: start of the range, any alignment
 * @length: bytes, not 0
 * @writable: pin for write, when pinned; the range can then be written
 *
 * Nothing is pinned, faulted in or charged: a range that is not mapped is
 * accepted here and fails when something pins it.
 *
 * Return: the source with one reference, or ERR_PTR: EINVAL (@length 0 or
 * too large), EOVERFLOW (@uptr + @length wraps), ENOMEM (out of memory, or
 * more than IOLAB_MAX_PIN_PAGES pages).
 */
struct iolab_pages *iolab_pages_alloc_user(struct iolab_ctx *ctx, u64 uptr,
					   u64 length, bool writable)
{
	u64 end, start;

	if (!length || length > SIZE_MAX - PAGE_SIZE)
		return ERR_PTR(-EINVAL);
	if (check_add_overflow(uptr, length, &end))
		return ERR_PTR(-EOVERFLOW);
	start = ALIGN_DOWN(uptr, PAGE_SIZE);
	return iolab_pages_alloc(ctx, start, DIV_ROUND_UP(end - start,
							  PAGE_SIZE),
				 writable);
}

/* The files IOAS_MAP_FILE takes: shmem (memfd) and hugetlbfs ones. */
static bool iolab_file_mappable(struct file *file)
{
	return S_ISREG(file_inode(file)->i_mode) &&
	       (iolab_file_has_magic(file, TMPFS_MAGIC) ||
		iolab_file_has_magic(file, HUGETLBFS_MAGIC));
}

/**
 * iolab_pages_alloc_file() - remember a range of a memfd
 * @ctx: the fd's context
 * @file: a shmem or hugetlbfs file (the source takes its own reference)
 * @start: byte offset in the file, any alignment
 * @length: bytes, not 0
 * @writable: pin for write, when pinned
 *
 * Return: the source with one reference, or ERR_PTR: EINVAL (@length 0,
 * a file of another kind, or a range past its end), EPERM (@writable and
 * the file is not open for writing), EOVERFLOW, ENOMEM.
 * A file truncated later keeps what was pinned; pinning after the
 * truncation fails (EFAULT).
 */
struct iolab_pages *iolab_pages_alloc_file(struct iolab_ctx *ctx,
					   struct file *file, u64 start,
					   u64 length, bool writable)
{
	struct iolab_pages *pages;
	u64 end, first;

	if (!length || length > SIZE_MAX - PAGE_SIZE)
		return ERR_PTR(-EINVAL);
	if (check_add_overflow(start, length, &end) || end > LLONG_MAX)
		return ERR_PTR(-EOVERFLOW);
	/* As upstream: a range past the end of the file is EINVAL, now. */
	if (!iolab_file_mappable(file) || end > i_size_read(file_inode(file)))
		return ERR_PTR(-EINVAL);
	/* As upstream: a writeable mapping needs a file open for writing. */
	if (writable && !(file->f_mode & FMODE_WRITE))
		return ERR_PTR(-EPERM);
	first = ALIGN_DOWN(start, PAGE_SIZE);
	pages = iolab_pages_alloc(ctx, first,
				  DIV_ROUND_UP(end - first, PAGE_SIZE),
				  writable);
	if (!IS_ERR(pages))
		pages->file = get_file(file);
	return pages;
}

/* The first pin user: charge, then pin every page of the source. */
static int iolab_pages_pin_all(struct iolab_pages *pages)
{
	struct page **array;
	int rc;

	lockdep_assert_held(&pages->mutex);
	/* Over the limit costs nothing: charge before the page array. */
	rc = iolab_pages_charge(pages, pages->npages);
	if (rc)
		return rc;
	array = kvcalloc(pages->npages, sizeof(*array),
			 GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!array) {
		rc = -ENOMEM;
		goto err_uncharge;
	}
	rc = iolab_pages_pin_range(pages, 0, pages->npages, pages->writable,
				   true, array);
	if (rc)
		goto err_free;
	pages->pages = array;
	return 0;

err_free:
	kvfree(array);
err_uncharge:
	iolab_pages_uncharge(pages, pages->npages);
	return rc;
}

/**
 * iolab_pages_pin_get() - become a pin user of @pages
 * @pages: the source
 *
 * The first pin user pins every page and charges for them; later ones
 * share those pins. While the caller is a pin user, iolab_pages_page()
 * may be read without a lock.
 *
 * Return: 0, or EFAULT (a page is not mapped or not writeable, or the
 * mapper's mm is gone), ENOMEM (out of memory, over RLIMIT_MEMLOCK),
 * EINTR (fatal signal), or the error of mapping a file. On error nothing
 * changed.
 */
int iolab_pages_pin_get(struct iolab_pages *pages)
{
	int rc = 0;

	mutex_lock(&pages->mutex);
	if (pages->pin_users == UINT_MAX)
		rc = -EOVERFLOW;
	else if (!pages->pin_users)
		rc = iolab_pages_pin_all(pages);
	if (!rc)
		pages->pin_users++;
	mutex_unlock(&pages->mutex);
	return rc;
}

/* Leave the pin users; the last one unpins and uncharges. */
void iolab_pages_pin_put(struct iolab_pages *pages)
{
	struct page **array = NULL;

	mutex_lock(&pages->mutex);
	if (!--pages->pin_users) {
		array = pages->pages;
		pages->pages = NULL;
		iolab_unpin_array(array, pages->npages, pages->writable);
		iolab_pages_uncharge(pages, pages->npages);
	}
	mutex_unlock(&pages->mutex);
	kvfree(array);
}

static void iolab_pages_release(struct kref *kref)
{
	struct iolab_pages *pages = container_of(kref, struct iolab_pages, kref);

	/* Every pin user is an area's, and the areas are gone. */
	if (pages->pin_users) {
		pr_err("iommulab: pages released with %u pin users\n",
		       pages->pin_users);
		iolab_unpin_array(pages->pages, pages->npages, pages->writable);
		iolab_pages_uncharge(pages, pages->npages);
		kvfree(pages->pages);
	}
	if (pages->file)
		fput(pages->file);
	free_uid(pages->user);
	put_task_struct(pages->task);
	mmdrop(pages->mm);
	mutex_destroy(&pages->mutex);
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

/* The page at @index; the caller is a pin user. */
struct page *iolab_pages_page(struct iolab_pages *pages, unsigned long index)
{
	return pages->pages[index];
}

/*
 * How many pages from @index on are physically contiguous (at most @max):
 * a THP-backed buffer yields long runs that a domain can map with large
 * IOPTEs. The caller is a pin user.
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

/* Copy @length bytes at @byte of the pages in @array (first = page 0). */
static void iolab_copy_pages(struct page **array, u64 byte, u8 *buf,
			     u64 length, bool write)
{
	while (length) {
		unsigned int off = byte % PAGE_SIZE;
		size_t n = min_t(u64, PAGE_SIZE - off, length);
		struct page *page = array[byte / PAGE_SIZE];
		void *va = kmap_local_page(page);

		if (write)
			memcpy(va + off, buf, n);
		else
			memcpy(buf, va + off, n);
		kunmap_local(va);
		if (write)
			set_page_dirty_lock(page);
		buf += n;
		byte += n;
		length -= n;
		cond_resched();
	}
}

/**
 * iolab_pages_rw() - copy between a kernel buffer and part of a source
 * @pages: the source
 * @byte: offset from the source's first page of the first byte
 * @buf: kernel buffer of @length bytes
 * @length: bytes, not 0, inside the source
 * @write: copy @buf into the pages
 *
 * Uses the long-term pins when there are any; otherwise pins just the
 * pages touched for the copy (charging nothing) and unpins them after.
 *
 * Return: 0, or what pinning returns (EFAULT, ENOMEM, EINTR).
 */
int iolab_pages_rw(struct iolab_pages *pages, u64 byte, void *buf, u64 length,
		   bool write)
{
	unsigned long first = byte / PAGE_SIZE;
	unsigned long n = DIV_ROUND_UP(byte + length, PAGE_SIZE) - first;
	struct page **array;
	int rc;

	mutex_lock(&pages->mutex);
	if (pages->pin_users && pages->pin_users != UINT_MAX) {
		pages->pin_users++;
		mutex_unlock(&pages->mutex);
		iolab_copy_pages(pages->pages, byte, buf, length, write);
		iolab_pages_pin_put(pages);
		return 0;
	}
	mutex_unlock(&pages->mutex);

	array = kvcalloc(n, sizeof(*array), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!array)
		return -ENOMEM;
	rc = iolab_pages_pin_range(pages, first, n, write, false, array);
	if (!rc) {
		iolab_copy_pages(array, byte - (u64)first * PAGE_SIZE, buf,
				 length, write);
		iolab_unpin_array(array, n, false);
	}
	kvfree(array);
	return rc;
}

/**
 * iolab_pages_charge_current() - charge the calling process for @pages
 * @pages: a source whose pin state cannot change (the caller holds every
 *	   IOAS lock of every area using it)
 *
 * Step one of moving @pages to the calling process (IOAS_CHANGE_PROCESS):
 * the pinned pages, if any, are charged to the caller too, against its
 * RLIMIT_MEMLOCK. Undone by iolab_pages_uncharge_current(), completed by
 * iolab_pages_move_to_current(). Return: 0 or ENOMEM.
 */
/* Whether the calling process already pays for @pages, as a move would. */
static bool iolab_pages_owned_by_current(struct iolab_pages *pages)
{
	return pages->mm == current->mm &&
	       pages->task == current->group_leader &&
	       pages->user == current_user();
}

int iolab_pages_charge_current(struct iolab_pages *pages)
{
	struct iolab_owner o = {
		current->mm, current->group_leader, current_user(),
	};
	int rc = 0;

	mutex_lock(&pages->mutex);
	if (pages->pin_users && !iolab_pages_owned_by_current(pages))
		rc = iolab_owner_charge(&o, pages->account_mode,
					pages->npages);
	mutex_unlock(&pages->mutex);
	return rc;
}

/* Undo a successful iolab_pages_charge_current(). */
void iolab_pages_uncharge_current(struct iolab_pages *pages)
{
	struct iolab_owner o = {
		current->mm, current->group_leader, current_user(),
	};

	mutex_lock(&pages->mutex);
	if (pages->pin_users && !iolab_pages_owned_by_current(pages))
		iolab_owner_uncharge(&o, pages->account_mode, pages->npages);
	mutex_unlock(&pages->mutex);
}

/*
 * Finish the move after iolab_pages_charge_current(): the old owner's
 * charge is returned and the caller becomes the owner, who pays for every
 * later pin. Only a file source may move: a user range names addresses
 * of the old owner's mm.
 */
void iolab_pages_move_to_current(struct iolab_pages *pages)
{
	struct iolab_owner old;

	mutex_lock(&pages->mutex);
	if (iolab_pages_owned_by_current(pages)) {
		mutex_unlock(&pages->mutex);
		return;
	}
	if (pages->pin_users)
		iolab_pages_uncharge(pages, pages->npages);
	old = iolab_pages_owner(pages);
	pages->mm = current->mm;
	mmgrab(pages->mm);
	pages->task = current->group_leader;
	get_task_struct(pages->task);
	pages->user = get_uid(current_user());
	mutex_unlock(&pages->mutex);
	free_uid(old.user);
	put_task_struct(old.task);
	mmdrop(old.mm);
}
