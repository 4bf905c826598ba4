// SPDX-License-Identifier: GPL-2.0
// I/O page table: the hardware walker racing unmaps.
//
// One thread plays the device: it translates writes to random pages, as the
// mock DMA engine does. The test thread unmaps the range piece by piece
// meanwhile, counting the pieces whose unmap has started and those whose
// unmap has returned. The device reads the second count before each walk
// and the first one after it: a write that went through must be to a piece
// whose unmap had not returned when the walk began, and one that faulted to
// a piece whose unmap had started when the walk ended.
// Each side runs until both did their minimum (Concurrent, a start barrier
// and per-worker counts, asserted); nothing depends on timing.
#include <atomic>
#include <random>

#include "../common/concurrency.hpp"

#include "pt_harness.h"

using namespace ptt;
using iommulab_test::Concurrent;

namespace {

constexpr u64 PIECES = 8;

// The device: each step() is one write to a random page, checked against
// the unmapper's counts, as a worker of a Concurrent run
// (../common/concurrency.hpp) next to the unmapper.
class Device {
public:
	Device(Table &t, u64 iova, u64 oa, u64 pages, std::atomic<u64> &started,
	       std::atomic<u64> &done, u64 seed)
		: t(t), iova(iova), oa(oa), pages(pages), started(started),
		  done(done), rng(seed)
	{
	}

	void step()
	{
		const u64 L0 = t.L(0);
		u64 page = rng() % pages, off = rng() % L0, pa = 0;
		u64 piece = page / (pages / PIECES);
		u64 done_before = done.load();
		int ret = iolab_pt_translate(&t.pt, iova + page * L0 + off, true,
					     true, &pa, nullptr);
		u64 started_after = started.load();

		if (ret == 0) {
			writes++;
			if (piece < done_before || pa != oa + page * L0 + off)
				wrong++;
		} else if (ret == -ENOENT) {
			faults++;
			if (piece >= started_after)
				wrong++;
		} else {
			wrong++;
		}
	}

	long writes = 0, faults = 0;
	long wrong = 0; // outcomes the unmapper's counts rule out

private:
	Table &t;
	const u64 iova, oa, pages;
	std::atomic<u64> &started, &done;
	std::mt19937_64 rng;
};

} // namespace

TEST_CASE("unmap racing DMA writes: a write goes through until its piece is unmapped, then faults")
{
	FOR_EACH_FLAVOUR(f) {
		Table t(f.cfg);
		const u64 L0 = t.L(0), L1 = t.L(1), pages = 2048;
		const u64 iova = 2 * L1, piece_len = pages / PIECES * L0;

		// freed table pages stay readable for the walker, as with RCU
		t.pages.defer_free = true;
		for (u64 round = 0; round < 16; round++) {
			CAPTURE(round);
			// the output address keeps every leaf small
			REQUIRE(t.map(iova, L0, pages * L0) == 0);
			std::atomic<u64> started{ 0 }, done{ 0 };
			Device dev(t, iova, L0, pages, started, done, 100 + round);
			Concurrent run;
			std::vector<u64> unmapped;

			run.add("device", 8000, [&](long) { dev.step(); });
			// Unmap the pieces in order, each after 1000 more device
			// writes; then idle until the device has done its minimum.
			run.add("unmapper", PIECES, [&](long i) {
				if (i >= long(PIECES))
					return;
				if (!run.wait_for("device", run.progress("device") + 1000))
					return;
				started.store(i + 1);
				unmapped.push_back(t.unmap(iova + i * piece_len, piece_len));
				done.store(i + 1);
			});
			auto r = run.run();
			INFO(r.summary());
			REQUIRE_MESSAGE(r.ok(), r.error);
			CHECK(r.count("unmapper") >= long(PIECES));
			CHECK(r.count("device") >= 8000);
			CHECK(dev.writes + dev.faults == r.count("device"));
			CHECK(dev.writes >= 1000);
			CHECK(dev.faults > 0);
			CHECK(dev.wrong == 0);
			CHECK(unmapped == std::vector<u64>(PIECES, piece_len));
			CHECK(t.dump().empty());
			CHECK(t.tables() == 1);
		}
	}
}
