/**
 * Typed calls to the mlops-lab REST API under `/mlops-lab/api/`.
 *
 * Requests go through `ServerConnection.makeRequest`, so the XSRF token and the
 * authorization header JupyterLab holds are sent with every call.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { ErrorCode } from './api/types';

/** The URL path of our REST API below the server's base URL. */
export const API_NAMESPACE = 'mlops-lab/api';

export type { ErrorCode } from './api/types';

/**
 * Every error code the server may send; a `Record` so that a code added on the
 * server (and so in the generated schema) fails to compile until listed here.
 */
const ERROR_CODES: Record<ErrorCode, true> = {
  INVALID: true,
  NOT_FOUND: true,
  CONFLICT: true,
  POLICY: true,
  FORBIDDEN: true,
  TOO_LARGE: true,
  UNAVAILABLE: true,
  MISCONFIGURED: true,
  INTERNAL: true
};

function isErrorCode(value: unknown): value is ErrorCode {
  return (
    typeof value === 'string' &&
    Object.prototype.hasOwnProperty.call(ERROR_CODES, value)
  );
}

/**
 * A non-2xx answer from the server.
 *
 * `message` is the server's own JSON `message` (written for a user to act on);
 * `code` is our error code, or `null` when the answer did not come from our
 * handlers (for example a 404 because the server extension is not installed);
 * `param` names the request parameter that was wrong (`filter`, `page_token`...),
 * so a caller can tell a refused filter from a stale page token.
 */
export class MlopsLabResponseError extends ServerConnection.ResponseError {
  constructor(
    response: Response,
    message: string,
    readonly code: ErrorCode | null,
    traceback = '',
    readonly param: string | null = null
  ) {
    super(response, message, traceback);
    this.name = 'MlopsLabResponseError';
  }

  /** The HTTP status of the answer. */
  get status(): number {
    return this.response.status;
  }
}

/**
 * Call an endpoint of the mlops-lab API and parse its JSON answer.
 *
 * @param endPoint - the path below `/mlops-lab/api/`, e.g. `health`
 * @param init - the fetch options (method, body, ...)
 * @param settings - the server connection settings; JupyterLab's by default
 * @returns the parsed JSON body, or `null` for an empty body
 * @throws {MlopsLabResponseError} when the server answers with an error status
 * @throws {ServerConnection.NetworkError} when the server cannot be reached
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    if (error instanceof ServerConnection.NetworkError) {
      throw error;
    }
    throw new ServerConnection.NetworkError(
      error instanceof TypeError ? error : new TypeError(String(error))
    );
  }

  const text = await response.text();
  const body = parseJSON(text);

  if (!response.ok) {
    throw errorFromResponse(response, body, text);
  }
  if (text.length > 0 && body === undefined) {
    throw new MlopsLabResponseError(
      response,
      `The server answered ${url} with a body that is not JSON.`,
      null
    );
  }
  return (body ?? null) as T;
}

/**
 * What the jobs' and schedules' clients share: the server settings, and a call
 * that sends a method and, when given, a JSON body. They write (POST, DELETE)
 * where the runs' client only reads.
 */
export abstract class JSONClient {
  constructor(settings?: ServerConnection.ISettings) {
    this._settings = settings ?? ServerConnection.makeSettings();
  }

  /**
   * @throws {MlopsLabResponseError} when the server answers with an error status
   * @throws {ServerConnection.NetworkError} when the server cannot be reached
   */
  protected call<T>(
    endPoint: string,
    method = 'GET',
    body?: unknown
  ): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    return requestAPI<T>(endPoint, init, this._settings);
  }

  private readonly _settings: ServerConnection.ISettings;
}

/**
 * The words to show for whatever a call rejected with: our errors carry the
 * server's own message, written for the user; anything else is stringified.
 */
export function messageOf(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

/**
 * Build the error for a non-2xx answer, keeping the server's message verbatim.
 *
 * Exported for the tests and for callers that fetch by other means.
 */
export function errorFromResponse(
  response: Response,
  body: unknown,
  text = ''
): MlopsLabResponseError {
  let message = '';
  let code: ErrorCode | null = null;
  let param: string | null = null;
  let traceback = '';
  if (isRecord(body)) {
    if (typeof body.message === 'string') {
      message = body.message;
    } else if (typeof body.reason === 'string') {
      message = body.reason;
    }
    if (isErrorCode(body.code)) {
      code = body.code;
    }
    if (typeof body.traceback === 'string') {
      traceback = body.traceback;
    }
    if (typeof body.param === 'string') {
      param = body.param;
    }
  }
  if (!message) {
    const status = `${response.status} ${response.statusText}`.trim();
    message = `The server answered ${status} for ${response.url || 'the request'}.`;
    if (body === undefined && text.length > 0 && text.length < 200) {
      message += ` ${text}`;
    }
  }
  return new MlopsLabResponseError(response, message, code, traceback, param);
}

function parseJSON(text: string): unknown {
  if (text.length === 0) {
    return null;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
