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
	IOMMULAB_CMD_LAST = 0xdf,
};

/* Version of this header's ABI; bumped when a command is added. */
#define IOMMULAB_ABI_VERSION 2

/**
 * enum iommulab_features - what this module implements
 * @IOMMULAB_FEATURE_IOAS: IOAS objects
 * @IOMMULAB_FEATURE_OPTION: IOMMU_OPTION (RLIMIT_MODE, HUGE_PAGES)
 * @IOMMULAB_FEATURE_IOAS_MAP: IOAS_MAP/UNMAP/COPY/IOVA_RANGES/ALLOW_IOVAS
 * @IOMMULAB_FEATURE_TEST_ACCESS: IOMMU_TEST_CMD access and memory ops
 */
enum iommulab_features {
	IOMMULAB_FEATURE_IOAS = 1 << 0,
	IOMMULAB_FEATURE_OPTION = 1 << 1,
	IOMMULAB_FEATURE_IOAS_MAP = 1 << 2,
	IOMMULAB_FEATURE_TEST_ACCESS = 1 << 3,
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
};

#define IOMMULAB_GET_INFO _IO(IOMMUFD_TYPE, IOMMULAB_CMD_GET_INFO)

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

#endif
