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
			L[l] = 1ULL << (pt.cfg.leaf_shift + 9 * l);
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

	u64 unmap(u64 iova, u64 last)
	{
		u64 removed = 0;

		for (auto it = from(iova); it != leaves.end() && it->first <= last;) {
			if (it->first < iova || it->first + it->second.size - 1 > last)
				break;
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

	// The leaves that intersect [iova, last].
	std::vector<Leaf> dump(u64 iova = 0, u64 last = ~0ULL)
	{
		std::vector<Leaf> v;

		for (auto it = from(iova); it != leaves.end() && it->first <= last; ++it) {
			auto &[base, l] = *it;
			unsigned int flags = l.prot;

			if (l.a)
				flags |= ACCESSED;
			if (l.d)
				flags |= DIRTY;
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
		CHECK(t.unmap(0, S) == m.unmap(0, S - 1));
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

		if (iova + len > S)
			len = S - iova;
		worked_on(iova, iova + len - 1);
		CHECK(t.unmap(iova, len) == m.unmap(iova, iova + len - 1));
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

	void step()
	{
		unsigned int r = rnd(100);

		if (r < 40)
			op_map(0);
		else if (r < 46)
			op_map(1 + rnd(4));
		else if (r < 65)
			op_unmap();
		else
			op_translate();
	}

	// Compare the leaves in what the last operation worked on, or all.
	void check(bool full)
	{
		u64 a = full ? 0 : lo;
		u64 b = full ? S - 1 : hi;
		if (a <= b) {
			auto got = t.dump(a, b);
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
			MLeaf *l = m.find(iova, &base);
			int ret = iolab_pt_iova_to_phys(&t.pt, iova, &pa);

			REQUIRE(ret == (l ? 0 : -ENOENT));
			if (l)
				REQUIRE(pa == l->oa + (iova - base));
		}
	}
};

} // namespace

TEST_CASE("random map, unmap and translate agree with a model")
{
	FOR_EACH_FLAVOUR(f) {
		for (u64 seed = 1; seed <= 20; seed++) {
			CAPTURE(seed);
			Fuzzer fz(f.cfg, seed);
			fz.run(2000);
		}
	}
}
