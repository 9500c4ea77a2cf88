/** One `minipay <name>` sub-command. */
export interface Command {
  name: string;
  /** One line for `minipay help`. */
  summary: string;
  /** Full usage text for `minipay help <name>` and `minipay <name> --help`. */
  usage: string;
  /** Runs the command; resolves to the process exit code. Long-running commands resolve on shutdown. */
  run(argv: string[]): Promise<number>;
}

/** A mistake in how the command was called: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Resolves on the first SIGINT or SIGTERM (long-running commands then shut down). */
export function untilStopSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
