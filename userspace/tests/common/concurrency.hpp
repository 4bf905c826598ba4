// SPDX-License-Identifier: GPL-2.0
// Concurrent tests that prove their threads overlapped (the VM harness and
// the native unit tests share it; no test framework in here).
//
//   Concurrent run;
//   run.add("remapper", 300, [&](long i) { ...one iteration... });
//   run.add("reader", 300, [&](long i) { ... });
//   auto r = run.run();
//   REQUIRE_MESSAGE(r.ok(), r.error);       // a worker threw: fail, with why
//   CHECK(r.count("reader") >= 300);
//
// run() starts one thread per worker and releases them together (a start
// barrier). Each thread calls its function with i = 0, 1, 2, ... and keeps
// going until EVERY worker has done at least its minimum: a thread that is
// scheduled late still does its minimum while all the others are running,
// so the race the test names really happens, whatever the scheduler does.
// Nothing here depends on time.
//
// An exception thrown by a worker (a library error, a doctest REQUIRE, a
// std::bad_alloc) is caught in that thread, never reaches std::terminate:
// it stops every worker, and run() returns it as Result::error (the first
// one, with the worker's name and iteration). Threads are always joined.
//
// wait_for(worker, n) lets one iteration wait until another worker has done
// n iterations (e.g. "split only once the device is writing"). It gives up
// (returns false) when the run is stopping, because a worker failed or
// because every worker has done its minimum (the partner may have stopped
// then), so it cannot deadlock on a partner that is gone; the iteration
// should then just return. Before the waiting worker has done its own
// minimum, the partner cannot have stopped unless something failed (and
// that failure is the run's error).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace iommulab_test {

class Concurrent {
public:
	struct Result {
		std::vector<std::string> names;
		std::vector<long> counts; // iterations each worker completed
		std::string error;        // empty when no worker threw

		bool ok() const { return error.empty(); }
		long count(const std::string &name) const
		{
			for (size_t k = 0; k < names.size(); k++)
				if (names[k] == name)
					return counts[k];
			throw std::invalid_argument("no worker " + name);
		}
		// "remapper 300, reader 1234": for CAPTURE/INFO.
		std::string summary() const
		{
			std::string s;
			for (size_t k = 0; k < names.size(); k++)
				s += (k ? ", " : "") + names[k] + " " +
				     std::to_string(counts[k]);
			return s;
		}
	};

	// A worker called @name that must do at least @min iterations of @fn.
	void add(std::string name, long min, std::function<void(long)> fn)
	{
		auto w = std::make_unique<Worker>();
		w->name = std::move(name);
		w->min = min;
		w->fn = std::move(fn);
		workers_.push_back(std::move(w));
	}

	// Blocks until @worker has completed @n iterations; false if the run
	// is stopping first (a failure, or every minimum done).
	bool wait_for(const std::string &worker, long n) const
	{
		const Worker &w = find(worker);

		return wait_until([&] { return w.done.load() >= n; });
	}

	// Blocks until @pred() holds; false if the run is stopping first.
	// Spins with sched_yield, then also sleeps a microsecond a turn, so a
	// waiter on a starved (TCG, shared host) CPU leaves it to the worker
	// it waits for. Only the speed depends on this, never the result.
	template <class P> bool wait_until(P pred) const
	{
		for (long spins = 0; !pred(); spins++) {
			if (stopping())
				return false;
			if (spins < 1000)
				std::this_thread::yield();
			else
				std::this_thread::sleep_for(std::chrono::microseconds(1));
		}
		return true;
	}

	// Iterations @worker has completed so far.
	long progress(const std::string &worker) const
	{
		return find(worker).done.load();
	}

	// Whether a worker has failed (the others stop at their next turn).
	bool failed() const { return failed_.load(); }

	// Whether the run is stopping: a worker failed, or every worker has
	// done its minimum.
	bool stopping() const { return failed_.load() || all_reached_min(); }

	Result run()
	{
		std::vector<std::thread> threads;
		const size_t n = workers_.size();

		arrived_ = 0;
		failed_ = false;
		error_.clear();
		for (auto &w : workers_)
			w->done = 0;
		try {
			for (size_t k = 0; k < n; k++)
				threads.emplace_back([this, k] { body(*workers_[k]); });
		} catch (...) {
			fail(std::current_exception(), "starting threads", 0);
			arrived_ += n; // release the ones that started
		}
		for (auto &t : threads)
			t.join();

		Result r;
		for (auto &w : workers_) {
			r.names.push_back(w->name);
			r.counts.push_back(w->done.load());
		}
		r.error = error_;
		return r;
	}

private:
	struct Worker {
		std::string name;
		long min;
		std::function<void(long)> fn;
		std::atomic<long> done{0};
	};

	std::vector<std::unique_ptr<Worker>> workers_;
	std::atomic<size_t> arrived_{0};
	std::atomic<bool> failed_{false};
	std::mutex lock_;
	std::string error_;

	const Worker &find(const std::string &name) const
	{
		for (auto &w : workers_)
			if (w->name == name)
				return *w;
		throw std::invalid_argument("no worker " + name);
	}

	bool all_reached_min() const
	{
		for (auto &w : workers_)
			if (w->done.load() < w->min)
				return false;
		return true;
	}

	void fail(std::exception_ptr e, const std::string &who, long i)
	{
		std::string what = "unknown exception";

		try {
			std::rethrow_exception(e);
		} catch (const std::exception &x) {
			what = x.what();
		} catch (...) {
			// doctest's REQUIRE throws a type of its own; its
			// assertion was already reported with file and line.
			what = "an exception that is not a std::exception (a failed REQUIRE?)";
		}
		std::lock_guard<std::mutex> g(lock_);
		if (error_.empty())
			error_ = who + ", iteration " + std::to_string(i) + ": " + what;
		failed_ = true;
	}

	void body(Worker &w)
	{
		long i = 0;

		arrived_++;
		while (arrived_.load() < workers_.size())
			std::this_thread::yield();
		try {
			while (!failed_.load() && !all_reached_min()) {
				w.fn(i);
				w.done.store(++i);
			}
		} catch (...) {
			fail(std::current_exception(), "worker " + w.name, i);
		}
	}
};

} // namespace iommulab_test
