/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommulab: the few kernel types and helpers iolab_pt.c uses, for building
 * it in userspace (unit tests, benchmarks). Never used in the kernel.
 *
 * The types and bit macros are visible to C++ users of iolab_pt.h; the
 * other helpers only to C, as C++ has its own min() and max().
 */
#ifndef _IOLAB_PT_USER_H
#define _IOLAB_PT_USER_H

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* As in the kernel's int-ll64.h */
typedef unsigned long long u64;
typedef unsigned int u32;

#define BITS_PER_LONG		(__SIZEOF_LONG__ * 8)
#define BIT(n)			(1UL << (n))
#define BIT_ULL(n)		(1ULL << (n))
#define GENMASK(h, l)		((~0UL << (l)) & (~0UL >> (BITS_PER_LONG - 1 - (h))))
#define GENMASK_ULL(h, l)	((~0ULL << (l)) & (~0ULL >> (63 - (h))))
#define U64_MAX			(~0ULL)

#ifndef __cplusplus

#define min(a, b)	({ __auto_type _a = (a); __auto_type _b = (b); _a < _b ? _a : _b; })
#define max(a, b)	({ __auto_type _a = (a); __auto_type _b = (b); _a > _b ? _a : _b; })

#define __ffs(w)		((unsigned long)__builtin_ctzl(w))
#define ilog2(n)		(63 - __builtin_clzll(n))

static inline bool is_power_of_2(unsigned long n)
{
	return n && !(n & (n - 1));
}

/*
 * Entries are shared with the walker threads: every access is atomic. The
 * acquire load stands in for the kernel's address dependency ordering.
 */
#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
/* Orders the stores that filled a table page before the one publishing it */
#define smp_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define xchg(p, v)		__atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)

/* Returns the value found at @p; @new was stored if that equals @old. */
static inline u64 cmpxchg64(u64 *p, u64 old, u64 new)
{
	__atomic_compare_exchange_n(p, &old, new, false, __ATOMIC_SEQ_CST,
				    __ATOMIC_SEQ_CST);
	return old;
}

/* Clears bit @nr of *@p in one atomic step; returns whether it was set. */
static inline bool test_and_clear_bit(unsigned int nr, unsigned long *p)
{
	unsigned long mask = 1UL << (nr % BITS_PER_LONG);

	p += nr / BITS_PER_LONG;
	return __atomic_fetch_and(p, ~mask, __ATOMIC_SEQ_CST) & mask;
}

/* A spinning lock, enough for the unit tests' few threads */
struct iolab_user_spinlock {
	int locked;
};

#define spinlock_t struct iolab_user_spinlock

static inline void spin_lock(spinlock_t *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			;
}

static inline void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

/* The kernel's multiplicative hash of a 64-bit value to @bits bits */
#define hash_long(v, bits)	((u64)(v) * 0x61c8864680b583ebULL >> (64 - (bits)))

#endif /* __cplusplus */

#endif /* _IOLAB_PT_USER_H */
