// SPDX-License-Identifier: GPL-2.0
#pragma once

#include "iommulab.hpp"

namespace iommulab {

// Prints MAP/UNMAP throughput next to raw pinning, 4 KiB pages and THP.
void bench_map(const Iommufd &fd, uint64_t size, int reps);

// Prints the cost of one attach and one detach by the PASID attach path
// and by the aux-domain path, on one device.
void bench_paths(const Iommufd &fd, int rounds);

} // namespace iommulab
