/**
 * Conv2D gradient kernels for tfjs-backend-wasm, so LayersModels can be trained on wasm.
 *
 * Why: tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter` kernel at all (fit() fails with
 * "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'"), and its
 * `Conv2DBackpropInput` is a plain C++ loop. Measured on this machine kind (2 vCPU AVX2, batch 64,
 * 3×3 'same', 0.46 GMAC per call): forward Conv2D (XNNPACK) 35 ms; native Conv2DBackpropInput
 * 330–380 ms; Conv3DBackpropFilterV2 used as a 2-D filter gradient 930–1270 ms; im2col + matMul
 * 65–220 ms. Both gradients written as *forward* convolutions run at forward speed (35–60 ms), so
 * that is what these kernels do:
 *
 *   - filter gradient: dW[i,j,c,n] = Σ_{b,oh,ow} xpad[b, oh·s+i, ow·s+j, c] · dy[b,oh,ow,n] is a
 *     convolution of xpad transposed to [C, Hp, Wp, B] (channels act as the batch, the batch as
 *     the channels) with dy transposed to [Ho, Wo, B, N] as the filter, stride 1, dilation s.
 *   - input gradient: dy with s−1 zeros inserted between pixels, padded by k−1−pad, correlated with
 *     the kernel flipped in space and transposed to [kh, kw, N, C] (the usual transposed conv).
 *
 * Only NHWC and dilation 1 (what Keras Conv2D layers use here); anything else throws and names it.
 * The kernels compose ordinary tf ops: inside a kernel the engine records no gradient tape
 * (kernelDepth > 0), and the one returned buffer is handed over with an extra backend ref.
 */
import * as tf from '@tensorflow/tfjs';

type Pad4 = [[number, number], [number, number], [number, number], [number, number]];

/** Pads (positive) or crops (negative) the H and W axes of an NHWC tensor. */
function padOrCrop(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  const pads: Pad4 = [[0, 0], [Math.max(top, 0), Math.max(bottom, 0)], [Math.max(left, 0), Math.max(right, 0)], [0, 0]];
  let y = pads.some(([a, b]) => a > 0 || b > 0) ? tf.pad(x, pads) : x;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [b, h, w, c] = y.shape;
    const t0 = Math.max(-top, 0);
    const l0 = Math.max(-left, 0);
    y = tf.slice(y, [0, t0, l0, 0], [b, h - t0 - Math.max(-bottom, 0), w - l0 - Math.max(-right, 0), c]);
  }
  return y;
}

/**
 * Inserts s−1 zero rows/columns after every pixel: [B, H, W, C] → [B, H·sh, W·sw, C]. The
 * trailing zeros past the last pixel are left for the caller's padOrCrop to keep or cut, which
 * saves a full-size slice here.
 */
function spreadSpatial(x: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return x;
  const [b, h, w, c] = x.shape;
  const spread = tf.pad(tf.reshape(x, [b, h, 1, w, 1, c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  return tf.reshape(spread, [b, h * sh, w * sw, c]) as tf.Tensor4D;
}

interface ConvGradAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function checkSupported(kernel: string, attrs: ConvGradAttrs): void {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`${kernel} (wasm training kernel): dataFormat ${attrs.dataFormat} is not supported; use NHWC`);
  }
}

/** dW for y = conv2d(x, W): shapes x [B,H,W,C], dy [B,Ho,Wo,N] → [kh,kw,C,N]. */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number], attrs: ConvGradAttrs): tf.Tensor4D {
  checkSupported('Conv2DBackpropFilter', attrs);
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
    const { top, bottom, left, right } = info.padInfo;
    const [kh, kw, c, n] = filterShape;
    const xp = padOrCrop(x, top, bottom, left, right);
    const xt = tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D; // [C, Hp, Wp, B]
    const dyt = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [Ho, Wo, B, N]
    const dilations: [number, number] = [info.strideHeight, info.strideWidth];
    const g = tf.conv2d(xt, dyt, 1, 'valid', 'NHWC', dilations); // [C, ≥kh, ≥kw, N]
    // Rows of xpad past the last window (stride leftovers) produce extra outputs: drop them.
    const gk = g.shape[1] === kh && g.shape[2] === kw ? g : tf.slice(g, [0, 0, 0, 0], [c, kh, kw, n]);
    return tf.transpose(gk, [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/** dX for y = conv2d(x, W): dy [B,Ho,Wo,N], W [kh,kw,C,N] → [B,H,W,C] with H, W from inputShape. */
export function conv2dInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, inputShape: [number, number, number, number], attrs: ConvGradAttrs): tf.Tensor4D {
  checkSupported('Conv2DBackpropInput', attrs);
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
    const [, h, w] = inputShape;
    const [kh, kw] = filter.shape;
    const sh = info.strideHeight;
    const sw = info.strideWidth;
    const { top, left } = info.padInfo;
    const dyd = spreadSpatial(dy, sh, sw);
    const padTop = kh - 1 - top;
    const padLeft = kw - 1 - left;
    // Output must come out H×W: total padded height = H + kh − 1 (negative pads crop).
    const padBottom = h + kh - 1 - padTop - dyd.shape[1];
    const padRight = w + kw - 1 - padLeft - dyd.shape[2];
    const dyp = padOrCrop(dyd, padTop, padBottom, padLeft, padRight);
    const wf = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D; // [kh, kw, N, C]
    return tf.conv2d(dyp, wf, 1, 'valid');
  });
}

interface RefCounted {
  incRef(dataId: object): void;
}

/** Hands a tensor computed inside a kernel to the engine as the kernel's output. */
function asKernelOutput(t: tf.Tensor): tf.TensorInfo {
  (tf.backend() as unknown as RefCounted).incRef(t.dataId);
  const info: tf.TensorInfo = { dataId: t.dataId, shape: t.shape, dtype: t.dtype };
  t.dispose();
  return info;
}

/** Wraps a kernel input as a Tensor with its own backend ref, so disposing it frees nothing. */
function asTensor4D(info: tf.TensorInfo): tf.Tensor4D {
  (tf.backend() as unknown as RefCounted).incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor4D;
}

let registered = false;

/**
 * Registers the two kernels on the 'wasm' backend (replacing the slow native
 * Conv2DBackpropInput). Idempotent. Call before training on wasm.
 */
export function registerWasmConvGrads(): void {
  if (registered) return;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs }) => {
      const a = attrs as unknown as ConvGradAttrs & { filterShape: [number, number, number, number] };
      const x = asTensor4D(inputs.x as tf.TensorInfo);
      const dy = asTensor4D(inputs.dy as tf.TensorInfo);
      const out = conv2dFilterGrad(x, dy, a.filterShape, a);
      tf.dispose([x, dy]);
      return asKernelOutput(out);
    },
  });
  if (tf.getKernel('Conv2DBackpropInput', 'wasm') !== undefined) tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs }) => {
      const a = attrs as unknown as ConvGradAttrs & { inputShape: [number, number, number, number] };
      const dy = asTensor4D(inputs.dy as tf.TensorInfo);
      const filter = asTensor4D(inputs.filter as tf.TensorInfo);
      const out = conv2dInputGrad(dy, filter, a.inputShape, a);
      tf.dispose([dy, filter]);
      return asKernelOutput(out);
    },
  });
  registered = true;
}
