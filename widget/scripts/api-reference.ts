/**
 * Writes the element's API reference (`API.md`) from the Custom Elements Manifest the build emits
 * (`dist/custom-elements.json`): attributes, public properties and methods, events, slots, parts and CSS
 * custom properties. Run by `pnpm run api`; `test-server/dist.test.ts` fails when API.md is stale.
 */

import { readFileSync, writeFileSync } from 'node:fs';

interface Described {
  name: string;
  description?: string;
  type?: { text: string };
  default?: string;
  kind?: string;
  privacy?: string;
  static?: boolean;
  attribute?: string;
  fieldName?: string;
  parameters?: Described[];
}
interface Declaration {
  tagName?: string;
  summary?: string;
  description?: string;
  attributes?: Described[];
  members?: Described[];
  events?: Described[];
  slots?: Described[];
  cssParts?: Described[];
  cssProperties?: Described[];
}

const cell = (text: string | undefined) => (text ?? '').replace(/\|/g, '\\|').replace(/\s+/g, ' ');
const code = (text: string | undefined) => (text ? `\`${cell(text)}\`` : '');

function table(head: string[], rows: string[][]): string {
  if (rows.length === 0) return '_None._\n';
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n') + '\n';
}

/** The reference as Markdown, from the manifest's text. */
export function apiReference(manifestText: string): string {
  const manifest = JSON.parse(manifestText) as { modules: { declarations?: Declaration[] }[] };
  const element = manifest.modules
    .flatMap(module => module.declarations ?? [])
    .find(declaration => declaration.tagName);
  if (!element) throw new Error('the manifest declares no custom element');
  const publicMembers = (element.members ?? []).filter(
    member => !member.privacy && !member.static && !member.name.startsWith('_'),
  );
  const fields = publicMembers.filter(member => member.kind === 'field');
  const methods = publicMembers.filter(member => member.kind === 'method');
  return [
    `# \`<${element.tagName}>\` API reference`,
    '',
    '_Generated from `dist/custom-elements.json` by `pnpm --filter @galaxy-pay/widget run api`; do not edit._',
    '',
    cell(element.summary ?? element.description),
    '',
    '## Attributes',
    '',
    table(
      ['attribute', 'property', 'type', 'default', 'description'],
      (element.attributes ?? []).map(a => [
        code(a.name),
        code(a.fieldName),
        code(a.type?.text),
        code(a.default),
        cell(a.description),
      ]),
    ),
    '## Properties',
    '',
    table(
      ['property', 'attribute', 'type', 'description'],
      fields.map(f => [code(f.name), code(f.attribute), code(f.type?.text), cell(f.description)]),
    ),
    '## Methods',
    '',
    table(
      ['method', 'description'],
      methods.map(m => [
        code(`${m.name}(${(m.parameters ?? []).map(p => p.name).join(', ')})`),
        cell(m.description),
      ]),
    ),
    '## Events',
    '',
    table(
      ['event', 'class', 'description'],
      (element.events ?? []).map(e => [code(e.name), code(e.type?.text), cell(e.description)]),
    ),
    '## Slots',
    '',
    table(
      ['slot', 'description'],
      (element.slots ?? []).map(s => [s.name ? code(s.name) : '(default)', cell(s.description)]),
    ),
    '## CSS parts',
    '',
    table(
      ['part', 'description'],
      (element.cssParts ?? []).map(p => [code(p.name), cell(p.description)]),
    ),
    '## CSS custom properties',
    '',
    table(
      ['property', 'default', 'description'],
      (element.cssProperties ?? []).map(p => [code(p.name), code(p.default), cell(p.description)]),
    ),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const dist = new URL('../dist/custom-elements.json', import.meta.url);
  writeFileSync(new URL('../API.md', import.meta.url), apiReference(readFileSync(dist, 'utf8')));
}
