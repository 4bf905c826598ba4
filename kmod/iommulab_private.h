/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommulab: the one private header that ties the module's files together.
 *
 * Object model: every object a file descriptor creates lives in that fd's
 * context (struct iolab_ctx) under a u32 ID, with a users refcount. The
 * table holds one reference; every other holder (an in-flight ioctl, an
 * object that depends on it) holds one more. An object is destroyed only
 * when the table's reference is the last one, so IOMMU_DESTROY of an object
 * still in use fails with EBUSY instead of waiting.
 */
#ifndef _IOMMULAB_PRIVATE_H
#define _IOMMULAB_PRIVATE_H

#include <linux/interval_tree.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include <iommulab/iommufd.h>
#include <iommulab/iommulab.h>

struct file;
struct mm_struct;
struct page;
struct user_struct;

enum iolab_obj_type {
	IOLAB_OBJ_NONE,
	IOLAB_OBJ_ANY = IOLAB_OBJ_NONE,
	IOLAB_OBJ_IOAS,
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
 */
struct iolab_ctx {
	struct file *file;
	struct xarray objects;
	enum iolab_account_mode account_mode;
	unsigned int pin_batch;
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
struct iolab_object *iolab_get_object(struct iolab_ctx *ctx, u32 id,
				      enum iolab_obj_type type);
void iolab_put_object(struct iolab_object *obj);

/* Pinned user memory (pages.c) */

/**
 * struct iolab_pages - a user range pinned once, shared by all its mappings
 * @kref: one reference per IOAS area using the pages
 * @uptr: page-aligned start of the pinned range
 * @npages: number of pinned pages
 * @writable: pinned for write; unpinning then marks the pages dirty
 * @account_mode: who was charged (fixed at pin time)
 * @mm: the pinning process's mm (mmgrab'ed), for MM accounting
 * @user: the pinning user (get_uid'ed), for USER accounting
 * @pages: the pinned pages
 *
 * Immutable after iolab_pages_pin() returns; needs no lock.
 */
struct iolab_pages {
	struct kref kref;
	u64 uptr;
	unsigned long npages;
	bool writable;
	enum iolab_account_mode account_mode;
	struct mm_struct *mm;
	struct user_struct *user;
	struct page **pages;
};

struct iolab_pages *iolab_pages_pin(struct iolab_ctx *ctx, u64 uptr,
				    u64 length, bool writable);
void iolab_pages_get(struct iolab_pages *pages);
void iolab_pages_put(struct iolab_pages *pages);
unsigned long iolab_pages_contig(struct iolab_pages *pages,
				 unsigned long index, unsigned long max);

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
 * @iova_alignment: what MAP/COPY IOVAs and lengths must be aligned to
 * @disable_large_pages: IOMMU_OPTION_HUGE_PAGES was set to 0
 */
struct iolab_iopt {
	struct rw_semaphore rwsem;
	struct rb_root_cached area_itree;
	struct rb_root_cached reserved_itree;
	struct rb_root_cached allowed_itree;
	unsigned long iova_alignment;
	bool disable_large_pages;
};

void iolab_iopt_init(struct iolab_iopt *iopt);
void iolab_iopt_destroy(struct iolab_iopt *iopt);
int iolab_iopt_map_pages(struct iolab_iopt *iopt, struct iolab_pages *pages,
			 u64 start_byte, u64 length, u64 *iova, int prot,
			 bool fixed);
int iolab_iopt_get_pages(struct iolab_iopt *iopt, u64 iova, u64 length,
			 struct iolab_pages **pages, u64 *start_byte);
int iolab_iopt_unmap(struct iolab_iopt *iopt, u64 start, u64 last,
		     u64 *unmapped,
		     void (*notify)(void *arg, u64 iova, u64 length),
		     void *arg);
int iolab_iopt_reserve(struct iolab_iopt *iopt, u64 start, u64 last);
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

/* IOAS (ioas.c) */

/**
 * struct iolab_ioas - an I/O address space
 * @obj: object header
 * @iopt: the IOVA space
 * @access_lock: protects @accesses. Lock order: taken before an access's
 *		 own locks and before @iopt.rwsem.
 * @accesses: struct iolab_access attached to this IOAS
 */
struct iolab_ioas {
	struct iolab_object obj;
	struct iolab_iopt iopt;
	struct mutex access_lock; /* protects @accesses */
	struct list_head accesses;
};

/* An ERR_PTR from iolab_object_alloc() converts unchanged. */
static_assert(offsetof(struct iolab_ioas, obj) == 0);

struct iolab_ioas *iolab_get_ioas(struct iolab_ctx *ctx, u32 id);
int iolab_ioas_alloc_ioctl(struct iolab_ucmd *ucmd);
void iolab_ioas_destroy(struct iolab_object *obj);
int iolab_ioas_option(struct iolab_ucmd *ucmd);
int iolab_ioas_map(struct iolab_ucmd *ucmd);
int iolab_ioas_copy(struct iolab_ucmd *ucmd);
int iolab_ioas_unmap(struct iolab_ucmd *ucmd);
int iolab_ioas_iova_ranges(struct iolab_ucmd *ucmd);
int iolab_ioas_allow_iovas(struct iolab_ucmd *ucmd);
int iolab_ioas_unmap_range(struct iolab_ioas *ioas, u64 iova, u64 length,
			   u64 *unmapped);

/* In-kernel users of an IOAS by IOVA: the seeds' sw mdev (selftest.c) */

/**
 * struct iolab_access_ops - what an access is told
 * @unmap: the range [iova, iova + length) is about to be unmapped: drop
 *	   every pin inside it. An access that keeps a pin makes the unmap
 *	   fail with EBUSY.
 */
struct iolab_access_ops {
	void (*unmap)(void *data, u64 iova, u64 length);
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

/* The selftest command (selftest.c) */
int iolab_test_cmd(struct iolab_ucmd *ucmd);
int iolab_bench_pin(struct iolab_ucmd *ucmd);

#endif
