#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make check`: build everything, run the native unit tests, then the VM lane
# (selftests/vm.sh check), and end with one line "N passed, N failed" (plus
# ", N skipped" when some were skipped) that adds up all of them:
#   - build: counts only when it fails (1 failed, and nothing else runs);
#   - unit tests: doctest's test-case counts of build/iommulab-unit, plus one
#     failure if it exits non-zero without reporting a failed test case or
#     prints no summary at all;
#   - VM lane: the "vm: N passed, N failed" result of selftests/vm.sh (see
#     there); a lane that cannot run (no kernel image, no QEMU, ...) is a
#     failure, never a skip.
# The line is also written to build/check.result.
# Exit status: non-zero if anything failed.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$IOMMULAB_ROOT"

MAKE=${MAKE:-make}
BUILD_DIR=${BUILD_DIR:-$IOMMULAB_ROOT/build}
tally_start check "$BUILD_DIR/check.result"

# ------------------------------------------------------------------ build ---
echo "check: building"
if ! $MAKE all; then
	tally_add 0 1 0 "build FAILED"
	exit 1
fi

# ------------------------------------------------------------- unit tests ---
unit=$BUILD_DIR/iommulab-unit
unit_log=$BUILD_DIR/unit.log
if [ ! -x "$unit" ]; then
	tally_add 0 1 0 "unit tests ($unit not built)"
else
	echo "check: running $unit"
	set +e
	"$unit" 2>&1 | tee "$unit_log"
	urc=${PIPESTATUS[0]}
	set -e
	tally_add_counts "$(parse_doctest "$unit_log")" "unit tests" "$urc"
fi

# ---------------------------------------------------------------- VM lane ---
result=$BUILD_DIR/vm-check.result
rm -f "$result"
selftests/vm.sh check || true
tally_add_result "$result" "VM lane"
