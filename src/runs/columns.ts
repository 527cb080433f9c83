/**
 * Which param and metric columns the explorer shows, chosen per experiment.
 *
 * A choice names the keys the user ticked; until they choose, every key of the
 * page is shown. The choice is remembered in JupyterLab's state database, one
 * entry per experiment, so reopening the explorer shows the same columns.
 */
import type { IStateDB } from '@jupyterlab/statedb';
import type { ReadonlyJSONObject } from '@lumino/coreutils';

import type { RunsPage } from '../api/types';

/** The columns a user chose: keys without their `params.` / `metrics.` prefix. */
export interface IColumnChoice {
  params: string[];
  metrics: string[];
}

/** The state DB key of the remembered column choices. */
export const COLUMNS_STATE_KEY = 'mlops-lab:explorer-columns';

/**
 * The columns to show for a page: the chosen keys the page has, in the page's
 * order, or all of them without a choice.
 */
export function visibleColumns(
  page: Pick<RunsPage, 'param_keys' | 'metric_keys'>,
  choice: IColumnChoice | null
): IColumnChoice {
  if (!choice) {
    return { params: [...page.param_keys], metrics: [...page.metric_keys] };
  }
  return {
    params: page.param_keys.filter(key => choice.params.includes(key)),
    metrics: page.metric_keys.filter(key => choice.metrics.includes(key))
  };
}

/** The choice after ticking or unticking one column. */
export function toggleColumn(
  page: Pick<RunsPage, 'param_keys' | 'metric_keys'>,
  choice: IColumnChoice | null,
  kind: keyof IColumnChoice,
  key: string
): IColumnChoice {
  const current = choice ?? visibleColumns(page, null);
  const keys = current[kind];
  const next = keys.includes(key)
    ? keys.filter(k => k !== key)
    : [...keys, key];
  return { ...current, [kind]: next };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every(v => typeof v === 'string');
}

/** A stored choice read back, or `null` when missing or not of the right shape. */
export function parseChoice(value: unknown): IColumnChoice | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return null;
  }
  const { params, metrics } = value as { params?: unknown; metrics?: unknown };
  return isStringArray(params) && isStringArray(metrics)
    ? { params, metrics }
    : null;
}

/** Reads and writes the column choices of every experiment in one state entry. */
export class ColumnChoices {
  constructor(stateDB: IStateDB | null) {
    this._stateDB = stateDB;
  }

  /** The remembered choice for an experiment; `null` when none (or no state DB). */
  async load(experimentId: string): Promise<IColumnChoice | null> {
    const all = await this._all();
    return parseChoice(all[experimentId]);
  }

  /** Remember a choice; failing to is not worth a message, so it never rejects. */
  async save(experimentId: string, choice: IColumnChoice): Promise<void> {
    if (!this._stateDB) {
      return;
    }
    try {
      const all = await this._all();
      await this._stateDB.save(COLUMNS_STATE_KEY, {
        ...all,
        [experimentId]: { params: choice.params, metrics: choice.metrics }
      });
    } catch {
      // Remembering is a convenience.
    }
  }

  private async _all(): Promise<ReadonlyJSONObject> {
    if (!this._stateDB) {
      return {};
    }
    try {
      const value = await this._stateDB.fetch(COLUMNS_STATE_KEY);
      return value && typeof value === 'object' && !Array.isArray(value)
        ? (value as ReadonlyJSONObject)
        : {};
    } catch {
      return {};
    }
  }

  private readonly _stateDB: IStateDB | null;
}
