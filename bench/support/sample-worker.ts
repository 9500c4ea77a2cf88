/**
 * One library's timed operations in a process of its own, driven over IPC by the peer
 * benchmarks so that each library's CPU time, GC included, is its own (bench/support/micro.ts).
 * `librarySamplers` starts the process from the parent; run as the child, this module answers
 * `calibrate` and `sample` for the operations of a registry: bench/support/peer-sdks.ts (v2),
 * or another module with the same `libraryByName` and `SPEED_OPERATIONS` (v3-libraries.ts).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inProcess, type Sampler } from './micro.js';

/** What a registry of libraries offers the worker. */
interface Registry {
  libraryByName(name: string): { name: string };
  SPEED_OPERATIONS: Readonly<Record<string, (lib: never) => () => unknown>>;
}

const V2_REGISTRY = new URL('./peer-sdks.js', import.meta.url).href;

type Ask = { cmd: 'calibrate'; op: string; sampleMs: number } | { cmd: 'sample'; op: string };
type Request = Ask & { id: number };
type Reply = { id: number; value?: number; error?: string };

/** A sampler per operation for `library`, all in one child process, and a way to stop it. */
export function librarySamplers(
  library: string,
  registry = V2_REGISTRY,
): {
  samplers: (op: string) => Sampler;
  stop: () => void;
} {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [library, registry], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 0;
  const waiting = new Map<number, { resolve: (v: number) => void; reject: (e: Error) => void }>();
  child.on('message', (m: Reply) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error !== undefined) w?.reject(new Error(`${library}: ${m.error}`));
    else w?.resolve(m.value ?? 0);
  });
  child.on('exit', (code) => {
    for (const w of waiting.values()) w.reject(new Error(`${library} worker exited (${code})`));
  });
  const ask = (req: Ask) =>
    new Promise<number>((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      child.send({ ...req, id });
    });
  return {
    samplers: (op) => ({
      name: library,
      calibrate: async (sampleMs) => {
        await ask({ cmd: 'calibrate', op, sampleMs });
      },
      sample: () => ask({ cmd: 'sample', op }),
    }),
    stop: () => child.disconnect(),
  };
}

if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  const { libraryByName, SPEED_OPERATIONS } = (await import(
    process.argv[3] ?? V2_REGISTRY
  )) as Registry;
  const lib = libraryByName(process.argv[2] ?? '');
  const samplers = new Map<string, Sampler>();
  process.on('message', async (req: Request) => {
    try {
      let sampler = samplers.get(req.op);
      if (!sampler) {
        const make = SPEED_OPERATIONS[req.op];
        if (!make) throw new Error(`no operation ${req.op}`);
        sampler = inProcess({ name: lib.name, run: make(lib as never) });
        samplers.set(req.op, sampler);
      }
      if (req.cmd === 'calibrate') await sampler.calibrate(req.sampleMs);
      process.send!({ id: req.id, value: req.cmd === 'sample' ? await sampler.sample() : 0 });
    } catch (err) {
      process.send!({ id: req.id, error: (err as Error).message });
    }
  });
}
