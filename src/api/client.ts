/**
 * The REST client behind the `IMlopsLabAPI` token.
 */
import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from '../request';
import type { IExperimentsQuery, IMlopsLabAPI, IRunsQuery } from '../tokens';
import type {
  Comparison,
  ExperimentList,
  ExperimentsQueryParameters,
  Health,
  RunDetail,
  RunNotebook,
  RunsPage,
  RunsQueryParameters
} from './types';

/**
 * The query string of `GET /runs` (with its leading `?`), leaving out what is unset.
 *
 * Exported for the tests.
 */
export function runsQueryString(query: IRunsQuery): string {
  // Typed with the generated parameters, so a renamed one fails to compile.
  const parameters: RunsQueryParameters = {
    experiment: query.experiment,
    filter: query.filter?.trim() || undefined,
    order_by: query.orderBy || undefined,
    max_results: query.maxResults,
    page_token: query.pageToken || undefined
  };
  return queryString(parameters);
}

/**
 * The query string of `GET /experiments` (with its leading `?` when not empty).
 *
 * Exported for the tests.
 */
export function experimentsQueryString(query: IExperimentsQuery = {}): string {
  const parameters: ExperimentsQueryParameters = {
    name: query.name?.trim() || undefined,
    max_results: query.maxResults,
    page_token: query.pageToken || undefined
  };
  const text = queryString(parameters);
  return text === '?' ? '' : text;
}

function queryString(parameters: object): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) {
    if (value !== undefined) {
      search.set(name, String(value));
    }
  }
  return `?${search.toString()}`;
}

/**
 * Calls `/mlops-lab/api/...` on the Jupyter server JupyterLab is connected to.
 */
export class MlopsLabClient implements IMlopsLabAPI {
  /**
   * @param settings - the server connection settings; JupyterLab's by default
   *   (tests pass settings carrying a fake `fetch`)
   */
  constructor(settings?: ServerConnection.ISettings) {
    this._settings = settings ?? ServerConnection.makeSettings();
  }

  /** The server connection settings in use. */
  get serverSettings(): ServerConnection.ISettings {
    return this._settings;
  }

  health(): Promise<Health> {
    return this._get<Health>('health');
  }

  experiments(query?: IExperimentsQuery): Promise<ExperimentList> {
    return this._get<ExperimentList>(
      `experiments${experimentsQueryString(query)}`
    );
  }

  runs(query: IRunsQuery): Promise<RunsPage> {
    return this._get<RunsPage>(`runs${runsQueryString(query)}`);
  }

  run(runId: string): Promise<RunDetail> {
    return this._get<RunDetail>(`runs/${encodeURIComponent(runId)}`);
  }

  runNotebook(runId: string): Promise<RunNotebook> {
    return this._get<RunNotebook>(`runs/${encodeURIComponent(runId)}/notebook`);
  }

  compare(runIds: string[]): Promise<Comparison> {
    const search = new URLSearchParams();
    for (const runId of runIds) {
      search.append('run_id', runId);
    }
    return this._get<Comparison>(`compare?${search.toString()}`);
  }

  private _get<T>(endPoint: string): Promise<T> {
    return requestAPI<T>(endPoint, { method: 'GET' }, this._settings);
  }

  private readonly _settings: ServerConnection.ISettings;
}
