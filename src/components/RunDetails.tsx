/**
 * The details of one run: what it was, where it came from (notebook, git),
 * its params, metrics, datasets, models (with their size) and tags, with
 * "Open snapshot" and "Open in MLflow".
 */
import React from 'react';
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  closeIcon,
  launchIcon,
  notebookIcon,
  ToolbarButtonComponent
} from '@jupyterlab/ui-components';

import type { DatasetInput, LoggedModel, RunDetail } from '../api/types';
import {
  formatBytes,
  formatMetric,
  formatTime,
  runLabel
} from '../runs/format';
import type { IDetailState } from '../runs/model';

export interface IRunDetailsProps {
  detail: IDetailState;
  trans: TranslationBundle;
  canOpenSnapshot: boolean;
  onOpenSnapshot: () => void;
  onClose: () => void;
}

export function RunDetails(props: IRunDetailsProps): JSX.Element {
  const { detail, trans } = props;
  const run = detail.run.status === 'ready' ? detail.run.value : null;
  return (
    <div className="jp-MlopsLab-runDetails" data-run-id={detail.runId}>
      <div className="jp-MlopsLab-detailsHeader">
        <h3>{run ? runLabel(run) : detail.runId}</h3>
        <ToolbarButtonComponent
          className="jp-MlopsLab-closeDetails"
          icon={closeIcon}
          tooltip={trans.__('Close the details')}
          onClick={props.onClose}
        />
      </div>
      {detail.run.status === 'loading' && (
        <p className="jp-MlopsLab-loading">{trans.__('Loading the run…')}</p>
      )}
      {detail.run.status === 'failed' && (
        <div className="jp-MlopsLab-problem" role="alert">
          {detail.run.message}
        </div>
      )}
      {run && (
        <RunFacts
          run={run}
          trans={trans}
          canOpenSnapshot={props.canOpenSnapshot}
          onOpenSnapshot={props.onOpenSnapshot}
        />
      )}
      {detail.snapshotError && (
        <div
          className="jp-MlopsLab-problem jp-MlopsLab-snapshotError"
          role="alert"
        >
          {detail.snapshotError}
        </div>
      )}
    </div>
  );
}

function RunFacts(props: {
  run: RunDetail;
  trans: TranslationBundle;
  canOpenSnapshot: boolean;
  onOpenSnapshot: () => void;
}): JSX.Element {
  const { run, trans } = props;
  const hasSnapshot = Boolean(run.notebook_artifact);
  return (
    <>
      <div className="jp-MlopsLab-detailsActions">
        {props.canOpenSnapshot && hasSnapshot && (
          <button
            className="jp-mod-styled jp-mod-accept jp-MlopsLab-openSnapshot"
            title={trans.__(
              'Open the notebook as logged with this run, read-only'
            )}
            onClick={props.onOpenSnapshot}
          >
            <notebookIcon.react tag="span" className="jp-MlopsLab-buttonIcon" />
            {trans.__('Open snapshot')}
          </button>
        )}
        {run.mlflow_url && (
          <a
            className="jp-MlopsLab-openMlflow"
            href={run.mlflow_url}
            target="_blank"
            rel="noreferrer"
          >
            {trans.__('Open in MLflow')}
            <launchIcon.react tag="span" className="jp-MlopsLab-buttonIcon" />
          </a>
        )}
      </div>
      <dl className="jp-MlopsLab-facts">
        <dt>{trans.__('Run id')}</dt>
        <dd className="jp-MlopsLab-runId">{run.run_id}</dd>
        <dt>{trans.__('Status')}</dt>
        <dd>{run.status}</dd>
        <dt>{trans.__('Started')}</dt>
        <dd>{formatTime(run.start_time)}</dd>
        {run.end_time !== null && (
          <>
            <dt>{trans.__('Ended')}</dt>
            <dd>{formatTime(run.end_time)}</dd>
          </>
        )}
        {run.user && (
          <>
            <dt>{trans.__('User')}</dt>
            <dd>{run.user}</dd>
          </>
        )}
        <dt>{trans.__('Notebook')}</dt>
        <dd className="jp-MlopsLab-notebookPath">
          {run.notebook_path ?? run.source_name ?? '—'}
        </dd>
        <dt>{trans.__('Git commit')}</dt>
        <dd
          className="jp-MlopsLab-gitCommit"
          title={run.git_commit ?? undefined}
        >
          {run.git_commit ? run.git_commit.slice(0, 12) : '—'}
        </dd>
        <dt>{trans.__('Git branch')}</dt>
        <dd>{run.git_branch ?? '—'}</dd>
        <dt>{trans.__('Uncommitted changes')}</dt>
        <dd className="jp-MlopsLab-gitDirty">
          {run.git_dirty === null
            ? '—'
            : run.git_dirty
              ? trans.__('yes')
              : trans.__('no')}
        </dd>
      </dl>
      <KeyValues
        trans={trans}
        title={trans.__('Params')}
        name="params"
        entries={Object.entries(run.params)}
      />
      <KeyValues
        trans={trans}
        title={trans.__('Metrics')}
        name="metrics"
        entries={Object.entries(run.metrics).map(([k, v]) => [
          k,
          formatMetric(v)
        ])}
      />
      <Datasets datasets={run.datasets} trans={trans} />
      <Models models={run.models} trans={trans} />
      <details className="jp-MlopsLab-tags">
        <summary>{trans.__('Tags (%1)', Object.keys(run.tags).length)}</summary>
        <KeyValues
          trans={trans}
          title=""
          name="tags"
          entries={Object.entries(run.tags)}
        />
      </details>
    </>
  );
}

function KeyValues(props: {
  trans: TranslationBundle;
  title: string;
  name: string;
  entries: [string, string][];
}): JSX.Element | null {
  const entries = [...props.entries].sort(([a], [b]) => a.localeCompare(b));
  return (
    <div className={`jp-MlopsLab-kv jp-MlopsLab-kv-${props.name}`}>
      {props.title && <h4>{props.title}</h4>}
      {entries.length === 0 ? (
        <p className="jp-MlopsLab-placeholder">{props.trans.__('None.')}</p>
      ) : (
        <table>
          <tbody>
            {entries.map(([key, value]) => (
              <tr key={key} data-key={key}>
                <th scope="row">{key}</th>
                <td>{value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Datasets(props: {
  datasets: DatasetInput[];
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  return (
    <div className="jp-MlopsLab-datasets">
      <h4>{trans.__('Datasets')}</h4>
      {props.datasets.length === 0 ? (
        <p className="jp-MlopsLab-placeholder">{trans.__('None logged.')}</p>
      ) : (
        <ul>
          {props.datasets.map((dataset, index) => (
            <li key={`${dataset.name}-${dataset.digest}-${index}`}>
              <span className="jp-MlopsLab-datasetName">{dataset.name}</span>
              {dataset.context && (
                <span className="jp-MlopsLab-datasetContext">
                  {' '}
                  ({dataset.context})
                </span>
              )}
              <div>
                {trans.__('digest')}{' '}
                <code className="jp-MlopsLab-datasetDigest">
                  {dataset.digest}
                </code>
              </div>
              {dataset.source_type && (
                <div
                  className="jp-MlopsLab-datasetSource"
                  title={dataset.source ?? undefined}
                >
                  {trans.__('source: %1', dataset.source_type)}
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * The run's models, each with the size of its files: what keeping the run costs
 * in the artifact store. The name's tooltip is the URI that loads the model.
 */
export function Models(props: {
  models: LoggedModel[];
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  return (
    <div className="jp-MlopsLab-kv jp-MlopsLab-models">
      <h4>{trans.__('Models')}</h4>
      {props.models.length === 0 ? (
        <p className="jp-MlopsLab-placeholder">{trans.__('None logged.')}</p>
      ) : (
        <table>
          <tbody>
            {props.models.map(model => (
              <tr key={model.model_uri} data-model={model.name}>
                <th scope="row" title={model.model_uri}>
                  {model.name}
                  {model.status && model.status !== 'READY' && (
                    <span className="jp-MlopsLab-modelStatus">
                      {' '}
                      ({model.status.toLowerCase()})
                    </span>
                  )}
                </th>
                <td
                  className="jp-MlopsLab-modelSize"
                  title={trans._n('%1 file', '%1 files', model.file_count)}
                >
                  {model.size_bytes === null
                    ? trans.__('size unknown')
                    : formatBytes(model.size_bytes)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
