// SPDX-License-Identifier: GPL-2.0
// The CLI's summary of a dirty bitmap: how many pages are dirty, and the
// dirty IOVA ranges with runs of pages compressed ("0x1000-0x3fff (3
// pages)"), at most a given number of ranges. Pure, so the native unit
// tests check it (tests/unit/dirty_summary_test.cpp).
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace iommulab::cli {

// One run of dirty pages: [first, last] are byte addresses.
struct DirtyRange {
	uint64_t first;
	uint64_t last;
	uint64_t pages;
};

// The runs of set bits of @bytes (bit i: byte i / 8, bit i % 8), the first
// @nbits of them; bit i stands for [@iova + i * @page_size, + @page_size).
inline std::vector<DirtyRange> dirty_ranges(const std::vector<uint8_t> &bytes,
					    uint64_t nbits, uint64_t iova,
					    uint64_t page_size)
{
	std::vector<DirtyRange> out;
	auto test = [&bytes](uint64_t i) { return bytes[i / 8] >> (i % 8) & 1; };

	for (uint64_t i = 0; i < nbits;) {
		if (!test(i)) {
			i++;
			continue;
		}
		uint64_t j = i;
		while (j + 1 < nbits && test(j + 1))
			j++;
		out.push_back({iova + i * page_size,
			       iova + (j + 1) * page_size - 1, j - i + 1});
		i = j + 1;
	}
	return out;
}

inline std::string pages_word(uint64_t n)
{
	return std::to_string(n) + (n == 1 ? " page" : " pages");
}

// The summary lines: "N of M pages dirty", then one line per range, at most
// @max_ranges of them and a last line for the rest.
inline std::vector<std::string>
dirty_summary(const std::vector<uint8_t> &bytes, uint64_t nbits, uint64_t iova,
	      uint64_t page_size, size_t max_ranges)
{
	std::vector<std::string> lines;
	std::vector<DirtyRange> ranges = dirty_ranges(bytes, nbits, iova,
						      page_size);
	uint64_t dirty = 0;

	for (const DirtyRange &r : ranges)
		dirty += r.pages;
	lines.push_back(std::to_string(dirty) + " of " + pages_word(nbits) +
			" dirty");
	for (size_t i = 0; i < ranges.size() && i < max_ranges; i++) {
		std::ostringstream l;
		l << "0x" << std::hex << ranges[i].first << "-0x"
		  << ranges[i].last << std::dec << " ("
		  << pages_word(ranges[i].pages) << ")";
		lines.push_back(l.str());
	}
	if (ranges.size() > max_ranges) {
		uint64_t rest = 0;
		for (size_t i = max_ranges; i < ranges.size(); i++)
			rest += ranges[i].pages;
		lines.push_back("... " + std::to_string(ranges.size() - max_ranges) +
				" more ranges (" + pages_word(rest) + ")");
	}
	return lines;
}

} // namespace iommulab::cli
