// Writes (or, with --check, compares) the API report: for each public entry point of each package,
// the exported names with their kinds and signatures, one file per package under api/. A change to
// the public surface is then a visible diff in review; `npm test` fails when the committed report
// is out of date (`npm run api` updates it).
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

interface Entry {
  readonly pkg: string;
  readonly subpath: string;
  readonly file: string;
}

/** Public entries: every `exports` subpath of every package but `./internal`. */
async function entries(): Promise<Entry[]> {
  const workspaces = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')).workspaces as string[];
  const out: Entry[] = [];
  for (const ws of workspaces.filter((w) => w.startsWith('packages/'))) {
    const manifest = JSON.parse(await readFile(join(root, ws, 'package.json'), 'utf8'));
    for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
      if (subpath.includes('internal')) continue;
      const types = (target as { types: string }).types;
      const src = types.replace('./dist/', 'src/').replace(/\.d\.ts$/, '.ts');
      out.push({ pkg: manifest.name, subpath, file: join(root, ws, src) });
    }
  }
  return out;
}

const flags = ts.TypeFormatFlags.NoTruncation;

function describe(checker: ts.TypeChecker, exported: ts.Symbol): string[] {
  const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const name = exported.name;
  const decl = symbol.declarations?.[0];
  const lines: string[] = [];
  const typeOf = (s: ts.Symbol, at: ts.Node) =>
    checker.typeToString(checker.getTypeOfSymbolAtLocation(s, at), undefined, flags);
  const members = (type: ts.Type, at: ts.Node, indent: string) => {
    for (const prop of checker.getPropertiesOfType(type).sort((a, b) => a.name.localeCompare(b.name))) {
      const pd = prop.declarations?.[0];
      if (pd && ts.getCombinedModifierFlags(pd) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected))
        continue;
      if (prop.name.startsWith('#') || prop.name.startsWith('__')) continue;
      const optional = prop.flags & ts.SymbolFlags.Optional ? '?' : '';
      const readonly = pd && ts.getCombinedModifierFlags(pd) & ts.ModifierFlags.Readonly ? 'readonly ' : '';
      lines.push(`${indent}${readonly}${prop.name}${optional}: ${typeOf(prop, pd ?? at)}`);
    }
  };
  if (!decl) return [`unknown ${name}`];
  if (symbol.flags & ts.SymbolFlags.Class) {
    lines.push(`class ${name}`);
    const ctor = checker.getTypeOfSymbolAtLocation(symbol, decl);
    for (const sig of ctor.getConstructSignatures())
      lines.push(`  constructor${checker.signatureToString(sig, undefined, flags).replace(/:[^:]*$/, '')}`);
    members(checker.getDeclaredTypeOfSymbol(symbol), decl, '  ');
    const statics = checker.getPropertiesOfType(ctor).filter((p) => p.name !== 'prototype');
    for (const s of statics) lines.push(`  static ${s.name}: ${typeOf(s, decl)}`);
  } else if (symbol.flags & ts.SymbolFlags.Function) {
    const type = checker.getTypeOfSymbolAtLocation(symbol, decl);
    for (const sig of type.getCallSignatures())
      lines.push(`function ${name}${checker.signatureToString(sig, undefined, flags)}`);
  } else if (symbol.flags & ts.SymbolFlags.Interface) {
    const heritage = ts.isInterfaceDeclaration(decl)
      ? (decl.heritageClauses ?? []).flatMap((h) => h.types.map((t) => t.getText())).join(', ')
      : '';
    lines.push(`interface ${name}${heritage ? ` extends ${heritage}` : ''}`);
    members(checker.getDeclaredTypeOfSymbol(symbol), decl, '  ');
  } else if (symbol.flags & ts.SymbolFlags.TypeAlias) {
    const aliased = ts.isTypeAliasDeclaration(decl) ? decl.type.getText().replace(/\s+/g, ' ') : '?';
    lines.push(`type ${name} = ${aliased}`);
  } else if (symbol.flags & ts.SymbolFlags.Variable) {
    lines.push(`const ${name}: ${typeOf(symbol, decl)}`);
  } else {
    lines.push(`${ts.SymbolFlags[symbol.flags] ?? 'symbol'} ${name}`);
  }
  // A value and a type may share a name (e.g. a frozen object and its union type).
  if (symbol.flags & ts.SymbolFlags.Variable && symbol.flags & ts.SymbolFlags.TypeAlias)
    lines.push(`type ${name}`);
  return lines;
}

/**
 * Each public name has one entry point, its home, unless `api/re-exports.json` lists the entry that
 * repeats it (with the reason). Returns the number of violations, each printed.
 */
function checkOneHome(): number {
  const listed = JSON.parse(readFileSync(join(root, 'api', 're-exports.json'), 'utf8')) as {
    reExports: { entry: string; reason: string; names: string[] }[];
  };
  const allowed = new Set(listed.reExports.flatMap((g) => g.names.map((n) => `${g.entry} ${n}`)));
  const used = new Set<string>();
  let problems = 0;
  let repeated = 0;
  for (const { name, entries: where } of homes.values()) {
    if (where.length < 2) continue;
    repeated++;
    const unlisted = where.filter((e) => !allowed.has(`${e} ${name}`));
    for (const e of where) if (allowed.has(`${e} ${name}`)) used.add(`${e} ${name}`);
    if (unlisted.length !== 1) {
      problems++;
      console.error(
        `${name} is exported from ${where.join(', ')}: give it one home, or list the repeating entry in api/re-exports.json`,
      );
    }
  }
  for (const key of allowed)
    if (!used.has(key)) {
      problems++;
      console.error(
        `api/re-exports.json lists ${key.replace(' ', ' → ')}, which is not a re-export: remove it`,
      );
    }
  if (problems === 0) console.log(`one home per public name (${repeated} listed re-exports)`);
  return problems;
}

/**
 * A provider needs only `@vmkit/core/spi`: its shipped sources (not tests, test support or the
 * testing entry) import no other entry of core. Returns the number of violations, each printed.
 */
function checkProviderImports(): number {
  let problems = 0;
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
      d.isDirectory() ? walk(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
    );
  for (const pkg of readdirSync(join(root, 'packages')).filter((p) => p.startsWith('provider-'))) {
    for (const file of walk(join(root, 'packages', pkg, 'src'))) {
      if (/\.test\.ts$|\.fixture\.ts$|[/\\]testing[/\\]/.test(file)) continue;
      for (const m of readFileSync(file, 'utf8').matchAll(/from '(@vmkit\/core[^']*)'/g))
        if (m[1] !== '@vmkit/core/spi') {
          problems++;
          console.error(
            `${file.slice(root.length + 1)} imports ${m[1]}: a provider imports only @vmkit/core/spi`,
          );
        }
    }
  }
  return problems;
}

const all = await entries();
const config = ts.getParsedCommandLineOfConfigFile(
  join(root, 'tsconfig.base.json'),
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: () => {},
  },
);
const program = ts.createProgram(
  all.map((e) => e.file),
  { ...config?.options, noEmit: true, composite: false, declaration: false },
);
const checker = program.getTypeChecker();
const byPackage = new Map<string, string[]>();
/** Each exported declaration, by where it is declared, with the entry points that export it. */
const homes = new Map<string, { name: string; entries: string[] }>();
for (const entry of all) {
  const source = program.getSourceFile(entry.file);
  const moduleSymbol = source && checker.getSymbolAtLocation(source);
  if (!moduleSymbol) throw new Error(`cannot read ${entry.file}`);
  const exported = checker.getExportsOfModule(moduleSymbol).sort((a, b) => a.name.localeCompare(b.name));
  const lines = byPackage.get(entry.pkg) ?? [
    `# API report: ${entry.pkg}`,
    '',
    'Generated by `npm run api`; do not edit.',
  ];
  lines.push(
    '',
    `## ${entry.subpath === '.' ? entry.pkg : `${entry.pkg}/${entry.subpath.slice(2)}`} (${exported.length} names)`,
    '',
    '```ts',
  );
  const entryName = entry.subpath === '.' ? entry.pkg : `${entry.pkg}/${entry.subpath.slice(2)}`;
  for (const symbol of exported) {
    lines.push(...describe(checker, symbol));
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    const decl = target.declarations?.[0];
    const key = `${decl?.getSourceFile().fileName ?? '?'}#${target.name}`;
    const home = homes.get(key) ?? { name: symbol.name, entries: [] };
    home.entries.push(entryName);
    homes.set(key, home);
  }
  lines.push('```');
  byPackage.set(entry.pkg, lines);
}
let stale = 0;
for (const [pkg, lines] of byPackage) {
  const file = join(root, 'api', `${pkg.replace('@vmkit/', '')}.api.md`);
  // Types from other files print as import("<absolute path>").Name: keep the name only.
  const text = `${lines.join('\n')}\n`.replace(/import\("[^"]*"(?:, \{[^)]*\})?\)\./g, '');
  const current = await readFile(file, 'utf8').catch(() => '');
  if (current === text) continue;
  if (check) {
    stale++;
    console.error(
      `api/${pkg.replace('@vmkit/', '')}.api.md is out of date: the public surface of ${pkg} changed`,
    );
  } else {
    await writeFile(file, text);
    console.log(`wrote api/${pkg.replace('@vmkit/', '')}.api.md`);
  }
}
stale += checkOneHome();
stale += checkProviderImports();
if (stale > 0) {
  console.error('review the change, then run `npm run api` and commit the report');
  process.exitCode = 1;
} else if (check) console.log(`API report up to date (${byPackage.size} packages)`);
