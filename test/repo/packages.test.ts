/**
 * What `pnpm pack` makes of each published package on a fresh clone: the tracked and new files of this tree
 * (what `git clone` would give, uncommitted work included, nothing ignored: no `dist/`), installed by linking
 * this workspace's `node_modules`, then `pnpm pack` in each package. Checks what a developer installing the
 * tarball gets: `dist/` built by `prepack`, the metadata every npm package has, exports that resolve inside
 * the tarball without the workspace-only `source` condition, no test helpers, and no import of a package the
 * tarball does not declare.
 */

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PUBLISHED = ['protocol', 'sandbox', 'server', 'widget'] as const;
type Published = (typeof PUBLISHED)[number];

interface Manifest {
  name: string;
  version: string;
  keywords?: string[];
  homepage?: string;
  repository?: { type: string; url: string; directory?: string };
  engines?: { node?: string };
  publishConfig?: { access?: string; exports?: unknown };
  exports?: unknown;
  bin?: Record<string, string>;
  files?: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  optionalDependencies?: Record<string, string>;
}

interface Packed {
  files: string[];
  manifest: Manifest;
  /** The unpacked tarball (`package/` inside). */
  dir: string;
}

const work = mkdtempSync(join(tmpdir(), 'galaxy-pay-pack-'));
const clone = join(work, 'clone');
const tarballs = join(work, 'tarballs');
const packed = new Map<Published, Packed>();

/** The tree as a fresh clone has it: tracked and untracked files, minus what .gitignore ignores. */
function freshClone(): void {
  const listed = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  for (const file of listed.split('\0').filter(Boolean)) {
    if (!existsSync(join(ROOT, file))) continue; // deleted in the work tree
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    cpSync(join(ROOT, file), join(clone, file));
  }
  // "pnpm install", without the network: the store of this workspace, and each package's links into it
  // (relative symlinks, so a workspace link lands on the clone's own package).
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
  for (const name of readdirSync(ROOT)) {
    const modules = join(ROOT, name, 'node_modules');
    if (existsSync(join(clone, name, 'package.json')) && existsSync(modules)) {
      cpSync(modules, join(clone, name, 'node_modules'), {
        recursive: true,
        verbatimSymlinks: true,
      });
    }
  }
}

function pack(name: Published): Packed {
  const dir = join(clone, name);
  assert.equal(existsSync(join(dir, 'dist')), false, `${name}/dist exists before packing`);
  const result = spawnSync('pnpm', ['pack', '--pack-destination', tarballs], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, CI: '1' },
  });
  assert.equal(
    result.status,
    0,
    `pnpm pack in ${name} failed:\n${result.stdout}\n${result.stderr}`,
  );
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
  const tarball = join(
    tarballs,
    `${manifest.name.replace(/^@/, '').replace('/', '-')}-${manifest.version}.tgz`,
  );
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map(path => path.replace(/^package\//, ''))
    .sort();
  const unpacked = join(work, 'unpacked', name);
  mkdirSync(unpacked, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', unpacked]);
  const packedManifest = JSON.parse(
    readFileSync(join(unpacked, 'package', 'package.json'), 'utf8'),
  ) as Manifest;
  return { files, manifest: packedManifest, dir: join(unpacked, 'package') };
}

/** Every file an `exports` or `bin` value points at, and every condition name on the way. */
function targets(
  value: unknown,
  conditions: string[] = [],
): { files: string[]; conditions: string[] } {
  if (typeof value === 'string') return { files: [value.replace(/^\.\//, '')], conditions };
  const files: string[] = [];
  for (const [key, inner] of Object.entries((value ?? {}) as Record<string, unknown>)) {
    const found = targets(inner, key.startsWith('.') ? conditions : [...conditions, key]);
    files.push(...found.files);
    conditions = [...new Set([...conditions, ...found.conditions])];
  }
  return { files, conditions };
}

/** The bare specifiers `import`ed or `export … from`ed by a built JavaScript file. */
function bareImports(text: string): string[] {
  const found = new Set<string>();
  for (const match of text.matchAll(
    /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s*['"]([^'"]+)['"]/gm,
  )) {
    const specifier = match[1] ?? match[2] ?? match[3] ?? '';
    if (specifier !== '' && !specifier.startsWith('.') && !specifier.startsWith('/')) {
      found.add(specifier);
    }
  }
  return [...found];
}

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

const TEST_ONLY =
  /(^|\/)(.*\.test\.|.*test-support\.|.*test-helpers?\.|test-harness\.|.*\.contract\.|fault-proxy\.)/;

describe('pnpm pack on a fresh clone', { timeout: 600_000 }, () => {
  before(() => {
    freshClone();
    for (const name of PUBLISHED) packed.set(name, pack(name));
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  for (const name of PUBLISHED) {
    describe(`@galaxy-pay/${name}`, () => {
      const get = () => packed.get(name)!;

      it('contains dist/ (built by prepack), the README, the LICENSE and a CHANGELOG', () => {
        const { files } = get();

        assert.ok(files.includes('dist/index.js'), files.join('\n'));
        assert.ok(files.includes('dist/index.d.ts'), files.join('\n'));
        for (const file of ['README.md', 'LICENSE', 'CHANGELOG.md', 'package.json']) {
          assert.ok(files.includes(file), `${file} missing from ${files.join(', ')}`);
        }
      });

      it('has engines, repository, homepage, keywords and public access', () => {
        const { manifest } = get();

        assert.match(manifest.engines?.node ?? '', />=\s*20/);
        assert.equal(manifest.repository?.type, 'git');
        assert.match(manifest.repository?.url ?? '', /^git\+https:\/\/.+\.git$/);
        assert.equal(manifest.repository?.directory, name);
        assert.match(manifest.homepage ?? '', /^https:\/\//);
        assert.ok((manifest.keywords ?? []).length >= 3, 'keywords');
        assert.equal(manifest.publishConfig?.access, 'public');
      });

      it('exports no source condition, and every export and bin target is in the tarball', () => {
        const { files, manifest } = get();

        const found = targets(manifest.exports);
        assert.equal(found.conditions.includes('source'), false, JSON.stringify(manifest.exports));
        for (const file of [...found.files, ...targets(manifest.bin ?? {}).files]) {
          assert.ok(files.includes(file), `${file} is exported but not shipped`);
        }
      });

      it('ships no test helpers, and its code imports only builtins and declared packages', () => {
        const { files, manifest, dir } = get();

        assert.deepEqual(
          files.filter(file => TEST_ONLY.test(file)),
          [],
        );
        const declared = new Set([
          ...Object.keys(manifest.dependencies ?? {}),
          ...Object.keys(manifest.peerDependencies ?? {}),
          ...Object.keys(manifest.optionalDependencies ?? {}),
        ]);
        const undeclared = files
          .filter(file => file.endsWith('.js'))
          .flatMap(file =>
            bareImports(readFileSync(join(dir, file), 'utf8'))
              .filter(specifier => !specifier.startsWith('node:'))
              .filter(specifier => !builtinModules.includes(specifier))
              .filter(specifier => !declared.has(packageOf(specifier)))
              .map(specifier => `${file}: ${specifier}`),
          );
        assert.deepEqual(undeclared, []);
        assert.equal(JSON.stringify(manifest).includes('workspace:'), false);
      });
    });
  }

  describe('@galaxy-pay/server', () => {
    it('ships .env.example, and names express a peer and both database drivers optional peers', () => {
      const { files, manifest } = packed.get('server')!;

      assert.ok(files.includes('.env.example'));
      assert.ok(manifest.peerDependencies?.express);
      for (const driver of ['better-sqlite3', 'pg']) {
        assert.equal(manifest.dependencies?.[driver], undefined, `${driver} is a dependency`);
        assert.equal(
          manifest.optionalDependencies?.[driver],
          undefined,
          `${driver} would be installed`,
        );
        assert.ok(manifest.peerDependencies?.[driver], `${driver} peer range`);
        assert.equal(manifest.peerDependenciesMeta?.[driver]?.optional, true);
      }
      assert.equal(manifest.dependencies?.express, undefined);
    });

    it('loads the database drivers lazily: no built file imports one statically', () => {
      const { files, dir } = packed.get('server')!;

      const eager = files
        .filter(file => file.endsWith('.js'))
        .filter(file =>
          bareImports(readFileSync(join(dir, file), 'utf8')).some(
            specifier => specifier === 'better-sqlite3' || specifier === 'pg',
          ),
        );
      assert.deepEqual(eager, []);
    });

    it('the built galaxy-pay-signer answers --help and --version with no configuration', () => {
      const bin = join(clone, 'server', packed.get('server')!.manifest.bin!['galaxy-pay-signer']!);
      const run = (arg: string) =>
        spawnSync(process.execPath, [bin, arg], {
          cwd: work,
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '' },
        });

      const help = run('--help');
      const version = run('--version');

      assert.equal(help.status, 0, help.stderr);
      assert.match(help.stdout, /GALAXY_PAY_BASE_URL/);
      assert.equal(version.status, 0, version.stderr);
      assert.equal(version.stdout.trim(), packed.get('server')!.manifest.version);
    });
  });

  it('keeps each package.json publishConfig.exports equal to its exports without `source`', () => {
    // pnpm publishes publishConfig.exports instead of exports: the two must not drift apart.
    for (const name of PUBLISHED) {
      const manifest = JSON.parse(
        readFileSync(join(ROOT, name, 'package.json'), 'utf8'),
      ) as Manifest;
      const strip = (value: unknown): unknown =>
        typeof value === 'object' && value !== null
          ? Object.fromEntries(
              Object.entries(value)
                .filter(([key]) => key !== 'source')
                .map(([key, inner]) => [key, strip(inner)]),
            )
          : value;

      assert.deepEqual(manifest.publishConfig?.exports, strip(manifest.exports), name);
    }
  });
});
