/**
 * The services this extension provides to others (and to itself).
 */
import { Token } from '@lumino/coreutils';

import type { Health } from './api/types';

/**
 * The mlops-lab REST API, typed.
 *
 * Every method rejects with an `MlopsLabResponseError` (see `request.ts`) when the
 * server answers with an error status, its `message` being the server's own text
 * and its `code` one of `NOT_FOUND`, `INVALID`, `CONFLICT`, `POLICY`,
 * `UNAVAILABLE`, `FORBIDDEN`; and with a `ServerConnection.NetworkError` when the
 * server cannot be reached at all.
 */
export interface IMlopsLabAPI {
  /**
   * The version, the effective tracking URI and whether each store answers.
   *
   * A store that is down is not an error: it is reported with `ok: false` and
   * its message. A configuration problem is reported in `config_error`.
   *
   * @throws {MlopsLabResponseError} 404 when the server extension is not
   *   installed; 503 with a message when the configuration cannot be read
   * @throws {ServerConnection.NetworkError} when the server cannot be reached
   */
  health(): Promise<Health>;
}

/** The token of the mlops-lab REST API client. */
export const IMlopsLabAPI = new Token<IMlopsLabAPI>(
  'mlops-lab:IMlopsLabAPI',
  'A typed client for the mlops-lab REST API.'
);
