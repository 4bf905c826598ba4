// SPDX-License-Identifier: GPL-2.0
#pragma once

#include "iommulab.hpp"

namespace iommulab {

// Prints MAP/UNMAP throughput next to raw pinning, 4 KiB pages and THP.
void bench_map(const Iommufd &fd, uint64_t size, int reps);

// Prints the cost of one attach and one detach by the PASID attach path
// and by the aux-domain path, on one device.
void bench_paths(const Iommufd &fd, int rounds);

// Prints the cost of a dirty-bitmap harvest (GET_DIRTY_BITMAP) of @gib GiB
// of 4 KiB IOPTEs at 100%, 1%, 0.1% (pages at random, and in 64 KiB runs)
// and 0% dirty, next to a plain read of the same IOPTEs, @reps repetitions
// each (median), and the ratios against issue 12's targets.
void bench_dirty(const Iommufd &fd, uint64_t gib, int reps);

} // namespace iommulab
