// SPDX-License-Identifier: GPL-2.0
// I/O page table: map, unmap, table page lifetime and failure atomicity.
#include "pt_harness.h"

using namespace ptt;

namespace {

constexpr unsigned int RW = IOLAB_PT_READ | IOLAB_PT_WRITE;

} // namespace

TEST_CASE("a table rejects formats it cannot build")
{
	PageOps pages;
	iolab_pt pt;
	const iolab_pt_cfg bad[] = {
		{ 13, 48, 1UL << 13 },			// leaf shift
		{ 12, 20, 1UL << 12 },			// ias too small
		{ 12, 65, 1UL << 12 },			// ias too large
		{ 12, 48, 1UL << 21 },			// no smallest leaf
		{ 12, 48, (1UL << 12) | (1UL << 16) },	// not a level size
		{ 12, 39, (1UL << 12) | (1UL << 39) },	// beyond the top level
	};

	for (const auto &cfg : bad)
		CHECK(iolab_pt_init(&pt, &cfg, &PageOps::ops, &pages) == -EINVAL);
	CHECK(pages.allocs == 0);

	pages.fail_nth(1);
	CHECK(iolab_pt_init(&pt, &flavours[0].cfg, &PageOps::ops, &pages) == -ENOMEM);
	CHECK(pages.live() == 0);
}

TEST_CASE("the number of levels follows the input address size")
{
	PageOps pages;
	iolab_pt pt;
	const struct {
		iolab_pt_cfg cfg;
		unsigned int top;
	} cases[] = {
		{ { 12, 48, 1UL << 12 }, 3 }, { { 12, 39, 1UL << 12 }, 2 },
		{ { 12, 21, 1UL << 12 }, 0 }, { { 11, 48, 1UL << 11 }, 4 },
		{ { 11, 47, 1UL << 11 }, 3 }, { { 11, 64, 1UL << 11 }, 5 },
		{ { 12, 64, 1UL << 12 }, 5 },
	};

	for (const auto &c : cases) {
		REQUIRE(iolab_pt_init(&pt, &c.cfg, &PageOps::ops, &pages) == 0);
		CHECK(pt.top_level == c.top);
		CHECK(pt.max_iova == (c.cfg.ias == 64 ? ~0ULL : (1ULL << c.cfg.ias) - 1));
		iolab_pt_destroy(&pt);
	}
	CHECK(pages.live() == 0);
}

TEST_CASE("a 64-bit table maps and unmaps the last page of the space")
{
	FOR_EACH_FLAVOUR(f) {
		iolab_pt_cfg cfg = f.cfg;

		cfg.ias = 64;
		Table t(cfg);
		u64 last_page = ~0ULL - t.L(0) + 1;

		CHECK(t.map(last_page, 0x100000, t.L(0)) == 0);
		CHECK(t.flags_at(~0ULL) == RW);
		CHECK(t.unmap(0, ~0ULL) == 0); // wraps: refused
		CHECK(t.unmap(last_page, t.L(0)) == t.L(0));
		CHECK(t.tables() == 1);
	}
}

TEST_CASE("map picks the largest leaf that fits both addresses and the length")
{
	SUBCASE("4 KiB flavour: 1 GiB, 2 MiB and 4 KiB leaves")
	{
		Table t(flavours[0].cfg);

		REQUIRE(t.map(0, 0, GiB + 2 * MiB + 4 * KiB) == 0);
		CHECK(t.dump() == std::vector<Leaf>{
			{ 0, 0, GiB, RW },
			{ GiB, GiB, 2 * MiB, RW },
			{ GiB + 2 * MiB, GiB + 2 * MiB, 4 * KiB, RW },
		});
		auto s = t.stats();
		CHECK(s.nr_leaves[2] == 1);
		CHECK(s.nr_leaves[1] == 1);
		CHECK(s.nr_leaves[0] == 1);
		// top, level 2 table, level 1 table (GiB..), level 0 table
		CHECK(s.nr_tables == 4);
		CHECK(t.pages.live() == 4);
	}

	SUBCASE("2 KiB flavour: 1 MiB and 2 KiB leaves, never 512 MiB")
	{
		Table t(flavours[1].cfg);

		REQUIRE(t.map(0, 0, 512 * MiB + 1 * MiB + 2 * KiB) == 0);
		auto s = t.stats();
		CHECK(s.nr_leaves[2] == 0);
		CHECK(s.nr_leaves[1] == 513);
		CHECK(s.nr_leaves[0] == 1);
		u64 pa, size;
		unsigned int prot;
		REQUIRE(iolab_pt_iova_to_phys(&t.pt, 512 * MiB + 1 * MiB + 2 * KiB - 1,
					      &pa, &prot, &size) == 0);
		CHECK(pa == 512 * MiB + 1 * MiB + 2 * KiB - 1);
		CHECK(size == 2 * KiB);
		CHECK(prot == RW);
	}

	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1);

		SUBCASE("an output address aligned only to the smallest leaf gives small leaves")
		{
			REQUIRE(t.map(L1, L1 + L0, L1) == 0);
			CHECK(t.stats().nr_leaves[0] == 512);
			CHECK(t.stats().nr_leaves[1] == 0);
		}
		SUBCASE("small leaves lead up to the first aligned block")
		{
			REQUIRE(t.map(L1 - 2 * L0, 5 * L1 - 2 * L0, L1 + 3 * L0) == 0);
			CHECK(t.dump() == std::vector<Leaf>{
				{ L1 - 2 * L0, 5 * L1 - 2 * L0, L0, RW },
				{ L1 - L0, 5 * L1 - L0, L0, RW },
				{ L1, 5 * L1, L1, RW },
				{ 2 * L1, 6 * L1, L0, RW },
			});
		}
		SUBCASE("the output address of a 2 KiB leaf round-trips")
		{
			REQUIRE(t.map(3 * L0, 0xabcdef000ULL + L0, L0, IOLAB_PT_READ) == 0);
			u64 pa;
			unsigned int prot;
			REQUIRE(iolab_pt_iova_to_phys(&t.pt, 3 * L0 + 5, &pa, &prot, nullptr) == 0);
			CHECK(pa == 0xabcdef000ULL + L0 + 5);
			CHECK(prot == IOLAB_PT_READ);
		}
	}
}

TEST_CASE("map refuses bad arguments and changes nothing")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0);
		u64 mapped = 1;

		REQUIRE(t.map(8 * L0, 0, L0) == 0);
		const Snapshot before = snap(t);

		CHECK(t.map(0, 0, 0) == -EINVAL);
		CHECK(t.map(1, 0, L0) == -EINVAL);
		CHECK(t.map(0, L0 / 2, L0) == -EINVAL);
		CHECK(t.map(0, 0, L0 + 1) == -EINVAL);
		CHECK(t.map(0, 0, L0, 0) == -EINVAL);
		CHECK(t.map(0, 0, L0, 1U << 5) == -EINVAL);
		CHECK(t.map(1ULL << 48, 0, L0) == -ERANGE);
		CHECK(t.map((1ULL << 48) - L0, 0, 2 * L0) == -ERANGE);
		CHECK(t.map(~0ULL - L0 + 1, 0, 2 * L0) == -ERANGE);
		CHECK(t.map(0, (1ULL << 52) - L0, 2 * L0) == -ERANGE);
		CHECK(iolab_pt_map(&t.pt, 0, 0, 1, IOLAB_PT_READ, &mapped) == -EINVAL);
		CHECK(mapped == 0);
		CHECK(t.map((1ULL << 48) - L0, (1ULL << 52) - L0, L0) == 0);
		CHECK(t.unmap((1ULL << 48) - L0, L0) == L0);
		CHECK(snap(t) == before);
	}
}

TEST_CASE("unmap removes whole leaves, skips holes and stops at a straddling leaf")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1);

		// small leaves at 0 and L1/2, a big one at [L1, 2 L1), small at 2 L1
		REQUIRE(t.map(0, 0, L0) == 0);
		REQUIRE(t.map(L1 / 2, L1 / 2, 2 * L0) == 0);
		REQUIRE(t.map(L1, L1, L1) == 0);
		REQUIRE(t.map(2 * L1, 2 * L1, L0) == 0);
		CHECK(t.stats().nr_leaves[1] == 1);

		SUBCASE("a range that starts inside a big leaf removes nothing")
		{
			CHECK(t.unmap(L1 + L0, 2 * L1) == 0);
			CHECK(t.dump().size() == 5);
		}
		SUBCASE("the leaves before a straddling leaf go, the rest stays")
		{
			CHECK(t.unmap(0, L1 + L0) == 3 * L0);
			CHECK(t.dump() == std::vector<Leaf>{
				{ L1, L1, L1, RW }, { 2 * L1, 2 * L1, L0, RW } });
		}
		SUBCASE("a range covering everything returns exactly what was mapped")
		{
			CHECK(t.unmap(0, 4 * L1) == L1 + 4 * L0);
			CHECK(t.dump().empty());
		}
		SUBCASE("a range of holes removes nothing")
		{
			CHECK(t.unmap(L0, L1 / 2 - L0) == 0);
			CHECK(t.unmap(3 * L1, 100 * L1) == 0);
			CHECK(t.dump().size() == 5);
		}
		SUBCASE("unmap refuses a range beyond the address space")
		{
			CHECK(t.unmap(1, ~0ULL) == 0); // wraps past 2^64
			CHECK(t.unmap(0, 1ULL << 60) == 0);
			CHECK(t.unmap(0, 1ULL << 48) == L1 + 4 * L0);
		}
		SUBCASE("an unaligned range removes only the leaves inside it")
		{
			CHECK(t.unmap(L1 / 2 - 1, 2 * L0 + 1) == 2 * L0);
			CHECK(t.dump().size() == 3);
		}
	}
}

TEST_CASE("table pages are freed as soon as they are empty")
{
	FOR_EACH_FLAVOUR(f) {
		u64 L0, L2;
		{
			Table t(f.cfg);
			L0 = t.L(0);
			L2 = t.L(2);

			REQUIRE(t.map(0, 0, 3 * L0) == 0);
			REQUIRE(t.map(L2 - L0, L2 - L0, 2 * L0) == 0);
			REQUIRE(t.map(37 * L2, 0, L0) == 0);
			CHECK(t.pages.live() == (long)t.tables());
			const u64 full = t.tables();

			CHECK(t.unmap(L0, L0) == L0);
			CHECK(t.tables() == full);
			CHECK(t.unmap(37 * L2, L0) == L0);
			CHECK(t.tables() == full - 2); // its level 1 and level 0 tables
			CHECK(t.unmap(0, 1ULL << 40) == 4 * L0);
			CHECK(t.tables() == 1);
			CHECK(t.pages.live() == 1);

			// and again after mapping and unmapping page by page
			REQUIRE(t.map(0, 0, 64 * L0, IOLAB_PT_READ) == 0);
			for (u64 i = 0; i < 64; i++)
				CHECK(t.unmap(i * L0, L0) == L0);
			CHECK(t.pages.live() == 1);
			REQUIRE(t.map(0, 0, L2) == 0);
		}
	}
}

TEST_CASE("destroy frees every table page and leaves nothing behind")
{
	FOR_EACH_FLAVOUR(f) {
		PageOps pages;
		iolab_pt pt;

		REQUIRE(iolab_pt_init(&pt, &f.cfg, &PageOps::ops, &pages) == 0);
		u64 mapped;
		REQUIRE(iolab_pt_map(&pt, 0x12345ULL << 21, 0, 64 * MiB, IOLAB_PT_READ, &mapped) == 0);
		REQUIRE(iolab_pt_map(&pt, 0x777ULL << 30, 0, 5 * iolab_pt_level_size(&pt, 0),
				     IOLAB_PT_WRITE, &mapped) == 0);
		CHECK(pages.live() > 3);
		iolab_pt_destroy(&pt);
		CHECK(pages.live() == 0);
		CHECK(pt.top == nullptr);
		iolab_pt_destroy(&pt); // idempotent
	}
}

TEST_CASE("map over an existing mapping fails with EEXIST and changes nothing")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1), L2 = t.L(2);

		REQUIRE(t.map(L2 + 5 * L1 + 7 * L0, 0, L0) == 0);
		REQUIRE(t.map(3 * L2 + 4 * L1, 4 * L1, L1) == 0);
		const Snapshot before = snap(t);

		SUBCASE("the same page") {
			CHECK(t.map(L2 + 5 * L1 + 7 * L0, L0, L0) == -EEXIST);
		}
		SUBCASE("a range that runs into a small leaf after mapping a lot") {
			CHECK(t.map(L2 - 3 * L0, L2 - 3 * L0, 5 * L1 + 11 * L0 + L2) == -EEXIST);
		}
		SUBCASE("a big leaf over a table") {
			CHECK(t.map(L2 + 5 * L1, 0, L1) == -EEXIST);
		}
		SUBCASE("a small leaf inside a big leaf") {
			CHECK(t.map(3 * L2 + 4 * L1 + 9 * L0, 0, L0) == -EEXIST);
		}
		SUBCASE("a range ending inside a big leaf") {
			CHECK(t.map(3 * L2 + 2 * L1, 0, 2 * L1 + L0) == -EEXIST);
		}
		CHECK(snap(t) == before);
	}
}

TEST_CASE("map that runs out of table pages undoes everything")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1), L2 = t.L(2);
		// crosses a level 2 boundary, with big and small leaves both sides
		const u64 iova = L2 - 2 * L1 - 3 * L0, len = 4 * L1 + 6 * L0;

		// one neighbour shares the first tables, one only the top ones
		REQUIRE(t.map(iova - 2 * L0, 0, L0) == 0);
		REQUIRE(t.map(5 * L2, 0, L0) == 0);
		const Snapshot before = snap(t);

		int ret = -1;
		long n;
		for (n = 1; n < 100; n++) {
			t.pages.fail_nth(n);
			ret = t.map(iova, iova, len);
			if (ret != -ENOMEM)
				break;
			REQUIRE(snap(t) == before);
		}
		t.pages.fail_nth(0);
		CHECK(n == 3); // the level 1 and level 0 tables past the boundary
		REQUIRE(ret == 0);
		CHECK(t.stats().nr_leaves[0] == 2 + 6);
		CHECK(t.unmap(iova, len) == len);
		CHECK(snap(t) == before);
	}
}
