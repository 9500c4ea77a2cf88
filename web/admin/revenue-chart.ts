/**
 * The revenue / paid-orders-per-day chart: echarts, tree-shaken to a bar and a line on a
 * canvas. OverviewView imports this module lazily: it is most of the console's bytes.
 */
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { init, use } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import type { DayStats } from './admin-api.js';

use([BarChart, LineChart, GridComponent, TooltipComponent, LegendComponent, CanvasRenderer]);

export interface ChartLabels {
  paidFen: string;
  refundedFen: string;
  paidCount: string;
}

export interface RevenueChart {
  update(days: DayStats[], labels: ChartLabels): void;
  dispose(): void;
}

export function mountRevenueChart(element: HTMLElement): RevenueChart {
  const chart = init(element, undefined, { renderer: 'canvas' });
  const resize = () => chart.resize();
  window.addEventListener('resize', resize);
  return {
    update(days, labels) {
      // Fen → yuan only for display; the sums were integer fen on the server.
      const toYuan = (fen: number) => fen / 100;
      chart.setOption({
        animation: false,
        tooltip: { trigger: 'axis' },
        legend: { top: 0, data: [labels.paidFen, labels.refundedFen, labels.paidCount] },
        grid: { left: 56, right: 48, top: 56, bottom: 32 },
        xAxis: { type: 'category', data: days.map((d) => d.date.slice(5)) },
        yAxis: [
          { type: 'value', name: '¥' },
          { type: 'value', name: '#', minInterval: 1 },
        ],
        series: [
          {
            name: labels.paidFen,
            type: 'bar',
            data: days.map((d) => toYuan(d.paidFen)),
            itemStyle: { color: '#07c160' },
          },
          {
            name: labels.refundedFen,
            type: 'bar',
            data: days.map((d) => toYuan(d.refundedFen)),
            itemStyle: { color: '#fa9d3b' },
          },
          {
            name: labels.paidCount,
            type: 'line',
            yAxisIndex: 1,
            data: days.map((d) => d.paidCount),
            itemStyle: { color: '#576b95' },
          },
        ],
      });
    },
    dispose() {
      window.removeEventListener('resize', resize);
      chart.dispose();
    },
  };
}
