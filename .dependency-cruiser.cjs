// What may import what (ARCHITECTURE.md "Layers"), checked by `npm test` before the tests:
//   npx depcruise --config .dependency-cruiser.cjs src web
// Type-only imports count: a cycle through types is still a cycle to read through.
const layer = (name, comment, from, forbiddenTo) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from },
  to: { path: forbiddenTo },
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle: move the shared type or function to the file it belongs to.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    layer(
      'contract-stands-alone',
      'The HTTP contract is read by the server, the client library and the web pages: it imports none of them.',
      '^src/contract/',
      '^src/(?!contract/)',
    ),
    layer(
      'wechatpay-stands-alone',
      'The protocol layer is usable on its own: it imports nothing of the app.',
      '^src/wechatpay/',
      '^src/(?!wechatpay/)',
    ),
    layer(
      'miniprogram-api-is-protocol',
      'The mini program server API is a protocol module like wechatpay, whose HTTP and errors it shares.',
      '^src/miniprogram-api/',
      '^src/(?!miniprogram-api/|wechatpay/)',
    ),
    layer(
      'store-stands-alone',
      'Persistence knows tables, not the domain (a status column takes its values from the contract).',
      '^src/store/',
      '^src/(?!store/|contract/statuses\\.ts$)',
    ),
    layer(
      'payments-below-the-app',
      'The domain is a library: it never imports the HTTP server, the jobs, the composition root or the CLI.',
      '^src/payments/',
      '^src/(server|app|jobs|cli|doctor|sandbox|client)/',
    ),
    layer(
      'sandbox-plays-wechat-only',
      'The simulator signs and verifies with the protocol layers and nothing else of minipay.',
      '^src/sandbox/',
      '^src/(?!sandbox/|wechatpay/|miniprogram-api/)',
    ),
    layer(
      'server-below-the-app',
      'The HTTP app is handed the domain; it does not assemble minipay.',
      '^src/server/',
      '^src/(app|cli|doctor|jobs|sandbox|wechatpay)/',
    ),
    layer(
      'app-below-the-cli',
      'The composition root is what the CLI starts; it knows nothing of the command line.',
      '^src/app/',
      '^src/(cli|doctor)/',
    ),
    layer(
      'jobs-run-anything',
      'The job runners run any function; which jobs exist is wired in src/app.',
      '^src/jobs/',
      '^src/(?!jobs/|store/)',
    ),
    layer(
      'client-speaks-http-only',
      'The mini program library runs without Node: it knows the contract and nothing else.',
      '^src/client/',
      '^src/(?!client/|contract/)',
    ),
    layer(
      'web-uses-the-client-and-contract',
      'The web pages talk to the server over HTTP, with the client library and the contract.',
      '^web/',
      '^src/(?!client/|contract/)',
    ),
    layer(
      'prepared-queries-in-repositories',
      'Compiled statements (the hot paths) live in repository files (*-repo.ts) only.',
      '^src/(?!store/).*(?<!-repo)\\.ts$',
      '^src/store/prepared-query\\.ts$',
    ),
  ],
  options: {
    // TypeScript 7 has no compiler API for dependency-cruiser to use; swc parses the sources.
    parser: 'swc',
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', '\\.vue$', '^web/vite\\.config\\.ts$'] },
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
