/// <reference types="vite/client" />

declare module '*.vue' {
  import type { DefineComponent } from 'vue';

  const component: DefineComponent<object, object, unknown>;
  export default component;
}

interface ImportMetaEnv {
  /** The minipay server (see README.md); H5 default: the page's own origin. */
  readonly VITE_MINIPAY_URL?: string;
  /** `live`: real uni.login and payment sheet; otherwise the demo server's sandbox plays them. */
  readonly VITE_MINIPAY_MODE?: string;
}
