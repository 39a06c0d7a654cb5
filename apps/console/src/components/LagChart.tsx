import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { LagSample, ratesOf } from '../lib/history';

/** Lag (left axis) and records in/read per second (right axis) over the sampled history. */
export function LagChart({ samples }: { samples: LagSample[] }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const { inRate, outRate } = ratesOf(samples);
    const data: uPlot.AlignedData = [
      samples.map((s) => s.at / 1000),
      samples.map((s) => s.lag),
      inRate,
      outRate,
    ];
    const chart = new uPlot(
      {
        width: Math.max(320, el.clientWidth),
        height: 220,
        scales: { x: { time: true }, lag: { auto: true }, rate: { auto: true } },
        axes: [
          {},
          { scale: 'lag', label: 'lag (records)' },
          { scale: 'rate', side: 1, label: 'records/s', grid: { show: false } },
        ],
        series: [
          {},
          { label: 'lag', scale: 'lag', stroke: '#c0392b', width: 2 },
          { label: 'in/s', scale: 'rate', stroke: '#2c7be5', width: 1 },
          { label: 'read/s', scale: 'rate', stroke: '#27ae60', width: 1 },
        ],
      },
      data,
      el,
    );
    return () => chart.destroy();
  }, [samples]);
  return <div ref={ref} className="chart" data-testid="lag-chart" />;
}
