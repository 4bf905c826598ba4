/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * iommulab: the part of the uAPI that matches upstream Linux iommufd.
 *
 * Every command number, structure layout, flag value and errno rule here is
 * the same as upstream's <linux/iommufd.h>, so a program built against
 * upstream runs unchanged against iommulab for the features both have. The
 * text is iommulab's own.
 *
 * Calling convention, shared by every command: the argument is a pointer to
 * a structure whose first field, @size, tells the kernel how many bytes the
 * caller passed.
 *
 *  - @size smaller than the end of the command's last mandatory field: EINVAL.
 *  - @size larger than the structure the kernel knows: the extra bytes must
 *    be zero (E2BIG otherwise); the call then behaves as if @size were exact.
 *  - Output is written back up to the smaller of the two sizes.
 *
 * Common errnos: ENOTTY unknown command; EOPNOTSUPP unknown flag, enum value
 * or non-zero reserved field; EINVAL a known field holds a bad value; ENOENT
 * unknown ID (or an ID of another object type) or IOVA; EBUSY the object is
 * still in use; EOVERFLOW arithmetic on the arguments overflowed.
 */
#ifndef _UAPI_IOMMULAB_IOMMUFD_H
#define _UAPI_IOMMULAB_IOMMUFD_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define IOMMUFD_TYPE (';')

enum {
	IOMMUFD_CMD_BASE = 0x80,
	IOMMUFD_CMD_DESTROY = IOMMUFD_CMD_BASE,
	IOMMUFD_CMD_IOAS_ALLOC = 0x81,
	IOMMUFD_CMD_IOAS_ALLOW_IOVAS = 0x82,
	IOMMUFD_CMD_IOAS_COPY = 0x83,
	IOMMUFD_CMD_IOAS_IOVA_RANGES = 0x84,
	IOMMUFD_CMD_IOAS_MAP = 0x85,
	IOMMUFD_CMD_IOAS_UNMAP = 0x86,
	IOMMUFD_CMD_OPTION = 0x87,
	IOMMUFD_CMD_VFIO_IOAS = 0x88,
	IOMMUFD_CMD_HWPT_ALLOC = 0x89,
	IOMMUFD_CMD_GET_HW_INFO = 0x8a,
	IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING = 0x8b,
	IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP = 0x8c,
	IOMMUFD_CMD_HWPT_INVALIDATE = 0x8d,
	IOMMUFD_CMD_FAULT_QUEUE_ALLOC = 0x8e,
	IOMMUFD_CMD_IOAS_MAP_FILE = 0x8f,
	IOMMUFD_CMD_IOAS_CHANGE_PROCESS = 0x92,
	/* 0x8f - 0x94 are taken upstream; iommulab never reuses them. */
};

/**
 * struct iommu_destroy - ioctl(IOMMU_DESTROY)
 * @size: sizeof(struct iommu_destroy)
 * @id: ID of the object to destroy; any object type
 *
 * Destroys one object of this file descriptor. Fails with EBUSY while
 * another object (or an in-flight call) still uses it, and with ENOENT for
 * an ID that names no live object.
 */
struct iommu_destroy {
	__u32 size;
	__u32 id;
};

#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY)

/**
 * struct iommu_ioas_alloc - ioctl(IOMMU_IOAS_ALLOC)
 * @size: sizeof(struct iommu_ioas_alloc)
 * @flags: must be 0
 * @out_ioas_id: the new IOAS's ID
 *
 * Creates an I/O address space: an empty map from IOVA to the caller's
 * memory that hardware page tables are built from.
 */
struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};

#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)

/**
 * struct iommu_iova_range - an inclusive IOVA interval
 * @start: first IOVA of the interval
 * @last: last IOVA of the interval (inclusive)
 */
struct iommu_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

/**
 * struct iommu_ioas_iova_ranges - ioctl(IOMMU_IOAS_IOVA_RANGES)
 * @size: sizeof(struct iommu_ioas_iova_ranges)
 * @ioas_id: IOAS to query
 * @num_iovas: in: room in @allowed_iovas; out: number of ranges
 * @__reserved: must be 0
 * @allowed_iovas: user pointer to an array of struct iommu_iova_range
 * @out_iova_alignment: alignment every MAP/COPY IOVA and length must have
 *
 * Reports the IOVA ranges a mapping may use right now: everything minus the
 * reserved ranges and what the attached devices cannot reach. If the array
 * is too small the call fails with EMSGSIZE and @num_iovas says how many
 * entries are needed.
 */
struct iommu_ioas_iova_ranges {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
	__aligned_u64 out_iova_alignment;
};

#define IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_IOVA_RANGES)

/**
 * struct iommu_ioas_allow_iovas - ioctl(IOMMU_IOAS_ALLOW_IOVAS)
 * @size: sizeof(struct iommu_ioas_allow_iovas)
 * @ioas_id: IOAS to change
 * @num_iovas: number of entries in @allowed_iovas
 * @__reserved: must be 0
 * @allowed_iovas: user pointer to an array of struct iommu_iova_range
 *
 * Replaces the IOAS's list of ranges that must stay usable. Automatic IOVA
 * allocation then only picks addresses inside these ranges, and anything
 * that would reserve part of them (an attach, a reserved range) is refused.
 * Fails if a listed range is already reserved.
 */
struct iommu_ioas_allow_iovas {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
};

#define IOMMU_IOAS_ALLOW_IOVAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOW_IOVAS)

/**
 * enum iommufd_ioas_map_flags - flags of IOMMU_IOAS_MAP and IOMMU_IOAS_COPY
 * @IOMMU_IOAS_MAP_FIXED_IOVA: use the IOVA the caller gives instead of
 *                             letting the kernel choose one
 * @IOMMU_IOAS_MAP_WRITEABLE: devices may write through this mapping
 * @IOMMU_IOAS_MAP_READABLE: devices may read through this mapping
 */
enum iommufd_ioas_map_flags {
	IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0,
	IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
	IOMMU_IOAS_MAP_READABLE = 1 << 2,
};

/**
 * struct iommu_ioas_map - ioctl(IOMMU_IOAS_MAP)
 * @size: sizeof(struct iommu_ioas_map)
 * @flags: enum iommufd_ioas_map_flags
 * @ioas_id: IOAS to map into
 * @__reserved: must be 0
 * @user_va: start of the caller's memory to map
 * @length: bytes to map
 * @iova: with FIXED_IOVA the IOVA to use; otherwise the IOVA chosen
 *
 * Maps the caller's memory at an IOVA. The memory is not pinned (nor
 * touched) here: its pages are pinned, and charged to the caller, when the
 * first domain or access of the IOAS needs them, and unpinned when the last
 * one goes; a range that is not mapped then fails there (EFAULT). A fixed
 * IOVA range must be entirely unused.
 */
struct iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};

#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP)

/**
 * struct iommu_ioas_map_file - ioctl(IOMMU_IOAS_MAP_FILE)
 * @size: sizeof(struct iommu_ioas_map_file)
 * @flags: enum iommufd_ioas_map_flags
 * @ioas_id: IOAS to map into
 * @fd: a memfd (shmem or hugetlbfs file); any other file is EINVAL
 * @start: byte offset in the file of the first byte to map
 * @length: bytes to map
 * @iova: with FIXED_IOVA the IOVA to use; otherwise the IOVA chosen
 *
 * IOMMU_IOAS_MAP with a range of a file instead of user memory; the same
 * rules, and the same lazy pinning of the file's pages.
 */
struct iommu_ioas_map_file {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__s32 fd;
	__aligned_u64 start;
	__aligned_u64 length;
	__aligned_u64 iova;
};

#define IOMMU_IOAS_MAP_FILE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP_FILE)

/**
 * struct iommu_ioas_change_process - ioctl(IOMMU_IOAS_CHANGE_PROCESS)
 * @size: sizeof(struct iommu_ioas_change_process)
 * @__reserved: must be 0
 *
 * The calling process takes over the pinned memory of every mapping of
 * every IOAS of this fd: it is charged for what is pinned now (against its
 * RLIMIT_MEMLOCK) and for every later pin, and the old owner's charge is
 * returned. Only IOMMU_IOAS_MAP_FILE mappings can move: EINVAL if there is
 * any other. On failure nothing changed.
 */
struct iommu_ioas_change_process {
	__u32 size;
	__u32 __reserved;
};

#define IOMMU_IOAS_CHANGE_PROCESS \
	_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_CHANGE_PROCESS)

/**
 * struct iommu_ioas_copy - ioctl(IOMMU_IOAS_COPY)
 * @size: sizeof(struct iommu_ioas_copy)
 * @flags: enum iommufd_ioas_map_flags
 * @dst_ioas_id: IOAS to map into
 * @src_ioas_id: IOAS holding the existing mapping
 * @length: bytes to copy
 * @dst_iova: with FIXED_IOVA the IOVA to use; otherwise the IOVA chosen
 * @src_iova: start of the source range
 *
 * Maps memory that is already mapped in @src_ioas_id into @dst_ioas_id as
 * well, sharing its pages: whenever they are pinned, they are pinned and
 * charged once for every mapping. The source range must lie inside one
 * earlier MAP or COPY.
 */
struct iommu_ioas_copy {
	__u32 size;
	__u32 flags;
	__u32 dst_ioas_id;
	__u32 src_ioas_id;
	__aligned_u64 length;
	__aligned_u64 dst_iova;
	__aligned_u64 src_iova;
};

#define IOMMU_IOAS_COPY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_COPY)

/**
 * struct iommu_ioas_unmap - ioctl(IOMMU_IOAS_UNMAP)
 * @size: sizeof(struct iommu_ioas_unmap)
 * @ioas_id: IOAS to unmap from
 * @iova: start of the range
 * @length: in: bytes of the range; out: bytes actually unmapped
 *
 * Removes every mapping inside the range. A mapping that is only partly
 * covered cannot be cut: the call fails with ENOENT. IOVA 0 with length
 * U64_MAX removes everything.
 */
struct iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length;
};

#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP)

/**
 * enum iommufd_option - option IDs of IOMMU_OPTION
 * @IOMMU_OPTION_RLIMIT_MODE: how pinned memory is charged against
 *     RLIMIT_MEMLOCK: 0 (default) to the user, 1 to the process's mm.
 *     Applies to the whole file descriptor (object_id must be 0); setting it
 *     needs CAP_SYS_RESOURCE and an fd that has no objects yet.
 * @IOMMU_OPTION_HUGE_PAGES: per IOAS (object_id is the IOAS): 1 (default)
 *     lets contiguous memory be mapped with large IOPTEs, 0 forces every
 *     IOPTE to the smallest page size.
 */
enum iommufd_option {
	IOMMU_OPTION_RLIMIT_MODE = 0,
	IOMMU_OPTION_HUGE_PAGES = 1,
};

/**
 * enum iommufd_option_ops - what IOMMU_OPTION does with the value
 * @IOMMU_OPTION_OP_SET: store val64 in the option
 * @IOMMU_OPTION_OP_GET: return the option's value in val64
 */
enum iommufd_option_ops {
	IOMMU_OPTION_OP_SET = 0,
	IOMMU_OPTION_OP_GET = 1,
};

/**
 * struct iommu_option - ioctl(IOMMU_OPTION)
 * @size: sizeof(struct iommu_option)
 * @option_id: enum iommufd_option
 * @op: enum iommufd_option_ops
 * @__reserved: must be 0
 * @object_id: the object the option belongs to, or 0 for fd-wide options
 * @val64: the value to set, or the value read back
 */
struct iommu_option {
	__u32 size;
	__u32 option_id;
	__u16 op;
	__u16 __reserved;
	__u32 object_id;
	__aligned_u64 val64;
};

#define IOMMU_OPTION _IO(IOMMUFD_TYPE, IOMMUFD_CMD_OPTION)

/**
 * enum iommufd_hwpt_alloc_flags - flags of IOMMU_HWPT_ALLOC
 * @IOMMU_HWPT_ALLOC_NEST_PARENT: the HWPT can be the stage 2 of nested HWPTs
 * @IOMMU_HWPT_ALLOC_DIRTY_TRACKING: the HWPT must be able to track dirty
 *                                   IOPTEs; devices without that capability
 *                                   cannot attach to it
 * @IOMMU_HWPT_ALLOC_FAULT_ID_VALID: @fault_id names a fault queue
 * @IOMMU_HWPT_ALLOC_PASID: the HWPT may be attached to a device PASID
 */
enum iommufd_hwpt_alloc_flags {
	IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0,
	IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1,
	IOMMU_HWPT_ALLOC_FAULT_ID_VALID = 1 << 2,
	IOMMU_HWPT_ALLOC_PASID = 1 << 3,
};

/**
 * enum iommu_hwpt_data_type - formats of IOMMU_HWPT_ALLOC's user data
 * @IOMMU_HWPT_DATA_NONE: no data: a paging HWPT built from an IOAS
 */
enum iommu_hwpt_data_type {
	IOMMU_HWPT_DATA_NONE = 0,
};

/**
 * struct iommu_hwpt_alloc - ioctl(IOMMU_HWPT_ALLOC)
 * @size: sizeof(struct iommu_hwpt_alloc)
 * @flags: enum iommufd_hwpt_alloc_flags
 * @dev_id: the bound device the HWPT is made for
 * @pt_id: an IOAS (a paging HWPT mirroring it) or a NEST_PARENT HWPT (a
 *	   nested HWPT on top of it)
 * @out_hwpt_id: the new HWPT's ID
 * @__reserved: must be 0
 * @data_type: enum iommu_hwpt_data_type, or a driver's type for nested
 * @data_len: bytes at @data_uptr; 0 exactly when @data_type is NONE
 * @data_uptr: the driver-specific data
 * @fault_id: a fault queue, with IOMMU_HWPT_ALLOC_FAULT_ID_VALID
 * @__reserved2: must be 0
 */
struct iommu_hwpt_alloc {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 pt_id;
	__u32 out_hwpt_id;
	__u32 __reserved;
	__u32 data_type;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__u32 fault_id;
	__u32 __reserved2;
};

#define IOMMU_HWPT_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_ALLOC)

/**
 * enum iommufd_hw_capabilities - what a device's IOMMU can do
 * @IOMMU_HW_CAP_DIRTY_TRACKING: dirty tracking (HWPT_SET_DIRTY_TRACKING,
 *				 HWPT_GET_DIRTY_BITMAP)
 * @IOMMU_HW_CAP_PCI_PASID_EXEC: the device can issue PASID execute requests
 * @IOMMU_HW_CAP_PCI_PASID_PRIV: the device can issue PASID privileged
 *				 requests
 */
enum iommufd_hw_capabilities {
	IOMMU_HW_CAP_DIRTY_TRACKING = 1 << 0,
	IOMMU_HW_CAP_PCI_PASID_EXEC = 1 << 1,
	IOMMU_HW_CAP_PCI_PASID_PRIV = 1 << 2,
};

/**
 * struct iommu_hw_info - ioctl(IOMMU_GET_HW_INFO)
 * @size: sizeof(struct iommu_hw_info)
 * @flags: must be 0
 * @dev_id: a bound device
 * @data_len: in: room at @data_uptr; out: the length of the driver's record
 * @data_uptr: where the driver's record goes; the part of the buffer past
 *	       the record is zeroed
 * @out_data_type: the record's format
 * @out_max_pasid_log2: PASID width of the device, 0 without PASIDs
 * @__reserved: must be 0
 * @out_capabilities: enum iommufd_hw_capabilities
 */
struct iommu_hw_info {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__u32 out_data_type;
	__u8 out_max_pasid_log2;
	__u8 __reserved[3];
	__aligned_u64 out_capabilities;
};

#define IOMMU_GET_HW_INFO _IO(IOMMUFD_TYPE, IOMMUFD_CMD_GET_HW_INFO)

/**
 * struct iommu_hwpt_invalidate - ioctl(IOMMU_HWPT_INVALIDATE)
 * @size: sizeof(struct iommu_hwpt_invalidate)
 * @hwpt_id: a nested HWPT
 * @data_uptr: array of @entry_num invalidation requests
 * @data_type: the requests' driver-specific format
 * @entry_len: bytes per request
 * @entry_num: in: requests in the array; out: requests handled
 * @__reserved: must be 0
 *
 * Flushes the nested HWPT's caches (its stage-1 IOTLB) as the requests
 * say. Handles them in order and stops at the first that fails.
 */
struct iommu_hwpt_invalidate {
	__u32 size;
	__u32 hwpt_id;
	__aligned_u64 data_uptr;
	__u32 data_type;
	__u32 entry_len;
	__u32 entry_num;
	__u32 __reserved;
};

#define IOMMU_HWPT_INVALIDATE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_INVALIDATE)

#endif
