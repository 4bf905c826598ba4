// SPDX-License-Identifier: GPL-2.0
// I/O page table: the dirty summary bits of table entries (iolab_pt.h).
//
// A harvest skips every group of a table whose summary bit is clear, so
// the rule "a dirty leaf has its summary bits set up to the top" is what
// keeps a harvest from losing a bit. summary_violation() (pt_harness.h)
// checks the rule on the raw table; the randomized model test checks it
// after every operation. Here: the bits a write sets and a harvest clears,
// that the harvest really skips (a leaf made dirty behind a clear summary
// is not seen), split and merge, and the plain read of the bench.
#include <random>
#include <set>

#include "pt_harness.h"

using namespace ptt;

namespace {

// Mark @iova's leaf dirty behind the library's back: no summary bit.
void raw_set_dirty(Table &t, u64 iova)
{
	u64 *table = t.pt.top;

	for (unsigned int lvl = t.pt.top_level;; lvl--) {
		u64 *e = &table[(iova / t.L(lvl)) % IOLAB_PT_ENTRIES];

		if (*e & IOLAB_PTE_LEAF) {
			*e |= IOLAB_PTE_DIRTY;
			return;
		}
		REQUIRE(lvl > 0);
		table = reinterpret_cast<u64 *>(static_cast<uintptr_t>(*e & IOLAB_PTE_TABLE_MASK));
	}
}

u64 harvest(Table &t, u64 iova, u64 len, bool clear, std::vector<u64> *bits = nullptr)
{
	DirtyWindow w(iova, len, t.L(0));

	REQUIRE(iolab_pt_read_dirty(&t.pt, iova, len, clear, &w.d) == 0);
	if (bits)
		*bits = w.set();
	return w.d.nr_dirty;
}

} // namespace

TEST_CASE("a write sets one summary bit per level above its leaf, a clearing harvest clears them")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1), len = 4 * L1;

		// output addresses that keep every leaf small
		REQUIRE(t.map(0, L0, len) == 0);
		REQUIRE(summary_bits(t.pt) == 0);
		REQUIRE(t.touch(L1 + 37 * L0) == 0);
		CHECK(summary_bits(t.pt) == t.pt.top_level);
		CHECK(summary_violation(t.pt) == ~0ULL);
		// a read, or a write without tracking, sets nothing
		REQUIRE(t.touch(3 * L0, false) == 0);
		REQUIRE(t.touch(5 * L0, true, false) == 0);
		CHECK(summary_bits(t.pt) == t.pt.top_level);
		// a second write in the same group adds no bit
		REQUIRE(t.touch(L1 + 40 * L0) == 0);
		CHECK(summary_bits(t.pt) == t.pt.top_level);
		REQUIRE(iolab_pt_set_dirty(&t.pt, 2 * L1 + 400 * L0) == 0);
		CHECK(summary_violation(t.pt) == ~0ULL);

		std::vector<u64> bits;
		CHECK(harvest(t, 0, len, false, &bits) == 3);
		CHECK(bits == std::vector<u64>{ 512 + 37, 512 + 40, 1024 + 400 });
		CHECK(summary_bits(t.pt) > 0); // NO_CLEAR leaves them
		CHECK(harvest(t, 0, len, true) == 3);
		// the top table's entry spans more than the range: it keeps its bit
		CHECK(summary_bits(t.pt) == (t.pt.top_level > 1 ? t.pt.top_level - 1 : 0));
		CHECK(harvest(t, 0, len, true) == 0);
	}
}

TEST_CASE("a harvest skips a group whose summary bit is clear")
{
	// Proof that the skipping happens (and so that the summary must be
	// right): a DIRTY bit set without its summary is not reported, while
	// walk_leaves, which reads every leaf, sees it.
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1);

		REQUIRE(t.map(0, L0, 2 * L1) == 0);
		raw_set_dirty(t, 100 * L0);
		CHECK(summary_violation(t.pt) == 100 * L0);
		CHECK((t.flags_at(100 * L0) & IOLAB_PT_DIRTY) != 0);
		CHECK(harvest(t, 0, 2 * L1, true) == 0);
		// a real write in the same group makes the group read again
		REQUIRE(t.touch(101 * L0) == 0);
		std::vector<u64> bits;
		CHECK(harvest(t, 0, 2 * L1, true, &bits) == 2);
		CHECK(bits == std::vector<u64>{ 100, 101 });
		CHECK(summary_violation(t.pt) == ~0ULL);
	}
}

TEST_CASE("a harvest of part of a group keeps the group's summary bit")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1);

		REQUIRE(t.map(0, L0, L1) == 0);
		REQUIRE(t.touch(3 * L0) == 0);
		REQUIRE(t.touch(20 * L0) == 0);
		// pages 0-9 only: page 20 (same group) must stay findable
		CHECK(harvest(t, 0, 10 * L0, true) == 1);
		CHECK(summary_violation(t.pt) == ~0ULL);
		std::vector<u64> bits;
		CHECK(harvest(t, 0, L1, true, &bits) == 1);
		CHECK(bits == std::vector<u64>{ 20 });
		// a harvest window of larger pages goes the general way
		REQUIRE(t.touch(70 * L0) == 0);
		DirtyWindow w(0, L1, 64 * L0);
		REQUIRE(iolab_pt_read_dirty(&t.pt, 0, L1, true, &w.d) == 0);
		CHECK(w.set() == std::vector<u64>{ 1 });
		CHECK(harvest(t, 0, L1, true) == 0);
	}
}

TEST_CASE("split and merge keep the summary of dirty leaves")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1), L2 = t.L(2);

		// big leaves: output aligned to L1
		REQUIRE(t.map(0, L2, 4 * L1) == 0);
		REQUIRE(t.stats().nr_leaves[1] == 4);
		REQUIRE(t.touch(L1 + 5) == 0);
		REQUIRE(iolab_pt_split(&t.pt, 0, 4 * L1, L0) == 0);
		REQUIRE(t.stats().nr_leaves[0] == 4 * 512);
		CHECK(summary_violation(t.pt) == ~0ULL);
		CHECK(harvest(t, 0, 4 * L1, false) == 512);
		CHECK(harvest(t, 0, 4 * L1, true) == 512);
		REQUIRE(t.touch(2 * L1 + 9 * L0) == 0);
		REQUIRE(iolab_pt_merge(&t.pt, 0, 4 * L1) == 0);
		REQUIRE(t.stats().nr_leaves[1] == 4);
		CHECK(summary_violation(t.pt) == ~0ULL);
		std::vector<u64> bits;
		CHECK(harvest(t, 0, 4 * L1, true, &bits) == 512);
		CHECK(bits.front() == 1024);
	}
}

TEST_CASE("random writes, harvests of random ranges, splits and merges lose no dirty page")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1), pages = 8 * 512, len = pages * L0;
		std::mt19937_64 rng(7);
		std::set<u64> dirty; // pages written and not yet reported
		bool merged[8] = {}; // block b is one big leaf

		REQUIRE(t.map(0, L1, len) == 0); // L1-aligned output: big leaves
		REQUIRE(iolab_pt_split(&t.pt, 0, len, L0) == 0);
		for (int step = 0; step < 3000; step++) {
			CAPTURE(step);
			unsigned int r = rng() % 100;

			if (r < 60) {
				u64 p = rng() % pages;

				REQUIRE(t.touch(p * L0) == 0);
				if (merged[p / 512])
					for (u64 q = p / 512 * 512; q < (p / 512 + 1) * 512; q++)
						dirty.insert(q);
				else
					dirty.insert(p);
			} else if (r < 85) {
				u64 a = rng() % pages, b = rng() % pages;
				u64 first = std::min(a, b), last = std::max(a, b);
				std::vector<u64> bits;

				// a big leaf cut by the range would stay dirty: take it whole
				if (merged[first / 512])
					first = first / 512 * 512;
				if (merged[last / 512])
					last = last / 512 * 512 + 511;

				harvest(t, first * L0, (last - first + 1) * L0, true, &bits);
				std::set<u64> want(dirty.lower_bound(first),
						   dirty.upper_bound(last));
				std::set<u64> got;
				for (u64 bit : bits)
					got.insert(first + bit); // bits count from the window
				REQUIRE(got == want);
				for (u64 p : want)
					dirty.erase(p);
			} else if (r < 93) {
				u64 b = rng() % 8;

				// a merged dirty leaf stands for all its pages
				REQUIRE(iolab_pt_merge(&t.pt, b * L1, L1) == 0);
				merged[b] = true;
				if (dirty.lower_bound(b * 512) != dirty.lower_bound((b + 1) * 512))
					for (u64 p = b * 512; p < (b + 1) * 512; p++)
						dirty.insert(p);
			} else {
				u64 b = rng() % 8;

				REQUIRE(iolab_pt_split(&t.pt, b * L1, L1, L0) == 0);
				merged[b] = false;
			}
			REQUIRE(summary_violation(t.pt) == ~0ULL);
		}
		std::vector<u64> bits;
		harvest(t, 0, len, true, &bits);
		CHECK(std::set<u64>(bits.begin(), bits.end()) == dirty);
	}
}

TEST_CASE("read_leaves reads every leaf of the range and changes nothing")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1);
		u64 n = 0;

		REQUIRE(t.map(0, L0, 3 * L1) == 0);
		REQUIRE(t.map(4 * L1, 4 * L1, 2 * L1) == 0); // two big leaves
		REQUIRE(t.touch(7 * L0) == 0);
		auto before = t.dump();
		REQUIRE(iolab_pt_read_leaves(&t.pt, 0, 8 * L1, &n) == 0);
		CHECK(n == 3 * 512 + 2);
		REQUIRE(iolab_pt_read_leaves(&t.pt, L0, 2 * L0, &n) == 0);
		CHECK(n == 2);
		CHECK(t.dump() == before);
		CHECK(iolab_pt_read_leaves(&t.pt, 0, 0, &n) == -EINVAL);
	}
}
