/** Any thrown value → one `netdecouple:` line naming the file, and the exit status (2 usage, 1 otherwise). */
const FS_WORDS: Record<string, string> = {
  ENOENT: 'not found',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a folder, expected a file',
  ENOTDIR: 'a part of the path is not a folder',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
  EEXIST: 'already exists',
  ENOTEMPTY: 'folder not empty',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many levels of symbolic links',
};

export function errorLine(e: unknown): { line: string; exitCode: number } {
  const exitCode = (e as { exitCode?: unknown })?.exitCode === 2 ? 2 : 1;
  const errno = e as NodeJS.ErrnoException;
  let message: string;
  if (e instanceof Error && typeof errno.code === 'string' && typeof errno.syscall === 'string') {
    // Node's own fs errors: "EISDIR: illegal operation on a directory, read" may not name the file.
    const words = FS_WORDS[errno.code] ?? errno.code;
    message = errno.path ? `${errno.path}: ${words}` : `${words} (${errno.syscall}); ${e.message}`;
  } else {
    message = e instanceof Error ? e.message : String(e);
  }
  return { line: `netdecouple: ${message.replace(/\s*\n\s*/g, ' ').trim()}`, exitCode };
}
