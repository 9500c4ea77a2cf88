/** How shipping uploads are retried: settings of the domain, shrunk by tests. */
export interface ShippingSettings {
  /** Upload attempts before a shipment is FAILED for an admin to retry. Default 12. */
  maxAttempts: number;
  /** The wait after the first failed attempt, doubled each time. Default 30 s. */
  retryBaseMs: number;
  /** The longest wait between attempts. Default 1 hour. */
  retryCapMs: number;
  /** How far back the sweep looks for paid orders without a shipment. Default 7 days. */
  sweepWindowMs: number;
  /** How long after payment the sweep leaves an order to the event subscriber. Default 5 min. */
  sweepAfterMs: number;
}

export const DEFAULT_SHIPPING: ShippingSettings = {
  maxAttempts: 12,
  retryBaseMs: 30_000,
  retryCapMs: 3600_000,
  sweepWindowMs: 7 * 24 * 3600_000,
  sweepAfterMs: 5 * 60_000,
};
