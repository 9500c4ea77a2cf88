/**
 * Runs the sample mini program (miniprogram/) offline with WeChat's own component test tools:
 * miniprogram-simulate (j-component over WeChat's exparser, WXML compiled by WeChat's wcc) in
 * jsdom. The sample is compiled as DevTools' TypeScript plugin does
 * (`scripts/build-miniprogram.mjs --app`), and its pages run unchanged against a `wx` the test
 * gives (src/client/sandbox-wx.ts: the sandbox plays wx.login and the payment sheet).
 *
 * miniprogram-simulate renders custom components, not pages, so this is the adapter a page
 * needs, and all it does:
 * - `Page(options)` registers the page as a component, as WeChat's own "pages built with
 *   Component()" do: `data` stays data, functions become methods, other fields are copied onto
 *   each instance (as Page does).
 * - The page stack: `wx.navigateTo`, `redirectTo` and `reLaunch` load the target page, call
 *   its `onLoad(query)` and `onShow()`, as the base library would.
 * - `wx.showModal` asks the test (the user's answer) and keeps WeChat's limit on button text;
 *   WeChat's buttons honour `disabled`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JSDOM } from 'jsdom';
import type * as Simulate from 'miniprogram-simulate';

const require = createRequire(import.meta.url);
const root = join(import.meta.dirname, '..', '..');

type AnyRecord = Record<string, unknown>;
type Rendered = ReturnType<typeof Simulate.render>;

/** Compiles the sample into a temp dir (removed by `cleanup`). */
export function compileSample(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-sample-'));
  const r = spawnSync(
    process.execPath,
    [join(root, 'scripts', 'build-miniprogram.mjs'), '--app', dir],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`compiling the sample failed:\n${r.stderr}${r.stdout}`);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** What the harness reads of a rendered node (the root tsconfig has no DOM library). */
interface DomNode {
  nodeType: number;
  textContent: string | null;
  childNodes: ArrayLike<DomNode>;
  dataset?: Record<string, string | undefined>;
}

let simulate: typeof Simulate | undefined;
let newRoot: () => unknown;

/** miniprogram-simulate in a jsdom window, as under jest's jsdom environment. */
function loadSimulate(): typeof Simulate {
  if (simulate) return simulate;
  const { window } = new JSDOM('<!doctype html><html><head></head><body></body></html>', {
    url: 'http://localhost/',
    pretendToBeVisual: true,
  });
  const g = globalThis as AnyRecord;
  const w = window as unknown as AnyRecord;
  for (const key of Object.getOwnPropertyNames(window)) {
    if (!(key in g)) g[key] = w[key];
  }
  // Events are dispatched on jsdom nodes: they must be jsdom's, not Node's own.
  for (const key of ['Event', 'CustomEvent', 'EventTarget']) g[key] = w[key];
  g.window = window;
  newRoot = () => window.document.createElement('main');
  const loaded = require('miniprogram-simulate') as typeof Simulate;
  // WeChat's <button> ignores taps while disabled: give the stand-in those properties.
  loaded.load({
    id: 'button',
    tagName: 'wx-button',
    template: '<slot/>',
    properties: { disabled: Boolean, loading: Boolean, size: String, type: String },
  });
  g.Page = pageAsComponent;
  simulate = loaded;
  return loaded;
}

/** WeChat's Page(options) as a Component definition (see the file comment). */
function pageAsComponent(options: AnyRecord): void {
  const { data, ...rest } = options;
  const methods: AnyRecord = {};
  const fields: AnyRecord = {};
  for (const [key, value] of Object.entries(rest)) {
    (typeof value === 'function' ? methods : fields)[key] = value;
  }
  const Component = (globalThis as AnyRecord).Component as (definition: AnyRecord) => void;
  Component({
    data,
    methods,
    lifetimes: {
      created(this: AnyRecord) {
        Object.assign(this, structuredClone(fields));
      },
    },
  });
}

/** One page on the stack. */
export interface PageHandle {
  route: string;
  query: Record<string, string>;
  comp: Rendered;
  /** The page's data, as its WXML sees it. */
  data(): AnyRecord;
  /** The page's visible text. */
  text(): string;
  /**
   * Taps the node matching `selector` (the `which`th, or the one whose `data-id` is given);
   * a disabled button fails the test, as it would not answer the user. The page handles the
   * tap asynchronously, as in WeChat: wait for what it shows next.
   */
  tap(selector: string, which?: number | { dataId: string }): void;
  /**
   * What a WeChat component hands the page: `event` (e.g. `chooseavatar`, `input`) with its
   * `detail`, on the first node matching `selector`.
   */
  fire(selector: string, event: string, detail: AnyRecord): void;
}

/** The user's answer to a wx.showModal: true taps the confirm button. */
export type ModalAnswer = (options: { title?: string; content?: string }) => boolean;

export interface MiniProgramOptions {
  /** The compiled sample (compileSample). */
  dir: string;
  /** config.ts as the developer would set it (README.md): written before the app starts. */
  config: { baseUrl: string; sandbox: { url: string; appId: string } | null };
  /** The platform: login, request, requestPayment and storage (e.g. createSandboxWx). */
  wx: AnyRecord;
  /** The user's answers to modals; default: confirm. */
  modal?: ModalAnswer;
}

export interface MiniProgram {
  /** The page on top of the stack. */
  top(): PageHandle;
  /** Routes on the stack, bottom first. */
  routes(): string[];
  /** Every modal shown so far. */
  modals: { title?: string; content?: string; confirmed: boolean }[];
}

/** Starts the sample with `wx`: a fresh copy of its modules, the first page of app.json. */
export function launchSample(options: MiniProgramOptions): MiniProgram {
  const sim = loadSimulate();
  const { dir } = options;
  // A new start: the app's modules (services/minipay.ts's one client) are made anew.
  for (const path of Object.keys(require.cache)) {
    if (path.startsWith(dir)) delete require.cache[path];
  }
  writeFileSync(join(dir, 'config.js'), `exports.config = ${JSON.stringify(options.config)};\n`);
  const stack: PageHandle[] = [];
  const modals: MiniProgram['modals'] = [];

  const open = (url: string): PageHandle => {
    const [path = '', search = ''] = url.replace(/^\//, '').split('?');
    const query: Record<string, string> = {};
    for (const pair of search.split('&').filter(Boolean)) {
      const [key = '', value = ''] = pair.split('=');
      // The base library hands onLoad the query as written (the pages decode it themselves).
      query[key] = value;
    }
    const id = sim.load(join(dir, path), { rootPath: dir });
    const comp = sim.render(id);
    comp.attach(newRoot() as Parameters<typeof comp.attach>[0]);
    const page = handle(path, query, comp);
    const instance = comp.instance as AnyRecord & {
      onLoad?: (q: Record<string, string>) => void;
      onShow?: () => void;
    };
    instance.onLoad?.(query);
    instance.onShow?.();
    return page;
  };

  const navigation = (change: (page: PageHandle) => void) => (o: AnyRecord) => {
    const url = String(o.url);
    // The base library navigates after the current call returns.
    setTimeout(() => {
      change(open(url));
      (o.success as ((res: AnyRecord) => void) | undefined)?.({ errMsg: 'ok' });
    }, 0);
  };

  const wx = {
    ...(loadedApi() as AnyRecord),
    ...options.wx,
    navigateTo: navigation((page) => stack.push(page)),
    redirectTo: navigation((page) => stack.splice(-1, 1, page)),
    reLaunch: navigation((page) => stack.splice(0, stack.length, page)),
    showModal: (
      o: AnyRecord & { success?: (res: AnyRecord) => void; fail?: (err: AnyRecord) => void },
    ) => {
      const tooLong = modalButtonTooLong(o);
      if (tooLong) {
        const errMsg = `showModal:fail ${tooLong} length should not larger than 4 Chinese characters`;
        setTimeout(() => o.fail?.({ errMsg }), 0);
        return;
      }
      const shown = { title: o.title as string, content: o.content as string };
      const confirmed = (options.modal ?? (() => true))(shown);
      modals.push({ ...shown, confirmed });
      setTimeout(() => o.success?.({ confirm: confirmed, cancel: !confirmed }), 0);
    },
  };
  (globalThis as AnyRecord).wx = wx;

  const app = JSON.parse(readFileSync(join(dir, 'app.json'), 'utf8')) as {
    pages: string[];
  };
  stack.push(open(`/${app.pages[0]}`));
  return {
    top: () => {
      const page = stack.at(-1);
      if (!page) throw new Error('no page is open');
      return page;
    },
    routes: () => stack.map((page) => page.route),
    modals,
  };
}

/**
 * WeChat shows no modal whose button text is longer than 4 Chinese characters (8 Latin ones)
 * and calls `fail` instead (wx.showModal's documented limit; Taro's H5 build checks the same).
 */
function modalButtonTooLong(o: AnyRecord): string | undefined {
  for (const name of ['confirmText', 'cancelText']) {
    const text = o[name];
    if (typeof text === 'string' && text.replace(/[\u0391-\uFFE5]/g, 'aa').length > 8) return name;
  }
  return undefined;
}

/** miniprogram-simulate's own wx mock (showToast, stopPullDownRefresh, ...), kept as set. */
let api: AnyRecord | undefined;
function loadedApi(): AnyRecord {
  api ??= { ...((globalThis as AnyRecord).wx as AnyRecord) };
  return api;
}

function handle(route: string, query: Record<string, string>, comp: Rendered): PageHandle {
  return {
    route,
    query,
    comp,
    data: () => comp.data as AnyRecord,
    text: () => textOf(comp.dom as unknown as DomNode),
    tap(selector, which = 0) {
      const nodes = comp.querySelectorAll(selector);
      const node =
        typeof which === 'number'
          ? nodes[which]
          : nodes.find((n) => (n.dom as unknown as DomNode).dataset?.id === which.dataId);
      const name = `"${selector}" ${JSON.stringify(which)} on ${route}`;
      if (!node) throw new Error(`no ${name}; the page shows: ${this.text()}`);
      if ((node.data as AnyRecord | undefined)?.disabled) throw new Error(`${name} is disabled`);
      node.dispatchEvent('tap');
    },
    fire(selector, event, detail) {
      const node = comp.querySelector(selector);
      if (!node) throw new Error(`no "${selector}" on ${route}; the page shows: ${this.text()}`);
      node.dispatchEvent(event, { detail });
    },
  };
}

/** The text a user reads: every text node, one space between them. */
function textOf(node: DomNode): string {
  const parts: string[] = [];
  const walk = (n: DomNode) => {
    if (n.nodeType === 3) parts.push(n.textContent?.trim() ?? '');
    for (const child of Array.from(n.childNodes)) walk(child);
  };
  walk(node);
  return parts.filter(Boolean).join(' ');
}
