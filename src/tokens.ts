/**
 * The services this extension provides to others (and to itself).
 */
import { Token } from '@lumino/coreutils';

import type {
  ExperimentList,
  Health,
  RunDetail,
  RunNotebook,
  RunsPage
} from './api/types';

/** What `IMlopsLabAPI.runs` asks the server for; every field but `experiment` is optional. */
export interface IRunsQuery {
  /** The experiment's id or name. */
  experiment: string;
  /** A filter in MLflow's search syntax, e.g. `metrics.accuracy > 0.9`. */
  filter?: string;
  /** One MLflow order-by clause, e.g. `metrics.accuracy DESC`. */
  orderBy?: string;
  /** The page size. */
  maxResults?: number;
  /** The opaque token of the page to fetch; none for the first page. */
  pageToken?: string;
}

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

  /**
   * The experiments of the tracking store, the most recently updated first.
   *
   * @throws {MlopsLabResponseError} 503 `UNAVAILABLE` when the tracking store
   *   does not answer
   * @throws {ServerConnection.NetworkError} when the server cannot be reached
   */
  experiments(): Promise<ExperimentList>;

  /**
   * One page of an experiment's runs, with the param and metric keys of its runs.
   *
   * @throws {MlopsLabResponseError} 400 `INVALID` with MLflow's own message when
   *   the filter or order-by cannot be parsed; 404 `NOT_FOUND` when the
   *   experiment does not exist
   * @throws {ServerConnection.NetworkError} when the server cannot be reached
   */
  runs(query: IRunsQuery): Promise<RunsPage>;

  /**
   * One run with its tags, datasets, notebook and git facts and artifacts.
   *
   * @throws {MlopsLabResponseError} 404 `NOT_FOUND` when the run does not exist
   * @throws {ServerConnection.NetworkError} when the server cannot be reached
   */
  run(runId: string): Promise<RunDetail>;

  /**
   * The notebook snapshot logged with a run, as nbformat JSON.
   *
   * @throws {MlopsLabResponseError} 404 `NOT_FOUND` when the run has no snapshot
   * @throws {ServerConnection.NetworkError} when the server cannot be reached
   */
  runNotebook(runId: string): Promise<RunNotebook>;
}

/** The token of the mlops-lab REST API client. */
export const IMlopsLabAPI = new Token<IMlopsLabAPI>(
  'mlops-lab:IMlopsLabAPI',
  'A typed client for the mlops-lab REST API.'
);
