/**
 * The jobs' REST calls: submit a notebook, follow its executions, cancel, re-run.
 *
 * Beside `IMlopsLabAPI` rather than in it, so the runs' client (and every fake of
 * it in the tests) does not grow with each feature.
 */
import { JSONClient } from '../request';
import type {
  Execution,
  ExecutionLog,
  ExecutionPage,
  ExecutionsQueryParameters,
  JobRequest,
  NotebookParameters,
  OutputNotebook,
  Submission,
  Sweep
} from '../api/types';

/** What `IJobsAPI.executions` asks for; every field is optional. */
export interface IExecutionsQuery {
  jobId?: string;
  sweepId?: string;
  /** Only the executions a schedule fired. */
  scheduleId?: string;
  state?: string;
  maxResults?: number;
  pageToken?: string;
}

/**
 * The jobs' part of the mlops-lab REST API.
 *
 * Every method rejects with an `MlopsLabResponseError` carrying the server's
 * message, code and `param` (the field that was wrong), or with a
 * `ServerConnection.NetworkError` when the server cannot be reached.
 */
export interface IJobsAPI {
  /**
   * The parameters of a notebook's cell tagged `parameters`, its kernel and the
   * installed kernels.
   *
   * @throws {MlopsLabResponseError} 400 `INVALID` for a path outside the root or
   *   a file that is not a notebook; 404 `NOT_FOUND` for a missing notebook
   */
  parameters(notebook: string): Promise<NotebookParameters>;

  /**
   * Queue a notebook as a job (once, or a sweep). A second submit with the same
   * `idempotency_key` returns the first one's executions (`reused`).
   *
   * @throws {MlopsLabResponseError} 400 `INVALID` whose `param` names the field
   *   (a parameter's name, `timeout`, `kernel_name`, `sweep`...); nothing queued
   */
  submit(request: JobRequest): Promise<Submission>;

  /** One page of executions, the newest first. */
  executions(query?: IExecutionsQuery): Promise<ExecutionPage>;

  /** @throws {MlopsLabResponseError} 404 `NOT_FOUND` for an unknown id */
  execution(id: string): Promise<Execution>;

  /** The output log from byte `offset` on; read again from `next_offset`. */
  log(id: string, offset?: number): Promise<ExecutionLog>;

  /** The masked output notebook (partial while it runs). */
  outputNotebook(id: string): Promise<OutputNotebook>;

  /** Cancel a queued or running execution. */
  cancel(id: string): Promise<Execution>;

  /** A new execution of the same job with the same parameters. */
  rerun(id: string, idempotencyKey?: string): Promise<Submission>;

  /** @throws {MlopsLabResponseError} 404 `NOT_FOUND` for an unknown id */
  sweep(id: string): Promise<Sweep>;
}

/**
 * The query string of `GET /executions` (with its leading `?` when not empty).
 *
 * Exported for the tests.
 */
export function executionsQueryString(query: IExecutionsQuery = {}): string {
  // Typed with the generated parameters, so a renamed one fails to compile.
  const parameters: ExecutionsQueryParameters = {
    job_id: query.jobId || undefined,
    sweep_id: query.sweepId || undefined,
    schedule_id: query.scheduleId || undefined,
    state: query.state || undefined,
    max_results: query.maxResults,
    page_token: query.pageToken || undefined
  };
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) {
    if (value !== undefined) {
      search.set(name, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** Calls `/mlops-lab/api/jobs` and `/executions` on JupyterLab's server. */
export class JobsClient extends JSONClient implements IJobsAPI {
  parameters(notebook: string): Promise<NotebookParameters> {
    const search = new URLSearchParams({ notebook });
    return this.call(`jobs/parameters?${search.toString()}`);
  }

  submit(request: JobRequest): Promise<Submission> {
    return this.call('jobs', 'POST', request);
  }

  executions(query?: IExecutionsQuery): Promise<ExecutionPage> {
    return this.call(`executions${executionsQueryString(query)}`);
  }

  execution(id: string): Promise<Execution> {
    return this.call(`executions/${encodeURIComponent(id)}`);
  }

  log(id: string, offset = 0): Promise<ExecutionLog> {
    return this.call(
      `executions/${encodeURIComponent(id)}/log?offset=${offset}`
    );
  }

  outputNotebook(id: string): Promise<OutputNotebook> {
    return this.call(`executions/${encodeURIComponent(id)}/notebook`);
  }

  cancel(id: string): Promise<Execution> {
    return this.call(`executions/${encodeURIComponent(id)}/cancel`, 'POST', {});
  }

  rerun(id: string, idempotencyKey?: string): Promise<Submission> {
    return this.call(`executions/${encodeURIComponent(id)}/rerun`, 'POST', {
      idempotency_key: idempotencyKey ?? null
    });
  }

  sweep(id: string): Promise<Sweep> {
    return this.call(`sweeps/${encodeURIComponent(id)}`);
  }
}
