// Bundles the compiled CLI (dist/, from `tsc -b`) and everything it imports into a few ESM files
// under dist/bundle/, so `vmkit` starts by loading a handful of files instead of hundreds. `npm pack`
// runs it too (the package's `prepack`), so a tarball never carries a stale or missing bundle.
// Commands keep loading their heavy modules lazily: every dynamic `import()` becomes its own chunk.
// Source maps chain back to the TypeScript sources (`NODE_OPTIONS=--enable-source-maps` uses them).
import { cp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bundle`;

/**
 * zod re-exports its forty-odd message locales as `z.locales` and `z.core.locales`, so they would all be bundled (half
 * of zod's code) although vmkit only uses the default English messages. This keeps `en` alone.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/.test(args.importer)
        ? { path: args.importer, namespace: 'zod-locales' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(new URL('../locales/en.js', `file://${args.path}`).pathname)};`,
      loader: 'js',
      resolveDir: root,
    }));
  },
};

/**
 * virtualbox-soap (CommonJS, loaded only for `provider.type: virtualbox`) reads its WSDL from
 * `__dirname/sdk-files`, and ESM has no `__dirname`: in its code, `__dirname` becomes the folder
 * of the chunks (`__vmkitBundleDir`, set by the banner), dist/bundle/, where its sdk-files/ are copied.
 * ssh2 names `__dirname` too (its pure JavaScript poly1305, its Windows agent path).
 */
const virtualBoxSoapFiles = {
  name: 'virtualbox-soap-files',
  setup(build) {
    build.onLoad(
      { filter: /([\\/]virtualbox-soap[\\/][^\\/]+|[\\/]ssh2[\\/]lib[\\/].+)\.js$/ },
      async (args) => ({
        contents: (await readFile(args.path, 'utf8')).replaceAll('__dirname', '__vmkitBundleDir'),
        loader: 'js',
      }),
    );
  },
};
/**
 * ssh2 (core's SSH transport) tries two optional native addons inside try/catch, its own
 * `sshcrypto.node` and the `cpu-features` package, and runs in pure JavaScript without them. An
 * `npm ci` that ran their install scripts leaves `.node` files esbuild cannot bundle: in the bundle
 * they become a module that throws when loaded, so ssh2 takes its pure JavaScript path, as it does
 * where the addons were never built.
 */
const optionalNativeAddons = {
  name: 'optional-native-addons',
  setup(build) {
    build.onResolve({ filter: /(\.node$|^cpu-features$)/ }, (args) => ({
      path: args.path,
      namespace: 'optional-native-addon',
    }));
    build.onLoad({ filter: /.*/, namespace: 'optional-native-addon' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`native addon ${args.path} is not part of the vmkit bundle`)});`,
      loader: 'js',
    }));
  },
};
const require = createRequire(`${root}../provider-virtualbox/package.json`);
const virtualBoxSoapDir = dirname(require.resolve('virtualbox-soap/package.json'));

await rm(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  // vmkit.js runs the command (bin/vmkit.js); index.js is the package's programmatic entry (`main`,
  // EXIT_CODES...). Both share chunks, and neither imports a package: the published CLI has no
  // runtime dependencies (they are devDependencies, used only to build this bundle).
  entryPoints: { vmkit: 'dist/main.js', index: 'dist/index.js' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  chunkNames: 'chunk-[hash]',
  // CommonJS dependencies bundled into ESM still call require() for Node's built-in modules.
  banner: {
    js: "import { createRequire as __vmkitRequire } from 'node:module'; import { fileURLToPath as __vmkitFileURLToPath } from 'node:url'; const require = __vmkitRequire(import.meta.url); const __vmkitBundleDir = __vmkitFileURLToPath(new URL('.', import.meta.url));",
  },
  plugins: [zodEnglishOnly, virtualBoxSoapFiles, optionalNativeAddons],
  logLevel: 'warning',
});
await cp(`${virtualBoxSoapDir}/sdk-files`, `${outdir}/sdk-files`, { recursive: true });
