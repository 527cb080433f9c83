/**
 * The real server's answers, recorded by `tests/faces/server/test_recorded_fixtures.py`
 * (which fails when one drifts from the live server), for the jest tests.
 *
 * Volatile values are placeholders there: `<root>` for the Jupyter root,
 * `<run:alpha>` / `<run8:alpha>` for run ids and their 8-character prefixes,
 * `<page-token>` for page tokens, `<version>` for the version.
 */
import type {
  Comparison,
  CronPreview,
  Execution,
  ExecutionLog,
  ExecutionPage,
  ExperimentList,
  Health,
  NotebookParameters,
  RunDetail,
  RunsPage,
  RunSummary,
  Schedule,
  ScheduleList,
  StoreState,
  StoreStatus
} from '../api/types';
import { errorFromResponse, MlopsLabResponseError } from '../request';

import compare from './fixtures/compare.json';
import experiments from './fixtures/experiments.json';
import experimentsByName from './fixtures/experiments_by_name.json';
import experimentsMisconfigured from './fixtures/experiments_misconfigured.json';
import experimentsPage from './fixtures/experiments_page.json';
import executionLog from './fixtures/execution_log.json';
import executionSucceeded from './fixtures/execution_succeeded.json';
import executionsEmpty from './fixtures/executions_empty.json';
import executionsPage from './fixtures/executions_page.json';
import healthMisconfigured from './fixtures/health_misconfigured.json';
import healthOk from './fixtures/health_ok.json';
import jobParameters from './fixtures/job_parameters.json';
import jobParametersNone from './fixtures/job_parameters_none.json';
import jobSubmitBadTimeout from './fixtures/job_submit_bad_timeout.json';
import jobSubmitBadType from './fixtures/job_submit_bad_type.json';
import missingRoute from './fixtures/missing_route.json';
import runDetail from './fixtures/run_detail.json';
import runNotFound from './fixtures/run_not_found.json';
import runsBadFilter from './fixtures/runs_bad_filter.json';
import runsBadMaxResults from './fixtures/runs_bad_max_results.json';
import runsBadOrderBy from './fixtures/runs_bad_order_by.json';
import runsBadPageToken from './fixtures/runs_bad_page_token.json';
import runsPage from './fixtures/runs_page.json';
import runsUnknownExperiment from './fixtures/runs_unknown_experiment.json';
import scheduleCreateBadMaxActive from './fixtures/schedule_create_bad_max_active.json';
import scheduleCreated from './fixtures/schedule_created.json';
import schedulePaused from './fixtures/schedule_paused.json';
import schedulePreview from './fixtures/schedule_preview.json';
import schedulePreviewBadCron from './fixtures/schedule_preview_bad_cron.json';
import schedulePreviewBadTimezone from './fixtures/schedule_preview_bad_timezone.json';
import schedulesProblem from './fixtures/schedules_problem.json';

/** One recorded answer: the HTTP status and the JSON body. */
export interface IRecorded {
  status: number;
  body: unknown;
}

const ANSWERS = {
  compare,
  experiments,
  experiments_by_name: experimentsByName,
  experiments_misconfigured: experimentsMisconfigured,
  experiments_page: experimentsPage,
  execution_log: executionLog,
  execution_succeeded: executionSucceeded,
  executions_empty: executionsEmpty,
  executions_page: executionsPage,
  health_misconfigured: healthMisconfigured,
  health_ok: healthOk,
  job_parameters: jobParameters,
  job_parameters_none: jobParametersNone,
  job_submit_bad_timeout: jobSubmitBadTimeout,
  job_submit_bad_type: jobSubmitBadType,
  missing_route: missingRoute,
  run_detail: runDetail,
  run_not_found: runNotFound,
  runs_bad_filter: runsBadFilter,
  runs_bad_max_results: runsBadMaxResults,
  runs_bad_order_by: runsBadOrderBy,
  runs_bad_page_token: runsBadPageToken,
  runs_page: runsPage,
  runs_unknown_experiment: runsUnknownExperiment,
  schedule_create_bad_max_active: scheduleCreateBadMaxActive,
  schedule_created: scheduleCreated,
  schedule_paused: schedulePaused,
  schedule_preview: schedulePreview,
  schedule_preview_bad_cron: schedulePreviewBadCron,
  schedule_preview_bad_timezone: schedulePreviewBadTimezone,
  schedules_problem: schedulesProblem
};

/** The name of a recorded answer. */
export type AnswerName = keyof typeof ANSWERS;

/** A fresh copy of a recorded answer, so a test may change it freely. */
export function recorded(name: AnswerName): IRecorded {
  return JSON.parse(JSON.stringify(ANSWERS[name])) as IRecorded;
}

/** A recorded answer's body with its generated type. */
function body<T>(name: AnswerName, status = 200): T {
  const answer = recorded(name);
  if (answer.status !== status) {
    throw new Error(`${name} was recorded with status ${answer.status}`);
  }
  return answer.body as T;
}

export const healthAnswer = (): Health => body<Health>('health_ok');
export const misconfiguredHealth = (): Health =>
  body<Health>('health_misconfigured');
export const experimentsAnswer = (
  name: AnswerName = 'experiments'
): ExperimentList => body<ExperimentList>(name);
export const runsPageAnswer = (): RunsPage => body<RunsPage>('runs_page');
export const runDetailAnswer = (): RunDetail => body<RunDetail>('run_detail');
export const compareAnswer = (): Comparison => body<Comparison>('compare');
export const jobParametersAnswer = (
  name: 'job_parameters' | 'job_parameters_none' = 'job_parameters'
): NotebookParameters => body<NotebookParameters>(name);
export const emptyExecutionsAnswer = (): ExecutionPage =>
  body<ExecutionPage>('executions_empty');
export const executionsPageAnswer = (): ExecutionPage =>
  body<ExecutionPage>('executions_page');
export const executionAnswer = (): Execution =>
  body<Execution>('execution_succeeded');
export const executionLogAnswer = (): ExecutionLog =>
  body<ExecutionLog>('execution_log');

/**
 * ISO times from `start` on, one a minute: what the server's `<time>`
 * placeholders stand for where a test shows or compares times.
 */
function times(count: number, start = Date.UTC(2026, 10, 24, 1, 30)): string[] {
  return Array.from({ length: count }, (_, i) =>
    new Date(start + i * 60000).toISOString()
  );
}

/** The recorded preview of `30 2 * * 1` in Europe/Paris, its times made real. */
export const cronPreviewAnswer = (): CronPreview => {
  const preview = body<CronPreview>('schedule_preview');
  return { ...preview, next_fire_times: times(preview.next_fire_times.length) };
};

/** A schedule as the server shapes one (the recorded ACTIVE one), changed by `change`. */
export function makeSchedule(change: Partial<Schedule> = {}): Schedule {
  const schedule = body<Schedule>('schedule_created', 201);
  return {
    ...schedule,
    created_at: times(1)[0],
    next_fire_times: times(schedule.next_fire_times?.length ?? 0),
    ...change
  };
}

/** The recorded schedule just paused. */
export const pausedScheduleAnswer = (): Schedule =>
  body<Schedule>('schedule_paused');

/** The recorded list whose one schedule's notebook was deleted (`problem` set). */
export const problemSchedulesAnswer = (): ScheduleList =>
  body<ScheduleList>('schedules_problem');

/** The recorded error answer as the client throws it. */
export function recordedError(name: AnswerName): MlopsLabResponseError {
  const answer = recorded(name);
  if (answer.status < 400) {
    throw new Error(`${name} is not an error answer`);
  }
  const text = JSON.stringify(answer.body);
  return errorFromResponse(
    new Response(text, {
      status: answer.status,
      headers: { 'Content-Type': 'application/json' }
    }),
    answer.body,
    text
  );
}

/**
 * The recorded health answer with each store in the given state.
 *
 * Until the server's store status carries `state`, this is how the tests get
 * one: the recorded answer with `state` (and the `ok` it implies) set.
 */
export function healthWith(
  states: Record<string, StoreState>,
  messages: Record<string, string> = {}
): Health {
  const health = healthAnswer();
  health.stores = (health.stores as StoreStatus[]).map(store => {
    const state = states[store.name] ?? 'answered';
    return {
      ...store,
      state,
      ok: state !== 'down' && state !== 'broken',
      message: messages[store.name] ?? store.message
    };
  });
  return health;
}

/**
 * A run shaped as the server sends it (the recorded page's first run), renamed
 * and with the given params and metrics, for tests that need many runs.
 */
export function makeRun(
  name: string,
  params: Record<string, string> = {},
  metrics: Record<string, number | null> = {}
): RunSummary {
  const template = runsPageAnswer().runs[0];
  return {
    ...template,
    run_id: `<run:${name}>`,
    run_name: name,
    params,
    metrics,
    tags: { ...template.tags, 'mlflow.runName': name }
  };
}

/** A page of runs as the server shapes one: keys sorted, as the server sorts them. */
export function makePage(
  runs: RunSummary[],
  next: string | null = null
): RunsPage {
  return {
    runs,
    next_page_token: next,
    param_keys: [...new Set(runs.flatMap(r => Object.keys(r.params)))].sort(),
    metric_keys: [...new Set(runs.flatMap(r => Object.keys(r.metrics)))].sort()
  };
}
