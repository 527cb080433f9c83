/**
 * Names for the REST types the front end uses.
 *
 * Every type here is an alias of one generated from the server's OpenAPI document
 * (`src/api/schema.ts`, written by `jlpm api:types`), never a hand-written copy:
 * `jlpm api:check` fails when the Python models and this side drift apart.
 */
import type { components, operations } from './schema';

type Schemas = components['schemas'];

/** The answer of `GET /mlops-lab/api/health`. */
export type Health = Schemas['HealthResponse'];

/**
 * How a store answered: `answered`, `not_created` (the embedded store is created
 * on first use), `not_checked` (a scheme that cannot be checked), `down`, or
 * `broken` (it answers but its schema is outdated or damaged).
 */
export type StoreState =
  'answered' | 'not_created' | 'not_checked' | 'down' | 'broken';

/**
 * Whether one store (tracking, registry, lab) answered, and how.
 *
 * `state` is optional until the server's model carries it; the intersection stays
 * valid once the generated type has it.
 */
export type StoreStatus = Schemas['StoreStatusModel'] & { state?: StoreState };

/** One effective setting and where its value came from. */
export type Setting = Schemas['SettingModel'];

/** The body of every error answer. */
export type ErrorBody = Schemas['ErrorBody'];

/** The error codes the server writes in an error body. */
export type ErrorCode = Schemas['ErrorCode'];

/** One experiment in `GET /experiments`. */
export type Experiment = Schemas['ExperimentInfo'];

/** The answer of `GET /experiments`: one page, the most recently updated first. */
export type ExperimentList = Schemas['ExperimentPage'];

/** One run in a page of `GET /runs`. */
export type RunSummary = Schemas['RunSummary'];

/** The answer of `GET /runs`: one page and the param and metric keys of its runs. */
export type RunsPage = Schemas['RunPage'];

/** One dataset input of a run. */
export type DatasetInput = Schemas['DatasetInfo'];

/** One model a run logged (a logged model or a model folder) and its size. */
export type LoggedModel = Schemas['LoggedModelInfo'];

/** The answer of `GET /runs/{run_id}`. */
export type RunDetail = Schemas['RunDetail'];

/** The answer of `GET /compare`: runs side by side with labels, rows and histories. */
export type Comparison = Schemas['Comparison'];

/** One param or metric across the compared runs. */
export type ComparisonRow = Schemas['ComparisonRow'];

/** A metric's history across the compared runs. */
export type MetricHistory = Schemas['MetricHistory'];

/** The answer of `GET /runs/{run_id}/notebook`: the snapshot as nbformat JSON. */
export type RunNotebook = Schemas['RunNotebook'];

/** The query parameters of `GET /runs`, as the server names them. */
export type RunsQueryParameters = NonNullable<
  operations['searchRuns']['parameters']['query']
>;

/** The query parameters of `GET /experiments`, as the server names them. */
export type ExperimentsQueryParameters = NonNullable<
  operations['listExperiments']['parameters']['query']
>;

/** The answer of `GET /jobs/parameters`: what a Run-as-job form is built from. */
export type NotebookParameters = Schemas['NotebookParameters'];

/** One variable of a notebook's cell tagged `parameters`, with papermill's type. */
export type ParameterInfo = Schemas['ParameterInfo'];

/**
 * The body of `POST /jobs`. The generated type marks every field with a default
 * as present; a request needs only the notebook.
 */
export type JobRequest = Pick<Schemas['JobRequest'], 'notebook'> &
  Partial<Schemas['JobRequest']>;

/** The answer of `POST /jobs` and of a re-run: the executions queued. */
export type Submission = Schemas['Submission'];

/** One execution of a job: state, progress, error, attempts. */
export type Execution = Schemas['Execution'];

/** QUEUED, RUNNING, SUCCEEDED, FAILED, TIMED_OUT or CANCELLED. */
export type ExecutionState = Schemas['ExecutionState'];

/** The answer of `GET /executions`: one page, the newest first. */
export type ExecutionPage = Schemas['ExecutionPage'];

/** A slice of an execution's output log. */
export type ExecutionLog = Schemas['ExecutionLog'];

/** The answer of `GET /executions/{id}/notebook`: the masked output notebook. */
export type OutputNotebook = Schemas['OutputNotebook'];

/** The answer of `GET /sweeps/{id}`. */
export type Sweep = Schemas['Sweep'];

/** The query parameters of `GET /executions`, as the server names them. */
export type ExecutionsQueryParameters = NonNullable<
  operations['listExecutions']['parameters']['query']
>;

/** One schedule: its cron in words, state, next fire times, last slot and execution. */
export type Schedule = Schemas['Schedule'];

/** ACTIVE, PAUSED or ENDED (its end date passed). */
export type ScheduleState = Schemas['ScheduleState'];

/**
 * The body of `POST /schedules`. The generated type marks every field with a
 * default as present; a request needs only the notebook and the cron.
 */
export type ScheduleRequest = Pick<
  Schemas['ScheduleRequest'],
  'notebook' | 'cron'
> &
  Partial<Schemas['ScheduleRequest']>;

/** What a slot does while earlier executions still run: `skip` or `queue`. */
export type ConcurrencyPolicy = Schemas['ConcurrencyPolicy'];

/** Which missed slots fire after a downtime: `none`, `last` or `all`. */
export type CatchUp = Schemas['CatchUp'];

/** The answer of `GET /schedules/preview`: a cron in words and its next fire times (UTC). */
export type CronPreview = Schemas['CronPreview'];

/** One slot of a schedule: fired (with its execution), skipped or missed, and why. */
export type Slot = Schemas['Slot'];

/** The answer of `GET /schedules`. */
export type ScheduleList = Schemas['ScheduleList'];

/** The answer of `GET /schedules/{id}/slots`, the newest first. */
export type SlotList = Schemas['SlotList'];

/** The answer of `DELETE /schedules/{id}`. */
export type DeletedSchedule = Schemas['DeletedSchedule'];
