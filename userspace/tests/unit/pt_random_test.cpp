// SPDX-License-Identifier: GPL-2.0
// I/O page table: randomized operations against a simple reference model.
//
// The model is a std::map from leaf IOVA to leaf, with the leaf-size rules
// of iolab_pt.h written out the obvious way. After every operation the
// leaves in the range it worked on (each with its translation,
// protection, ACCESSED and DIRTY bits) and a few single translations are
// compared with the model; every 64 operations and at the end, the whole
// table and its number of table pages are.
#include <algorithm>
#include <algorithm>
#include <iterator>
#include <map>
#include <random>
#include <set>

#include "pt_harness.h"

using namespace ptt;

namespace {

struct MLeaf {
	u64 size, oa;
	unsigned int prot;
	bool a, d;
};

class Model {
public:
	explicit Model(const iolab_pt &pt) : top(pt.top_level)
	{
		for (unsigned int l = 0; l <= top; l++) {
			L[l] = iolab_pt_level_size(&pt, l);
			ok[l] = pt.cfg.leaf_sizes & L[l];
		}
	}

	std::map<u64, MLeaf> leaves;
	unsigned int top;
	u64 L[IOLAB_PT_MAX_LEVELS];
	bool ok[IOLAB_PT_MAX_LEVELS];

	unsigned int level_of(u64 size) const
	{
		unsigned int l = 0;

		while (L[l] != size)
			l++;
		return l;
	}

	// The first leaf that ends at or after @iova.
	std::map<u64, MLeaf>::iterator from(u64 iova)
	{
		auto it = leaves.upper_bound(iova);

		if (it != leaves.begin()) {
			auto p = std::prev(it);
			if (p->first + p->second.size - 1 >= iova)
				return p;
		}
		return it;
	}

	MLeaf *find(u64 iova, u64 *base)
	{
		auto it = from(iova);

		if (it == leaves.end() || it->first > iova)
			return nullptr;
		*base = it->first;
		return &it->second;
	}

	int map(u64 iova, u64 oa, u64 len, unsigned int prot)
	{
		auto it = from(iova);

		if (it != leaves.end() && it->first <= iova + len - 1)
			return -EEXIST;
		while (len) {
			for (int l = top; l >= 0; l--) {
				u64 s = L[l];

				if (ok[l] && !((iova | oa) & (s - 1)) && len >= s) {
					leaves[iova] = { s, oa, prot, false, false };
					iova += s;
					oa += s;
					len -= s;
					break;
				}
			}
		}
		return 0;
	}

	static void record(iolab_pt_dirty *d, u64 base, u64 size)
	{
		u64 wlast = d->iova + d->length - 1, end = base + size - 1;

		if (end < d->iova || base > wlast)
			return;
		for (u64 i = (std::max(base, d->iova) - d->iova) / d->page_size;
		     i <= (std::min(end, wlast) - d->iova) / d->page_size; i++) {
			unsigned long bit = 1UL << (i % 64);

			if (!(d->bitmap[i / 64] & bit))
				d->nr_dirty++;
			d->bitmap[i / 64] |= bit;
		}
	}

	u64 unmap(u64 iova, u64 last, iolab_pt_dirty *d)
	{
		u64 removed = 0;

		for (auto it = from(iova); it != leaves.end() && it->first <= last;) {
			if (it->first < iova || it->first + it->second.size - 1 > last)
				break;
			if (d && it->second.d)
				record(d, it->first, it->second.size);
			removed += it->second.size;
			it = leaves.erase(it);
		}
		return removed;
	}

	int translate(u64 iova, bool write, bool track, u64 *pa)
	{
		u64 base;
		MLeaf *l = find(iova, &base);

		if (!l)
			return -ENOENT;
		if (!(l->prot & (write ? IOLAB_PT_WRITE : IOLAB_PT_READ)))
			return -EACCES;
		l->a = true;
		if (write && track)
			l->d = true;
		*pa = l->oa + (iova - base);
		return 0;
	}

	void read_dirty(u64 iova, u64 last, bool clear, iolab_pt_dirty *d)
	{
		for (auto it = from(iova); it != leaves.end() && it->first <= last; ++it) {
			if (!it->second.d)
				continue;
			record(d, it->first, it->second.size);
			/* Only a leaf the window holds whole is cleared */
			if (clear && it->first >= d->iova &&
			    it->first + (it->second.size - 1) <= d->iova + (d->length - 1))
				it->second.d = false;
		}
	}

	void split_build(unsigned int lvl, u64 base, const MLeaf &parent, u64 iova,
			 u64 last, unsigned int target)
	{
		for (u64 i = 0; i < 512; i++) {
			u64 cb = base + i * L[lvl];
			MLeaf c = parent;
			bool inside = cb + L[lvl] - 1 >= iova && cb <= last;

			c.size = L[lvl];
			c.oa = parent.oa + i * L[lvl];
			if (ok[lvl] && (lvl <= target || !inside))
				leaves[cb] = c;
			else
				split_build(lvl - 1, cb, c, iova, last, target);
		}
	}

	void split(u64 iova, u64 last, unsigned int target)
	{
		std::vector<std::pair<u64, MLeaf>> big;

		for (auto it = from(iova); it != leaves.end() && it->first <= last; ++it)
			if (it->second.size > L[target])
				big.push_back(*it);
		for (auto &[base, leaf] : big) {
			leaves.erase(base);
			split_build(level_of(leaf.size) - 1, base, leaf, iova, last, target);
		}
	}

	void merge(u64 iova, u64 last)
	{
		for (unsigned int l = 1; l <= top; l++) {
			const u64 s = L[l];
			std::set<u64> blocks;

			if (!ok[l])
				continue;
			for (auto it = from(iova); it != leaves.end() && it->first <= last; ++it) {
				u64 b = it->first & ~(s - 1);

				if (it->second.size < s && b >= iova && b + s - 1 <= last)
					blocks.insert(b);
			}
			for (u64 b : blocks)
				merge_block(b, s);
		}
	}

	void merge_block(u64 b, u64 s)
	{
		auto first = leaves.find(b);
		if (first == leaves.end() || first->second.oa & (s - 1))
			return;
		MLeaf m = first->second;
		u64 next = b;
		auto it = first;

		for (; it != leaves.end() && it->first < b + s; ++it) {
			if (it->first != next || it->second.oa != m.oa + (next - b) ||
			    it->second.prot != m.prot)
				return;
			m.a |= it->second.a;
			m.d |= it->second.d;
			next += it->second.size;
		}
		if (next != b + s)
			return;
		leaves.erase(first, it);
		m.size = s;
		leaves[b] = m;
	}

	// The leaves that intersect [iova, last].
	std::vector<Leaf> dump(u64 iova = 0, u64 last = ~0ULL)
	{
		std::vector<Leaf> v;

		for (auto it = from(iova); it != leaves.end() && it->first <= last; ++it) {
			auto &[base, l] = *it;
			unsigned int flags = l.prot;

			if (l.a)
				flags |= IOLAB_PT_ACCESSED;
			if (l.d)
				flags |= IOLAB_PT_DIRTY;
			v.push_back({ base, l.oa, l.size, flags });
		}
		return v;
	}

	// Table pages: the top one plus every table a leaf hangs below. In IOVA
	// order, the tables of one level that hold leaves are met in order.
	u64 tables() const
	{
		u64 n = 1, seen[IOLAB_PT_MAX_LEVELS];
		bool any[IOLAB_PT_MAX_LEVELS] = {};

		for (auto &[base, l] : leaves) {
			for (unsigned int k = level_of(l.size); k < top; k++) {
				u64 id = base / L[k + 1];

				if (!any[k] || seen[k] != id)
					n++;
				any[k] = true;
				seen[k] = id;
			}
		}
		return n;
	}
};

class Fuzzer {
public:
	Fuzzer(const iolab_pt_cfg &cfg, u64 seed)
		: t(cfg), m(t.pt), rng(seed), L0(t.L(0)), L1(t.L(1)), L2(t.L(2)),
		  S(4 * L2)
	{
	}

	void run(int steps)
	{
		for (int i = 0; i < steps; i++) {
			CAPTURE(i);
			lo = S;
			hi = 0;
			step();
			check(i % 64 == 63);
		}
		check(true);
		// everything goes, and only the top table stays
		DirtyWindow w(0, S, L1);
		DirtyWindow mw(0, S, L1);
		CHECK(t.unmap(0, S, &w.d) == m.unmap(0, S - 1, &mw.d));
		CHECK(w.bits == mw.bits);
		CHECK(t.pages.live() == 1);
	}

private:
	Table t;
	Model m;
	std::mt19937_64 rng;
	const u64 L0, L1, L2, S;
	u64 lo, hi; // what the last operation worked on

	void worked_on(u64 iova, u64 last)
	{
		lo = std::min(lo, iova);
		hi = std::max(hi, std::min(last, S - 1));
	}

	u64 rnd(u64 n) { return std::uniform_int_distribution<u64>(0, n - 1)(rng); }
	bool chance(unsigned int pct) { return rnd(100) < pct; }

	// An IOVA in the space, often inside or near an existing leaf.
	u64 pick_iova(u64 align)
	{
		if (!m.leaves.empty() && chance(70)) {
			auto it = m.from(rnd(S));
			if (it == m.leaves.end())
				it = std::prev(it);
			u64 iova = it->first + rnd(it->second.size);
			if (chance(20))
				iova -= std::min(iova, rnd(4) * L0);
			return iova & ~(align - 1);
		}
		return rnd(S) & ~(align - 1);
	}

	unsigned int pick_prot()
	{
		static const unsigned int p[] = { IOLAB_PT_READ, IOLAB_PT_WRITE,
						  IOLAB_PT_READ | IOLAB_PT_WRITE };
		return chance(70) ? p[2] : p[rnd(2)];
	}

	void op_map(long fail)
	{
		u64 iova, oa, len;
		unsigned int r = rnd(100);

		if (r < 60) {
			iova = pick_iova(L0);
			len = (1 + rnd(16)) * L0;
			oa = rnd(1ULL << 40) & ~(L0 - 1);
		} else if (r < 95) {
			iova = (rnd(S) & ~(L1 - 1)) - (chance(50) ? rnd(3) * L0 : 0);
			len = (1 + rnd(2)) * L1 + rnd(3) * L0;
			// mostly the same offset in a big page, so big leaves fit
			oa = (rnd(1ULL << 40) & ~(L1 - 1)) + iova % L1 +
			     (chance(20) ? L0 : 0);
		} else {
			iova = rnd(S) & ~(L2 - 1);
			len = L2;
			oa = rnd(1ULL << 40) & ~(L2 - 1);
		}
		if (iova >= S || len > S - iova)
			return;
		unsigned int prot = pick_prot();
		worked_on(iova, iova + len - 1);
		t.pages.fail_nth(fail);
		int ret = t.map(iova, oa, len, prot);
		t.pages.fail_nth(0);
		if (fail && ret == -ENOMEM)
			return;
		CHECK(ret == m.map(iova, oa, len, prot));
	}

	void op_unmap()
	{
		u64 iova = pick_iova(chance(80) ? L0 : 1);
		u64 len = chance(90) ? 1 + rnd(3 * L1) : 1 + rnd(S);
		bool dirty = chance(50);

		if (iova + len > S)
			len = S - iova;
		worked_on(iova, iova + len - 1);
		// the window covers the range, which holds the removed leaves
		u64 wiova = iova & ~(L0 - 1);
		u64 wlen = ((iova + len + L0 - 1) & ~(L0 - 1)) - wiova;
		DirtyWindow w(wiova, wlen, L0);
		DirtyWindow mw(wiova, wlen, L0);
		CHECK(t.unmap(iova, len, dirty ? &w.d : nullptr) ==
		      m.unmap(iova, iova + len - 1, dirty ? &mw.d : nullptr));
		CHECK(w.d.nr_dirty == mw.d.nr_dirty);
		CHECK(w.bits == mw.bits);
	}

	void op_translate()
	{
		u64 iova = pick_iova(1), pa = 0, mpa = 0, size;
		bool write = chance(60), track = chance(80);
		int ret = iolab_pt_translate(&t.pt, iova, write, track, &pa, &size);

		worked_on(iova, iova);

		REQUIRE(ret == m.translate(iova, write, track, &mpa));
		CHECK(pa == mpa);
	}

	void op_read_dirty()
	{
		static const int shifts[] = { -1, 0, 2, 9, 18 };
		u64 ps = L0;
		int sh = shifts[rnd(5)];

		ps = sh < 0 ? L0 / 2 : L0 << sh;
		u64 nbits = 1 + rnd(4096);
		u64 wiova = pick_iova(ps);
		DirtyWindow w(wiova, nbits * ps, ps);
		DirtyWindow mw(wiova, nbits * ps, ps);
		u64 a = rnd(nbits * ps), b = rnd(nbits * ps);
		u64 iova = wiova + std::min(a, b), last = wiova + std::max(a, b);
		bool clear = chance(60);

		worked_on(std::min(iova, S - 1), last);

		REQUIRE(iolab_pt_read_dirty(&t.pt, iova, last - iova + 1, clear, &w.d) == 0);
		m.read_dirty(iova, last, clear, &mw.d);
		CHECK(w.d.nr_dirty == mw.d.nr_dirty);
		CHECK(w.bits == mw.bits);
	}

	void op_split(long fail)
	{
		unsigned int target;

		do {
			target = rnd(m.top);
		} while (!m.ok[target]);
		u64 iova = pick_iova(1), len = 1 + rnd(chance(80) ? 4 * L0 : 2 * L1);

		worked_on(iova, iova + len - 1);
		t.pages.fail_nth(fail);
		int ret = iolab_pt_split(&t.pt, iova, len, m.L[target]);
		t.pages.fail_nth(0);
		if (fail && ret == -ENOMEM)
			return;
		REQUIRE(ret == 0);
		m.split(iova, iova + len - 1, target);
	}

	void op_merge()
	{
		u64 iova = pick_iova(chance(70) ? L1 : L0), len;

		len = chance(50) ? L1 * (1 + rnd(3)) : rnd(S - iova) + 1;
		worked_on(iova, iova + len - 1);
		REQUIRE(iolab_pt_merge(&t.pt, iova, len) == 0);
		m.merge(iova, iova + len - 1);
	}

	void step()
	{
		unsigned int r = rnd(100);

		if (r < 28)
			op_map(0);
		else if (r < 32)
			op_map(1 + rnd(4));
		else if (r < 45)
			op_unmap();
		else if (r < 70)
			op_translate();
		else if (r < 82)
			op_read_dirty();
		else if (r < 88)
			op_split(0);
		else if (r < 91)
			op_split(1 + rnd(3));
		else
			op_merge();
	}

	static int collect(void *arg, const iolab_pt_leaf *l)
	{
		static_cast<std::vector<Leaf> *>(arg)->push_back(
			{ l->iova, l->oa, l->size, l->flags });
		return 0;
	}

	// Compare the leaves in what the last operation worked on, or all.
	void check(bool full)
	{
		// a dirty leaf under a clear summary bit would be skipped
		REQUIRE(summary_violation(t.pt) == ~0ULL);
		u64 a = full ? 0 : lo;
		u64 b = full ? S - 1 : hi;
		std::vector<Leaf> got;

		if (a <= b) {
			REQUIRE(iolab_pt_walk_leaves(&t.pt, a, b - a + 1, collect, &got) == 0);
			auto want = m.dump(a, b);
			REQUIRE(got.size() == want.size());
			auto diff = std::mismatch(got.begin(), got.end(), want.begin());
			if (diff.first != got.end())
				REQUIRE(*diff.first == *diff.second);
		}
		if (full) {
			REQUIRE(t.tables() == m.tables());
			REQUIRE(t.pages.live() == (long)m.tables());
		}
		for (int i = 0; i < 4; i++) {
			u64 iova = pick_iova(1), pa = 0, base = 0;
			unsigned int prot = 0;
			MLeaf *l = m.find(iova, &base);
			int ret = iolab_pt_iova_to_phys(&t.pt, iova, &pa, &prot, nullptr);

			REQUIRE(ret == (l ? 0 : -ENOENT));
			if (l)
				REQUIRE(pa == l->oa + (iova - base));
		}
	}
};

} // namespace

TEST_CASE("random map, unmap, translate, harvest, split and merge agree with a model")
{
	FOR_EACH_FLAVOUR(f) {
		for (u64 seed = 1; seed <= 20; seed++) {
			CAPTURE(seed);
			Fuzzer fz(f.cfg, seed);
			fz.run(2000);
		}
	}
}
