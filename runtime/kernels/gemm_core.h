/* gemm_core.h: the blocked float32 matrix-product core shared (as static functions) by the GEMM,
 * MatMul and convolution kernels, so each kernel source stays self-contained for the emitter. */
#ifndef MQK_GEMM_CORE_H
#define MQK_GEMM_CORE_H

#include <stddef.h>
#include <stdint.h>

/* Arithmetic, the same on every path of one build: K is cut into blocks of MQK_KC; for each block
 * every element of C gets acc = 0, acc += a[k] * b[k] over the block's k in order (MQK_MAC), then
 * y = base + alpha * acc (base: C, or the row's bias for the first block; alpha 1 multiplies nothing),
 * then after the last block the optional clamp. The multiply-add is fused (one rounding) when the
 * target has FMA (x86 __FMA__), in the vector tile and in the scalar edge path alike, so the result
 * does not depend on the tile, the path or -Os, only on the compiler's target. */
#define MQK_KC 256

#if defined(__GNUC__) && (defined(__FMA__) || defined(__AVX512F__))
#define MQK_FMA 1
#define MQK_MAC(acc, a, b) (acc) = __builtin_fmaf((a), (b), (acc))
#else
#define MQK_MAC(acc, a, b) (acc) += (a) * (b)
#endif

/* The end of a product (mqk_gemm_nn_ep): where each row of C starts and what is applied last. */
typedef struct mqk_gemm_ep {
    int init;          /* 0: C holds its initial values; 1: C is not read, C[i][j] starts at bias[i] (0 if NULL) */
    const float *bias;
    int clamp;         /* 1: y = lo where y < lo, then hi where y > hi (ONNX Clip; Relu is lo 0, hi +inf) */
    float lo, hi;
} mqk_gemm_ep;

/* One K block's view of it: alpha, the bias (first block only), the clamp (last block only). */
typedef struct mqk_gemm_blk {
    float alpha;
    int init;          /* first block of an ep with init: the base is the bias (indexed by the row of C) */
    const float *bias;
    int clamp;
    float lo, hi;
} mqk_gemm_blk;

/* The base of row i: the row's bias (0 without) when the block initializes C, else C's value c. */
static inline float mqk_blk_base(const mqk_gemm_blk *b, int32_t i, float c)
{
    return b->init ? (b->bias ? b->bias[i] : 0.0f) : c;
}

/* One element of C at the end of a K block: base + alpha * acc, clamped after the last block. */
static inline float mqk_blk_out(const mqk_gemm_blk *b, float base, float acc)
{
    float v = b->alpha == 1.0f ? base + acc : base + b->alpha * acc;
    if (b->clamp) {
        if (v < b->lo) v = b->lo;
        if (v > b->hi) v = b->hi;
    }
    return v;
}

/* Register tile: MQK_MR rows of C by MQK_NR columns, accumulated in registers over a K block.
 * With gcc/clang on x86 (SSE2 and up) or AArch64 the tile is written with vector types of the
 * target's width (two vectors per row: 8x32 with AVX-512, 6x16 with AVX, 4x8 with SSE2/NEON; FMA
 * intrinsics where the target has them); any other compiler gets the portable 4x8 loop. */
#if !defined(__OPTIMIZE_SIZE__) && defined(__GNUC__) && \
    (defined(__SSE2__) || defined(__aarch64__) || defined(__ARM_NEON))
#define MQK_GEMM_VEC 1
#if defined(__AVX512F__)
#include <immintrin.h>
#define MQK_VW 16
#define MQK_MR 8
typedef float mqk_vf __attribute__((vector_size(64)));
#define MQK_VSPLAT(x) ((mqk_vf)_mm512_set1_ps(x))
#define MQK_VFMA(acc, a, b) (acc) = (mqk_vf)_mm512_fmadd_ps((__m512)(a), (__m512)(b), (__m512)(acc))
#elif defined(__AVX__)
#include <immintrin.h>
#define MQK_VW 8
#define MQK_MR 6
typedef float mqk_vf __attribute__((vector_size(32)));
#define MQK_VSPLAT(x) ((mqk_vf)_mm256_set1_ps(x))
#if defined(__FMA__)
#define MQK_VFMA(acc, a, b) (acc) = (mqk_vf)_mm256_fmadd_ps((__m256)(a), (__m256)(b), (__m256)(acc))
#endif
#else
#define MQK_VW 4
#define MQK_MR 4
typedef float mqk_vf __attribute__((vector_size(16)));
#endif
#ifndef MQK_VSPLAT
#define MQK_VSPLAT(x) ((mqk_vf){(x), (x), (x), (x)})
#endif
#ifndef MQK_VFMA
#define MQK_VFMA(acc, a, b) (acc) += (a) * (b)
#endif
#define MQK_NR (2 * MQK_VW)
#else
#define MQK_MR 4
#define MQK_NR 8
#endif

/* Keeps gcc from fully unrolling the portable tile's MQK_NR loop before its vectorizer sees it (the
 * accumulators would become 32 scalars, vectorized across k instead: shuffles and spills). */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 8
#define MQK_VEC_LOOP _Pragma("GCC unroll 1")
#else
#define MQK_VEC_LOOP
#endif

/* One row of C (row i of the block's bias), columns [0, w) with w <= MQK_NR, one K block: the edge
 * and small-size path. */
static inline void mqk_gemm_1xw(int32_t w, int32_t K, const mqk_gemm_blk *bk, int32_t i, const float *a,
                                const float *B, int32_t ldb, float *c)
{
    float acc[MQK_NR];
    int32_t k, q;
    for (q = 0; q < w; q++) acc[q] = 0.0f;
    for (k = 0; k < K; k++) {
        const float *b = B + (size_t)k * (size_t)ldb;
        float v = a[k];
        for (q = 0; q < w; q++) MQK_MAC(acc[q], v, b[q]);
    }
    for (q = 0; q < w; q++) c[q] = mqk_blk_out(bk, mqk_blk_base(bk, i, c[q]), acc[q]);
}

#if defined(MQK_GEMM_VEC)
static inline mqk_vf mqk_vf_zero(void)
{
    mqk_vf z;
    __builtin_memset(&z, 0, sizeof z);
    return z;
}

static inline mqk_vf mqk_vf_load(const float *p)
{
    mqk_vf v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

/* Clip of a vector: lo where v < lo, then hi where v > hi (NaN stays), by masks. */
typedef int32_t mqk_vi __attribute__((vector_size(sizeof(mqk_vf))));
static inline mqk_vf mqk_vclamp(mqk_vf v, float lo, float hi)
{
    mqk_vf l = MQK_VSPLAT(lo), h = MQK_VSPLAT(hi);
    mqk_vi m = v < l;
    v = (mqk_vf)((m & (mqk_vi)l) | (~m & (mqk_vi)v));
    m = v > h;
    return (mqk_vf)((m & (mqk_vi)h) | (~m & (mqk_vi)v));
}

/* The end of a K block for one row i of a tile at c, one vector acc: columns [q0, MQK_VW). */
static inline void mqk_tile_row_out1(float *c, const mqk_gemm_blk *b, int32_t i, mqk_vf acc, int32_t q0)
{
    if (q0 == 0) {
        mqk_vf c0 = b->init ? MQK_VSPLAT(mqk_blk_base(b, i, 0.0f)) : mqk_vf_load(c);
        if (b->alpha != 1.0f) acc *= MQK_VSPLAT(b->alpha);
        c0 += acc;
        if (b->clamp) c0 = mqk_vclamp(c0, b->lo, b->hi);
        __builtin_memcpy(c, &c0, sizeof c0);
    } else {
        float t[MQK_VW];
        int32_t q;
        __builtin_memcpy(t, &acc, sizeof acc);
        for (q = q0; q < MQK_VW; q++) c[q] = mqk_blk_out(b, mqk_blk_base(b, i, c[q]), t[q]);
    }
}

/* The same for the two vectors lo, hi of a row of the full tile: columns [q0, MQK_NR). */
static inline void mqk_tile_row_out(float *c, const mqk_gemm_blk *b, int32_t i, mqk_vf lo, mqk_vf hi, int32_t q0)
{
    if (q0 < MQK_VW) mqk_tile_row_out1(c, b, i, lo, q0);
    mqk_tile_row_out1(c + MQK_VW, b, i, hi, q0 > MQK_VW ? q0 - MQK_VW : 0);
}

/* The rows of the tile, spelled out so every accumulator is its own variable (a register). */
#if MQK_MR == 8
#define MQK_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#elif MQK_MR == 4
#define MQK_ROWS(X) X(0) X(1) X(2) X(3)
#else
#define MQK_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#endif
#define MQK_T_DECL(r) const float *a##r = A + (size_t)(r) * (size_t)lda; mqk_vf c##r##l = z, c##r##h = z;
/* b + MQK_VW is loaded in each row (gcc CSEs it into a register; a b1 variable was spilled) */
#define MQK_T_STEP(r) { mqk_vf av = MQK_VSPLAT(a##r[k]); MQK_VFMA(c##r##l, av, b0); MQK_VFMA(c##r##h, av, mqk_vf_load(b + MQK_VW)); }
#define MQK_T_OUT(r) if ((r) >= r0) mqk_tile_row_out(c + (size_t)(r) * (size_t)ldc, bk, i0 + (r), c##r##l, c##r##h, q0);

/* A tile function: accumulators declared by DECL, one k step by STEP (b: row k of B, b0 its first
 * vector), written back by OUT; only rows >= r0 and columns >= q0 are written (the edge tiles overlap
 * the previous tile instead of running a scalar loop). */
#define MQK_DEF_TILE(NAME, DECL, STEP, OUT)                                                                  \
    static inline void NAME(int32_t K, const mqk_gemm_blk *bk, int32_t i0, const float *A, int32_t lda,       \
                            const float *B, int32_t ldb, float *c, int32_t ldc, int32_t r0, int32_t q0)       \
    {                                                                                                      \
        mqk_vf z = mqk_vf_zero();                                                                          \
        int32_t k;                                                                                         \
        MQK_ROWS(DECL)                                                                                     \
        for (k = 0; k < K; k++) {                                                                          \
            const float *b = B + (size_t)k * (size_t)ldb;                                                  \
            mqk_vf b0 = mqk_vf_load(b);                                                                    \
            MQK_ROWS(STEP)                                                                                 \
        }                                                                                                  \
        MQK_ROWS(OUT)                                                                                      \
    }
/* The MQK_MR x MQK_NR tile of C at c (rows i0.. of C; rows of A from A, columns of B from B), one K
 * block. */
MQK_DEF_TILE(mqk_gemm_tile, MQK_T_DECL, MQK_T_STEP, MQK_T_OUT)

/* The same one vector wide (MQK_MR x MQK_VW): the last panel when at most MQK_VW columns are left, so
 * a full tile does not redo MQK_VW columns. */
#define MQK_H_DECL(r) const float *a##r = A + (size_t)(r) * (size_t)lda; mqk_vf c##r = z;
#define MQK_H_STEP(r) { mqk_vf av = MQK_VSPLAT(a##r[k]); MQK_VFMA(c##r, av, b0); }
#define MQK_H_OUT(r) if ((r) >= r0) mqk_tile_row_out1(c + (size_t)(r) * (size_t)ldc, bk, i0 + (r), c##r, q0);
MQK_DEF_TILE(mqk_gemm_tile_half, MQK_H_DECL, MQK_H_STEP, MQK_H_OUT)
#undef MQK_DEF_TILE
#undef MQK_H_DECL
#undef MQK_H_STEP
#undef MQK_H_OUT
#undef MQK_T_DECL
#undef MQK_T_STEP
#undef MQK_T_OUT
#undef MQK_ROWS
#elif !defined(__OPTIMIZE_SIZE__)
/* The portable tile (same contract as above): MQK_MR x MQK_NR accumulators in a local array. */
static inline void mqk_gemm_tile(int32_t K, const mqk_gemm_blk *bk, int32_t i0, const float *a0, int32_t lda,
                                 const float *B, int32_t ldb, float *c, int32_t ldc, int32_t r0, int32_t q0)
{
    float acc[MQK_MR][MQK_NR];
    const float *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
    int32_t k, r, q;
    for (r = 0; r < MQK_MR; r++)
        for (q = 0; q < MQK_NR; q++) acc[r][q] = 0.0f;
    MQK_VEC_LOOP
    for (k = 0; k < K; k++) {
        const float *b = B + (size_t)k * (size_t)ldb;
        float v0 = a0[k], v1 = a1[k], v2 = a2[k], v3 = a3[k];
        MQK_VEC_LOOP
        for (q = 0; q < MQK_NR; q++) {
            float bv = b[q];
            MQK_MAC(acc[0][q], v0, bv);
            MQK_MAC(acc[1][q], v1, bv);
            MQK_MAC(acc[2][q], v2, bv);
            MQK_MAC(acc[3][q], v3, bv);
        }
    }
    for (r = r0; r < MQK_MR; r++) {
        float *cr = c + (size_t)r * (size_t)ldc;
        for (q = q0; q < MQK_NR; q++) cr[q] = mqk_blk_out(bk, mqk_blk_base(bk, i0 + r, cr[q]), acc[r][q]);
    }
}
#endif

/* C[M x N] = ep(alpha * A[M x K] * B[K x N]), all row-major with leading dimensions: C's initial
 * values or the bias as the base, then the clamp (mqk_gemm_ep; NULL: C += alpha * A * B). Loop order:
 * K blocks, then panels of MQK_NR columns, then blocks of MQK_MR rows, so one K block of a panel of B
 * (MQK_KC x MQK_NR floats) stays in L1 while it meets every row of A. */
static inline void mqk_gemm_nn_ep(int32_t M, int32_t N, int32_t K, float alpha, const float *A, int32_t lda,
                                  const float *B, int32_t ldb, float *C, int32_t ldc, const mqk_gemm_ep *ep)
{
    mqk_gemm_blk bk;
    int32_t i, j, k0;
    bk.alpha = alpha;
    bk.lo = ep ? ep->lo : 0.0f;
    bk.hi = ep ? ep->hi : 0.0f;
    if (K <= 0) { /* no product: the base, clamped */
        bk.init = ep ? ep->init : 0;
        bk.bias = ep ? ep->bias : 0;
        bk.clamp = ep ? ep->clamp : 0;
        for (i = 0; i < M; i++)
            for (j = 0; j < N; j++) {
                float *c = C + (size_t)i * (size_t)ldc + j;
                *c = mqk_blk_out(&bk, mqk_blk_base(&bk, i, *c), 0.0f);
            }
        return;
    }
    for (k0 = 0; k0 < K; k0 += MQK_KC) {
        int32_t kc = K - k0 < MQK_KC ? K - k0 : MQK_KC;
        const float *Ak = A + k0, *Bk = B + (size_t)k0 * (size_t)ldb;
        bk.init = ep && k0 == 0 ? ep->init : 0;
        bk.bias = ep ? ep->bias : 0;
        bk.clamp = ep && k0 + kc == K ? ep->clamp : 0;
#if !defined(__OPTIMIZE_SIZE__)
        if (M >= MQK_MR && N >= MQK_NR) {
            for (j = 0; j < N; j += MQK_NR) {
                int32_t jj = j + MQK_NR <= N ? j : N - MQK_NR; /* last panel: overlap, write the new columns */
#if defined(MQK_GEMM_VEC)
                if (j > 0 && N - j <= MQK_VW) { /* at most one vector left: the narrow tile */
                    jj = N - MQK_VW;
                    for (i = 0; i < M; i += MQK_MR) {
                        int32_t ii = i + MQK_MR <= M ? i : M - MQK_MR;
                        mqk_gemm_tile_half(kc, &bk, ii, Ak + (size_t)ii * (size_t)lda, lda, Bk + jj, ldb,
                                           C + (size_t)ii * (size_t)ldc + jj, ldc, i - ii, j - jj);
                    }
                    break;
                }
#endif
                for (i = 0; i < M; i += MQK_MR) {
                    int32_t ii = i + MQK_MR <= M ? i : M - MQK_MR; /* likewise the last block's rows */
                    mqk_gemm_tile(kc, &bk, ii, Ak + (size_t)ii * (size_t)lda, lda, Bk + jj, ldb,
                                  C + (size_t)ii * (size_t)ldc + jj, ldc, i - ii, j - jj);
                }
            }
            continue;
        }
#endif
        for (i = 0; i < M; i++)
            for (j = 0; j < N; j += MQK_NR)
                mqk_gemm_1xw(N - j < MQK_NR ? N - j : MQK_NR, kc, &bk, i, Ak + (size_t)i * (size_t)lda, Bk + j, ldb,
                             C + (size_t)i * (size_t)ldc + j);
    }
}

/* C[M x N] += alpha * A[M x K] * B[K x N]. */
static inline void mqk_gemm_nn(int32_t M, int32_t N, int32_t K, float alpha, const float *A, int32_t lda,
                               const float *B, int32_t ldb, float *C, int32_t ldc)
{
    mqk_gemm_nn_ep(M, N, K, alpha, A, lda, B, ldb, C, ldc, 0);
}

/* Lanes of the dot product: the vector width, or 4. */
#if defined(MQK_GEMM_VEC)
#define MQK_DL MQK_VW
#else
#define MQK_DL 4
#endif

/* a . b over K floats: lane l accumulates the k with k % MQK_DL == l (k in order), then the lanes are
 * summed in lane order; the vector loop and the scalar tail do exactly that. */
static inline float mqk_dot(const float *a, const float *b, int32_t K)
{
    float lane[MQK_DL], s = 0.0f;
    int32_t k = 0, l;
#if defined(MQK_GEMM_VEC)
    mqk_vf acc = mqk_vf_zero();
    for (; k + MQK_VW <= K; k += MQK_VW) MQK_VFMA(acc, mqk_vf_load(a + k), mqk_vf_load(b + k));
    __builtin_memcpy(lane, &acc, sizeof lane);
#else
    for (l = 0; l < MQK_DL; l++) lane[l] = 0.0f;
    for (; k + MQK_DL <= K; k += MQK_DL)
        for (l = 0; l < MQK_DL; l++) MQK_MAC(lane[l], a[k + l], b[k + l]);
#endif
    for (l = 0; l < MQK_DL && k < K; k++, l++) MQK_MAC(lane[l], a[k], b[k]); /* K % MQK_DL left */
    for (l = 0; l < MQK_DL; l++) s += lane[l];
    return s;
}

/* C[M x N] += alpha * A[M x K] * B^T, B stored N x K (rows of A and B are both contiguous): one dot
 * product per element of C. */
static inline void mqk_gemm_nt(int32_t M, int32_t N, int32_t K, float alpha, const float *A, int32_t lda,
                        const float *B, int32_t ldb, float *C, int32_t ldc)
{
    int32_t i, j;
    for (i = 0; i < M; i++) {
        const float *a = A + (size_t)i * (size_t)lda;
        float *c = C + (size_t)i * (size_t)ldc;
        for (j = 0; j < N; j++) c[j] += alpha * mqk_dot(a, B + (size_t)j * (size_t)ldb, K);
    }
}

#endif
