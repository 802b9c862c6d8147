import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The layering of docs/DESIGN.md ("Layers"), checked over the real import graph of src/: every import between two
// folders points from a higher layer to a lower one (never sideways between siblings, never up), no module imports
// itself back through others, and the domain folders reach no SDK, Docker client or network API.

const SRC = resolve(import.meta.dirname, '..', '..', 'src');

/** A folder's layer: an import may only go to a folder of a lower layer (or stay in its own folder). */
const LAYERS: Readonly<Record<string, number>> = {
  // The kernel: errors, logger, text/html helpers, version, secret comparison; imports nothing of the service.
  '.': 0,
  security: 0,
  // The HTTP contract's types, generated from openapi.yaml: what every layer's message types come from.
  contract: 0,
  config: 1,
  'gocd-api': 2,
  agents: 3,
  gocd: 4,
  registry: 4,
  backends: 5,
  store: 5,
  'registry-api': 5,
  metrics: 5,
  http: 6,
  lambda: 6,
  main: 7,
};

/** The kernel's folders (the root files, security/ and contract/) may import each other: it is one layer. */
const KERNEL = new Set(['.', 'security', 'contract']);

/** The domain folders: no SDK or Docker client, no HTTP server or client, nothing built that talks to the world. */
const DOMAIN = ['agents', 'gocd', 'registry'];
const CLIENT_PACKAGES =
  /^(@aws-sdk\/|@smithy\/|dockerode$|docker-modem$|undici$|fastify$|@fastify\/|node:(http|https|net|http2)$)/;

interface Module {
  file: string;
  folder: string;
  imports: { specifier: string; target?: string }[];
  source: string;
}

function folderOf(file: string): string {
  const rel = relative(SRC, file);
  return rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : '.';
}

function readModules(): Module[] {
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(SRC, f));
  return files.map((file) => {
    const source = readFileSync(file, 'utf8');
    // The compiler's own pre-processor: static imports, re-exports, `import type` and dynamic `import()`.
    const { importedFiles } = ts.preProcessFile(source, true, true);
    return {
      file,
      folder: folderOf(file),
      source,
      imports: importedFiles.map(({ fileName }) => ({
        specifier: fileName,
        ...(fileName.startsWith('.') ? { target: resolve(dirname(file), fileName.replace(/\.js$/, '.ts')) } : {}),
      })),
    };
  });
}

const modules = readModules();
const name = (file: string) => relative(SRC, file);

describe('the import graph of src/', () => {
  it('has a layer for every folder', () => {
    const unknown = [...new Set(modules.map((m) => m.folder))].filter((f) => LAYERS[f] === undefined);
    expect(unknown, 'add new folders to LAYERS here and to docs/DESIGN.md').toEqual([]);
  });

  it('points every import between folders from a higher layer to a lower one', () => {
    const wrong: string[] = [];
    for (const m of modules) {
      for (const i of m.imports) {
        if (!i.target) continue;
        const to = folderOf(i.target);
        if (to === m.folder || (KERNEL.has(to) && KERNEL.has(m.folder))) continue;
        if (!((LAYERS[to] ?? 99) < (LAYERS[m.folder] ?? -1))) {
          wrong.push(
            `${name(m.file)} (${m.folder}, layer ${LAYERS[m.folder]}) → ${name(i.target)} (${to}, layer ${LAYERS[to]})`,
          );
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('keeps agents/ free of backends/, http/, lambda/ and main/', () => {
    const wrong = modules
      .filter((m) => m.folder === 'agents')
      .flatMap((m) =>
        m.imports
          .filter((i) => i.target && ['backends', 'http', 'lambda', 'main'].includes(folderOf(i.target)))
          .map((i) => `${name(m.file)} → ${name(i.target!)}`),
      );
    expect(wrong).toEqual([]);
  });

  it('lets no domain folder import an SDK, a Docker client or an HTTP server or client', () => {
    const wrong = modules
      .filter((m) => DOMAIN.includes(m.folder))
      .flatMap((m) =>
        m.imports
          .filter((i) => !i.target && CLIENT_PACKAGES.test(i.specifier))
          .map((i) => `${name(m.file)} → ${i.specifier}`),
      );
    expect(wrong).toEqual([]);
  });

  it('lets no domain folder call the network or construct a client', () => {
    const wrong = modules
      .filter((m) => DOMAIN.includes(m.folder))
      .flatMap((m) => {
        // Comments may talk about clients; code may not build one.
        const code = m.source.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
        const found = [...code.matchAll(/\bfetch\s*\(|new\s+\w*Client\s*\(/g)].map((x) => x[0]);
        return found.map((f) => `${name(m.file)}: ${f}`);
      });
    expect(wrong).toEqual([]);
  });

  it('has no import cycle between modules', () => {
    const graph = new Map(modules.map((m) => [m.file, m.imports.flatMap((i) => (i.target ? [i.target] : []))]));
    // Tarjan's strongly connected components: any component of more than one module is a cycle.
    let index = 0;
    const indices = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const cycles: string[][] = [];
    const visit = (v: string) => {
      indices.set(v, index);
      low.set(v, index);
      index++;
      stack.push(v);
      onStack.add(v);
      for (const w of graph.get(v) ?? []) {
        if (!graph.has(w)) continue;
        if (!indices.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
      }
      if (low.get(v) === indices.get(v)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component.push(name(w));
        } while (w !== v);
        if (component.length > 1) cycles.push(component.sort());
      }
    };
    for (const v of graph.keys()) if (!indices.has(v)) visit(v);
    expect(cycles).toEqual([]);
  });

  it('resolves every relative import to a module of src/ (so the checks above see the whole graph)', () => {
    const files = new Set(modules.map((m) => m.file));
    const missing = modules.flatMap((m) =>
      m.imports.filter((i) => i.target && !files.has(i.target)).map((i) => `${name(m.file)} → ${i.specifier}`),
    );
    expect(missing).toEqual([]);
  });
});
