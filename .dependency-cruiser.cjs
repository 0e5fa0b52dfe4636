// Dependency rules of PWS's layers (`npm run lint` runs depcruise with them):
//   http/      pure HTTP/1.1 pieces: imports nothing outside itself
//   contract/  the handler contract: imports http/ only
//   net/       the HTTP/1.1 transport: knows the contract, never the static site
//   static/    the static site: implements the contract
// and no import cycles anywhere.

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'http-is-pure',
      comment: 'http/ holds pure functions over bytes and strings: it imports nothing outside itself',
      severity: 'error',
      from: { path: '^src/http/' },
      to: { path: '^src/', pathNot: '^src/http/' },
    },
    {
      name: 'contract-is-neutral',
      comment: 'the contract depends on nothing but http/',
      severity: 'error',
      from: { path: '^src/contract/' },
      to: { path: '^src/', pathNot: '^src/(contract|http)/' },
    },
    {
      name: 'transport-knows-no-files',
      comment: 'net/ (the HTTP/1.1 transport) sends any contract Reply; it never imports the static site or site policy',
      severity: 'error',
      from: { path: '^src/net/' },
      to: { path: '^src/(static|site|app)' },
    },
    {
      name: 'site-policy-knows-no-files',
      comment: 'site/ policies (methods, health, redirect, CORS, headers) do not reach into static/',
      severity: 'error',
      from: { path: '^src/site/' },
      to: { path: '^src/(static|net|app)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
