/**
 * The services this extension provides to others (and to itself).
 */
import { Token } from '@lumino/coreutils';

import type {
  Comparison,
  ExperimentList,
  Health,
  RunDetail,
  RunNotebook,
  RunsPage
} from './api/types';

/** What `IMlopsLabAPI.experiments` asks the server for; every field is optional. */
export interface IExperimentsQuery {
  /** Only experiments whose name contains this, in any case. */
  name?: string;
  /** The page size. */
  maxResults?: number;
  /** The `next_page_token` of the page before; none for the first page. */
  pageToken?: string;
}

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
 * server answers with an error status, its `message` being the server's own text,
 * its `code` one of `INVALID`, `FORBIDDEN`, `NOT_FOUND`, `CONFLICT`, `TOO_LARGE`,
 * `POLICY`, `INTERNAL`, `UNAVAILABLE` (a store is down) or `MISCONFIGURED` (the
 * `[tool.mlops-lab]` configuration cannot be read; every route but `/health`
 * answers it) and its `param` the request parameter that was wrong; and with a
 * `ServerConnection.NetworkError` when the Jupyter server cannot be reached.
 */
export interface IMlopsLabAPI {
  /**
   * The version, the effective tracking URI and whether each store answers.
   *
   * A store that is down is not an error: it is reported with `ok: false` and
   * its message. A configuration problem is reported in `config_error`.
   *
   * @throws {MlopsLabResponseError} 404 without a code when the server extension
   *   is not installed
   * @throws {ServerConnection.NetworkError} when the server cannot be reached
   */
  health(): Promise<Health>;

  /**
   * One page of the active experiments, the most recently updated first.
   *
   * @throws {MlopsLabResponseError} 400 `INVALID` (`param` `page_token` or
   *   `max_results`); 503 `UNAVAILABLE` when the tracking store does not answer,
   *   `MISCONFIGURED` when the configuration cannot be read
   * @throws {ServerConnection.NetworkError} when the server cannot be reached
   */
  experiments(query?: IExperimentsQuery): Promise<ExperimentList>;

  /**
   * One page of an experiment's runs, with the param and metric keys of its runs.
   *
   * @throws {MlopsLabResponseError} 400 `INVALID` whose `param` is `filter` or
   *   `order_by` (MLflow's own message) when they cannot be parsed, `page_token`
   *   when the token is stale or forged; 404 `NOT_FOUND` when the experiment
   *   does not exist
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

  /**
   * 2..50 runs side by side, labelled as every face labels them, with the
   * histories of the metrics logged at more than one step.
   *
   * @throws {MlopsLabResponseError} 400 `INVALID` (`param` `run_id`) for fewer
   *   than 2 or more than 50 runs; 404 `NOT_FOUND` when a run does not exist
   * @throws {ServerConnection.NetworkError} when the server cannot be reached
   */
  compare(runIds: string[]): Promise<Comparison>;
}

/** The token of the mlops-lab REST API client. */
export const IMlopsLabAPI = new Token<IMlopsLabAPI>(
  'mlops-lab:IMlopsLabAPI',
  'A typed client for the mlops-lab REST API.'
);
