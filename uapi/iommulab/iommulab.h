/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * iommulab's own uAPI: what upstream iommufd never had.
 *
 * The commands use the same ioctl type (';') and the same calling
 * convention as <iommulab/iommufd.h> (size first, zero tail allowed, same
 * errno rules), in the number range IOMMULAB_CMD_BASE (0xc0) to
 * IOMMULAB_CMD_LAST (0xdf), which upstream does not use. Upstream's own
 * numbers end at 0x94, and its selftest command is 0xa0.
 */
#ifndef _UAPI_IOMMULAB_IOMMULAB_H
#define _UAPI_IOMMULAB_IOMMULAB_H

#include <linux/types.h>
#include "iommufd.h"

enum {
	IOMMULAB_CMD_BASE = 0xc0,
	IOMMULAB_CMD_GET_INFO = IOMMULAB_CMD_BASE,
	IOMMULAB_CMD_BENCH_PIN = 0xc1,
	IOMMULAB_CMD_MOCK_GROUP_ALLOC = 0xc2,
	IOMMULAB_CMD_DEVICE_BIND = 0xc3,
	IOMMULAB_CMD_DEVICE_ATTACH = 0xc4,
	IOMMULAB_CMD_DEVICE_DETACH = 0xc5,
	IOMMULAB_CMD_MOCK_SET_DRIVER = 0xc6,
	IOMMULAB_CMD_MOCK_DMA = 0xc7,
	IOMMULAB_CMD_IOASID_SET_ALLOC = 0xc8,
	IOMMULAB_CMD_IOASID = 0xc9,
	IOMMULAB_CMD_IOASID_SET_INFO = 0xca,
	IOMMULAB_CMD_MOCK_SUBDEV_ALLOC = 0xcb,
	IOMMULAB_CMD_MOCK_DMA_BURST = 0xcc,
	IOMMULAB_CMD_IOAS_UNMAP_DIRTY = 0xcd,
	IOMMULAB_CMD_HWPT_SPLIT = 0xce,
	IOMMULAB_CMD_HWPT_MERGE = 0xcf,
	IOMMULAB_CMD_DEVICE_PASID = 0xd1,
	IOMMULAB_CMD_AUX_ATTACH = 0xd2,
	IOMMULAB_CMD_AUX_DETACH = 0xd3,
	IOMMULAB_CMD_AUX_GET_PASID = 0xd4,
	IOMMULAB_CMD_AUX_GET_DOMAIN = 0xd5,
	IOMMULAB_CMD_LAST = 0xdf,
};

/* Version of this header's ABI; bumped when a command is added. */
#define IOMMULAB_ABI_VERSION 7

/**
 * enum iommulab_features - what this module implements
 * @IOMMULAB_FEATURE_IOAS: IOAS objects
 * @IOMMULAB_FEATURE_OPTION: IOMMU_OPTION (RLIMIT_MODE, HUGE_PAGES)
 * @IOMMULAB_FEATURE_IOAS_MAP: IOAS_MAP/UNMAP/COPY/IOVA_RANGES/ALLOW_IOVAS
 * @IOMMULAB_FEATURE_TEST_ACCESS: IOMMU_TEST_CMD access and memory ops
 * @IOMMULAB_FEATURE_MOCK_IOMMU: mock devices, groups, HWPTs, DMA engine
 */
enum iommulab_features {
	IOMMULAB_FEATURE_IOAS = 1 << 0,
	IOMMULAB_FEATURE_OPTION = 1 << 1,
	IOMMULAB_FEATURE_IOAS_MAP = 1 << 2,
	IOMMULAB_FEATURE_TEST_ACCESS = 1 << 3,
	IOMMULAB_FEATURE_MOCK_IOMMU = 1 << 4,
};

/*
 * An IOMMU_TEST_OP_CREATE_ACCESS flag of iommulab's own: the access ignores
 * unmap notifications and keeps its pins, so an unmap of a range it pinned
 * fails with EBUSY. Upstream's flags use bit 0 only.
 */
#define IOMMULAB_ACCESS_CREATE_HOLD_PINS (1 << 8)

/**
 * struct iommulab_info - ioctl(IOMMULAB_GET_INFO)
 * @size: sizeof(struct iommulab_info)
 * @flags: must be 0
 * @out_abi_version: IOMMULAB_ABI_VERSION of the running module
 * @out_nr_objects: live objects this file descriptor owns, all types
 * @out_features: enum iommulab_features
 * @out_nr_objects_all: objects alive in the whole module, every fd counted,
 *			including ones being built; a leak check for tests
 * @out_fd_id: this fd's identity in notifications (IOMMULAB_GENL_ATTR_FD_ID
 *	       of iommulab_genl.h), unique among the fds open at once
 * @out_fd_uid: the effective uid of the fd's opener (IOMMULAB_GENL_ATTR_FD_UID)
 *
 * Describes the module and the calling file descriptor. Tests use
 * @out_nr_objects to prove that a failed call created nothing and that a
 * destroy removed exactly one object.
 */
struct iommulab_info {
	__u32 size;
	__u32 flags;
	__u32 out_abi_version;
	__u32 out_nr_objects;
	__aligned_u64 out_features;
	__aligned_u64 out_nr_objects_all;
	__u32 out_fd_id;
	__u32 out_fd_uid;
};

#define IOMMULAB_GET_INFO _IO(IOMMUFD_TYPE, IOMMULAB_CMD_GET_INFO)

/**
 * enum iommulab_test_ops - IOMMU_TEST_CMD ops of iommulab's own
 * @IOMMULAB_TEST_OP_READ_IOPTES: read every IOPTE of a range of the mock
 *	paging HWPT ``id`` and change nothing: the plain read that the
 *	harvest benchmark (``iommulab bench dirty``) times next to
 *	IOMMU_HWPT_GET_DIRTY_BITMAP of the same range. It takes the union's
 *	``dirty`` member: ``iova`` and ``length`` in (``flags``,
 *	``page_size`` and ``uptr`` must be 0, else EINVAL); ``out_nr_dirty``
 *	receives the number of IOPTEs (leaves) read. ENOENT for an ``id``
 *	that is not a paging HWPT, EINVAL for one that is not the mock's or a
 *	``length`` of 0, EOVERFLOW for a range that wraps, ERANGE for one
 *	beyond the page table.
 *
 * Upstream's ops are small numbers counting up from 1; iommulab's own start
 * at 0x1000, where upstream has none.
 */
enum iommulab_test_ops {
	IOMMULAB_TEST_OP_READ_IOPTES = 0x1000,
};

/* IOMMULAB_BENCH_PIN flags */
#define IOMMULAB_BENCH_PIN_WRITE (1 << 0)

/**
 * struct iommulab_bench_pin - ioctl(IOMMULAB_BENCH_PIN)
 * @size: sizeof(struct iommulab_bench_pin)
 * @flags: IOMMULAB_BENCH_PIN_WRITE to pin for write
 * @uptr: start of the caller's memory
 * @length: bytes
 * @out_pin_ns: time the long-term pin (and its accounting) took
 * @out_unpin_ns: time the unpin took
 *
 * Pins a user range exactly as IOMMU_IOAS_MAP would and unpins it again at
 * once, with no IOAS involved: the raw cost that the map benchmark puts
 * next to MAP/UNMAP. Same errnos as MAP's pinning.
 */
struct iommulab_bench_pin {
	__u32 size;
	__u32 flags;
	__aligned_u64 uptr;
	__aligned_u64 length;
	__aligned_u64 out_pin_ns;
	__aligned_u64 out_unpin_ns;
};

#define IOMMULAB_BENCH_PIN _IO(IOMMUFD_TYPE, IOMMULAB_CMD_BENCH_PIN)

/*
 * A mock device flag of iommulab's own (IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS
 * dev_flags, IOMMULAB_MOCK_GROUP_ALLOC dev_flags): the device's IOMMU uses
 * 4 KiB, 2 MiB and 1 GiB IOPTEs over a 48-bit aperture instead of
 * upstream's selftest format (2 KiB, and 1 MiB with HUGE_IOVA).
 */
#define IOMMULAB_MOCK_DEV_4K (1 << 16)

/*
 * Mock device flags of iommulab's own for I/O page faults (upstream's mock
 * devices can all be attached to a HWPT with a fault queue, and so can
 * iommulab's, unless IOMMULAB_MOCK_DEV_NO_IOPF says otherwise):
 *
 * IOMMULAB_MOCK_DEV_PRI: the device issues page requests (PCIe PRI, or a
 *	stall): when its DMA (IOMMULAB_MOCK_DMA, _BURST) meets a missing
 *	IOPTE or one that forbids the access, and the HWPT the request goes
 *	through has a fault queue, the device sends one page request for the
 *	faulting page to that queue (read from the queue's fd as a struct
 *	iommu_hwpt_pgfault, IOMMU_PGFAULT_FLAGS_LAST_PAGE set) and waits for
 *	the response. IOMMUFD_PAGE_RESP_SUCCESS: it retries the translation
 *	and goes on (one page request per page and DMA call: a page that
 *	still faults after a success faults as without PRI). INVALID, a
 *	response that never comes (module parameter iopf_timeout_ms), a full
 *	queue (module parameter iopf_queue_depth), the queue's fd closed, or
 *	the device leaving that HWPT: the access faults, with the
 *	IOMMULAB_DMA_FAULT_PRQ_* reason that says which. A signal ends the
 *	wait: the call fails with EINTR. Without the flag, or through a HWPT
 *	without a fault queue, a translation fault stops the DMA at once.
 *	Not for sub-devices (EINVAL at plug-in).
 * IOMMULAB_MOCK_DEV_NO_IOPF: the device cannot take I/O page faults: a
 *	HWPT with a fault queue cannot be allocated for it nor attached to it
 *	(EOPNOTSUPP). Not with IOMMULAB_MOCK_DEV_PRI (EINVAL).
 */
#define IOMMULAB_MOCK_DEV_PRI (1 << 17)
#define IOMMULAB_MOCK_DEV_NO_IOPF (1 << 18)

/* IOMMU_HWPT_ALLOC data type of a mock nested HWPT with a stage-1 offset */
#define IOMMULAB_HWPT_DATA_MOCK_S1 0x1ab5

/**
 * struct iommulab_hwpt_mock_s1 - IOMMULAB_HWPT_DATA_MOCK_S1 data
 * @flags: must be 0
 * @iotlb: initial value of the mock stage-1 IOTLB entries
 * @s1_offset: stage 1 translates IOVA x to x + @s1_offset, which stage 2
 *	       (the parent HWPT) then translates
 */
struct iommulab_hwpt_mock_s1 {
	__u32 flags;
	__u32 iotlb;
	__aligned_u64 s1_offset;
};

/**
 * struct iommulab_mock_dev_info - one device of IOMMULAB_MOCK_GROUP_ALLOC
 * @stdev_id: the fd's handle of the mock device; IOMMU_DESTROY unplugs it
 * @rid: its requester ID, unique in the module; what BIND and DMA name
 */
struct iommulab_mock_dev_info {
	__u32 stdev_id;
	__u32 rid;
};

/**
 * struct iommulab_mock_group_alloc - ioctl(IOMMULAB_MOCK_GROUP_ALLOC)
 * @size: sizeof(struct iommulab_mock_group_alloc)
 * @flags: must be 0
 * @nr_devices: devices in the new group, 1 to 8
 * @dev_flags: MOCK_FLAGS_DEVICE_* and IOMMULAB_MOCK_DEV_4K for each device
 * @devs_uptr: array of @nr_devices struct iommulab_mock_dev_info, filled in
 *
 * Plugs in a group of mock devices that the IOMMU cannot isolate from one
 * another. They start kernel-owned, with no kernel driver; their DMA is
 * refused (EPERM) until one of them is bound.
 */
struct iommulab_mock_group_alloc {
	__u32 size;
	__u32 flags;
	__u32 nr_devices;
	__u32 dev_flags;
	__aligned_u64 devs_uptr;
};

#define IOMMULAB_MOCK_GROUP_ALLOC _IO(IOMMUFD_TYPE, IOMMULAB_CMD_MOCK_GROUP_ALLOC)

/**
 * struct iommulab_device_bind - ioctl(IOMMULAB_DEVICE_BIND)
 * @size: sizeof(struct iommulab_device_bind)
 * @flags: must be 0
 * @rid: the device, by requester ID (from any fd)
 * @out_dev_id: the bound device's ID in this fd; IOMMU_DESTROY unbinds
 * @cookie: the user's cookie for the device, reported back with its page
 *	    requests (IOMMULAB_GENL_ATTR_DEV_COOKIE of their events)
 *
 * Binds a device to this fd, as VFIO does when a device is opened. The
 * first bind of a group checks that the group is viable (no device of it
 * has a kernel driver: else EBUSY) and moves every device of the group into
 * the blocked domain. A device is bound to one fd at a time (EBUSY), and a
 * group belongs to one fd at a time (EBUSY). Unbinding the last device of
 * a group returns the group to the kernel.
 */
struct iommulab_device_bind {
	__u32 size;
	__u32 flags;
	__u32 rid;
	__u32 out_dev_id;
	__aligned_u64 cookie;
};

#define IOMMULAB_DEVICE_BIND _IO(IOMMUFD_TYPE, IOMMULAB_CMD_DEVICE_BIND)

/**
 * enum iommulab_attach_flags - flags of IOMMULAB_DEVICE_ATTACH
 * @IOMMULAB_ATTACH_SUBDEV_AUX: a sub-device: route it by the aux-domain
 *	path (the HWPT's default PASID on the parent)
 * @IOMMULAB_ATTACH_SUBDEV_PASID: a sub-device: route it by the PASID
 *	attach path (a PASID of its own on the parent)
 *
 * Neither flag: a sub-device keeps the path of its current attachment,
 * or, when it has none, takes the one the module parameter subdev_aux
 * names (0, the default: the PASID path; 1: the aux path). EINVAL for
 * either flag on a device that is not an IOMMU-routed sub-device, for
 * both at once, and for a replace that names the other path than the
 * attachment's (detach first). Unknown bits: EOPNOTSUPP.
 */
enum iommulab_attach_flags {
	IOMMULAB_ATTACH_SUBDEV_AUX = 1 << 0,
	IOMMULAB_ATTACH_SUBDEV_PASID = 1 << 1,
};

/**
 * struct iommulab_device_attach - ioctl(IOMMULAB_DEVICE_ATTACH)
 * @size: sizeof(struct iommulab_device_attach)
 * @flags: enum iommulab_attach_flags
 * @dev_id: a bound device
 * @pt_id: an IOAS (a compatible automatic HWPT is reused or made), or a HWPT
 * @out_hwpt_id: the HWPT the device's RID now uses (a sub-device: the one
 *		 its PASID on the parent uses; software-mediated: 0)
 * @__reserved: must be 0
 *
 * Attaches the device's RID, or replaces its current attachment: the new
 * domain is installed before the old one is let go, so the device never
 * sees a moment of no translation. On failure the old attachment stays.
 *
 * A sub-device (IOMMULAB_MOCK_SUBDEV_ALLOC) has no RID of its own: its
 * requests go out with its parent's RID and a PASID, and attaching it
 * programs the parent's PASID table:
 *
 * - the PASID path (upstream 6.15's shape): the kernel allocates the
 *   sub-device a PASID from this fd's IOASID set (ENOSPC at its quota;
 *   without a set, from the system space), kept while it stays attached,
 *   replace included, and freed by the detach. The HWPT must be allocated
 *   with IOMMU_HWPT_ALLOC_PASID (else EINVAL); an IOAS gets an automatic
 *   HWPT that is.
 * - the aux path (the API Linux had until 5.18): the sub-device uses the
 *   HWPT's default PASID (see IOMMULAB_AUX_ATTACH; made at the HWPT's
 *   first aux attachment, gone with its last), so a replace changes the
 *   PASID. Any paging HWPT of IOMMU_HWPT_ALLOC or an IOAS. EBUSY when the
 *   HWPT is the parent's RID domain or already aux-attached to the parent
 *   (directly or by another of its sub-devices).
 *
 * EBUSY on both paths when another user of the parent holds that PASID.
 * A nested HWPT is EINVAL. A sub-device whose parent cannot take PASIDs
 * is software-mediated (seed 001's sw mdev): @pt_id must be an IOAS
 * (else EINVAL), nothing is programmed into the IOMMU, and its DMA reaches
 * exactly what the IOAS maps, through the IOAS itself.
 */
struct iommulab_device_attach {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 pt_id;
	__u32 out_hwpt_id;
	__u32 __reserved;
};

#define IOMMULAB_DEVICE_ATTACH _IO(IOMMUFD_TYPE, IOMMULAB_CMD_DEVICE_ATTACH)

/**
 * struct iommulab_device_detach - ioctl(IOMMULAB_DEVICE_DETACH)
 * @size: sizeof(struct iommulab_device_detach)
 * @dev_id: a bound, attached device; it returns to the blocked domain
 */
struct iommulab_device_detach {
	__u32 size;
	__u32 dev_id;
};

#define IOMMULAB_DEVICE_DETACH _IO(IOMMUFD_TYPE, IOMMULAB_CMD_DEVICE_DETACH)

/**
 * enum iommulab_pasid_op - what IOMMULAB_DEVICE_PASID does
 * @IOMMULAB_PASID_ATTACH: give a PASID with no HWPT one (else EBUSY)
 * @IOMMULAB_PASID_REPLACE: move a PASID that has a HWPT to another (else
 *			    EINVAL), in one step
 * @IOMMULAB_PASID_DETACH: take its HWPT away (none: EINVAL); its requests
 *			   fault from then on
 */
enum iommulab_pasid_op {
	IOMMULAB_PASID_ATTACH = 0,
	IOMMULAB_PASID_REPLACE = 1,
	IOMMULAB_PASID_DETACH = 2,
};

/**
 * enum iommulab_device_pasid_flags - flags of IOMMULAB_DEVICE_PASID
 * @IOMMULAB_DEVICE_PASID_ALLOC: IOMMULAB_PASID_ATTACH only, with @pasid 0:
 *	the kernel allocates the PASID from the fd's IOASID set (or, for an
 *	fd without one, the system space), attaches it and writes it to
 *	@pasid. The allocation is the caller's, as if by IOMMULAB_IOASID
 *	ALLOC: detaching leaves it allocated. A failed attach frees it.
 *	(One exception to "no event for a failed call": when the answer
 *	cannot be written back (EFAULT), the attach and the allocation
 *	already announced are undone with PASID_DETACH and PASID_FREE.)
 */
enum iommulab_device_pasid_flags {
	IOMMULAB_DEVICE_PASID_ALLOC = 1 << 0,
};

/**
 * struct iommulab_device_pasid - ioctl(IOMMULAB_DEVICE_PASID)
 * @size: sizeof(struct iommulab_device_pasid)
 * @flags: enum iommulab_device_pasid_flags
 * @op: enum iommulab_pasid_op
 * @dev_id: a bound device (IOMMULAB_DEVICE_BIND or MOCK_DOMAIN)
 * @pasid: the PASID, 1 to 2^out_max_pasid_log2 - 1 (IOMMU_GET_HW_INFO);
 *	   for an fd with an IOASID set, one allocated in that set
 * @pt_id: attach and replace: a HWPT allocated with IOMMU_HWPT_ALLOC_PASID
 *	   (an IOAS is EINVAL: its automatic HWPTs cannot take a PASID);
 *	   detach: must be 0
 *
 * The PASID attach path of upstream 6.15 (its rules and errnos, as its
 * selftest's IOMMU_TEST_OP_PASID_* apply them to mock devices) for any
 * bound device, the mock groups' devices included. EINVAL when the device
 * has no PASID support, the PASID is 0 or too wide, the HWPT is not
 * PASID-compatible, the device's RID sits on a HWPT that is not, or the
 * device's group has more than one device (iommulab's rule: the IOMMU
 * cannot tell a group's devices apart, so neither their PASIDs). On
 * failure the PASID keeps what it had.
 *
 * An fd with an IOASID set may only attach PASIDs of that set: ENOENT
 * for any other (free-pending ones included), EBUSY for an aux domain's
 * default PASID. While attached, such a PASID is not released by
 * IOMMULAB_IOASID FREE (it goes free-pending). An fd without a set names
 * PASIDs freely, as upstream's test ops do.
 */
struct iommulab_device_pasid {
	__u32 size;
	__u32 flags;
	__u32 op;
	__u32 dev_id;
	__u32 pasid;
	__u32 pt_id;
};

#define IOMMULAB_DEVICE_PASID _IO(IOMMUFD_TYPE, IOMMULAB_CMD_DEVICE_PASID)

/**
 * enum iommulab_ioasid_set_flags - flags of IOMMULAB_IOASID_SET_ALLOC
 * @IOMMULAB_IOASID_SET_TOKEN_VALUE: the set's token is @token, a non-zero
 *	value of the caller's choosing, instead of the caller's mm
 */
enum iommulab_ioasid_set_flags {
	IOMMULAB_IOASID_SET_TOKEN_VALUE = 1 << 0,
};

/**
 * struct iommulab_ioasid_set_alloc - ioctl(IOMMULAB_IOASID_SET_ALLOC)
 * @size: sizeof(struct iommulab_ioasid_set_alloc)
 * @flags: enum iommulab_ioasid_set_flags
 * @quota: how many PASIDs the set may hold at once, 1 to 2^20 - 1
 * @out_set_id: the new set, an object of the fd (IOMMU_DESTROY frees it)
 * @token: with IOMMULAB_IOASID_SET_TOKEN_VALUE the token; else must be 0
 * @out_token_id: an identity of the set's token, unique in the system for
 *		  as long as the module is loaded (notifications carry it)
 *
 * PASIDs come from one system-wide space, 1 to the module parameter
 * pasid_max (2^20 - 1, the mock's width; PASID 0 is the RID's), carved
 * into IOASID sets. A set belongs to the fd that made it and names its
 * owner by a token: by default the caller's mm, so that one VM (one
 * process) has one set. A token has at most one set in the system and an
 * fd at most one set: a second is EEXIST. The fd's set is where the
 * kernel takes the PASIDs it picks for that fd (IOMMULAB_AUX_ATTACH,
 * IOMMULAB_DEVICE_PASID with IOMMULAB_DEVICE_PASID_ALLOC); an fd without
 * a set takes them from the system space directly, under no quota.
 *
 * EOPNOTSUPP for an unknown flag; EINVAL for a bad @quota or @token.
 */
struct iommulab_ioasid_set_alloc {
	__u32 size;
	__u32 flags;
	__u32 quota;
	__u32 out_set_id;
	__aligned_u64 token;
	__aligned_u64 out_token_id;
};

#define IOMMULAB_IOASID_SET_ALLOC _IO(IOMMUFD_TYPE, IOMMULAB_CMD_IOASID_SET_ALLOC)

/**
 * enum iommulab_ioasid_op - what IOMMULAB_IOASID does
 * @IOMMULAB_IOASID_ALLOC: allocate a PASID in the set (@pasid and @vpasid
 *	must be 0): ENOSPC when the set holds its quota or the system space
 *	is exhausted. The PASID is written to @pasid.
 * @IOMMULAB_IOASID_FREE: free @pasid (@vpasid must be 0). Its vPASID
 *	binding goes at once; if a device still has it attached, it is free
 *	pending: it keeps its place in the quota and is not handed out again
 *	until the last attachment goes. ENOENT when @pasid is not allocated
 *	in the set (or already freed); EBUSY for the default PASID of an aux
 *	domain, which the kernel allocated and frees.
 * @IOMMULAB_IOASID_BIND: bind the set-private ID @vpasid (a guest's PASID,
 *	1 to 2^20 - 1) to @pasid. ENOENT when @pasid is not allocated in the
 *	set; EEXIST when @vpasid is bound; EBUSY when @pasid is.
 * @IOMMULAB_IOASID_UNBIND: undo the binding of @pasid (@vpasid must be 0);
 *	ENOENT when it has none
 * @IOMMULAB_IOASID_LOOKUP: the PASID @vpasid is bound to, written to
 *	@pasid (which must be 0 on input); ENOENT when unbound
 */
enum iommulab_ioasid_op {
	IOMMULAB_IOASID_ALLOC = 0,
	IOMMULAB_IOASID_FREE = 1,
	IOMMULAB_IOASID_BIND = 2,
	IOMMULAB_IOASID_UNBIND = 3,
	IOMMULAB_IOASID_LOOKUP = 4,
};

/**
 * struct iommulab_ioasid - ioctl(IOMMULAB_IOASID)
 * @size: sizeof(struct iommulab_ioasid)
 * @flags: must be 0
 * @op: enum iommulab_ioasid_op
 * @set_id: an IOASID set of the fd
 * @pasid: a system-wide PASID (see the ops)
 * @vpasid: a set-private ID (see the ops)
 *
 * EINVAL for an unknown @op or a field the op does not take set non-zero;
 * ENOENT for a bad @set_id. A failed call changes nothing.
 */
struct iommulab_ioasid {
	__u32 size;
	__u32 flags;
	__u32 op;
	__u32 set_id;
	__u32 pasid;
	__u32 vpasid;
};

#define IOMMULAB_IOASID _IO(IOMMUFD_TYPE, IOMMULAB_CMD_IOASID)

/**
 * struct iommulab_ioasid_set_info - ioctl(IOMMULAB_IOASID_SET_INFO)
 * @size: sizeof(struct iommulab_ioasid_set_info)
 * @flags: must be 0
 * @set_id: an IOASID set of the fd
 * @out_quota: the set's quota
 * @out_nr_pasids: PASIDs the set holds, free-pending ones included
 * @out_nr_pending: of those, the free-pending ones
 * @out_nr_bound: PASIDs with a vPASID binding
 * @__reserved: must be 0
 * @out_token_id: as IOMMULAB_IOASID_SET_ALLOC returned it
 */
struct iommulab_ioasid_set_info {
	__u32 size;
	__u32 flags;
	__u32 set_id;
	__u32 out_quota;
	__u32 out_nr_pasids;
	__u32 out_nr_pending;
	__u32 out_nr_bound;
	__u32 __reserved;
	__aligned_u64 out_token_id;
};

#define IOMMULAB_IOASID_SET_INFO _IO(IOMMUFD_TYPE, IOMMULAB_CMD_IOASID_SET_INFO)

/**
 * struct iommulab_aux - ioctl(IOMMULAB_AUX_ATTACH, _DETACH, _GET_PASID)
 * @size: sizeof(struct iommulab_aux)
 * @flags: must be 0
 * @dev_id: a bound device with PASID support, alone in its group
 * @hwpt_id: a paging HWPT made by IOMMU_HWPT_ALLOC (a nested one, or an
 *	     automatic one made by attaching a device to an IOAS, is EINVAL)
 * @out_pasid: ATTACH and GET_PASID: the domain's default PASID
 * @__reserved: must be 0
 *
 * The aux-domain path, the API Linux had until 5.18, next to the PASID
 * attach path (IOMMULAB_DEVICE_PASID) on the same hardware:
 *
 * IOMMULAB_AUX_ATTACH attaches the HWPT to the device as an auxiliary
 * domain: the kernel picks the domain's default PASID (at its first aux
 * attach; later ones, to other devices, reuse it), programs the device's
 * PASID table with it and returns it. EBUSY when the HWPT is the device's
 * RID domain or already aux-attached to the device, or the device has that
 * PASID attached by the PASID path; EINVAL for a device without PASIDs or
 * in a group of several; ENOSPC when the fd's IOASID set holds its quota
 * or the system space is exhausted (the default PASID comes from the fd's
 * set, or without one from the system space). The HWPT needs no
 * IOMMU_HWPT_ALLOC_PASID, and the device's RID may sit on any domain.
 *
 * IOMMULAB_AUX_DETACH undoes it (EINVAL when not aux-attached); the last
 * aux detach of a domain frees its default PASID. While aux-attached to a
 * device (here, or by a sub-device of the device routed by the aux path:
 * IOMMULAB_DEVICE_ATTACH), the HWPT cannot become that device's RID domain
 * (EBUSY) nor be destroyed (EBUSY); the PASID path cannot detach or
 * replace its PASID (EBUSY). A PASID that a sub-device of the device uses
 * is EBUSY for both paths here.
 *
 * IOMMULAB_AUX_GET_PASID (aux_get_pasid(domain, device)) returns the
 * default PASID; ENOENT when the HWPT is not aux-attached to the device.
 */
struct iommulab_aux {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 hwpt_id;
	__u32 out_pasid;
	__u32 __reserved;
};

#define IOMMULAB_AUX_ATTACH _IO(IOMMUFD_TYPE, IOMMULAB_CMD_AUX_ATTACH)
#define IOMMULAB_AUX_DETACH _IO(IOMMUFD_TYPE, IOMMULAB_CMD_AUX_DETACH)
#define IOMMULAB_AUX_GET_PASID _IO(IOMMUFD_TYPE, IOMMULAB_CMD_AUX_GET_PASID)

/**
 * enum iommulab_subdev_path - how a sub-device's DMA is translated
 * @IOMMULAB_SUBDEV_PATH_NONE: not attached (MOCK_SUBDEV_ALLOC: routed by
 *			       the IOMMU, by the path each attach picks)
 * @IOMMULAB_SUBDEV_PATH_AUX: parent's RID + the HWPT's default PASID
 * @IOMMULAB_SUBDEV_PATH_PASID: parent's RID + the sub-device's own PASID
 * @IOMMULAB_SUBDEV_PATH_SW: software-mediated: through an IOAS, no IOMMU
 */
enum iommulab_subdev_path {
	IOMMULAB_SUBDEV_PATH_NONE = 0,
	IOMMULAB_SUBDEV_PATH_AUX = 1,
	IOMMULAB_SUBDEV_PATH_PASID = 2,
	IOMMULAB_SUBDEV_PATH_SW = 3,
};

/**
 * struct iommulab_mock_subdev_alloc - ioctl(IOMMULAB_MOCK_SUBDEV_ALLOC)
 * @size: sizeof(struct iommulab_mock_subdev_alloc)
 * @flags: must be 0
 * @parent_id: a mock device this fd plugged in (its stdev ID)
 * @nr_subdevs: sub-devices to make, 1 to 8
 * @subdevs_uptr: array of @nr_subdevs struct iommulab_mock_dev_info,
 *		  filled in: each sub-device's stdev ID and its handle, a
 *		  number outside the RID space (0x10000 to 0x1ffff) that
 *		  IOMMULAB_DEVICE_BIND and IOMMULAB_MOCK_DMA take as its RID
 * @out_path: IOMMULAB_SUBDEV_PATH_NONE when the sub-devices are routed by
 *	      the IOMMU (the parent takes PASIDs and is alone in its group),
 *	      IOMMULAB_SUBDEV_PATH_SW when they are software-mediated
 * @__reserved: must be 0
 *
 * Gives a mock device N sub-devices (seed 001: work queues of a shared
 * device, mdevs), each a device in its own right: a group of its own,
 * bindable by any fd (another VM) with its own cookie, attachable to an
 * IOAS or HWPT (IOMMULAB_DEVICE_ATTACH says how it is routed). The parent
 * keeps its RID and its RID's domain for its own driver's DMA. While it
 * has sub-devices the parent's stdev cannot be destroyed (EBUSY).
 * Destroying a sub-device's stdev unplugs it, as for any mock device.
 *
 * ENOENT for a bad @parent_id, EINVAL for a parent that is itself a
 * sub-device or a bad @nr_subdevs, EOPNOTSUPP for @flags or @__reserved,
 * EFAULT for @subdevs_uptr (nothing made).
 */
struct iommulab_mock_subdev_alloc {
	__u32 size;
	__u32 flags;
	__u32 parent_id;
	__u32 nr_subdevs;
	__aligned_u64 subdevs_uptr;
	__u32 out_path;
	__u32 __reserved;
};

#define IOMMULAB_MOCK_SUBDEV_ALLOC _IO(IOMMUFD_TYPE, IOMMULAB_CMD_MOCK_SUBDEV_ALLOC)

/**
 * struct iommulab_aux_get_domain - ioctl(IOMMULAB_AUX_GET_DOMAIN)
 * @size: sizeof(struct iommulab_aux_get_domain)
 * @flags: must be 0
 * @dev_id: a sub-device: bound to this fd (its device ID), or plugged in
 *	    by this fd (its stdev ID: the parent driver's view)
 * @out_hwpt_id: the HWPT translating it, an ID of the fd it is bound to
 *		 (0 when software-mediated)
 * @out_pasid: the PASID its requests carry on the parent (0 when
 *	       software-mediated)
 * @out_path: enum iommulab_subdev_path
 * @out_parent_rid: its parent's requester ID
 * @__reserved: must be 0
 *
 * aux_get_domain_for_dev(sub-device), with the PASID that a parent driver
 * programs into its hardware for the sub-device (seed 002), for either
 * path. ENOENT for a bad @dev_id or a sub-device that is not attached;
 * EINVAL for a device that is not a sub-device.
 */
struct iommulab_aux_get_domain {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 out_hwpt_id;
	__u32 out_pasid;
	__u32 out_path;
	__u32 out_parent_rid;
	__u32 __reserved;
};

#define IOMMULAB_AUX_GET_DOMAIN _IO(IOMMUFD_TYPE, IOMMULAB_CMD_AUX_GET_DOMAIN)

/**
 * struct iommulab_mock_set_driver - ioctl(IOMMULAB_MOCK_SET_DRIVER)
 * @size: sizeof(struct iommulab_mock_set_driver)
 * @stdev_id: a mock device this fd plugged in
 * @bound: 1: a kernel driver binds to the device; 0: it unbinds
 * @__reserved: must be 0
 *
 * Simulates a kernel driver taking the device, which makes its group not
 * viable for user ownership. Refused with EBUSY while the group is owned
 * by an fd, as the kernel refuses a driver there.
 */
struct iommulab_mock_set_driver {
	__u32 size;
	__u32 stdev_id;
	__u32 bound;
	__u32 __reserved;
};

#define IOMMULAB_MOCK_SET_DRIVER _IO(IOMMUFD_TYPE, IOMMULAB_CMD_MOCK_SET_DRIVER)

/* IOMMULAB_MOCK_DMA flags */
#define IOMMULAB_DMA_WRITE (1 << 0)	/* the device writes memory */
#define IOMMULAB_DMA_PASID (1 << 1)	/* the request carries @pasid */
#define IOMMULAB_DMA_DEV_ID (1 << 2)	/* @rid holds a device or stdev ID */

/* Internal: a request without a PASID. */
#define IOMMULAB_NO_PASID 0xffffffffU

/**
 * enum iommulab_dma_fault - why a mock DMA stopped
 * @IOMMULAB_DMA_FAULT_NONE: it did not; every byte moved
 * @IOMMULAB_DMA_FAULT_BLOCKED: the device (or PASID) is in a blocked domain
 * @IOMMULAB_DMA_FAULT_NOT_MAPPED: no IOPTE (or outside the aperture)
 * @IOMMULAB_DMA_FAULT_PERMISSION: the IOPTE forbids the access
 * @IOMMULAB_DMA_FAULT_NO_PASID: no domain is attached to the PASID
 * @IOMMULAB_DMA_FAULT_PRQ_INVALID: a page request (IOMMULAB_MOCK_DEV_PRI)
 *	was answered IOMMUFD_PAGE_RESP_INVALID: by its handler, or for it
 *	when the queue's fd was closed, the queue destroyed, or the device
 *	left the HWPT
 * @IOMMULAB_DMA_FAULT_PRQ_TIMEOUT: a page request got no response within
 *	iopf_timeout_ms milliseconds (module parameter)
 * @IOMMULAB_DMA_FAULT_PRQ_FULL: the fault queue held iopf_queue_depth
 *	unanswered requests (module parameter): the request was not queued
 */
enum iommulab_dma_fault {
	IOMMULAB_DMA_FAULT_NONE = 0,
	IOMMULAB_DMA_FAULT_BLOCKED = 1,
	IOMMULAB_DMA_FAULT_NOT_MAPPED = 2,
	IOMMULAB_DMA_FAULT_PERMISSION = 3,
	IOMMULAB_DMA_FAULT_NO_PASID = 4,
	IOMMULAB_DMA_FAULT_PRQ_INVALID = 5,
	IOMMULAB_DMA_FAULT_PRQ_TIMEOUT = 6,
	IOMMULAB_DMA_FAULT_PRQ_FULL = 7,
};

/**
 * struct iommulab_mock_dma - ioctl(IOMMULAB_MOCK_DMA)
 * @size: sizeof(struct iommulab_mock_dma)
 * @flags: IOMMULAB_DMA_*
 * @rid: the device issuing the DMA, by requester ID; with
 *	 IOMMULAB_DMA_DEV_ID by this fd's ID of it instead (a bound device's
 *	 ID or a mock device's stdev ID). It must be one this fd plugged in
 *	 or bound (else ENOENT), and its group must be owned by this fd
 *	 (else EPERM): see "Who drives a device's DMA" below.
 * @pasid: with IOMMULAB_DMA_PASID, the PASID of the request. A
 *	   sub-device's requests carry its own PASID without the flag; with
 *	   it, @pasid is what its driver (perhaps a guest) tags the request
 *	   with: a vPASID of the binding fd's IOASID set, or a PASID. Unless
 *	   that names the sub-device's own PASID, the request faults
 *	   (IOMMULAB_DMA_FAULT_NO_PASID) without touching memory: the
 *	   parent's hardware puts the sub-device's PASID on its requests,
 *	   whatever its driver asks. A software-mediated sub-device takes
 *	   no PASID (EINVAL).
 * @iova: the address the device uses
 * @length: bytes, not 0, at most 64 MiB
 * @uptr: the data to write, or where read data goes
 * @out_done: bytes moved before the first fault
 * @out_fault_iova: the IOVA that faulted
 * @out_fault_reason: enum iommulab_dma_fault
 * @__reserved: must be 0
 * @out_max_iopte: the largest IOPTE (bytes) any translation of the request
 *		   went through: shows whether huge IOPTEs were used. Optional
 *		   (after the mandatory part), as later fields always are.
 *
 * The device's request is translated by its IOMMU, IOPTE by IOPTE, like
 * real DMA: it reaches pinned memory only through the domain attached to
 * its RID (or PASID), obeys the IOPTE permissions, sets the accessed and
 * (when tracking) dirty bits, and stops at the first fault without
 * touching the faulting page. A fault is not an error of the call: it
 * succeeds and reports it.
 *
 * Who drives a device's DMA: the fd that owns the device's group, and no
 * other. The creator (the fd that plugged the device in) plays the
 * hardware while it owns the group itself (it bound the device or a
 * sibling). Once another fd binds the device (or a sibling), that fd owns
 * the group and maps memory for the device; from then on only the owner
 * may make the device issue DMA, and the creator gets EPERM until the
 * group is given back. So no fd can make a device read or write memory
 * that another fd (perhaps another user) mapped for it.
 */
struct iommulab_mock_dma {
	__u32 size;
	__u32 flags;
	__u32 rid;
	__u32 pasid;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 uptr;
	__aligned_u64 out_done;
	__aligned_u64 out_fault_iova;
	__u32 out_fault_reason;
	__u32 __reserved;
	__aligned_u64 out_max_iopte;
};

#define IOMMULAB_MOCK_DMA _IO(IOMMUFD_TYPE, IOMMULAB_CMD_MOCK_DMA)

/**
 * struct iommulab_mock_dma_burst - ioctl(IOMMULAB_MOCK_DMA_BURST)
 * @size: sizeof(struct iommulab_mock_dma_burst)
 * @flags: IOMMULAB_DMA_WRITE, IOMMULAB_DMA_PASID, IOMMULAB_DMA_DEV_ID, as
 *	   for IOMMULAB_MOCK_DMA
 * @rid: the device, as for IOMMULAB_MOCK_DMA (same ownership rules)
 * @pasid: with IOMMULAB_DMA_PASID, the PASID of every request
 * @iovas_uptr: an array of @nr __u64 IOVAs, one request each
 * @nr: requests, 1 to 65536
 * @length: bytes per request, 1 to 4096
 * @value: writes: the byte every request writes, 0 to 255; reads: 0 (the
 *	   data read is dropped)
 * @__reserved: must be 0
 * @out_done: requests that completed whole, in array order
 * @out_fault_reason: enum iommulab_dma_fault of the request that stopped
 *		      the burst, 0 if none did
 * @out_fault_iova: the IOVA that faulted
 *
 * @nr requests of the device, issued one after the other as
 * IOMMULAB_MOCK_DMA issues one, each translated through the IOMMU (setting
 * accessed and, while tracking, dirty bits); the burst stops at the first
 * request that faults, which moved nothing from the faulting byte on. It
 * is how a test makes a device write a million random pages without a
 * million system calls. EINVAL for a bad @nr, @length or @value,
 * EOPNOTSUPP for @flags or @__reserved, EFAULT for @iovas_uptr, and the
 * IOMMULAB_MOCK_DMA errnos for the device.
 */
struct iommulab_mock_dma_burst {
	__u32 size;
	__u32 flags;
	__u32 rid;
	__u32 pasid;
	__aligned_u64 iovas_uptr;
	__u32 nr;
	__u32 length;
	__u32 value;
	__u32 __reserved;
	__u32 out_done;
	__u32 out_fault_reason;
	__aligned_u64 out_fault_iova;
};

#define IOMMULAB_MOCK_DMA_BURST _IO(IOMMUFD_TYPE, IOMMULAB_CMD_MOCK_DMA_BURST)

/*
 * Dirty tracking
 *
 * Upstream's half is in <iommulab/iommufd.h>, with upstream's rules:
 * IOMMU_HWPT_ALLOC_DIRTY_TRACKING (EOPNOTSUPP for a device whose IOMMU
 * cannot track; a device that cannot is EINVAL at attach to such a HWPT),
 * IOMMU_HW_CAP_DIRTY_TRACKING in IOMMU_GET_HW_INFO, IOMMU_HWPT_SET_DIRTY_
 * TRACKING (starting clears every dirty bit first) and IOMMU_HWPT_GET_
 * DIRTY_BITMAP. The mock IOMMU sets an IOPTE's dirty bit on each DMA write
 * through it while tracking is on (never on a read); a harvest reads and
 * clears each bit in one atomic step while DMA goes on, so a write racing
 * it is reported by it or by the next one, never lost. GET_DIRTY_BITMAP
 * of a HWPT whose tracking is stopped is EINVAL (as upstream's mock); the
 * bits it held at the stop wait for a read & unmap or the next start,
 * which clears them.
 *
 * The VFIO container on /dev/iommu has type1's VFIO_IOMMU_DIRTY_PAGES
 * (START, STOP, GET_BITMAP) and VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, with
 * type1's rules (<linux/vfio.h>: bits of the smallest IO page size, from
 * u64 words, whole mappings, holes allowed) on these same bits: START
 * starts every dirty-capable domain of the compatibility IOAS, and a
 * domain that cannot track, or does not now, reports every page it maps,
 * as does every mapping while an access is attached. README.md lists the
 * differences from type1.
 *
 * The bitmap rules, for GET_DIRTY_BITMAP and the calls below: bit i of the
 * user's bitmap (byte i / 8, bit i % 8; any byte alignment) stands for
 * [iova + i * page_size, + page_size). Bits are only ever set, never
 * cleared: the caller zeroes the bitmap. A dirty IOPTE sets the bit of
 * every page it overlaps, so a write through a 2 MiB IOPTE reports all 512
 * 4 KiB pages; page_size is a power of two, at least the smallest IOPTE of
 * the domain (EINVAL otherwise: upstream takes smaller ones too), and iova
 * and length are multiples of it and of the IOAS's IOVA alignment (EINVAL);
 * length is not 0 (EINVAL), iova + length does not wrap (EOVERFLOW), and
 * length / page_size is at most 2^31 bits (EINVAL). The range must be
 * mapped without a hole (EINVAL), and may start or end inside a mapping
 * or an IOPTE. Clearing only clears an IOPTE that lies whole inside the
 * range: one sticking out is reported for its part inside and stays dirty,
 * so the pages outside are not lost. The bitmap's pages are pinned for
 * writing before any bit is read or cleared, so a bad pointer is EFAULT
 * with nothing cleared.
 */

/**
 * struct iommulab_ioas_unmap_dirty - ioctl(IOMMULAB_IOAS_UNMAP_DIRTY)
 * @size: sizeof(struct iommulab_ioas_unmap_dirty)
 * @flags: must be 0
 * @ioas_id: the IOAS
 * @__reserved: must be 0
 * @iova: first IOVA to unmap; bit 0 of the bitmap
 * @length: bytes to unmap; the bitmap covers them
 * @page_size: bytes per bitmap bit
 * @data: the user's bitmap
 * @out_nr_dirty: bits set in the bitmap
 *
 * Read & unmap (seed 004): IOMMU_IOAS_UNMAP of [@iova, @iova + @length)
 * that also returns, in one call, which pages of the range any device
 * wrote through a dirty-capable HWPT of the IOAS since the last harvest
 * (the OR over those HWPTs; bits a stopped HWPT still holds included).
 * Each IOPTE is cleared and its dirty bit read in one atomic step, and the
 * call returns after the IOTLB flush, so a DMA write either completed
 * before and is reported, or faults after; no write can land unreported.
 *
 * The unmap rules of IOMMU_IOAS_UNMAP: a mapping only partly inside the
 * range, or no mapping in it, is ENOENT; pages an access still pins after
 * being told is EBUSY; then nothing is unmapped. The bitmap rules above,
 * except that the range may have holes (they read as clean). EINVAL if no
 * HWPT of the IOAS was allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
 * EOPNOTSUPP for @flags or @__reserved; on any error nothing changed.
 */
struct iommulab_ioas_unmap_dirty {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 page_size;
	__aligned_u64 data;
	__aligned_u64 out_nr_dirty;
};

#define IOMMULAB_IOAS_UNMAP_DIRTY _IO(IOMMUFD_TYPE, IOMMULAB_CMD_IOAS_UNMAP_DIRTY)

/**
 * struct iommulab_hwpt_iopte - ioctl(IOMMULAB_HWPT_SPLIT and _MERGE)
 * @size: sizeof(struct iommulab_hwpt_iopte)
 * @flags: must be 0
 * @hwpt_id: a paging HWPT (ENOENT for anything else)
 * @__reserved: must be 0
 * @iova: first IOVA of the range
 * @length: bytes in the range
 * @iopte_size: SPLIT: the IOPTE size to split down to, one the HWPT's
 *		domain supports; MERGE: must be 0
 * @out_iopte_before: IOPTEs intersecting the range before the call
 * @out_iopte_after: IOPTEs intersecting the range after it
 *
 * IOPTE split and merge (seed 004): before migration, split a range's
 * large IOPTEs down to @iopte_size, for dirty tracking at that
 * granularity (each new IOPTE inside the range has that size; the parts of
 * a split IOPTE outside the range get the largest sizes that fit); after
 * it, merge them back (every run of IOPTEs inside the range that maps
 * contiguous, suitably aligned memory with one permission becomes the
 * largest IOPTE the domain has for it). The translation is the same at
 * every instant: a DMA during a split goes on through the old or the new
 * IOPTE, and during a merge waits; neither ever faults or lands elsewhere.
 * Dirty state carries over: a split of a dirty IOPTE leaves every new one
 * dirty, a merge of any dirty IOPTE leaves a dirty one. A split allocates
 * every table page it needs first: ENOMEM changes nothing.
 *
 * EINVAL for @length 0, a range not aligned to the smallest IOPTE or
 * outside the domain's aperture, a bad @iopte_size; EOVERFLOW if the range
 * wraps; EOPNOTSUPP for @flags or @__reserved.
 */
struct iommulab_hwpt_iopte {
	__u32 size;
	__u32 flags;
	__u32 hwpt_id;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 iopte_size;
	__aligned_u64 out_iopte_before;
	__aligned_u64 out_iopte_after;
};

#define IOMMULAB_HWPT_SPLIT _IO(IOMMUFD_TYPE, IOMMULAB_CMD_HWPT_SPLIT)
#define IOMMULAB_HWPT_MERGE _IO(IOMMUFD_TYPE, IOMMULAB_CMD_HWPT_MERGE)

#endif
