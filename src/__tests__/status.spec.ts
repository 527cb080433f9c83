/**
 * What the sidebar says about a health answer or a failed request.
 */
import { ServerConnection } from '@jupyterlab/services';

import type { Health, StoreStatus } from '../api/types';
import { errorFromResponse } from '../request';
import {
  describeError,
  describeStore,
  MISSING_EXTENSION_MESSAGE,
  summarizeHealth
} from '../status';

function store(name: string, ok: boolean, message: string): StoreStatus {
  return { name, uri: `sqlite:////data/${name}.db`, ok, message };
}

function health(
  stores: StoreStatus[],
  configError: string | null = null
): Health {
  return {
    version: '0.1.0',
    tracking_uri: 'postgresql://u:***@db/mlflow',
    mlflow_ui_url: null,
    settings: [],
    stores,
    config_error: configError
  };
}

describe('summarizeHealth', () => {
  it('is ok when every store answers', () => {
    const summary = summarizeHealth(
      health([
        store('tracking', true, 'answered in 3 ms'),
        store('registry', true, 'answered'),
        store('lab', true, 'answered')
      ])
    );
    expect(summary).toEqual({
      level: 'ok',
      text: 'All 3 stores answer.',
      problems: []
    });
  });

  it('names each store that does not answer, with its message', () => {
    const summary = summarizeHealth(
      health([
        store('tracking', true, 'answered'),
        store('registry', true, 'answered'),
        store('lab', false, 'connection refused')
      ])
    );
    expect(summary.level).toBe('warning');
    expect(summary.text).toBe('1 of 3 stores not answering: lab.');
    expect(summary.problems).toEqual([
      'lab: not answering (connection refused)'
    ]);
  });

  it('is an error when no store answers', () => {
    const summary = summarizeHealth(
      health([
        store('tracking', false, 'timeout'),
        store('lab', false, 'timeout')
      ])
    );
    expect(summary.level).toBe('error');
    expect(summary.text).toBe('2 of 2 stores not answering: tracking, lab.');
  });

  it('puts a configuration error first', () => {
    const summary = summarizeHealth(
      health(
        [store('tracking', true, 'answered')],
        "MLOPS_LAB_DB: unknown scheme 'foo'"
      )
    );
    expect(summary.level).toBe('error');
    expect(summary.text).toBe('Configuration error. The store answers.');
    expect(summary.problems[0]).toBe(
      "Configuration error: MLOPS_LAB_DB: unknown scheme 'foo'"
    );
  });
});

describe('describeStore', () => {
  it('omits empty messages', () => {
    expect(describeStore(store('registry', true, ''))).toBe('registry: ok');
  });
});

describe('describeError', () => {
  it('says the server extension is missing on a network error', () => {
    const problem = describeError(
      new ServerConnection.NetworkError(new TypeError('Failed to fetch'))
    );
    expect(problem).toEqual({
      kind: 'missing-extension',
      message: MISSING_EXTENSION_MESSAGE
    });
    expect(problem.message).toContain('pip install mlops_lab');
  });

  it('says the server extension is missing on a 404 that is not ours', () => {
    const error = errorFromResponse(new Response('', { status: 404 }), null);
    expect(describeError(error).kind).toBe('missing-extension');
  });

  it('keeps our own 404 message', () => {
    const error = errorFromResponse(new Response('', { status: 404 }), {
      message: "Run 'abc' was not found.",
      code: 'NOT_FOUND'
    });
    expect(describeError(error)).toEqual({
      kind: 'error',
      message: "Run 'abc' was not found."
    });
  });

  it('shows the message of a 503 as a configuration problem', () => {
    const error = errorFromResponse(new Response('', { status: 503 }), {
      message: 'Cannot read mlops-lab settings: bad TOML at line 3.'
    });
    expect(describeError(error)).toEqual({
      kind: 'configuration',
      message: 'Cannot read mlops-lab settings: bad TOML at line 3.'
    });
  });
});
