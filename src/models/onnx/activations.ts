/**
 * Activation names between the IR (Keras strings, ir.ts) and ONNX operators, both directions.
 * Keras definitions win where the two differ: hard_sigmoid is clip(0.2·x + 0.5, 0, 1) (Keras 2 and
 * TF.js), swish is x·sigmoid(x), gelu is the exact erf form and gelu_new the tanh approximation.
 */
import type { Emitter } from './emitter.js';
import { attr, type Attrs } from './proto.js';

export interface ActivationSpec {
  activation: string;
  params?: Record<string, number>;
}

/** 'hard_sigmoid', 'hardSigmoid', 'HardSigmoid' → 'hardsigmoid'. */
export function activationKey(name: string): string {
  return name.toLowerCase().replace(/[_\-\s]/g, '');
}

export function isLinear(name: string | undefined): boolean {
  return name === undefined || name === '' || activationKey(name) === 'linear';
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_GAMMA = 1.0507009873554805;

/**
 * ONNX elementwise activation op → IR activation, or null when the op (or its attributes) has no
 * IR equivalent. Clip and Softmax need constant inputs / ranks and are mapped by the reader.
 */
export function activationFromOnnx(opType: string, a: Attrs): ActivationSpec | null {
  switch (opType) {
    case 'Relu':
      return { activation: 'relu' };
    case 'Sigmoid':
      return { activation: 'sigmoid' };
    case 'Tanh':
      return { activation: 'tanh' };
    case 'Softplus':
      return { activation: 'softplus' };
    case 'Softsign':
      return { activation: 'softsign' };
    case 'Exp':
      return { activation: 'exponential' };
    case 'Mish':
      return { activation: 'mish' };
    case 'HardSwish':
      return { activation: 'hard_swish' };
    case 'LeakyRelu':
      // Spelled as the TF.js loader spells it (keras-to-ir.ts), so both formats share one name.
      return { activation: 'leakyRelu', params: { alpha: a.float('alpha', 0.01) } };
    case 'Elu': {
      const alpha = a.float('alpha', 1);
      return alpha === 1 ? { activation: 'elu' } : { activation: 'elu', params: { alpha } };
    }
    case 'Selu': {
      const alpha = a.float('alpha', SELU_ALPHA);
      const gamma = a.float('gamma', SELU_GAMMA);
      // Attributes are float32 in the file: compare at float32 precision.
      const same = (x: number, y: number) => Math.abs(x - y) < 1e-6;
      return same(alpha, SELU_ALPHA) && same(gamma, SELU_GAMMA) ? { activation: 'selu' } : null;
    }
    case 'HardSigmoid': {
      const alpha = a.float('alpha', 0.2);
      const beta = a.float('beta', 0.5);
      const keras = Math.abs(alpha - 0.2) < 1e-7 && beta === 0.5;
      return keras ? { activation: 'hard_sigmoid' } : { activation: 'hard_sigmoid', params: { alpha, beta } };
    }
    case 'Gelu':
      return a.str('approximate', 'none') === 'tanh' ? { activation: 'gelu_new' } : { activation: 'gelu' };
    default:
      return null;
  }
}

export interface EmitActivationOptions {
  input: string;
  output: string;
  /** ONNX node name (the IR node name plus a suffix). */
  nodeName: string;
  /** Channel axis of the tensor as stored in the ONNX graph (for softmax). */
  channelAxis: number;
  /** Names the IR node in errors. */
  owner: string;
}

/** Emits the ONNX node(s) computing `spec` from `input` into `output`. */
export function emitActivation(em: Emitter, spec: ActivationSpec, o: EmitActivationOptions): void {
  const p = spec.params ?? {};
  const { input: x, output: y, nodeName: n } = o;
  const tmp = (suffix: string) => em.fresh(`${n}/${suffix}`);
  const constF = (suffix: string, v: number) => em.floatInit(`${n}/${suffix}`, [], new Float32Array([v]));
  const clip = (lo: number, hi: number) => em.node('Clip', [x, constF('min', lo), constF('max', hi)], [y], n);
  const unary = (op: string, attrs: ReturnType<typeof attr.float>[] = []) => em.node(op, [x], [y], n, attrs);

  switch (activationKey(spec.activation)) {
    case 'linear':
    case '':
      return em.node('Identity', [x], [y], n);
    case 'relu': {
      // Keras ReLU(max_value, negative_slope, threshold); the TF.js loader spells them camelCase.
      const max = p.maxValue ?? p.max_value;
      const slope = p.negativeSlope ?? p.negative_slope ?? 0;
      if ((p.threshold ?? 0) !== 0) {
        throw new Error(`node "${o.owner}": ReLU with a non-zero threshold has no ONNX export yet`);
      }
      if (slope === 0) return max === undefined || max === null ? unary('Relu') : clip(0, max);
      if (max === undefined || max === null) return unary('LeakyRelu', [attr.float('alpha', slope)]);
      const lr = tmp('leaky');
      em.node('LeakyRelu', [x], [lr], `${n}/leaky`, [attr.float('alpha', slope)]);
      return em.node('Clip', [lr, '', constF('max', max)], [y], n);
    }
    case 'relu6':
      return clip(0, 6);
    case 'sigmoid':
      return unary('Sigmoid');
    case 'tanh':
      return unary('Tanh');
    case 'softplus':
      return unary('Softplus');
    case 'softsign':
      return unary('Softsign');
    case 'exponential':
      return unary('Exp');
    case 'selu':
      return unary('Selu');
    case 'elu':
      return unary('Elu', [attr.float('alpha', p.alpha ?? 1)]);
    case 'leakyrelu':
      // TF.js / Keras 2 LeakyReLU default alpha is 0.3.
      return unary('LeakyRelu', [attr.float('alpha', p.alpha ?? p.negativeSlope ?? p.negative_slope ?? 0.3)]);
    case 'hardsigmoid':
      return unary('HardSigmoid', [attr.float('alpha', p.alpha ?? 0.2), attr.float('beta', p.beta ?? 0.5)]);
    case 'hardswish':
    case 'hardsilu': {
      if (em.opset >= 14) return unary('HardSwish');
      const g = tmp('hard_sigmoid');
      em.node('HardSigmoid', [x], [g], `${n}/hard_sigmoid`, [attr.float('alpha', 1 / 6), attr.float('beta', 0.5)]);
      return em.node('Mul', [x, g], [y], n);
    }
    case 'swish':
    case 'silu': {
      const s = tmp('sigmoid');
      em.node('Sigmoid', [x], [s], `${n}/sigmoid`);
      return em.node('Mul', [x, s], [y], n);
    }
    case 'mish': {
      if (em.opset >= 18) return unary('Mish');
      const sp = tmp('softplus');
      const th = tmp('tanh');
      em.node('Softplus', [x], [sp], `${n}/softplus`);
      em.node('Tanh', [sp], [th], `${n}/tanh`);
      return em.node('Mul', [x, th], [y], n);
    }
    case 'gelu':
    case 'gelunew': {
      const approx = activationKey(spec.activation) === 'gelunew' || (p.approximate ?? 0) !== 0;
      if (em.opset >= 20) return unary('Gelu', [attr.str('approximate', approx ? 'tanh' : 'none')]);
      return emitGeluComposed(em, o, approx);
    }
    case 'softmax':
      if (em.opset < 13 && o.channelAxis !== 1) {
        throw new Error(`node "${o.owner}": softmax over a rank > 2 tensor needs opset ≥ 13 (older Softmax flattens); write with { opset: 13 } or later`);
      }
      return unary('Softmax', [attr.int('axis', o.channelAxis)]);
    case 'logsoftmax':
      if (em.opset < 13 && o.channelAxis !== 1) {
        throw new Error(`node "${o.owner}": log-softmax over a rank > 2 tensor needs opset ≥ 13; write with { opset: 13 } or later`);
      }
      return unary('LogSoftmax', [attr.int('axis', o.channelAxis)]);
    default:
      throw new Error(`node "${o.owner}": activation "${spec.activation}" has no ONNX mapping; supported: relu, relu6, sigmoid, tanh, elu, selu, softplus, softsign, swish/silu, hard_sigmoid, hard_swish, leakyRelu, gelu, gelu_new, mish, softmax, exponential`);
  }
}

/** GELU before opset 20: 0.5·x·(1 + erf(x/√2)), or the tanh form 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))). */
function emitGeluComposed(em: Emitter, o: EmitActivationOptions, approx: boolean): void {
  const { input: x, output: y, nodeName: n } = o;
  const c = (s: string, v: number) => em.floatInit(`${n}/${s}`, [], new Float32Array([v]));
  const t = (s: string) => em.fresh(`${n}/${s}`);
  let inner: string;
  if (!approx) {
    const scaled = t('scaled');
    em.node('Mul', [x, c('inv_sqrt2', Math.SQRT1_2)], [scaled], `${n}/scale`);
    inner = t('erf');
    em.node('Erf', [scaled], [inner], `${n}/erf`);
  } else {
    const x3 = t('cube');
    em.node('Pow', [x, c('three', 3)], [x3], `${n}/cube`);
    const kx3 = t('kx3');
    em.node('Mul', [x3, c('k', 0.044715)], [kx3], `${n}/kx3`);
    const sum = t('sum');
    em.node('Add', [x, kx3], [sum], `${n}/sum`);
    const arg = t('arg');
    em.node('Mul', [sum, c('sqrt_2_pi', Math.sqrt(2 / Math.PI))], [arg], `${n}/arg`);
    inner = t('tanh');
    em.node('Tanh', [arg], [inner], `${n}/tanh`);
  }
  const onePlus = t('one_plus');
  em.node('Add', [inner, c('one', 1)], [onePlus], `${n}/one_plus`);
  const half = t('half_x');
  em.node('Mul', [x, c('half', 0.5)], [half], `${n}/half_x`);
  em.node('Mul', [half, onePlus], [y], n);
}
