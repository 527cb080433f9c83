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

/** Whether one store (tracking, registry, lab) answered, and how. */
export type StoreStatus = Schemas['StoreStatusModel'];

/** One effective setting and where its value came from. */
export type Setting = Schemas['SettingModel'];

/** The body of every error answer. */
export type ErrorBody = Schemas['ErrorBody'];

/** The error codes the server writes in an error body. */
export type ErrorCode = Schemas['ErrorCode'];

/** One experiment in `GET /experiments`. */
export type Experiment = Schemas['Experiment'];

/** The answer of `GET /experiments`, the most recently updated first. */
export type ExperimentList = Schemas['ExperimentsResponse'];

/** One run in a page of `GET /runs`. */
export type RunSummary = Schemas['RunSummaryModel'];

/** The answer of `GET /runs`: one page and the param and metric keys of its runs. */
export type RunsPage = Schemas['RunsPage'];

/** One dataset input of a run. */
export type DatasetInput = Schemas['DatasetModel'];

/** The answer of `GET /runs/{run_id}`. */
export type RunDetail = Schemas['RunDetailModel'];

/** The answer of `GET /runs/{run_id}/notebook`: the snapshot as nbformat JSON. */
export type RunNotebook = Schemas['RunNotebook'];

/** The query parameters of `GET /runs`, as the server names them. */
export type RunsQueryParameters = NonNullable<
  operations['searchRuns']['parameters']['query']
>;
