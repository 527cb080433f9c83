/**
 * The Run-as-job form's logic, apart from React: fields from the notebook's
 * parameters, type checks of what the user typed, sweep lists, and the request.
 *
 * The checks mirror the server's (papermill's types: int, float, bool, str,
 * list, dict; `None` and `any` take any value) so a wrong value is shown beside
 * its field before anything is sent; the server checks again and its 400 names
 * the field in `param`.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import type { JobRequest, ParameterInfo } from '../api/types';

/** One parameter's input, as the form holds it. */
export interface IField {
  name: string;
  /** papermill's type: int, float, bool, str, list, dict, None or any. */
  type: string;
  help: string;
  /** The text typed (every type but bool). */
  text: string;
  /** The checkbox (bool). */
  checked: boolean;
  /** When true, `text` is a list of values, one execution each. */
  sweep: boolean;
  /** The default as first shown: a field left at it is not sent. */
  initialText: string;
  initialChecked: boolean;
}

/** The job's options beside the parameters. */
export interface IOptions {
  kernelName: string;
  /** Seconds; empty for no limit. */
  timeout: string;
  retries: string;
  /** For a sweep: the metric its best execution is chosen by (empty: none). */
  sweepMetric: string;
  sweepGoal: 'max' | 'min';
  /** For a sweep: at most this many executions at once (empty: the server's). */
  concurrency: string;
}

/** The options of a new form. */
export const DEFAULT_OPTIONS: IOptions = {
  kernelName: '',
  timeout: '',
  retries: '0',
  sweepMetric: '',
  sweepGoal: 'max',
  concurrency: ''
};

/** The request field each option is sent as (the server's 400 names it). */
export const OPTION_PARAMS: Record<keyof IOptions, string> = {
  kernelName: 'kernel_name',
  timeout: 'timeout',
  retries: 'retries',
  sweepMetric: 'sweep_metric',
  sweepGoal: 'sweep_goal',
  concurrency: 'concurrency'
};

/** A value read from a field, or what is wrong with it. */
export type Parsed =
  { ok: true; value: unknown } | { ok: false; error: string };

/** The fields of a notebook's parameters, their defaults filled in. */
export function initialFields(parameters: ParameterInfo[]): IField[] {
  return parameters.map(p => {
    const text = defaultText(p);
    const checked = p.type === 'bool' && p.default === true;
    return {
      name: p.name,
      type: p.type,
      help: p.help ?? '',
      text,
      checked,
      sweep: false,
      initialText: text,
      initialChecked: checked
    };
  });
}

function defaultText(p: ParameterInfo): string {
  const value: unknown = p.default;
  if (value === null || value === undefined) {
    return p.type === 'None' ? '' : (p.default_text ?? '');
  }
  switch (p.type) {
    case 'str':
      return typeof value === 'string' ? value : String(value);
    case 'list':
    case 'dict':
      return JSON.stringify(value);
    default:
      return typeof value === 'string' ? value : JSON.stringify(value);
  }
}

const INT = /^[+-]?\d+$/;

/**
 * One value of a parameter of papermill type `type`, from the text typed.
 *
 * The message has the shape the server uses: `alpha expects float, got 'abc'`.
 */
export function parseValue(
  name: string,
  type: string,
  text: string,
  trans: TranslationBundle
): Parsed {
  const wrong = (): Parsed => ({
    ok: false,
    error: trans.__("%1 expects %2, got '%3'", name, type, text)
  });
  const trimmed = text.trim();
  switch (type) {
    case 'int':
      return INT.test(trimmed) ? { ok: true, value: Number(trimmed) } : wrong();
    case 'float': {
      const value = Number(trimmed);
      return trimmed !== '' && Number.isFinite(value)
        ? { ok: true, value }
        : wrong();
    }
    case 'bool':
      if (/^(true|false)$/i.test(trimmed)) {
        return { ok: true, value: trimmed.toLowerCase() === 'true' };
      }
      return wrong();
    case 'str':
      return { ok: true, value: text };
    case 'list':
    case 'dict': {
      const value = parseJSON(trimmed);
      const isList = Array.isArray(value);
      const isDict = typeof value === 'object' && value !== null && !isList;
      return (type === 'list' ? isList : isDict)
        ? { ok: true, value }
        : wrong();
    }
    default: {
      // None or any: JSON when it reads as JSON, the text otherwise.
      if (trimmed === '') {
        return { ok: true, value: null };
      }
      const value = parseJSON(trimmed);
      return { ok: true, value: value === undefined ? text : value };
    }
  }
}

/**
 * The values of a swept parameter: comma separated (`0.1, 0.5, 1`), or a JSON
 * array for list and dict parameters (`[[1, 2], [3]]`), whose items hold commas.
 */
export function parseSweep(
  name: string,
  type: string,
  text: string,
  trans: TranslationBundle
): Parsed {
  let items: string[];
  if (type === 'list' || type === 'dict') {
    const values = parseJSON(text.trim());
    if (!Array.isArray(values) || values.length === 0) {
      return {
        ok: false,
        error: trans.__(
          '%1: a sweep of %2 values is a JSON array of them, e.g. %3',
          name,
          type,
          type === 'list' ? '[[1, 2], [3]]' : '[{"a": 1}, {"a": 2}]'
        )
      };
    }
    items = values.map(v => JSON.stringify(v));
  } else {
    items = text.split(',').map(item => item.trim());
    if (items.some(item => item === '') && type !== 'str') {
      return {
        ok: false,
        error: trans.__(
          '%1: a sweep is a comma-separated list of values, e.g. 0.1, 0.5, 1',
          name
        )
      };
    }
  }
  const values: unknown[] = [];
  for (const item of items) {
    const parsed = parseValue(name, type, item, trans);
    if (!parsed.ok) {
      return parsed;
    }
    values.push(parsed.value);
  }
  return { ok: true, value: values };
}

/** What the form would send, or the messages keyed by field name. */
export type Built =
  | { ok: true; request: JobRequest }
  | { ok: false; errors: Record<string, string> };

/**
 * The request for `POST /jobs` from the form, or every field's error.
 *
 * A parameter left at its default is not sent, so the notebook's own default
 * (whatever its type) stays in charge; a swept one goes to `sweep`.
 */
export function buildRequest(
  notebook: string,
  fields: IField[],
  options: IOptions,
  idempotencyKey: string,
  trans: TranslationBundle
): Built {
  const errors: Record<string, string> = {};
  const parameters: Record<string, unknown> = {};
  const sweep: Record<string, unknown[]> = {};
  for (const field of fields) {
    if (field.sweep) {
      const parsed = parseSweep(field.name, field.type, field.text, trans);
      if (parsed.ok) {
        sweep[field.name] = parsed.value as unknown[];
      } else {
        errors[field.name] = parsed.error;
      }
      continue;
    }
    if (field.type === 'bool') {
      if (field.checked !== field.initialChecked) {
        parameters[field.name] = field.checked;
      }
      continue;
    }
    if (field.text === field.initialText) {
      continue;
    }
    const parsed = parseValue(field.name, field.type, field.text, trans);
    if (parsed.ok) {
      parameters[field.name] = parsed.value;
    } else {
      errors[field.name] = parsed.error;
    }
  }

  let timeout: number | null = null;
  if (options.timeout.trim() !== '') {
    timeout = Number(options.timeout);
    if (!Number.isFinite(timeout) || timeout <= 0) {
      errors.timeout = trans.__(
        "timeout must be a number of seconds > 0, got '%1'",
        options.timeout
      );
    }
  }
  let retries = 0;
  if (options.retries.trim() !== '') {
    if (INT.test(options.retries.trim()) && Number(options.retries) >= 0) {
      retries = Number(options.retries);
    } else {
      errors.retries = trans.__(
        "retries must be a whole number >= 0, got '%1'",
        options.retries
      );
    }
  }
  const swept = Object.keys(sweep).length > 0;
  let concurrency: number | null = null;
  if (swept && options.concurrency.trim() !== '') {
    if (
      INT.test(options.concurrency.trim()) &&
      Number(options.concurrency) >= 1
    ) {
      concurrency = Number(options.concurrency);
    } else {
      errors.concurrency = trans.__(
        "concurrency must be a whole number >= 1, got '%1'",
        options.concurrency
      );
    }
  }
  if (Object.keys(errors).length > 0) {
    return { ok: false, errors };
  }
  const request: JobRequest = {
    notebook,
    parameters,
    retries,
    timeout,
    idempotency_key: idempotencyKey
  };
  if (swept) {
    request.sweep = sweep;
    request.sweep_goal = options.sweepGoal;
    if (options.sweepMetric.trim() !== '') {
      request.sweep_metric = options.sweepMetric.trim();
    }
    if (concurrency !== null) {
      request.concurrency = concurrency;
    }
  }
  if (options.kernelName) {
    request.kernel_name = options.kernelName;
  }
  return { ok: true, request };
}

/** How many executions a sweep makes: the product of its list lengths. */
export function gridSize(request: JobRequest): number {
  return Object.values(request.sweep ?? {}).reduce(
    (size, values) => size * values.length,
    1
  );
}

function parseJSON(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
