/**
 * A scripted `IMlopsLabAPI` for the tests, recording the runs queries it gets.
 */
import type {
  ExperimentList,
  Health,
  RunDetail,
  RunNotebook,
  RunsPage,
  RunSummary
} from '../api/types';
import type { IMlopsLabAPI, IRunsQuery } from '../tokens';

export const HEALTH: Health = {
  version: '0.1.0',
  tracking_uri: 'sqlite:////tmp/root/.mlops/mlflow.db',
  mlflow_ui_url: null,
  settings: [],
  stores: [],
  config_error: null
};

/** A run with the given name, params and metrics. */
export function makeRun(
  name: string,
  params: Record<string, string> = {},
  metrics: Record<string, number> = {}
): RunSummary {
  return {
    run_id: `id-${name}`,
    run_name: name,
    experiment_id: '1',
    status: 'FINISHED',
    start_time: 1_700_000_000_000,
    end_time: 1_700_000_001_000,
    user: 'ada',
    source_name: 'train.ipynb',
    git_commit: null,
    params,
    metrics,
    tags: {}
  };
}

export function makePage(
  runs: RunSummary[],
  next: string | null = null
): RunsPage {
  return {
    runs,
    next_page_token: next,
    param_keys: [...new Set(runs.flatMap(r => Object.keys(r.params)))],
    metric_keys: [...new Set(runs.flatMap(r => Object.keys(r.metrics)))]
  };
}

export class FakeApi implements IMlopsLabAPI {
  /** Every runs query, in order. */
  readonly queries: IRunsQuery[] = [];
  experimentList: ExperimentList = {
    experiments: [
      {
        experiment_id: '1',
        name: 'iris',
        lifecycle_stage: 'active',
        creation_time: 1,
        last_update_time: 2
      },
      {
        experiment_id: '0',
        name: 'Default',
        lifecycle_stage: 'active',
        creation_time: 0,
        last_update_time: 0
      }
    ]
  };
  /** Answers `runs`; by default an empty page. */
  onRuns: (query: IRunsQuery) => Promise<RunsPage> = async () => makePage([]);
  onRun: (runId: string) => Promise<RunDetail> = async () => {
    throw new Error('not scripted');
  };
  onRunNotebook: (runId: string) => Promise<RunNotebook> = async () => {
    throw new Error('not scripted');
  };

  async health(): Promise<Health> {
    return HEALTH;
  }

  async experiments(): Promise<ExperimentList> {
    return this.experimentList;
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
}
