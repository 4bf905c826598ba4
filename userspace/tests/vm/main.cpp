// SPDX-License-Identifier: GPL-2.0
// The in-VM harness: every test drives the module through /dev/iommu.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
