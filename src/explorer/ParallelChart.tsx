/**
 * Parallel coordinates in plain SVG: a sweep's params against one metric, a line
 * per compared run across axes scaled each on its own (see `runs/parallel.ts`),
 * the run's label and metric value at the line's end.
 */
import React, { useState } from 'react';
import type { TranslationBundle } from '@jupyterlab/translation';

import type { Comparison } from '../api/types';
import { rowNames } from '../runs/chartData';
import { parallelCoordinates, sweptParams } from '../runs/parallel';
import { KeySelect } from '../components/KeySelect';

const WIDTH = 640;
const HEIGHT = 240;
const TOP = 28;
const BOTTOM = 28;
const LEFT = 40;
const RIGHT = 200;

export interface IParallelChartProps {
  comparison: Comparison;
  trans: TranslationBundle;
}

export function ParallelChart(props: IParallelChartProps): JSX.Element | null {
  const { comparison, trans } = props;
  const metrics = rowNames(comparison, 'metric');
  const params = sweptParams(comparison);
  const [metric, setMetric] = useState('');
  const chosen = metrics.includes(metric) ? metric : (metrics[0] ?? '');
  if (!chosen || params.length === 0) {
    return null;
  }
  const data = parallelCoordinates(comparison, params, chosen);
  const count = data.axes.length;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const axisX = (i: number): number =>
    LEFT + (count === 1 ? plotWidth / 2 : (i * plotWidth) / (count - 1));
  const y = (position: number): number =>
    TOP + (1 - position) * (HEIGHT - TOP - BOTTOM);

  return (
    <figure className="jp-MlopsLab-parallel">
      <figcaption>
        {trans.__('Swept params against')}{' '}
        <KeySelect
          className="jp-MlopsLab-parallelMetric"
          label={trans.__('Metric of the parallel coordinates')}
          value={chosen}
          keys={metrics}
          onChange={setMetric}
        />
      </figcaption>
      <svg
        role="img"
        aria-label={trans.__(
          'Parallel coordinates of %1 against %2',
          params.join(', '),
          chosen
        )}
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width={WIDTH}
        height={HEIGHT}
      >
        {/* Lines first, so the axes and their ticks stay readable on top. */}
        {data.lines.map((line, k) => {
          const points = line.positions
            .map((p, i) => (p === null ? null : `${axisX(i)},${y(p)}`))
            .filter((p): p is string => p !== null);
          const last = line.positions[line.positions.length - 1];
          return (
            <g
              key={line.runId}
              className={`jp-MlopsLab-parallelLine jp-MlopsLab-series-${k % 6}`}
              data-run-id={line.runId}
            >
              <title>{`${line.label}: ${chosen} ${line.metricText}`}</title>
              <polyline points={points.join(' ')} fill="none" />
              {last !== null && (
                <text
                  className="jp-MlopsLab-parallelLabel"
                  x={axisX(count - 1) + 8}
                  y={y(last)}
                  dominantBaseline="middle"
                >
                  {`${line.label} · ${line.metricText}`}
                </text>
              )}
            </g>
          );
        })}
        {data.axes.map((axis, i) => (
          <g
            key={`${axis.kind}.${axis.name}`}
            className="jp-MlopsLab-parallelAxis"
            data-axis={`${axis.kind}.${axis.name}`}
          >
            <line x1={axisX(i)} x2={axisX(i)} y1={y(0)} y2={y(1)} />
            <text x={axisX(i)} y={TOP - 12} textAnchor="middle">
              {axis.name}
            </text>
            {axis.ticks.map(tick => (
              <text
                key={tick.label}
                className="jp-MlopsLab-parallelTick"
                x={axisX(i) - 4}
                y={y(tick.position)}
                textAnchor="end"
                dominantBaseline="middle"
              >
                {tick.label}
              </text>
            ))}
          </g>
        ))}
      </svg>
    </figure>
  );
}
