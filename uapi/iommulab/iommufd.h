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
 *
 * Every command upstream defines has its number, structure and flags here,
 * whether or not iommulab implements it yet. A command iommulab does not
 * implement applies the size rules above and then fails with EOPNOTSUPP;
 * README.md lists which ones those are.
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
	IOMMUFD_CMD_VIOMMU_ALLOC = 0x90,
	IOMMUFD_CMD_VDEVICE_ALLOC = 0x91,
	IOMMUFD_CMD_IOAS_CHANGE_PROCESS = 0x92,
	IOMMUFD_CMD_VEVENTQ_ALLOC = 0x93,
	IOMMUFD_CMD_HW_QUEUE_ALLOC = 0x94,
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
 * Fails if a listed range is already reserved (EADDRINUSE), and with EINVAL
 * if a range is empty or backwards (start >= last) or overlaps another of
 * the list; on failure the old list stays.
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
 *     IOPTE to the smallest page size and raises the IOAS's IOVA alignment
 *     to at least PAGE_SIZE. Setting 0 fails with EINVAL while the IOAS has
 *     both a domain and a mapping, and with EADDRINUSE while a mapping is
 *     not PAGE_SIZE aligned.
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
 * enum iommufd_vfio_ioas_op - what IOMMU_VFIO_IOAS does
 * @IOMMU_VFIO_IOAS_GET: report the compatibility IOAS in ioas_id (ENODEV
 *			 when there is none)
 * @IOMMU_VFIO_IOAS_SET: make ioas_id the compatibility IOAS
 * @IOMMU_VFIO_IOAS_CLEAR: forget the compatibility IOAS
 */
enum iommufd_vfio_ioas_op {
	IOMMU_VFIO_IOAS_GET = 0,
	IOMMU_VFIO_IOAS_SET = 1,
	IOMMU_VFIO_IOAS_CLEAR = 2,
};

/**
 * struct iommu_vfio_ioas - ioctl(IOMMU_VFIO_IOAS)
 * @size: sizeof(struct iommu_vfio_ioas)
 * @ioas_id: SET: the IOAS to use; GET: the IOAS in use
 * @op: enum iommufd_vfio_ioas_op
 * @__reserved: must be 0
 *
 * The VFIO type1 container interface names no IOAS, so one IOAS of the fd,
 * the compatibility IOAS, is the one it works on. This command reads or
 * changes which one that is. It holds no reference: destroying that IOAS
 * clears it, and SET or CLEAR never destroys an IOAS.
 */
struct iommu_vfio_ioas {
	__u32 size;
	__u32 ioas_id;
	__u16 op;
	__u16 __reserved;
};

#define IOMMU_VFIO_IOAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VFIO_IOAS)

/**
 * enum iommufd_hwpt_alloc_flags - flags of IOMMU_HWPT_ALLOC
 * @IOMMU_HWPT_ALLOC_NEST_PARENT: the HWPT can be the stage 2 of nested HWPTs
 * @IOMMU_HWPT_ALLOC_DIRTY_TRACKING: the HWPT must be able to track dirty
 *                                   IOPTEs; devices without that capability
 *                                   cannot attach to it
 * @IOMMU_HWPT_FAULT_ID_VALID: @fault_id names a fault queue (upstream's
 *			       name has no ALLOC_ in it)
 * @IOMMU_HWPT_ALLOC_PASID: the HWPT may be attached to a device PASID
 */
enum iommufd_hwpt_alloc_flags {
	IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0,
	IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1,
	IOMMU_HWPT_FAULT_ID_VALID = 1 << 2,
	IOMMU_HWPT_ALLOC_PASID = 1 << 3,
};

/**
 * enum iommu_hwpt_vtd_s1_flags - flags of an Intel VT-d stage-1 table
 * @IOMMU_VTD_S1_SRE: supervisor requests allowed
 * @IOMMU_VTD_S1_EAFE: extended access flag enabled
 * @IOMMU_VTD_S1_WPE: write protection enforced
 */
enum iommu_hwpt_vtd_s1_flags {
	IOMMU_VTD_S1_SRE = 1 << 0,
	IOMMU_VTD_S1_EAFE = 1 << 1,
	IOMMU_VTD_S1_WPE = 1 << 2,
};

/**
 * struct iommu_hwpt_vtd_s1 - IOMMU_HWPT_DATA_VTD_S1 data
 * @flags: enum iommu_hwpt_vtd_s1_flags
 * @pgtbl_addr: address of the stage-1 page table
 * @addr_width: its input address width
 * @__reserved: must be 0
 *
 * Defined for upstream compatibility; the mock IOMMU does not take it.
 */
struct iommu_hwpt_vtd_s1 {
	__aligned_u64 flags;
	__aligned_u64 pgtbl_addr;
	__u32 addr_width;
	__u32 __reserved;
};

/**
 * struct iommu_hwpt_arm_smmuv3 - IOMMU_HWPT_DATA_ARM_SMMUV3 data
 * @ste: the first two little-endian double words of the guest's stream
 *	 table entry
 *
 * Defined for upstream compatibility; the mock IOMMU does not take it.
 */
struct iommu_hwpt_arm_smmuv3 {
	__aligned_le64 ste[2];
};

/**
 * enum iommu_hwpt_data_type - formats of IOMMU_HWPT_ALLOC's user data
 * @IOMMU_HWPT_DATA_NONE: no data: a paging HWPT built from an IOAS
 * @IOMMU_HWPT_DATA_VTD_S1: struct iommu_hwpt_vtd_s1
 * @IOMMU_HWPT_DATA_ARM_SMMUV3: struct iommu_hwpt_arm_smmuv3
 */
enum iommu_hwpt_data_type {
	IOMMU_HWPT_DATA_NONE = 0,
	IOMMU_HWPT_DATA_VTD_S1 = 1,
	IOMMU_HWPT_DATA_ARM_SMMUV3 = 2,
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
 * @fault_id: a fault queue, with IOMMU_HWPT_FAULT_ID_VALID
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
 * enum iommu_hw_info_vtd_flags - flags of struct iommu_hw_info_vtd
 * @IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17: read-only mappings are not
 *					    allowed in a nesting parent
 */
enum iommu_hw_info_vtd_flags {
	IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 = 1 << 0,
};

/**
 * struct iommu_hw_info_vtd - IOMMU_HW_INFO_TYPE_INTEL_VTD record
 * @flags: enum iommu_hw_info_vtd_flags
 * @__reserved: must be 0
 * @cap_reg: the VT-d capability register
 * @ecap_reg: the VT-d extended capability register
 */
struct iommu_hw_info_vtd {
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 cap_reg;
	__aligned_u64 ecap_reg;
};

/**
 * struct iommu_hw_info_arm_smmuv3 - IOMMU_HW_INFO_TYPE_ARM_SMMUV3 record
 * @flags: 0
 * @__reserved: must be 0
 * @idr: the SMMU's ID registers IDR0..IDR5
 * @iidr: its implementation ID register
 * @aidr: its architecture version register
 */
struct iommu_hw_info_arm_smmuv3 {
	__u32 flags;
	__u32 __reserved;
	__u32 idr[6];
	__u32 iidr;
	__u32 aidr;
};

/**
 * struct iommu_hw_info_tegra241_cmdqv - IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV
 *					 record
 * @flags: 0
 * @version: the CMDQ-V version (PARAM bits 3:0)
 * @log2vcmdqs: log2 of its number of virtual command queues
 * @log2vsids: log2 of its number of stream ID replacements
 * @__reserved: must be 0
 */
struct iommu_hw_info_tegra241_cmdqv {
	__u32 flags;
	__u8 version;
	__u8 log2vcmdqs;
	__u8 log2vsids;
	__u8 __reserved;
};

/**
 * enum iommu_hw_info_type - formats of IOMMU_GET_HW_INFO's record
 * @IOMMU_HW_INFO_TYPE_NONE: the driver has no record
 * @IOMMU_HW_INFO_TYPE_DEFAULT: as input: whatever the driver reports
 * @IOMMU_HW_INFO_TYPE_INTEL_VTD: struct iommu_hw_info_vtd
 * @IOMMU_HW_INFO_TYPE_ARM_SMMUV3: struct iommu_hw_info_arm_smmuv3
 * @IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV: struct iommu_hw_info_tegra241_cmdqv
 *
 * The mock IOMMU reports IOMMU_HW_INFO_TYPE_SELFTEST (iommufd_test.h).
 */
enum iommu_hw_info_type {
	IOMMU_HW_INFO_TYPE_NONE = 0,
	IOMMU_HW_INFO_TYPE_DEFAULT = 0,
	IOMMU_HW_INFO_TYPE_INTEL_VTD = 1,
	IOMMU_HW_INFO_TYPE_ARM_SMMUV3 = 2,
	IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV = 3,
};

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
 * enum iommufd_hw_info_flags - flags of IOMMU_GET_HW_INFO
 * @IOMMU_HW_INFO_FLAG_INPUT_TYPE: @in_data_type asks for a record of that
 *				   format (EOPNOTSUPP if the driver has none
 *				   of it); without it the input is ignored
 */
enum iommufd_hw_info_flags {
	IOMMU_HW_INFO_FLAG_INPUT_TYPE = 1 << 0,
};

/**
 * struct iommu_hw_info - ioctl(IOMMU_GET_HW_INFO)
 * @size: sizeof(struct iommu_hw_info)
 * @flags: enum iommufd_hw_info_flags
 * @dev_id: a bound device
 * @data_len: in: room at @data_uptr; out: the length of the driver's record
 * @data_uptr: where the driver's record goes; the part of the buffer past
 *	       the record is zeroed. A non-zero @data_len with no buffer is
 *	       EFAULT.
 * @in_data_type: with IOMMU_HW_INFO_FLAG_INPUT_TYPE, the format asked for
 * @out_data_type: the record's format (enum iommu_hw_info_type); shares its
 *		   place with @in_data_type
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
	union {
		__u32 in_data_type;
		__u32 out_data_type;
	};
	__u8 out_max_pasid_log2;
	__u8 __reserved[3];
	__aligned_u64 out_capabilities;
};

#define IOMMU_GET_HW_INFO _IO(IOMMUFD_TYPE, IOMMUFD_CMD_GET_HW_INFO)

/**
 * enum iommufd_hwpt_set_dirty_tracking_flags - flags of
 *						 IOMMU_HWPT_SET_DIRTY_TRACKING
 * @IOMMU_HWPT_DIRTY_TRACKING_ENABLE: start tracking (clear: stop)
 */
enum iommufd_hwpt_set_dirty_tracking_flags {
	IOMMU_HWPT_DIRTY_TRACKING_ENABLE = 1,
};

/**
 * struct iommu_hwpt_set_dirty_tracking - ioctl(IOMMU_HWPT_SET_DIRTY_TRACKING)
 * @size: sizeof(struct iommu_hwpt_set_dirty_tracking)
 * @flags: enum iommufd_hwpt_set_dirty_tracking_flags
 * @hwpt_id: a paging HWPT
 * @__reserved: must be 0
 *
 * Starts or stops recording which IOPTEs DMA writes through.
 */
struct iommu_hwpt_set_dirty_tracking {
	__u32 size;
	__u32 flags;
	__u32 hwpt_id;
	__u32 __reserved;
};

#define IOMMU_HWPT_SET_DIRTY_TRACKING                                       \
	_IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING)

/**
 * enum iommufd_hwpt_get_dirty_bitmap_flags - flags of
 *					       IOMMU_HWPT_GET_DIRTY_BITMAP
 * @IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR: report without clearing the dirty
 *					  state (for a read just before an
 *					  unmap of the range)
 */
enum iommufd_hwpt_get_dirty_bitmap_flags {
	IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR = 1,
};

/**
 * struct iommu_hwpt_get_dirty_bitmap - ioctl(IOMMU_HWPT_GET_DIRTY_BITMAP)
 * @size: sizeof(struct iommu_hwpt_get_dirty_bitmap)
 * @hwpt_id: a paging HWPT
 * @flags: enum iommufd_hwpt_get_dirty_bitmap_flags
 * @__reserved: must be 0
 * @iova: first IOVA of the range; bit 0 of the bitmap stands for it
 * @length: bytes of the range
 * @page_size: bytes each bit stands for
 * @data: user pointer to the bitmap (u64 words); the bit of IOVA x is bit
 *	  ((x - @iova) / @page_size) % 64 of word
 *	  ((x - @iova) / @page_size) / 64
 *
 * Reports which pages of the range DMA wrote since the last report, and
 * clears that state unless NO_CLEAR is given.
 */
struct iommu_hwpt_get_dirty_bitmap {
	__u32 size;
	__u32 hwpt_id;
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 page_size;
	__aligned_u64 data;
};

#define IOMMU_HWPT_GET_DIRTY_BITMAP                                         \
	_IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP)

/**
 * enum iommu_hwpt_invalidate_data_type - formats of HWPT_INVALIDATE entries
 * @IOMMU_HWPT_INVALIDATE_DATA_VTD_S1: struct iommu_hwpt_vtd_s1_invalidate
 * @IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3:
 *	struct iommu_viommu_arm_smmuv3_invalidate
 *
 * The mock IOMMU takes IOMMU_HWPT_INVALIDATE_DATA_SELFTEST
 * (iommufd_test.h).
 */
enum iommu_hwpt_invalidate_data_type {
	IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 = 0,
	IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 = 1,
};

/**
 * enum iommu_hwpt_vtd_s1_invalidate_flags - flags of a VT-d invalidation
 * @IOMMU_VTD_INV_FLAGS_LEAF: only the leaf entries of the range, not the
 *			      paging-structure caches
 */
enum iommu_hwpt_vtd_s1_invalidate_flags {
	IOMMU_VTD_INV_FLAGS_LEAF = 1 << 0,
};

/**
 * struct iommu_hwpt_vtd_s1_invalidate - IOMMU_HWPT_INVALIDATE_DATA_VTD_S1
 *					 entry
 * @addr: first address, 4 KiB aligned (0 with @npages U64_MAX: everything)
 * @npages: 4 KiB pages to invalidate
 * @flags: enum iommu_hwpt_vtd_s1_invalidate_flags
 * @__reserved: must be 0
 */
struct iommu_hwpt_vtd_s1_invalidate {
	__aligned_u64 addr;
	__aligned_u64 npages;
	__u32 flags;
	__u32 __reserved;
};

/**
 * struct iommu_viommu_arm_smmuv3_invalidate -
 *	IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 entry
 * @cmd: one 128-bit little-endian SMMU command-queue entry
 */
struct iommu_viommu_arm_smmuv3_invalidate {
	__aligned_le64 cmd[2];
};

/**
 * struct iommu_hwpt_invalidate - ioctl(IOMMU_HWPT_INVALIDATE)
 * @size: sizeof(struct iommu_hwpt_invalidate)
 * @hwpt_id: a nested HWPT
 * @data_uptr: array of @entry_num invalidation requests
 * @data_type: the requests' driver-specific format
 * @entry_len: bytes per request: at least the mandatory part of the
 *	       format's structure and at most the whole structure, and never
 *	       more than 4096 (EINVAL)
 * @entry_num: in: requests in the array, at most 1 << 19 (EINVAL); out:
 *	       requests handled, written back on failure too (0 when the call
 *	       failed before the first)
 * @__reserved: must be 0
 *
 * Flushes the nested HWPT's caches (its stage-1 IOTLB) as the requests
 * say. Handles them in order and stops at the first that fails. With
 * @entry_num 0 it only checks that the HWPT takes @data_type.
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

/**
 * enum iommu_hwpt_pgfault_flags - flags of struct iommu_hwpt_pgfault
 * @IOMMU_PGFAULT_FLAGS_PASID_VALID: @pasid is meaningful
 * @IOMMU_PGFAULT_FLAGS_LAST_PAGE: the last fault of its group
 */
enum iommu_hwpt_pgfault_flags {
	IOMMU_PGFAULT_FLAGS_PASID_VALID = (1 << 0),
	IOMMU_PGFAULT_FLAGS_LAST_PAGE = (1 << 1),
};

/**
 * enum iommu_hwpt_pgfault_perm - access a struct iommu_hwpt_pgfault asks for
 * @IOMMU_PGFAULT_PERM_READ: read
 * @IOMMU_PGFAULT_PERM_WRITE: write
 * @IOMMU_PGFAULT_PERM_EXEC: execute (a PASID request with Execute Requested)
 * @IOMMU_PGFAULT_PERM_PRIV: privileged (a PASID request with Privileged
 *			     Mode Requested)
 */
enum iommu_hwpt_pgfault_perm {
	IOMMU_PGFAULT_PERM_READ = (1 << 0),
	IOMMU_PGFAULT_PERM_WRITE = (1 << 1),
	IOMMU_PGFAULT_PERM_EXEC = (1 << 2),
	IOMMU_PGFAULT_PERM_PRIV = (1 << 3),
};

/**
 * struct iommu_hwpt_pgfault - one record read from a fault queue's fd
 * @flags: enum iommu_hwpt_pgfault_flags
 * @dev_id: the bound device that faulted
 * @pasid: the PASID of the request, with PASID_VALID
 * @grpid: the page request group index
 * @perm: enum iommu_hwpt_pgfault_perm
 * @__reserved: 0
 * @addr: the faulting address
 * @length: bytes the device expects to touch from @addr, a hint (or 0)
 * @cookie: the group's cookie; the response to the last fault of a group
 *	    names it
 */
struct iommu_hwpt_pgfault {
	__u32 flags;
	__u32 dev_id;
	__u32 pasid;
	__u32 grpid;
	__u32 perm;
	__u32 __reserved;
	__aligned_u64 addr;
	__u32 length;
	__u32 cookie;
};

/**
 * enum iommufd_page_response_code - how a fault group was handled
 * @IOMMUFD_PAGE_RESP_SUCCESS: mapped; the device retries the access
 * @IOMMUFD_PAGE_RESP_INVALID: not handled; the device must not retry
 */
enum iommufd_page_response_code {
	IOMMUFD_PAGE_RESP_SUCCESS = 0,
	IOMMUFD_PAGE_RESP_INVALID = 1,
};

/**
 * struct iommu_hwpt_page_response - a response written to a fault queue's fd
 * @cookie: the cookie of the fault group being answered
 * @code: enum iommufd_page_response_code
 */
struct iommu_hwpt_page_response {
	__u32 cookie;
	__u32 code;
};

/**
 * struct iommu_fault_alloc - ioctl(IOMMU_FAULT_QUEUE_ALLOC)
 * @size: sizeof(struct iommu_fault_alloc)
 * @flags: must be 0
 * @out_fault_id: the new fault queue's ID
 * @out_fault_fd: the fd its faults are read from and answered on
 */
struct iommu_fault_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_fault_id;
	__u32 out_fault_fd;
};

#define IOMMU_FAULT_QUEUE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_FAULT_QUEUE_ALLOC)

/**
 * enum iommu_viommu_type - kinds of virtual IOMMU
 * @IOMMU_VIOMMU_TYPE_DEFAULT: reserved
 * @IOMMU_VIOMMU_TYPE_ARM_SMMUV3: an ARM SMMUv3 one
 * @IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV: an ARM SMMUv3 one with NVIDIA
 *				      Tegra241 CMDQV
 */
enum iommu_viommu_type {
	IOMMU_VIOMMU_TYPE_DEFAULT = 0,
	IOMMU_VIOMMU_TYPE_ARM_SMMUV3 = 1,
	IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV = 2,
};

/**
 * struct iommu_viommu_tegra241_cmdqv - IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV data
 * @out_vintf_mmap_offset: mmap offset of the virtual interface's page 0
 * @out_vintf_mmap_length: mmap length of it
 */
struct iommu_viommu_tegra241_cmdqv {
	__aligned_u64 out_vintf_mmap_offset;
	__aligned_u64 out_vintf_mmap_length;
};

/**
 * struct iommu_viommu_alloc - ioctl(IOMMU_VIOMMU_ALLOC)
 * @size: sizeof(struct iommu_viommu_alloc)
 * @flags: must be 0
 * @type: enum iommu_viommu_type
 * @dev_id: a bound device whose IOMMU backs the virtual IOMMU
 * @hwpt_id: the nesting parent HWPT it uses
 * @out_viommu_id: the new virtual IOMMU's ID
 * @data_len: bytes at @data_uptr
 * @__reserved: must be 0
 * @data_uptr: the type's driver-specific data
 *
 * A virtual IOMMU: the slice of a real IOMMU that one VM owns.
 */
struct iommu_viommu_alloc {
	__u32 size;
	__u32 flags;
	__u32 type;
	__u32 dev_id;
	__u32 hwpt_id;
	__u32 out_viommu_id;
	__u32 data_len;
	__u32 __reserved;
	__aligned_u64 data_uptr;
};

#define IOMMU_VIOMMU_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VIOMMU_ALLOC)

/**
 * struct iommu_vdevice_alloc - ioctl(IOMMU_VDEVICE_ALLOC)
 * @size: sizeof(struct iommu_vdevice_alloc)
 * @viommu_id: the virtual IOMMU
 * @dev_id: the bound device it stands for
 * @out_vdevice_id: the new virtual device's ID
 * @virt_id: the device's ID as the guest sees it behind @viommu_id
 */
struct iommu_vdevice_alloc {
	__u32 size;
	__u32 viommu_id;
	__u32 dev_id;
	__u32 out_vdevice_id;
	__aligned_u64 virt_id;
};

#define IOMMU_VDEVICE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VDEVICE_ALLOC)

/**
 * enum iommu_veventq_flag - flags of struct iommufd_vevent_header
 * @IOMMU_VEVENTQ_FLAG_LOST_EVENTS: events were lost after the previous one
 */
enum iommu_veventq_flag {
	IOMMU_VEVENTQ_FLAG_LOST_EVENTS = (1U << 0),
};

/**
 * struct iommufd_vevent_header - what precedes each virtual event
 * @flags: enum iommu_veventq_flag
 * @sequence: the event's index in its queue, 0 to INT_MAX and round again;
 *	      a gap larger than one means events were lost
 */
struct iommufd_vevent_header {
	__u32 flags;
	__u32 sequence;
};

/**
 * enum iommu_veventq_type - kinds of virtual event queue
 * @IOMMU_VEVENTQ_TYPE_DEFAULT: reserved
 * @IOMMU_VEVENTQ_TYPE_ARM_SMMUV3: struct iommu_vevent_arm_smmuv3 events
 * @IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV: struct iommu_vevent_tegra241_cmdqv
 *				       events
 */
enum iommu_veventq_type {
	IOMMU_VEVENTQ_TYPE_DEFAULT = 0,
	IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 = 1,
	IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV = 2,
};

/**
 * struct iommu_vevent_arm_smmuv3 - an IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 event
 * @evt: the 256-bit little-endian SMMU event record, with the virtual
 *	 device ID as its stream ID
 */
struct iommu_vevent_arm_smmuv3 {
	__aligned_le64 evt[4];
};

/**
 * struct iommu_vevent_tegra241_cmdqv - an IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV
 *					event
 * @lvcmdq_err_map: the 128-bit little-endian logical VCMDQ error map
 */
struct iommu_vevent_tegra241_cmdqv {
	__aligned_le64 lvcmdq_err_map[2];
};

/**
 * struct iommu_veventq_alloc - ioctl(IOMMU_VEVENTQ_ALLOC)
 * @size: sizeof(struct iommu_veventq_alloc)
 * @flags: must be 0
 * @viommu_id: the virtual IOMMU whose events it queues
 * @type: enum iommu_veventq_type; one queue per type and virtual IOMMU
 * @veventq_depth: most events held; later ones are lost
 * @out_veventq_id: the new queue's ID
 * @out_veventq_fd: the fd the events are read from
 * @__reserved: must be 0
 */
struct iommu_veventq_alloc {
	__u32 size;
	__u32 flags;
	__u32 viommu_id;
	__u32 type;
	__u32 veventq_depth;
	__u32 out_veventq_id;
	__u32 out_veventq_fd;
	__u32 __reserved;
};

#define IOMMU_VEVENTQ_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VEVENTQ_ALLOC)

/**
 * enum iommu_hw_queue_type - kinds of hardware queue
 * @IOMMU_HW_QUEUE_TYPE_DEFAULT: reserved
 * @IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV: an NVIDIA Tegra241 virtual command
 *					queue
 */
enum iommu_hw_queue_type {
	IOMMU_HW_QUEUE_TYPE_DEFAULT = 0,
	IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV = 1,
};

/**
 * struct iommu_hw_queue_alloc - ioctl(IOMMU_HW_QUEUE_ALLOC)
 * @size: sizeof(struct iommu_hw_queue_alloc)
 * @flags: must be 0
 * @viommu_id: the virtual IOMMU the queue belongs to
 * @type: enum iommu_hw_queue_type
 * @index: the queue's index among the virtual IOMMU's queues of @type
 * @out_hw_queue_id: the new queue's ID
 * @nesting_parent_iova: where the queue's memory is, as an IOVA of the
 *			 nesting parent (a guest physical address)
 * @length: bytes of the queue's memory
 *
 * A queue the hardware reads directly from guest memory.
 */
struct iommu_hw_queue_alloc {
	__u32 size;
	__u32 flags;
	__u32 viommu_id;
	__u32 type;
	__u32 index;
	__u32 out_hw_queue_id;
	__aligned_u64 nesting_parent_iova;
	__aligned_u64 length;
};

#define IOMMU_HW_QUEUE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HW_QUEUE_ALLOC)

#endif
