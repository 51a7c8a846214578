/** Acknowledged (committed) data is damaged or missing: never repaired silently. */
export class CorruptLogError extends Error {
  readonly code = 'corrupt_log';
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(message);
  }
}
