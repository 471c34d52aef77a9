/*
 * genprobe's fused CPU training step: loss and gradients of B independent
 * MLPs (in -> hidden layers with LeakyReLU -> 1), float32, one network at a
 * time per calling thread.
 *
 * Built on first use by genprobe/native/build.py with the machine's C compiler
 * (`cc -O3 -march=native`), loaded with ctypes; plain C99 plus GCC/Clang
 * vector extensions, no Python or torch headers. The gp_* entry points are
 * declared for Python in genprobe/native/interface.py, by name and type:
 * tests/test_native.py checks that it matches the definitions below.
 *
 * Why it is faster than torch ops on a CPU: the batch is cut into tiles of
 * rows, and a tile goes through the whole forward and backward pass while
 * its activations (tile x width x layers floats), the network's weights and
 * the gradient accumulators stay in the core's L2 cache; the bias, the
 * activation and its derivative are applied inside the matmul loops instead
 * of in separate passes over memory; nothing is allocated.
 *
 * The matmul loops broadcast one operand from memory and run at 0.9 of the FMA bound in llvm-mca's
 * models (benchmarks/studies/kernel_mca.py); on a Sapphire-Rapids-class Xeon the step runs at about
 * 0.7 of one core's large sgemm per thread (issue 33).
 *
 * Rows are independent in every step except the weight and bias gradients,
 * which are summed over tiles in a fixed order: results do not depend on
 * the number of networks or threads.
 *
 * gp_train_step and gp_adam_update take genprobe.optim.ExactAdam's step in
 * its own operations (the moments while a network's gradients are in cache,
 * the update after torch's square root of the second moment), so training
 * with them gives the same numbers as ExactAdam.step, to the bit.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Floats per vector: one AVX-512 register, else one AVX register. Every
 * output element is one lane's own chain of FMAs in a fixed order, so the
 * width changes the speed, never a number (tests/test_fastmlp.py).
 */
#ifndef VL
#if defined(__AVX512F__)
#define VL 16
#else
#define VL 8
#endif
#endif
#define RB 8  /* rows per register block */
typedef float vf __attribute__((vector_size(VL * sizeof(float))));
typedef int vi __attribute__((vector_size(VL * sizeof(int))));

/* Lane-wise mask ? a : b (C has no vector ?:); mask lanes are all ones or all zeros. */
static inline vf vselect(vi mask, vf a, vf b) { return (vf)(((vi)a & mask) | ((vi)b & ~mask)); }

static inline vf vload(const float *p) { return *(const vf *)p; }
static inline void vstore(float *p, vf v) { *(vf *)p = v; }
/* (0 + s) in every lane: how the kernel has always broadcast a scalar (the + 0 turns -0 into +0). */
static inline vf vsplat(float s) { return (vf){0} + s; }
/* x + 0, lane-wise: -0 becomes +0, every other value (NaN included) stays. */
static inline vf vpos(vf x) { return x + (vf){0}; }

/*
 * a * b + c with one rounding, written out rather than left to the compiler:
 * the build passes -ffp-contract=off, so no other multiply-add is fused, and
 * every build computes the same numbers whatever -march it targets (an FMA
 * is exactly specified; a contraction the compiler may or may not make is
 * not). Where the CPU has no FMA instruction, fmaf gives the same result,
 * slowly.
 */
#if defined(__AVX512F__) && VL == 16
#include <immintrin.h>
static inline vf vfma(vf a, vf b, vf c) { return (vf)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c); }
#elif defined(__FMA__) && VL == 8
#include <immintrin.h>
static inline vf vfma(vf a, vf b, vf c) { return (vf)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c); }
#else
static inline vf vfma(vf a, vf b, vf c) {
    vf r;
    for (int i = 0; i < VL; i++) r[i] = __builtin_fmaf(a[i], b[i], c[i]);
    return r;
}
#endif

/*
 * *p in every lane, as it is: no + 0. The hot loops broadcast their scalar operand with it straight
 * from memory (a load-port uop, or an FMA's embedded {1to16} operand). vsplat's + 0 cannot be
 * dropped by the compiler (it changes -0), so there every broadcast was a scalar add and a register
 * shuffle, and on Intel's AVX-512 cores the shuffle takes port 5, one of the two 512-bit FMA ports:
 * the loops ran at half the FMA rate. To keep every bit, the operands the hot loops broadcast are
 * stored already as 0 + a (vpos: the input tile, the hidden activations a forward matmul reads, a
 * second copy of the backward's gradient tile), so vbcast(p) == vsplat(*p) lane for lane.
 */
#if defined(__AVX512F__) && VL == 16
static inline vf vbcast(const float *p) { return (vf)_mm512_set1_ps(*p); }
#elif defined(__AVX__) && VL == 8
#include <immintrin.h>
static inline vf vbcast(const float *p) { return (vf)_mm256_broadcast_ss(p); }
#else
static inline vf vbcast(const float *p) {
    vf r;
    float s = *p;
    for (int i = 0; i < VL; i++) r[i] = s;
    return r;
}
#endif


static inline int round_up(int x, int k) { return (x + k - 1) / k * k; }

/* Leaky ReLU, as torch computes it: z > 0 ? z : z * slope. */
static inline vf lrelu(vf z, vf slope) {
    vf zero = {0};
    return vselect(z > zero, z, z * slope);
}

/* d/dz of the leaky ReLU, keyed on its output h: 1 where h > 0, else slope. */
static inline vf dlrelu(vf g, vf h, vf slope) {
    vf zero = {0};
    return vselect(h > zero, g, g * slope);
}

/* Epilogues of gemm (see there). */
enum { EPI_LRELU_POS = 1, EPI_DLRELU = 2, EPI_LRELU = 3 };

/*
 * Register blocks: a matmul block is MB rows x MC column vectors, a weight-gradient block KB_MAX
 * input columns x AC column vectors: as many accumulators as leave registers for the operands (32
 * vector registers with AVX-512, else 16). Two layouts for AVX-512 (benchmarks/studies/kernel_mca.py
 * shows both against the FMA bound):
 *
 * - Intel (the default): two column vectors, so each broadcast scalar feeds two FMAs: one
 *   vbroadcastss from memory (a load-port uop) into a register, 10 loads for 16 FMAs. Measured on a
 *   Sapphire-Rapids-class Xeon it beats one FMA per broadcast (below) by 5-10 %: that layout loads
 *   the scalar once per FMA.
 * - AMD (a build for Zen, GP_EMBEDDED_BROADCAST): one column vector, each scalar feeding one FMA, so
 *   the compiler folds it into the FMA as an embedded broadcast (vfmadd231ps m32{1to16}); a
 *   broadcast into a register is a uop on an FMA pipe in llvm-mca's Zen 4 model (1.5x the FMA
 *   bound), an embedded one is not (1.0x).
 */
#if VL == 16 && !defined(GP_EMBEDDED_BROADCAST) && !defined(GP_SHARED_BROADCAST) &&                       \
    (defined(__znver3__) || defined(__znver4__) || defined(__znver5__))
#define GP_EMBEDDED_BROADCAST
#endif
#if VL == 16 && defined(GP_EMBEDDED_BROADCAST)
#define MB 16     /* rows per matmul block (a multiple of RB) */
#define MC 1      /* column vectors per matmul block */
#define KB_MAX 15 /* input columns per weight-gradient block: 30 = 2 x 15 */
#define AC 1      /* column vectors per weight-gradient block */
#elif VL == 16
#define MB 8
#define MC 2
#define KB_MAX 10 /* 30 = 3 x 10 */
#define AC 2
#else
#define MB 8
#define MC 1
#define KB_MAX 12
#define AC 1
#endif

/*
 * C[r + i, VL j : VL (j+nc)] for i < nr = A[r + i, :K] @ Bm[:K, VL j : VL (j+nc)] (+ bias), with an
 * epilogue:
 *   EPI_LRELU_POS: vpos(leaky ReLU) (the activation a next forward matmul broadcasts);
 *   EPI_LRELU: the leaky ReLU as it is (the last hidden layer, read by the scalar output layer);
 *   EPI_DLRELU: times dlrelu(H[r, ...]) into C, and its vpos into Cp (the copy the next backward
 *   matmul broadcasts; C is the one the weight gradient reads).
 * A's elements are broadcast as they are stored: the caller stores them as vpos(a) (see vbcast).
 * Strides are in floats and multiples of VL; every pointer is VL-aligned. Each output element is
 * one lane's chain of FMAs over k in order.
 */
static inline __attribute__((always_inline)) void gemm_block(const float *A, int as, int K, const float *Bm, int bs,
                                                             const float *bias, float *C, float *Cp, int cs, int r,
                                                             int nr, int j, int nc, int mode, const float *H,
                                                             int hs, vf slope) {
    vf c[MC][MB];
    for (int q = 0; q < nc; q++) {
        vf b = bias ? vload(bias + (j + q) * VL) : (vf){0};
        for (int i = 0; i < nr; i++) c[q][i] = b;
    }
    const float *a = A + (size_t)r * as;
    for (int k = 0; k < K; k++) {
        vf w[MC];
        for (int q = 0; q < nc; q++) w[q] = vload(Bm + (size_t)k * bs + (j + q) * VL);
#pragma GCC unroll 16
        for (int i = 0; i < nr; i++)
            for (int q = 0; q < nc; q++) c[q][i] = vfma(vbcast(a + (size_t)i * as + k), w[q], c[q][i]);
    }
    for (int i = 0; i < nr; i++)
        for (int q = 0; q < nc; q++) {
            size_t at = (size_t)(r + i) * cs + (j + q) * VL;
            vf v;
            if (mode == EPI_DLRELU) {
                v = dlrelu(c[q][i], vload(H + (size_t)(r + i) * hs + (j + q) * VL), slope);
                vstore(Cp + at, vpos(v));
            } else {
                v = lrelu(c[q][i], slope);
                if (mode == EPI_LRELU_POS) v = vpos(v);
            }
            vstore(C + at, v);
        }
}

/* gemm_block for one mode, A's row stride a compile-time constant where it is a common width (then
 * the rows' broadcasts address as base + constant, instead of a register's worth of offset each). */
static inline __attribute__((always_inline)) void gemm_rows(const float *A, int as, int K, const float *Bm, int bs,
                                                            const float *bias, float *C, float *Cp, int cs,
                                                            int rows, int nb, int mode, const float *H, int hs,
                                                            vf slope) {
    int r = 0;
#define GEMM_ROW_BLOCK(nr)                                                                                      \
    do {                                                                                                        \
        int j = 0;                                                                                              \
        for (; j + MC <= nb; j += MC) gemm_block(A, as, K, Bm, bs, bias, C, Cp, cs, r, nr, j, MC, mode, H, hs, slope); \
        for (; j < nb; j++) gemm_block(A, as, K, Bm, bs, bias, C, Cp, cs, r, nr, j, 1, mode, H, hs, slope);   \
    } while (0)
    for (; r + MB <= rows; r += MB) GEMM_ROW_BLOCK(MB);
#if MB != RB
    for (; r < rows; r += RB) GEMM_ROW_BLOCK(RB);
#endif
#undef GEMM_ROW_BLOCK
}

static inline __attribute__((always_inline)) void gemm_mode(const float *A, int as, int K, const float *Bm, int bs,
                                                            const float *bias, float *C, float *Cp, int cs,
                                                            int rows, int nb, int mode, const float *H, int hs,
                                                            vf slope) {
    switch (as) {
    case 16:
        gemm_rows(A, 16, K, Bm, bs, bias, C, Cp, cs, rows, nb, mode, H, hs, slope);
        break;
    case 32:
        gemm_rows(A, 32, K, Bm, bs, bias, C, Cp, cs, rows, nb, mode, H, hs, slope);
        break;
    case 64:
        gemm_rows(A, 64, K, Bm, bs, bias, C, Cp, cs, rows, nb, mode, H, hs, slope);
        break;
    default:
        gemm_rows(A, as, K, Bm, bs, bias, C, Cp, cs, rows, nb, mode, H, hs, slope);
    }
}

/* C = epilogue(A @ Bm (+ bias)) over rows 0..rows-1 (a multiple of RB) and the ncols columns (see gemm_block). */
static void gemm(const float *A, int as, int K, const float *Bm, int bs, const float *bias, float *C, float *Cp,
                 int cs, int rows, int ncols, int mode, const float *H, int hs, vf slope) {
    int nb = ncols / VL;
    if (mode == EPI_LRELU_POS)
        gemm_mode(A, as, K, Bm, bs, bias, C, Cp, cs, rows, nb, EPI_LRELU_POS, H, hs, slope);
    else if (mode == EPI_LRELU)
        gemm_mode(A, as, K, Bm, bs, bias, C, Cp, cs, rows, nb, EPI_LRELU, H, hs, slope);
    else
        gemm_mode(A, as, K, Bm, bs, bias, C, Cp, cs, rows, nb, EPI_DLRELU, H, hs, slope);
}

/*
 * dW[k0 + i, VL j : VL (j+nc)] += sum_r A[r, k0 + i] * G[r, VL j : ...] for i < kb; with `bias`,
 * also db[VL j : ...] += sum_r G[r, VL j : ...] (in the order of the rows, as a separate pass did).
 * A's elements are broadcast as stored (vpos'd, see vbcast); G is the raw gradient.
 */
static inline __attribute__((always_inline)) void at_b_block(const float *A, int as, int k0, int kb, const float *G,
                                                             int gs, float *dW, float *db, int rows, int ncols,
                                                             int j, int nc, int bias) {
    vf c[AC][KB_MAX], s[AC];
    for (int q = 0; q < nc; q++) {
        s[q] = (vf){0};
        for (int i = 0; i < kb; i++) c[q][i] = (vf){0};
    }
    const float *a = A + k0;
    for (int r = 0; r < rows; r++) {
        vf g[AC];
        for (int q = 0; q < nc; q++) {
            g[q] = vload(G + (size_t)r * gs + (j + q) * VL);
            if (bias) s[q] += g[q];
        }
#pragma GCC unroll 16
        for (int i = 0; i < kb; i++)
            for (int q = 0; q < nc; q++) c[q][i] = vfma(vbcast(a + (size_t)r * as + i), g[q], c[q][i]);
    }
    for (int q = 0; q < nc; q++) {
        for (int i = 0; i < kb; i++) {
            float *d = dW + (size_t)(k0 + i) * ncols + (j + q) * VL;
            vstore(d, vload(d) + c[q][i]);
        }
        if (bias) vstore(db + (j + q) * VL, vload(db + (j + q) * VL) + s[q]);
    }
}

/* at_b_block with kb, nc and bias compile-time constants. */
static void at_b_dispatch(const float *A, int as, int k0, int kb, const float *G, int gs, float *dW, float *db,
                          int rows, int ncols, int j, int nc, int bias) {
#define AT_B_CASE(n)                                                                                            \
    case n:                                                                                                     \
        if (nc == AC && bias) at_b_block(A, as, k0, n, G, gs, dW, db, rows, ncols, j, AC, 1);                  \
        else if (nc == AC) at_b_block(A, as, k0, n, G, gs, dW, db, rows, ncols, j, AC, 0);                     \
        else if (bias) at_b_block(A, as, k0, n, G, gs, dW, db, rows, ncols, j, 1, 1);                          \
        else at_b_block(A, as, k0, n, G, gs, dW, db, rows, ncols, j, 1, 0);                                    \
        break;
    switch (kb) {
        AT_B_CASE(1)
        AT_B_CASE(2)
        AT_B_CASE(3)
        AT_B_CASE(4)
        AT_B_CASE(5)
        AT_B_CASE(6)
#if KB_MAX > 6
        AT_B_CASE(7)
        AT_B_CASE(8)
        AT_B_CASE(9)
        AT_B_CASE(10)
#endif
#if KB_MAX > 10
        AT_B_CASE(11)
        AT_B_CASE(12)
#endif
#if KB_MAX > 12
        AT_B_CASE(13)
        AT_B_CASE(14)
        AT_B_CASE(15)
#endif
    }
#undef AT_B_CASE
}

/*
 * dW[k, :] += sum_r A[r, k] * G[r, :] for k < K, and db[:] += sum_r G[r, :]. dW has stride ncols.
 * Each dW and db element is one lane's chain over the rows in order, whatever the blocking; the
 * blocks are sized to the layer's true input width, not its padded one.
 */
static void gemm_at_b(const float *A, int as, int K, const float *G, int gs, float *dW, float *db, int rows,
                      int ncols) {
    int nb = ncols / VL, nk = (K + KB_MAX - 1) / KB_MAX;
    int kb = (K + nk - 1) / nk; /* nk blocks of kb columns (the last one shorter) */
    for (int j = 0; j < nb; j += AC) {
        int nc = j + AC <= nb ? AC : 1;
        for (int k0 = 0; k0 < K; k0 += kb)
            at_b_dispatch(A, as, k0, K - k0 < kb ? K - k0 : kb, G, gs, dW, db, rows, ncols, j, nc, k0 == 0);
    }
}

/* Padded layout: P[l] = dims[l] rounded up to VL (layer l's input width). */
static void padded_dims(int L, const int *dims, int *P) {
    for (int l = 0; l <= L; l++) P[l] = round_up(dims[l], VL);
}

#define MAX_LAYERS 1024

/* One thread's workspace, carved into per-layer blocks (each VL-aligned). */
typedef struct {
    int L, tile, P[MAX_LAYERS + 1];
    float *Wp[MAX_LAYERS];  /* W, (dims[l], out) with zero padding columns; the output layer: column 0 */
    float *WT[MAX_LAYERS];  /* W^T, (out, P[l]) */
    float *dW[MAX_LAYERS];  /* dW accumulator, (P[l], out) */
    float *bp[MAX_LAYERS];  /* bias, (out) */
    float *db[MAX_LAYERS];  /* db accumulator, (out) */
    float *act[MAX_LAYERS]; /* layer l's input for one tile, (tile, P[l]); vpos'd but for the last */
    float *gbuf[2];         /* gradient tiles, ping-ponged */
    float *gpos[2];         /* the same, vpos'd: what the backward matmuls broadcast */
    float *pred, *gout;     /* output layer: predictions and their gradients, (tile) */
    float *wrow;            /* the output weights as one padded row, (P[L-1]) */
} Work;

/* Width of layer l's output block: its padded width, VL for the one-unit output layer. */
static inline int out_width(const Work *w, int l) { return l < w->L - 1 ? w->P[l + 1] : VL; }

/*
 * Lays the workspace out from base (ws rounded up to VL alignment); with
 * ws == NULL it only counts. Returns the floats needed, alignment slack
 * included, or -1 if the shapes are out of range. The single definition of
 * the layout: gp_workspace_floats, gp_loss_and_grads and gp_forward all use it.
 */
static long carve(Work *w, int L, const int *dims, int tile, float *ws) {
    if (L < 1 || L > MAX_LAYERS || tile < RB || tile % RB || dims[L] != 1) return -1;
    w->L = L, w->tile = tile;
    padded_dims(L, dims, w->P);
    float *base = ws ? (float *)(((size_t)ws + VL * sizeof(float) - 1) & ~(size_t)(VL * sizeof(float) - 1)) : NULL;
    size_t off = 0;
#define TAKE(n) (off += (size_t)(n), base ? base + off - (size_t)(n) : NULL)
    int pmax = 0;
    for (int l = 0; l < L; l++) {
        int out = out_width(w, l), P = w->P[l];
        w->Wp[l] = TAKE((size_t)dims[l] * out);
        w->WT[l] = TAKE((size_t)out * P);
        w->dW[l] = TAKE((size_t)P * out);
        w->bp[l] = TAKE(out);
        w->db[l] = TAKE(out);
        w->act[l] = TAKE((size_t)tile * P);
        if (P > pmax) pmax = P;
    }
    w->gbuf[0] = TAKE((size_t)tile * pmax);
    w->gbuf[1] = TAKE((size_t)tile * pmax);
    w->gpos[0] = TAKE((size_t)tile * pmax);
    w->gpos[1] = TAKE((size_t)tile * pmax);
    w->pred = TAKE(tile);
    w->gout = TAKE(tile);
    w->wrow = TAKE(pmax);
#undef TAKE
    return (long)off + VL; /* slack for aligning the base */
}

/* Floats of workspace one thread needs, or -1 if the shapes are out of range. */
long gp_workspace_floats(int L, const int *dims, int tile) {
    Work w;
    return carve(&w, L, dims, tile, NULL);
}

/*
 * Copies network `net`'s weights and biases into the padded blocks (zero
 * padding keeps padded columns at exactly 0); with `backward`, also W^T, and
 * zeroes the gradient accumulators.
 */
static void pack_net(Work *w, const int *dims, const float *const *W, const float *const *b, int net, int backward) {
    for (int l = 0; l < w->L; l++) {
        int in = dims[l], o = dims[l + 1], out = out_width(w, l), P = w->P[l];
        const float *wl = W[l] + (size_t)net * in * o, *bl = b[l] + (size_t)net * o;
        memset(w->Wp[l], 0, sizeof(float) * (size_t)in * out);
        memset(w->bp[l], 0, sizeof(float) * out);
        for (int i = 0; i < in; i++)
            for (int k = 0; k < o; k++) w->Wp[l][(size_t)i * out + k] = wl[(size_t)i * o + k];
        for (int k = 0; k < o; k++) w->bp[l][k] = bl[k];
        if (!backward) continue;
        memset(w->WT[l], 0, sizeof(float) * (size_t)out * P);
        memset(w->dW[l], 0, sizeof(float) * (size_t)P * out);
        memset(w->db[l], 0, sizeof(float) * out);
        for (int i = 0; i < in; i++)
            for (int k = 0; k < o; k++) w->WT[l][(size_t)k * P + i] = wl[(size_t)i * o + k];
    }
}

/* Activation-pattern hash, as genprobe.model.BatchedMLP.predict_and_patterns computes it: per hidden
 * layer in order, its on/off states packed 15 neurons to a code, id = id * 1000003 + code (mod 2^64). */
#define PATTERN_PRIME 1000003u
#define PATTERN_BITS 15

/* Bits k of *bits (64 to a word) for the VL floats at v: v[k] > 0 (false for NaN), as the scalar compare. */
static inline uint64_t positive_bits(const float *v) {
#if defined(__AVX512F__) && VL == 16
    return (uint64_t)_mm512_cmp_ps_mask(_mm512_load_ps(v), _mm512_setzero_ps(), _CMP_GT_OQ);
#elif defined(__AVX__) && VL == 8
    return (uint64_t)(unsigned)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_load_ps(v), _mm256_setzero_ps(), _CMP_GT_OQ));
#else
    uint64_t b = 0;
    for (int k = 0; k < VL; k++) b |= (uint64_t)(v[k] > 0.0f) << k;
    return b;
#endif
}

#define PATTERN_WORDS 64 /* widths up to 4096 take the vector compares; wider ones the scalar loop */

/* Folds hidden layer l's on/off states (activation > 0, i.e. pre-activation > 0: the slope is >= 0) of
 * rows 0..rows-1 of the tile into ids[r]: each row's states as bits from vector compares, then cut into
 * the 15-bit codes (the states beyond the width masked off). */
static void fold_patterns(const Work *w, int l, int width, int rows, uint64_t *ids) {
    const float *h = w->act[l];
    int P = w->P[l];
    for (int r = 0; r < rows; r++) {
        uint64_t id = ids[r];
        const float *row = h + (size_t)r * P;
        if (P <= 64) { /* one word, in a register */
            uint64_t bits = 0;
            for (int j = 0; j < P; j += VL) bits |= positive_bits(row + j) << j;
            for (int c0 = 0; c0 < width; c0 += PATTERN_BITS) {
                int n = width - c0 < PATTERN_BITS ? width - c0 : PATTERN_BITS;
                id = id * PATTERN_PRIME + ((bits >> c0) & ((1u << n) - 1));
            }
        } else if (P <= 64 * PATTERN_WORDS) {
            uint64_t bits[PATTERN_WORDS + 1];
            int nw = (P + 63) / 64;
            for (int q = 0; q <= nw && q <= PATTERN_WORDS; q++) bits[q] = 0;
            for (int j = 0; j < P; j += VL) bits[j >> 6] |= positive_bits(row + j) << (j & 63);
            for (int c0 = 0; c0 < width; c0 += PATTERN_BITS) {
                int n = width - c0 < PATTERN_BITS ? width - c0 : PATTERN_BITS, q = c0 >> 6, off = c0 & 63;
                uint64_t code = bits[q] >> off;
                if (off + n > 64) code |= bits[q + 1] << (64 - off);
                id = id * PATTERN_PRIME + (code & ((1u << n) - 1));
            }
        } else {
            for (int c0 = 0; c0 < width; c0 += PATTERN_BITS) {
                uint64_t code = 0;
                int c1 = c0 + PATTERN_BITS < width ? c0 + PATTERN_BITS : width;
                for (int k = c0; k < c1; k++) code |= (uint64_t)(row[k] > 0.0f) << (k - c0);
                id = id * PATTERN_PRIME + code;
            }
        }
        ids[r] = id;
    }
}

/*
 * Forward pass of one tile: rows r0..r0+rows-1 of xn (row stride dims[0])
 * through the packed network. The hidden activations stay in w->act (rows
 * padded to RB with zero inputs), each vpos'd where a matmul broadcasts it
 * (layers 0..L-2), as it is where only the scalar output layer reads it
 * (layer L-1); pred[r] gets the output of row r < rows, and ids[r] (unless
 * ids is NULL) its activation-pattern id.
 */
static void forward_tile(Work *w, const int *dims, const float *xn, long r0, int rows, vf slope, float *pred,
                         uint64_t *ids) {
    int L = w->L, rp = round_up(rows, RB);
    const int *P = w->P;
    float *a0 = w->act[0]; /* layer 0's input: the tile of x, zero-padded (columns and rows) */
    memset(a0, 0, sizeof(float) * (size_t)rp * P[0]);
    for (int r = 0; r < rows; r++) {
        float *row = a0 + (size_t)r * P[0];
        const float *xr = xn + (size_t)(r0 + r) * dims[0];
        if (L == 1) /* the output layer reads it */
            memcpy(row, xr, sizeof(float) * dims[0]);
        else /* a matmul broadcasts it */
            for (int k = 0; k < dims[0]; k++) row[k] = xr[k] + 0.0f;
    }
    if (ids) memset(ids, 0, sizeof(uint64_t) * (size_t)rows);
    for (int l = 0; l < L - 1; l++) {
        gemm(w->act[l], P[l], dims[l], w->Wp[l], P[l + 1], w->bp[l], w->act[l + 1], NULL, P[l + 1], rp, P[l + 1],
             l + 1 < L - 1 ? EPI_LRELU_POS : EPI_LRELU, NULL, 0, slope);
        if (ids) fold_patterns(w, l + 1, dims[l + 1], rows, ids);
    }
    const float *h = w->act[L - 1], *wout = w->Wp[L - 1]; /* output layer: one unit, column 0 of Wp */
    float bout = w->bp[L - 1][0];
    for (int r = 0; r < rows; r++) {
        float s = bout;
        for (int k = 0; k < dims[L - 1]; k++) s += h[(size_t)r * P[L - 1] + k] * wout[(size_t)k * VL];
        pred[r] = s;
    }
}

/*
 * Loss and gradients of network `net` (see gp_loss_and_grads): its rows of x and y, its first cnt rows
 * counted, the gradients unpacked into its slices of gW and gb. Returns the loss.
 */
static float net_loss_and_grads(Work *w, const int *dims, int net, int m, const float *const *W,
                                const float *const *b, float *const *gW, float *const *gb, const float *x,
                                const float *y, int cnt, vf slope) {
    int L = w->L, tile = w->tile;
    const int *P = w->P;
    pack_net(w, dims, W, b, net, 1);
    const float *xn = x + (size_t)net * m * dims[0], *yn = y + (size_t)net * m;
    float scale = 2.0f / (float)cnt;
    double sq = 0.0;
    const float *wout = w->Wp[L - 1]; /* (dims[L-1], VL): column 0 is the output weight */
    int in = dims[L - 1], pl = P[L - 1];
    memset(w->wrow, 0, sizeof(float) * pl); /* the same weights as one padded row */
    for (int k = 0; k < in; k++) w->wrow[k] = wout[(size_t)k * VL];
    for (int r0 = 0; r0 < cnt; r0 += tile) {
        int rows = cnt - r0 < tile ? cnt - r0 : tile; /* rows >= count: zero loss and gradient */
        int rp = round_up(rows, RB);
        forward_tile(w, dims, xn, r0, rows, slope, w->pred, NULL);
        /* loss and its gradient; the padding rows (rows..rp) get zero gradient */
        for (int r = 0; r < rp; r++) {
            float d = r < rows ? w->pred[r] - yn[r0 + r] : 0.0f;
            sq += (double)d * d;
            w->gout[r] = d * scale;
        }
        /* backward: output layer. The padding rows are left out of every sum over rows, so even an
           overflowing activation there cannot reach a gradient. */
        const float *h = w->act[L - 1];
        float *dwo = w->dW[L - 1];
        for (int r = 0; r < rows; r++) {
            float g = w->gout[r];
            w->db[L - 1][0] += g;
            for (int k = 0; k < in; k++) dwo[(size_t)k * VL] += h[(size_t)r * pl + k] * g;
        }
        if (L == 1) continue;
        /* gradient w.r.t. the last hidden activation, times the activation's derivative */
        float *G = w->gbuf[0], *Gp = w->gpos[0];
        for (int r = 0; r < rp; r++) {
            vf g = vsplat(w->gout[r]);
            for (int j = 0; j < pl; j += VL) {
                vf v = dlrelu(g * vload(w->wrow + j), vload(h + (size_t)r * pl + j), slope);
                vstore(G + (size_t)r * pl + j, v);
                vstore(Gp + (size_t)r * pl + j, vpos(v));
            }
        }
        /* backward through the hidden layers: G is d/d(pre-activation) of layer l's output, Gp its vpos */
        int gi = 0;
        for (int l = L - 2; l >= 0; l--) {
            gemm_at_b(w->act[l], P[l], dims[l], G, P[l + 1], w->dW[l], w->db[l], rows, P[l + 1]);
            if (l > 0) {
                float *Gn = w->gbuf[gi ^ 1], *Gpn = w->gpos[gi ^ 1];
                gemm(Gp, P[l + 1], dims[l + 1], w->WT[l], P[l], NULL, Gn, Gpn, P[l], rp, P[l], EPI_DLRELU, w->act[l],
                     P[l], slope);
                G = Gn, Gp = Gpn;
                gi ^= 1;
            }
        }
    }
    /* unpack the gradients */
    for (int l = 0; l < L; l++) {
        int i_n = dims[l], o = dims[l + 1], out = out_width(w, l);
        float *gw = gW[l] + (size_t)net * i_n * o, *gbb = gb[l] + (size_t)net * o;
        for (int i = 0; i < i_n; i++)
            for (int k = 0; k < o; k++) gw[(size_t)i * o + k] = w->dW[l][(size_t)i * out + k];
        for (int k = 0; k < o; k++) gbb[k] = w->db[l][k];
    }
    return (float)(sq / cnt);
}

/* The counts, checked before any work: a count torch would treat differently is an error, not a guess. */
static int counts_ok(const float *count, int lo, int hi, int m) {
    if (count)
        for (int net = lo; net < hi; net++) {
            float c = count[net];
            if (!(c >= 1.0f && c <= (float)m) || (float)(int)c != c) return 0;
        }
    return 1;
}

/*
 * Adam's moments of n numbers, as genprobe.optim.ExactAdam.step computes them, each operation rounded on
 * its own (the build passes -ffp-contract=off): m = m * k[0] + g * k[1], v = v * k[2] + (g * g) * k[3],
 * with k = (beta1, 1 - beta1, beta2, 1 - beta2) as floats.
 */
static void adam_moments(const float *g, float *m, float *v, long n, const float *k) {
    float b1 = k[0], c1 = k[1], b2 = k[2], c2 = k[3];
    for (long i = 0; i < n; i++) {
        float gi = g[i], mi = m[i] * b1, dm = gi * c1, vi = v[i] * b2, dv = gi * gi;
        dv = dv * c2;
        m[i] = mi + dm;
        v[i] = vi + dv;
    }
}

/*
 * Networks lo..hi-1 (gp_loss_and_grads), each alone; with am (not NULL), each network's Adam moments too,
 * while its gradients are in cache (gp_train_step). Returns 0, -1 or -2 as gp_loss_and_grads.
 */
static int nets_loss_and_grads(int L, const int *dims, int lo, int hi, int m, const float *const *W,
                               const float *const *b, float *const *gW, float *const *gb, const float *x,
                               const float *y, const float *count, float negative_slope, float *loss, float *ws,
                               int tile, float *am, float *av, long row, const long *offsets, const float *betas) {
    Work w;
    if (m < 1 || carve(&w, L, dims, tile, ws) < 0) return -1;
    if (!counts_ok(count, lo, hi, m)) return -2;
    vf slope = vsplat(negative_slope);
    for (int net = lo; net < hi; net++) {
        loss[net] = net_loss_and_grads(&w, dims, net, m, W, b, gW, gb, x, y, count ? (int)count[net] : m, slope);
        if (!am) continue;
        float *mr = am + (size_t)net * row, *vr = av + (size_t)net * row;
        for (int l = 0; l < L; l++) {
            long nw = (long)dims[l] * dims[l + 1], nb = dims[l + 1];
            adam_moments(gW[l] + (size_t)net * nw, mr + offsets[2 * l], vr + offsets[2 * l], nw, betas);
            adam_moments(gb[l] + (size_t)net * nb, mr + offsets[2 * l + 1], vr + offsets[2 * l + 1], nb, betas);
        }
    }
    return 0;
}

/*
 * Loss and gradients for networks lo..hi-1 of a stack of B.
 *
 *   W[l], b[l]   : (B, dims[l], dims[l+1]) and (B, 1, dims[l+1]), contiguous
 *   gW[l], gb[l] : same shapes, overwritten with d(sum_b loss_b)/d(param)
 *   x            : (B, m, dims[0]), y: (B, m), count: (B,) or NULL
 *   loss         : (B,), loss[b] = sum_{r < count[b]} (out - y)^2 / count[b]
 *                  (count NULL: every row, / m)
 *   ws           : gp_workspace_floats(L, dims, tile) floats, this thread's own
 *
 * Returns 0; -1 if the shapes are out of range; -2 if a count is not a whole
 * number in [1, m] (nothing is computed then).
 */
int gp_loss_and_grads(int L, const int *dims, int lo, int hi, int m, const float *const *W, const float *const *b,
                      float *const *gW, float *const *gb, const float *x, const float *y, const float *count,
                      float negative_slope, float *loss, float *ws, int tile) {
    return nets_loss_and_grads(L, dims, lo, hi, m, W, b, gW, gb, x, y, count, negative_slope, loss, ws, tile, NULL,
                               NULL, 0, NULL, NULL);
}

/*
 * gp_loss_and_grads, and for each network, while its gradients are in cache, Adam's moments
 * (adam_moments with k = betas): network b's moments are row b of am and av (row floats each),
 * and the moments of W[l] and b[l] start at offsets[2 l] and offsets[2 l + 1] of a row (the
 * optimizer's order of its parameters). The update itself needs sqrt(av): gp_adam_update.
 */
int gp_train_step(int L, const int *dims, int lo, int hi, int m, const float *const *W, const float *const *b,
                  float *const *gW, float *const *gb, const float *x, const float *y, const float *count,
                  float negative_slope, float *loss, float *ws, int tile, float *am, float *av, long row,
                  const long *offsets, const float *betas) {
    return nets_loss_and_grads(L, dims, lo, hi, m, W, b, gW, gb, x, y, count, negative_slope, loss, ws, tile, am, av,
                               row, offsets, betas);
}

/* p -= (m / (root / correction + eps)) * step_size over n numbers, one rounding per operation, in
 * ExactAdam.step's order (root: sqrt of the second moment, as torch computed it). */
static void adam_apply(float *p, const float *m, const float *root, long n, float correction, float eps,
                       float step_size) {
    for (long i = 0; i < n; i++) {
        float d = root[i] / correction;
        d = d + eps;
        float u = m[i] / d;
        u = u * step_size;
        p[i] = p[i] - u;
    }
}

/*
 * Adam's update of networks lo..hi-1 (after gp_train_step and root = torch.sqrt(av)): the parameters
 * W[l], b[l] as in gp_loss_and_grads, the moments' layout as in gp_train_step, step_size[b] and
 * correction[b] network b's lr / (1 - beta1^t) and sqrt(1 - beta2^t) as floats. Returns 0.
 */
int gp_adam_update(int L, const int *dims, int lo, int hi, float *const *W, float *const *b, const float *am,
                   const float *root, long row, const long *offsets, const float *step_size,
                   const float *correction, float eps) {
    for (int net = lo; net < hi; net++) {
        const float *mr = am + (size_t)net * row, *rr = root + (size_t)net * row;
        for (int l = 0; l < L; l++) {
            long nw = (long)dims[l] * dims[l + 1], nb = dims[l + 1];
            adam_apply(W[l] + (size_t)net * nw, mr + offsets[2 * l], rr + offsets[2 * l], nw, correction[net], eps,
                       step_size[net]);
            adam_apply(b[l] + (size_t)net * nb, mr + offsets[2 * l + 1], rr + offsets[2 * l + 1], nb,
                       correction[net], eps, step_size[net]);
        }
    }
    return 0;
}

/*
 * Predictions of networks lo..hi-1 at rows r_lo..r_hi-1 of their inputs:
 *   x   : network b's rows start at x + b * x_net_stride (0: all networks share
 *         one (m, dims[0]) input, e.g. the evaluation grid), row stride dims[0]
 *   out : (B, m), out[b, r] written for r in [r_lo, r_hi)
 *   ids : NULL, or (B, m) 64-bit activation-pattern ids, written like out
 * Rows are independent, so any split of rows and networks over threads gives
 * the same numbers. Returns 0, or -1 if the arguments are out of range.
 */
int gp_forward(int L, const int *dims, int lo, int hi, int r_lo, int r_hi, long m, const float *const *W,
               const float *const *b, const float *x, long x_net_stride, float negative_slope, float *out,
               uint64_t *ids, float *ws, int tile) {
    Work w;
    if (r_lo < 0 || r_hi > m || carve(&w, L, dims, tile, ws) < 0) return -1;
    vf slope = vsplat(negative_slope);
    for (int net = lo; net < hi; net++) {
        pack_net(&w, dims, W, b, net, 0);
        const float *xn = x + (size_t)net * x_net_stride;
        float *on = out + (size_t)net * m;
        uint64_t *in = ids ? ids + (size_t)net * m : NULL;
        for (long r0 = r_lo; r0 < r_hi; r0 += tile)
            forward_tile(&w, dims, xn, r0, r_hi - r0 < tile ? (int)(r_hi - r0) : tile, slope, on + r0,
                         in ? in + r0 : NULL);
    }
    return 0;
}
