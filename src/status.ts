/**
 * Pure helpers that turn health answers and request failures into what the
 * sidebar says. No DOM, no requests: easy to test.
 */
import { ServerConnection } from '@jupyterlab/services';

import type { Health, StoreStatus } from './api/types';
import { MlopsLabResponseError } from './request';

/** What the sidebar tells the user when the server extension does not answer. */
export const MISSING_EXTENSION_MESSAGE =
  'The mlops-lab server extension is not running. Install it with ' +
  '`pip install mlops_lab` in the same environment as JupyterLab and restart JupyterLab.';

/** How bad things are, worst last. */
export type Level = 'ok' | 'warning' | 'error';

/** One line of the health summary. */
export interface IHealthSummary {
  /** The worst level among the stores and the configuration. */
  level: Level;
  /** A one-line summary, e.g. "All 3 stores answer." */
  text: string;
  /** One message per problem, ready to show. */
  problems: string[];
}

/** Why the health answer could not be had. */
export interface IProblem {
  kind: 'missing-extension' | 'configuration' | 'unavailable' | 'error';
  message: string;
}

/**
 * Summarize a health answer: the configuration error first, then each store down.
 */
export function summarizeHealth(health: Health): IHealthSummary {
  const problems: string[] = [];
  if (health.config_error) {
    problems.push(`Configuration error: ${health.config_error}`);
  }
  const down = health.stores.filter(store => !store.ok);
  for (const store of down) {
    problems.push(describeStore(store));
  }
  const total = health.stores.length;
  let text: string;
  if (total === 0) {
    text = 'No store was checked.';
  } else if (down.length === 0) {
    text = total === 1 ? 'The store answers.' : `All ${total} stores answer.`;
  } else {
    const names = down.map(store => store.name).join(', ');
    text = `${down.length} of ${total} stores not answering: ${names}.`;
  }
  if (health.config_error) {
    text = `Configuration error. ${text}`;
  }
  const level: Level = health.config_error
    ? 'error'
    : down.length === 0
      ? 'ok'
      : down.length === total
        ? 'error'
        : 'warning';
  return { level, text, problems };
}

/** "tracking: not answering (connection refused)" or "tracking: ok (answered in 3 ms)". */
export function describeStore(store: StoreStatus): string {
  const state = store.ok ? 'ok' : 'not answering';
  return store.message
    ? `${store.name}: ${state} (${store.message})`
    : `${store.name}: ${state}`;
}

/**
 * Turn a failed health request into what the user should read.
 *
 * A 404 without one of our error codes, or a network failure, means the server
 * extension is missing; a 503 carries a configuration or store problem.
 */
export function describeError(error: unknown): IProblem {
  if (error instanceof ServerConnection.NetworkError) {
    return { kind: 'missing-extension', message: MISSING_EXTENSION_MESSAGE };
  }
  if (error instanceof MlopsLabResponseError) {
    if (error.status === 404 && error.code === null) {
      return { kind: 'missing-extension', message: MISSING_EXTENSION_MESSAGE };
    }
    if (error.status === 503) {
      return {
        kind: error.code === 'UNAVAILABLE' ? 'unavailable' : 'configuration',
        message: error.message
      };
    }
    return { kind: 'error', message: error.message };
  }
  if (error instanceof Error) {
    return { kind: 'error', message: error.message };
  }
  return { kind: 'error', message: String(error) };
}
