/**
 * Svelte 5 typings for `<galaxy-pay-button>` (`svelte-check`): once in the app,
 * `import type {} from '@galaxy-pay/widget/svelte';` types its attributes and its `ongalaxy-pay-*` event
 * attributes (`<galaxy-pay-button ongalaxy-pay-result={e => …}>`).
 */

import type { HTMLAttributes } from 'svelte/elements';
import type {
  GalaxyPayButtonAttributes,
  GalaxyPayButtonEventAttributes,
} from '../dist/attributes.js';
import type { GalaxyPayButton } from '../dist/index.js';

/** The element's attributes and event attributes (`../dist/attributes.d.ts`) over Svelte's own. */
export type GalaxyPayButtonSvelteProps = Omit<
  HTMLAttributes<GalaxyPayButton>,
  'lang' | keyof GalaxyPayButtonAttributes | keyof GalaxyPayButtonEventAttributes
> &
  GalaxyPayButtonAttributes &
  GalaxyPayButtonEventAttributes;

declare module 'svelte/elements' {
  export interface SvelteHTMLElements {
    'galaxy-pay-button': GalaxyPayButtonSvelteProps;
  }
}
