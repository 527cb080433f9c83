/**
 * The sidebar's compact list of notebook runs: name, status and one chosen
 * metric, sized for the sidebar's default width. The page it is given holds no
 * model or candidate runs (its model asks the server for `TOP_LEVEL_FILTER`);
 * a run opens in the Runs explorer, where its model runs are nested under it
 * and the wide table, the columns, the details and the comparison live.
 */
import React, { useState } from 'react';
import type { TranslationBundle } from '@jupyterlab/translation';

import type { RunsPage } from '../api/types';
import { formatMetric, runLabel } from '../runs/format';
import { KeySelect } from './KeySelect';

export interface IRecentRunsProps {
  page: RunsPage;
  trans: TranslationBundle;
  /** Opens a run in the explorer, its details shown. */
  onOpenRun: (runId: string) => void;
}

export function RecentRuns(props: IRecentRunsProps): JSX.Element {
  const { page, trans } = props;
  const [metric, setMetric] = useState('');
  const chosen = page.metric_keys.includes(metric)
    ? metric
    : (page.metric_keys[0] ?? '');
  return (
    <div className="jp-MlopsLab-recentRuns">
      {page.metric_keys.length > 0 && (
        <label className="jp-MlopsLab-recentMetric">
          <span className="jp-MlopsLab-label">{trans.__('Metric')}</span>
          <KeySelect
            label={trans.__('Metric shown in the list')}
            value={chosen}
            keys={page.metric_keys}
            onChange={setMetric}
          />
        </label>
      )}
      <ul
        className={
          'jp-MlopsLab-recentList' +
          // No metric to show (the notebook runs logged none): the name takes
          // the value's room.
          (chosen ? '' : ' jp-MlopsLab-recentList-noMetric')
        }
      >
        {page.runs.map(run => {
          const label = runLabel(run);
          const value = chosen ? run.metrics[chosen] : undefined;
          return (
            <li
              key={run.run_id}
              className="jp-MlopsLab-recentRun"
              data-run-id={run.run_id}
            >
              <button
                className="jp-MlopsLab-linkButton jp-MlopsLab-recentName"
                title={trans.__('Open %1 in the Runs explorer', label)}
                onClick={() => props.onOpenRun(run.run_id)}
              >
                {label}
              </button>
              <span
                className={`jp-MlopsLab-status jp-MlopsLab-status-${run.status.toLowerCase()}`}
              >
                {run.status}
              </span>
              {chosen && (
                <span
                  className="jp-MlopsLab-recentValue"
                  data-column={`metrics.${chosen}`}
                  title={
                    value !== undefined && value !== null
                      ? `${chosen} = ${value}`
                      : undefined
                  }
                >
                  {formatMetric(value)}
                </span>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
