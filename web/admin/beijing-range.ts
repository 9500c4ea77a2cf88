/** Today's Beijing date and the one `days - 1` days before it (`YYYY-MM-DD`). */
export function beijingRange(days: number, now = Date.now()): { from: string; to: string } {
  const day = (t: number) => new Date(t + 8 * 3600_000).toISOString().slice(0, 10);
  return { from: day(now - (days - 1) * 86_400_000), to: day(now) };
}
