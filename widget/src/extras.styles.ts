import { css } from 'lit';

/**
 * The styles of what the lazily loaded steps render (the gateway's frame, the saved-cards chooser, the QR
 * code), adopted by the element before they first render it; like the element's own, a constructed
 * stylesheet.
 */
export const extraStyles = css`
  iframe {
    position: absolute;
    inset: 0;
    width: 100%;
    height: 100%;
    border: 0;
    background: #fff;
  }
  .loading {
    opacity: 0;
  }
  .pick {
    display: grid;
    gap: 12px;
    width: min(100%, 340px);
    padding: 16px;
    text-align: start;
  }
  fieldset {
    display: grid;
    gap: 4px;
    margin: 0;
    padding: 0;
    border: 0;
  }
  legend {
    margin-bottom: 8px;
    font-weight: 600;
  }
  .pick label {
    display: flex;
    align-items: center;
    gap: 10px;
    min-height: 44px;
    padding: 0 12px;
    border: 1px solid color-mix(in srgb, currentColor 25%, transparent);
    border-radius: var(--galaxy-pay-radius);
  }
  .pick input {
    accent-color: var(--galaxy-pay-accent);
  }
  .go {
    min-height: 44px;
    border: 0;
    border-radius: var(--galaxy-pay-radius);
    background: var(--galaxy-pay-accent);
    color: var(--galaxy-pay-accent-text);
    font-weight: 600;
  }
  .qr {
    display: grid;
    justify-items: center;
    gap: 8px;
    padding: 16px;
  }
  .qr img {
    width: min(280px, 70vw);
    height: auto;
    aspect-ratio: 1;
    background: #fff;
  }
  .qr p {
    margin: 0;
  }
`;

const styled = new WeakSet<HTMLElement>();

/** Adds `extraStyles` to `host`'s adopted stylesheets, once. */
export function adoptExtraStyles(host: HTMLElement): void {
  const root = host.shadowRoot!;
  if (styled.has(host)) return;
  styled.add(host);
  root.adoptedStyleSheets = [...root.adoptedStyleSheets, extraStyles.styleSheet!];
}
