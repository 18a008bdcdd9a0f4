/**
 * `cem analyze` (the build's last step): `dist/custom-elements.json` from the element's JSDoc, with the module
 * path of the file the package ships (the ESM entry that exports the element), the five events by name and
 * class (`@fires {Class} name`), only declarations the module exports, and no internal state as attributes.
 */

const SHIPPED = 'dist/index.js';

/** @type {import('@custom-elements-manifest/analyzer').Config} */
export default {
  globs: ['src/galaxy-pay-button.ts'],
  outdir: 'dist',
  litelement: true,
  quiet: true,
  packagejson: false,
  plugins: [
    {
      name: 'galaxy-pay-shipped-module',
      packageLinkPhase({ customElementsManifest }) {
        for (const module of customElementsManifest.modules) {
          const source = module.path;
          module.path = SHIPPED;
          const exported = new Set((module.exports ?? []).map(item => item.declaration.name));
          // Variables the analyzer takes from destructuring inside methods (`const { status } = view`).
          module.declarations = (module.declarations ?? []).filter(item => exported.has(item.name));
          for (const item of module.exports ?? []) {
            if (item.declaration.module === source) item.declaration.module = SHIPPED;
          }
          for (const declaration of module.declarations) {
            // `dispatchEvent(new GalaxyPay…Event(…))` adds a nameless entry next to the `@fires` one.
            if (declaration.events)
              declaration.events = declaration.events.filter(event => event.name);
            // Internal state (`static properties` with `state: true`, which the analyzer reads as attributes).
            const internal = new Set(
              (declaration.members ?? [])
                .filter(member => member.privacy === 'private')
                .map(member => member.name),
            );
            if (declaration.attributes) {
              declaration.attributes = declaration.attributes.filter(
                attribute => !internal.has(attribute.fieldName),
              );
            }
            for (const member of declaration.members ?? []) {
              if (internal.has(member.name)) delete member.attribute;
            }
          }
        }
      },
    },
  ],
};
