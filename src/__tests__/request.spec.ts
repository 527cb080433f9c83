/**
 * The typed client turns our JSON error bodies, HTML 404s and network failures
 * into errors that carry the server's own message and code.
 */
import { ServerConnection } from '@jupyterlab/services';

import { MlopsLabClient } from '../api/client';
import type { Health } from '../api/types';
import { MlopsLabResponseError, requestAPI } from '../request';

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

const HEALTH: Health = {
  version: '0.1.0',
  tracking_uri: 'sqlite:////tmp/root/.mlops/mlflow.db',
  mlflow_ui_url: null,
  settings: [
    {
      name: 'tracking_uri',
      value: 'sqlite:////tmp/root/.mlops/mlflow.db',
      source: 'default',
      origin: 'built-in default'
    }
  ],
  stores: [
    {
      name: 'tracking',
      uri: 'sqlite:////tmp/root/.mlops/mlflow.db',
      ok: true,
      message: 'answered in 3 ms'
    }
  ],
  config_error: null
};

describe('requestAPI', () => {
  it('throws the server message and code of a JSON 404', async () => {
    const fetch = fetchAnswering(async () =>
      jsonResponse(404, {
        message: "Run 'abc' was not found.",
        code: 'NOT_FOUND'
      })
    );

    const error = await requestAPI('runs/abc', {}, settingsWith(fetch)).then(
      () => null,
      (reason: unknown) => reason
    );

    expect(error).toBeInstanceOf(MlopsLabResponseError);
    expect(error).toBeInstanceOf(ServerConnection.ResponseError);
    const responseError = error as MlopsLabResponseError;
    expect(responseError.message).toBe("Run 'abc' was not found.");
    expect(responseError.code).toBe('NOT_FOUND');
    expect(responseError.status).toBe(404);
  });

  it('throws the server message and code of a JSON 400', async () => {
    const fetch = fetchAnswering(async () =>
      jsonResponse(400, {
        message: 'max_results must be between 1 and 1000.',
        code: 'INVALID'
      })
    );

    await expect(
      requestAPI('runs?max_results=0', {}, settingsWith(fetch))
    ).rejects.toMatchObject({
      message: 'max_results must be between 1 and 1000.',
      code: 'INVALID',
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
    const fetch = fetchAnswering(async () => jsonResponse(200, HEALTH));
    const client = new MlopsLabClient(settingsWith(fetch));

    const health = await client.health();

    expect(health).toEqual(HEALTH);
    expect(fetch).toHaveBeenCalledTimes(1);
    const request = fetch.mock.calls[0][0] as Request;
    const url = new URL(request.url);
    expect(url.origin + url.pathname).toBe(
      'http://localhost:8888/mlops-lab/api/health'
    );
    expect(request.method).toBe('GET');
    expect(request.headers.get('Authorization')).toBe('token secret-token');
  });

  it('rejects with the message of a 503', async () => {
    const fetch = fetchAnswering(async () =>
      jsonResponse(503, {
        message: 'MLOPS_TRACKING_URI is not a valid URI.',
        code: 'UNAVAILABLE'
      })
    );
    const client = new MlopsLabClient(settingsWith(fetch));

    await expect(client.health()).rejects.toMatchObject({
      message: 'MLOPS_TRACKING_URI is not a valid URI.',
      code: 'UNAVAILABLE',
      status: 503
    });
  });
});
