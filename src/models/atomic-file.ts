/**
 * Writes one file so that it appears whole or not at all: a temp file beside it, then rename().
 * An interrupted run leaves the previous file (or none), never a half-written one.
 */
import fs from 'node:fs';

/** `failure` turns the reason into the one-line error the caller wants to show (it names the file and the fix). */
export function writeFileAtomically(file: string, content: string | Uint8Array, failure: (reason: string) => string): void {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    fs.writeFileSync(tmp, content);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw new Error(failure(err instanceof Error ? err.message : String(err)));
  }
}
