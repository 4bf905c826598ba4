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
	IOMMULAB_CMD_LAST = 0xdf,
};

/* Version of this header's ABI; bumped when a command is added. */
#define IOMMULAB_ABI_VERSION 1

/**
 * enum iommulab_features - what this module implements
 * @IOMMULAB_FEATURE_IOAS: IOAS objects
 * @IOMMULAB_FEATURE_OPTION: IOMMU_OPTION (RLIMIT_MODE, HUGE_PAGES)
 */
enum iommulab_features {
	IOMMULAB_FEATURE_IOAS = 1 << 0,
	IOMMULAB_FEATURE_OPTION = 1 << 1,
};

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

#endif
