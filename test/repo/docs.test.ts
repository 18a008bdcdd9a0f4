/**
 * The project's documents live in the repository: the READMEs point into docs/, never outside the tree, and
 * the links between them (files and #anchors, the catalogue ids T01–T39 included) resolve.
 */

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = ['architecture', 'security', 'protocol', 'reliability'].map(name => `docs/${name}.md`);
const READMES = ['README.md', 'server/README.md'];

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  const seen = new Map<string, number>();
  const withoutCode = markdown.replace(/^```[\s\S]*?^```/gm, '');
  for (const [, text] of withoutCode.matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const slug = text!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .trim()
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    found.add(count === 0 ? slug : `${slug}-${count}`);
  }
  for (const [, id] of markdown.matchAll(/<a (?:id|name)="([^"]+)"/g)) found.add(id!);
  return found;
}

/** Relative links of a markdown file: [text](target) outside code blocks. */
function links(markdown: string): string[] {
  const withoutCode = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...withoutCode.matchAll(/\]\(([^)\s]+)\)/g)]
    .map(([, target]) => target!)
    .filter(target => !/^[a-z]+:/i.test(target));
}

describe('documents in the repository', () => {
  it('has the architecture, security, protocol and reliability documents under docs/', () => {
    for (const file of DOCS) assert.ok(existsSync(join(ROOT, file)), file);
  });

  it('README.md and server/README.md point into docs/, never at ../shared', () => {
    for (const readme of READMES) {
      const text = read(readme);

      assert.doesNotMatch(
        text,
        /\.\.\/shared|shared\/(DESIGN|RELIABILITY|galaxy-pay-protocol)/,
        readme,
      );
      for (const doc of [...DOCS, 'docs/gateway-fidelity.md']) {
        const target = readme === 'README.md' ? doc : `../${doc}`;
        assert.ok(text.includes(`](${target}`), `${readme} links ${target}`);
      }
    }
  });

  it('keeps one anchor per catalogue id, T01 to T39, in docs/reliability.md', () => {
    const text = read('docs/reliability.md');

    for (let n = 1; n <= 39; n++) {
      const id = `t${String(n).padStart(2, '0')}`;
      assert.equal(text.split(`<a id="${id}"></a>T${id.slice(1)}`).length - 1, 1, id);
    }
  });

  it('resolves every relative link of the documents and READMEs, #anchors into markdown included', () => {
    const broken: string[] = [];
    for (const file of [...DOCS, ...READMES]) {
      for (const link of links(read(file))) {
        const [path, anchor] = link.split('#') as [string, string | undefined];
        const target = path === '' ? file : normalize(join(dirname(file), path));
        if (!existsSync(join(ROOT, target))) {
          broken.push(`${file}: ${link} (no ${target})`);
          continue;
        }
        if (anchor !== undefined && target.endsWith('.md') && !anchors(read(target)).has(anchor)) {
          broken.push(`${file}: ${link} (no #${anchor} in ${target})`);
        }
      }
    }

    assert.deepEqual(broken, []);
  });
});
