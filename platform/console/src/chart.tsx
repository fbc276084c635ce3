import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { num } from './ui';

export interface Series {
  label: string;
  points: { x: number; y: number }[];
}

const COLORS = ['#1f5fbf', '#c2410c', '#15803d', '#7e22ce', '#b91c1c', '#0e7490', '#a16207', '#4d4d4d'];

/**
 * Several series on one uPlot chart over a shared x axis (the union of their x values; a series
 * without a point at some x has a gap there), with the same data as a table below it for
 * screen readers and for reading exact values.
 */
export function LineChart({ title, series, xLabel }: { title: string; series: Series[]; xLabel: string }) {
  const box = useRef<HTMLDivElement>(null);
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const ys = series.map((s) => {
    const at = new Map(s.points.map((p) => [p.x, p.y]));
    return xs.map((x) => at.get(x) ?? null);
  });
  useEffect(() => {
    if (!box.current) return undefined;
    const plot = new uPlot(
      {
        title,
        width: Math.max(320, box.current.clientWidth || 720),
        height: 280,
        scales: { x: { time: false } },
        // Steps are whole numbers: no ticks between them.
        axes: [{ label: xLabel, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000] }, {}],
        series: [{ label: xLabel }, ...series.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true, points: { show: xs.length < 60 } }))],
      },
      [xs, ...ys] as uPlot.AlignedData,
      box.current,
    );
    return () => plot.destroy();
  }, [title, xLabel, JSON.stringify(series)]);
  return (
    <figure class="chart">
      <div ref={box} role="img" aria-label={`${title}: ${series.map((s) => `${s.label}, ${s.points.length} points`).join('; ')}`} />
      <details>
        <summary>{title}: the data as a table</summary>
        <table class="chart-data">
          <caption>{title}</caption>
          <thead>
            <tr>
              <th scope="col">{xLabel}</th>
              {series.map((s) => (
                <th scope="col">{s.label}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {xs.map((x, row) => (
              <tr>
                <th scope="row">{x}</th>
                {ys.map((y) => (
                  <td>{num(y[row] ?? undefined)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
