/**
 * Pure helpers that turn health answers and request failures into what the
 * sidebar says. No DOM, no requests: easy to test.
 */
import { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';

import type { Health, StoreState, StoreStatus } from './api/types';
import { MlopsLabResponseError } from './request';

/** How bad things are, worst last. */
export type Level = 'ok' | 'warning' | 'error';

/** One line of the health summary. */
export interface IHealthSummary {
  /** The worst level among the stores and the configuration. */
  level: Level;
  /** A one-line summary, e.g. "2 of 3 stores answer; lab: not created yet ...". */
  text: string;
  /** One message per problem, ready to show. */
  problems: string[];
}

/**
 * Why an answer could not be had, told apart because each asks something else
 * of the user.
 *
 * - `unreachable`: the Jupyter server does not answer at all (restarting, or the
 *   network is down); the sidebar keeps checking and recovers by itself.
 * - `missing-extension`: the Jupyter server answers but our server extension does
 *   not (a 404 with no JSON body of ours): install or enable it.
 * - `configuration`: `[tool.mlops-lab]` cannot be read; the message names the file
 *   and the key.
 * - `unavailable`: a store is down.
 * - `error`: anything else, the server's message as it is.
 */
export interface IProblem {
  kind:
    | 'unreachable'
    | 'missing-extension'
    | 'configuration'
    | 'unavailable'
    | 'error';
  message: string;
}

/** What the sidebar tells the user when the server extension does not answer. */
export function missingExtensionMessage(trans: TranslationBundle): string {
  return trans.__(
    'The mlops-lab server extension is not running. Install it with ' +
      '`pip install mlops_lab` in the same environment as JupyterLab and restart JupyterLab.'
  );
}

/** What the sidebar tells the user when the Jupyter server does not answer. */
export function unreachableMessage(trans: TranslationBundle): string {
  return trans.__(
    'The Jupyter server cannot be reached (it may be restarting). ' +
      'The sidebar keeps checking and recovers when the server is back.'
  );
}

/**
 * A store's state: the server's when it sends one, else what `ok` implies.
 */
export function storeState(store: StoreStatus): StoreState {
  return store.state ?? (store.ok ? 'answered' : 'down');
}

/**
 * Summarize a health answer: the configuration error first, then how many
 * stores answer and why the others do not (or not yet).
 */
export function summarizeHealth(
  health: Health,
  trans: TranslationBundle
): IHealthSummary {
  const problems: string[] = [];
  if (health.config_error) {
    problems.push(trans.__('Configuration error: %1', health.config_error));
  }
  const stores = health.stores as StoreStatus[];
  const others = stores.filter(store => storeState(store) !== 'answered');
  const failing = stores.filter(store => !store.ok);
  for (const store of failing) {
    problems.push(describeStore(store, trans));
  }
  const total = stores.length;
  const answering = total - others.length;
  let text: string;
  if (total === 0) {
    text = trans.__('No store was checked.');
  } else if (others.length === 0) {
    text =
      total === 1
        ? trans.__('The store answers.')
        : trans.__('All %1 stores answer.', total);
  } else {
    const details = others.map(store => summaryPart(store, trans));
    text = trans.__(
      '%1 of %2 stores answer; %3.',
      answering,
      total,
      details.join('; ')
    );
  }
  if (health.config_error) {
    text = trans.__('Configuration error. %1', text);
  }
  const level: Level =
    health.config_error || (total > 0 && failing.length === total)
      ? 'error'
      : failing.length > 0
        ? 'warning'
        : 'ok';
  return { level, text, problems };
}

/**
 * One store in the list under the summary: the server's own words for it
 * ("database will be created on first use", "answered HTTP 200"), and for a store
 * that is down or broken the state first, e.g. "lab: down (does not answer: ...)".
 */
export function describeStore(
  store: StoreStatus,
  trans: TranslationBundle
): string {
  const state = storeState(store);
  if (state === 'down' || state === 'broken') {
    const words =
      state === 'down'
        ? trans.__('down')
        : trans.__('answers, but its schema is outdated or damaged');
    return store.message
      ? trans.__('%1: %2 (%3)', store.name, words, store.message)
      : trans.__('%1: %2', store.name, words);
  }
  return trans.__(
    '%1: %2',
    store.name,
    store.message || stateWords(state, trans)
  );
}

/**
 * A store that did not simply answer, in the one-line summary: what it means for
 * the user rather than what the probe saw, e.g. "lab: not created yet (created on
 * first use)".
 */
function summaryPart(store: StoreStatus, trans: TranslationBundle): string {
  const state = storeState(store);
  if (state === 'not_created' || state === 'not_checked') {
    return trans.__('%1: %2', store.name, stateWords(state, trans));
  }
  return describeStore(store, trans);
}

function stateWords(state: StoreState, trans: TranslationBundle): string {
  switch (state) {
    case 'answered':
      return trans.__('answers');
    case 'not_created':
      return trans.__('not created yet (created on first use)');
    case 'not_checked':
      return trans.__('not checked (its kind of URI cannot be checked)');
    case 'broken':
      return trans.__('answers, but its schema is outdated or damaged');
    default:
      return trans.__('down');
  }
}

/**
 * Turn a failed request into what the user should read.
 *
 * Only a 404 without one of our error codes means the server extension is
 * missing; a network failure means the Jupyter server itself is not answering
 * (a restart, say), which installing anything would not fix.
 */
export function describeError(
  error: unknown,
  trans: TranslationBundle
): IProblem {
  if (error instanceof ServerConnection.NetworkError) {
    return { kind: 'unreachable', message: unreachableMessage(trans) };
  }
  if (error instanceof MlopsLabResponseError) {
    if (error.status === 404 && error.code === null) {
      return {
        kind: 'missing-extension',
        message: missingExtensionMessage(trans)
      };
    }
    if (error.code === 'MISCONFIGURED') {
      return { kind: 'configuration', message: error.message };
    }
    if (error.code === 'UNAVAILABLE') {
      return { kind: 'unavailable', message: error.message };
    }
    return { kind: 'error', message: error.message };
  }
  if (error instanceof Error) {
    return { kind: 'error', message: error.message };
  }
  return { kind: 'error', message: String(error) };
}
