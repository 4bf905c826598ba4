// SPDX-License-Identifier: GPL-2.0
// Shared helpers for the I/O page-table unit tests: counting table-page ops
// with failure injection, an owning wrapper, dumps and the test flavours.
// Dumps read the table pages themselves, as the entry format in iolab_pt.h
// defines them: the library has no inspection functions of its own.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "iolab_pt.h"

namespace ptt {

// Size of one table page (IOLAB_PT_ENTRIES 64-bit entries).
constexpr size_t TABLE_SIZE = IOLAB_PT_ENTRIES * sizeof(u64);

// Table pages come from aligned_alloc; the "physical" address is the
// pointer itself, which user space keeps below 2^47.
struct PageOps {
	long allocs = 0;	// successful allocations
	long frees = 0;
	long calls = 0;		// alloc_table calls, failed ones included
	long fail_at = 0;	// make call number fail_at fail (0: never)
	bool defer_free = false; // keep freed pages until release_deferred()
	std::vector<void *> deferred;
	// Run once at the next virt_to_phys: the library calls it when it is
	// about to install a table it built, so the hook can race with that.
	std::function<void()> on_virt_to_phys;

	long live() const { return allocs - frees; }

	// Fail the nth allocation from now on (1-based); 0 disables.
	void fail_nth(long n) { fail_at = n ? calls + n : 0; }

	void release_deferred()
	{
		for (void *p : deferred)
			std::free(p);
		deferred.clear();
	}

	static const iolab_pt_ops ops;
};

inline void *op_alloc(void *cookie)
{
	auto *o = static_cast<PageOps *>(cookie);

	if (++o->calls == o->fail_at)
		return nullptr;
	void *p = std::aligned_alloc(TABLE_SIZE, TABLE_SIZE);
	if (!p)
		return nullptr;
	std::memset(p, 0, TABLE_SIZE);
	o->allocs++;
	return p;
}

inline void op_free(void *cookie, void *table)
{
	auto *o = static_cast<PageOps *>(cookie);

	o->frees++;
	if (o->defer_free) {
		// Like an RCU-deferred free: walkers may still read it.
		o->deferred.push_back(table);
		return;
	}
	std::free(table);
}

inline u64 op_v2p(void *cookie, void *table)
{
	auto *o = static_cast<PageOps *>(cookie);

	if (o->on_virt_to_phys) {
		auto hook = std::move(o->on_virt_to_phys);

		o->on_virt_to_phys = nullptr;
		hook();
	}
	return reinterpret_cast<uintptr_t>(table);
}

inline void *op_p2v(void *, u64 phys)
{
	return reinterpret_cast<void *>(static_cast<uintptr_t>(phys));
}

inline const iolab_pt_ops PageOps::ops = {
	.alloc_table = op_alloc,
	.free_table = op_free,
	.virt_to_phys = op_v2p,
	.phys_to_virt = op_p2v,
};

constexpr u64 KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;

struct Flavour {
	const char *name;
	iolab_pt_cfg cfg;
};

// The 4 KiB format with its three leaf sizes, and the upstream selftest's
// 2 KiB format, which offers 2 KiB and 1 MiB only.
inline const Flavour flavours[] = {
	{ "4 KiB leaves (4K/2M/1G)", { 12, 48, (1UL << 12) | (1UL << 21) | (1UL << 30) } },
	{ "2 KiB leaves (2K/1M)", { 11, 48, (1UL << 11) | (1UL << 20) } },
};

// Leaf state in a dump: IOLAB_PT_READ and IOLAB_PT_WRITE, and these two for
// the entry's IOLAB_PTE_ACCESSED and IOLAB_PTE_DIRTY bits.
constexpr unsigned int ACCESSED = 1U << 2, DIRTY = 1U << 3;

inline unsigned int leaf_flags(u64 pte)
{
	return (pte & IOLAB_PTE_READ ? IOLAB_PT_READ : 0) |
	       (pte & IOLAB_PTE_WRITE ? IOLAB_PT_WRITE : 0) |
	       (pte & IOLAB_PTE_ACCESSED ? ACCESSED : 0) |
	       (pte & IOLAB_PTE_DIRTY ? DIRTY : 0);
}

struct Leaf {
	u64 iova, oa, size;
	unsigned int flags;
	bool operator==(const Leaf &) const = default;
};

// Shape of a table: pages in use, including the top one, and leaves per
// level.
struct Stats {
	u64 nr_tables = 0;
	u64 nr_leaves[IOLAB_PT_MAX_LEVELS] = {};
};

inline std::ostream &operator<<(std::ostream &os, const Leaf &l)
{
	return os << "{iova 0x" << std::hex << l.iova << " oa 0x" << l.oa
		  << " size 0x" << l.size << " flags 0x" << l.flags << std::dec
		  << "}";
}

// An I/O page table with its page accounting.
class Table {
public:
	explicit Table(const iolab_pt_cfg &cfg)
	{
		REQUIRE(iolab_pt_init(&pt, &cfg, &PageOps::ops, &pages) == 0);
	}
	~Table()
	{
		iolab_pt_destroy(&pt);
		pages.release_deferred();
	}
	Table(const Table &) = delete;
	Table &operator=(const Table &) = delete;

	// Bytes mapped by one entry of level @lvl.
	u64 L(unsigned int lvl) const { return 1ULL << (pt.cfg.leaf_shift + 9 * lvl); }

	int map(u64 iova, u64 oa, u64 len, unsigned int prot = IOLAB_PT_READ | IOLAB_PT_WRITE)
	{
		return iolab_pt_map(&pt, iova, oa, len, prot);
	}

	u64 unmap(u64 iova, u64 len)
	{
		return iolab_pt_unmap(&pt, iova, len);
	}

	// The leaves that intersect [first, last], in IOVA order.
	std::vector<Leaf> dump(u64 first = 0, u64 last = ~0ULL) const
	{
		std::vector<Leaf> v;

		walk(pt.top, pt.top_level, 0, first, last,
		     [&](u64 iova, u64 pte, unsigned int lvl) {
			     v.push_back({ iova, pte & IOLAB_PTE_ADDR_MASK, L(lvl),
					   leaf_flags(pte) });
		     },
		     [](unsigned int) {});
		return v;
	}

	Stats stats() const
	{
		Stats s;

		walk(pt.top, pt.top_level, 0, 0, ~0ULL,
		     [&](u64, u64, unsigned int lvl) { s.nr_leaves[lvl]++; },
		     [&](unsigned int) { s.nr_tables++; });
		return s;
	}

	u64 tables() const { return stats().nr_tables; }

	// The leaf that maps @iova, which must be mapped.
	Leaf leaf_at(u64 iova) const
	{
		std::vector<Leaf> v = dump(iova, iova);

		REQUIRE(v.size() == 1);
		return v[0];
	}

	// Write (or read) one byte at @iova through the hardware walker.
	int touch(u64 iova, bool write = true, bool track = true)
	{
		u64 pa;

		return iolab_pt_translate(&pt, iova, write, track, &pa, nullptr);
	}

	unsigned int flags_at(u64 iova) const { return leaf_at(iova).flags; }

	iolab_pt pt;
	PageOps pages;

private:
	// Call @leaf(iova, entry, level) for each leaf below @table (entries
	// at level @lvl, the first one mapping @base) that intersects [first,
	// last], in IOVA order, and @page(level) for each table page visited.
	// Walkers may be setting ACCESSED/DIRTY meanwhile: entries are read
	// atomically.
	template <typename LeafFn, typename PageFn>
	void walk(const u64 *table, unsigned int lvl, u64 base, u64 first, u64 last,
		  LeafFn &&leaf, PageFn &&page) const
	{
		const u64 size = L(lvl);

		page(lvl);
		for (unsigned int i = 0; i < IOLAB_PT_ENTRIES; i++) {
			u64 pte = __atomic_load_n(&table[i], __ATOMIC_ACQUIRE);
			const u64 type = pte & (IOLAB_PTE_PRESENT | IOLAB_PTE_LEAF);

			if (!pte)
				continue;
			// a present entry lies inside the address space
			const u64 start = base + i * size, end = start + (size - 1);

			if (end < first || start > last)
				continue;
			if (type == (IOLAB_PTE_PRESENT | IOLAB_PTE_LEAF)) {
				leaf(start, pte, lvl);
			} else {
				REQUIRE(type == IOLAB_PTE_PRESENT);
				REQUIRE(lvl > 0);
				walk(reinterpret_cast<const u64 *>(static_cast<uintptr_t>(
					     pte & IOLAB_PTE_ADDR_MASK)),
				     lvl - 1, start, first, last, leaf, page);
			}
		}
	}
};

// Everything a failed operation must leave as it was.
struct Snapshot {
	std::vector<Leaf> leaves;
	u64 tables;
	long live;
	bool operator==(const Snapshot &) const = default;
};

inline Snapshot snap(Table &t)
{
	return { t.dump(), t.tables(), t.pages.live() };
}

} // namespace ptt

// One SUBCASE per table flavour; @f names the flavour in the body.
#define FOR_EACH_FLAVOUR(f)                                   \
	for (const ::ptt::Flavour &f : ::ptt::flavours)       \
		SUBCASE(f.name)
