// SPDX-License-Identifier: GPL-2.0
// `iommulab bench map`: IOAS_MAP + IOAS_UNMAP of one big buffer, backed by
// 4 KiB pages and by THP, into an IOAS with a mock domain (so MAP pins the
// memory and fills the domain's page table, UNMAP clears it and unpins),
// next to raw long-term pinning of the same buffer (IOMMULAB_BENCH_PIN) in
// the same run, and MAP + UNMAP into an IOAS without a device (lazy
// pinning: nothing is pinned). Prints figures; judges nothing.
#include "bench.hpp"
#include "dirty_pattern.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <random>
#include <sys/mman.h>
#include <vector>

namespace iommulab {

namespace {

double now_s()
{
	using namespace std::chrono;
	return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// Anonymous memory of @len bytes, 2 MiB aligned, every page touched.
struct BenchBuffer {
	uint8_t *base = nullptr, *p = nullptr;
	size_t len, map_len;

	BenchBuffer(size_t n, bool thp) : len(n), map_len(n + (2 << 20))
	{
		void *m = mmap(nullptr, map_len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			throw Error("mmap bench buffer", errno);
		base = static_cast<uint8_t *>(m);
		uintptr_t a = (reinterpret_cast<uintptr_t>(base) + (2 << 20) - 1) &
			      ~uintptr_t((2 << 20) - 1);
		p = reinterpret_cast<uint8_t *>(a);
		madvise(p, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
		for (size_t i = 0; i < len; i += 4096)
			p[i] = 1;
	}
	~BenchBuffer() { munmap(base, map_len); }
};

} // namespace

void bench_map(const Iommufd &fd, uint64_t size, int reps)
{
	const double gib = double(size) / (1ULL << 30);

	std::printf("bench map: %llu MiB buffer, %d repetitions each, best run\n",
		    (unsigned long long)(size >> 20), reps);
	for (bool thp : {false, true}) {
		BenchBuffer buf(size, thp);
		Ioas ioas(fd), lazy(fd);
		// MAP into an IOAS with a domain pins at once (lazy pinning).
		MockDomain md(fd, ioas.id());
		double best_map = 1e9, best_unmap = 1e9, best_pin = 1e9,
		       best_unpin = 1e9, best_raw = 1e9, best_lazy = 1e9;

		for (int r = 0; r < reps; r++) {
			double l0 = now_s();
			uint64_t liova = lazy.map(buf.p, size,
						  IOMMU_IOAS_MAP_READABLE |
							  IOMMU_IOAS_MAP_WRITEABLE);
			lazy.unmap(liova, size);
			best_lazy = std::min(best_lazy, now_s() - l0);

			double t0 = now_s();
			uint64_t iova = ioas.map(buf.p, size,
						 IOMMU_IOAS_MAP_READABLE |
							 IOMMU_IOAS_MAP_WRITEABLE);
			double t1 = now_s();
			ioas.unmap(iova, size);
			double t2 = now_s();
			best_map = std::min(best_map, t1 - t0);
			best_unmap = std::min(best_unmap, t2 - t1);

			iommulab_bench_pin cmd{};
			cmd.size = sizeof(cmd);
			cmd.flags = IOMMULAB_BENCH_PIN_WRITE;
			cmd.uptr = reinterpret_cast<uintptr_t>(buf.p);
			cmd.length = size;
			double t3 = now_s();
			fd.call("IOMMULAB_BENCH_PIN", IOMMULAB_BENCH_PIN, &cmd);
			best_raw = std::min(best_raw, now_s() - t3);
			best_pin = std::min(best_pin, cmd.out_pin_ns / 1e9);
			best_unpin = std::min(best_unpin, cmd.out_unpin_ns / 1e9);
		}
		const char *kind = thp ? "THP     " : "4 KiB   ";
		std::printf("  %s MAP %6.2f GiB/s  UNMAP %6.2f GiB/s  MAP+UNMAP "
			    "%6.2f GiB/s\n",
			    kind, gib / best_map, gib / best_unmap,
			    gib / (best_map + best_unmap));
		std::printf("  %s pin %6.2f GiB/s  unpin %6.2f GiB/s  pin+unpin "
			    "%6.2f GiB/s (raw FOLL_LONGTERM)\n",
			    kind, gib / best_pin, gib / best_unpin, gib / best_raw);
		std::printf("  %s MAP+UNMAP takes %.2fx the time of raw pin+unpin\n",
			    kind, (best_map + best_unmap) / best_raw);
		std::printf("  %s MAP+UNMAP without a device (nothing pinned) "
			    "%.0f us\n",
			    kind, best_lazy * 1e6);
	}
}

} // namespace iommulab

namespace iommulab {

namespace {

// Median of @v, in microseconds.
double median_us(std::vector<double> v)
{
	std::sort(v.begin(), v.end());
	return v.empty() ? 0 : v[v.size() / 2] * 1e6;
}

void print_row(const char *what, const std::vector<double> &attach,
	       const std::vector<double> &detach)
{
	std::printf("  %-44s attach %7.2f us   detach %7.2f us\n", what,
		    median_us(attach), median_us(detach));
}

} // namespace

void bench_paths(const Iommufd &fd, int rounds)
{
	// One PASID-capable device bound to the fd, its RID on A; B mapped
	// at the same IOVA for the PASIDs. Each round is one attach and one
	// detach; a DMA after each attach proves it took.
	Ioas a(fd), b(fd);
	BenchBuffer mem(1 << 20, false);
	const uint64_t iova = MOCK_APERTURE_START + (1 << 20);
	const uint32_t rw = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE |
			    IOMMU_IOAS_MAP_FIXED_IOVA;
	a.map(mem.p, mem.len, rw, iova);
	b.map(mem.p, mem.len, rw, iova);
	auto devs = mock_group_alloc(fd, 1, MOCK_FLAGS_DEVICE_PASID);
	Device dev(fd, devs[0].rid);
	// The RID's domain must be PASID-compatible for the PASID path.
	Hwpt rid_hwpt(fd, dev.id(), a.id(), IOMMU_HWPT_ALLOC_PASID);
	dev.attach(rid_hwpt.id());
	Hwpt pasid_hwpt(fd, dev.id(), b.id(), IOMMU_HWPT_ALLOC_PASID);
	Hwpt aux_hwpt(fd, dev.id(), b.id());
	IoasidSet set(fd, 16);
	uint8_t byte = 0;
	auto prove = [&](uint32_t pasid) {
		DmaResult r = dma_pasid(fd, dev.id(), pasid, iova, &byte, 1, false);
		if (!r.ok())
			throw Error("bench: DMA after attach", EIO);
	};
	// A sub-device of the device, bound here, routed by each path onto
	// the same HWPT (PASID-capable, so both paths take it).
	auto subs = mock_subdev_alloc(fd, devs[0].stdev_id, 1);
	Device sub(fd, subs[0].rid);
	auto prove_sub = [&] {
		DmaResult r = dma(fd, sub.id(), iova, &byte, 1, false);
		if (!r.ok())
			throw Error("bench: sub-device DMA after attach", EIO);
	};
	std::vector<double> at[5], de[5];

	std::printf("bench paths: one device, %d rounds each, median\n", rounds);
	for (int i = 0; i < rounds; i++) {
		// The PASID path, a PASID the caller allocated beforehand.
		const uint32_t p = set.alloc();
		double t0 = now_s();
		device_pasid(fd, dev.id(), IOMMULAB_PASID_ATTACH, p, pasid_hwpt.id());
		double t1 = now_s();
		prove(p);
		double t2 = now_s();
		device_pasid(fd, dev.id(), IOMMULAB_PASID_DETACH, p);
		double t3 = now_s();
		set.free(p);
		at[0].push_back(t1 - t0);
		de[0].push_back(t3 - t2);

		// The PASID path, the kernel picking the PASID from the set;
		// the detach includes giving the PASID back.
		t0 = now_s();
		const uint32_t q = device_pasid_alloc(fd, dev.id(), pasid_hwpt.id());
		t1 = now_s();
		prove(q);
		t2 = now_s();
		device_pasid(fd, dev.id(), IOMMULAB_PASID_DETACH, q);
		set.free(q);
		t3 = now_s();
		at[1].push_back(t1 - t0);
		de[1].push_back(t3 - t2);

		// The aux path: the kernel allocates and frees the PASID.
		t0 = now_s();
		const uint32_t r = aux_op(fd, IOMMULAB_AUX_ATTACH, dev.id(),
					  aux_hwpt.id());
		t1 = now_s();
		prove(r);
		t2 = now_s();
		aux_op(fd, IOMMULAB_AUX_DETACH, dev.id(), aux_hwpt.id());
		t3 = now_s();
		at[2].push_back(t1 - t0);
		de[2].push_back(t3 - t2);

		// A sub-device's attach by each path: the kernel picks (or,
		// aux, makes the domain's default) PASID and frees it.
		const uint32_t flags[] = {IOMMULAB_ATTACH_SUBDEV_PASID,
					  IOMMULAB_ATTACH_SUBDEV_AUX};
		for (int k = 0; k < 2; k++) {
			t0 = now_s();
			sub.attach(pasid_hwpt.id(), flags[k]);
			t1 = now_s();
			prove_sub();
			t2 = now_s();
			sub.detach();
			t3 = now_s();
			at[3 + k].push_back(t1 - t0);
			de[3 + k].push_back(t3 - t2);
		}
	}
	print_row("PASID path (PASID allocated beforehand)", at[0], de[0]);
	print_row("PASID path, --alloc (detach includes free)", at[1], de[1]);
	print_row("aux path (kernel allocates and frees)", at[2], de[2]);
	print_row("sub-device, PASID path (DEVICE_ATTACH)", at[3], de[3]);
	print_row("sub-device, aux path (DEVICE_ATTACH)", at[4], de[4]);
}

} // namespace iommulab

// `iommulab bench dirty`: IOMMU_HWPT_GET_DIRTY_BITMAP of a big range of
// 4 KiB IOPTEs at several dirty fractions, next to a plain read of the same
// IOPTE memory (IOMMULAB_TEST_OP_READ_IOPTES), in one run. The range is
// one small 4 KiB-page buffer mapped again and again (huge pages off, then
// split to 4 KiB to be sure); pages are marked dirty with
// IOMMU_TEST_OP_DIRTY (as DMA writes would, summary bits included),
// spread at random (and, for 0.1%, also in runs of 4 and of 16 pages:
// dirty_pattern.hpp), and every harvest is checked to return exactly them.
namespace iommulab {

namespace {

double median_ms(std::vector<double> v)
{
	std::sort(v.begin(), v.end());
	return v.empty() ? 0 : v[v.size() / 2] * 1e3;
}

} // namespace

void bench_dirty(const Iommufd &fd, uint64_t gib, int reps)
{
	constexpr uint64_t page = 4096, buf_len = 64ULL << 20;
	const uint64_t len = gib << 30, iova = 64ULL << 30, pages = len / page;
	const uint32_t rw = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE |
			    IOMMU_IOAS_MAP_FIXED_IOVA;

	if (!gib || len % buf_len || reps < 1)
		throw Error("bench dirty: --gib must be >= 1, --reps >= 1", EINVAL);
	BenchBuffer buf(buf_len, false);
	Ioas ioas(fd);
	ioas.set_huge_pages(false);
	auto hw = mock_group_alloc(fd, 1, IOMMULAB_MOCK_DEV_4K);
	Device dev(fd, hw[0].rid);
	Hwpt hwpt(fd, dev.id(), ioas.id(), IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
	dev.attach(hwpt.id());

	double t0 = now_s();
	for (uint64_t off = 0; off < len; off += buf_len)
		ioas.map(buf.p, buf_len, rw, iova + off);
	double t_map = now_s() - t0;
	auto [before, after] = hwpt_reshape(fd, hwpt.id(), iova, len, page);
	if (after != pages)
		throw Error("bench dirty: not all IOPTEs are 4 KiB", EIO);
	set_dirty_tracking(fd, hwpt.id(), true);

	std::printf("bench dirty: %llu GiB of IOVA, %llu IOPTEs of 4 KiB (%llu "
		    "MiB of level 0 tables; %llu split from larger), mapped in "
		    "%.1f s; %d repetitions each, median\n",
		    (unsigned long long)gib, (unsigned long long)pages,
		    (unsigned long long)(pages * 8 >> 20),
		    (unsigned long long)(before == after ? 0 : before),
		    t_map, reps);

	// The plain read, in seconds. It is timed beside each 100% harvest
	// (below), so that the two figures the second target compares come
	// from the same moments of a noisy host; this first one only checks.
	auto plain_read = [&] {
		double a = now_s();
		if (test_read_ioptes(fd, hwpt.id(), iova, len) != pages)
			throw Error("bench dirty: plain read saw too few IOPTEs", EIO);
		return now_s() - a;
	};
	plain_read();

	const auto &rows = DIRTY_ROWS;
	constexpr int NROWS = std::size(DIRTY_ROWS);
	static_assert(ROW_ALL == 0, "the 100% row times the read the others use");
	double ms[NROWS] = {}, plain_ms = 0;
	std::mt19937_64 rng(12);

	for (int k = 0; k < NROWS; k++) {
		DirtyBitmap mark(iova, len, page);

		mark.bytes = dirty_pattern(pages, rows[k].per_million,
					   rows[k].run, rng);
		const uint64_t want = dirty_pattern_count(mark.bytes);
		std::vector<double> t, plain;
		for (int r = 0; r < reps; r++) {
			if (k == ROW_ALL)
				plain.push_back(plain_read());
			if (want && test_set_dirty(fd, hwpt.id(), mark) != want)
				throw Error("bench dirty: IOMMU_TEST_OP_DIRTY marked too few", EIO);
			DirtyBitmap got(iova, len, page);
			double a = now_s();
			get_dirty_bitmap(fd, hwpt.id(), got);
			t.push_back(now_s() - a);
			if (got.bytes != mark.bytes)
				throw Error("bench dirty: the harvest is not what was marked", EIO);
		}
		ms[k] = median_ms(t);
		if (k == ROW_ALL) {
			plain_ms = median_ms(plain);
			std::printf("  %-24s %10s %12s %10s %12s\n", "", "dirty",
				    "median ms", "ns/IOPTE", "vs read");
			std::printf("  %-24s %10s %12.2f %10.2f %12s\n",
				    "plain IOPTE read", "-", plain_ms,
				    plain_ms * 1e6 / pages, "1.00x");
		}
		std::printf("  %-24s %9.2f%% %12.2f %10.2f %11.2fx\n", rows[k].name,
			    rows[k].per_million / 1e4, ms[k], ms[k] * 1e6 / pages,
			    ms[k] / plain_ms);
		if (k)
			continue;
		// The same 100%, read with NO_CLEAR: no atomic clearing
		if (test_set_dirty(fd, hwpt.id(), mark) != want)
			throw Error("bench dirty: IOMMU_TEST_OP_DIRTY marked too few", EIO);
		t.clear();
		for (int r = 0; r < reps; r++) {
			DirtyBitmap got(iova, len, page);
			double a = now_s();
			get_dirty_bitmap(fd, hwpt.id(), got, false);
			t.push_back(now_s() - a);
			if (got.bytes != mark.bytes)
				throw Error("bench dirty: NO_CLEAR is not what was marked", EIO);
		}
		DirtyBitmap reset(iova, len, page);
		get_dirty_bitmap(fd, hwpt.id(), reset);
		std::printf("  %-24s %9.2f%% %12.2f %10.2f %11.2fx\n",
			    "  the same, NO_CLEAR", 100.0, median_ms(t),
			    median_ms(t) * 1e6 / pages, median_ms(t) / plain_ms);
	}
	auto ratio = [&](int k) { return ms[k] > 0 ? ms[ROW_ALL] / ms[k] : 0; };
	const double runs = ratio(ROW_RUNS_64K), runs16 = ratio(ROW_RUNS_16K);
	const double vs_read = ms[ROW_ALL] / plain_ms;
	// The target is for memory written in runs; pages at random are the
	// model's worst case, printed beside it (docs/BENCHMARKS.md).
	std::printf("  target: 0.1%% dirty (in 64 KiB runs) at least 20x cheaper "
		    "than 100%%: %.1fx (%s); in 16 KiB runs %.1fx, with the "
		    "pages at random %.1fx\n", runs, runs >= 20 ? "met" : "NOT met",
		    runs16, ratio(ROW_RANDOM));
	std::printf("  target: 100%% dirty within 2x of the plain read: %.2fx "
		    "(%s)\n", vs_read, vs_read <= 2 ? "met" : "NOT met");
	set_dirty_tracking(fd, hwpt.id(), false);
	dev.detach();
}

} // namespace iommulab
