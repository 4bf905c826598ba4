#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make conformance UPSTREAM_SELFTEST=DIR`: build upstream Linux's own
# iommufd selftest from DIR, run it in the VM lane against iommulab.ko, and
# report pass/fail per fixture.
#
# DIR is laid out as ../shared/docs/UPSTREAM-SELFTEST.md (and README,
# "Upstream's own selftest") describe; the user fetches the files from a
# public Linux tree. Nothing of upstream is ever part of the repository:
#   DIR/linux/tools/testing/selftests/iommu/iommufd.c
#   DIR/linux/tools/testing/selftests/iommu/iommufd_utils.h
#   DIR/linux/tools/testing/selftests/iommu/iommufd_fail_nth.c  (optional)
#   DIR/linux/tools/testing/selftests/kselftest_harness.h
#   DIR/linux/tools/testing/selftests/kselftest.h
#   DIR/linux/drivers/iommu/iommufd/iommufd_test.h
#   DIR/linux/include/uapi/linux/iommufd.h  (or DIR/inc/linux/iommufd.h)
#
# Steps: iommulab is built (`make all`); the programs are built unchanged and statically (gcc, libcap) into
# build/conformance/ (iommufd, and iommufd_fail_nth when its source is
# there: it needs the debug kernel's fail-nth, so it is only built, see
# README); `iommufd -l` on the host gives the list of cases; then the VM
# lane runs `iommufd` alone (VM_HARNESS=0, VM_EXTRA, VM_TIMEOUT=1500 unless
# set) with its logs in build/conformance/; the lane counts its TAP lines.
#
# Report: one row per fixture, "passed/cases", with the failed, skipped and
# never-reported cases, then every failing case by name. The last line is
# "conformance: N passed, N failed[, N skipped]" over all cases (also in
# build/conformance.result), followed by the verdict.
#
# Exit status: non-zero when a fixture in MUST_PASS below has a case that
# failed or never reported, when the lane itself failed (boot, insmod,
# rmmod, kernel log: a splat is a module bug whichever test caused it), or
# when nothing could be built or run. Failures in other fixtures are
# reported and do not change the status.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/kselftest-lib.sh"
cd "$IOMMULAB_ROOT"

# The fixtures that must pass whole: every case of them passes (a skipped
# case is listed, and does not fail the target). Everything else upstream
# tests belongs to a later issue and is reported only: dirty tracking
# (iommufd_dirty_tracking), the VFIO compat container
# (vfio_compat_mock_domain), vIOMMU (iommufd_viommu), PASID
# (iommufd_device_pasid). Add a
# fixture here when its issue is done.
MUST_PASS=(iommufd iommufd_ioas iommufd_mock_domain change_process)

# Cases of the must-pass fixtures that test what a later issue builds, with
# the reason; README ("Upstream's own selftest") lists the same. Such a case
# failing is reported as "later" and does not fail the target; such a case
# passing fails it, so that this list (and README) stays true: take it out
# here and in README when its issue lands.
# (Empty since issue 13's fault queues: the alloc_hwpt_nested cases pass.)
declare -A LATER=()

UP=${UPSTREAM_SELFTEST:-}
out=$IOMMULAB_ROOT/build/conformance
result=$IOMMULAB_ROOT/build/conformance.result
rm -f "$result"

usage() {
	echo "usage: make conformance UPSTREAM_SELFTEST=DIR" >&2
	echo "  DIR holds upstream's selftest files as README (\"Upstream's own selftest\")" >&2
	echo "  and ../shared/docs/UPSTREAM-SELFTEST.md describe." >&2
	exit 2
}
[ -n "$UP" ] || usage
[ -d "$UP" ] || die "UPSTREAM_SELFTEST=$UP is not a directory"
UP=$(realpath "$UP")
st=$UP/linux/tools/testing/selftests
need=("$st/iommu/iommufd.c" "$st/iommu/iommufd_utils.h" "$st/kselftest_harness.h"
      "$st/kselftest.h" "$UP/linux/drivers/iommu/iommufd/iommufd_test.h")
uapi=$UP/linux/include/uapi/linux/iommufd.h
[ -f "$uapi" ] || uapi=$UP/inc/linux/iommufd.h
need+=("$uapi")
missing=()
for f in "${need[@]}"; do [ -f "$f" ] || missing+=("$f"); done
if [ ${#missing[@]} -gt 0 ]; then
	printf 'conformance: missing upstream file: %s\n' "${missing[@]}" >&2
	echo "conformance: see README, \"Upstream's own selftest\", for which files and commits" >&2
	exit 2
fi

# libcap (upstream's selftest links -lcap), then iommulab itself.
selftests/deps.sh libcap-dev
${MAKE:-make} all

# ------------------------------------------------------------------ build ---
rm -rf "$out"
mkdir -p "$out/inc/linux"
out=$(realpath "$out")
cp "$uapi" "$out/inc/linux/iommufd.h"
build_prog() {
	echo -n "conformance: "
	build_kselftest_prog "$st/iommu" "$out/inc" "$out" "$1"
}
if ! build_prog iommufd; then
	echo "conformance: 0 passed, 1 failed" | tee "$result"
	echo "conformance: FAILED: upstream's iommufd.c did not build (log: $out/iommufd.build.log)"
	exit 1
fi
if [ -f "$st/iommu/iommufd_fail_nth.c" ]; then
	build_prog iommufd_fail_nth ||
		echo "conformance: note: iommufd_fail_nth did not build (not run here anyway)"
fi

# The cases the program has, from its own list (`-l`: a table of fixture,
# variant and test columns, "%-20s %-25s %s", a fixture's name on its first
# row only; its cases are every variant times every test).
kselftest_cases "$out/iommufd" >"$out/cases.txt"
echo "conformance: upstream's iommufd lists $(wc -l <"$out/cases.txt") cases"

# -------------------------------------------------------------------- run ---
set +e
# The lane's own lines per failed or skipped case are left out of the live
# view (all of them are in $out/lane.out); the report below lists them.
env BUILD_DIR="$out" VM_HARNESS=0 VM_EXTRA="$out/iommufd" \
	VM_TIMEOUT="${VM_TIMEOUT:-1500}" selftests/vm.sh check 2>&1 | tee "$out/lane.out" |
	grep --line-buffered -v -F -e "  FAILED  extra $out/iommufd: " -e "  skipped extra $out/iommufd: "
lane_rc=${PIPESTATUS[0]}
set -e

# ----------------------------------------------------------------- report ---
tap=$out/vm-check/extra-1-iommufd.tap
[ -f "$tap" ] || : >"$tap"
must=" ${MUST_PASS[*]} "
# Per case: its state (pass, fail, skip; "missing" for a listed case with no
# TAP line), fixture first.
case_states "$out/cases.txt" "$tap" >"$out/cases.state"

# Known-later cases of the must-pass fixtures (LATER above): a failure is
# "later", a pass is "fixed" (and fails the target until LATER is updated).
for c in "${!LATER[@]}"; do
	printf '%s\t%s\n' "$c" "${LATER[$c]}"
done >"$out/later.txt"
awk -F'\t' -v LATERF="$out/later.txt" '
	BEGIN { while ((getline l <LATERF) > 0) { split(l, a, "\t"); later[a[1]] = a[2] } }
	($2 in later) && ($3 == "fail" || $3 == "missing") { $3 = "later"; $4 = later[$2] }
	($2 in later) && $3 == "pass" { $3 = "fixed"; $4 = "passes now: take it out of LATER in selftests/conformance.sh and README" }
	{ print }
' OFS='\t' "$out/cases.state" >"$out/cases.state.new"
mv "$out/cases.state.new" "$out/cases.state"

echo
echo "conformance: upstream's iommufd selftest against iommulab, per fixture (passed/cases)"
bad=0
read -r -d '' report_awk <<'EOF' || true
{
	if (!($1 in seen)) { seen[$1] = 1; fx[++n] = $1 }
	tot[$1]++; cnt[$1, $3]++
}
END {
	for (i = 1; i <= n; i++) {
		f = fx[i]; p = cnt[f, "pass"] + 0; x = cnt[f, "fail"] + 0
		s = cnt[f, "skip"] + 0; m = cnt[f, "missing"] + 0
		l = cnt[f, "later"] + 0; fixed = cnt[f, "fixed"] + 0
		p += fixed; x += fixed
		note = ""
		if (l) note = note sprintf(", %d for a later issue", l)
		if (fixed) note = note sprintf(", %d listed as later but passing", fixed)
		if (x - fixed) note = note sprintf(", %d failed", x - fixed)
		if (m) note = note sprintf(", %d never reported", m)
		if (s) note = note sprintf(", %d skipped", s)
		mp = index(MUST, " " f " ") ? "must pass" : "reported only"
		verdict = (x + m) ? "FAILED" : (l ? "ok but for later issues" : "ok")
		if (mp == "reported only" && (x + m)) verdict = "failing (not judged)"
		printf "  %-26s %4d/%-4d %-14s %s%s\n", f, p, tot[f], mp, verdict, note
		if (mp == "must pass" && (x + m)) bad = 1
	}
	exit bad
}
EOF
awk -F'\t' -v MUST="$must" "$report_awk" "$out/cases.state" || bad=1
# A must-pass fixture with no case at all (renamed upstream, or the list and
# the run both failed) is a failure too.
for f in "${MUST_PASS[@]}"; do
	if ! awk -F'\t' -v f="$f" '$1 == f { found = 1 } END { exit !found }' "$out/cases.state"; then
		printf '  %-26s %9s %-14s FAILED (no case of this fixture listed or run)\n' "$f" "0/0" "must pass"
		bad=1
	fi
done

if grep -q -P '\t(later)\t' "$out/cases.state"; then
	echo
	echo "conformance: cases of must-pass fixtures left for later issues (LATER in $0):"
	awk -F'\t' '$3 == "later" { printf "  %s # %s\n", $2, $4 }' "$out/cases.state"
fi
if grep -q -P '\t(fail|missing|fixed)\t' "$out/cases.state"; then
	echo
	echo "conformance: failing cases (\"# iommufd.c:LINE:\" lines before each in $out/vm-check.log name the upstream check):"
	awk -F'\t' -v MUST="$must" '$3 == "fail" || $3 == "missing" || $3 == "fixed" {
		printf "  %-13s %s%s%s\n", (index(MUST, " " $1 " ") ? "[must pass]" : "[later]"), $2,
			($3 == "missing" ? " (never reported)" : ""), ($4 != "" ? " # " $4 : "")
	}' "$out/cases.state"
fi
if grep -q -P '\tskip\t' "$out/cases.state"; then
	echo
	echo "conformance: skipped cases:"
	awk -F'\t' '$3 == "skip" { printf "  %s%s\n", $2, ($4 != "" ? " (" $4 ")" : "") }' "$out/cases.state"
fi

# The lane's own verdicts (boot, insmod, rmmod, kernel log): any failure
# there fails the target, whichever fixture caused it.
lane_failed=0
mapfile -t lane_bad < <(grep -E '^  FAILED  ' "$out/lane.out" | grep -v -F "  FAILED  extra $out/iommufd" || true)
# Upstream's runner forks a child per case, so only a case fails when its
# child dies; the runner itself dying (a signal) or never finishing fails
# the target.
erc=$(grep -a -o '@@IOMMULAB@@ END extra 1-iommufd rc=[0-9]*' "$out/vm-check.log" 2>/dev/null | sed 's/.*rc=//' | head -n 1 || true)
if [ -z "$erc" ]; then
	lane_bad+=("  FAILED  upstream's iommufd did not finish (VM_TIMEOUT=${VM_TIMEOUT:-1500})")
elif [ "$erc" -ge 128 ]; then
	lane_bad+=("  FAILED  upstream's iommufd was killed by signal $((erc - 128)) (exit $erc)")
fi
if [ ${#lane_bad[@]} -gt 0 ]; then
	echo
	echo "conformance: the VM lane failed (see $out/vm-check.log):"
	printf '%s\n' "${lane_bad[@]}"
	lane_failed=1
fi
if [ ! -s "$tap" ]; then
	echo "conformance: no TAP output from upstream's iommufd (lane exit $lane_rc)"
	lane_failed=1
fi

echo
read -r p f s < <(awk -F'\t' '{ c[$3]++ } END { print c["pass"] + c["fixed"], c["fail"] + c["missing"] + c["later"], c["skip"] + 0 }' "$out/cases.state")
line="conformance: $(format_counts "$p" "$f" "$s")"
echo "$line" >"$result"
echo "$line (upstream cases; must pass: ${MUST_PASS[*]})"
why=()
[ "$bad" = 0 ] || why+=("a must-pass fixture has failing cases")
[ "$lane_failed" = 0 ] || why+=("the VM lane failed")
if [ ${#why[@]} -eq 0 ]; then
	echo "conformance: PASSED: every must-pass fixture passed whole (but for the ${#LATER[@]} cases listed for later issues), the lane is clean"
	exit 0
fi
echo "conformance: FAILED: $(IFS=,; echo "${why[*]}" | sed 's/,/, and /g')"
exit 1
