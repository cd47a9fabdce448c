/** A mistake in the command line itself (not in the files it names): the CLI exits with status 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
}
