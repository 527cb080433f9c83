/**
 * The client asks `GET /runs`, `GET /experiments` and `GET /compare` with the
 * right query strings, and a refused filter comes back as an error carrying the
 * server's message and the parameter it names.
 */
import { ServerConnection } from '@jupyterlab/services';

import {
  experimentsQueryString,
  MlopsLabClient,
  runsQueryString
} from '../api/client';
import { MlopsLabResponseError } from '../request';
import { recorded, runsPageAnswer } from './recorded';

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
    const page = runsPageAnswer();
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

  it("rejects a refused filter with the server's message and param", async () => {
    const answer = recorded('runs_bad_filter');
    const { client } = clientAnswering(answer.status, answer.body);

    const error = await client
      .runs({ experiment: 'exp', filter: 'metrics.acc >' })
      .catch((reason: unknown) => reason);

    expect(error).toBeInstanceOf(MlopsLabResponseError);
    expect(error).toMatchObject({
      message: "Invalid clause(s) in filter string: 'metrics.acc', '>'",
      status: 400,
      code: 'INVALID',
      param: 'filter'
    });
  });

  it('GETs one run, its notebook, the experiments and a comparison', async () => {
    const { client, fetch } = clientAnswering(200, {});
    await client.run('ab/cd');
    await client.runNotebook('ab12');
    await client.experiments();
    await client.experiments({
      name: ' iris ',
      pageToken: 'tok',
      maxResults: 5
    });
    await client.compare(['a1', 'b/2']);

    const urls = fetch.mock.calls.map(call => {
      const url = new URL((call[0] as Request).url);
      // ServerConnection adds a cache-busting timestamp to every GET.
      return (url.pathname + url.search).replace(/[?&]\d+$/, '');
    });
    expect(urls).toEqual([
      '/lab-base/mlops-lab/api/runs/ab%2Fcd',
      '/lab-base/mlops-lab/api/runs/ab12/notebook',
      '/lab-base/mlops-lab/api/experiments',
      '/lab-base/mlops-lab/api/experiments?name=iris&max_results=5&page_token=tok',
      '/lab-base/mlops-lab/api/compare?run_id=a1&run_id=b%2F2'
    ]);
  });

  it('leaves an empty experiments query out', () => {
    expect(experimentsQueryString({ name: '  ' })).toBe('');
  });
});
