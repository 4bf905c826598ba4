#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make check-upstream`: the differential lane. Upstream's own iommufd
# (6.12, built as a module in the debug kernel of selftests/debug-kernel.sh,
# with its selftest mock) is the oracle; iommulab must behave the same.
# One boot of that kernel, with upstream's iommufd.ko at /dev/iommu and
# iommulab.ko (devname=iommulab) at /dev/iommulab; the guest side is
# selftests/upstream-guest.sh (see there). It runs:
#   1. the harness twice with the same filter (CHECK_UPSTREAM_ARGS, default
#      --test-suite-exclude=iommulab-only: the extension tests are not
#      compared), against upstream and against iommulab, doctest's XML
#      reporter giving each test case's verdict;
#   2. upstream 6.12's own selftest (iommufd, iommufd_fail_nth), built here
#      from Debian's /usr/src/linux-source-6.12.tar.xz into build/upstream/
#      (never into the repository) against iommulab's own upstream-
#      compatible headers (the 6.12 tree's selftest was moved past its own
#      uapi header by stable backports), against upstream, then against
#      iommulab (the guest swaps the modules).
# Judged: upstream must pass its own selftest (skips allowed, shown; a case
# it fails only when the table lists it with the reason); every
# harness test and selftest case must get the same verdict on both (pass,
# fail, skip, or no verdict at all), unless README's table "Known
# differences from upstream 6.12" lists it with the reason; a listed one
# that no longer differs fails too (keep the table true). The VM lane's own
# verdicts (boot, insmods, the guest script finishing, rmmod, kernel log,
# kmemleak) count as in every lane.
# Counted: each agreeing test/case passed (both skipped: skipped), each
# listed difference skipped, anything else failed. Ends with "N passed, N
# failed[, N skipped]", also in build/upstream/check-upstream.result; exit
# status non-zero on failure.
#
# Environment: CHECK_UPSTREAM_ARGS (harness arguments, one word each),
# CHECK_UPSTREAM_HARNESS_TIMEOUT (each harness run is killed after this
# many seconds, 600; its unfinished cases have no verdict),
# UPSTREAM_SRC (default /usr/src/linux-source-6.12.tar.xz), VM_TIMEOUT (2400),
# KSFT_TIMEOUT_SCALE (10: the selftests' per-test timeouts times this),
# VM_VERBOSE, DEBUG_KERNEL_CACHE. The debug kernel must be the 6.12 series.
# The whole script is one { ... } block, so that bash has read all of it
# before it runs: editing it during a run (which takes about 20 minutes)
# cannot make the running one jump elsewhere.
{
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DEBUG_BUILD=$IOMMULAB_ROOT/build/upstream
. "$(dirname "${BASH_SOURCE[0]}")/debug-lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/kselftest-lib.sh"
cd "$IOMMULAB_ROOT"

MAKE=${MAKE:-make}
out=$DEBUG_BUILD
UPSTREAM_SRC=${UPSTREAM_SRC:-/usr/src/linux-source-6.12.tar.xz}
CHECK_UPSTREAM_ARGS=${CHECK_UPSTREAM_ARGS:---test-suite-exclude=iommulab-only}
CHECK_UPSTREAM_HARNESS_TIMEOUT=${CHECK_UPSTREAM_HARNESS_TIMEOUT:-600}
export VM_TIMEOUT=${VM_TIMEOUT:-2400}
README=$IOMMULAB_ROOT/README.md
TABLE_HEADING='#### Known differences from upstream 6.12'
mkdir -p "$out"
tally_start check-upstream "$out/check-upstream.result"

# CHECK_UPSTREAM_REJUDGE=1 judges the last run again (build/upstream/
# as it is, nothing built or booted): for editing README's table.
result=$out/vm-check.result
if [ -z "${CHECK_UPSTREAM_REJUDGE:-}" ]; then
# --------------------------------------------------------------- inputs ---
selftests/deps.sh libcap-dev
echo "check-upstream: building the userspace"
if ! $MAKE userspace; then
	tally_add 0 1 0 "userspace build FAILED"
	exit 1
fi
if ! stage_programs iommulab-test; then
	tally_add 0 1 0 "harness missing"
	exit 1
fi
echo "check-upstream: oracle kernel (the 6.12 debug kernel, built once per machine)"
if ! DEBUG_KERNEL_SERIES=6.12 debug_kernel; then
	tally_add 0 1 0 "oracle kernel build FAILED"
	exit 1
fi
IOMMUFD_KO=$DEBUG_KDIR/drivers/iommu/iommufd/iommufd.ko
if [ ! -f "$IOMMUFD_KO" ]; then
	tally_add 0 1 0 "upstream's iommufd.ko missing from $DEBUG_KDIR"
	exit 1
fi
# Modules iommufd.ko needs from the same tree (none in 6.12's config).
pre=()
for d in $(modinfo -F depends "$IOMMUFD_KO" | tr ',' ' '); do
	m=$(find "$DEBUG_KDIR" -name "$d.ko" | head -n 1)
	[ -n "$m" ] || { tally_add 0 1 0 "$d.ko (needed by iommufd.ko) not in $DEBUG_KDIR"; exit 1; }
	pre+=("$m")
done
pre+=("$IOMMUFD_KO")
if ! build_debug_module; then
	tally_add 0 1 0 "module build against the oracle kernel FAILED"
	exit 1
fi

# Upstream 6.12's selftest, from Debian's source package, unpacked again only
# when the tarball changed.
[ -r "$UPSTREAM_SRC" ] || { tally_add 0 1 0 "$UPSTREAM_SRC missing (make deps)"; exit 1; }
st_rel=(tools/testing/selftests/iommu/iommufd.c tools/testing/selftests/iommu/iommufd_utils.h
	tools/testing/selftests/iommu/iommufd_fail_nth.c tools/testing/selftests/kselftest_harness.h
	tools/testing/selftests/kselftest.h)
up=$out/selftest
stamp=$(stat -c '%s-%Y' "$UPSTREAM_SRC")
if [ "$(cat "$up/.stamp" 2>/dev/null)" != "$stamp" ]; then
	echo "check-upstream: unpacking upstream's selftest from $UPSTREAM_SRC"
	rm -rf "$up"
	mkdir -p "$up"
	# Debian's tarball holds one directory named like itself.
	top=$(basename "$UPSTREAM_SRC" .tar.xz)
	tar -xJf "$UPSTREAM_SRC" -C "$up" --strip-components=1 "${st_rel[@]/#/$top/}"
	echo "$stamp" >"$up/.stamp"
fi
# iommulab's headers where the selftest looks for upstream's: its
# "../../../../drivers/iommu/iommufd/iommufd_test.h" and <linux/iommufd.h>.
mkdir -p "$up/drivers/iommu/iommufd" "$up/inc/linux"
cp uapi/iommulab/iommufd_test.h uapi/iommulab/iommufd.h "$up/drivers/iommu/iommufd/"
cp uapi/iommulab/iommufd.h "$up/inc/linux/iommufd.h"
# The kselftest harness's 30 s per test is too short for fail-nth sweeps
# in a TCG guest on this KASAN/lockdep kernel: ten times that.
export KSFT_TIMEOUT_SCALE=${KSFT_TIMEOUT_SCALE:-10}
for p in iommufd iommufd_fail_nth; do
	if ! build_kselftest_prog "$up/tools/testing/selftests/iommu" "$up/inc" "$out" "$p"; then
		tally_add 0 1 0 "upstream's $p.c did not build against uapi/iommulab (log: $out/$p.build.log)"
		exit 1
	fi
	kselftest_cases "$out/$p" >"$out/$p.cases"
done
printf '%s\n' $CHECK_UPSTREAM_ARGS >"$out/harness.args"
echo "$CHECK_UPSTREAM_HARNESS_TIMEOUT" >"$out/harness.timeout"

# ------------------------------------------------------------------ run ---
echo "check-upstream: booting $DEBUG_KIMAGE: upstream's iommufd at /dev/iommu, iommulab at /dev/iommulab"
rm -f "$result"
set +e
VM_HARNESS=0 VM_PRE_MODULES="${pre[*]}" VM_MODULE_ARGS=devname=iommulab \
	VM_FILES="$out/iommufd $out/iommufd_fail_nth $out/harness.args $out/harness.timeout" \
	VM_EXTRA=selftests/upstream-guest.sh run_debug_vm 2>&1 | tee "$out/lane.out" |
	grep --line-buffered -v -E '^\| '
set -e

fi # CHECK_UPSTREAM_REJUDGE
tally_add_result "$result" "VM lane (oracle kernel)"

# --------------------------------------------------------------- report ---
log=$out/vm-check.log
O='@@ORACLE@@'
# section WHAT SIDE: what the guest printed between its markers, unprefixed.
section() {
	sed 's/\r$//' "$log" | awk -v b="$O BEGIN $1 $2" -v e="$O END $1 $2 rc=" '
		index($0, e) == 1 { on = 0 }
		on && /^\| / { print substr($0, 3) }
		on && /^\|$/ { print "" }
		$0 == b { on = 1 }'
}
rc_of() { sed 's/\r$//' "$log" | sed -n "s/^$O END $1 $2 rc=\\([0-9]*\\).*/\\1/p" | head -n 1; }

# The known differences: README's table under $TABLE_HEADING, rows
# "| where | `name` | reason |", where: harness, iommufd or iommufd_fail_nth.
awk -v H="$TABLE_HEADING" '
	$0 == H { on = 1; next }
	on && /^#/ { on = 0 }
	on && /^\|/ {
		n = split($0, c, "|")
		w = c[2]; nm = c[3]; why = c[4]
		for (i = 5; i < n; i++) why = why "|" c[i]
		gsub(/^[ \t]+|[ \t]+$/, "", w); gsub(/^[ \t`]+|[ \t`]+$/, "", nm); gsub(/^[ \t]+|[ \t]+$/, "", why)
		if (w == "where" || w ~ /^-+$/) next
		print w "\t" nm "\t" why
	}' "$README" >"$out/known.txt"
echo
echo "check-upstream: $(wc -l <"$out/known.txt") known difference(s) listed in README.md (\"${TABLE_HEADING#\#\#\#\# }\")"

# Harness verdicts per test case: pass, fail, skip (the harness's run-time
# skip line), none (no verdict: it crashed or hung before). Cases the filter
# excluded are reported by doctest as skipped="true" and left out.
harness_verdicts() {
	local side=$1
	section harness "$side" >"$out/harness-$side.out"
	rm -f "$out/harness-$side.out.durations"
	awk -v SKIPS="$out/harness-$side.out" '
		function unesc(s) {
			gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s); gsub(/&quot;/, "\"", s)
			gsub(/&apos;/, "\047", s); gsub(/&amp;/, "\\&", s); return s
		}
		BEGIN {
			while ((getline l <SKIPS) > 0)
				if (k = index(l, "iommulab-skip: ")) {
					l = substr(l, k + 15); k = index(l, ": ")
					if (k) skip[substr(l, 1, k - 1)] = substr(l, k + 2)
				}
		}
		/<TestCase / {
			name = $0; sub(/.*<TestCase name="/, "", name); sub(/".*/, "", name)
			name = unesc(name)
			if ($0 ~ /skipped="true"/) { excluded++; name = ""; next }
			order[++n] = name; v[name] = "none"; exc[name] = 0
		}
		name != "" && /<Exception/ { exc[name] = 1 }
		name != "" && /duration="/ {
			d = $0; sub(/.*duration="/, "", d); sub(/".*/, "", d); dur[name] = d
		}
		name != "" && /test_case_success="true"/ { v[name] = exc[name] ? "fail" : "pass" }
		name != "" && /test_case_success="false"/ { v[name] = "fail" }
		END {
			for (i = 1; i <= n; i++) {
				c = order[i]; r = v[c]
				if (r == "pass" && (c in skip)) r = "skip"
				print c "\t" r "\t" skip[c]
				if (c in dur) printf "%s\t%s\n", dur[c], c >(SKIPS ".durations")
			}
			print excluded + 0 >(SKIPS ".excluded")
		}' "$out/harness-$side.out" >"$out/harness-$side.verdicts"
}
harness_verdicts upstream
harness_verdicts iommulab

# compare WHERE A B: joins two "name<TAB>verdict<TAB>why" lists into
# "name<TAB>va<TAB>vb<TAB>judgement<TAB>reason", judgement one of agree,
# both-skip, known (listed, still differs; or listed as "sometimes:" and
# agreeing this run), DISAGREE, stale (listed, agrees),
# no-verdict (neither side finished it),
# upstream-fails (a selftest case upstream does not pass and the table
# does not list).
compare() {
	awk -F'\t' -v W="$1" -v KNOWN="$out/known.txt" -v ORACLE_MUST_PASS="${4:-0}" '
		# A row'"'"'s name is a case name or a pattern, "*" matching any
		# run of characters (vfio_compat_mock_domain.*): every case it
		# matches must still differ, and it must match one.
		function glob_re(g,   r) {
			r = g
			gsub(/[][\\.^$+?(){}|]/, "\\\\&", r)
			gsub(/\*/, ".*", r)
			return "^" r "$"
		}
		# row(c): the table row that lists case c, 0 when none: a row
		# naming it exactly, else the first pattern that matches it.
		function row(c,   i) {
			for (i = 1; i <= nk; i++) if (kn[i] == c) return i
			for (i = 1; i <= nk; i++) if ((i in kre) && c ~ kre[i]) return i
			return 0
		}
		BEGIN {
			while ((getline l <KNOWN) > 0) {
				split(l, k, "\t")
				if (k[1] != W) continue
				kn[++nk] = k[2]; kw[nk] = k[3]
				if (index(k[2], "*")) kre[nk] = glob_re(k[2])
			}
			OFS = "\t"
		}
		FILENAME == ARGV[1] { if (!($1 in a)) order[++n] = $1; a[$1] = $2; next }
		{ if (!($1 in a) && !($1 in b)) order[++n] = $1; b[$1] = $2 }
		END {
			for (i = 1; i <= n; i++) {
				c = order[i]; va = (c in a) ? a[c] : "none"; vb = (c in b) ? b[c] : "none"
				r = row(c); why = r ? kw[r] : ""
				if (r) matched[r] = 1
				if (ORACLE_MUST_PASS && va != "pass" && va != "skip")
					# Upstream failing its own selftest: only with a
					# reason in the table (a Debian backport, say).
					j = r ? "known" : "upstream-fails"
				else if (va == "none" && vb == "none") j = "no-verdict"
				# A row whose reason starts "sometimes:" names a
				# difference that comes and goes between runs.
				else if (va == vb) j = r ? (kw[r] ~ /^sometimes: / ? "known" : "stale") : (va == "skip" ? "both-skip" : "agree")
				else j = r ? "known" : "DISAGREE"
				print c, va, vb, j, why
			}
			for (r = 1; r <= nk; r++)
				if (!(r in matched)) print kn[r], "none", "none", "stale", kw[r] " (no such test)"
		}' "$2" "$3"
}

# tally_judged FILE LABEL: counts a compare list.
tally_judged() {
	local p f s
	read -r p f s < <(awk -F'\t' '
		$4 == "agree" { p++ } $4 == "both-skip" || $4 == "known" { s++ }
		$4 == "DISAGREE" || $4 == "stale" || $4 == "upstream-fails" || $4 == "no-verdict" { f++ }
		END { print p + 0, f + 0, s + 0 }' "$1")
	tally_add "$p" "$f" "$s" "$2"
}

echo
echo "check-upstream: harness $CHECK_UPSTREAM_ARGS, upstream vs iommulab (rc $(rc_of harness upstream)/$(rc_of harness iommulab); excluded by the filter: $(cat "$out/harness-upstream.out.excluded")/$(cat "$out/harness-iommulab.out.excluded"))"
compare harness <(cut -f1,2 "$out/harness-upstream.verdicts") <(cut -f1,2 "$out/harness-iommulab.verdicts") >"$out/harness.compare"
awk -F'\t' '{ printf "  %-9s %-5s %-5s %s%s\n", ($4 == "both-skip" ? "agree" : $4), $2, $3, $1, ($5 != "" ? "  # " $5 : "") }' "$out/harness.compare"
for side in upstream iommulab; do
	[ -s "$out/harness-$side.out.durations" ] || continue
	echo "  slowest on $side: $(sort -rn "$out/harness-$side.out.durations" | head -n 5 |
		awk -F'\t' '{ printf "%s%.0fs %s", (NR > 1 ? "; " : ""), $1, $2 }')"
done
read -r agree disagree < <(awk -F'\t' '$2 == $3 { a++ } $2 != $3 { d++ } END { print a + 0, d + 0 }' "$out/harness.compare")
echo "  (upstream, iommulab) $agree agree, $disagree disagree"
tally_judged "$out/harness.compare" "harness, upstream vs iommulab"

for p in iommufd iommufd_fail_nth; do
	for side in upstream iommulab; do
		section "$p" "$side" | parse_tap >"$out/$p-$side.tap"
		case_states "$out/$p.cases" "$out/$p-$side.tap" |
			awk -F'\t' -v OFS='\t' '{ print $2, ($3 == "missing" ? "none" : $3), $4 }' >"$out/$p-$side.verdicts"
	done
	compare "$p" <(cut -f1,2 "$out/$p-upstream.verdicts") <(cut -f1,2 "$out/$p-iommulab.verdicts") 1 >"$out/$p.compare"
	echo
	echo "check-upstream: upstream 6.12's $p (exit $(rc_of "$p" upstream) on upstream, $(rc_of "$p" iommulab) on iommulab), per fixture passed/cases"
	printf '  %-26s %-16s %s\n' fixture upstream iommulab
	awk -F'\t' '
		{ f = $1; sub(/\..*/, "", f); if (!(f in seen)) { seen[f] = 1; fx[++n] = f }
		  t[f]++; if ($2 == "pass") pu[f]++; if ($3 == "pass") pl[f]++
		  if ($2 == "skip") su[f]++; if ($3 == "skip") sl[f]++ }
		END { for (i = 1; i <= n; i++) { f = fx[i]
			printf "  %-26s %-16s %s\n", f, sprintf("%d/%d%s", pu[f], t[f], su[f] ? sprintf(" (%d skip)", su[f]) : ""),
				sprintf("%d/%d%s", pl[f], t[f], sl[f] ? sprintf(" (%d skip)", sl[f]) : "") } }' "$out/$p.compare"
	awk -F'\t' '$2 == "skip" { printf "  skipped on upstream: %s\n", $1 }' "$out/$p.compare"
	awk -F'\t' '$4 == "upstream-fails" { printf "  FAILED on upstream (%s): %s\n", $2, $1 }
		$4 == "known" && $2 != "pass" && $2 != "skip" { printf "  fails on upstream (%s; %s on iommulab): %s  (known: %s)\n", $2, $3, $1, $5 }' "$out/$p.compare"
	awk -F'\t' '$2 == "pass" && $3 != "pass" { printf "  passes on upstream, %s on iommulab: %s%s\n", $3, $1, ($4 == "known" ? "  (known: " $5 ")" : "") }' "$out/$p.compare"
	awk -F'\t' '$4 == "DISAGREE" && !($2 == "pass" && $3 != "pass") { printf "  DISAGREE (%s on upstream, %s on iommulab): %s\n", $2, $3, $1 }' "$out/$p.compare"
	awk -F'\t' '$4 == "stale" { printf "  listed in README but no longer differs: %s\n", $1 }' "$out/$p.compare"
	tally_judged "$out/$p.compare" "$p, upstream vs iommulab"
done
awk -F'\t' '$4 == "stale" { printf "check-upstream: FAILED: README lists %s, which no longer differs\n", $1 }' "$out/harness.compare"
sw=$(sed -n "s/^$O SWITCH //p" "$log" | tr -d '\r' | head -n 1)
echo "check-upstream: module swap in the guest: ${sw:-not reached}"
exit
}
