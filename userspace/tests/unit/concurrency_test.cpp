// SPDX-License-Identifier: GPL-2.0
// The concurrency runner the concurrent tests share (../common/concurrency.hpp).
#include <doctest/doctest.h>

#include <stdexcept>

#include "../common/concurrency.hpp"

using iommulab_test::Concurrent;

TEST_CASE("Concurrent: a worker with a small minimum keeps working until every other did its own")
{
	Concurrent run;
	// "fast" needs 1 iteration, but cannot stop before "slow" did its 50,
	// and slow's iteration i waits for fast's iteration i + 1: the run ends
	// only because fast kept working while slow ran.
	run.add("fast", 1, [&](long) {});
	run.add("slow", 50, [&](long i) {
		// true: fast cannot stop before slow did its 50
		if (!run.wait_for("fast", i + 1))
			throw std::runtime_error("wait_for gave up before slow's minimum");
	});
	auto r = run.run();
	REQUIRE_MESSAGE(r.ok(), r.error);
	CHECK(r.count("slow") == 50);
	CHECK(r.count("fast") >= 50);
	CHECK(r.summary().find("slow 50") != std::string::npos);
}

TEST_CASE("Concurrent: a throw in a worker stops every worker and is returned, not std::terminate")
{
	Concurrent run;
	run.add("endless", 1L << 62, [&](long) {});
	run.add("waiter", 1L << 62, [&](long) {
		// gives up instead of waiting for ever on the dead thrower
		CHECK_FALSE(run.wait_for("thrower", 1L << 62));
	});
	run.add("thrower", 10, [&](long i) {
		if (i == 3)
			throw std::runtime_error("boom");
	});
	auto r = run.run();
	CHECK_FALSE(r.ok());
	CHECK(r.error == "worker thrower, iteration 3: boom");
	CHECK(r.count("thrower") == 3);
	CHECK(r.count("endless") < (1L << 62));
	CHECK(r.count("waiter") <= 1);
	CHECK_THROWS_AS(r.count("nobody"), std::invalid_argument);
}
