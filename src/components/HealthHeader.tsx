/**
 * The top of the sidebar: tracking URI, version, each store's status and a
 * refresh button, or the reason none of that could be had.
 */
import React from 'react';
import type { TranslationBundle } from '@jupyterlab/translation';
import { refreshIcon, ToolbarButtonComponent } from '@jupyterlab/ui-components';

import type { HealthState } from '../model';
import type { StoreStatus } from '../api/types';
import { describeStore, storeState, summarizeHealth } from '../status';

export interface IHealthHeaderProps {
  state: HealthState;
  trans: TranslationBundle;
  onRefresh: () => void;
}

export function HealthHeader(props: IHealthHeaderProps): JSX.Element {
  const { trans } = props;
  return (
    <header className="jp-MlopsLab-header">
      <div className="jp-MlopsLab-headerTitle">
        <h2>{trans.__('MLOps')}</h2>
        <ToolbarButtonComponent
          className="jp-MlopsLab-refresh"
          icon={refreshIcon}
          tooltip={trans.__('Check the server and the stores again')}
          onClick={props.onRefresh}
        />
      </div>
      <HealthBody state={props.state} trans={trans} />
    </header>
  );
}

function HealthBody(props: {
  state: HealthState;
  trans: TranslationBundle;
}): JSX.Element {
  const { state, trans } = props;
  if (state.status === 'loading') {
    return (
      <p className="jp-MlopsLab-loading">{trans.__('Checking the server…')}</p>
    );
  }
  if (state.status === 'failed') {
    return (
      <div
        className={`jp-MlopsLab-problem jp-MlopsLab-problem-${state.problem.kind}`}
        role="alert"
      >
        {state.problem.message}
      </div>
    );
  }
  const { health } = state;
  const summary = summarizeHealth(health, trans);
  return (
    <div className="jp-MlopsLab-health">
      <dl className="jp-MlopsLab-facts">
        <dt>{trans.__('Tracking URI')}</dt>
        <dd
          className="jp-MlopsLab-trackingUri"
          title={health.tracking_uri ?? undefined}
        >
          {health.tracking_uri ?? trans.__('not configured')}
        </dd>
        <dt>{trans.__('Version')}</dt>
        <dd className="jp-MlopsLab-version">{health.version}</dd>
        {health.mlflow_ui_url && (
          <>
            <dt>{trans.__('MLflow UI')}</dt>
            <dd>
              <a href={health.mlflow_ui_url} target="_blank" rel="noreferrer">
                {health.mlflow_ui_url}
              </a>
            </dd>
          </>
        )}
      </dl>
      {health.config_error && (
        <div
          className="jp-MlopsLab-problem jp-MlopsLab-problem-configuration"
          role="alert"
        >
          {trans.__('Configuration error: %1', health.config_error)}
        </div>
      )}
      <p
        className={`jp-MlopsLab-summary jp-MlopsLab-level-${summary.level}`}
        role={summary.level === 'ok' ? undefined : 'alert'}
      >
        {summary.text}
      </p>
      <ul className="jp-MlopsLab-stores">
        {(health.stores as StoreStatus[]).map(store => (
          <li
            key={store.name}
            className={`jp-MlopsLab-store jp-MlopsLab-store-${store.ok ? 'ok' : 'down'}`}
            data-store={store.name}
            data-state={storeState(store)}
            title={store.uri}
          >
            <span className="jp-MlopsLab-storeDot" aria-hidden="true" />
            {describeStore(store, trans)}
            <div className="jp-MlopsLab-storeUri">{store.uri}</div>
          </li>
        ))}
      </ul>
    </div>
  );
}
