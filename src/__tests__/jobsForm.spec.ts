/**
 * The Run-as-job form's logic against the server's recorded parameters: the
 * defaults it fills, the type checks it makes before anything is sent, sweep
 * lists, and the request it builds.
 */
import { nullTranslator } from '@jupyterlab/translation';

import {
  buildRequest,
  gridSize,
  initialFields,
  DEFAULT_OPTIONS,
  IOptions,
  parseSweep,
  parseValue
} from '../jobs/form';
import { edit, fields } from './formFields';
import { jobParametersAnswer, recorded } from './recorded';

const trans = nullTranslator.load('mlops_lab');
const OPTIONS: IOptions = DEFAULT_OPTIONS;

describe('initialFields', () => {
  it('fills each field with the notebook default, typed for its input', () => {
    const byName = Object.fromEntries(fields().map(f => [f.name, f]));
    expect(byName.alpha).toMatchObject({ type: 'float', text: '0.5' });
    expect(byName.epochs).toMatchObject({ type: 'int', text: '3' });
    expect(byName.name).toMatchObject({ type: 'str', text: 'base' });
    expect(byName.flags).toMatchObject({ type: 'list', text: '[1,2]' });
    expect(byName.verbose).toMatchObject({ type: 'bool', checked: false });
  });

  it('has no field for a notebook without a parameters cell', () => {
    expect(
      initialFields(jobParametersAnswer('job_parameters_none').parameters)
    ).toEqual([]);
  });
});

describe('parseValue', () => {
  it.each([
    ['int', '42', 42],
    ['int', '-3', -3],
    ['float', '0.25', 0.25],
    ['float', '2', 2],
    ['float', '1e-3', 0.001],
    ['bool', 'True', true],
    ['str', ' spaced ', ' spaced '],
    ['list', '[1, "a"]', [1, 'a']],
    ['dict', '{"a": 1}', { a: 1 }],
    ['None', '', null],
    ['None', '7', 7],
    ['any', 'np.nan', 'np.nan']
  ])('reads %s from %j', (type, text, value) => {
    expect(parseValue('x', type, text, trans)).toEqual({ ok: true, value });
  });

  it.each([
    ['int', '2.5'],
    ['int', ''],
    ['float', 'abc'],
    ['float', ''],
    ['float', 'Infinity'],
    ['bool', 'yes'],
    ['list', '{"a": 1}'],
    ['list', '[1,'],
    ['dict', '[1]']
  ])('refuses %s from %j with the server wording', (type, text) => {
    expect(parseValue('alpha', type, text, trans)).toEqual({
      ok: false,
      error: `alpha expects ${type}, got '${text}'`
    });
  });

  it('says what the server says for a wrong float (recorded 400)', () => {
    const parsed = parseValue('alpha', 'float', 'abc', trans);
    const server = recorded('job_submit_bad_type').body as { message: string };
    expect(parsed.ok).toBe(false);
    expect(server.message.startsWith(parsed.ok ? '' : parsed.error)).toBe(true);
  });
});

describe('parseSweep', () => {
  it('splits a comma-separated list and types each value', () => {
    expect(parseSweep('alpha', 'float', '0.1, 0.5,1', trans)).toEqual({
      ok: true,
      value: [0.1, 0.5, 1]
    });
    expect(parseSweep('name', 'str', 'a,b', trans)).toEqual({
      ok: true,
      value: ['a', 'b']
    });
  });

  it('names the value that is wrong', () => {
    expect(parseSweep('epochs', 'int', '1, two, 3', trans)).toEqual({
      ok: false,
      error: "epochs expects int, got 'two'"
    });
  });

  it('refuses an empty item', () => {
    const parsed = parseSweep('epochs', 'int', '1,,3', trans);
    expect(parsed.ok).toBe(false);
  });

  it('reads a list parameter sweep as a JSON array of lists', () => {
    expect(parseSweep('flags', 'list', '[[1, 2], [3]]', trans)).toEqual({
      ok: true,
      value: [[1, 2], [3]]
    });
    expect(parseSweep('flags', 'list', '[1, 2]', trans)).toEqual({
      ok: false,
      error: "flags expects list, got '1'"
    });
    expect(parseSweep('flags', 'list', '1, 2', trans).ok).toBe(false);
  });
});

describe('buildRequest', () => {
  it('sends only what was changed from the defaults, and the key', () => {
    let form = edit(fields(), 'alpha', { text: '0.75' });
    form = edit(form, 'verbose', { checked: true });
    const built = buildRequest('train.ipynb', form, OPTIONS, 'key-1', trans);
    expect(built).toEqual({
      ok: true,
      request: {
        notebook: 'train.ipynb',
        parameters: { alpha: 0.75, verbose: true },
        retries: 0,
        timeout: null,
        idempotency_key: 'key-1'
      }
    });
  });

  it('puts a swept parameter in sweep and counts the grid', () => {
    let form = edit(fields(), 'alpha', { sweep: true, text: '0.1,0.5,1' });
    form = edit(form, 'epochs', { sweep: true, text: '3,5' });
    const built = buildRequest(
      'train.ipynb',
      form,
      {
        ...OPTIONS,
        kernelName: 'python3',
        timeout: '30',
        retries: '2',
        sweepMetric: ' loss ',
        sweepGoal: 'min',
        concurrency: '3'
      },
      'k',
      trans
    );
    if (!built.ok) {
      throw new Error(JSON.stringify(built.errors));
    }
    expect(built.request).toMatchObject({
      sweep_metric: 'loss',
      sweep_goal: 'min',
      concurrency: 3
    });
    expect(built.request.sweep).toEqual({
      alpha: [0.1, 0.5, 1],
      epochs: [3, 5]
    });
    expect(built.request.parameters).toEqual({});
    expect(built.request).toMatchObject({
      kernel_name: 'python3',
      timeout: 30,
      retries: 2
    });
    expect(gridSize(built.request)).toBe(6);
  });

  it('sends the sweep options only with a sweep, and checks its concurrency', () => {
    const plain = buildRequest(
      'train.ipynb',
      fields(),
      { ...OPTIONS, sweepMetric: 'loss', concurrency: '2' },
      'k',
      trans
    );
    if (!plain.ok) {
      throw new Error(JSON.stringify(plain.errors));
    }
    expect(plain.request).not.toHaveProperty('sweep_metric');
    expect(plain.request).not.toHaveProperty('concurrency');
    const swept = edit(fields(), 'alpha', { sweep: true, text: '0.1,0.5' });
    const bad = buildRequest(
      'train.ipynb',
      swept,
      { ...OPTIONS, concurrency: '0' },
      'k',
      trans
    );
    expect(bad).toEqual({
      ok: false,
      errors: {
        concurrency: "concurrency must be a whole number >= 1, got '0'"
      }
    });
  });

  it('collects every wrong field and builds nothing', () => {
    let form = edit(fields(), 'alpha', { text: 'abc' });
    form = edit(form, 'flags', { text: '[1,' });
    const built = buildRequest(
      'train.ipynb',
      form,
      { ...OPTIONS, timeout: '0', retries: '-1' },
      'k',
      trans
    );
    expect(built.ok).toBe(false);
    expect(built.ok ? [] : Object.keys(built.errors).sort()).toEqual([
      'alpha',
      'flags',
      'retries',
      'timeout'
    ]);
  });

  it('refuses the timeout the server refuses (recorded 400)', () => {
    const server = recorded('job_submit_bad_timeout').body as {
      param: string;
    };
    const built = buildRequest(
      'train.ipynb',
      fields(),
      { ...OPTIONS, timeout: '0' },
      'k',
      trans
    );
    expect(built.ok ? [] : Object.keys(built.errors)).toEqual([server.param]);
  });
});
