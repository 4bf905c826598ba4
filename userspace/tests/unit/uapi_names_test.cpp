// SPDX-License-Identifier: GPL-2.0
// The uAPI headers an upstream program includes: uapi_names.c is their
// compile test (every upstream name, value, size and offset, checked by
// _Static_assert when the unit tests build); this case runs its run-time
// part.
#include <doctest/doctest.h>

#include "uapi_names.h"

TEST_CASE("the upstream-compatible headers serve an upstream-style C user")
{
	CHECK(iolab_uapi_names_check() == 0);
}
