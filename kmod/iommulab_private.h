/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommulab: the one private header that ties the module's files together.
 *
 * Object model: every object a file descriptor creates lives in that fd's
 * context (struct iolab_ctx) under a u32 ID, with a users refcount. The
 * table holds one reference; every other holder (an in-flight ioctl, an
 * object that depends on it) holds one more. An object is destroyed only
 * when the table's reference is the last one, so IOMMU_DESTROY of an object
 * still in use fails with EBUSY instead of waiting. Objects that die with
 * what uses them (an automatic HWPT, a MOCK_DOMAIN device) are unpublished
 * and then destroyed once the ioctls that looked them up let go
 * (iolab_object_destroy_wait()).
 *
 * Lock order of the whole module. A lock may be taken while holding only
 * locks above it on its own chain; the debug lane's lockdep checks it.
 *
 *   iolab_group.lock (device.c: one group's binds and unbinds)
 *     -> iolab_devices_lock (device.c: RID registry, ownership; a leaf)
 *     -> mock_hwdev.ctx_rwsem (moving the group into the blocked domain)
 *
 *   iolab_ctx.attach_lock (one fd's attach, detach, replace, HWPT alloc,
 *			    IOAS_CHANGE_PROCESS; PASIDs as RIDs)
 *     -> iolab_group.lock (a PASID attach checks the group is a singleton)
 *     -> iolab_devices_lock (a sub-device's aux attach looks at its
 *        parent's RID domain)
 *     -> iolab_busdev.pasid_claims xa_lock (a leaf spinlock)
 *     -> iolab_subdev.route_rwsem (subdev.c: a sub-device's route)
 *       -> mock_hwdev.ctx_rwsem (the parent's set_dev_pasid)
 *     -> mock_hwdev.ctx_rwsem (attach_dev, set_dev_pasid)
 *     -> every IOAS's iolab_iopt.rwsem at once (IOAS_CHANGE_PROCESS, as
 *        down_write_nest_lock() under attach_lock)
 *     -> mmap_read_lock (a fault in copy_to_user of the reply)
 *     -> iolab_iopt.rwsem (a new HWPT filled from its IOAS)
 *     -> the fd's object table xa_lock (a leaf spinlock)
 *     -> iolab_ioasid_lock (ioasid.c: the system PASID space and every
 *        IOASID set; PASID users come and go with attaches)
 *       -> mmap_read_lock (a fault in copy_to_user of a reply)
 *       -> the fd's object table xa_lock
 *       -> iolab_nl_lock (the events of IOASID sets)
 *     -> iolab_nl_lock (notify.c: an event sent by an attach)
 *     -> iolab_faultq.mutex (fault.c: a page request is queued, and a
 *        detach answers the requests of what left, under attach_lock)
 *
 *   iolab_faultq.mutex (fault.c: one fault queue and its requests)
 *     -> mmap_read_lock (read() and write() of the fault fd copy records)
 *     -> iolab_nl_lock (page request and response events)
 *
 *   iolab_nl_lock (notify.c: netlink subscribers, event order; taken
 *		   after the genetlink core's lock by the family's commands;
 *		   nothing of the module is taken under it)
 *
 *   iolab_staccess.ioas_lock (access.c: a test access's IOAS)
 *     -> iolab_ioas.access_lock -> iolab_staccess.lock
 *     -> iolab_iopt.rwsem
 *   (unmap drops iolab_iopt.rwsem before it notifies the accesses)
 *
 *   iolab_iopt.rwsem (an IOAS's IOVA space)
 *     -> mock_domain.split_lock (an IOPTE split) -> mock_domain.lock
 *     -> mock_domain.lock (map, unmap, IOTLB sync of each domain; dirty
 *        harvests, merges)
 *     -> iolab_pages.mutex (pages.c: pinning on first use, unpinning)
 *       -> mmap_read_lock (GUP of the mapper's mm, or the caller's)
 *       -> mmap_write_lock (RLIMIT charge and uncharge per mm; the
 *          caller's mm while a memfd is mapped into it to be pinned)
 *     -> mmap_read_lock (a fault in copy_to_user of IOVA_RANGES)
 *
 *   iolab_subdev.route_rwsem (read: a sub-device's DMA)
 *     -> iolab_ioasid_lock is NOT taken under it (a tag is looked up
 *        before)
 *     -> mock_hwdev.ctx_rwsem (read: the parent's PASID table)
 *     -> iolab_iopt.rwsem (read: a software-mediated copy)
 *
 *   mock_hwdev.ctx_rwsem (a device's context: DMA holds it for read)
 *     -> mock_domain.lock (read: a DMA walks the table)
 *       -> mock_domain.iotlb_lock (a leaf spinlock)
 *   mock_nested.lock (a leaf spinlock)
 *
 * Nothing takes another lock of this list while holding iolab_devices_lock,
 * so nothing waits for a device's DMA while holding it: one fd's bind, DMA
 * lookup or unplug never waits for another group's DMA.
 */
#ifndef _IOMMULAB_PRIVATE_H
#define _IOMMULAB_PRIVATE_H

#include <linux/bits.h>
#include <linux/interval_tree.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/xarray.h>

#include <iommulab/iommufd.h>
#include <iommulab/iommulab.h>
#include <iommulab/iommulab_genl.h>

struct file;
struct mm_struct;
struct page;
struct task_struct;
struct user_struct;

enum iolab_obj_type {
	IOLAB_OBJ_NONE,
	IOLAB_OBJ_ANY = IOLAB_OBJ_NONE,
	IOLAB_OBJ_IOAS,
	IOLAB_OBJ_DEVICE,
	IOLAB_OBJ_HWPT_PAGING,
	IOLAB_OBJ_HWPT_NESTED,
	IOLAB_OBJ_SELFTEST,
	IOLAB_OBJ_VIOMMU,
	IOLAB_OBJ_IOASID_SET,
	IOLAB_OBJ_FAULT,
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
	IOLAB_ACCOUNT_NONE = 2,	/* CAP_IPC_LOCK: pinned but not charged */
};

/**
 * struct iolab_ctx - everything one open /dev/iommu file descriptor owns
 * @file: the file this context belongs to
 * @objects: ID -> struct iolab_object. An ID allocated but not yet
 *	     finalized holds XA_ZERO_ENTRY, which lookups never return.
 *	     The xarray's own spinlock (xa_lock) protects the table, every
 *	     users count transition that removes an object, and @account_mode.
 * @account_mode: enum iolab_account_mode for pinned-memory accounting
 * @pin_batch: most pages pinned by one pin_user_pages_fast() call
 *	       (IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT lowers it to exercise
 *	       the batching); read without locking, a torn value is harmless
 * @attach_lock: serialises attach/detach/replace of this fd's devices (RID
 *		 and PASIDs) and the creation and removal of HWPTs;
 *		 protects every iolab_idev.hwpt, iolab_idev.pasids,
 *		 iolab_hwpt.nr_devices, iolab_hwpt.dying and
 *		 iolab_ioas.hwpts. See the lock order above.
 * @vfio_ioas: the compatibility IOAS of IOMMU_VFIO_IOAS, or NULL; no
 *	       reference is held: it is set and read under xa_lock, and
 *	       destroying that IOAS clears it under the same lock
 *     -> iolab_ioasid_lock (ioasid.c: the system PASID space and every
 *        IOASID set; PASID users come and go with attaches)
 *       -> mmap_read_lock (a fault in copy_to_user of a reply)
 *       -> the fd's object table xa_lock
 *       -> iolab_nl_lock (the events of IOASID sets)
 *     -> iolab_nl_lock (notify.c: an event sent by an attach)
 *
 *   iolab_nl_lock (notify.c: netlink subscribers, event order; taken
 *		   after the genetlink core's lock by the family's commands;
 *		   nothing of the module is taken under it)
 */
struct iolab_ctx {
	struct file *file;
	struct xarray objects;
	enum iolab_account_mode account_mode;
	unsigned int pin_batch;
	struct mutex attach_lock; /* see above */
	struct iolab_ioas *vfio_ioas;
	struct iolab_ioasid_set *ioasid_set;
	u32 notify_id;
	kuid_t notify_uid;
};

#define IOLAB_DEFAULT_PIN_BATCH 65536

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
struct iolab_object *iolab_object_alloc(struct iolab_ctx *ctx, size_t size,
					enum iolab_obj_type type);
void iolab_object_finalize(struct iolab_ctx *ctx, struct iolab_object *obj);
void iolab_object_abort(struct iolab_ctx *ctx, struct iolab_object *obj);
void iolab_object_abort_destroy(struct iolab_ctx *ctx,
				struct iolab_object *obj);
struct iolab_object *iolab_get_object(struct iolab_ctx *ctx, u32 id,
				      enum iolab_obj_type type);
bool iolab_object_exists(struct iolab_ctx *ctx, u32 id);
void iolab_put_object(struct iolab_object *obj);
void iolab_object_unpublish(struct iolab_ctx *ctx, struct iolab_object *obj);
void iolab_object_destroy_wait(struct iolab_object *obj);

/* The memory behind mappings, pinned lazily (pages.c) */

/**
 * struct iolab_pages - one source range, shared by all its mappings
 * @kref: one reference per IOAS area using the source, and one per call
 *	  that is making an area from it
 * @mutex: protects @pin_users and @pages. Lock order: after
 *	   iolab_iopt.rwsem, before the mmap locks (pinning, accounting)
 * @pin_users: domains' and accesses' holds on the pins; the pages are
 *	       pinned while it is not 0
 * @pages: the pinned pages while @pin_users is not 0, else NULL; a pin
 *	   user may read it without @mutex
 * @uptr: page-aligned start of the source: a user address, or a byte
 *	  offset in @file
 * @npages: number of pages of the source
 * @writable: pinned for write; unpinning then marks the pages dirty
 * @pin_batch: most pages pinned by one GUP call (the fd's, at MAP time)
 * @account_mode: who is charged (fixed at MAP time)
 * @mm: the owner's mm (mmgrab'ed): the source of a user range (used only
 *	while it has users), and the mm charged (VmPin; VmLck in MM mode)
 * @task: the owner's thread group leader, whose RLIMIT_MEMLOCK applies
 * @user: the owner's user (get_uid'ed), charged in USER mode
 * @file: IOAS_MAP_FILE: the shmem or hugetlbfs file (a reference), else NULL
 * @move_item: IOAS_CHANGE_PROCESS's list of sources to move (ioas.c)
 *
 * The owner is the mapper. @mm, @task and @user change (under @mutex)
 * only for a file source moved by IOAS_CHANGE_PROCESS, whose pinning never
 * reads @mm. The rest but @pin_users, @pages and @move_item is fixed at
 * creation.
 */
struct iolab_pages {
	struct kref kref;
	struct mutex mutex; /* see above */
	unsigned int pin_users;
	struct page **pages;
	u64 uptr;
	unsigned long npages;
	bool writable;
	unsigned int pin_batch;
	enum iolab_account_mode account_mode;
	struct mm_struct *mm;
	struct task_struct *task;
	struct user_struct *user;
	struct file *file;
	struct list_head move_item;
};

struct iolab_pages *iolab_pages_alloc_user(struct iolab_ctx *ctx, u64 uptr,
					   u64 length, bool writable);
struct iolab_pages *iolab_pages_alloc_file(struct iolab_ctx *ctx,
					   struct file *file, u64 start,
					   u64 length, bool writable);
void iolab_pages_get(struct iolab_pages *pages);
void iolab_pages_put(struct iolab_pages *pages);
int iolab_pages_pin_get(struct iolab_pages *pages);
void iolab_pages_pin_put(struct iolab_pages *pages);
struct page *iolab_pages_page(struct iolab_pages *pages, unsigned long index);
unsigned long iolab_pages_contig(struct iolab_pages *pages,
				 unsigned long index, unsigned long max);
int iolab_pages_rw(struct iolab_pages *pages, u64 byte, void *buf, u64 length,
		   bool write);
int iolab_pages_charge_current(struct iolab_pages *pages);
void iolab_pages_uncharge_current(struct iolab_pages *pages);
void iolab_pages_move_to_current(struct iolab_pages *pages);

/* The IOVA space of an IOAS (io_pagetable.c) */

#define IOLAB_PROT_READ 1
#define IOLAB_PROT_WRITE 2

/**
 * struct iolab_area - one mapping: an IOVA range backed by part of a pages
 * @node: IOVA [start, last] in iolab_iopt.area_itree
 * @pages: the pinned memory (one reference)
 * @start_byte: offset of @node.start from @pages->uptr
 * @prot: IOLAB_PROT_*
 * @num_pins: in-kernel users (accesses) holding pages of this area; an
 *	      unmap refuses with EBUSY while it is not zero
 */
struct iolab_area {
	struct interval_tree_node node;
	struct iolab_pages *pages;
	u64 start_byte;
	int prot;
	atomic_t num_pins;
};

/**
 * struct iolab_iopt - the IOVA space of one IOAS
 * @rwsem: protects the three trees, @iova_alignment and
 *	   @disable_large_pages; taken for read by accesses pinning or
 *	   copying, for write by map/unmap. Lock order: an access's locks,
 *	   then this.
 * @area_itree: struct iolab_area by IOVA
 * @reserved_itree: IOVA that nothing may map (ADD_RESERVED, devices)
 * @allowed_itree: IOVA that must stay usable (ALLOW_IOVAS); empty: all
 * @domains: the paging domains (struct iolab_domain) that mirror the
 *	     areas; every map and unmap reaches each of them
 * @iova_alignment: what MAP/COPY IOVAs and lengths must be aligned to:
 *		    the largest smallest-IOPTE size of @domains, else 1;
 *		    at least PAGE_SIZE with @disable_large_pages
 * @disable_large_pages: IOMMU_OPTION_HUGE_PAGES was set to 0
 */
struct iolab_iopt {
	struct rw_semaphore rwsem;
	struct rb_root_cached area_itree;
	struct rb_root_cached reserved_itree;
	struct rb_root_cached allowed_itree;
	struct xarray domains;
	unsigned long iova_alignment;
	bool disable_large_pages;
};

struct iolab_domain;
struct iolab_dirty_bitmap;

/* Dirty tracking (dirty.c) */

/**
 * struct iolab_ubitmap - a user's dirty bitmap, pinned for writing
 * @iova: the IOVA bit 0 stands for
 * @last: the last IOVA it covers
 * @shift: log2 of the bytes per bit
 * @span: bytes of IOVA per harvest chunk (a power of two, at least the
 *	  largest IOPTE), 0 when one chunk covers any range
 * @uaddr: the user's address of the bitmap's first byte
 * @pages: the pinned pages holding the bitmap
 * @npages: how many
 * @kbuf: one chunk's kernel bitmap
 * @touched: a mark per word of @kbuf that holds a bit (see dirty.c)
 * @nr_dirty: bits set so far
 * @written: a bit was ORed into the user's pages
 * @untracked_dirty: VFIO type1's rule, for the compat container: a domain
 *		     that cannot track dirty pages, or does not now, reports
 *		     every page it maps as dirty (else it reports nothing)
 * @all_dirty: every mapped page is reported dirty (an access, which no
 *	       IOMMU watches, may write any page)
 */
struct iolab_ubitmap {
	u64 iova;
	u64 last;
	unsigned int shift;
	u64 span;
	unsigned long uaddr;
	struct page **pages;
	unsigned long npages;
	unsigned long *kbuf;
	unsigned long *touched;
	u64 nr_dirty;
	bool written;
	bool untracked_dirty;
	bool all_dirty;
};

typedef int (*iolab_dirty_fill_fn)(void *arg, u64 iova, u64 last,
				   struct iolab_dirty_bitmap *win);
int iolab_dirty_check_range(u64 iova, u64 length, u64 page_size,
			    u64 iova_alignment, u64 min_page);
int iolab_ubitmap_init(struct iolab_ubitmap *ub, u64 iova, u64 length,
		       u64 page_size, u64 uptr);
void iolab_ubitmap_destroy(struct iolab_ubitmap *ub);
int iolab_ubitmap_harvest(struct iolab_ubitmap *ub, u64 first, u64 last,
			  iolab_dirty_fill_fn fill, void *arg);
bool iolab_ubitmap_fits(struct iolab_ubitmap *ub, struct iolab_domain *domain);
int iolab_hwpt_set_dirty_tracking(struct iolab_ucmd *ucmd);
int iolab_hwpt_get_dirty_bitmap(struct iolab_ucmd *ucmd);
int iolab_ioas_unmap_dirty(struct iolab_ucmd *ucmd);
int iolab_hwpt_split(struct iolab_ucmd *ucmd);
int iolab_hwpt_merge(struct iolab_ucmd *ucmd);

int iolab_iopt_add_domain(struct iolab_iopt *iopt, struct iolab_domain *domain);
void iolab_iopt_remove_domain(struct iolab_iopt *iopt,
			      struct iolab_domain *domain);

void iolab_iopt_init(struct iolab_iopt *iopt);
void iolab_iopt_destroy(struct iolab_iopt *iopt);
int iolab_iopt_map_pages(struct iolab_iopt *iopt, struct iolab_pages *pages,
			 u64 start_byte, u64 length, u64 *iova, int prot,
			 bool fixed);
int iolab_iopt_get_pages(struct iolab_iopt *iopt, u64 iova, u64 length,
			 struct iolab_pages **pages, u64 *start_byte);
int iolab_iopt_unmap(struct iolab_iopt *iopt, u64 start, u64 last,
		     u64 *unmapped,
		     void (*notify)(void *arg, u64 iova, u64 last),
		     void *arg);
int iolab_iopt_unmap_dirty(struct iolab_iopt *iopt, u64 start, u64 last,
			   u64 *unmapped,
			   void (*notify)(void *arg, u64 iova, u64 last),
			   void *arg, struct iolab_ubitmap *ub);
int iolab_iopt_read_dirty_all(struct iolab_iopt *iopt,
			      struct iolab_ubitmap *ub);
int iolab_iopt_read_dirty(struct iolab_iopt *iopt, struct iolab_domain *domain,
			  bool clear, struct iolab_ubitmap *ub);
bool iolab_iopt_any_area(struct iolab_iopt *iopt, u64 start, u64 last);
int iolab_iopt_cut(struct iolab_iopt *iopt, u64 iova);
int iolab_iopt_reserve(struct iolab_iopt *iopt, u64 start, u64 last);
int iolab_iopt_set_large_pages(struct iolab_iopt *iopt, bool enable);
int iolab_iopt_set_allowed(struct iolab_iopt *iopt,
			   struct rb_root_cached *allowed);
int iolab_iopt_add_allowed(struct rb_root_cached *allowed, u64 start,
			   u64 last);
void iolab_iopt_free_allowed(struct rb_root_cached *allowed);
int iolab_iopt_report_ranges(struct iolab_iopt *iopt,
			     struct iommu_iova_range __user *uranges,
			     u32 max, u32 *count, u64 *alignment);
int iolab_iopt_access_pin(struct iolab_iopt *iopt, u64 iova, u64 length,
			  struct page **out, bool write);
void iolab_iopt_access_unpin(struct iolab_iopt *iopt, u64 iova, u64 length);
int iolab_iopt_access_rw(struct iolab_iopt *iopt, u64 iova, void *buf,
			 u64 length, bool write);
int iolab_iopt_collect_pages(struct iolab_iopt *iopt, struct list_head *list);

/* IOAS (ioas.c) */

/**
 * struct iolab_ioas - an I/O address space
 * @obj: object header
 * @iopt: the IOVA space
 * @access_lock: protects @accesses. Lock order: taken before an access's
 *		 own locks and before @iopt.rwsem.
 * @accesses: struct iolab_access attached to this IOAS
 * @hwpts: automatic paging HWPTs of this IOAS (iolab_hwpt.ioas_item),
 *	   under the fd's attach_lock
 */
struct iolab_ioas {
	struct iolab_object obj;
	struct iolab_iopt iopt;
	struct mutex access_lock; /* protects @accesses */
	struct list_head accesses;
	struct list_head hwpts;
	bool vfio_dirty; /* DIRTY_PAGES started; written under iopt.rwsem */
};

/* An ERR_PTR from iolab_object_alloc() converts unchanged. */
static_assert(offsetof(struct iolab_ioas, obj) == 0);

struct iolab_ioas *iolab_get_ioas(struct iolab_ctx *ctx, u32 id);
int iolab_ioas_alloc_ioctl(struct iolab_ucmd *ucmd);
void iolab_ioas_destroy(struct iolab_object *obj);
int iolab_ioas_option(struct iolab_ucmd *ucmd);
int iolab_ioas_map(struct iolab_ucmd *ucmd);
int iolab_ioas_map_file(struct iolab_ucmd *ucmd);
int iolab_ioas_change_process(struct iolab_ucmd *ucmd);
int iolab_ioas_copy(struct iolab_ucmd *ucmd);
int iolab_ioas_unmap(struct iolab_ucmd *ucmd);
int iolab_ioas_iova_ranges(struct iolab_ucmd *ucmd);
int iolab_ioas_allow_iovas(struct iolab_ucmd *ucmd);
int iolab_ioas_unmap_range(struct iolab_ioas *ioas, u64 iova, u64 length,
			   u64 *unmapped);
int iolab_ioas_unmap_range_dirty(struct iolab_ioas *ioas, u64 iova,
				 u64 length, u64 *unmapped,
				 struct iolab_ubitmap *ub);
int iolab_ioas_unmap_all(struct iolab_ioas *ioas, u64 *unmapped);

/* The VFIO compatibility layer (vfio_compat.c) */
int iolab_vfio_ioas(struct iolab_ucmd *ucmd);
long iolab_vfio_ioctl(struct iolab_ctx *ctx, unsigned int cmd,
		      unsigned long arg);

/*
 * Devices and groups (device.c). One device has up to four structs, one
 * per role, from the hardware up to the user:
 *
 *   struct iolab_hwdev	(iommu_driver.h) the hardware-side device as an
 *			IOMMU driver sees it: its driver ops and requester
 *			ID. The driver embeds it in its own device:
 *   struct mock_hwdev	(mock_iommu.h) the mock IOMMU's device: its flags,
 *			the domain its RID is attached to, its DMA lock.
 *   struct iolab_busdev	(device.c) the device plugged into the machine:
 *			its group, the fd that created it, whether a kernel
 *			driver holds it, and its binding (all module-wide,
 *			found by RID). Points to its iolab_hwdev.
 *   struct iolab_idev	(below) the fd's bound device, upstream's idev: an
 *			object of the fd that binds it (IOMMULAB_DEVICE_BIND,
 *			MOCK_DOMAIN), with the HWPT it is attached to.
 *			Points to its iolab_busdev.
 *
 * And the test command's handle: struct iolab_stdev (selftest.c), the
 * object of the fd that plugged a mock device in (MOCK_DOMAIN, mock
 * groups); destroying it unplugs the device.
 */

struct iolab_hwdev;
struct iolab_hwpt;
struct iolab_busdev;

/**
 * struct iolab_idev - a device bound to an fd (upstream's idev)
 * @obj: object header
 * @ctx: the fd it is bound to
 * @busdev: the device (a reference)
 * @hwpt: the HWPT its RID is attached to (a users reference), or NULL when
 *	  it sits in the blocked domain; under ctx->attach_lock
 * @pasids: PASID -> the HWPT attached to that PASID (a users reference
 *	    each), marked with the path that attached it (IOLAB_PASID_PATH
 *	    or IOLAB_PASID_AUX); under ctx->attach_lock
 * @cookie: IOMMULAB_DEVICE_BIND's cookie (0 for MOCK_DOMAIN), reported
 *	    with the device's page requests; fixed at bind
 */
struct iolab_idev {
	struct iolab_object obj;
	struct iolab_ctx *ctx;
	struct iolab_busdev *busdev;
	struct iolab_hwpt *hwpt;
	struct xarray pasids;
	u64 cookie;
};

/*
 * PASID 0 names a device's RID in the PASID calls, as upstream's
 * IOMMU_NO_PASID; it is never a PASID of its own.
 */
#define IOLAB_RID_PASID 0

struct iolab_hwdev *iolab_idev_hwdev(struct iolab_idev *idev);
struct iolab_idev *iolab_get_idev(struct iolab_ctx *ctx, u32 id);
int iolab_idev_bind(struct iolab_ctx *ctx, struct iolab_busdev *busdev,
		    struct iolab_idev **out);
void iolab_idev_destroy(struct iolab_object *obj);
int iolab_idev_attach(struct iolab_idev *idev, u32 pt_id, u32 flags,
		      u32 *hwpt_id);
int iolab_idev_detach(struct iolab_idev *idev);
/* Which path attached a PASID (a mark of iolab_idev.pasids) */
#define IOLAB_PASID_PATH XA_MARK_0
#define IOLAB_PASID_AUX XA_MARK_1
/* The entry holds a user of a PASID of the fd's IOASID set (ioasid.c). */
#define IOLAB_PASID_SET XA_MARK_2

int iolab_idev_pasid_ok(struct iolab_idev *idev, u32 pasid);
int iolab_idev_pasid_install(struct iolab_idev *idev, u32 pasid,
			     struct iolab_hwpt *hwpt, xa_mark_t mark);
struct iolab_hwpt *iolab_idev_pasid_uninstall(struct iolab_idev *idev,
					      u32 pasid);
int iolab_idev_pasid_attach(struct iolab_idev *idev, u32 pasid, u32 pt_id,
			    bool replace, bool from_set);
int iolab_idev_pasid_detach(struct iolab_idev *idev, u32 pasid);
u32 iolab_idev_pasid_hwpt_id(struct iolab_idev *idev, u32 pasid);
int iolab_idev_pasid_ioctl(struct iolab_ucmd *ucmd);
struct iolab_busdev *iolab_busdev_plug(struct iolab_hwdev *dev,
				       void (*release)(struct iolab_hwdev *dev),
				       struct iolab_ctx *creator,
				       struct iolab_busdev *sibling);
void iolab_busdev_unplug(struct iolab_busdev *busdev);
struct iolab_hwdev *iolab_busdev_hwdev(struct iolab_busdev *busdev);
int iolab_busdev_set_driver(struct iolab_busdev *busdev, bool bound);
struct iolab_hwdev *iolab_hwdev_for_dma(struct iolab_ctx *ctx, u32 rid,
					struct iolab_busdev **busdev);
void iolab_busdev_put(struct iolab_busdev *busdev);
void iolab_busdev_get(struct iolab_busdev *busdev);
bool iolab_busdev_is_singleton(struct iolab_busdev *busdev);
int iolab_busdev_pasid_claim(struct iolab_busdev *busdev, u32 pasid,
			     void *owner);
void iolab_busdev_pasid_release(struct iolab_busdev *busdev, u32 pasid,
				void *owner);
bool iolab_busdev_rid_uses(struct iolab_busdev *busdev, struct iolab_ctx *ctx,
			   struct iolab_hwpt *hwpt);
struct iolab_hwpt *iolab_hwpt_put_attached(struct iolab_ctx *ctx,
					   struct iolab_hwpt *hwpt);
typedef int (*iolab_attach_fn)(struct iolab_idev *idev,
			       struct iolab_hwpt *hwpt, void *arg,
			       struct iolab_hwpt **dead);
int iolab_attach_auto_hwpt(struct iolab_idev *idev, struct iolab_ioas *ioas,
			   u32 flags, iolab_attach_fn attach, void *arg,
			   u32 *hwpt_id, struct iolab_hwpt **dead);
struct iolab_idev *iolab_busdev_idev_get(struct iolab_ctx *ctx,
					 struct iolab_busdev *busdev);
u32 iolab_busdev_next_grpid(struct iolab_busdev *busdev);
int iolab_idev_bind_ioctl(struct iolab_ucmd *ucmd);
int iolab_idev_attach_ioctl(struct iolab_ucmd *ucmd);
int iolab_idev_detach_ioctl(struct iolab_ucmd *ucmd);
int iolab_get_hw_info(struct iolab_ucmd *ucmd);

/* Hardware page tables (hw_pagetable.c) */

/**
 * struct iolab_hwpt - a HWPT object: one IOMMU domain
 * @obj: object header (IOLAB_OBJ_HWPT_PAGING or _NESTED)
 * @domain: the driver's domain
 * @ioas: paging: the IOAS it mirrors (a users reference)
 * @parent: nested: the paging HWPT of stage 2 (a users reference)
 * @auto_domain: made by an attach to an IOAS; destroyed with its last device
 * @dying: an automatic HWPT whose last device left: out of the table, to be
 *	   destroyed; nothing may attach to it (under ctx->attach_lock)
 * @nest_parent: allocated with IOMMU_HWPT_ALLOC_NEST_PARENT
 * @pasid_compat: allocated with IOMMU_HWPT_ALLOC_PASID: it may translate a
 *		  PASID, and a device with PASIDs attached may use it for
 *		  its RID. Automatic HWPTs are only when a sub-device's
 *		  PASID-path attach to an IOAS made them (subdev.c); a
 *		  device's RID attach to an IOAS never uses them while the
 *		  device has PASIDs attached, as upstream's.
 * @viommu: nested on a vIOMMU: that vIOMMU (a users reference)
 * @aux_pasid: the domain's default PASID while it is aux-attached to a
 *	       device (aux.c), else 0; under ctx->attach_lock
 * @nr_aux: devices it is aux-attached to; under ctx->attach_lock
 * @ioas_item: automatic ones: entry in iolab_ioas.hwpts
 * @nr_devices: devices whose RID is attached; under ctx->attach_lock
 * @fault: the fault queue its devices' page requests go to (a users
 *	   reference), or NULL; fixed at allocation
 */
struct iolab_hwpt {
	struct iolab_object obj;
	struct iolab_domain *domain;
	struct iolab_ioas *ioas;
	struct iolab_hwpt *parent;
	bool auto_domain;
	bool dying;
	bool nest_parent;
	bool pasid_compat;
	struct iolab_viommu *viommu;
	u32 aux_pasid;
	unsigned int nr_aux;
	struct list_head ioas_item;
	unsigned int nr_devices;
	struct iolab_fault *fault;
};

struct iolab_hwpt *iolab_hwpt_paging_alloc(struct iolab_ctx *ctx,
					   struct iolab_ioas *ioas,
					   struct iolab_hwdev *dev, u32 flags,
					   bool auto_domain);
void iolab_hwpt_destroy(struct iolab_object *obj);
int iolab_hwpt_alloc_ioctl(struct iolab_ucmd *ucmd);
int iolab_hwpt_invalidate(struct iolab_ucmd *ucmd);
struct iolab_hwpt *iolab_hwpt_nested_alloc(struct iolab_ctx *ctx,
					   struct iolab_hwpt *parent,
					   struct iolab_hwdev *dev,
					   struct iommu_hwpt_alloc *cmd);

/* I/O page fault queues (fault.c) */
struct iolab_fault;
struct iommu_test_cmd;
int iolab_fault_alloc_ioctl(struct iolab_ucmd *ucmd);
void iolab_fault_destroy(struct iolab_object *obj);
int iolab_hwpt_set_fault(struct iolab_ctx *ctx, struct iolab_hwpt *hwpt,
			 u32 fault_id);
void iolab_hwpt_put_fault(struct iolab_hwpt *hwpt);
void iolab_fault_detached(struct iolab_hwpt *hwpt, struct iolab_idev *idev,
			  u32 pasid);
int iolab_test_trigger_iopf(struct iolab_ucmd *ucmd,
			    struct iommu_test_cmd *cmd);
int iolab_fault_page_request(struct iolab_ctx *ctx,
			     struct iolab_busdev *busdev, u32 hw_pasid,
			     u64 addr, bool write, u32 *reason);

/* The aux-domain path (aux.c) */
bool iolab_aux_attached(struct iolab_idev *idev, struct iolab_hwpt *hwpt);
void iolab_aux_detach_locked(struct iolab_idev *idev, struct iolab_hwpt *hwpt);
int iolab_aux_attach_ioctl(struct iolab_ucmd *ucmd);
int iolab_aux_detach_ioctl(struct iolab_ucmd *ucmd);
int iolab_aux_get_pasid_ioctl(struct iolab_ucmd *ucmd);

/* Mock sub-devices (subdev.c) */
struct iolab_dma_result;
bool iolab_hwdev_is_subdev(struct iolab_hwdev *dev);
int iolab_subdev_attach(struct iolab_idev *idev, struct iolab_object *pt,
			u32 flags, u32 *hwpt_id, struct iolab_hwpt **dead);
int iolab_subdev_detach(struct iolab_idev *idev, struct iolab_hwpt **dead);
int iolab_subdev_dma(struct iolab_ctx *ctx, struct iolab_hwdev *dev,
		     bool tagged, u32 tag, u64 iova, void *buf, u64 len,
		     bool write, struct iolab_dma_result *res);
int iolab_mock_subdev_alloc(struct iolab_ucmd *ucmd);
int iolab_aux_get_domain_ioctl(struct iolab_ucmd *ucmd);
void iolab_subdev_exit(void);

/* IOASID sets: the system PASID space (ioasid.c) */
int iolab_ioasid_alloc(struct iolab_ctx *ctx, bool kernel, u32 *pasid);
u32 iolab_ioasid_vpasid_lookup(struct iolab_ctx *ctx, u32 vpasid);
void iolab_ioasid_announce(u32 pasid);
void iolab_ioasid_free(u32 pasid);
int iolab_ioasid_get(struct iolab_ctx *ctx, u32 pasid);
void iolab_ioasid_put(u32 pasid);
int iolab_ioasid_set_alloc_ioctl(struct iolab_ucmd *ucmd);
int iolab_ioasid_ioctl(struct iolab_ucmd *ucmd);
int iolab_ioasid_set_info_ioctl(struct iolab_ucmd *ucmd);
void iolab_ioasid_set_destroy(struct iolab_object *obj);
void iolab_ioasid_ctx_close(struct iolab_ctx *ctx);
void iolab_ioasid_ctx_release(struct iolab_ctx *ctx);
void iolab_ioasid_exit(void);

/* Virtual IOMMUs (viommu.c) */

/**
 * struct iolab_viommu - a vIOMMU object: the slice of the IOMMU one VM owns
 * @obj: object header (IOLAB_OBJ_VIOMMU)
 * @parent: the NEST_PARENT paging HWPT it nests on (a users reference)
 * @type: enum iommu_viommu_type (only IOMMU_VIOMMU_TYPE_SELFTEST exists)
 *
 * Fixed at creation. Nested HWPTs allocated on it (IOMMU_HWPT_ALLOC with
 * its ID as pt_id) hold a users reference each.
 */
struct iolab_viommu {
	struct iolab_object obj;
	struct iolab_hwpt *parent;
	u32 type;
};

static_assert(offsetof(struct iolab_viommu, obj) == 0);

int iolab_viommu_alloc_ioctl(struct iolab_ucmd *ucmd);
void iolab_viommu_destroy(struct iolab_object *obj);
struct iolab_hwpt *iolab_viommu_alloc_nested(struct iolab_ctx *ctx,
					     struct iolab_viommu *viommu,
					     struct iolab_hwdev *dev,
					     struct iommu_hwpt_alloc *cmd);

/* In-kernel users of an IOAS by IOVA: the seeds' sw mdev (access.c) */

/**
 * struct iolab_access_ops - what an access is told
 * @unmap: the range [iova, last] (inclusive) is about to be unmapped:
 *	   drop every pin inside it. An access that keeps a pin makes the
 *	   unmap fail with EBUSY.
 */
struct iolab_access_ops {
	void (*unmap)(void *data, u64 iova, u64 last);
};

/**
 * struct iolab_access - an in-kernel user attached to an IOAS
 * @item: entry in iolab_ioas.accesses
 * @ops: callbacks
 * @data: passed to @ops
 */
struct iolab_access {
	struct list_head item;
	const struct iolab_access_ops *ops;
	void *data;
};

/* The selftest command (selftest.c) and its handles on mock devices */

/**
 * struct iolab_stdev - an fd's handle on a mock device it plugged in
 * @obj: object header (IOLAB_OBJ_SELFTEST); destroying it unplugs
 * @ctx: the fd
 * @busdev: the device (a reference)
 * @idev: MOCK_DOMAIN only: the binding it made (a users reference), which
 *	  goes with it
 * @parent: a sub-device's: its parent's stdev (a users reference, so the
 *	    parent is not unplugged before its sub-devices), else NULL
 */
struct iolab_stdev {
	struct iolab_object obj;
	struct iolab_ctx *ctx;
	struct iolab_busdev *busdev;
	struct iolab_idev *idev;
	struct iolab_stdev *parent;
};

static_assert(offsetof(struct iolab_stdev, obj) == 0);

#define IOLAB_MOCK_DEV_FLAGS                                                \
	(MOCK_FLAGS_DEVICE_NO_DIRTY | MOCK_FLAGS_DEVICE_HUGE_IOVA |          \
	 MOCK_FLAGS_DEVICE_PASID | IOMMULAB_MOCK_DEV_4K |                    \
	 IOMMULAB_MOCK_DEV_PRI | IOMMULAB_MOCK_DEV_NO_IOPF)

bool iolab_mock_dev_flags_bad(u32 flags);

struct iolab_stdev *iolab_stdev_alloc(struct iolab_ctx *ctx, u32 dev_flags,
				      struct iolab_busdev *sibling);
struct iolab_stdev *iolab_get_stdev(struct iolab_ctx *ctx, u32 id);
void iolab_selftest_destroy(struct iolab_object *obj);
int iolab_test_cmd(struct iolab_ucmd *ucmd);
int iolab_bench_pin(struct iolab_ucmd *ucmd);

/* Test accesses and their test ops (access.c) */
struct iommu_test_cmd;
int iolab_test_create_access(struct iolab_ucmd *ucmd,
			     struct iommu_test_cmd *cmd);
int iolab_test_access_replace_ioas(struct iolab_ucmd *ucmd,
				   struct iommu_test_cmd *cmd);
int iolab_test_access_pages(struct iolab_ucmd *ucmd,
			    struct iommu_test_cmd *cmd);
int iolab_test_destroy_access_pages(struct iolab_ucmd *ucmd,
				    struct iommu_test_cmd *cmd);
int iolab_test_access_rw(struct iolab_ucmd *ucmd, struct iommu_test_cmd *cmd);

/* The mock hardware's extension ioctls (mock_hw.c) */
int iolab_mock_group_alloc(struct iolab_ucmd *ucmd);
int iolab_mock_set_driver(struct iolab_ucmd *ucmd);
int iolab_mock_dma_ioctl(struct iolab_ucmd *ucmd);
int iolab_mock_dma_burst_ioctl(struct iolab_ucmd *ucmd);

/* Notifications over generic netlink (notify.c) */

/* Which fields of struct iolab_event are sent */
#define IOLAB_EV_DEV_ID BIT(0)
#define IOLAB_EV_RID BIT(1)
#define IOLAB_EV_PT_ID BIT(2)
#define IOLAB_EV_OLD_PT_ID BIT(3)
#define IOLAB_EV_PASID BIT(4)
#define IOLAB_EV_SET_ID BIT(5)
#define IOLAB_EV_TOKEN BIT(6)
#define IOLAB_EV_VPASID BIT(7)
#define IOLAB_EV_QUOTA BIT(8)
#define IOLAB_EV_FAULT_ID BIT(9)
#define IOLAB_EV_FAULT_COOKIE BIT(10)
#define IOLAB_EV_DEV_COOKIE BIT(11)
#define IOLAB_EV_ADDR BIT(12)
#define IOLAB_EV_PERM BIT(13)
#define IOLAB_EV_GRPID BIT(14)
#define IOLAB_EV_CODE BIT(15)
#define IOLAB_EV_RESP_BY BIT(16)

/**
 * struct iolab_event - one notification, as iolab_notify() takes it
 * @type: enum iommulab_event (uapi/iommulab/iommulab_genl.h)
 * @present: IOLAB_EV_* of the fields below that are sent; the others are
 *	     absent from the message (leave them 0)
 * @dev_id: a bound device's object ID
 * @rid: that device's requester ID
 * @pt_id: the HWPT now used
 * @old_pt_id: the HWPT used before
 * @pasid: a system-wide PASID
 * @set_id: an IOASID set's ID
 * @vpasid: a set-private ID
 * @quota: a set's quota
 * @token: the identity of a set's token, never a kernel address
 * @fault_id: a fault queue's ID
 * @fault_cookie: the cookie a page response names
 * @perm: enum iommu_hwpt_pgfault_perm
 * @grpid: a page request group index
 * @code: enum iommufd_page_response_code
 * @resp_by: enum iommulab_resp_by
 * @addr: a faulting address
 * @dev_cookie: a device's bind cookie
 *
 * The fd's identity (iolab_ctx.notify_id, .notify_uid) and a sequence
 * number are added to every event.
 */
struct iolab_event {
	u32 type;
	u32 present;
	u32 dev_id;
	u32 rid;
	u32 pt_id;
	u32 old_pt_id;
	u32 pasid;
	u32 set_id;
	u32 vpasid;
	u32 quota;
	u64 token;
	u32 fault_id;
	u32 fault_cookie;
	u32 perm;
	u32 grpid;
	u32 code;
	u32 resp_by;
	u64 addr;
	u64 dev_cookie;
};

int iolab_notify_init(void);
void iolab_notify_exit(void);
void iolab_notify_ctx_init(struct iolab_ctx *ctx, struct file *filp);
void iolab_notify(struct iolab_ctx *ctx, const struct iolab_event *ev);
void iolab_notify_dev(struct iolab_idev *idev, u32 type, u32 pasid, u32 pt_id,
		      u32 old_pt_id);

#endif
