/**
 * Measured candidate latencies kept across runs, so a second `--by latency` search on the same
 * machine times nothing it has timed before. One JSON file, keyed by everything a timing depends
 * on: runtime and its threads, layout, the layer's input shape and conv geometry, and the
 * realisation (method, ranks, ND order and depthwise form). Values are the measured ratio to the
 * regular conv with its interval — ratios, not milliseconds, travel best between a quiet and a
 * busy moment — plus the conv's milliseconds at the time.
 *
 * Default location: $NETDECOUPLE_CACHE_DIR, else $XDG_CACHE_HOME/netdecouple, else
 * ~/.cache/netdecouple. Written atomically (a temp file in the same folder, then rename) after
 * merging with what another process may have written meanwhile; an unreadable file counts as empty.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomically } from '../models/atomic-file.js';

export interface CachedLatency {
  /** regular ms / candidate ms (the candidate's speedup over the conv). */
  ratio: number;
  low: number;
  high: number;
  regularMs: number;
  runs: number;
  stoppedBy: string;
  measuredAt: string;
}

export interface LatencyKey {
  backend: string;
  threads: number | null;
  layout: string;
  /** Per-example input shape of the layer. */
  inputShape: readonly number[];
  /** The conv: kernel OIHW, strides, pads, dilations. */
  conv: string;
  /** The realisation: method, ranks, order, form. */
  realisation: string;
}

export interface LatencyCache {
  /** The file, or null for an in-memory cache (--no-latency-cache). */
  file: string | null;
  get(key: LatencyKey): CachedLatency | undefined;
  set(key: LatencyKey, value: CachedLatency): void;
  /** Entries found / timed in this run. */
  hits: number;
  misses: number;
  save(): void;
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NETDECOUPLE_CACHE_DIR) return env.NETDECOUPLE_CACHE_DIR;
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'netdecouple');
}

export function defaultCacheFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(defaultCacheDir(env), 'latency-cache.json');
}

export function keyString(k: LatencyKey): string {
  return [k.backend, `threads=${k.threads ?? '-'}`, k.layout, `in=${k.inputShape.join('x')}`, k.conv, k.realisation].join('|');
}

const VERSION = 1;

function readEntries(file: string): Record<string, CachedLatency> {
  try {
    const j = JSON.parse(fs.readFileSync(file, 'utf8'));
    return j && j.version === VERSION && typeof j.entries === 'object' && j.entries ? j.entries : {};
  } catch {
    return {};
  }
}

export function openLatencyCache(file: string | null): LatencyCache {
  const entries: Record<string, CachedLatency> = file ? readEntries(file) : {};
  const fresh: Record<string, CachedLatency> = {};
  const cache: LatencyCache = {
    file,
    hits: 0,
    misses: 0,
    get(key) {
      const v = entries[keyString(key)];
      if (v) cache.hits++;
      return v;
    },
    set(key, value) {
      cache.misses++;
      entries[keyString(key)] = value;
      fresh[keyString(key)] = value;
    },
    save() {
      if (!file || Object.keys(fresh).length === 0) return;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const merged = { ...readEntries(file), ...fresh };
      writeFileAtomically(file, JSON.stringify({ version: VERSION, entries: merged }), (why) => `latency cache ${file}: cannot write it (${why}); give --latency-cache <file> elsewhere or --no-latency-cache`);
    },
  };
  return cache;
}
