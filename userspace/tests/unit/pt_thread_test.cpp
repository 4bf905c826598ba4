// SPDX-License-Identifier: GPL-2.0
// I/O page table: the hardware walker racing harvests, splits and unmaps.
//
// One thread plays the device: it translates writes to random pages, as the
// mock DMA engine does. The test thread harvests dirty bits (or unmaps with
// read & unmap) meanwhile; each harvest bumps an epoch counter. The device
// logs each write that went through with the epoch it saw before (e1) and
// after (e2) the walk. Harvests before e1 were over when it landed; the
// first harvest that covers its page from e2 + 1 on started after it. So
// the write must show up in a harvest of its page from e1 to that one. And,
// with one bit per leaf, every page a harvest reports must have such a
// write.
// Each side runs until both did their minimum (Concurrent, a start barrier
// and per-worker counts, asserted); nothing depends on timing, only on the
// log.
#include <algorithm>
#include <atomic>
#include <random>

#include "../common/concurrency.hpp"

#include "pt_harness.h"

using namespace ptt;
using iommulab_test::Concurrent;

namespace {

struct Write {
	u64 page;
	u32 e1, e2;
};

// The harvests so far: which pages each one reported.
class Harvests {
public:
	explicit Harvests(u64 pages) : pages(pages) {}

	std::atomic<u32> epoch{ 0 };

	// Read and clear the dirty bits of @pages pages from @iova, then run
	// @then before this harvest counts as over.
	template <typename F>
	void harvest(Table &t, u64 iova, F then)
	{
		DirtyWindow w(iova, pages * t.L(0), t.L(0));

		REQUIRE(iolab_pt_read_dirty(&t.pt, iova, pages * t.L(0), true, &w.d) == 0);
		then();
		add(w, 0, pages - 1);
	}

	void harvest(Table &t, u64 iova)
	{
		harvest(t, iova, [] {});
	}

	// Read & unmap [iova, iova + len) as one harvest of its pages.
	void unmap(Table &t, u64 base, u64 iova, u64 len)
	{
		DirtyWindow w(base, pages * t.L(0), t.L(0));

		CHECK(t.unmap(iova, len, &w.d) == len);
		add(w, (iova - base) / t.L(0), (iova + len - base) / t.L(0) - 1);
	}

	// Every write was reported in time; with @exact, nothing else was.
	void check(const std::vector<Write> &log, bool exact) const
	{
		const u32 n = reported.size();
		std::vector<std::vector<u32>> by_page(pages);
		std::vector<std::vector<bool>> justified(exact ? pages : 0,
							 std::vector<bool>(n + 1));

		for (u32 h = 0; h < n; h++)
			for (u64 p : reported[h])
				by_page[p].push_back(h);
		for (const Write &w : log) {
			const auto &v = by_page[w.page];
			auto it = std::lower_bound(v.begin(), v.end(), w.e1);
			u32 last = next_cover(w.page, w.e2 + 1);

			if (it == v.end() || *it > last) {
				CAPTURE(w.page);
				CAPTURE(w.e1);
				CAPTURE(w.e2);
				FAIL("a write was not reported in time");
			}
			for (u32 h = w.e1; exact && h <= last; h++)
				justified[w.page][h] = true;
		}
		if (!exact)
			return;
		for (u32 h = 0; h < n; h++) {
			for (u64 p : reported[h]) {
				if (!justified[p][h]) {
					CAPTURE(h);
					CAPTURE(p);
					FAIL("a page was reported with no write to justify it");
				}
			}
		}
	}

private:
	const u64 pages;
	std::vector<std::vector<u64>> reported;
	std::vector<std::pair<u64, u64>> covers; // first and last page

	void add(const DirtyWindow &w, u64 first, u64 last)
	{
		reported.push_back(w.set());
		covers.push_back({ first, last });
		epoch.store(reported.size());
	}

	// The first harvest from @h on that covers @page (the last one does).
	u32 next_cover(u64 page, u32 h) const
	{
		const u32 n = reported.size();

		for (; h < n; h++)
			if (covers[h].first <= page && page <= covers[h].second)
				return h;
		return n - 1;
	}
};

// The device: each step() is one write to a random page, logged with the
// epochs it saw, as a worker of a Concurrent run (../common/concurrency.hpp)
// next to the harvester, so each side does its minimum while the other runs.
class Device {
public:
	// Between two writes the device idles for up to @idle loop turns.
	Device(Table &t, u64 iova, u64 pages, std::atomic<u32> &epoch, u64 seed,
	       unsigned int idle = 0)
		: t(t), iova(iova), pages(pages), epoch(epoch), idle(idle), rng(seed)
	{
	}

	void step()
	{
		const u64 L0 = t.L(0);
		u64 page = rng() % pages, pa;
		u32 e1 = epoch.load();
		int ret = iolab_pt_translate(&t.pt, iova + page * L0 + rng() % L0,
					     true, true, &pa, nullptr);
		u32 e2 = epoch.load();

		if (ret == 0)
			log.push_back({ page, e1, e2 });
		else
			faults++;
		for (u64 k = idle ? rng() % idle : 0; k; k--)
			asm volatile("" ::: "memory");
	}

	std::vector<Write> log; // the writes that went through
	long faults = 0;

private:
	Table &t;
	const u64 iova, pages;
	std::atomic<u32> &epoch;
	const unsigned int idle;
	std::mt19937_64 rng;
};

// Waits in a worker until @run's "device" has done @n writes; false when
// the run is stopping instead (see Concurrent::wait_for).
bool wait_device(const Concurrent &run, long n)
{
	return run.wait_for("device", n);
}

} // namespace

TEST_CASE("a harvest racing DMA writes loses no write and reports none twice")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1), pages = 1024;
		const u64 iova = 4 * L1;

		// the output address keeps every leaf small: one bit per leaf
		REQUIRE(t.map(iova, L0, pages * L0) == 0);
		REQUIRE(t.stats().nr_leaves[0] == pages);

		Harvests hv(pages);
		Device dev(t, iova, pages, hv.epoch, 42);
		Concurrent run;
		run.add("device", 100000, [&](long) { dev.step(); });
		run.add("harvester", 200, [&](long) { hv.harvest(t, iova); });
		auto r = run.run();
		INFO(r.summary());
		REQUIRE_MESSAGE(r.ok(), r.error);
		CHECK(r.count("device") >= 100000);
		CHECK(r.count("harvester") >= 200);

		hv.harvest(t, iova); // what landed after the last one
		CHECK(dev.faults == 0);
		CHECK(long(dev.log.size()) == r.count("device"));
		hv.check(dev.log, true);

		DirtyWindow after(iova, pages * L0, L0);
		REQUIRE(iolab_pt_read_dirty(&t.pt, iova, pages * L0, false, &after.d) == 0);
		CHECK(after.d.nr_dirty == 0);
	}
}

TEST_CASE("a split racing DMA writes keeps every dirty bit")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1), pages = 512;
		const u64 iova = 8 * L1;

		REQUIRE(t.map(iova, 16 * L1, L1) == 0);
		for (u64 round = 0; round < 50; round++) {
			CAPTURE(round);
			REQUIRE(t.stats().nr_leaves[1] == 1);
			Harvests hv(pages);
			Device dev(t, iova, pages, hv.epoch, round, 4000);
			Concurrent run;
			long at_split = 0;

			run.add("device", 1000, [&](long) { dev.step(); });
			// Harvest 0 splits the leaf once the device has written 50
			// times; harvest i waits for 20 i more writes after the
			// split, so writes land on both sides of it.
			run.add("harvester", 10, [&](long i) {
				if (i == 0) {
					if (!wait_device(run, 50))
						return;
					hv.harvest(t, iova, [&] {
						REQUIRE(iolab_pt_split(&t.pt, iova, L1, L0) == 0);
					});
					at_split = run.progress("device");
					return;
				}
				if (!wait_device(run, at_split + 20 * i))
					return;
				hv.harvest(t, iova);
			});
			auto r = run.run();
			INFO(r.summary());
			REQUIRE_MESSAGE(r.ok(), r.error);
			CHECK(r.count("device") >= at_split + 20 * 9);
			hv.harvest(t, iova);
			CHECK(dev.faults == 0);
			// a big leaf reports all its pages: only check for losses
			hv.check(dev.log, false);

			REQUIRE(t.stats().nr_leaves[0] == pages);
			// merge does not run beside walkers: the device is gone
			REQUIRE(iolab_pt_merge(&t.pt, iova, L1) == 0);
		}
		for (u64 off = 0; off < L1; off += L0) {
			u64 pa;
			REQUIRE(iolab_pt_iova_to_phys(&t.pt, iova + off, &pa, nullptr, nullptr) == 0);
			REQUIRE(pa == 16 * L1 + off);
		}
	}
}

TEST_CASE("read & unmap racing DMA writes reports every write that went through")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1), pages = 2048;
		const u64 iova = 2 * L1;

		// freed table pages stay readable for the walker, as with RCU
		t.pages.defer_free = true;
		for (u64 round = 0; round < 16; round++) {
			CAPTURE(round);
			REQUIRE(t.map(iova, L0, pages * L0) == 0);
			Harvests hv(pages);
			Device dev(t, iova, pages, hv.epoch, 100 + round);
			Concurrent run;

			run.add("device", 8000, [&](long) { dev.step(); });
			// Unmap in 8 pieces, harvesting in between, each after
			// 1000 more device writes; then only harvest until the
			// device has done its minimum.
			run.add("unmapper", 8, [&](long i) {
				if (i >= 8) {
					hv.harvest(t, iova);
					return;
				}
				if (!wait_device(run, run.progress("device") + 1000))
					return;
				hv.harvest(t, iova);
				hv.unmap(t, iova, iova + i * pages / 8 * L0, pages / 8 * L0);
			});
			auto r = run.run();
			INFO(r.summary());
			REQUIRE_MESSAGE(r.ok(), r.error);
			CHECK(r.count("unmapper") >= 8);
			CHECK(r.count("device") >= 8000);
			CHECK(long(dev.log.size()) + dev.faults == r.count("device"));
			hv.harvest(t, iova);
			hv.check(dev.log, true);
			CHECK(t.tables() == 1);
		}
	}
}
