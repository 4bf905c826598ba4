// SPDX-License-Identifier: GPL-2.0
// I/O page table: explicit IOPTE split and merge.
#include "pt_harness.h"

using namespace ptt;

namespace {

constexpr unsigned int RW = IOLAB_PT_READ | IOLAB_PT_WRITE;
constexpr unsigned int AD = IOLAB_PT_ACCESSED | IOLAB_PT_DIRTY;

// Every page of [iova, iova + len) translates to oa + offset.
void check_linear(Table &t, u64 iova, u64 oa, u64 len, u64 step)
{
	for (u64 off = 0; off < len; off += step) {
		u64 pa = 0;

		REQUIRE(iolab_pt_iova_to_phys(&t.pt, iova + off, &pa, nullptr, nullptr) == 0);
		REQUIRE(pa == oa + off);
	}
}

} // namespace

TEST_CASE("split keeps every translation and copies the dirty bit to every child")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1);

		REQUIRE(t.map(3 * L1, 7 * L1, L1) == 0);
		REQUIRE(t.touch(3 * L1 + 1) == 0);
		const u64 tables = t.tables();

		CHECK(iolab_pt_split(&t.pt, 3 * L1 + 5 * L0, L0, L0) == 0);
		auto leaves = t.dump();
		REQUIRE(leaves.size() == 512);
		for (u64 i = 0; i < 512; i++)
			CHECK(leaves[i] == Leaf{ 3 * L1 + i * L0, 7 * L1 + i * L0, L0, RW | AD });
		CHECK(t.tables() == tables + 1);
		check_linear(t, 3 * L1, 7 * L1, L1, L0 / 2);

		DirtyWindow w(3 * L1, L1, L0);
		REQUIRE(iolab_pt_read_dirty(&t.pt, 3 * L1, L1, true, &w.d) == 0);
		CHECK(w.d.nr_dirty == 512);

		// splitting small leaves again changes nothing and allocates nothing
		const Snapshot before = snap(t);
		CHECK(iolab_pt_split(&t.pt, 0, 8 * L1, L0) == 0);
		CHECK(snap(t) == before);
	}
}

TEST_CASE("a DMA write or a harvest that lands while split builds the new table counts")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1);

		REQUIRE(t.map(L1, L1, L1) == 0);

		SUBCASE("a write to the clean leaf dirties every new leaf")
		{
			t.pages.on_virt_to_phys = [&] { REQUIRE(t.touch(L1 + 5 * L0) == 0); };
			REQUIRE(iolab_pt_split(&t.pt, L1, L0, L0) == 0);
			CHECK(!t.pages.on_virt_to_phys);
			for (const Leaf &l : t.dump())
				REQUIRE(l.flags == (RW | AD));
		}
		SUBCASE("a harvest of the dirty leaf leaves every new leaf clean")
		{
			REQUIRE(t.touch(L1) == 0);
			DirtyWindow w(L1, L1, L0);
			t.pages.on_virt_to_phys = [&] {
				REQUIRE(iolab_pt_read_dirty(&t.pt, L1, L1, true, &w.d) == 0);
			};
			REQUIRE(iolab_pt_split(&t.pt, L1, L0, L0) == 0);
			CHECK(w.d.nr_dirty == 512);
			for (const Leaf &l : t.dump())
				REQUIRE(l.flags == (RW | IOLAB_PT_ACCESSED));
		}
		CHECK(t.dump().size() == 512);
	}
}

TEST_CASE("split of a 1 GiB leaf breaks only the part in the range down to 4 KiB")
{
	Table t(flavours[0].cfg);

	REQUIRE(t.map(GiB, 5 * GiB, GiB, IOLAB_PT_READ) == 0);
	const Snapshot before = snap(t);

	REQUIRE(iolab_pt_split(&t.pt, GiB + 6 * MiB + 8 * KiB, 4 * KiB, 4 * KiB) == 0);
	auto s = t.stats();
	CHECK(s.nr_leaves[2] == 0);
	CHECK(s.nr_leaves[1] == 511);
	CHECK(s.nr_leaves[0] == 512);
	CHECK(s.nr_tables == before.tables + 2);
	check_linear(t, GiB, 5 * GiB, GiB, 4 * KiB);
	u64 pa, size;
	REQUIRE(iolab_pt_iova_to_phys(&t.pt, GiB + 9 * MiB, &pa, nullptr, &size) == 0);
	CHECK(size == 2 * MiB);
	REQUIRE(iolab_pt_iova_to_phys(&t.pt, GiB + 6 * MiB, &pa, nullptr, &size) == 0);
	CHECK(size == 4 * KiB);

	// and merge puts the 1 GiB leaf back, freeing both tables
	REQUIRE(iolab_pt_merge(&t.pt, GiB, GiB) == 0);
	CHECK(snap(t) == before);
}

TEST_CASE("split and merge skip a leaf size the table does not offer")
{
	// 4 KiB and 1 GiB leaves but no 2 MiB ones
	Table t(iolab_pt_cfg{ 12, 48, (1UL << 12) | (1UL << 30) });

	REQUIRE(t.map(0, 0, 2 * GiB) == 0);
	CHECK(t.stats().nr_leaves[2] == 2);
	REQUIRE(t.touch(GiB + 3) == 0);
	const Snapshot before = snap(t);

	CHECK(iolab_pt_split(&t.pt, GiB, 4 * KiB, 2 * MiB) == -EINVAL);
	REQUIRE(iolab_pt_split(&t.pt, GiB + GiB / 2, 4 * KiB, 4 * KiB) == 0);
	auto s = t.stats();
	CHECK(s.nr_leaves[2] == 1);
	CHECK(s.nr_leaves[1] == 0);
	CHECK(s.nr_leaves[0] == 512 * 512);
	CHECK(s.nr_tables == before.tables + 513);
	check_linear(t, GiB, GiB, GiB, 2 * MiB - 4 * KiB);
	CHECK(t.flags_at(2 * GiB - 1) == (RW | AD));

	REQUIRE(iolab_pt_merge(&t.pt, 0, 2 * GiB) == 0);
	CHECK(snap(t) == before);
}

TEST_CASE("merge folds a contiguous table into one leaf with the OR of its A/D bits")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1);

		for (u64 i = 0; i < 512; i++)
			REQUIRE(t.map(2 * L1 + i * L0, 9 * L1 + i * L0, L0) == 0);
		REQUIRE(t.map(3 * L1, 0, L0) == 0);
		REQUIRE(t.touch(2 * L1 + 7 * L0, false) == 0);
		const u64 tables = t.tables();

		SUBCASE("a range that covers only part of the table merges nothing")
		{
			const Snapshot before = snap(t);
			CHECK(iolab_pt_merge(&t.pt, 2 * L1, L1 - L0) == 0);
			CHECK(iolab_pt_merge(&t.pt, 2 * L1 + L0, 2 * L1) == 0);
			CHECK(snap(t) == before);
		}
		SUBCASE("ACCESSED only")
		{
			REQUIRE(iolab_pt_merge(&t.pt, 0, 8 * L1) == 0);
			CHECK(t.dump() == std::vector<Leaf>{
				{ 2 * L1, 9 * L1, L1, RW | IOLAB_PT_ACCESSED },
				{ 3 * L1, 0, L0, RW },
			});
			CHECK(t.tables() == tables - 1);
		}
		SUBCASE("and DIRTY")
		{
			REQUIRE(t.touch(2 * L1 + 511 * L0) == 0);
			REQUIRE(iolab_pt_merge(&t.pt, 2 * L1, L1) == 0);
			CHECK(t.flags_at(2 * L1) == (RW | AD));
			DirtyWindow w(2 * L1, L1, L0);
			REQUIRE(iolab_pt_read_dirty(&t.pt, 2 * L1, L1, true, &w.d) == 0);
			CHECK(w.d.nr_dirty == 512);
		}
	}
}

TEST_CASE("merge refuses tables that are not one contiguous, aligned, same-prot run")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1);
		u64 oa = 4 * L1;

		SUBCASE("a hole")
		{
			REQUIRE(t.map(L1, oa, L1 - L0) == 0);
		}
		SUBCASE("two pages swapped")
		{
			REQUIRE(t.map(L1, oa, L1) == 0);
			REQUIRE(iolab_pt_split(&t.pt, L1, L1, L0) == 0);
			REQUIRE(t.unmap(L1 + 4 * L0, 2 * L0) == 2 * L0);
			REQUIRE(t.map(L1 + 4 * L0, oa + 5 * L0, L0) == 0);
			REQUIRE(t.map(L1 + 5 * L0, oa + 4 * L0, L0) == 0);
		}
		SUBCASE("one page read-only")
		{
			REQUIRE(t.map(L1, oa, 100 * L0) == 0);
			REQUIRE(t.map(L1 + 100 * L0, oa + 100 * L0, L0, IOLAB_PT_READ) == 0);
			REQUIRE(t.map(L1 + 101 * L0, oa + 101 * L0, L1 - 101 * L0) == 0);
		}
		SUBCASE("an output address not aligned to the big leaf")
		{
			REQUIRE(t.map(L1, oa + L0, L1) == 0);
		}
		const Snapshot before = snap(t);
		CHECK(iolab_pt_merge(&t.pt, 0, 4 * L1) == 0);
		CHECK(snap(t) == before);
	}
}

TEST_CASE("split that runs out of table pages changes nothing")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1);

		REQUIRE(t.map(L1, L1, 3 * L1) == 0);
		REQUIRE(t.touch(2 * L1) == 0);
		const Snapshot before = snap(t);

		int ret = -1;
		long n;
		for (n = 1; n < 10; n++) {
			t.pages.fail_nth(n);
			ret = iolab_pt_split(&t.pt, 2 * L1 - L0, L1 + 2 * L0, L0);
			if (ret != -ENOMEM)
				break;
			REQUIRE(snap(t) == before);
		}
		t.pages.fail_nth(0);
		CHECK(n == 4);
		REQUIRE(ret == 0);
		CHECK(t.stats().nr_leaves[0] == 3 * 512);
		check_linear(t, L1, L1, 3 * L1, L0);
		CHECK(t.flags_at(2 * L1 + 99 * L0) == (RW | AD));
		CHECK(t.flags_at(L1) == RW);
	}
}

TEST_CASE("split refuses a size the table does not offer")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1);

		REQUIRE(t.map(0, 0, L1) == 0);
		const Snapshot before = snap(t);
		CHECK(iolab_pt_split(&t.pt, 0, L1, 2 * L0) == -EINVAL);
		CHECK(iolab_pt_split(&t.pt, 0, L1, 3 * L0) == -EINVAL);
		CHECK(iolab_pt_split(&t.pt, 0, L1, 0) == -EINVAL);
		CHECK(iolab_pt_split(&t.pt, 0, 0, L0) == -EINVAL);
		CHECK(iolab_pt_split(&t.pt, 0, 1ULL << 50, L0) == -ERANGE);
		CHECK(iolab_pt_merge(&t.pt, 0, 0) == -EINVAL);
		CHECK(iolab_pt_merge(&t.pt, 1ULL << 48, L0) == -ERANGE);
		CHECK(snap(t) == before);
		if (f.cfg.leaf_shift == 11)
			CHECK(iolab_pt_split(&t.pt, 0, L1, t.L(2)) == -EINVAL);
	}
}
