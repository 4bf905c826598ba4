# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers for the iommulab selftest scripts. Source it, don't run it.
#
# select_kernel sets and exports KVER, KDIR and KIMAGE:
#   KVER   an installed Debian linux-image-<ver>-amd64 package that also has
#          /usr/src/linux-headers-<ver> (never `uname -r`: that is the
#          host's kernel, which has no headers here): by default the one
#          Debian 12's linux-image-amd64 depends on (its own 6.1), else the
#          newest; KVER=<major>.<minor> (e.g. 6.12, 6.1) picks the newest
#          installed of that series; a full version is taken as it is
#   KDIR   headers (or kernel build tree) the module is built against;
#          default /usr/src/linux-headers-$KVER
#   KIMAGE kernel booted by the VM lane; default /boot/vmlinuz-$KVER
# Any of the three can be given in the environment to override the choice.

IOMMULAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export IOMMULAB_ROOT

log() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Kernel versions of installed linux-image-<ver>-amd64 packages, oldest first.
installed_kernel_versions() {
	dpkg-query -W -f='${db:Status-Status} ${Package}\n' 'linux-image-*' 2>/dev/null |
		awk '$1 == "installed" { print $2 }' |
		sed -n 's/^linux-image-\([0-9].*-amd64\)$/\1/p' |
		sort -V
}

# The installed kernel versions with headers, oldest first.
kernels_with_headers() {
	local v
	for v in $(installed_kernel_versions); do
		[ -d "/usr/src/linux-headers-$v" ] && echo "$v"
	done
}

select_kernel() {
	local v quiet=${1:-} series='' def

	if [[ ${KVER:-} =~ ^[0-9]+\.[0-9]+$ ]]; then
		series=$KVER
		KVER=
		for v in $(kernels_with_headers); do
			[[ $v == "$series".* || $v == "$series"-* ]] && KVER=$v
		done
		[ -n "$KVER" ] || die "KVER=$series: no installed linux-image-$series.*-amd64 with its headers; run 'make deps' as root"
	fi
	if [ -z "${KVER:-}" ]; then
		def=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
			sed -n 's/^linux-image-\([0-9][^ ,]*-amd64\).*/\1/p')
		for v in $(kernels_with_headers); do
			KVER=$v
			[ "$v" = "$def" ] && break
		done
	fi
	if [ -z "${KVER:-}" ]; then
		if [ -n "${KDIR:-}" ] && [ -n "${KIMAGE:-}" ]; then
			KVER=custom
		else
			die "no installed linux-image-<ver>-amd64 with matching /usr/src/linux-headers-<ver>; run 'make deps' as root (or set KVER/KDIR/KIMAGE)"
		fi
	fi
	KDIR=${KDIR:-/usr/src/linux-headers-$KVER}
	KIMAGE=${KIMAGE:-/boot/vmlinuz-$KVER}
	export KVER KDIR KIMAGE
	[ -f "$KDIR/Makefile" ] || die "KDIR=$KDIR is not a kernel headers/build directory"
	[ -n "$quiet" ] || log "iommulab: kernel KVER=$KVER KDIR=$KDIR KIMAGE=$KIMAGE"
}

# Counters shared by the scripts that report "N passed, N failed".
# parse_doctest FILE: print "passed failed skipped" from doctest's summary line
# ("[doctest] test cases: N | N passed | N failed | N skipped"), the last one
# in FILE (colour escapes are ignored); prints nothing when there is none.
parse_doctest() {
	sed -e 's/\r$//' -e 's/\x1b\[[0-9;]*[A-Za-z]//g' "$1" | sed -n \
		's/.*test cases: *\([0-9]\+\) *| *\([0-9]\+\) passed *| *\([0-9]\+\) failed\( *| *\([0-9]\+\) skipped\)\?.*/\2 \3 \5/p' |
		tail -n 1 | awk 'NF { print $1, $2, ($3 == "" ? 0 : $3) }'
}

# format_counts P F S: the summary line body ("P passed, F failed[, S skipped]").
format_counts() {
	if [ "${3:-0}" -gt 0 ]; then
		printf '%d passed, %d failed, %d skipped\n' "$1" "$2" "$3"
	else
		printf '%d passed, %d failed\n' "$1" "$2"
	fi
}

# parse_counts LINE: print "passed failed skipped" from a summary line
# "[prefix: ]P passed, F failed[, S skipped]"; nothing if LINE is not one.
parse_counts() {
	[[ $1 =~ ^([a-z]+:\ )?([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]] &&
		echo "${BASH_REMATCH[2]} ${BASH_REMATCH[3]} ${BASH_REMATCH[5]:-0}"
}

# The tally of a lane script (check.sh, check-debug.sh).
# tally_start NAME RESULT_FILE: counts from 0 and sets an EXIT trap that
# ends the script with how long it took and, as its last line (also written
# to RESULT_FILE), "N passed, N failed[, N skipped]"; an unexpected exit
# counts as one failure. The exit status is 0 only when something passed
# and nothing failed.
# tally_add P F S LABEL: add counts and print them under LABEL.
# tally_add_counts "P F S" LABEL [RC]: add counts as parse_counts and
# parse_doctest print them; none at all, or an RC other than 0 with no
# failure counted, is one failure.
# tally_add_result FILE LABEL [RC]: the same for the summary line that ends
# FILE.
tally_start() {
	TALLY_NAME=$1 TALLY_RESULT=$2 TALLY_START=$(date +%s)
	passed=0 failed=0 skipped=0
	rm -f "$TALLY_RESULT"
	trap tally_finish EXIT
}
tally_finish() {
	local rc=$?
	trap - EXIT
	[ "$rc" -eq 0 ] || [ "$failed" -gt 0 ] || failed=$((failed + 1))
	echo
	echo "$TALLY_NAME: took $(($(date +%s) - TALLY_START))s"
	mkdir -p "$(dirname "$TALLY_RESULT")"
	format_counts "$passed" "$failed" "$skipped" | tee "$TALLY_RESULT"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ] && exit 0
	exit 1
}
tally_add() {
	passed=$((passed + $1)) failed=$((failed + $2)) skipped=$((skipped + $3))
	echo "$TALLY_NAME: $4: $(format_counts "$1" "$2" "$3")"
}
tally_add_counts() {
	local p f s
	if [ -z "$1" ]; then
		tally_add 0 1 0 "$2 (no result${3:+, exit $3})"
		return
	fi
	read -r p f s <<<"$1"
	[ "${3:-0}" -eq 0 ] || [ "$f" -gt 0 ] || f=1
	tally_add "$p" "$f" "$s" "$2${3:+ (exit $3)}"
}
tally_add_result() {
	tally_add_counts "$(parse_counts "$(tail -n 1 "$1" 2>/dev/null || true)" || true)" "$2" "${3:-}"
}

# parse_tap: reads a program's output on stdin and prints its kselftest/TAP
# results, one tab-separated record a line:
#   plan  N     REASON   a plan line "1..N" (REASON: its "# SKIP why", if any)
#   pass  NAME           "ok N NAME" (also "# XFAIL": an expected failure)
#   skip  NAME  REASON   "ok N NAME # SKIP REASON" (or "not ok ... # SKIP")
#   fail  NAME  REASON   "not ok N NAME", REASON its directive if it has one
# A result or plan line starts in the first column; lines starting with "#"
# (diagnostics) or with white space (nested subtests, which their parent
# line sums up) are not results, nor is "TAP version 13". A case without a
# name is called "#N". Prints nothing for output without TAP. Carriage
# returns and colour escapes are ignored.
parse_tap() {
	sed -e 's/\r$//' -e 's/\x1b\[[0-9;]*[A-Za-z]//g' | awk '
	BEGIN { OFS = "\t" }
	/^1\.\.[0-9]+/ {
		n = $0; sub(/^1\.\./, "", n); sub(/[^0-9].*/, "", n)
		why = ""
		if (match($0, /#[ \t]*[Ss][Kk][Ii][Pp][^ \t]*/)) why = substr($0, RSTART + RLENGTH)
		sub(/^[ \t]+/, "", why)
		print "plan", n + 0, why
		next
	}
	/^(not )?ok([ \t]|$)/ {
		bad = ($0 ~ /^not /)
		line = $0; sub(/^(not )?ok[ \t]*/, "", line)
		num = ""
		if (match(line, /^[0-9]+/)) { num = substr(line, 1, RLENGTH); line = substr(line, RLENGTH + 1) }
		sub(/^[ \t]*(-[ \t]+)?/, "", line)
		dir = ""
		if (match(line, /(^|[ \t])#[ \t]*/)) {
			dir = substr(line, RSTART + RLENGTH)
			line = substr(line, 1, RSTART - 1)
		}
		sub(/[ \t]+$/, "", line)
		if (line == "") line = "#" num
		if (dir ~ /^[Ss][Kk][Ii][Pp]/) {
			why = dir; sub(/^[^ \t]*[ \t]*/, "", why)
			print "skip", line, why
		} else if (bad) {
			print "fail", line, dir
		} else {
			print "pass", line, ""
		}
	}'
}

# tap_counts FILE: "passed failed skipped planned reported" from the records
# parse_tap wrote to FILE (planned: the sum of its plan lines).
tap_counts() {
	awk -F'\t' '
		$1 == "plan" { n += $2 }
		$1 == "pass" { p++ } $1 == "fail" { f++ } $1 == "skip" { s++ }
		END { print p + 0, f + 0, s + 0, n + 0, p + f + s }' "$1"
}
