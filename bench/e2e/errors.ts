/** Errors of the end-to-end benchmark (`gpu-bench e2e`). */

/** Stable codes of {@link E2eError}. */
export type E2eErrorCode =
  | 'E2E_NOT_BUILT'
  | 'E2E_BAD_DATA'
  | 'E2E_BAD_OPTION'
  | 'E2E_TOOL_FAILED'
  | 'E2E_BAD_WCS'
  | 'E2E_PEERS_MISSING';

/**
 * A failure of the end-to-end benchmark: a missing build, an unusable data cache, a
 * child process (gpu-coadd, SWarp, Source Extractor) that failed. The message says what
 * to do next.
 */
export class E2eError extends Error {
  readonly code: E2eErrorCode;
  constructor(code: E2eErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'E2eError';
    this.code = code;
  }
}
