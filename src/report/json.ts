/** JSON has no Infinity or NaN: identical outputs report psnrDb as the string "Infinity". */
export function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}
