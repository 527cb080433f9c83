/**
 * The client asks `GET /runs` with the right query string, and a refused
 * filter comes back as an error carrying MLflow's message.
 */
import { ServerConnection } from '@jupyterlab/services';

import { MlopsLabClient, runsQueryString } from '../api/client';
import { MlopsLabResponseError } from '../request';
import { makePage, makeRun } from './fakeApi';

type FetchMock = jest.Mock<Promise<Response>, [RequestInfo, RequestInit?]>;

function clientAnswering(status: number, body: unknown) {
  const fetch: FetchMock = jest.fn<
    Promise<Response>,
    [RequestInfo, RequestInit?]
  >(
    async () =>
      new Response(JSON.stringify(body), {
        status,
        headers: { 'Content-Type': 'application/json' }
      })
  );
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/lab-base/',
    wsUrl: 'ws://localhost:8888/lab-base/',
    fetch
  });
  return { client: new MlopsLabClient(settings), fetch };
}

function requestedUrl(fetch: FetchMock): URL {
  return new URL((fetch.mock.calls[0][0] as Request).url);
}

describe('runsQueryString', () => {
  it('sends every field under the server names', () => {
    const query = new URLSearchParams(
      runsQueryString({
        experiment: 'iris',
        filter: "metrics.accuracy > 0.9 and params.C = '1.0'",
        orderBy: 'metrics.accuracy DESC',
        maxResults: 25,
        pageToken: 'tok/en+=='
      }).slice(1)
    );
    expect([...query.entries()]).toEqual([
      ['experiment', 'iris'],
      ['filter', "metrics.accuracy > 0.9 and params.C = '1.0'"],
      ['order_by', 'metrics.accuracy DESC'],
      ['max_results', '25'],
      ['page_token', 'tok/en+==']
    ]);
  });

  it('leaves out what is unset or blank', () => {
    expect(
      runsQueryString({ experiment: '7', filter: '   ', pageToken: '' })
    ).toBe('?experiment=7');
  });

  it('encodes what would break a URL', () => {
    const text = runsQueryString({
      experiment: 'a b&c',
      filter: "params.path = '../x?y#z'"
    });
    expect(text).not.toContain('#');
    expect(text).not.toContain('/');
    expect(new URLSearchParams(text.slice(1)).get('filter')).toBe(
      "params.path = '../x?y#z'"
    );
  });
});

describe('MlopsLabClient runs API', () => {
  it('GETs /runs below the base URL with the query', async () => {
    const page = makePage([makeRun('a', { C: '1' }, { accuracy: 0.9 })]);
    const { client, fetch } = clientAnswering(200, page);

    const answer = await client.runs({
      experiment: '1',
      filter: 'metrics.accuracy > 0.5',
      orderBy: 'params.C ASC',
      maxResults: 50,
      pageToken: 'abc'
    });

    expect(answer).toEqual(page);
    const url = requestedUrl(fetch);
    expect(url.pathname).toBe('/lab-base/mlops-lab/api/runs');
    expect(url.searchParams.get('experiment')).toBe('1');
    expect(url.searchParams.get('filter')).toBe('metrics.accuracy > 0.5');
    expect(url.searchParams.get('order_by')).toBe('params.C ASC');
    expect(url.searchParams.get('max_results')).toBe('50');
    expect(url.searchParams.get('page_token')).toBe('abc');
  });

  it("rejects a refused filter with MLflow's message", async () => {
    const message =
      "Invalid comparator '>>>' not one of '{'<=', '>', '!=', '<', '=', '>='}";
    const { client } = clientAnswering(400, { message, code: 'INVALID' });

    const error = await client
      .runs({ experiment: '1', filter: 'metrics.a >>> 1' })
      .catch((reason: unknown) => reason);

    expect(error).toBeInstanceOf(MlopsLabResponseError);
    expect((error as MlopsLabResponseError).message).toBe(message);
    expect((error as MlopsLabResponseError).status).toBe(400);
    expect((error as MlopsLabResponseError).code).toBe('INVALID');
  });

  it('GETs one run, its notebook and the experiments at their paths', async () => {
    const { client, fetch } = clientAnswering(200, {});
    await client.run('ab/cd');
    await client.runNotebook('ab12');
    await client.experiments();

    const paths = fetch.mock.calls.map(
      call => new URL((call[0] as Request).url).pathname
    );
    expect(paths).toEqual([
      '/lab-base/mlops-lab/api/runs/ab%2Fcd',
      '/lab-base/mlops-lab/api/runs/ab12/notebook',
      '/lab-base/mlops-lab/api/experiments'
    ]);
  });
});
