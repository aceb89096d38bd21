/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Architecture-neutral stand-in for <asm/posix_types.h>, so that <linux/bpf.h>
 * builds for the BPF targets without the host's multiarch include directory. */
#include <asm-generic/posix_types.h>
