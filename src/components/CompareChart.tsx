/**
 * The comparison of the selected runs, as the server made it: one metric by run
 * (bars with their values), one metric against one param (points), or one
 * metric over its logged steps (a line per run, from the server's histories). Drawn with
 * Chart.js on a canvas in the theme's colours, redrawn when the theme changes; a
 * visually hidden table carries the same labels and values for screen readers.
 */
import React, { useEffect, useMemo, useRef, useState } from 'react';
import type { IThemeManager } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { HTMLSelect } from '@jupyterlab/ui-components';
import type { ChartConfiguration, Plugin } from 'chart.js';

import type { Comparison, RunSummary } from '../api/types';
import {
  historyMetrics,
  IBar,
  ILine,
  IScatter,
  metricAgainstParam,
  metricByRun,
  metricHistory,
  rowNames
} from '../runs/chartData';
import { formatMetric } from '../runs/format';
import type { Loadable } from '../runs/model';
import { KeySelect } from './KeySelect';

export type ChartMode = 'by-run' | 'against-param' | 'history';

const MODES: ChartMode[] = ['by-run', 'against-param', 'history'];

export interface ICompareChartProps {
  /** The runs picked, in the order they were picked. */
  selected: RunSummary[];
  /** The server's comparison of them (idle with fewer than two). */
  comparison: Loadable<Comparison>;
  trans: TranslationBundle;
  themeManager: IThemeManager | null;
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
        module.Legend,
        module.LinearScale,
        module.LineController,
        module.LineElement,
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
function useThemeVersion(themeManager: IThemeManager | null): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    if (!themeManager) {
      return;
    }
    const onChanged = (): void => setVersion(v => v + 1);
    themeManager.themeChanged.connect(onChanged);
    return () => {
      themeManager.themeChanged.disconnect(onChanged);
    };
  }, [themeManager]);
  return version;
}

export function CompareChart(props: ICompareChartProps): JSX.Element {
  const { trans, comparison } = props;
  const count = props.selected.length;
  const value =
    comparison.status === 'ready'
      ? comparison.value
      : comparison.status === 'loading'
        ? (comparison.previous ?? null)
        : null;
  return (
    <div
      className="jp-MlopsLab-compare"
      aria-busy={comparison.status === 'loading'}
    >
      <div className="jp-MlopsLab-compareHeader">
        <h3>{trans._n('Compare %1 run', 'Compare %1 runs', count)}</h3>
        <button
          className="jp-MlopsLab-linkButton jp-MlopsLab-clearSelection"
          onClick={props.onClear}
        >
          {trans.__('Clear')}
        </button>
      </div>
      {count < 2 && (
        <p className="jp-MlopsLab-placeholder">
          {trans.__('Select another run to compare.')}
        </p>
      )}
      {comparison.status === 'failed' && (
        <div className="jp-MlopsLab-problem" role="alert">
          {comparison.message}
        </div>
      )}
      {count >= 2 && comparison.status === 'loading' && !value && (
        <p className="jp-MlopsLab-loading">{trans.__('Comparing the runs…')}</p>
      )}
      {count >= 2 && value && (
        <ComparisonView
          comparison={value}
          trans={trans}
          themeManager={props.themeManager}
        />
      )}
    </div>
  );
}

function ComparisonView(props: {
  comparison: Comparison;
  trans: TranslationBundle;
  themeManager: IThemeManager | null;
}): JSX.Element {
  const { comparison, trans } = props;
  const [mode, setMode] = useState<ChartMode>('by-run');
  const histories = useMemo(() => historyMetrics(comparison), [comparison]);
  const latest = useMemo(() => rowNames(comparison, 'metric'), [comparison]);
  const metrics = mode === 'history' ? histories : latest;
  const params = useMemo(() => rowNames(comparison, 'param'), [comparison]);
  const [metric, setMetric] = useState<string>('');
  const [param, setParam] = useState<string>('');

  const chosenMetric = metrics.includes(metric) ? metric : (metrics[0] ?? '');
  const chosenParam = params.includes(param) ? param : (params[0] ?? '');

  const bars = useMemo(
    () => (chosenMetric ? metricByRun(comparison, chosenMetric) : []),
    [comparison, chosenMetric]
  );
  const scatter = useMemo(
    () =>
      chosenMetric && chosenParam
        ? metricAgainstParam(comparison, chosenMetric, chosenParam)
        : { points: [], categories: [] },
    [comparison, chosenMetric, chosenParam]
  );
  const lines = useMemo(
    () =>
      mode === 'history' && chosenMetric
        ? metricHistory(comparison, chosenMetric)
        : [],
    [comparison, chosenMetric, mode]
  );
  const count =
    mode === 'by-run'
      ? bars.length
      : mode === 'history'
        ? lines.length
        : scatter.points.length;

  return (
    <>
      <div className="jp-MlopsLab-compareControls">
        <HTMLSelect
          className="jp-MlopsLab-chartMode"
          aria-label={trans.__('Chart')}
          value={mode}
          onChange={event =>
            setMode(
              MODES.find(m => m === event.currentTarget.value) ?? 'by-run'
            )
          }
        >
          <option value="by-run">{trans.__('Metric by run')}</option>
          <option value="against-param">
            {trans.__('Metric against a param')}
          </option>
          {histories.length > 0 && (
            <option value="history">{trans.__('Metric over steps')}</option>
          )}
        </HTMLSelect>
        <KeySelect
          className="jp-MlopsLab-chartMetric"
          label={trans.__('Metric')}
          value={chosenMetric}
          keys={metrics}
          onChange={setMetric}
        />
        {mode === 'against-param' && (
          <KeySelect
            className="jp-MlopsLab-chartParam"
            label={trans.__('Param')}
            value={chosenParam}
            keys={params}
            onChange={setParam}
          />
        )}
      </div>
      {count === 0 ? (
        <p className="jp-MlopsLab-placeholder">
          {mode === 'against-param'
            ? trans.__(
                'None of the selected runs has both this metric and this param.'
              )
            : trans.__('None of the selected runs has this metric.')}
        </p>
      ) : (
        <ChartCanvas
          mode={mode}
          metric={chosenMetric}
          param={chosenParam}
          bars={bars}
          scatter={scatter}
          lines={lines}
          trans={trans}
          themeManager={props.themeManager}
        />
      )}
    </>
  );
}

interface IChartCanvasProps {
  mode: ChartMode;
  metric: string;
  param: string;
  bars: IBar[];
  scatter: IScatter;
  lines: ILine[];
  trans: TranslationBundle;
  themeManager: IThemeManager | null;
}

/** The canvas Chart.js draws on; the chart is rebuilt when the data changes. */
function ChartCanvas(props: IChartCanvasProps): JSX.Element {
  const container = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);

  const { trans } = props;
  const theme = useThemeVersion(props.themeManager);
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
          setFailure(
            trans.__('The chart could not be drawn: %1', String(reason))
          );
        }
      });
    return () => {
      cancelled = true;
      chart?.destroy();
    };
  }, [
    props.mode,
    props.metric,
    props.param,
    props.bars,
    props.scatter,
    props.lines,
    theme
  ]);

  const rows =
    props.mode === 'by-run'
      ? props.bars.map(bar => ({
          key: bar.runId,
          label: bar.label,
          x: '',
          y: bar.value
        }))
      : props.mode === 'history'
        ? props.lines.flatMap(line =>
            line.points.map(point => ({
              key: `${line.runId}@${point.x}`,
              label: line.label,
              x: String(point.x),
              y: point.y
            }))
          )
        : props.scatter.points.map(point => ({
            key: point.runId,
            label: point.label,
            x: point.param,
            y: point.y
          }));
  const xHeader =
    props.mode === 'history'
      ? trans.__('step')
      : props.mode === 'against-param'
        ? props.param
        : null;

  return (
    <div
      ref={container}
      className="jp-MlopsLab-compareChart"
      data-mode={props.mode}
      data-count={props.mode === 'history' ? props.lines.length : rows.length}
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
              ? trans.__('%1 by run', props.metric)
              : props.mode === 'history'
                ? trans.__('%1 over steps', props.metric)
                : trans.__('%1 against %2', props.metric, props.param)
          }
        />
      </div>
      <table className="jp-MlopsLab-chartData jp-MlopsLab-visuallyHidden">
        <thead>
          <tr>
            <th>{trans.__('Run')}</th>
            {xHeader !== null && <th>{xHeader}</th>}
            <th>{props.metric}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(row => (
            <tr key={row.key}>
              <td>{row.label}</td>
              {xHeader !== null && <td>{row.x}</td>}
              <td>{formatMetric(row.y)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface IThemeColours {
  /** One colour per line of "metric over steps", cycled. */
  series: string[];
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
    series: [
      read('--jp-brand-color1', '#1976d2'),
      read('--jp-warn-color1', '#f57c00'),
      read('--jp-success-color1', '#388e3c'),
      read('--jp-error-color1', '#d32f2f'),
      read('--jp-accent-color1', '#7b1fa2'),
      read('--jp-info-color1', '#0097a7')
    ],
    accent: read('--jp-brand-color1', '#1976d2'),
    accentFill: read('--jp-brand-color2', '#64b5f6'),
    text: read('--jp-ui-font-color1', '#000'),
    muted: read('--jp-ui-font-color2', '#666'),
    grid: read('--jp-border-color2', '#ddd'),
    font: read('--jp-ui-font-family', 'sans-serif')
  };
}

/**
 * Writes each bar's value above it, so the numbers are read without hovering.
 */
function valueLabels(colours: IThemeColours): Plugin<'bar'> {
  return {
    id: 'mlopsLabValueLabels',
    afterDatasetsDraw(chart) {
      const { ctx } = chart;
      chart.data.datasets.forEach((dataset, datasetIndex) => {
        chart.getDatasetMeta(datasetIndex).data.forEach((element, index) => {
          const value = dataset.data[index];
          if (typeof value !== 'number') {
            return;
          }
          ctx.save();
          ctx.fillStyle = colours.text;
          ctx.font = `11px ${colours.font}`;
          ctx.textAlign = 'center';
          ctx.textBaseline = 'bottom';
          ctx.fillText(formatMetric(value), element.x, element.y - 2);
          ctx.restore();
        });
      });
    }
  };
}

function chartConfig(
  props: IChartCanvasProps,
  colours: IThemeColours
): ChartConfiguration<
  'bar' | 'scatter' | 'line',
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
    const bars = props.bars;
    return {
      type: 'bar',
      plugins: [valueLabels(colours) as Plugin<'bar' | 'scatter'>],
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
        layout: { padding: { top: 16 } },
        plugins: {
          ...common.plugins,
          tooltip: {
            callbacks: {
              label: item => {
                const bar = bars[item.dataIndex];
                return bar
                  ? `${props.metric} = ${formatMetric(bar.value)}`
                  : '';
              }
            }
          }
        },
        scales: { x: axis(props.trans.__('run')), y: axis(props.metric) }
      }
    };
  }
  if (props.mode === 'history') {
    return {
      type: 'line',
      data: {
        datasets: props.lines.map((line, index) => {
          const colour = colours.series[index % colours.series.length];
          return {
            label: line.label,
            data: line.points,
            borderColor: colour,
            backgroundColor: colour,
            pointRadius: 3,
            tension: 0
          };
        })
      },
      options: {
        ...common,
        plugins: {
          legend: {
            display: true,
            position: 'bottom',
            labels: { color: colours.text, boxWidth: 12 }
          }
        },
        scales: {
          x: { ...axis(props.trans.__('step')), type: 'linear' },
          y: axis(props.metric)
        }
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
