/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommulab: the kernel API differences between the kernels the module is
 * built for, Debian 12's 6.1 and 6.12, in one place. The rest of the
 * module has no version checks: it calls the wrappers below and tests the
 * IOLAB_HAVE_* constants with an ordinary if (the branch a kernel cannot
 * take is compiled, type-checked and dropped).
 *
 *   iolab_pin_user_pages_remote()  6.5 dropped the @vmas argument of
 *                                  pin_user_pages_remote().
 *   IOLAB_HAVE_GUP_COW_UNSHARE     6.2: a read-only FOLL_LONGTERM pin of a
 *                                  copy-on-write mapping unshares (breaks
 *                                  the COW of) file pages as well as
 *                                  anonymous ones; 6.1 only anonymous ones.
 *   IOLAB_HAVE_MEMFD_PIN_FOLIOS    6.11: memfd_pin_folios() pins a shmem or
 *                                  hugetlbfs file's folios without mapping
 *                                  the file anywhere. Used for shmem only:
 *                                  on 6.12 a hugetlbfs page it must
 *                                  allocate (one never faulted in) is taken
 *                                  without a reservation, a VM_BUG_ON in
 *                                  alloc_hugetlb_folio_reserve() (the
 *                                  iommulab fuzzer found it), and an
 *                                  underflow of resv_huge_pages without
 *                                  DEBUG_VM. On 6.1 a stub that fails,
 *                                  never called.
 *   GENL_MCAST_CAP_SYS_ADMIN       a multicast group only CAP_SYS_ADMIN may
 *                                  join (notify.c). Upstream has it since
 *                                  6.8; Debian's 6.1 (6.1.0-57) has the
 *                                  stable backport, header and the check
 *                                  in genl_bind() alike. A 6.1 without it
 *                                  would let anyone join and read every
 *                                  fd's events, so the build stops there.
 */
#ifndef _IOMMULAB_COMPAT_H
#define _IOMMULAB_COMPAT_H

#include <linux/mm.h>
#include <linux/version.h>

static inline long iolab_pin_user_pages_remote(struct mm_struct *mm,
					       unsigned long start,
					       unsigned long nr_pages,
					       unsigned int gup_flags,
					       struct page **pages)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL);
#else
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL, NULL);
#endif
}

#define IOLAB_HAVE_GUP_COW_UNSHARE \
	(LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0))

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
#define IOLAB_HAVE_MEMFD_PIN_FOLIOS 1
#else
#define IOLAB_HAVE_MEMFD_PIN_FOLIOS 0
static inline long memfd_pin_folios(struct file *memfd, loff_t start,
				    loff_t end, struct folio **folios,
				    unsigned int max_folios, pgoff_t *offset)
{
	return -EOPNOTSUPP;
}
#endif

#ifdef IOLAB_COMPAT_GENL
#include <net/genetlink.h>
#ifndef GENL_MCAST_CAP_SYS_ADMIN
#error "this kernel cannot restrict a generic netlink multicast group"
#endif
#endif

#endif /* _IOMMULAB_COMPAT_H */
