/**
 * The shipped Grafana dashboards against Grafana's own dashboard schema (issue 6 §5). Grafana
 * publishes that schema on npm as @grafana/schema: TypeScript types generated from the CUE
 * kinds Grafana validates dashboards with (the Dashboard kind, and per panel plugin its
 * Options and FieldConfig), versioned with Grafana; it ships no JSON Schema. So each dashboard
 * JSON is compiled, as a TypeScript expression, against those types with the compiler API:
 * `<dashboard JSON> satisfies Checked`, where Checked is the schema's Dashboard with enums
 * read as their JSON values and each panel typed by its plugin (timeseries, stat, gauge,
 * table; rows). Unknown keys (excess property checks), wrong types, missing required fields
 * and unknown enum values are errors, reported at the dashboard's line. A dashboard broken on
 * purpose proves the check rejects.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIR = join(ROOT, 'dashboards/grafana');
const RAW = '@grafana/schema/dist/esm/raw/composable';

/**
 * Panel plugins we check: the module of their Options type, and whether it has a FieldConfig
 * (custom field options) too.
 */
const PANEL_PLUGINS: Record<string, { module: string; fieldConfig: boolean }> = {
  timeseries: { module: `${RAW}/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen`, fieldConfig: true },
  table: { module: `${RAW}/table/panelcfg/x/TablePanelCfg_types.gen`, fieldConfig: true },
  stat: { module: `${RAW}/stat/panelcfg/x/StatPanelCfg_types.gen`, fieldConfig: false },
  gauge: { module: `${RAW}/gauge/panelcfg/x/GaugePanelCfg_types.gen`, fieldConfig: false },
};

/** The prelude every checked file starts with: the schema's types as a dashboard's JSON reads. */
function prelude(): string {
  const plugins = Object.entries(PANEL_PLUGINS);
  return [
    "import type { Dashboard, FieldConfigSource, Panel, RowPanel } from '@grafana/schema';",
    ...plugins.map(([, p], i) => (p.fieldConfig ? `import type { Options as O${i}, FieldConfig as F${i} } from '${p.module}';` : `import type { Options as O${i} } from '${p.module}';\ntype F${i} = Record<string, unknown>;`)),
    // Enums as the values JSON holds (string enums are not assignable from string literals).
    'type Json<T> = T extends string ? `${T}` : T extends number | boolean | null | undefined ? T : T extends readonly (infer U)[] ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;',
    'type Plugin<N extends string, O, F> = Omit<Json<Panel>, "type" | "options" | "fieldConfig"> & { type: N; options?: Json<O>; fieldConfig?: Json<FieldConfigSource<F>> };',
    `type AnyPanel = ${plugins.map(([name], i) => `Plugin<'${name}', O${i}, F${i}>`).join(' | ')};`,
    'type Row = Omit<Json<RowPanel>, "panels"> & { panels: AnyPanel[] };',
    'type Checked = Omit<Json<Dashboard>, "panels"> & { panels?: (AnyPanel | Row)[] };',
    'export const dashboard = ',
  ].join('\n');
}

/**
 * Schema errors of each named dashboard text ("line N: message", N in the dashboard file),
 * from one TypeScript program over all of them.
 */
function schemaErrors(dashboards: Record<string, string>): Record<string, string[]> {
  const head = prelude();
  const headLines = head.split('\n').length;
  const files = new Map(Object.entries(dashboards).map(([name, text]) => [join(ROOT, 'test/unit', `__dashboard_schema_${name.replace(/\W/g, '_')}.ts`), { name, text: `${head}${text.trimEnd()} satisfies Checked;\n` }]));
  const options: ts.CompilerOptions = { target: ts.ScriptTarget.ES2022, lib: ['lib.es2022.d.ts'], module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, noEmit: true, skipLibCheck: true, types: [] };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, lang, onError, create) => {
    const v = files.get(fileName);
    return v ? ts.createSourceFile(fileName, v.text, lang) : getSourceFile(fileName, lang, onError, create);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (f) => files.has(f) || fileExists(f);
  const readFile = host.readFile.bind(host);
  host.readFile = (f) => files.get(f)?.text ?? readFile(f);
  const program = ts.createProgram([...files.keys()], options, host);
  const out: Record<string, string[]> = Object.fromEntries(Object.keys(dashboards).map((n) => [n, []]));
  for (const [fileName, { name }] of files) {
    const sf = program.getSourceFile(fileName);
    if (sf === undefined) throw new Error(`${fileName} not in the program`);
    for (const d of [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]) {
      const line = d.start === undefined ? 0 : sf.getLineAndCharacterOfPosition(d.start).line - headLines + 2;
      // The prelude must compile (a moved module would make every check vacuous).
      if (line < 1) throw new Error(`prelude: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
      out[name].push(`line ${line}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
    }
  }
  for (const d of program.getGlobalDiagnostics()) throw new Error(ts.flattenDiagnosticMessageText(d.messageText, ' '));
  return out;
}

const shipped = Object.fromEntries(
  readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f, readFileSync(join(DIR, f), 'utf8')]),
);

/** A copy of the client dashboard with `edit` applied to its parsed JSON. */
function broken(edit: (d: { panels: Record<string, unknown>[] } & Record<string, unknown>) => void): string {
  const d = JSON.parse(shipped['mptcp-proxy-client.json']) as { panels: Record<string, unknown>[] } & Record<string, unknown>;
  edit(d);
  return JSON.stringify(d, null, 2);
}

describe("dashboards against Grafana's schema (@grafana/schema)", () => {
  let errors: Record<string, string[]> = {};

  beforeAll(() => {
    errors = schemaErrors({
      ...shipped,
      unknownKey: broken((d) => {
        d.panells = [];
      }),
      gridPosType: broken((d) => {
        d.panels[3].gridPos = { h: 8, w: '12', x: 0, y: 0 };
      }),
      legendMode: broken((d) => {
        (d.panels[3].options as Record<string, Record<string, unknown>>).legend.displayMode = 'tabel';
      }),
      panelKey: broken((d) => {
        d.panels[3].colour = 'red';
      }),
      noSchemaVersion: broken((d) => {
        delete d.schemaVersion;
      }),
      unknownPlugin: broken((d) => {
        d.panels[3].type = 'graph-old';
      }),
    });
  }, 60_000);

  it('there are dashboards to check, and the shipped ones are valid', () => {
    expect(Object.keys(shipped)).toEqual(['mptcp-proxy-aggregator.json', 'mptcp-proxy-client.json']);
    for (const f of Object.keys(shipped)) expect(errors[f], f).toEqual([]);
  });

  it('rejects broken dashboards, each at its fault', () => {
    const one = (name: string, pattern: RegExp) => {
      expect(errors[name].length, `${name}: ${errors[name].join('\n')}`).toBeGreaterThan(0);
      expect(errors[name].join('\n'), name).toMatch(pattern);
    };
    one('unknownKey', /panells"?' does not exist/);
    one('gridPosType', /Type 'string' is not assignable to type 'number'/);
    one('legendMode', /"tabel"/);
    one('panelKey', /colour"?' does not exist/);
    one('noSchemaVersion', /schemaVersion/);
    one('unknownPlugin', /graph-old/);
  });

  it('reports a fault at its line of the dashboard file', () => {
    const text = broken((d) => {
      d.panels[3].gridPos = { h: 8, w: '12', x: 0, y: 0 };
    });
    const line = text.split('\n').findIndex((l) => l.includes('"w": "12"')) + 1;
    expect(errors.gridPosType).toEqual([expect.stringMatching(new RegExp(`^line ${line}: `)) as string]);
  });
});
