// SPDX-License-Identifier: GPL-2.0
// The doctest runner of the native unit tests.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
