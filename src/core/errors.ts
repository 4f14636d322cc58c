/**
 * The one error type every parser in core/ throws. `what` names the kind of input
 * ("hash", "store path", "NAR", "narinfo", "CID", ...); `position` is a character or
 * byte offset into the input when one is meaningful.
 */
export class ParseError extends Error {
  override readonly name = 'ParseError';
  constructor(
    readonly what: string,
    readonly reason: string,
    readonly position?: number,
  ) {
    super(`invalid ${what}: ${reason}${position === undefined ? '' : ` (at ${position})`}`);
  }
}
