// SPDX-License-Identifier: GPL-2.0
// `iommulab bench map`: IOAS_MAP + IOAS_UNMAP of one big buffer, backed by
// 4 KiB pages and by THP, into an IOAS with a mock domain (so MAP pins the
// memory and fills the domain's page table, UNMAP clears it and unpins),
// next to raw long-term pinning of the same buffer (IOMMULAB_BENCH_PIN) in
// the same run, and MAP + UNMAP into an IOAS without a device (lazy
// pinning: nothing is pinned). Prints figures; judges nothing.
#include "bench.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <sys/mman.h>

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
