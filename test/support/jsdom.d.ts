// The part of jsdom the mini program harness uses. @types/jsdom would add the DOM library to
// every file the root tsconfig checks, where it clashes with Node's own fetch types.
declare module 'jsdom' {
  export class JSDOM {
    constructor(html: string, options?: { url?: string; pretendToBeVisual?: boolean });
    readonly window: { document: { createElement(tag: string): unknown } };
  }
}
