/**
 * `--backend auto` tries tfjs-node, then tfjs-backend-wasm, then the pure-JS cpu backend (README,
 * "Runtimes"), and every explicit choice that cannot run fails with one line naming the fix.
 * tfjs-node is an optional dependency that may or may not be installed; its presence or absence,
 * and a wasm backend that fails to load, are simulated by mocking the two packages' imports.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

/** backend.ts freshly imported, so the mocks registered before it apply to its dynamic imports. */
async function freshUseBackend() {
  vi.resetModules();
  return (await import('../../src/eval/backend.js')).useBackend;
}

async function nodeInstalled(): Promise<boolean> {
  const mod = '@tensorflow/tfjs-node';
  return import(mod).then(
    () => true,
    () => false,
  );
}

afterEach(async () => {
  vi.doUnmock('@tensorflow/tfjs-node');
  vi.doUnmock('@tensorflow/tfjs-backend-wasm');
  if (tf.findBackendFactory('tensorflow') && !(await nodeInstalled())) tf.removeBackend('tensorflow');
  await tf.setBackend('cpu');
});

describe('--backend auto: node → wasm → cpu', () => {
  // Guards against a fallback order that skips an available faster backend.
  it('uses tfjs-node when it is installed, else wasm (this machine as it is)', async () => {
    const useBackend = await freshUseBackend();
    expect(await useBackend('auto')).toBe((await nodeInstalled()) ? 'tensorflow' : 'wasm');
  });

  it('prefers tfjs-node over wasm when tfjs-node loads', async () => {
    // A stand-in for tfjs-node: importing it registers the 'tensorflow' backend, as the real one does.
    vi.doMock('@tensorflow/tfjs-node', () => {
      if (!tf.findBackendFactory('tensorflow')) tf.registerBackend('tensorflow', () => new MathBackendCPU());
      return {};
    });
    const useBackend = await freshUseBackend();
    expect(await useBackend('auto')).toBe('tensorflow');
  });

  it('falls back to cpu when neither tfjs-node nor wasm loads', async () => {
    vi.doMock('@tensorflow/tfjs-node', () => {
      throw new Error('Cannot find package @tensorflow/tfjs-node');
    });
    vi.doMock('@tensorflow/tfjs-backend-wasm', () => {
      throw new Error('wasm failed to initialise');
    });
    const useBackend = await freshUseBackend();
    expect(await useBackend('auto')).toBe('cpu');
    // An explicit choice does not fall back: one line naming the way out.
    await expect(useBackend('wasm')).rejects.toThrow(/^--backend wasm: @tensorflow\/tfjs-backend-wasm failed to initialise$/);
    await expect(useBackend('node')).rejects.toThrow(/^--backend node: @tensorflow\/tfjs-node is not installed here .*; use --backend wasm$/);
    expect(await useBackend('cpu')).toBe('cpu');
  });

  it('refuses an unknown backend with the list of choices', async () => {
    const useBackend = await freshUseBackend();
    await expect(useBackend('gpu' as never)).rejects.toThrow('--backend "gpu": choose one of auto, node, wasm, cpu');
  });
});
