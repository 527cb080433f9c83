/**
 * The compare chart of the selected runs: one metric by run (bars), or one
 * metric against one param (points). Drawn with Chart.js on a canvas, in the
 * theme's colours; a visually hidden table carries the same numbers for screen
 * readers (and tests).
 */
import React, { useEffect, useMemo, useRef, useState } from 'react';
import { HTMLSelect } from '@jupyterlab/ui-components';
import type { ChartConfiguration } from 'chart.js';

import type { RunSummary } from '../api/types';
import {
  IBar,
  IScatter,
  keysOf,
  metricAgainstParam,
  metricByRun
} from '../runs/chartData';
import { formatMetric } from '../runs/format';

export type ChartMode = 'by-run' | 'against-param';

export interface ICompareChartProps {
  runs: RunSummary[];
  onClear: () => void;
}

type ChartJs = typeof import('chart.js');

let chartJs: Promise<ChartJs> | null = null;

/**
 * Chart.js, fetched the first time a chart is drawn (not when JupyterLab
 * starts), with only the parts we draw with registered.
 */
function loadChartJs(): Promise<ChartJs> {
  if (!chartJs) {
    chartJs = import('chart.js').then(module => {
      module.Chart.register(
        module.BarController,
        module.BarElement,
        module.CategoryScale,
        module.LinearScale,
        module.PointElement,
        module.ScatterController,
        module.Tooltip
      );
      return module;
    });
  }
  return chartJs;
}

/** A number that changes whenever JupyterLab switches themes. */
function useThemeVersion(): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const observer = new MutationObserver(() => setVersion(v => v + 1));
    observer.observe(document.body, {
      attributes: true,
      attributeFilter: ['data-jp-theme-name', 'data-jp-theme-light']
    });
    return () => observer.disconnect();
  }, []);
  return version;
}

export function CompareChart(props: ICompareChartProps): JSX.Element {
  const { runs } = props;
  const metrics = useMemo(() => keysOf(runs, 'metrics'), [runs]);
  const params = useMemo(() => keysOf(runs, 'params'), [runs]);
  const [mode, setMode] = useState<ChartMode>('by-run');
  const [metric, setMetric] = useState<string>('');
  const [param, setParam] = useState<string>('');

  const chosenMetric = metrics.includes(metric) ? metric : (metrics[0] ?? '');
  const chosenParam = params.includes(param) ? param : (params[0] ?? '');

  const bars = useMemo(
    () => (chosenMetric ? metricByRun(runs, chosenMetric) : []),
    [runs, chosenMetric]
  );
  const scatter = useMemo(
    () =>
      chosenMetric && chosenParam
        ? metricAgainstParam(runs, chosenMetric, chosenParam)
        : { points: [], categories: [] },
    [runs, chosenMetric, chosenParam]
  );
  const count = mode === 'by-run' ? bars.length : scatter.points.length;

  return (
    <div className="jp-MlopsLab-compare">
      <div className="jp-MlopsLab-compareHeader">
        <h3>Compare {runs.length} runs</h3>
        <button
          className="jp-MlopsLab-linkButton jp-MlopsLab-clearSelection"
          onClick={props.onClear}
        >
          Clear
        </button>
      </div>
      <div className="jp-MlopsLab-compareControls">
        <HTMLSelect
          className="jp-MlopsLab-chartMode"
          aria-label="Chart"
          value={mode}
          onChange={event =>
            setMode(
              event.currentTarget.value === 'by-run'
                ? 'by-run'
                : 'against-param'
            )
          }
        >
          <option value="by-run">Metric by run</option>
          <option value="against-param">Metric against a param</option>
        </HTMLSelect>
        <HTMLSelect
          className="jp-MlopsLab-chartMetric"
          aria-label="Metric"
          value={chosenMetric}
          onChange={event => setMetric(event.currentTarget.value)}
        >
          {metrics.map(key => (
            <option key={key} value={key}>
              {key}
            </option>
          ))}
        </HTMLSelect>
        {mode === 'against-param' && (
          <HTMLSelect
            className="jp-MlopsLab-chartParam"
            aria-label="Param"
            value={chosenParam}
            onChange={event => setParam(event.currentTarget.value)}
          >
            {params.map(key => (
              <option key={key} value={key}>
                {key}
              </option>
            ))}
          </HTMLSelect>
        )}
      </div>
      {count === 0 ? (
        <p className="jp-MlopsLab-placeholder">
          {mode === 'by-run'
            ? 'None of the selected runs has this metric.'
            : 'None of the selected runs has both this metric and this param.'}
        </p>
      ) : (
        <ChartCanvas
          mode={mode}
          metric={chosenMetric}
          param={chosenParam}
          bars={bars}
          scatter={scatter}
        />
      )}
    </div>
  );
}

interface IChartCanvasProps {
  mode: ChartMode;
  metric: string;
  param: string;
  bars: IBar[];
  scatter: IScatter;
}

/** The canvas Chart.js draws on; the chart is rebuilt when the data changes. */
function ChartCanvas(props: IChartCanvasProps): JSX.Element {
  const container = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);

  const theme = useThemeVersion();
  const [failure, setFailure] = useState<string | null>(null);

  useEffect(() => {
    let chart: { destroy(): void } | null = null;
    let cancelled = false;
    loadChartJs()
      .then(({ Chart }) => {
        if (cancelled || !canvas.current || !container.current) {
          return;
        }
        chart = new Chart(
          canvas.current,
          chartConfig(props, themeColours(container.current))
        );
        setFailure(null);
      })
      .catch((reason: unknown) => {
        if (!cancelled) {
          setFailure(`The chart could not be drawn: ${String(reason)}`);
        }
      });
    return () => {
      cancelled = true;
      chart?.destroy();
    };
  }, [props.mode, props.metric, props.param, props.bars, props.scatter, theme]);

  const rows =
    props.mode === 'by-run'
      ? props.bars.map(bar => ({
          key: bar.runId,
          label: bar.label,
          x: '',
          y: bar.value
        }))
      : props.scatter.points.map(point => ({
          key: point.runId,
          label: point.label,
          x: point.param,
          y: point.y
        }));

  return (
    <div
      ref={container}
      className="jp-MlopsLab-compareChart"
      data-mode={props.mode}
      data-count={rows.length}
    >
      {failure && (
        <div className="jp-MlopsLab-problem" role="alert">
          {failure}
        </div>
      )}
      <div className="jp-MlopsLab-chartBox">
        <canvas
          ref={canvas}
          role="img"
          aria-label={
            props.mode === 'by-run'
              ? `${props.metric} by run`
              : `${props.metric} against ${props.param}`
          }
        />
      </div>
      <table className="jp-MlopsLab-chartData jp-MlopsLab-visuallyHidden">
        <thead>
          <tr>
            <th>Run</th>
            {props.mode === 'against-param' && <th>{props.param}</th>}
            <th>{props.metric}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(row => (
            <tr key={row.key}>
              <td>{row.label}</td>
              {props.mode === 'against-param' && <td>{row.x}</td>}
              <td>{formatMetric(row.y)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface IThemeColours {
  accent: string;
  accentFill: string;
  text: string;
  muted: string;
  grid: string;
  font: string;
}

/** The theme's colours, read from its CSS variables where the chart is. */
function themeColours(element: HTMLElement): IThemeColours {
  const style = getComputedStyle(element);
  const read = (name: string, fallback: string): string =>
    style.getPropertyValue(name).trim() || fallback;
  return {
    accent: read('--jp-brand-color1', '#1976d2'),
    accentFill: read('--jp-brand-color2', '#64b5f6'),
    text: read('--jp-ui-font-color1', '#000'),
    muted: read('--jp-ui-font-color2', '#666'),
    grid: read('--jp-border-color2', '#ddd'),
    font: read('--jp-ui-font-family', 'sans-serif')
  };
}

function chartConfig(
  props: IChartCanvasProps,
  colours: IThemeColours
): ChartConfiguration<
  'bar' | 'scatter',
  number[] | { x: number; y: number }[],
  string
> {
  const axis = (title: string) => ({
    title: { display: true, text: title, color: colours.muted },
    ticks: { color: colours.muted },
    grid: { color: colours.grid },
    border: { color: colours.grid }
  });
  const common = {
    responsive: true,
    maintainAspectRatio: false,
    animation: false as const,
    font: { family: colours.font },
    plugins: { legend: { display: false } }
  };
  if (props.mode === 'by-run') {
    return {
      type: 'bar',
      data: {
        labels: props.bars.map(bar => bar.label),
        datasets: [
          {
            label: props.metric,
            data: props.bars.map(bar => bar.value),
            backgroundColor: colours.accentFill,
            borderColor: colours.accent,
            borderWidth: 1
          }
        ]
      },
      options: {
        ...common,
        scales: { x: axis('run'), y: axis(props.metric) }
      }
    };
  }
  const { points, categories } = props.scatter;
  const xAxis = axis(props.param);
  return {
    type: 'scatter',
    data: {
      datasets: [
        {
          label: props.metric,
          data: points.map(point => ({ x: point.x, y: point.y })),
          backgroundColor: colours.accentFill,
          borderColor: colours.accent,
          pointRadius: 5,
          pointHoverRadius: 7
        }
      ]
    },
    options: {
      ...common,
      plugins: {
        ...common.plugins,
        tooltip: {
          callbacks: {
            label: item => {
              const point = points[item.dataIndex];
              return point
                ? `${point.label}: ${props.param}=${point.param}, ${props.metric}=${formatMetric(point.y)}`
                : '';
            }
          }
        }
      },
      scales: {
        x: {
          ...xAxis,
          type: 'linear',
          ticks:
            categories.length > 0
              ? {
                  color: colours.muted,
                  stepSize: 1,
                  callback: (value: number | string) =>
                    categories[Number(value)] ?? ''
                }
              : { color: colours.muted }
        },
        y: axis(props.metric)
      }
    }
  };
}
