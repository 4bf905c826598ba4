// SPDX-License-Identifier: GPL-2.0
// I/O page table: the hardware walker (translate) and iova_to_phys.
#include "pt_harness.h"

using namespace ptt;

TEST_CASE("translate enforces the read and write permissions")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1);
		u64 pa = 0, size = 0;

		REQUIRE(t.map(0, 10 * L1, L0, IOLAB_PT_READ) == 0);
		REQUIRE(t.map(L0, 11 * L1, L0, IOLAB_PT_WRITE) == 0);
		REQUIRE(t.map(L1, 12 * L1, L1, IOLAB_PT_READ | IOLAB_PT_WRITE) == 0);

		for (bool track : { false, true }) {
			CAPTURE(track);
			CHECK(iolab_pt_translate(&t.pt, 5, false, track, &pa, &size) == 0);
			CHECK(pa == 10 * L1 + 5);
			CHECK(size == L0);
			CHECK(iolab_pt_translate(&t.pt, 5, true, track, &pa, &size) == -EACCES);
			CHECK(iolab_pt_translate(&t.pt, L0 + 7, true, track, &pa, &size) == 0);
			CHECK(pa == 11 * L1 + 7);
			CHECK(iolab_pt_translate(&t.pt, L0 + 7, false, track, &pa, &size) == -EACCES);
			CHECK(iolab_pt_translate(&t.pt, 2 * L1 - 1, true, track, &pa, &size) == 0);
			CHECK(pa == 13 * L1 - 1);
			CHECK(size == L1);
			CHECK(iolab_pt_translate(&t.pt, 2 * L0, false, track, &pa, &size) == -ENOENT);
			CHECK(iolab_pt_translate(&t.pt, 2 * L1, true, track, &pa, &size) == -ENOENT);
			CHECK(iolab_pt_translate(&t.pt, 1ULL << 48, false, track, &pa, &size) == -ERANGE);
		}
	}
}

TEST_CASE("translate sets ACCESSED, and DIRTY only for a tracked write")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1);
		const unsigned int RW = IOLAB_PT_READ | IOLAB_PT_WRITE;

		REQUIRE(t.map(0, 0, 4 * L0) == 0);
		REQUIRE(t.map(L1, L1, L1) == 0);
		CHECK(t.flags_at(0) == RW);

		SUBCASE("a read sets ACCESSED only")
		{
			CHECK(t.touch(L0 + 1, false, true) == 0);
			CHECK(t.flags_at(L0) == (RW | IOLAB_PT_ACCESSED));
		}
		SUBCASE("an untracked write sets ACCESSED only")
		{
			CHECK(t.touch(L0 + 1, true, false) == 0);
			CHECK(t.flags_at(L0) == (RW | IOLAB_PT_ACCESSED));
		}
		SUBCASE("a tracked write sets both, on its leaf only")
		{
			CHECK(t.touch(2 * L0, true, true) == 0);
			CHECK(t.flags_at(2 * L0) == (RW | IOLAB_PT_ACCESSED | IOLAB_PT_DIRTY));
			CHECK(t.flags_at(L0) == RW);
			CHECK(t.flags_at(3 * L0) == RW);
		}
		SUBCASE("a write anywhere in a big leaf dirties the whole leaf")
		{
			CHECK(t.touch(L1 + 77 * L0 + 3, true, true) == 0);
			CHECK(t.flags_at(L1) == (RW | IOLAB_PT_ACCESSED | IOLAB_PT_DIRTY));
			CHECK(t.flags_at(2 * L1 - 1) == (RW | IOLAB_PT_ACCESSED | IOLAB_PT_DIRTY));
		}
		SUBCASE("a refused access sets nothing")
		{
			REQUIRE(t.map(8 * L0, 0, L0, IOLAB_PT_READ) == 0);
			CHECK(t.touch(8 * L0, true, true) == -EACCES);
			CHECK(t.flags_at(8 * L0) == IOLAB_PT_READ);
		}
	}
}

TEST_CASE("iova_to_phys reports a translation without touching ACCESSED or DIRTY")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1);
		u64 pa = 0, size = 0;
		unsigned int prot = 0;

		REQUIRE(t.map(3 * L1, 7 * L1, L1, IOLAB_PT_WRITE) == 0);
		for (int i = 0; i < 3; i++) {
			REQUIRE(iolab_pt_iova_to_phys(&t.pt, 3 * L1 + 9 * L0 + 1, &pa, &prot, &size) == 0);
			CHECK(pa == 7 * L1 + 9 * L0 + 1);
			CHECK(prot == IOLAB_PT_WRITE);
			CHECK(size == L1);
		}
		CHECK(iolab_pt_iova_to_phys(&t.pt, 3 * L1 - 1, &pa, nullptr, nullptr) == -ENOENT);
		CHECK(iolab_pt_iova_to_phys(&t.pt, ~0ULL, &pa, nullptr, nullptr) == -ERANGE);

		CHECK(t.touch(4 * L1 - 1, true, true) == 0);
		REQUIRE(iolab_pt_iova_to_phys(&t.pt, 3 * L1, &pa, &prot, nullptr) == 0);
		CHECK(prot == (IOLAB_PT_WRITE | IOLAB_PT_ACCESSED | IOLAB_PT_DIRTY));
	}
}

TEST_CASE("the walker stores the documented entry format")
{
	// Entry format is ABI between the library and anyone reading a dump.
	Table t(flavours[1].cfg);
	REQUIRE(t.map(0, 0x123456800ULL, 2 * KiB, IOLAB_PT_READ | IOLAB_PT_WRITE) == 0);
	u64 *table = t.pt.top;
	for (unsigned int lvl = t.pt.top_level; lvl > 0; lvl--) {
		u64 pte = table[0];
		CHECK((pte & 0xfff) == IOLAB_PTE_PRESENT);
		table = reinterpret_cast<u64 *>(static_cast<uintptr_t>(pte & IOLAB_PTE_ADDR_MASK));
	}
	CHECK(table[0] == (0x123456800ULL | IOLAB_PTE_PRESENT | IOLAB_PTE_LEAF |
			   IOLAB_PTE_READ | IOLAB_PTE_WRITE));
	CHECK(t.touch(1, true, true) == 0);
	CHECK(table[0] == (0x123456800ULL | IOLAB_PTE_PRESENT | IOLAB_PTE_LEAF |
			   IOLAB_PTE_READ | IOLAB_PTE_WRITE | IOLAB_PTE_ACCESSED |
			   IOLAB_PTE_DIRTY));
}
