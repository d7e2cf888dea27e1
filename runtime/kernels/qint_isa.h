/* qint_isa.h: the x86 vector ISAs the integer kernels (qint_layer.c, qint.c) choose at run time: code for
 * AVX-512 in a build that does not target it, compiled between MQK_ISA_BEGIN_* and MQK_ISA_END. */
#ifndef MQK_QINT_ISA_H
#define MQK_QINT_ISA_H

/* x86 with GCC >= 8 or clang, not built for size: a function region can be compiled for an ISA the
 * compiler does not target (#pragma GCC target / #pragma clang attribute) and run only if mqk_isa_cpu()
 * says the CPU has it. Elsewhere (ARM, other compilers, -Os) none of this exists: portable C99 only. */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__) &&                    \
    !defined(__OPTIMIZE_SIZE__) && (defined(__clang__) || __GNUC__ >= 8)
#define MQK_ISA_DISPATCH 1
#if defined(__clang__)
#define MQK_ISA_BEGIN_AVX512                                                                               \
    _Pragma("clang attribute push (__attribute__((target(\"avx512f,avx512bw,avx512vl\"))), apply_to = function)")
#define MQK_ISA_BEGIN_VNNI                                                                                 \
    _Pragma("clang attribute push (__attribute__((target(\"avx512f,avx512bw,avx512vl,avx512vnni\"))), apply_to = function)")
#define MQK_ISA_END _Pragma("clang attribute pop")
#else
#define MQK_ISA_BEGIN_AVX512 _Pragma("GCC push_options") _Pragma("GCC target(\"avx512f,avx512bw,avx512vl\")")
#define MQK_ISA_BEGIN_VNNI _Pragma("GCC push_options") _Pragma("GCC target(\"avx512f,avx512bw,avx512vl,avx512vnni\")")
#define MQK_ISA_END _Pragma("GCC pop_options")
#endif

#define MQK_ISA_AVX512 1 /* AVX-512 F, BW and VL */
#define MQK_ISA_VNNI 2   /* those and AVX512-VNNI */
/* What this CPU has: 0, MQK_ISA_AVX512 or MQK_ISA_VNNI (with the OS saving the registers). No state of
 * its own: __builtin_cpu_supports reads flags that the start-up code (a constructor of libgcc /
 * compiler-rt) set once, so any thread may ask at any time; __builtin_cpu_init is a no-op after that. */
static inline int mqk_isa_cpu(void)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512vl"))
        return 0;
    return __builtin_cpu_supports("avx512vnni") ? MQK_ISA_VNNI : MQK_ISA_AVX512;
}
#endif

#endif
