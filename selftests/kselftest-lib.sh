# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
# Helpers for building and reading upstream's kselftest programs
# (selftests/conformance.sh, selftests/check-upstream.sh). Source it after
# lib.sh; don't run it.

# build_kselftest_prog SRCDIR INCDIR OUTDIR NAME: build SRCDIR/NAME.c
# unchanged and statically (as upstream's selftest Makefile would, plus
# -D_GNU_SOURCE and libcap) into OUTDIR/NAME, with INCDIR first on the
# include path (its linux/iommufd.h is the uapi header the program sees).
# KSFT_TIMEOUT_SCALE (default 1) multiplies the harness's per-test timeout
# (selftests/kselftest-timeout.c, linked in with --wrap=alarm).
# The compiler's output goes to OUTDIR/NAME.build.log, and is shown when
# the build fails.
build_kselftest_prog() {
	local src=$1 inc=$2 out=$3 name=$4 scale=${KSFT_TIMEOUT_SCALE:-1}
	local wrap=$IOMMULAB_ROOT/selftests/kselftest-timeout.c
	echo "building $out/$name from $src/$name.c (timeouts x$scale)"
	(cd "$src" && gcc -static -O2 -Wno-unused-function -D_GNU_SOURCE -I"$inc" \
		"$name.c" -DKSFT_TIMEOUT_SCALE="$scale" "$wrap" -Wl,--wrap=alarm \
		-o "$out/$name" -lcap -lpthread) >"$out/$name.build.log" 2>&1 || {
		sed 's/^/  | /' "$out/$name.build.log"
		return 1
	}
}

# kselftest_cases PROG: the cases PROG has, "fixture[.variant].test" one a
# line, from its own list (`PROG -l`: a table of fixture, variant and test
# columns, "%-20s %-25s %s", a fixture's name on its first row only; its
# cases are every variant times every test).
kselftest_cases() {
	{ "$1" -l 2>&1 || true; } | awk '
	function emit(   i, j) {
		if (fx == "") return
		if (nv == 0) for (j = 1; j <= nt; j++) print fx "." t[j]
		for (i = 1; i <= nv; i++) for (j = 1; j <= nt; j++) print fx "." v[i] "." t[j]
	}
	/^# FIXTURE/ || /^---/ || !NF { next }
	{
		pos = 22
		if (substr($0, 1, 1) != " ") {
			emit(); fx = $1; nv = nt = 0
			pos = (length(fx) > 20 ? length(fx) : 20) + 2
		}
		rest = substr($0, pos)
		w = 25
		if (substr(rest, 1, 1) != " ") {
			split(rest, a, " "); v[++nv] = a[1]
			if (length(a[1]) > w) w = length(a[1])
		}
		tn = substr(rest, w + 2); gsub(/^ +| +$/, "", tn)
		if (tn != "") t[++nt] = tn
	}
	END { emit() }'
}

# case_states CASES TAP: per case, "fixture<TAB>case<TAB>state<TAB>why",
# in CASES' order (then any case TAP has that CASES does not), from the
# records parse_tap wrote to TAP; state is pass, fail or skip, or missing
# for a listed case with no result line.
case_states() {
	awk -F'\t' -v CASES="$1" '
	BEGIN { while ((getline c <CASES) > 0) { order[++n] = c; st[c] = "missing" } }
	$1 == "pass" || $1 == "fail" || $1 == "skip" {
		if (!($2 in st)) order[++n] = $2
		st[$2] = $1; why[$2] = $3
	}
	END { for (i = 1; i <= n; i++) { c = order[i]; f = c; sub(/\..*/, "", f); print f "\t" c "\t" st[c] "\t" why[c] } }
	' "$2"
}
