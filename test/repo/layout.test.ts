/**
 * The floor plan stays livable (issue 14): no import cycles between the source modules of any package, type-only
 * imports included (a cycle of types still ties two modules' meanings together), and no source file that is not a
 * test grows past 400 lines.
 */

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGES = ['protocol', 'sandbox', 'server', 'widget', 'demo'];
const MAX_LINES = 400;

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return /\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const isTest = (file: string) =>
  /\.(test|contract)\.ts$|\/testing\/|test-support|test-helpers/.test(file);

/** Relative imports and re-exports of a module, resolved to the .ts files they name. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const targets: string[] = [];
  for (const [, spec] of text.matchAll(
    /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/g,
  )) {
    const path = resolve(dirname(file), spec!.replace(/\.js$/, '.ts'));
    if (existsSync(path)) targets.push(path);
    else if (existsSync(join(path, 'index.ts'))) targets.push(join(path, 'index.ts'));
  }
  for (const [, spec] of text.matchAll(/import\(\s*'(\.[^']+)'\s*\)/g)) {
    const path = resolve(dirname(file), spec!.replace(/\.js$/, '.ts'));
    if (existsSync(path)) targets.push(path);
  }
  return targets;
}

/** Strongly connected components of more than one module (Tarjan), or a module importing itself. */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    indices.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, indices.get(next)!));
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.includes(node)) found.push(component);
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return found;
}

describe('the source layout', () => {
  for (const pkg of PACKAGES) {
    const files = sourceFiles(join(ROOT, pkg, 'src')).concat(
      sourceFiles(join(ROOT, pkg, 'client')),
    );

    it(`${pkg}: no import cycles`, () => {
      assert.ok(files.length > 0, `no sources found in ${pkg}`);
      const graph = new Map(files.map(file => [file, importsOf(file)]));
      const named = cycles(graph).map(component =>
        component.map(file => relative(ROOT, file)).join(' ⇄ '),
      );
      assert.deepEqual(named, []);
    });

    it(`${pkg}: every source file that is not a test stays under ${MAX_LINES} lines`, () => {
      const long = files
        .filter(file => !isTest(file))
        .map(file => ({
          file: relative(ROOT, file),
          lines: readFileSync(file, 'utf8').split('\n').length,
        }))
        .filter(({ lines }) => lines > MAX_LINES);
      assert.deepEqual(long, []);
    });
  }

  it('finds a cycle where there is one (the checker itself)', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    assert.deepEqual(
      cycles(graph).map(c => c.sort()),
      [['a', 'b', 'c']],
    );
  });
});
