/** A few Prometheus counters, rendered in the text exposition format at /metrics. */
import type { PaymentsMetrics } from '../payments/index.js';

const HELP: Record<string, string> = {
  minipay_http_requests_total: 'HTTP requests answered, by method, route and status',
  minipay_logins_total: 'Successful mini program logins',
  minipay_orders_created_total: 'Orders created',
  minipay_orders_paid_total: 'Orders that became PAID, by how we learned it',
  minipay_orders_failed_total: 'Orders whose prepay WeChat refused',
  minipay_orders_closed_total: 'Orders closed, by reason',
  minipay_notifies_total: 'Payment notifications, by result',
  minipay_gateway_calls_total: 'Calls to WeChat Pay, by operation and outcome',
  minipay_payment_params_issued_total: 'requestPayment parameters re-issued',
  minipay_job_runs_total: 'Background job runs, by job and outcome',
  minipay_refunds_total: 'Refund requests sent to WeChat, by outcome',
  minipay_refunds_settled_total: 'Refunds settled, by WeChat status',
  minipay_refund_notifies_total: 'Refund notifications, by result',
  minipay_webhook_deliveries_total: 'Webhook delivery attempts, by resulting status',
  minipay_wechatpay_failovers_total:
    'Requests to WeChat Pay or the mini program API sent again to the other domain after a failed exchange, by path and reason',
  minipay_wechatpay_unverified_total:
    'Answers of WeChat Pay that failed their signature check, by operation and code',
  minipay_admin_actions_total: 'Admin console actions, by action',
};

export class Metrics implements PaymentsMetrics {
  private readonly counters = new Map<string, Map<string, number>>();

  inc(name: string, labels: Record<string, string> = {}): void {
    const series = this.counters.get(name) ?? new Map<string, number>();
    this.counters.set(name, series);
    const key = labelKey(labels);
    series.set(key, (series.get(key) ?? 0) + 1);
  }

  value(name: string, labels: Record<string, string> = {}): number {
    const key = labelKey(labels);
    return this.counters.get(name)?.get(key) ?? 0;
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, series] of [...this.counters].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`# HELP ${name} ${HELP[name] ?? name}`, `# TYPE ${name} counter`);
      for (const [labels, v] of series) lines.push(`${name}${labels ? `{${labels}}` : ''} ${v}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

/** The series' labels in a stable order (by name, code unit order), escaped for the format. */
function labelKey(labels: Record<string, string>): string {
  const names = Object.keys(labels);
  if (names.length > 1) names.sort();
  let key = '';
  for (const name of names) {
    key += `${key === '' ? '' : ','}${name}="${escapeLabel(labels[name]!)}"`;
  }
  return key;
}

const NEEDS_ESCAPE = /[\\"\n]/;

function escapeLabel(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
