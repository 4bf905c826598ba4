#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest side of `make check-upstream` (selftests/check-upstream.sh): an
# extra program of the VM lane (busybox sh), run on the oracle kernel with
# upstream's iommufd.ko at /dev/iommu and iommulab.ko (devname=iommulab) at
# /dev/iommulab. It judges nothing: it runs every program, prints what each
# printed between markers, and the host compares.
#
#   1. the harness (/iommulab-test) with the arguments in /files/harness.args
#      (one a line), once with IOMMULAB_DEV=/dev/iommu (upstream), once with
#      IOMMULAB_DEV=/dev/iommulab, with doctest's XML reporter (durations
#      on), each run killed after /files/harness.timeout seconds (600);
#   2. upstream's selftest programs /files/iommufd and
#      /files/iommufd_fail_nth against upstream (they open /dev/iommu);
#   3. rmmod iommulab and iommufd, insmod /iommulab.ko with the default
#      devname (/dev/iommu), and the same two programs against iommulab.
# iommulab stays loaded: the lane's init unloads it and checks that.
#
# Output, on the console (the harness's live; a selftest's kept in a file
# and printed when it ended, so that the kernel's allocation-failure reports
# of fail-nth cannot cut its lines; every line prefixed with "| " so the
# lane finds no TAP of this program's own):
#   @@ORACLE@@ BEGIN <what> <side>        <what>: harness, iommufd,
#   | ...                                 iommufd_fail_nth; <side>: upstream
#   @@ORACLE@@ END <what> <side> rc=N     or iommulab
#   @@ORACLE@@ SWITCH rmmod-iommulab=N rmmod-iommufd=N insmod=N dev=ok|missing
#   @@ORACLE@@ DONE
# A fail-nth run is bracketed by "IOMMULAB-FAULT-INJECTION begin/end" lines
# in the kernel log (see the fault-injection rule in selftests/vm.sh).
# Exit status: 0 when every step could be started, 1 otherwise.

O='@@ORACLE@@'
status=0

# show WHAT SIDE FILE RC: print FILE between markers.
show() {
	echo "$O BEGIN $1 $2"
	sed 's/^/| /' "$3"
	echo "$O END $1 $2 rc=$4"
}

harness() {
	side=$1 dev=$2
	set --
	if [ -f /files/harness.args ]; then
		while read -r a; do set -- "$@" "$a"; done </files/harness.args
	fi
	limit=$(cat /files/harness.timeout 2>/dev/null || echo 600)
	# Live (a test that hangs shows where), bounded: killed after $limit s,
	# the cases it did not finish have no verdict.
	echo "$O BEGIN harness $side"
	{
		IOMMULAB_DEV=$dev timeout -s KILL "$limit" /iommulab-test "$@" -r=xml -d=true 2>&1
		echo $? >/tmp/harness-$side.rc
	} | sed 's/^/| /'
	echo "$O END harness $side rc=$(cat /tmp/harness-$side.rc)"
}

# selftest PROG SIDE: one of upstream's kselftest programs.
selftest() {
	prog=$1 side=$2
	if [ ! -x "/files/$prog" ]; then
		echo "$O MISSING /files/$prog"
		status=1
		return
	fi
	case $prog in
	*fail_nth*) echo "IOMMULAB-FAULT-INJECTION begin upstream $prog on $side" >/dev/kmsg ;;
	esac
	echo "$O START $prog $side"
	"/files/$prog" >"/tmp/$prog-$side.out" 2>&1
	rc=$?
	case $prog in
	*fail_nth*) echo "IOMMULAB-FAULT-INJECTION end upstream $prog on $side" >/dev/kmsg ;;
	esac
	show "$prog" "$side" "/tmp/$prog-$side.out" "$rc"
}

cd /tmp || exit 1
[ -c /dev/iommu ] || { echo "$O MISSING /dev/iommu (upstream)"; status=1; }
[ -c /dev/iommulab ] || { echo "$O MISSING /dev/iommulab"; status=1; }

harness upstream /dev/iommu
harness iommulab /dev/iommulab
selftest iommufd upstream
selftest iommufd_fail_nth upstream

rmmod iommulab
r1=$?
rmmod iommufd
r2=$?
insmod /iommulab.ko
r3=$?
dev=missing
[ -c /dev/iommu ] && dev=ok
echo "$O SWITCH rmmod-iommulab=$r1 rmmod-iommufd=$r2 insmod=$r3 dev=$dev"
if [ "$r3" = 0 ] && [ "$dev" = ok ]; then
	selftest iommufd iommulab
	selftest iommufd_fail_nth iommulab
else
	status=1
fi
echo "$O DONE"
exit $status
