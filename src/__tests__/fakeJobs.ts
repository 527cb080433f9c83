/**
 * An `IJobsAPI` for the jest tests: scriptable per test, recording its calls,
 * answering with recorded answers where the server's were recorded.
 */
import type {
  Execution,
  ExecutionLog,
  ExecutionPage,
  JobRequest,
  NotebookParameters,
  OutputNotebook,
  Submission,
  Sweep
} from '../api/types';
import type { IExecutionsQuery, IJobsAPI } from '../jobs/client';
import {
  emptyExecutionsAnswer,
  executionAnswer,
  jobParametersAnswer
} from './recorded';

/**
 * An execution as the server shapes one (the recorded SUCCEEDED execution of
 * `train.ipynb`), with the given fields changed.
 */
export function makeExecution(change: Partial<Execution> = {}): Execution {
  return { ...executionAnswer(), ...change };
}

export class FakeJobsApi implements IJobsAPI {
  readonly calls: string[] = [];
  readonly submitted: JobRequest[] = [];

  onParameters: (notebook: string) => Promise<NotebookParameters> = async () =>
    jobParametersAnswer();
  onSubmit: (request: JobRequest) => Promise<Submission> = async () => ({
    executions: [makeExecution()],
    sweep: null,
    reused: false
  });
  onExecutions: (query?: IExecutionsQuery) => Promise<ExecutionPage> =
    async () => emptyExecutionsAnswer();
  onLog: (id: string, offset: number) => Promise<ExecutionLog> = async (
    id,
    offset
  ) => ({
    execution_id: id,
    text: '',
    offset,
    next_offset: offset,
    complete: true
  });
  onCancel: (id: string) => Promise<Execution> = async id =>
    makeExecution({ id, state: 'CANCELLED' });
  onRerun: (id: string) => Promise<Submission> = async () => ({
    executions: [makeExecution({ id: 'exec0002abcd' })],
    sweep: null,
    reused: false
  });

  parameters(notebook: string): Promise<NotebookParameters> {
    this.calls.push(`parameters ${notebook}`);
    return this.onParameters(notebook);
  }

  submit(request: JobRequest): Promise<Submission> {
    this.calls.push('submit');
    this.submitted.push(request);
    return this.onSubmit(request);
  }

  executions(query?: IExecutionsQuery): Promise<ExecutionPage> {
    this.calls.push(
      query?.scheduleId
        ? `executions schedule=${query.scheduleId}`
        : 'executions'
    );
    return this.onExecutions(query);
  }

  execution(id: string): Promise<Execution> {
    this.calls.push(`execution ${id}`);
    return Promise.resolve(makeExecution({ id }));
  }

  log(id: string, offset = 0): Promise<ExecutionLog> {
    this.calls.push(`log ${id} ${offset}`);
    return this.onLog(id, offset);
  }

  outputNotebook(id: string): Promise<OutputNotebook> {
    this.calls.push(`notebook ${id}`);
    return Promise.reject(new Error('not in these tests'));
  }

  cancel(id: string): Promise<Execution> {
    this.calls.push(`cancel ${id}`);
    return this.onCancel(id);
  }

  rerun(id: string, idempotencyKey?: string): Promise<Submission> {
    this.calls.push(`rerun ${id}`);
    return this.onRerun(id);
  }

  sweep(id: string): Promise<Sweep> {
    return Promise.reject(new Error('not in these tests'));
  }
}
