/**
 * Whether WeChat manages this mini program's trades (is_trade_managed, docs/shipping.md), as
 * every instance sees it: the answer is kept in `platform_facts`, asked at start-up and again
 * by a job once it is older than a few hours (sooner after a failure), so the console of any
 * instance shows the same answer.
 */
import type { TradeManagement } from '../../contract/index.js';
import { MiniProgramApiError } from '../../miniprogram-api/index.js';
import type { PaymentsContext } from '../context.js';
import type { RunSummary } from '../lib/run-summary.js';
import type { MiniProgramPlatform } from '../platform/platform.js';

const KEY = 'is_trade_managed';
/** An answer stands this long: WeChat changes it only when the mini program is (de)registered. */
export const TRADE_MANAGED_TTL_MS = 4 * 3600_000;
/** A failed ask (no AppSecret yet, WeChat down) is tried again sooner. */
export const TRADE_MANAGED_RETRY_MS = 15 * 60_000;

export class TradeManagementCheck {
  constructor(
    private readonly ctx: PaymentsContext,
    private readonly platform: MiniProgramPlatform,
  ) {}

  /** The stored answer; asked now when there is none. */
  async current(): Promise<TradeManagement> {
    return (await this.stored()) ?? this.check();
  }

  /** The job: asks again when the stored answer is stale. */
  async refresh(): Promise<RunSummary> {
    const stored = await this.stored();
    if (stored && !this.stale(stored)) return { examined: 1, changed: 0, errors: 0 };
    const fresh = await this.check();
    return { examined: 1, changed: 1, errors: fresh.error ? 1 : 0 };
  }

  /** Asks WeChat and stores the answer; never throws: a failure is stored and shown. */
  async check(): Promise<TradeManagement> {
    const checkedAt = this.ctx.clock().toISOString();
    let answer: TradeManagement;
    try {
      answer = { managed: await this.platform.isTradeManaged(), checkedAt, error: null };
    } catch (err) {
      const known = err instanceof MiniProgramApiError ? err : undefined;
      if (!known) this.ctx.logger.error({ err }, 'is_trade_managed failed');
      answer = {
        managed: null,
        checkedAt,
        error: { code: known?.code ?? 'INTERNAL', message: known?.message ?? 'see the log' },
      };
    }
    await this.ctx.db
      .insertInto('platform_facts')
      .values({ key: KEY, value: JSON.stringify(answer), checked_at: checkedAt })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({ value: JSON.stringify(answer), checked_at: checkedAt }),
      )
      .execute();
    return answer;
  }

  private stale(answer: TradeManagement): boolean {
    const age = this.ctx.clock().getTime() - Date.parse(answer.checkedAt ?? '');
    return !(age < (answer.error ? TRADE_MANAGED_RETRY_MS : TRADE_MANAGED_TTL_MS));
  }

  private async stored(): Promise<TradeManagement | undefined> {
    const row = await this.ctx.db
      .selectFrom('platform_facts')
      .select('value')
      .where('key', '=', KEY)
      .executeTakeFirst();
    return row && (JSON.parse(row.value) as TradeManagement);
  }
}
