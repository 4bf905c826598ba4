// SPDX-License-Identifier: GPL-2.0-only
/*
 * Linked into upstream's kselftest programs by build_kselftest_prog()
 * (selftests/kselftest-lib.sh) with -Wl,--wrap=alarm: the harness arms
 * alarm(timeout) for each test (30 s unless the test says otherwise) and
 * kills a test that runs longer. In a TCG guest on a KASAN/lockdep kernel
 * a fault-injection sweep can take longer than that; the programs are
 * built unchanged, and only this multiplies the timeout they ask for by
 * KSFT_TIMEOUT_SCALE (given at build time, 1 by default).
 */
#ifndef KSFT_TIMEOUT_SCALE
#define KSFT_TIMEOUT_SCALE 1
#endif

unsigned int __real_alarm(unsigned int seconds);

unsigned int __wrap_alarm(unsigned int seconds)
{
	return __real_alarm(seconds * KSFT_TIMEOUT_SCALE) / KSFT_TIMEOUT_SCALE;
}
