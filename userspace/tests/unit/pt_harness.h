// SPDX-License-Identifier: GPL-2.0
// Shared helpers for the I/O page-table unit tests: counting table-page ops
// with failure injection, an owning wrapper, dumps and the test flavours.
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
	void *p = std::aligned_alloc(IOLAB_PT_TABLE_SIZE, IOLAB_PT_TABLE_SIZE);
	if (!p)
		return nullptr;
	std::memset(p, 0, IOLAB_PT_TABLE_SIZE);
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

struct Leaf {
	u64 iova, oa, size;
	unsigned int flags;
	bool operator==(const Leaf &) const = default;
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

	u64 L(unsigned int lvl) const { return iolab_pt_level_size(&pt, lvl); }

	int map(u64 iova, u64 oa, u64 len, unsigned int prot = IOLAB_PT_READ | IOLAB_PT_WRITE)
	{
		u64 mapped = ~0ULL;
		int ret = iolab_pt_map(&pt, iova, oa, len, prot, &mapped);

		CHECK(mapped == (ret ? 0 : len));
		return ret;
	}

	u64 unmap(u64 iova, u64 len, iolab_pt_dirty *d = nullptr)
	{
		return iolab_pt_unmap(&pt, iova, len, d);
	}

	std::vector<Leaf> dump()
	{
		std::vector<Leaf> v;

		REQUIRE(iolab_pt_walk_leaves(&pt, 0, pt.max_iova + 1, collect, &v) == 0);
		return v;
	}

	struct iolab_pt_stats stats()
	{
		struct iolab_pt_stats s;

		iolab_pt_stats(&pt, &s);
		return s;
	}

	u64 tables() { return stats().nr_tables; }

	// Write (or read) one byte at @iova through the hardware walker.
	int touch(u64 iova, bool write = true, bool track = true)
	{
		u64 pa;

		return iolab_pt_translate(&pt, iova, write, track, &pa, nullptr);
	}

	unsigned int flags_at(u64 iova)
	{
		u64 pa;
		unsigned int prot = 0;

		REQUIRE(iolab_pt_iova_to_phys(&pt, iova, &pa, &prot, nullptr) == 0);
		return prot;
	}

	iolab_pt pt;
	PageOps pages;

private:
	static int collect(void *arg, const iolab_pt_leaf *l)
	{
		static_cast<std::vector<Leaf> *>(arg)->push_back(
			{ l->iova, l->oa, l->size, l->flags });
		return 0;
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

// A dirty bitmap window that owns its bitmap and its word marks.
struct DirtyWindow {
	std::vector<unsigned long> bits;
	std::vector<unsigned long> touched;
	iolab_pt_dirty d{};

	DirtyWindow(u64 iova, u64 length, u64 page_size)
		: bits((length / page_size + 63) / 64 + 1),
		  touched((bits.size() + 63) / 64)
	{
		d.iova = iova;
		d.length = length;
		d.page_size = page_size;
		d.bitmap = bits.data();
		d.touched = touched.data();
	}

	// Indexes of the set bits. Checks the marks on the way: a word is
	// marked exactly when it holds a bit (a word with a bit but no mark
	// is a bit dirty.c would never copy out: a lost dirty page).
	std::vector<u64> set() const
	{
		for (size_t w = 0; w < bits.size(); w++) {
			bool marked = (touched[w / 64] >> (w % 64)) & 1;

			CHECK_MESSAGE(marked == (bits[w] != 0), "window word ", w,
				      (marked ? " marked but empty" :
						" holds bits but is not marked"));
		}
		std::vector<u64> v;

		for (u64 i = 0; i < d.length / d.page_size; i++)
			if (bits[i / 64] & (1UL << (i % 64)))
				v.push_back(i);
		return v;
	}
};

// The dirty-summary rule of iolab_pt.h, read from the raw table: every
// dirty leaf has its group's summary bit set in each table entry above it.
// Returns the IOVA of the first dirty leaf that breaks it, or ~0.
inline u64 summary_violation(const iolab_pt &pt)
{
	struct Walk {
		const iolab_pt &pt;
		u64 bad = ~0ULL;

		// Entries of @table at @lvl; @sum is the summary of the entry
		// above it (all set for the top table), @ok whether every bit
		// further up on the way was set.
		void table(const u64 *table, unsigned int lvl, u64 base, u64 sum, bool ok)
		{
			const u64 size = iolab_pt_level_size(&pt, lvl);

			for (unsigned int i = 0; i < IOLAB_PT_ENTRIES && bad == ~0ULL; i++) {
				const u64 pte = table[i];
				const u64 iova = base + i * size;
				const bool here = ok && (sum >> (IOLAB_PTE_SUMMARY_SHIFT +
								 i / IOLAB_PT_SUMMARY_GROUP) & 1);

				if ((pte & (IOLAB_PTE_PRESENT | IOLAB_PTE_LEAF)) ==
				    (IOLAB_PTE_PRESENT | IOLAB_PTE_LEAF)) {
					if ((pte & IOLAB_PTE_DIRTY) && !here)
						bad = iova;
				} else if (pte & IOLAB_PTE_PRESENT) {
					const u64 *child = reinterpret_cast<const u64 *>(
						static_cast<uintptr_t>(pte & IOLAB_PTE_TABLE_MASK));

					this->table(child, lvl - 1, iova, pte, here);
				}
			}
		}
	} w{ pt };

	w.table(pt.top, pt.top_level, 0, IOLAB_PTE_SUMMARY, true);
	return w.bad;
}

// Summary bits set in the whole table.
inline u64 summary_bits(const iolab_pt &pt)
{
	struct Walk {
		const iolab_pt &pt;
		u64 n = 0;

		void table(const u64 *table, unsigned int lvl)
		{
			for (unsigned int i = 0; i < IOLAB_PT_ENTRIES; i++) {
				const u64 pte = table[i];

				if ((pte & (IOLAB_PTE_PRESENT | IOLAB_PTE_LEAF)) != IOLAB_PTE_PRESENT)
					continue;
				n += __builtin_popcountll(pte & IOLAB_PTE_SUMMARY);
				this->table(reinterpret_cast<const u64 *>(static_cast<uintptr_t>(
						    pte & IOLAB_PTE_TABLE_MASK)),
					    lvl - 1);
			}
		}
	} w{ pt };

	w.table(pt.top, pt.top_level);
	return w.n;
}

} // namespace ptt

// One SUBCASE per table flavour; @f names the flavour in the body.
#define FOR_EACH_FLAVOUR(f)                                   \
	for (const ::ptt::Flavour &f : ::ptt::flavours)       \
		SUBCASE(f.name)
