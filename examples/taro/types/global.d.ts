/// <reference types="@tarojs/taro" />

declare module '*.css';

declare namespace NodeJS {
  interface ProcessEnv {
    NODE_ENV: 'development' | 'production';
    /** The platform this build is for. */
    TARO_ENV: 'weapp' | 'h5';
    /** The minipay server (see README.md); H5 default: the page's own origin. */
    TARO_APP_MINIPAY_URL?: string;
    /** `live`: real wx.login and payment sheet; otherwise the demo server's sandbox plays them. */
    TARO_APP_MINIPAY_MODE?: string;
  }
}
