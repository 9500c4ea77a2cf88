// Types of lib/minipay.js, the client library bundled from src/client by
// `npm run miniprogram:lib` (run it before opening this project in WeChat DevTools).
export * from '../../src/client/index.js';
