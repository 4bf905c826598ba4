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
passed=0 failed=0 skipped=0

summary() {
	local rc=$?
	trap - EXIT
	# An unexpected error in this script is a failure too.
	[ "$rc" -eq 0 ] || [ "$failed" -gt 0 ] || failed=$((failed + 1))
	echo
	mkdir -p "$BUILD_DIR"
	format_counts "$passed" "$failed" "$skipped" | tee "$BUILD_DIR/check.result"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ] && exit 0
	exit 1
}
trap summary EXIT

add() { # add P F S LABEL
	passed=$((passed + $1)) failed=$((failed + $2)) skipped=$((skipped + $3))
	echo "check: $4: $(format_counts "$1" "$2" "$3")"
}

# ------------------------------------------------------------------ build ---
echo "check: building"
if ! $MAKE all; then
	add 0 1 0 "build FAILED"
	exit 1
fi

# ------------------------------------------------------------- unit tests ---
unit=$BUILD_DIR/iommulab-unit
unit_log=$BUILD_DIR/unit.log
if [ ! -x "$unit" ]; then
	add 0 1 0 "unit tests ($unit not built)"
else
	echo "check: running $unit"
	set +e
	"$unit" 2>&1 | tee "$unit_log"
	urc=${PIPESTATUS[0]}
	set -e
	counts=$(parse_doctest "$unit_log")
	if [ -z "$counts" ]; then
		add 0 1 0 "unit tests (no doctest summary, exit $urc)"
	else
		read -r p f s <<<"$counts"
		[ "$urc" -eq 0 ] || [ "$f" -gt 0 ] || f=1
		add "$p" "$f" "$s" "unit tests"
	fi
fi

# ---------------------------------------------------------------- VM lane ---
result=$BUILD_DIR/vm-check.result
rm -f "$result"
selftests/vm.sh check || true
line=$(tail -n 1 "$result" 2>/dev/null || true)
if [[ $line =~ ^vm:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
	add "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[4]:-0}" "VM lane"
else
	add 0 1 0 "VM lane (did not run)"
fi
