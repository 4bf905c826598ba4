// SPDX-License-Identifier: GPL-2.0
// The benchmarks' dirty patterns (userspace/cli/dirty_pattern.hpp): the
// share asked for, in whole runs that start at a multiple of the run, and
// the same pages from the same seed.
#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "dirty_pattern.hpp"

using iommulab::dirty_pattern;
using iommulab::dirty_pattern_count;

namespace {

bool page_set(const std::vector<uint8_t> &map, uint64_t p)
{
	return (map[p / 8] >> (p % 8)) & 1;
}

} // namespace

TEST_CASE("a dirty pattern marks its share of the pages in whole aligned runs")
{
	constexpr uint64_t pages = 1 << 16;
	std::mt19937_64 rng(12);

	auto all = dirty_pattern(pages, 1000000, 1, rng);
	CHECK(dirty_pattern_count(all) == pages);
	CHECK(dirty_pattern_count(dirty_pattern(pages, 0, 1, rng)) == 0);

	auto spread = dirty_pattern(pages, 10000, 1, rng);
	CHECK(dirty_pattern_count(spread) == pages / 100);

	// 1% in runs of 16: 40 runs (655 pages rounded down to whole runs)
	auto runs = dirty_pattern(pages, 10000, 16, rng);
	CHECK(dirty_pattern_count(runs) == 40 * 16);
	for (uint64_t r = 0; r < pages / 16; r++) {
		unsigned n = 0;
		for (uint64_t p = r * 16; p < (r + 1) * 16; p++)
			n += page_set(runs, p);
		CHECK_MESSAGE((n == 0 || n == 16), "run ", r, " is cut: ", n);
	}

	std::mt19937_64 a(7), b(7);
	CHECK(dirty_pattern(pages, 1000, 16, a) == dirty_pattern(pages, 1000, 16, b));
}
