// SPDX-License-Identifier: GPL-2.0
// I/O page table: dirty harvesting (read & clear, read & unmap).
#include "pt_harness.h"
#include <random>

using namespace ptt;

namespace {

using Bits = std::vector<u64>;

Bits range(u64 first, u64 n)
{
	Bits v;

	for (u64 i = 0; i < n; i++)
		v.push_back(first + i);
	return v;
}

} // namespace

TEST_CASE("read_dirty reports exactly the written pages, with or without clearing")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), base = 5 * t.L(1) + 3 * L0;

		REQUIRE(t.map(base, 0, 64 * L0) == 0);
		for (u64 page : { 1, 5, 9, 63 })
			REQUIRE(t.touch(base + page * L0 + 17) == 0);
		REQUIRE(t.touch(base + 7 * L0, false) == 0); // a read
		REQUIRE(t.touch(base + 8 * L0, true, false) == 0); // untracked

		DirtyWindow a(base, 64 * L0, L0);
		REQUIRE(iolab_pt_read_dirty(&t.pt, base, 64 * L0, false, &a.d) == 0);
		CHECK(a.set() == Bits{ 1, 5, 9, 63 });
		CHECK(a.d.nr_dirty == 4);

		DirtyWindow b(base, 64 * L0, L0);
		REQUIRE(iolab_pt_read_dirty(&t.pt, base, 64 * L0, true, &b.d) == 0);
		CHECK(b.set() == Bits{ 1, 5, 9, 63 });
		CHECK(b.d.nr_dirty == 4);

		DirtyWindow c(base, 64 * L0, L0);
		REQUIRE(iolab_pt_read_dirty(&t.pt, base, 64 * L0, true, &c.d) == 0);
		CHECK(c.set().empty());
		CHECK(c.d.nr_dirty == 0);
		// ACCESSED survives the harvest
		CHECK(t.flags_at(base + 5 * L0) == (IOLAB_PT_READ | IOLAB_PT_WRITE | IOLAB_PT_ACCESSED));

		// a new write is reported by the next harvest
		REQUIRE(t.touch(base + 5 * L0) == 0);
		DirtyWindow e(base, 64 * L0, L0);
		REQUIRE(iolab_pt_read_dirty(&t.pt, base, 64 * L0, true, &e.d) == 0);
		CHECK(e.set() == Bits{ 5 });
	}
}

TEST_CASE("read_dirty of a sub-range clears only the leaves it reports")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0);

		REQUIRE(t.map(0, 0, 16 * L0) == 0);
		for (u64 page = 0; page < 16; page++)
			REQUIRE(t.touch(page * L0) == 0);

		DirtyWindow w(0, 16 * L0, L0);
		REQUIRE(iolab_pt_read_dirty(&t.pt, 4 * L0, 4 * L0, true, &w.d) == 0);
		CHECK(w.set() == range(4, 4));

		DirtyWindow all(0, 16 * L0, L0);
		REQUIRE(iolab_pt_read_dirty(&t.pt, 0, 16 * L0, false, &all.d) == 0);
		Bits expect = range(0, 4);
		for (u64 i = 8; i < 16; i++)
			expect.push_back(i);
		CHECK(all.set() == expect);
		CHECK(all.d.nr_dirty == 12);
	}
}

TEST_CASE("a dirty big leaf reports every page it maps")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1);

		REQUIRE(t.map(2 * L1, 2 * L1, L1) == 0);
		REQUIRE(t.touch(2 * L1 + 100 * L0 + 5) == 0);

		SUBCASE("a window of the whole leaf")
		{
			DirtyWindow w(2 * L1, L1, L0);
			REQUIRE(iolab_pt_read_dirty(&t.pt, 2 * L1, L1, true, &w.d) == 0);
			CHECK(w.set() == range(0, 512));
			CHECK(w.d.nr_dirty == 512);
		}
		SUBCASE("a range that starts inside the leaf, unaligned")
		{
			DirtyWindow w(2 * L1, L1, L0);
			REQUIRE(iolab_pt_read_dirty(&t.pt, 2 * L1 + 300 * L0 + 123, 1, true, &w.d) == 0);
			CHECK(w.set() == range(0, 512));
		}
		SUBCASE("a window over part of the leaf gets its part, and the leaf stays dirty")
		{
			DirtyWindow w(2 * L1 + 8 * L0, 8 * L0, L0);
			REQUIRE(iolab_pt_read_dirty(&t.pt, 2 * L1 + 9 * L0 + 1, 2 * L0, true, &w.d) == 0);
			CHECK(w.set() == range(0, 8));
			CHECK(w.d.nr_dirty == 8);
			CHECK((t.flags_at(2 * L1) & IOLAB_PT_DIRTY) != 0);
			/* A window of the whole leaf then reports and clears it all */
			DirtyWindow all(2 * L1, L1, L0);
			REQUIRE(iolab_pt_read_dirty(&t.pt, 2 * L1, L1, true, &all.d) == 0);
			CHECK(all.set() == range(0, 512));
			CHECK(!(t.flags_at(2 * L1) & IOLAB_PT_DIRTY));
		}
		SUBCASE("a window wider than the leaf")
		{
			DirtyWindow w(L1, 3 * L1, L0);
			REQUIRE(iolab_pt_read_dirty(&t.pt, L1, 3 * L1, false, &w.d) == 0);
			CHECK(w.set() == range(512, 512));
		}
	}
}

TEST_CASE("read_dirty with bitmap pages smaller or larger than the leaves")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1);

		REQUIRE(t.map(0, 0, 32 * L0) == 0);
		REQUIRE(t.map(L1, L1, L1) == 0);
		REQUIRE(t.touch(0) == 0);
		REQUIRE(t.touch(5 * L0 + 1) == 0);
		REQUIRE(t.touch(6 * L0 + 1) == 0);
		REQUIRE(t.touch(L1 + L1 / 2) == 0);

		SUBCASE("page_size half a leaf: each leaf sets two bits")
		{
			DirtyWindow w(0, 32 * L0, L0 / 2);
			REQUIRE(iolab_pt_read_dirty(&t.pt, 0, 32 * L0, false, &w.d) == 0);
			CHECK(w.set() == Bits{ 0, 1, 10, 11, 12, 13 });
			CHECK(w.d.nr_dirty == 6);
		}
		SUBCASE("page_size four leaves: dirty leaves share bits")
		{
			DirtyWindow w(0, 32 * L0, 4 * L0);
			REQUIRE(iolab_pt_read_dirty(&t.pt, 0, 32 * L0, true, &w.d) == 0);
			CHECK(w.set() == Bits{ 0, 1 });
			CHECK(w.d.nr_dirty == 2);
		}
		SUBCASE("page_size the big leaf: one bit per dirty range of it")
		{
			DirtyWindow w(0, 4 * L1, L1);
			REQUIRE(iolab_pt_read_dirty(&t.pt, 0, 4 * L1, true, &w.d) == 0);
			CHECK(w.set() == Bits{ 0, 1 });
			CHECK(w.d.nr_dirty == 2);
		}
		SUBCASE("page_size larger than the whole table range")
		{
			DirtyWindow w(0, 1ULL << 40, 1ULL << 40);
			REQUIRE(iolab_pt_read_dirty(&t.pt, 0, 4 * L1, true, &w.d) == 0);
			CHECK(w.set() == Bits{ 0 });
			CHECK(w.d.nr_dirty == 1);
		}
		SUBCASE("the count accumulates only newly set bits")
		{
			DirtyWindow w(0, 32 * L0, L0);
			REQUIRE(iolab_pt_read_dirty(&t.pt, 0, 32 * L0, false, &w.d) == 0);
			REQUIRE(iolab_pt_read_dirty(&t.pt, 0, 32 * L0, false, &w.d) == 0);
			CHECK(w.d.nr_dirty == 3);
		}
	}
}

TEST_CASE("read_dirty refuses a bad window and changes nothing")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0);

		REQUIRE(t.map(0, 0, 8 * L0) == 0);
		REQUIRE(t.touch(L0) == 0);

		DirtyWindow w(0, 8 * L0, L0);
		CHECK(iolab_pt_read_dirty(&t.pt, 0, 0, true, &w.d) == -EINVAL);
		CHECK(iolab_pt_read_dirty(&t.pt, 0, 9 * L0, true, &w.d) == -EINVAL);
		CHECK(iolab_pt_read_dirty(&t.pt, 1ULL << 48, 1, true, &w.d) == -ERANGE);
		CHECK(iolab_pt_read_dirty(&t.pt, 5, ~0ULL, true, &w.d) == -ERANGE);
		w.d.page_size = 3 * L0;
		CHECK(iolab_pt_read_dirty(&t.pt, 0, 8 * L0, true, &w.d) == -EINVAL);
		w.d.page_size = 0;
		CHECK(iolab_pt_read_dirty(&t.pt, 0, 8 * L0, true, &w.d) == -EINVAL);
		w.d.page_size = L0;
		w.d.iova = 1;
		CHECK(iolab_pt_read_dirty(&t.pt, 1, 4 * L0, true, &w.d) == -EINVAL);
		w.d.iova = 0;
		w.d.length = L0 + 1;
		CHECK(iolab_pt_read_dirty(&t.pt, 0, L0, true, &w.d) == -EINVAL);
		CHECK(w.set().empty());
		CHECK((t.flags_at(L0) & IOLAB_PT_DIRTY) != 0);
		// unmap with a bad window removes nothing
		CHECK(t.unmap(0, 8 * L0, &w.d) == 0);
		CHECK(t.dump().size() == 8);
	}
}

TEST_CASE("read & unmap reports the dirty bits of the leaves it removes")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1);

		REQUIRE(t.map(0, 0, 16 * L0) == 0);
		REQUIRE(t.map(L1, L1, L1) == 0);
		REQUIRE(t.touch(3 * L0) == 0);
		REQUIRE(t.touch(15 * L0) == 0);
		REQUIRE(t.touch(L1 + 1) == 0);

		SUBCASE("everything")
		{
			DirtyWindow w(0, 2 * L1, L0);
			CHECK(t.unmap(0, 2 * L1, &w.d) == 16 * L0 + L1);
			Bits expect{ 3, 15 };
			for (u64 i = 512; i < 1024; i++)
				expect.push_back(i);
			CHECK(w.set() == expect);
			CHECK(w.d.nr_dirty == 514);
			CHECK(t.tables() == 1);
		}
		SUBCASE("a partial unmap reports only what it removed")
		{
			DirtyWindow w(0, 2 * L1, L0);
			CHECK(t.unmap(0, 8 * L0, &w.d) == 8 * L0);
			CHECK(w.set() == Bits{ 3 });
			// the rest is still there and still dirty
			DirtyWindow r(0, 2 * L1, L0);
			REQUIRE(iolab_pt_read_dirty(&t.pt, 0, 2 * L1, false, &r.d) == 0);
			CHECK(r.d.nr_dirty == 1 + 512);
		}
		SUBCASE("a page mapped again starts clean")
		{
			DirtyWindow w(0, 16 * L0, L0);
			CHECK(t.unmap(0, 16 * L0, &w.d) == 16 * L0);
			REQUIRE(t.map(0, 0, 16 * L0) == 0);
			DirtyWindow r(0, 16 * L0, L0);
			REQUIRE(iolab_pt_read_dirty(&t.pt, 0, 16 * L0, false, &r.d) == 0);
			CHECK(r.set().empty());
		}
	}
}

// A level 0 table is harvested three ways: NO_CLEAR reads it without a
// lock, a clearing harvest of a table with one or two dirty groups clears
// bit by bit without the leaf lock, one with more clears under the lock with
// plain stores. Each must report and clear exactly the written pages, and
// leave ACCESSED and the clean entries as they were.
TEST_CASE("read_dirty of sparse, dense and full level 0 tables, and of a one-level table")
{
	struct Density {
		const char *name;
		std::vector<u64> pages; // of 512, in one level 0 table
	};
	std::vector<Density> densities = {
		{ "one page", { 77 } },
		{ "two groups", { 3, 31, 32 * 9 + 4 } },
		{ "three groups", { 0, 32 * 7 + 8, 511 } },
		{ "every other page", {} },
		{ "every page", {} },
	};
	for (u64 i = 0; i < 512; i += 2)
		densities[3].pages.push_back(i);
	for (u64 i = 0; i < 512; i++)
		densities[4].pages.push_back(i);

	FOR_EACH_FLAVOUR(f) {
		for (const auto &dn : densities) {
			CAPTURE(dn.name);
			Table t(f.cfg);
			const u64 L0 = t.L(0), L1 = t.L(1), base = 3 * L1;

			// An output address off the large leaves' alignment: 512 level 0 leaves
			REQUIRE(t.map(base, L0, L1) == 0);
			REQUIRE(t.touch(base + 100 * L0, false) == 0); // a read
			for (u64 p : dn.pages)
				REQUIRE(t.touch(base + p * L0) == 0);

			DirtyWindow peek(base, L1, L0);
			REQUIRE(iolab_pt_read_dirty(&t.pt, base, L1, false, &peek.d) == 0);
			CHECK(peek.set() == dn.pages);
			DirtyWindow take(base, L1, L0);
			REQUIRE(iolab_pt_read_dirty(&t.pt, base, L1, true, &take.d) == 0);
			CHECK(take.set() == dn.pages);
			CHECK(take.d.nr_dirty == dn.pages.size());
			DirtyWindow again(base, L1, L0);
			REQUIRE(iolab_pt_read_dirty(&t.pt, base, L1, true, &again.d) == 0);
			CHECK(again.set().empty());
			for (u64 p : dn.pages)
				CHECK(t.flags_at(base + p * L0) ==
				      (IOLAB_PT_READ | IOLAB_PT_WRITE | IOLAB_PT_ACCESSED));
			bool read_is_dirty = std::count(dn.pages.begin(), dn.pages.end(), 100);
			if (!read_is_dirty)
				CHECK(t.flags_at(base + 100 * L0) ==
				      (IOLAB_PT_READ | IOLAB_PT_WRITE | IOLAB_PT_ACCESSED));
			// A page nobody touched keeps no ACCESSED bit
			if (!std::count(dn.pages.begin(), dn.pages.end(), 101))
				CHECK(t.flags_at(base + 101 * L0) ==
				      (IOLAB_PT_READ | IOLAB_PT_WRITE));
		}
		SUBCASE("a one-level table") {
			iolab_pt_cfg cfg = f.cfg;

			cfg.ias = cfg.leaf_shift + 9;
			cfg.leaf_sizes = 1UL << cfg.leaf_shift;
			Table t(cfg);
			const u64 L0 = t.L(0);

			REQUIRE(t.map(0, 0, 512 * L0) == 0);
			for (u64 p : { 2, 40, 300 })
				REQUIRE(t.touch(p * L0) == 0);
			DirtyWindow take(0, 512 * L0, L0);
			REQUIRE(iolab_pt_read_dirty(&t.pt, 0, 512 * L0, true, &take.d) == 0);
			CHECK(take.set() == Bits{ 2, 40, 300 });
			DirtyWindow again(0, 512 * L0, L0);
			REQUIRE(iolab_pt_read_dirty(&t.pt, 0, 512 * L0, true, &again.d) == 0);
			CHECK(again.set().empty());
		}
	}
}

// The three ways a clearing harvest takes a level 0 table: one or two marked
// groups (lockless, one atomic per dirty entry), three to fifteen (under the
// leaf lock, clean eights not stored back), all sixteen (every entry stored
// back). Each must report exactly the written pages, wherever the window's
// words fall: a window that starts one page in puts a group across two of
// its words.
TEST_CASE("a clearing harvest of a sparse, a mixed and a dense table reports exactly what was written")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1), n = IOLAB_PT_ENTRIES;

		// two pieces per table, so no leaf is larger than L0
		for (u64 i = 0; i < 3; i++) {
			REQUIRE(t.map(i * L1, i * L1, L0) == 0);
			REQUIRE(t.map(i * L1 + L0, i * L1 + L0, L1 - L0) == 0);
		}
		Bits sparse = { 64, 65, 95, 300 };	// groups 2 and 9
		Bits mixed = { 0, 40, 100, 200, 511 };	// five groups
		Bits written;

		for (u64 p : sparse)
			written.push_back(p);
		for (u64 p : mixed)
			written.push_back(n + p);
		for (u64 p = 0; p < n; p++)		// dense: every page
			written.push_back(2 * n + p);
		for (u64 p : written)
			REQUIRE(t.touch(p * L0) == 0);

		for (u64 skip : { 0, 1, 33 }) {
			if (skip) // write again what the last round cleared
				for (u64 p : written)
					REQUIRE(t.touch(p * L0) == 0);
			const u64 wiova = skip * L0, len = 3 * L1 - wiova;
			DirtyWindow a(wiova, len, L0);
			Bits want;

			for (u64 p : written)
				if (p >= skip)
					want.push_back(p - skip);
			REQUIRE(iolab_pt_read_dirty(&t.pt, wiova, len, true, &a.d) == 0);
			CHECK(a.set() == want);
			CHECK(a.d.nr_dirty == want.size());

			DirtyWindow b(wiova, len, L0);
			REQUIRE(iolab_pt_read_dirty(&t.pt, wiova, len, true, &b.d) == 0);
			CHECK(b.set().empty());
			DirtyWindow c(0, 3 * L1, L0); // leave all clean
			REQUIRE(iolab_pt_read_dirty(&t.pt, 0, 3 * L1, true, &c.d) == 0);
		}
	}
}

TEST_CASE("iolab_bits64 counts the bits of every word a harvest can make")
{
	std::mt19937_64 rng(64);

	CHECK(iolab_bits64(0) == 0);
	CHECK(iolab_bits64(~0ULL) == 64);
	for (unsigned int i = 0; i < 64; i++) {
		CHECK(iolab_bits64(1ULL << i) == 1);
		CHECK(iolab_bits64(~0ULL << i) == 64 - i);
	}
	for (int n = 0; n < 100000; n++) {
		uint64_t v = rng() & rng();
		REQUIRE(iolab_bits64(v) == (unsigned int)__builtin_popcountll(v));
	}
}
