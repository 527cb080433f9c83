/**
 * What the sidebar says about a health answer or a failed request: each store's
 * state as it is, and each kind of failure told apart.
 */
import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';

import type { StoreStatus } from '../api/types';
import { errorFromResponse } from '../request';
import {
  describeError,
  describeStore,
  missingExtensionMessage,
  summarizeHealth,
  unreachableMessage
} from '../status';
import { healthWith, misconfiguredHealth, recordedError } from './recorded';

const trans = nullTranslator.load('mlops_lab');

describe('summarizeHealth', () => {
  it('is ok when every store answers', () => {
    const summary = summarizeHealth(healthWith({}), trans);
    expect(summary).toEqual({
      level: 'ok',
      text: 'All 3 stores answer.',
      problems: []
    });
  });

  it('says which stores are not created yet instead of "all answer"', () => {
    const summary = summarizeHealth(healthWith({ lab: 'not_created' }), trans);
    expect(summary.level).toBe('ok');
    expect(summary.text).toBe(
      '2 of 3 stores answer; lab: not created yet (created on first use).'
    );
    expect(summary.problems).toEqual([]);
  });

  it('names a store that cannot be checked', () => {
    const summary = summarizeHealth(
      healthWith({ tracking: 'not_checked', registry: 'not_checked' }),
      trans
    );
    expect(summary.text).toBe(
      '1 of 3 stores answer; tracking: not checked (its kind of URI cannot be checked); ' +
        'registry: not checked (its kind of URI cannot be checked).'
    );
  });

  it('names each store down or broken, with its message', () => {
    const summary = summarizeHealth(
      healthWith(
        { lab: 'down', registry: 'broken' },
        {
          lab: 'connection refused',
          registry: 'schema revision 1 is older than 3'
        }
      ),
      trans
    );
    expect(summary.level).toBe('warning');
    expect(summary.text).toBe(
      '1 of 3 stores answer; registry: answers, but its schema is outdated or damaged ' +
        '(schema revision 1 is older than 3); lab: down (connection refused).'
    );
    expect(summary.problems).toEqual([
      'registry: answers, but its schema is outdated or damaged (schema revision 1 is older than 3)',
      'lab: down (connection refused)'
    ]);
  });

  it('is an error when no store answers', () => {
    const summary = summarizeHealth(
      healthWith({ tracking: 'down', registry: 'down', lab: 'down' }),
      trans
    );
    expect(summary.level).toBe('error');
    expect(
      summary.text.startsWith('0 of 3 stores answer; tracking: down')
    ).toBe(true);
  });

  it('puts the configuration error of the recorded answer first', () => {
    const summary = summarizeHealth(misconfiguredHealth(), trans);
    expect(summary.level).toBe('error');
    expect(summary.text).toBe('Configuration error. No store was checked.');
    // The server's message as it is (its list of known keys grows with the
    // settings), after the words that say what kind of problem it is.
    expect(summary.problems[0]).toBe(
      `Configuration error: ${misconfiguredHealth().config_error}`
    );
    expect(summary.problems[0]).toMatch(
      /^Configuration error: Unknown key 'traking-uri' in \[tool\.mlops-lab\] of <root>\/pyproject\.toml\. Did you mean 'tracking-uri'\?/
    );
  });

  it('reads a store without a state from ok, as a server before store states sends it', () => {
    // The generated type now requires `state`; an older server leaves it out.
    const store = {
      name: 'lab',
      uri: 'sqlite:///x',
      ok: false,
      message: 'disk I/O error'
    } as StoreStatus;
    expect(describeStore(store, trans)).toBe('lab: down (disk I/O error)');
    expect(describeStore({ ...store, ok: true, message: '' }, trans)).toBe(
      'lab: answers'
    );
  });
});

describe('describeError', () => {
  it('says the Jupyter server cannot be reached on a network error, not to install anything', () => {
    const problem = describeError(
      new ServerConnection.NetworkError(new TypeError('Failed to fetch')),
      trans
    );
    expect(problem).toEqual({
      kind: 'unreachable',
      message: unreachableMessage(trans)
    });
    expect(problem.message).not.toContain('pip install');
  });

  it('gives the install hint only on a 404 that is not ours', () => {
    const error = errorFromResponse(
      new Response('<html>404: Not Found</html>', { status: 404 }),
      undefined,
      '<html>404: Not Found</html>'
    );
    expect(describeError(error, trans)).toEqual({
      kind: 'missing-extension',
      message: missingExtensionMessage(trans)
    });
    expect(missingExtensionMessage(trans)).toContain('pip install mlops_lab');
  });

  it("keeps our own 404's message: a missing route names the version mismatch", () => {
    expect(describeError(recordedError('missing_route'), trans)).toEqual({
      kind: 'error',
      message:
        "No mlops-lab API route '/mlops-lab/api/no-such-route'. The server and the " +
        'sidebar may be different versions: reinstall mlops_lab and restart JupyterLab.'
    });
    expect(describeError(recordedError('run_not_found'), trans).kind).toBe(
      'error'
    );
  });

  it('shows MISCONFIGURED as a configuration problem with the message naming file and key', () => {
    const problem = describeError(
      recordedError('experiments_misconfigured'),
      trans
    );
    expect(problem.kind).toBe('configuration');
    expect(problem.message).toContain(
      "Unknown key 'traking-uri' in [tool.mlops-lab] of <root>/pyproject.toml"
    );
  });
});

describe('describeStore', () => {
  it("lists a store in the server's own words, a failing one with its state first", () => {
    const health = healthWith(
      { tracking: 'not_created', registry: 'not_checked', lab: 'down' },
      {
        registry: "not checked (mlops-lab cannot probe 's3:' URIs)",
        lab: 'does not answer: connection refused'
      }
    );
    expect(
      (health.stores as StoreStatus[]).map(store => describeStore(store, trans))
    ).toEqual([
      'tracking: database will be created on first use',
      "registry: not checked (mlops-lab cannot probe 's3:' URIs)",
      'lab: down (does not answer: connection refused)'
    ]);
  });
});
