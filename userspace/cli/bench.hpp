// SPDX-License-Identifier: GPL-2.0
#pragma once

#include "iommulab.hpp"

namespace iommulab {

// Prints MAP/UNMAP throughput next to raw pinning, 4 KiB pages and THP.
void bench_map(const Iommufd &fd, uint64_t size, int reps);

} // namespace iommulab
