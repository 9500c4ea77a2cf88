/**
 * A list the admin API serves a page at a time (orders, anomalies, webhook deliveries): its
 * rows, the next page's cursor, how the loading went, and actions on one row whose answer
 * replaces the row. Two ways through the pages: `more()` appends the next page to the rows
 * (work queues, read to the end), `next()` and `previous()` show one page at a time (orders,
 * browsed), keeping the cursors of the pages before: the API's cursors only go forward.
 */
import { type Ref, ref } from 'vue';
import { describeError, type Loader, useLoader } from './load-state.js';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PagedList<T> {
  items: Ref<T[]>;
  nextCursor: Ref<string | null>;
  /** How many pages come before the one shown (`next`/`previous`). */
  pagesBefore: Ref<number>;
  loader: Loader;
  /** The first page (on mount, after a filter change, on refresh). */
  load(): Promise<void>;
  /** The page shown, again (retry). */
  reload(): Promise<void>;
  /** The next page, after the rows already shown. */
  more(): Promise<void>;
  next(): Promise<void>;
  previous(): Promise<void>;
  /** What each row's last action said: '' or `done` when it worked, else its error. */
  messages: Ref<Record<string, string>>;
  /** Runs an action on row `id`; the row it answers replaces the old one. */
  act(id: string, action: () => Promise<T>, done?: string): Promise<void>;
  /** Sets row `id`'s message (an action refused before it was sent). */
  tell(id: string, message: string): void;
}

export function usePagedList<T extends { id: string }>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
): PagedList<T> {
  const items = ref([]) as Ref<T[]>;
  const nextCursor = ref<string | null>(null);
  const pagesBefore = ref(0);
  const messages = ref<Record<string, string>>({});
  const loader = useLoader();
  /** The cursor of the page shown and of the pages before it ('' is the first page). */
  let shown = '';
  let before: string[] = [];

  function show(cursor: string, append: boolean): Promise<void> {
    return loader.run(async () => {
      const page = await fetchPage(cursor || undefined);
      items.value = append ? [...items.value, ...page.items] : page.items;
      nextCursor.value = page.nextCursor;
    });
  }

  function step(cursor: string, pages: string[]): Promise<void> {
    before = pages;
    pagesBefore.value = pages.length;
    shown = cursor;
    return show(cursor, false);
  }

  function tell(id: string, message: string): void {
    messages.value = { ...messages.value, [id]: message };
  }

  return {
    items,
    nextCursor,
    pagesBefore,
    loader,
    messages,
    tell,
    load: () => step('', []),
    reload: () => show(shown, false),
    more: async () => {
      if (nextCursor.value) await show(nextCursor.value, true);
    },
    next: async () => {
      if (nextCursor.value) await step(nextCursor.value, [...before, shown]);
    },
    previous: () => step(before.at(-1) ?? '', before.slice(0, -1)),
    async act(id, action, done = '') {
      try {
        const row = await action();
        items.value = items.value.map((item) => (item.id === id ? row : item));
        tell(id, done);
      } catch (err) {
        tell(id, describeError(err));
      }
    },
  };
}
