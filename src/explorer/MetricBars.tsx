/**
 * One bar chart per chosen metric for the compared runs, drawn in plain SVG:
 * a bar per run with the server's label ("name (8-char id)") and its value
 * written next to it, so runs are told apart without hovering.
 */
import React from 'react';
import type { TranslationBundle } from '@jupyterlab/translation';

import type { Comparison } from '../api/types';
import { metricByRun } from '../runs/chartData';
import { formatMetric } from '../runs/format';

const BAR = 18;
const GAP = 6;
const LABEL_WIDTH = 190;
const VALUE_WIDTH = 70;
const WIDTH = 520;

export interface IMetricBarsProps {
  comparison: Comparison;
  /** The metrics to chart, one chart each. */
  metrics: string[];
  trans: TranslationBundle;
}

export function MetricBars(props: IMetricBarsProps): JSX.Element {
  const { comparison, trans } = props;
  return (
    <div className="jp-MlopsLab-metricBars">
      {props.metrics.map(metric => {
        const bars = metricByRun(comparison, metric);
        if (bars.length === 0) {
          return null;
        }
        // Bars start at zero unless a value is negative.
        const low = Math.min(0, ...bars.map(b => b.value));
        const high = Math.max(0, ...bars.map(b => b.value));
        const span = high - low || 1;
        const plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
        const x = (v: number): number =>
          LABEL_WIDTH + ((v - low) / span) * plot;
        const height = bars.length * (BAR + GAP) + GAP;
        return (
          <figure
            key={metric}
            className="jp-MlopsLab-metricBarChart"
            data-metric={metric}
          >
            <figcaption>{metric}</figcaption>
            <svg
              role="img"
              aria-label={trans.__('%1 by run', metric)}
              viewBox={`0 0 ${WIDTH} ${height}`}
              width={WIDTH}
              height={height}
            >
              {bars.map((bar, i) => {
                const y = GAP + i * (BAR + GAP);
                const from = x(Math.min(0, bar.value));
                const to = x(Math.max(0, bar.value));
                return (
                  <g key={bar.runId} data-run-id={bar.runId}>
                    <title>{`${bar.label}: ${formatMetric(bar.value)}`}</title>
                    <text
                      className="jp-MlopsLab-barLabel"
                      x={LABEL_WIDTH - 6}
                      y={y + BAR / 2}
                      textAnchor="end"
                      dominantBaseline="middle"
                    >
                      {bar.label}
                    </text>
                    <rect
                      className="jp-MlopsLab-bar"
                      x={from}
                      y={y}
                      width={Math.max(1, to - from)}
                      height={BAR}
                    />
                    <text
                      className="jp-MlopsLab-barValue"
                      x={to + 4}
                      y={y + BAR / 2}
                      dominantBaseline="middle"
                    >
                      {formatMetric(bar.value)}
                    </text>
                  </g>
                );
              })}
            </svg>
          </figure>
        );
      })}
    </div>
  );
}
