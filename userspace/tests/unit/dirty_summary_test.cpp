// SPDX-License-Identifier: GPL-2.0
// The CLI's dirty-bitmap summary (userspace/cli/dirty_summary.hpp): runs of
// dirty pages become ranges, the count is every bit set, output is capped.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "dirty_summary.hpp"

using iommulab::cli::dirty_summary;

namespace {

std::vector<uint8_t> bits_of(uint64_t nbits, const std::vector<uint64_t> &set)
{
	std::vector<uint8_t> b((nbits + 7) / 8);
	for (uint64_t i : set)
		b[i / 8] |= uint8_t(1u << (i % 8));
	return b;
}

} // namespace

TEST_CASE("a dirty summary compresses runs of pages into ranges")
{
	// Bits 1-3 (crossing no byte), 7-9 (crossing a byte), 15 (last).
	auto b = bits_of(16, {1, 2, 3, 7, 8, 9, 15});
	auto l = dirty_summary(b, 16, 0x1000000, 0x1000, 16);
	REQUIRE(l.size() == 4);
	CHECK(l[0] == "7 of 16 pages dirty");
	CHECK(l[1] == "0x1001000-0x1003fff (3 pages)");
	CHECK(l[2] == "0x1007000-0x1009fff (3 pages)");
	CHECK(l[3] == "0x100f000-0x100ffff (1 page)");
}

TEST_CASE("a dirty summary of a clean bitmap is one line; of a full one, one range")
{
	auto clean = dirty_summary(bits_of(10, {}), 10, 0, 4096, 16);
	CHECK(clean == std::vector<std::string>{"0 of 10 pages dirty"});
	// Bits past nbits in the last byte are not counted.
	auto b = bits_of(16, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
	auto full = dirty_summary(b, 10, 0x2000, 0x2000, 16);
	CHECK(full == std::vector<std::string>{"10 of 10 pages dirty",
					       "0x2000-0x15fff (10 pages)"});
}

TEST_CASE("a dirty summary shows at most the ranges asked for and counts the rest")
{
	auto b = bits_of(20, {0, 2, 4, 6, 8, 9});
	auto l = dirty_summary(b, 20, 0, 4096, 2);
	CHECK(l == std::vector<std::string>{"6 of 20 pages dirty",
					    "0x0-0xfff (1 page)",
					    "0x2000-0x2fff (1 page)",
					    "... 3 more ranges (4 pages)"});
	CHECK(dirty_summary(b, 20, 0, 4096, 0).size() == 2);
}
