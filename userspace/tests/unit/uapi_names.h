/* SPDX-License-Identifier: GPL-2.0 */
/* uapi_names.c: the compile test of the upstream-compatible uAPI headers. */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

/* 0 when the structures behave at run time as upstream's users expect. */
int iolab_uapi_names_check(void);

#ifdef __cplusplus
}
#endif
