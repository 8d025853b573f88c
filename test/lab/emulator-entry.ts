/**
 * Where the emulator process's JavaScript is. Built (dist/test/lab/...), it is the compiled
 * sibling emulator/main.js. From the TypeScript sources (vitest), it is compiled once per
 * process with the TypeScript compiler API into a temporary folder, removed at exit: the
 * emulator runs in another namespace as a plain `node` process, outside vitest's loader.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
let compiled: Promise<string> | undefined;

export function emulatorEntry(): Promise<string> {
  const built = join(HERE, 'emulator', 'main.js');
  if (import.meta.url.endsWith('.js') && existsSync(built)) return Promise.resolve(built);
  compiled ??= compile();
  return compiled;
}

async function compile(): Promise<string> {
  const mod = await import('typescript');
  // A CommonJS package: its API is the default export under Node, the namespace under some loaders.
  const ts = (mod as { default?: typeof mod }).default ?? mod;
  const repo = resolve(HERE, '..', '..');
  const dir = mkdtempSync(join(tmpdir(), 'mptcp-lab-emulator-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const configFile = ts.readConfigFile(join(repo, 'tsconfig.json'), (f) => ts.sys.readFile(f));
  const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, repo);
  const src = join(HERE, 'emulator', 'main.ts');
  const program = ts.createProgram([src], { ...parsed.options, noEmit: false, outDir: dir, rootDir: repo, sourceMap: false, declaration: false });
  const result = program.emit();
  const diags = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics];
  if (diags.length > 0) throw new Error(ts.formatDiagnostics(diags, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => repo, getNewLine: () => '\n' }));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  // The packet addon is found relative to the module: point the compiled copy at the real one.
  process.env.MPTCP_PACKET_ADDON ??= join(repo, 'mptcp', 'native', 'build', 'Release', 'mptcp_packet.node');
  return join(dir, relative(repo, src).replace(/\.ts$/, '.js'));
}
