// Every way a request can fail, as one numeric code each, and the one table that maps them to a status.

/**
 * Error codes are negative so that parser results can share one number: > 0 bytes consumed,
 * 0 need more, < 0 one of these.
 */
export const E = {
  METHOD: -1,
  TARGET: -2,
  VERSION: -3,
  URI_TOO_LONG: -4,
  HEADER_NAME: -5,
  HEADER_VALUE: -6,
  LINE_ENDING: -7,
  OBS_FOLD: -8,
  HEADERS_TOO_LARGE: -9,
  TOO_MANY_HEADERS: -10,
  VERSION_UNSUPPORTED: -11,
  HOST_MISSING: -12,
  HOST_DUPLICATE: -13,
  HOST_INVALID: -14,
  CONTENT_LENGTH_INVALID: -15,
  CONTENT_LENGTH_DUPLICATE: -16,
  TE_WITH_CONTENT_LENGTH: -17,
  TE_INVALID: -18,
  TE_UNSUPPORTED: -19,
  BODY_TOO_LARGE: -20,
  CHUNK_INVALID: -21,
  METHOD_NOT_IMPLEMENTED: -22,
  METHOD_NOT_ALLOWED: -23,
  TARGET_FORM: -24,
  PATH_INVALID: -25,
  HEADERS_TIMEOUT: -26,
  LEADING_EMPTY_LINES: -27,
  CHUNK_LINE_TOO_LONG: -28,
} as const;

export type ErrorCode = (typeof E)[keyof typeof E];

interface ErrorInfo {
  status: number;
  /**
   * Whether the connection must close after the answer. True wherever the error leaves the
   * message framing in doubt: the bytes that follow cannot be trusted to start a request.
   */
  close: boolean;
}

const TABLE = new Map<number, ErrorInfo>([
  [E.METHOD, { status: 400, close: true }],
  [E.TARGET, { status: 400, close: true }],
  [E.VERSION, { status: 400, close: true }],
  [E.URI_TOO_LONG, { status: 414, close: true }],
  [E.HEADER_NAME, { status: 400, close: true }],
  [E.HEADER_VALUE, { status: 400, close: true }],
  [E.LINE_ENDING, { status: 400, close: true }],
  [E.OBS_FOLD, { status: 400, close: true }],
  [E.HEADERS_TOO_LARGE, { status: 431, close: true }],
  [E.TOO_MANY_HEADERS, { status: 431, close: true }],
  [E.VERSION_UNSUPPORTED, { status: 505, close: true }],
  [E.HOST_MISSING, { status: 400, close: true }],
  [E.HOST_DUPLICATE, { status: 400, close: true }],
  [E.HOST_INVALID, { status: 400, close: true }],
  [E.CONTENT_LENGTH_INVALID, { status: 400, close: true }],
  [E.CONTENT_LENGTH_DUPLICATE, { status: 400, close: true }],
  [E.TE_WITH_CONTENT_LENGTH, { status: 400, close: true }],
  [E.TE_INVALID, { status: 400, close: true }],
  // RFC 9112 §6.1: a transfer coding the server does not understand is 501; the body
  // length is then unknown, so the connection closes.
  [E.TE_UNSUPPORTED, { status: 501, close: true }],
  [E.BODY_TOO_LARGE, { status: 413, close: true }],
  [E.CHUNK_INVALID, { status: 400, close: true }],
  // The request was well formed and its body (if any) fully read: the connection stays usable.
  [E.METHOD_NOT_IMPLEMENTED, { status: 501, close: false }],
  [E.METHOD_NOT_ALLOWED, { status: 405, close: false }],
  [E.TARGET_FORM, { status: 400, close: false }],
  [E.PATH_INVALID, { status: 400, close: false }],
  [E.HEADERS_TIMEOUT, { status: 408, close: true }],
  [E.LEADING_EMPTY_LINES, { status: 400, close: true }],
  [E.CHUNK_LINE_TOO_LONG, { status: 400, close: true }],
]);

/** The status and close rule of an error code. Unknown codes are a 400 that closes. */
export function errorInfo(code: number): ErrorInfo {
  return TABLE.get(code) ?? { status: 400, close: true };
}
