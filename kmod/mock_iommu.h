/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommulab: the mock IOMMU's devices, as the test ops (selftest.c,
 * mock_hw.c) and the device code (device.c) create and drive them. The
 * core reaches the IOMMU itself only through iommu_driver.h.
 */
#ifndef _IOMMULAB_MOCK_IOMMU_H
#define _IOMMULAB_MOCK_IOMMU_H

#include <linux/atomic.h>
#include <linux/rwsem.h>
#include <linux/xarray.h>

#include "iommu_driver.h"

/**
 * struct mock_hwdev - a mock PCI-like device and its IOMMU context
 * @dev: what the core sees
 * @flags: MOCK_FLAGS_DEVICE_* and IOMMULAB_MOCK_DEV_*
 * @ctx_rwsem: protects @rid_domain and @pasids (see mock_iommu.c)
 * @rid_domain: the domain translating requests without a PASID
 * @pasids: the device's PASID table: PASID -> the domain translating
 *	    requests with that PASID; a PASID with no entry faults
 * @pasid_reserved_armed: upstream's selftest trick for
 *			  IOMMU_TEST_PASID_RESERVED: set by one attach of
 *			  that PASID, it makes the next one fail (ENOMEM),
 *			  so a failing replace can be tested
 */
struct mock_hwdev {
	struct iolab_hwdev dev;
	u32 flags;
	struct rw_semaphore ctx_rwsem;
	struct iolab_domain *rid_domain;
	struct xarray pasids;
	atomic_t pasid_reserved_armed;
};

/**
 * struct iolab_dma_result - what one mock DMA request did
 * @done: bytes moved
 * @fault_iova: the IOVA that faulted
 * @fault_reason: enum iommulab_dma_fault
 * @max_iopte: largest IOPTE a translation of the request used
 */
struct iolab_dma_result {
	u64 done;
	u64 fault_iova;
	u32 fault_reason;
	u64 max_iopte;
};

/* The domain that blocks every DMA, shared by every mock device. */
extern struct iolab_domain iolab_mock_blocked_domain;

struct mock_hwdev *iolab_mock_hwdev_create(u32 flags);
void iolab_mock_hwdev_destroy(struct mock_hwdev *mdev);
void iolab_mock_dma(struct mock_hwdev *mdev, u32 pasid, u64 iova, void *buf,
		    u64 len, bool write, struct iolab_dma_result *res);
int iolab_mock_nested_iotlb(struct iolab_domain *domain, u32 id, u32 *val);
int iolab_mock_domain_set_dirty(struct iolab_domain *domain, u64 iova,
				u64 page_size, const unsigned long *bitmap,
				u64 nbits, u64 *count);
int iolab_mock_domain_read_ioptes(struct iolab_domain *domain, u64 iova,
				  u64 len, u64 *nr_leaves);
bool iolab_mock_domain_tracking(struct iolab_domain *domain);

#endif
