/**
 * The one error every model reader throws for a file it cannot read as a model (TF.js, ONNX, …),
 * so callers can tell a bad model file from a bug: `err instanceof ModelFormatError`.
 */
export class ModelFormatError extends Error {
  override name = 'ModelFormatError';
}

/** A reader's plain Error as a ModelFormatError with the same message (other error classes are bugs: kept). */
export function asModelFormatError(err: unknown, prefix = ''): unknown {
  if (err instanceof ModelFormatError) {
    if (prefix) err.message = `${prefix}${err.message}`;
    return err;
  }
  if (err instanceof Error && err.constructor === Error) return new ModelFormatError(`${prefix}${err.message}`);
  return err;
}
