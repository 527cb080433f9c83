/**
 * Names for the REST types the front end uses.
 *
 * Every type here is an alias of one generated from the server's OpenAPI document
 * (`src/api/schema.ts`, written by `jlpm api:types`), never a hand-written copy:
 * `jlpm api:check` fails when the Python models and this side drift apart.
 */
import type { components } from './schema';

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
