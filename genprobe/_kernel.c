/*
 * genprobe's fused CPU training step: loss and gradients of B independent
 * MLPs (in -> hidden layers with LeakyReLU -> 1), float32, one network at a
 * time per calling thread.
 *
 * Built on first use by genprobe/ckernel.py with the machine's C compiler
 * (`cc -O3 -march=native`), loaded with ctypes; plain C99 plus GCC/Clang
 * vector extensions, no Python or torch headers.
 *
 * Why it is faster than torch ops on a CPU: the batch is cut into tiles of
 * rows, and a tile goes through the whole forward and backward pass while
 * its activations (tile x width x layers floats), the network's weights and
 * the gradient accumulators stay in the core's L2 cache; the bias, the
 * activation and its derivative are applied inside the matmul loops instead
 * of in separate passes over memory; nothing is allocated.
 *
 * Rows are independent in every step except the weight and bias gradients,
 * which are summed over tiles in a fixed order: results do not depend on
 * the number of networks or threads.
 */
#include <stddef.h>
#include <string.h>

#define VL 16 /* floats per vector (one AVX-512 register; two AVX2 ones) */
#define RB 8  /* rows per register block */
typedef float vf __attribute__((vector_size(VL * sizeof(float))));
typedef int vi __attribute__((vector_size(VL * sizeof(int))));

/* Lane-wise mask ? a : b (C has no vector ?:); mask lanes are all ones or all zeros. */
static inline vf vselect(vi mask, vf a, vf b) { return (vf)(((vi)a & mask) | ((vi)b & ~mask)); }

static inline vf vload(const float *p) { return *(const vf *)p; }
static inline void vstore(float *p, vf v) { *(vf *)p = v; }
static inline vf vsplat(float s) { return (vf){0} + s; }

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

/*
 * C[r, 16j : 16j+16] = A[r, :K] @ Bm[:K, 16j : 16j+16] (+ bias), rows 0..rows-1
 * (rows a multiple of RB), with an epilogue:
 *   mode 0: plain;  mode 1: leaky ReLU;  mode 2: times dlrelu(H[r, ...]).
 * Strides are in floats and multiples of VL; every pointer is VL-aligned.
 * Two column blocks at a time: 2 x RB accumulators live in registers while
 * k runs over the inner dimension.
 */
static inline __attribute__((always_inline)) void gemm_block(const float *A, int as, int K, const float *Bm, int bs,
                                                             const float *bias, float *C, int cs, int rows, int j,
                                                             int two, int mode, const float *H, int hs, vf slope) {
    for (int r = 0; r < rows; r += RB) {
        vf c0[RB], c1[RB];
        vf b0 = bias ? vload(bias + j * VL) : (vf){0};
        vf b1 = (two && bias) ? vload(bias + (j + 1) * VL) : (vf){0};
        for (int i = 0; i < RB; i++) {
            c0[i] = b0;
            c1[i] = b1;
        }
        const float *a = A + (size_t)r * as;
        for (int k = 0; k < K; k++) {
            vf w0 = vload(Bm + (size_t)k * bs + j * VL);
            vf w1 = two ? vload(Bm + (size_t)k * bs + (j + 1) * VL) : (vf){0};
#pragma GCC unroll 8
            for (int i = 0; i < RB; i++) {
                vf s = vsplat(a[(size_t)i * as + k]);
                c0[i] += s * w0;
                if (two) c1[i] += s * w1;
            }
        }
        for (int i = 0; i < RB; i++) {
            float *c = C + (size_t)(r + i) * cs + j * VL;
            if (mode == 1) {
                c0[i] = lrelu(c0[i], slope);
                if (two) c1[i] = lrelu(c1[i], slope);
            } else if (mode == 2) {
                const float *h = H + (size_t)(r + i) * hs + j * VL;
                c0[i] = dlrelu(c0[i], vload(h), slope);
                if (two) c1[i] = dlrelu(c1[i], vload(h + VL), slope);
            }
            vstore(c, c0[i]);
            if (two) vstore(c + VL, c1[i]);
        }
    }
}

static void gemm(const float *A, int as, int K, const float *Bm, int bs, const float *bias, float *C, int cs, int rows,
                 int ncols, int mode, const float *H, int hs, vf slope) {
    int nb = ncols / VL, j = 0;
    for (; j + 1 < nb; j += 2) {
        if (mode == 0) gemm_block(A, as, K, Bm, bs, bias, C, cs, rows, j, 1, 0, H, hs, slope);
        else if (mode == 1) gemm_block(A, as, K, Bm, bs, bias, C, cs, rows, j, 1, 1, H, hs, slope);
        else gemm_block(A, as, K, Bm, bs, bias, C, cs, rows, j, 1, 2, H, hs, slope);
    }
    if (j < nb) {
        if (mode == 0) gemm_block(A, as, K, Bm, bs, bias, C, cs, rows, j, 0, 0, H, hs, slope);
        else if (mode == 1) gemm_block(A, as, K, Bm, bs, bias, C, cs, rows, j, 0, 1, H, hs, slope);
        else gemm_block(A, as, K, Bm, bs, bias, C, cs, rows, j, 0, 2, H, hs, slope);
    }
}

/*
 * dW[k, :] += sum_r A[r, k] * G[r, :] for k < K8 (K rounded up to RB; A's
 * padding columns are zero), and db[:] += sum_r G[r, :]. dW has stride ncols.
 */
static void gemm_at_b(const float *A, int as, int K8, const float *G, int gs, float *dW, float *db, int rows,
                      int ncols) {
    int nb = ncols / VL;
    for (int j = 0; j < nb; j++) {
        vf s = {0};
        for (int r = 0; r < rows; r++) s += vload(G + (size_t)r * gs + j * VL);
        vstore(db + j * VL, vload(db + j * VL) + s);
    }
    for (int j = 0; j < nb; j += 2) {
        int two = j + 1 < nb;
        for (int k0 = 0; k0 < K8; k0 += RB) {
            vf c0[RB], c1[RB];
            for (int i = 0; i < RB; i++) {
                c0[i] = (vf){0};
                c1[i] = (vf){0};
            }
            if (two) {
                for (int r = 0; r < rows; r++) {
                    vf g0 = vload(G + (size_t)r * gs + j * VL), g1 = vload(G + (size_t)r * gs + (j + 1) * VL);
                    const float *a = A + (size_t)r * as + k0;
#pragma GCC unroll 8
                    for (int i = 0; i < RB; i++) {
                        vf s = vsplat(a[i]);
                        c0[i] += s * g0;
                        c1[i] += s * g1;
                    }
                }
            } else {
                for (int r = 0; r < rows; r++) {
                    vf g0 = vload(G + (size_t)r * gs + j * VL);
                    const float *a = A + (size_t)r * as + k0;
#pragma GCC unroll 8
                    for (int i = 0; i < RB; i++) c0[i] += vsplat(a[i]) * g0;
                }
            }
            for (int i = 0; i < RB; i++) {
                float *d = dW + (size_t)(k0 + i) * ncols + j * VL;
                vstore(d, vload(d) + c0[i]);
                if (two) vstore(d + VL, vload(d + VL) + c1[i]);
            }
        }
    }
}

/* Padded layout: P[l] = dims[l] rounded up to VL (layer l's input width). */
static void padded_dims(int L, const int *dims, int *P) {
    for (int l = 0; l <= L; l++) P[l] = round_up(dims[l], VL);
}

#define MAX_LAYERS 1024

/* Floats of workspace one thread needs (each block VL-aligned by construction). */
long gp_workspace_floats(int L, const int *dims, int tile) {
    int P[MAX_LAYERS + 1];
    if (L < 1 || L > MAX_LAYERS || tile < RB || tile % RB) return -1;
    padded_dims(L, dims, P);
    long n = 0, pmax = 0;
    for (int l = 0; l < L; l++) {
        int out = l < L - 1 ? P[l + 1] : VL;
        n += (long)dims[l] * out;      /* W (rows = real inputs) */
        n += (long)out * P[l];         /* W^T (rows = outputs) */
        n += (long)P[l] * out;         /* dW accumulator */
        n += out;                      /* bias */
        n += out;                      /* db accumulator */
        n += (long)tile * P[l];        /* activations: layer l's input */
        if (P[l] > pmax) pmax = P[l];
    }
    n += 2L * tile * pmax;             /* two gradient tiles */
    n += 2L * tile + pmax;             /* output layer: predictions, gradients, weights as a row */
    return n + VL;                     /* slack for aligning the base */
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
                      float slope_, float *loss, float *ws, int tile) {
    int P[MAX_LAYERS + 1];
    if (L < 1 || L > MAX_LAYERS || tile < RB || tile % RB || m < 1 || dims[L] != 1) return -1;
    padded_dims(L, dims, P);
    vf slope = vsplat(slope_);
    /* carve the workspace */
    float *p = (float *)(((size_t)ws + VL * sizeof(float) - 1) & ~(size_t)(VL * sizeof(float) - 1));
    float *Wp[MAX_LAYERS], *WT[MAX_LAYERS], *dW[MAX_LAYERS], *bp[MAX_LAYERS], *db[MAX_LAYERS], *act[MAX_LAYERS];
    int pmax = 0;
    for (int l = 0; l < L; l++) {
        int out = l < L - 1 ? P[l + 1] : VL;
        Wp[l] = p, p += (size_t)dims[l] * out;
        WT[l] = p, p += (size_t)out * P[l];
        dW[l] = p, p += (size_t)P[l] * out;
        bp[l] = p, p += out;
        db[l] = p, p += out;
        act[l] = p, p += (size_t)tile * P[l];
        if (P[l] > pmax) pmax = P[l];
    }
    float *gbuf[2] = {p, p + (size_t)tile * pmax};
    p += 2 * (size_t)tile * pmax;
    float *pred = p, *gout = p + tile, *wrow = p + 2 * (size_t)tile;

    if (count) /* before any work: a count torch would treat differently is an error, not a guess */
        for (int net = lo; net < hi; net++) {
            float c = count[net];
            if (!(c >= 1.0f && c <= (float)m) || (float)(int)c != c) return -2;
        }
    for (int net = lo; net < hi; net++) {
        /* pack this network's weights: zero padding keeps padded columns at exactly 0 */
        for (int l = 0; l < L; l++) {
            int in = dims[l], o = dims[l + 1], out = l < L - 1 ? P[l + 1] : VL;
            const float *w = W[l] + (size_t)net * in * o, *bb = b[l] + (size_t)net * o;
            memset(Wp[l], 0, sizeof(float) * (size_t)in * out);
            memset(WT[l], 0, sizeof(float) * (size_t)out * P[l]);
            memset(dW[l], 0, sizeof(float) * (size_t)P[l] * out);
            memset(bp[l], 0, sizeof(float) * out);
            memset(db[l], 0, sizeof(float) * out);
            for (int i = 0; i < in; i++)
                for (int k = 0; k < o; k++) {
                    Wp[l][(size_t)i * out + k] = w[(size_t)i * o + k];
                    WT[l][(size_t)k * P[l] + i] = w[(size_t)i * o + k];
                }
            for (int k = 0; k < o; k++) bp[l][k] = bb[k];
        }
        const float *xn = x + (size_t)net * m * dims[0], *yn = y + (size_t)net * m;
        int cnt = count ? (int)count[net] : m; /* checked above: a whole number in [1, m] */
        float scale = 2.0f / (float)cnt;
        double sq = 0.0;
        const float *wout = Wp[L - 1];  /* (dims[L-1], VL): column 0 is the output weight */
        float bout = bp[L - 1][0];
        memset(wrow, 0, sizeof(float) * P[L - 1]); /* the same weights as one padded row */
        for (int k = 0; k < dims[L - 1]; k++) wrow[k] = wout[(size_t)k * VL];
        for (int r0 = 0; r0 < cnt; r0 += tile) {
            int rows = cnt - r0 < tile ? cnt - r0 : tile; /* rows >= count: zero loss and gradient */
            int rp = round_up(rows, RB);
            /* layer 0's input: the tile of x, zero-padded (columns and rows) */
            float *a0 = act[0];
            memset(a0, 0, sizeof(float) * (size_t)rp * P[0]);
            for (int r = 0; r < rows; r++)
                memcpy(a0 + (size_t)r * P[0], xn + (size_t)(r0 + r) * dims[0], sizeof(float) * dims[0]);
            /* forward through the hidden layers */
            for (int l = 0; l < L - 1; l++)
                gemm(act[l], P[l], dims[l], Wp[l], P[l + 1], bp[l], act[l + 1], P[l + 1], rp, P[l + 1], 1, NULL, 0,
                     slope);
            /* output layer (one unit), loss and its gradient */
            const float *h = act[L - 1];
            int in = dims[L - 1];
            for (int r = 0; r < rp; r++) {
                float s = bout;
                for (int k = 0; k < in; k++) s += h[(size_t)r * P[L - 1] + k] * wout[(size_t)k * VL];
                pred[r] = s;
            }
            for (int r = 0; r < rp; r++) {
                float d = r < rows ? pred[r] - yn[r0 + r] : 0.0f;
                sq += (double)d * d;
                gout[r] = d * scale;
            }
            /* backward: output layer. The padding rows (rows..rp) carry zero gradient and are left out
               of every sum over rows, so even an overflowing activation there cannot reach a gradient. */
            float *dwo = dW[L - 1];
            for (int r = 0; r < rows; r++) {
                float g = gout[r];
                db[L - 1][0] += g;
                for (int k = 0; k < in; k++) dwo[(size_t)k * VL] += h[(size_t)r * P[L - 1] + k] * g;
            }
            if (L == 1) continue;
            /* gradient w.r.t. the last hidden activation, times the activation's derivative */
            float *G = gbuf[0];
            int pl = P[L - 1];
            for (int r = 0; r < rp; r++) {
                vf g = vsplat(gout[r]);
                for (int j = 0; j < pl; j += VL)
                    vstore(G + (size_t)r * pl + j, dlrelu(g * vload(wrow + j), vload(h + (size_t)r * pl + j), slope));
            }
            /* backward through the hidden layers: G is d/d(pre-activation) of layer l's output */
            int gi = 0;
            for (int l = L - 2; l >= 0; l--) {
                gemm_at_b(act[l], P[l], round_up(dims[l], RB), G, P[l + 1], dW[l], db[l], rows, P[l + 1]);
                if (l > 0) {
                    float *Gn = gbuf[gi ^ 1];
                    gemm(G, P[l + 1], dims[l + 1], WT[l], P[l], NULL, Gn, P[l], rp, P[l], 2, act[l], P[l], slope);
                    G = Gn;
                    gi ^= 1;
                }
            }
        }
        loss[net] = (float)(sq / cnt);
        /* unpack the gradients */
        for (int l = 0; l < L; l++) {
            int in = dims[l], o = dims[l + 1], out = l < L - 1 ? P[l + 1] : VL;
            float *gw = gW[l] + (size_t)net * in * o, *gbb = gb[l] + (size_t)net * o;
            for (int i = 0; i < in; i++)
                for (int k = 0; k < o; k++) gw[(size_t)i * o + k] = dW[l][(size_t)i * out + k];
            for (int k = 0; k < o; k++) gbb[k] = db[l][k];
        }
    }
    return 0;
}

/*
 * Predictions of networks lo..hi-1 at rows r_lo..r_hi-1 of their inputs:
 *   x   : network b's rows start at x + b * x_net_stride (0: all networks share
 *         one (m, dims[0]) input, e.g. the evaluation grid), row stride dims[0]
 *   out : (B, m), out[b, r] written for r in [r_lo, r_hi)
 * Rows are independent, so any split of rows and networks over threads gives
 * the same numbers. Returns 0, or -1 if the arguments are out of range.
 */
int gp_forward(int L, const int *dims, int lo, int hi, int r_lo, int r_hi, long m, const float *const *W,
               const float *const *b, const float *x, long x_net_stride, float slope_, float *out, float *ws,
               int tile) {
    int P[MAX_LAYERS + 1];
    if (L < 1 || L > MAX_LAYERS || tile < RB || tile % RB || dims[L] != 1 || r_lo < 0 || r_hi > m) return -1;
    padded_dims(L, dims, P);
    vf slope = vsplat(slope_);
    float *p = (float *)(((size_t)ws + VL * sizeof(float) - 1) & ~(size_t)(VL * sizeof(float) - 1));
    float *Wp[MAX_LAYERS], *bp[MAX_LAYERS], *act[MAX_LAYERS];
    for (int l = 0; l < L; l++) { /* the same carving as gp_loss_and_grads; W^T and dW stay unused */
        int out_w = l < L - 1 ? P[l + 1] : VL;
        Wp[l] = p, p += (size_t)dims[l] * out_w;
        p += (size_t)out_w * P[l];
        p += (size_t)P[l] * out_w;
        bp[l] = p, p += out_w;
        p += out_w;
        act[l] = p, p += (size_t)tile * P[l];
    }
    for (int net = lo; net < hi; net++) {
        for (int l = 0; l < L; l++) {
            int in = dims[l], o = dims[l + 1], out_w = l < L - 1 ? P[l + 1] : VL;
            const float *w = W[l] + (size_t)net * in * o, *bb = b[l] + (size_t)net * o;
            memset(Wp[l], 0, sizeof(float) * (size_t)in * out_w);
            memset(bp[l], 0, sizeof(float) * out_w);
            for (int i = 0; i < in; i++)
                for (int k = 0; k < o; k++) Wp[l][(size_t)i * out_w + k] = w[(size_t)i * o + k];
            for (int k = 0; k < o; k++) bp[l][k] = bb[k];
        }
        const float *xn = x + (size_t)net * x_net_stride, *wout = Wp[L - 1];
        float bout = bp[L - 1][0], *on = out + (size_t)net * m;
        int in_last = dims[L - 1];
        for (long r0 = r_lo; r0 < r_hi; r0 += tile) {
            int rows = r_hi - r0 < tile ? (int)(r_hi - r0) : tile;
            int rp = round_up(rows, RB);
            float *a0 = act[0];
            memset(a0, 0, sizeof(float) * (size_t)rp * P[0]);
            for (int r = 0; r < rows; r++)
                memcpy(a0 + (size_t)r * P[0], xn + (size_t)(r0 + r) * dims[0], sizeof(float) * dims[0]);
            for (int l = 0; l < L - 1; l++)
                gemm(act[l], P[l], dims[l], Wp[l], P[l + 1], bp[l], act[l + 1], P[l + 1], rp, P[l + 1], 1, NULL, 0,
                     slope);
            const float *h = act[L - 1];
            for (int r = 0; r < rows; r++) {
                float s = bout;
                for (int k = 0; k < in_last; k++) s += h[(size_t)r * P[L - 1] + k] * wout[(size_t)k * VL];
                on[r0 + r] = s;
            }
        }
    }
    return 0;
}
