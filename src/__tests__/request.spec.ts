/**
 * The typed client turns our JSON error bodies, HTML 404s and network failures
 * into errors that carry the server's own message and code.
 */
import { ServerConnection } from '@jupyterlab/services';

import { MlopsLabClient } from '../api/client';
import { JobsClient } from '../jobs/client';
import { SchedulesClient } from '../jobs/scheduleClient';
import { MlopsLabResponseError, requestAPI } from '../request';
import { healthAnswer, pausedScheduleAnswer, recorded } from './recorded';

type FetchMock = jest.Mock<Promise<Response>, [RequestInfo, RequestInit?]>;

function fetchAnswering(answer: () => Promise<Response>): FetchMock {
  return jest.fn<Promise<Response>, [RequestInfo, RequestInit?]>(answer);
}

function settingsWith(fetch: FetchMock): ServerConnection.ISettings {
  return ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/',
    wsUrl: 'ws://localhost:8888/',
    token: 'secret-token',
    fetch
  });
}

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' }
  });
}

describe('requestAPI', () => {
  it('throws the server message and code of a JSON 404', async () => {
    const answer = recorded('run_not_found');
    const fetch = fetchAnswering(async () =>
      jsonResponse(answer.status, answer.body)
    );

    const error = await requestAPI('runs/abc', {}, settingsWith(fetch)).then(
      () => null,
      (reason: unknown) => reason
    );

    expect(error).toBeInstanceOf(MlopsLabResponseError);
    expect(error).toBeInstanceOf(ServerConnection.ResponseError);
    const responseError = error as MlopsLabResponseError;
    expect(responseError.message).toBe(
      "Run 'abc' was not found in sqlite:///<root>/.mlops/mlflow.db."
    );
    expect(responseError.code).toBe('NOT_FOUND');
    expect(responseError.status).toBe(404);
    expect(responseError.param).toBeNull();
  });

  it('throws the server message, code and param of a JSON 400', async () => {
    const answer = recorded('runs_bad_page_token');
    const fetch = fetchAnswering(async () =>
      jsonResponse(answer.status, answer.body)
    );

    await expect(
      requestAPI('runs?page_token=zzz', {}, settingsWith(fetch))
    ).rejects.toMatchObject({
      message:
        'Invalid page_token: pass the next_page_token of a previous page, or start again from the first page.',
      code: 'INVALID',
      param: 'page_token',
      status: 400
    });
  });

  it('has no code when the answer is not one of ours', async () => {
    const fetch = fetchAnswering(
      async () =>
        new Response('<html><body>404: Not Found</body></html>', {
          status: 404,
          statusText: 'Not Found',
          headers: { 'Content-Type': 'text/html' }
        })
    );

    const error = await requestAPI('health', {}, settingsWith(fetch)).catch(
      (reason: unknown) => reason
    );

    expect(error).toBeInstanceOf(MlopsLabResponseError);
    expect((error as MlopsLabResponseError).code).toBeNull();
    expect((error as MlopsLabResponseError).message).toContain('404');
  });

  it('turns a failed fetch into a NetworkError', async () => {
    const fetch = fetchAnswering(async () => {
      throw new TypeError('Failed to fetch');
    });

    const error = await requestAPI('health', {}, settingsWith(fetch)).catch(
      (reason: unknown) => reason
    );

    expect(error).toBeInstanceOf(ServerConnection.NetworkError);
    expect((error as Error).message).toBe('Failed to fetch');
  });
});

describe('MlopsLabClient.health', () => {
  it('GETs /mlops-lab/api/health with the auth token and returns the body', async () => {
    const fetch = fetchAnswering(async () => jsonResponse(200, healthAnswer()));
    const client = new MlopsLabClient(settingsWith(fetch));

    const health = await client.health();

    expect(health).toEqual(healthAnswer());
    expect(fetch).toHaveBeenCalledTimes(1);
    const request = fetch.mock.calls[0][0] as Request;
    const url = new URL(request.url);
    expect(url.origin + url.pathname).toBe(
      'http://localhost:8888/mlops-lab/api/health'
    );
    expect(request.method).toBe('GET');
    expect(request.headers.get('Authorization')).toBe('token secret-token');
  });

  it('rejects with the MISCONFIGURED 503 every other route answers', async () => {
    const answer = recorded('experiments_misconfigured');
    const fetch = fetchAnswering(async () =>
      jsonResponse(answer.status, answer.body)
    );
    const client = new MlopsLabClient(settingsWith(fetch));

    const error = await client.experiments().catch((r: unknown) => r);
    expect(error).toMatchObject({ code: 'MISCONFIGURED', status: 503 });
    expect((error as Error).message).toContain(
      "Unknown key 'traking-uri' in [tool.mlops-lab] of <root>/pyproject.toml"
    );
  });
});

describe('the clients that write (JSONClient)', () => {
  function sent(fetch: FetchMock): Request {
    expect(fetch).toHaveBeenCalledTimes(1);
    return fetch.mock.calls[0][0] as Request;
  }

  it('POSTs a JSON body and returns the answer', async () => {
    const fetch = fetchAnswering(async () =>
      jsonResponse(200, pausedScheduleAnswer())
    );
    const client = new SchedulesClient(settingsWith(fetch));

    const schedule = await client.pause('sch 1');

    expect(schedule).toEqual(pausedScheduleAnswer());
    const request = sent(fetch);
    expect(request.method).toBe('POST');
    expect(new URL(request.url).pathname).toBe(
      '/mlops-lab/api/schedules/sch%201/pause'
    );
    expect(request.headers.get('Content-Type')).toBe('application/json');
    expect(await request.text()).toBe('{}');
  });

  it('sends the body it is given', async () => {
    const fetch = fetchAnswering(async () =>
      jsonResponse(200, { executions: [], sweep: null, reused: false })
    );
    const client = new JobsClient(settingsWith(fetch));

    await client.rerun('exec0001', 'key-1');

    const request = sent(fetch);
    expect(request.method).toBe('POST');
    expect(JSON.parse(await request.text())).toEqual({
      idempotency_key: 'key-1'
    });
  });

  it('sends no body with a DELETE', async () => {
    const fetch = fetchAnswering(async () => jsonResponse(200, { id: 'sch1' }));
    const client = new SchedulesClient(settingsWith(fetch));

    expect(await client.remove('sch1')).toEqual({ id: 'sch1' });

    const request = sent(fetch);
    expect(request.method).toBe('DELETE');
    expect(await request.text()).toBe('');
  });
});
