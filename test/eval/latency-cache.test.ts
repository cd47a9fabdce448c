/**
 * The candidate-latency cache (src/eval/latency-cache.ts): what is stored comes back, keys tell
 * every timing condition apart, writes are atomic and merge with other writers, an unreadable file
 * counts as empty, and the default location follows the user's cache folder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultCacheDir, keyString, openLatencyCache, type CachedLatency, type LatencyKey } from '../../src/eval/latency-cache.js';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nd-latcache-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const key: LatencyKey = { backend: 'ort', threads: 2, layout: 'NHWC', inputShape: [56, 56, 64], conv: 'conv 64x64x3x3 s1,1', realisation: 'nd r2 dw-pw split' };
const value: CachedLatency = { ratio: 2.1, low: 2.0, high: 2.2, regularMs: 3.5, runs: 40, stoppedBy: 'interval', measuredAt: '2026-01-01T00:00:00.000Z' };

describe('latency cache', () => {
  it('round-trips an entry through its file', () => {
    const file = path.join(tmp, 'a', 'cache.json');
    const c = openLatencyCache(file);
    expect(c.get(key)).toBeUndefined();
    c.set(key, value);
    c.save();
    const again = openLatencyCache(file);
    expect(again.get(key)).toEqual(value);
    expect(again.hits).toBe(1);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['cache.json']); // no temp file left behind
  });

  it('keeps entries apart that differ in threads, shape or realisation', () => {
    const variants = [{ ...key, threads: 1 }, { ...key, inputShape: [28, 28, 64] }, { ...key, realisation: 'nd r2 dw-pw merged' }];
    expect(new Set([key, ...variants].map(keyString)).size).toBe(4);
  });

  it('merges with what another writer saved meanwhile', () => {
    const file = path.join(tmp, 'merge.json');
    const a = openLatencyCache(file);
    const b = openLatencyCache(file);
    a.set(key, value);
    b.set({ ...key, threads: 1 }, { ...value, ratio: 1.5 });
    a.save();
    b.save();
    const c = openLatencyCache(file);
    expect(c.get(key)?.ratio).toBe(2.1);
    expect(c.get({ ...key, threads: 1 })?.ratio).toBe(1.5);
  });

  it('treats an unreadable file as empty', () => {
    const file = path.join(tmp, 'bad.json');
    fs.writeFileSync(file, '{not json');
    expect(openLatencyCache(file).get(key)).toBeUndefined();
  });

  it('lives under XDG_CACHE_HOME, else ~/.cache, unless NETDECOUPLE_CACHE_DIR says otherwise', () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x' })).toBe(path.join('/x', 'netdecouple'));
    expect(defaultCacheDir({})).toBe(path.join(os.homedir(), '.cache', 'netdecouple'));
    expect(defaultCacheDir({ NETDECOUPLE_CACHE_DIR: '/y', XDG_CACHE_HOME: '/x' })).toBe('/y');
  });
});
