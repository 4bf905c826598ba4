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
#     there): the harness, then every demo scenario (selftests/*.scn of
#     make demo, VM_CHECK_SCENARIOS=1), one test each; a lane that cannot run (no kernel image, no QEMU, ...) is a
#     failure, never a skip.
# With REPEAT=N the unit tests and the VM lane run N times on one build;
# each run's counts are printed ("run I/N: P passed, F failed") and the
# last line adds up all runs.
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

# One run: the unit tests, then the VM lane. REPEAT=N (make check REPEAT=N)
# runs it N times on the same build, prints each run's line "run I/N: ..."
# and keeps a failed run's console as vm-check.log.run-I; the last line adds
# up every run.
unit=$BUILD_DIR/iommulab-unit
unit_log=$BUILD_DIR/unit.log
result=$BUILD_DIR/vm-check.result
one_run() {
	# ------------------------------------------------------ unit tests ---
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

	# --------------------------------------------------------- VM lane ---
	rm -f "$result"
	VM_CHECK_SCENARIOS=1 selftests/vm.sh check || true
	tally_add_result "$result" "VM lane"
}

REPEAT=${REPEAT:-1}
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || { tally_add 0 1 0 "REPEAT=$REPEAT is not a whole number >= 1"; exit 1; }
rm -f "$BUILD_DIR"/vm-check.log.run-*
runs=()
for ((run = 1; run <= REPEAT; run++)); do
	p0=$passed f0=$failed s0=$skipped
	[ "$REPEAT" = 1 ] || echo "check: run $run/$REPEAT"
	one_run
	[ "$REPEAT" = 1 ] && break
	runs+=("run $run/$REPEAT: $(format_counts $((passed - p0)) $((failed - f0)) $((skipped - s0)))")
	echo "check: ${runs[-1]}"
	[ "$failed" -eq "$f0" ] || cp -f "$BUILD_DIR/vm-check.log" "$BUILD_DIR/vm-check.log.run-$run" 2>/dev/null || true
done
if [ "$REPEAT" -gt 1 ]; then
	echo
	printf 'check: %s\n' "${runs[@]}"
fi
