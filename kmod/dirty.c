// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: dirty tracking. Upstream's IOMMU_HWPT_SET_DIRTY_TRACKING and
 * IOMMU_HWPT_GET_DIRTY_BITMAP, and iommulab's read & unmap
 * (IOMMULAB_IOAS_UNMAP_DIRTY) and IOPTE split/merge (IOMMULAB_HWPT_SPLIT,
 * _MERGE). The driver keeps the dirty bits in its IOPTEs (mock_iommu.c);
 * this file checks the user's arguments and carries the bits to the
 * user's bitmap.
 *
 * A user bitmap (struct iolab_ubitmap) is pinned for writing whole before
 * any dirty bit is read, so nothing can fail after a bit is cleared: a bit
 * cleared is a bit delivered. The IOVA range is harvested in chunks of
 * IOLAB_DIRTY_CHUNK_BITS bitmap bits, aligned to their own size, which is
 * at least the largest IOPTE: no IOPTE crosses a chunk, so a chunk's
 * window holds every IOPTE it reports whole and the driver may clear it.
 * Each chunk goes through a kernel bitmap, all zero between chunks, and a
 * mark per word of it that whoever sets a bit there sets too
 * (iolab_dirty_bitmap.touched); only the marked words are then moved (ORed
 * in, then zeroed) into the user's bytes, so a clean or sparse chunk costs
 * what it holds, not its size.
 */
#include <linux/bitmap.h>
#include <linux/highmem.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <iommulab/iommulab.h>

#include "iommu_driver.h"
#include "iommulab_private.h"
#include "pt/iolab_pt.h"

#ifdef __BIG_ENDIAN
#error "the kernel bitmap is copied to the user's bytes as little-endian"
#endif

#define IOLAB_DIRTY_CHUNK_BITS BIT(18)
/* Bits of one chunk's kernel bitmap: a chunk, and the head of its byte. */
#define IOLAB_DIRTY_KBUF_BITS (IOLAB_DIRTY_CHUNK_BITS + BITS_PER_BYTE)
/* Its words, one mark each */
#define IOLAB_DIRTY_KBUF_WORDS BITS_TO_LONGS(IOLAB_DIRTY_KBUF_BITS)
/* Most bits one bitmap may have (VFIO type1's limit too). */
#define IOLAB_DIRTY_MAX_BITS BIT_ULL(31)

/**
 * iolab_dirty_check_range() - the bitmap rules of <iommulab/iommulab.h>
 * @iova: first IOVA
 * @length: bytes
 * @page_size: bytes per bit
 * @iova_alignment: the IOAS's IOVA alignment
 * @min_page: the smallest page size allowed (the smallest IOPTE)
 *
 * Upstream's checks in upstream's order, then iommulab's own.
 *
 * Return: 0, EINVAL or EOVERFLOW.
 */
int iolab_dirty_check_range(u64 iova, u64 length, u64 page_size,
			    u64 iova_alignment, u64 min_page)
{
	u64 last;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	if ((iova | (last + 1)) & (iova_alignment - 1))
		return -EINVAL;
	if (!page_size || !is_power_of_2(page_size) || page_size < min_page)
		return -EINVAL;
	if ((iova | (last + 1)) & (page_size - 1))
		return -EINVAL;
	if ((length >> ilog2(page_size)) > IOLAB_DIRTY_MAX_BITS)
		return -EINVAL;
	return 0;
}

/**
 * iolab_ubitmap_init() - pin the user's bitmap for [@iova, @iova + @length)
 * @ub: filled in
 * @iova: bit 0's IOVA
 * @length: bytes covered (checked by iolab_dirty_check_range())
 * @page_size: bytes per bit
 * @uptr: the user's bitmap
 *
 * Return: 0, ENOMEM, or EFAULT if any byte of the bitmap cannot be written.
 */
int iolab_ubitmap_init(struct iolab_ubitmap *ub, u64 iova, u64 length,
		       u64 page_size, u64 uptr)
{
	unsigned int shift = ilog2(page_size);
	u64 nbits = (length - 1) >> shift, bytes, first, end, span;
	unsigned long done = 0;
	int rc;

	nbits++;
	memset(ub, 0, sizeof(*ub));
	ub->iova = iova;
	ub->last = iova + (length - 1);
	ub->shift = shift;
	/* 0: the range fits in one chunk whatever its alignment */
	if (!check_shl_overflow(page_size, ilog2(IOLAB_DIRTY_CHUNK_BITS),
				&span))
		ub->span = span;
	bytes = DIV_ROUND_UP(nbits, BITS_PER_BYTE);
	if (check_add_overflow(uptr, bytes, &end) || end > TASK_SIZE_MAX)
		return -EFAULT;
	first = uptr & PAGE_MASK;
	ub->uaddr = uptr;
	ub->npages = (PAGE_ALIGN(end) - first) >> PAGE_SHIFT;
	ub->pages = kvmalloc_array(ub->npages, sizeof(*ub->pages),
				   GFP_KERNEL_ACCOUNT);
	if (!ub->pages)
		return -ENOMEM;
	ub->kbuf = bitmap_zalloc(IOLAB_DIRTY_KBUF_BITS, GFP_KERNEL_ACCOUNT);
	if (!ub->kbuf) {
		rc = -ENOMEM;
		goto err_pages;
	}
	ub->touched = bitmap_zalloc(IOLAB_DIRTY_KBUF_WORDS, GFP_KERNEL_ACCOUNT);
	if (!ub->touched) {
		rc = -ENOMEM;
		goto err_kbuf;
	}
	while (done < ub->npages) {
		int n = min_t(unsigned long, ub->npages - done, 512);

		n = pin_user_pages_fast(first + done * PAGE_SIZE, n,
					FOLL_WRITE, ub->pages + done);
		if (n <= 0) {
			rc = n == -ENOMEM ? -ENOMEM : -EFAULT;
			goto err_unpin;
		}
		done += n;
		cond_resched();
	}
	return 0;

err_unpin:
	unpin_user_pages(ub->pages, done);
	bitmap_free(ub->touched);
err_kbuf:
	bitmap_free(ub->kbuf);
err_pages:
	kvfree(ub->pages);
	ub->pages = NULL;
	return rc;
}

/* Unpin the bitmap, marking its pages dirty if any bit was written. */
void iolab_ubitmap_destroy(struct iolab_ubitmap *ub)
{
	if (!ub->pages)
		return;
	unpin_user_pages_dirty_lock(ub->pages, ub->npages, ub->written);
	bitmap_free(ub->touched);
	bitmap_free(ub->kbuf);
	kvfree(ub->pages);
	ub->pages = NULL;
}

/* OR the eight bytes of @v into the user's bitmap bytes at @p. */
static __always_inline void iolab_ubitmap_or8(u8 *p, u64 v)
{
	u64 u;

	memcpy(&u, p, sizeof(u));
	u |= v;
	memcpy(p, &u, sizeof(u));
}

/*
 * The user's bitmap byte at @off bytes from the start of its first page;
 * *@dst maps page *@mapped (-1: none yet) and is moved there if need be.
 */
static __always_inline u8 *iolab_ubitmap_at(struct iolab_ubitmap *ub,
					    u64 off, u8 **dst, long *mapped)
{
	if (*mapped != off >> PAGE_SHIFT) {
		if (*dst)
			kunmap_local(*dst);
		*mapped = off >> PAGE_SHIFT;
		*dst = kmap_local_page(ub->pages[*mapped]);
	}
	return *dst + offset_in_page(off);
}

/*
 * Move word @w of the chunk's kernel bitmap, whose byte 0 is the user's
 * byte at @base from the start of its first page and whose first @n bytes
 * lie inside the user's bitmap: OR it in (in one step where its bytes lie
 * in one page, at whatever alignment) and zero it. Return its bits.
 */
static __always_inline unsigned int
iolab_ubitmap_move_word(struct iolab_ubitmap *ub, u64 base, u64 n,
			unsigned long w, u8 **dst, long *mapped)
{
	u64 v = ub->kbuf[w], off = base + w * sizeof(v);
	unsigned int len = min_t(u64, sizeof(v), n - w * sizeof(v)), i;

	if (!v)
		return 0;
	ub->kbuf[w] = 0;
	if (len == sizeof(v) && offset_in_page(off) <= PAGE_SIZE - sizeof(v)) {
		iolab_ubitmap_or8(iolab_ubitmap_at(ub, off, dst, mapped), v);
		return iolab_bits64(v);
	}
	for (i = 0; i < len; i++)
		if ((u8)(v >> (i * BITS_PER_BYTE)))
			*iolab_ubitmap_at(ub, off + i, dst, mapped) |=
				(u8)(v >> (i * BITS_PER_BYTE));
	return iolab_bits64(v);
}

/*
 * The BITS_PER_LONG words from word @w, all marked (a dense stretch), as
 * iolab_ubitmap_move_word() would, if their bytes lie inside the bitmap
 * and in one page of it: one mapping and a plain loop. Adds their bits to
 * *@bits; false (nothing done) if they do not lie so.
 */
static bool iolab_ubitmap_move_run(struct iolab_ubitmap *ub, u64 base, u64 n,
				   unsigned long w, u64 *bits)
{
	const unsigned int size = BITS_PER_LONG * sizeof(u64);
	u64 off = base + w * sizeof(u64), v;
	unsigned int i, k = 0;
	u8 *dst;

	if ((w + BITS_PER_LONG) * sizeof(u64) > n ||
	    offset_in_page(off) > PAGE_SIZE - size)
		return false;
	dst = kmap_local_page(ub->pages[off >> PAGE_SHIFT]) +
	      offset_in_page(off);
	/* No branch: a zero word ORs in nothing and is zeroed again */
	for (i = 0; i < BITS_PER_LONG; i++) {
		v = ub->kbuf[w + i];
		ub->kbuf[w + i] = 0;
		k += iolab_bits64(v);
		iolab_ubitmap_or8(dst + i * sizeof(v), v);
	}
	kunmap_local(dst);
	if (k)
		ub->written = true;
	*bits += k;
	return true;
}

/*
 * Move the first @n bytes of the chunk's kernel bitmap into the user's
 * bitmap from its byte @byte0: each word that ub->touched marks, and
 * nothing else, since every bit set in the kernel bitmap is in a marked
 * word; the marks are cleared as they go. A full word of marks (a dense
 * stretch) takes its 64 words in order without a search. Return the
 * number of bits moved.
 */
static IOLAB_HOT(ubitmap_move) u64
iolab_ubitmap_move(struct iolab_ubitmap *ub, u64 byte0, u64 n)
{
	u64 base = offset_in_page(ub->uaddr) + byte0, bits = 0;
	unsigned long nwords = DIV_ROUND_UP(n, sizeof(u64));
	unsigned long t, m, w, end;
	long mapped = -1;
	u8 *dst = NULL;

	for (t = 0; t < BITS_TO_LONGS(nwords); t++) {
		m = ub->touched[t];
		if (!m)
			continue;
		ub->touched[t] = 0;
		if (m == ~0UL) {
			w = t * BITS_PER_LONG;
			end = min(nwords, w + BITS_PER_LONG);
			if (end == w + BITS_PER_LONG &&
			    iolab_ubitmap_move_run(ub, base, n, w, &bits))
				continue;
			for (; w < end; w++)
				bits += iolab_ubitmap_move_word(ub, base, n, w,
								&dst, &mapped);
			continue;
		}
		while (m) {
			w = t * BITS_PER_LONG + __ffs(m);
			m &= m - 1;
			bits += iolab_ubitmap_move_word(ub, base, n, w, &dst,
							&mapped);
		}
	}
	if (dst) {
		kunmap_local(dst);
		ub->written = true;
	}
	return bits;
}

/**
 * iolab_ubitmap_harvest() - fill the user's bitmap for [@first, @last]
 * @ub: a pinned bitmap whose range contains [@first, @last]
 * @first: first IOVA
 * @last: last IOVA
 * @fill: reports the dirty IOPTEs of [iova, last] into a zeroed window
 *	  that contains that range and holds every IOPTE intersecting it
 * @arg: for @fill
 *
 * Return: 0 or @fill's error, which it returns before changing anything
 * (so only the first chunk may fail).
 */
int iolab_ubitmap_harvest(struct iolab_ubitmap *ub, u64 first, u64 last,
			  iolab_dirty_fill_fn fill, void *arg)
{
	u64 page_size = 1ULL << ub->shift;
	u64 cur = first;
	int rc;

	for (;;) {
		u64 end = ub->span ? min(last, cur | (ub->span - 1)) : last;
		u64 byte0 = ((cur - ub->iova) >> ub->shift) / BITS_PER_BYTE;
		struct iolab_dirty_bitmap win = {
			.iova = ub->iova + (byte0 * BITS_PER_BYTE << ub->shift),
			.page_size = page_size,
			.bitmap = ub->kbuf,
			.touched = ub->touched,
		};
		u64 nbits, nbytes;

		/* A range that ends inside a page (an area) takes it whole */
		win.length = (round_down(end, page_size) + page_size) -
			     win.iova;
		nbits = win.length >> ub->shift;
		nbytes = DIV_ROUND_UP(nbits, BITS_PER_BYTE);
		rc = fill(arg, cur, end, &win);
		if (rc)
			return rc;
		ub->nr_dirty += iolab_ubitmap_move(ub, byte0, nbytes);
		if (end == last)
			return 0;
		cur = end + 1;
		cond_resched();
	}
}

/* The largest IOPTE of @domain must not cross a chunk (see above). */
bool iolab_ubitmap_fits(struct iolab_ubitmap *ub, struct iolab_domain *domain)
{
	return !ub->span || (1ULL << __fls(domain->pgsize_bitmap)) <= ub->span;
}

static struct iolab_hwpt *iolab_get_hwpt_paging(struct iolab_ctx *ctx, u32 id)
{
	struct iolab_object *obj;

	obj = iolab_get_object(ctx, id, IOLAB_OBJ_HWPT_PAGING);
	if (IS_ERR(obj))
		return ERR_CAST(obj);
	return container_of(obj, struct iolab_hwpt, obj);
}

int iolab_hwpt_set_dirty_tracking(struct iolab_ucmd *ucmd)
{
	struct iommu_hwpt_set_dirty_tracking *cmd = ucmd->cmd;
	struct iolab_domain *domain;
	struct iolab_hwpt *hwpt;
	int rc;

	/* As upstream: __reserved is not checked. */
	if (cmd->flags & ~IOMMU_HWPT_DIRTY_TRACKING_ENABLE)
		return -EOPNOTSUPP;
	hwpt = iolab_get_hwpt_paging(ucmd->ctx, cmd->hwpt_id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);
	domain = hwpt->domain;
	if (!domain->dirty_capable || !domain->ops->set_dirty_tracking)
		rc = -EOPNOTSUPP;
	else
		rc = domain->ops->set_dirty_tracking(domain, cmd->flags &
					IOMMU_HWPT_DIRTY_TRACKING_ENABLE);
	iolab_put_object(&hwpt->obj);
	return rc;
}

int iolab_hwpt_get_dirty_bitmap(struct iolab_ucmd *ucmd)
{
	struct iommu_hwpt_get_dirty_bitmap *cmd = ucmd->cmd;
	struct iolab_ubitmap ub;
	struct iolab_domain *domain;
	struct iolab_hwpt *hwpt;
	int rc;

	if ((cmd->flags & ~IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) ||
	    cmd->__reserved)
		return -EOPNOTSUPP;
	hwpt = iolab_get_hwpt_paging(ucmd->ctx, cmd->hwpt_id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);
	domain = hwpt->domain;
	rc = iolab_dirty_check_range(cmd->iova, cmd->length, cmd->page_size,
				     READ_ONCE(hwpt->ioas->iopt.iova_alignment),
				     1ULL << __ffs(domain->pgsize_bitmap));
	if (rc)
		goto out_put;
	if (!domain->dirty_capable || !domain->ops->read_and_clear_dirty) {
		rc = -EOPNOTSUPP;
		goto out_put;
	}
	rc = iolab_ubitmap_init(&ub, cmd->iova, cmd->length, cmd->page_size,
				cmd->data);
	if (rc)
		goto out_put;
	rc = iolab_iopt_read_dirty(&hwpt->ioas->iopt, domain,
				   !(cmd->flags &
				     IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR),
				   &ub);
	iolab_ubitmap_destroy(&ub);
out_put:
	iolab_put_object(&hwpt->obj);
	return rc;
}

int iolab_ioas_unmap_dirty(struct iolab_ucmd *ucmd)
{
	struct iommulab_ioas_unmap_dirty *cmd = ucmd->cmd;
	struct iolab_ubitmap ub;
	struct iolab_ioas *ioas;
	u64 unmapped;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	ioas = iolab_get_ioas(ucmd->ctx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	rc = iolab_dirty_check_range(cmd->iova, cmd->length, cmd->page_size,
				     READ_ONCE(ioas->iopt.iova_alignment),
				     READ_ONCE(ioas->iopt.iova_alignment));
	if (rc)
		goto out_put;
	rc = iolab_ubitmap_init(&ub, cmd->iova, cmd->length, cmd->page_size,
				cmd->data);
	if (rc)
		goto out_put;
	rc = iolab_ioas_unmap_range_dirty(ioas, cmd->iova, cmd->length,
					  &unmapped, &ub);
	if (!rc) {
		cmd->out_nr_dirty = ub.nr_dirty;
		rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
	}
	iolab_ubitmap_destroy(&ub);
out_put:
	iolab_put_object(&ioas->obj);
	return rc;
}

/* IOMMULAB_HWPT_SPLIT and _MERGE */
static int iolab_hwpt_iopte(struct iolab_ucmd *ucmd, bool split)
{
	struct iommulab_hwpt_iopte *cmd = ucmd->cmd;
	struct iolab_domain *domain;
	struct iolab_hwpt *hwpt;
	u64 last, min_page;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	hwpt = iolab_get_hwpt_paging(ucmd->ctx, cmd->hwpt_id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);
	domain = hwpt->domain;
	min_page = 1ULL << __ffs(domain->pgsize_bitmap);
	if (!cmd->length) {
		rc = -EINVAL;
		goto out_put;
	}
	if (check_add_overflow(cmd->iova, cmd->length - 1, &last)) {
		rc = -EOVERFLOW;
		goto out_put;
	}
	if (((cmd->iova | cmd->length) & (min_page - 1)) ||
	    cmd->iova < domain->aperture_start ||
	    last > domain->aperture_end ||
	    (split ? !is_power_of_2(cmd->iopte_size) ||
			     !(domain->pgsize_bitmap & cmd->iopte_size) :
		     cmd->iopte_size != 0) ||
	    !domain->ops->split || !domain->ops->merge) {
		rc = -EINVAL;
		goto out_put;
	}
	/* No map or unmap changes the range meanwhile. */
	down_read(&hwpt->ioas->iopt.rwsem);
	if (split)
		rc = domain->ops->split(domain, cmd->iova, cmd->length,
					cmd->iopte_size, &cmd->out_iopte_before,
					&cmd->out_iopte_after);
	else
		rc = domain->ops->merge(domain, cmd->iova, cmd->length,
					&cmd->out_iopte_before,
					&cmd->out_iopte_after);
	up_read(&hwpt->ioas->iopt.rwsem);
	if (!rc)
		rc = iolab_ucmd_respond(ucmd, sizeof(*cmd));
out_put:
	iolab_put_object(&hwpt->obj);
	return rc;
}

int iolab_hwpt_split(struct iolab_ucmd *ucmd)
{
	return iolab_hwpt_iopte(ucmd, true);
}

int iolab_hwpt_merge(struct iolab_ucmd *ucmd)
{
	return iolab_hwpt_iopte(ucmd, false);
}
