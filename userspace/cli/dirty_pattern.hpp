// SPDX-License-Identifier: GPL-2.0
// Which pages a dirty-harvest benchmark marks: `bench dirty` in the VM
// (cli/bench.cpp) and iommulab-ptbench on the host (bench/ptbench.cpp) use
// the same patterns, so their rows can be compared.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace iommulab {

// A bitmap (bit i of byte i / 8: page i) of @pages pages with
// @per_million of them set, in runs of @run pages that start at a multiple
// of @run, the runs chosen at random from @rng without repeats: @run 1 is
// pages spread at random, the worst case for skipping clean tables; a
// longer run is memory written in pieces, as a guest's working set is.
// @pages must be a multiple of @run.
inline std::vector<uint8_t> dirty_pattern(uint64_t pages, uint64_t per_million,
					  uint64_t run, std::mt19937_64 &rng)
{
	std::vector<uint8_t> map((pages + 7) / 8, 0);
	const uint64_t runs = pages / run;
	const uint64_t want = pages * per_million / 1000000 / run;

	if (want == runs) {
		for (uint64_t p = 0; p < pages; p++)
			map[p / 8] |= 1 << (p % 8);
		return map;
	}
	std::vector<bool> taken(runs);
	for (uint64_t n = 0; n < want;) {
		uint64_t r = rng() % runs;

		if (taken[r])
			continue;
		taken[r] = true;
		n++;
		for (uint64_t p = r * run; p < (r + 1) * run; p++)
			map[p / 8] |= 1 << (p % 8);
	}
	return map;
}

// The rows of both benchmarks: a name, the dirty pages per million, and
// the run length dirty_pattern() places them in. The 0.1% share comes
// three ways: pages at random, and the same share in runs of 16 KiB and
// of 64 KiB; the ROW_ constants name the rows the targets compare.
struct DirtyRow {
	const char *name;
	uint64_t per_million;
	uint64_t run;
};

inline constexpr DirtyRow DIRTY_ROWS[] = {
	{"harvest 100% dirty", 1000000, 1},
	{"harvest 1% dirty", 10000, 1},
	{"harvest 0.1% dirty", 1000, 1},
	{"  0.1%, in 16 KiB runs", 1000, 4},
	{"  0.1%, in 64 KiB runs", 1000, 16},
	{"harvest 0% (clean)", 0, 1},
};
inline constexpr int ROW_ALL = 0, ROW_RANDOM = 2, ROW_RUNS_16K = 3,
		     ROW_RUNS_64K = 4;

// The pages set in @map.
inline uint64_t dirty_pattern_count(const std::vector<uint8_t> &map)
{
	uint64_t n = 0;

	for (uint8_t b : map)
		n += __builtin_popcount(b);
	return n;
}

} // namespace iommulab
