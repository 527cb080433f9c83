/**
 * An `IMlopsLabAPI` answering with the real server's recorded answers
 * (`recorded.ts`), scriptable per test, recording the queries it gets.
 */
import type {
  Comparison,
  ExperimentList,
  Health,
  RunDetail,
  RunNotebook,
  RunsPage
} from '../api/types';
import type { IExperimentsQuery, IMlopsLabAPI, IRunsQuery } from '../tokens';
import {
  compareAnswer,
  experimentsAnswer,
  healthAnswer,
  recordedError,
  runDetailAnswer,
  runsPageAnswer
} from './recorded';

export { makePage, makeRun } from './recorded';

export class FakeApi implements IMlopsLabAPI {
  /** Every runs query, in order. */
  readonly queries: IRunsQuery[] = [];
  /** Every experiments query, in order. */
  readonly experimentQueries: (IExperimentsQuery | undefined)[] = [];
  /** Every compare call's run ids, in order. */
  readonly compared: string[][] = [];

  onHealth: () => Promise<Health> = async () => healthAnswer();
  onExperiments: (query?: IExperimentsQuery) => Promise<ExperimentList> =
    async () => experimentsAnswer();
  onRuns: (query: IRunsQuery) => Promise<RunsPage> = async () =>
    runsPageAnswer();
  onRun: (runId: string) => Promise<RunDetail> = async () => runDetailAnswer();
  onRunNotebook: (runId: string) => Promise<RunNotebook> = async () => {
    throw recordedError('run_not_found');
  };
  onCompare: (runIds: string[]) => Promise<Comparison> = async () =>
    compareAnswer();

  health(): Promise<Health> {
    return this.onHealth();
  }

  experiments(query?: IExperimentsQuery): Promise<ExperimentList> {
    this.experimentQueries.push(query);
    return this.onExperiments(query);
  }

  runs(query: IRunsQuery): Promise<RunsPage> {
    this.queries.push(query);
    return this.onRuns(query);
  }

  run(runId: string): Promise<RunDetail> {
    return this.onRun(runId);
  }

  runNotebook(runId: string): Promise<RunNotebook> {
    return this.onRunNotebook(runId);
  }

  compare(runIds: string[]): Promise<Comparison> {
    this.compared.push(runIds);
    return this.onCompare(runIds);
  }
}
