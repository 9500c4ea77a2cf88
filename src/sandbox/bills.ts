/**
 * `POST /pay/downloadbill`: the day's trades and refunds, from what happened in this sandbox.
 * Waits for the protocol layer's `formatBill` (issue 2); until then every day reads
 * "No Bill Exist".
 */
import type { SandboxCore } from './core.js';
import { refuse, type V2Answer, type V2Request } from './v2-endpoint.js';

export function downloadBill(_core: SandboxCore, { fields }: V2Request): V2Answer {
  if (!fields.bill_date) refuse('LACK_PARAMS', 'missing parameter: bill_date');
  refuse('NO_BILL', 'No Bill Exist', '20002');
}
