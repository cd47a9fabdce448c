/** Option parsers and output helpers shared by every command. */
import { InvalidArgumentError } from 'commander';
import { jsonSafe } from '../src/pipeline.js';

export function int(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`"${v}" is not an integer`);
  return n;
}
export function num(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`"${v}" is not a number`);
  return n;
}
export const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

export function print(json: boolean, data: unknown, text: string): void {
  process.stdout.write(json ? JSON.stringify(data, jsonSafe, 2) + '\n' : text + '\n');
}
