import { css } from 'lit';

/**
 * Adopted by Lit as a constructed stylesheet: no inline `style`, so `style-src 'self'` is enough. What only the
 * lazily loaded steps render is styled in `extras.styles.ts`.
 */
export const styles = css`
  :host {
    display: inline-block;
    --galaxy-pay-accent: #4f2fe0;
    --galaxy-pay-accent-text: #fff;
    --galaxy-pay-surface: #fff;
    --galaxy-pay-text: #1d1b2c;
    --galaxy-pay-radius: 10px;
    --galaxy-pay-font: inherit;
    --galaxy-pay-backdrop: rgb(17 12 40 / 0.6);
    --galaxy-pay-dialog-width: 480px;
    --galaxy-pay-dialog-height: 720px;
    font-family: var(--galaxy-pay-font);
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --galaxy-pay-accent: #9d8bff;
      --galaxy-pay-accent-text: #120d2b;
      --galaxy-pay-surface: #1b1830;
      --galaxy-pay-text: #ece9ff;
    }
  }
  button {
    font: inherit;
    cursor: pointer;
  }
  [part='button'] {
    display: inline-flex;
    align-items: center;
    gap: 0.5em;
    min-height: 44px;
    padding: 0.6em 1.4em;
    border: 0;
    border-radius: var(--galaxy-pay-radius);
    background: var(--galaxy-pay-accent);
    color: var(--galaxy-pay-accent-text);
    font-weight: 600;
    box-shadow: 0 1px 2px rgb(0 0 0 / 0.2);
    transition: filter 0.15s;
  }
  [part='button']:hover {
    filter: brightness(1.1);
  }
  button:focus-visible {
    outline: 3px solid var(--galaxy-pay-accent);
    outline-offset: 2px;
  }
  [part='button']:disabled,
  [aria-disabled='true'] {
    cursor: not-allowed;
    opacity: 0.6;
  }
  dialog {
    box-sizing: border-box;
    width: min(var(--galaxy-pay-dialog-width), 100vw);
    height: min(var(--galaxy-pay-dialog-height), 100dvh);
    max-width: 100vw;
    max-height: 100dvh;
    padding: 0;
    border: 0;
    border-radius: var(--galaxy-pay-radius);
    background: var(--galaxy-pay-surface);
    color: var(--galaxy-pay-text);
    box-shadow: 0 20px 60px rgb(0 0 0 / 0.35);
  }
  dialog[open] {
    display: flex;
    flex-direction: column;
  }
  dialog::backdrop {
    background: var(--galaxy-pay-backdrop);
  }
  header,
  footer {
    display: flex;
    justify-content: flex-end;
    padding: 4px;
  }
  footer {
    justify-content: center;
  }
  .alt {
    min-height: 44px;
    padding: 0 1em;
    border: 0;
    background: none;
    color: inherit;
    text-decoration: underline;
  }
  .x {
    width: 44px;
    height: 44px;
    border: 0;
    border-radius: 50%;
    background: none;
    color: inherit;
    font-size: 28px;
    line-height: 1;
  }
  .body {
    position: relative;
    flex: 1;
    display: grid;
    place-items: center;
    text-align: center;
  }
  .spin {
    width: 36px;
    height: 36px;
    border: 4px solid color-mix(in srgb, var(--galaxy-pay-accent) 25%, transparent);
    border-top-color: var(--galaxy-pay-accent);
    border-radius: 50%;
    animation: spin 0.9s linear infinite;
  }
  @keyframes spin {
    to {
      transform: rotate(360deg);
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .spin {
      animation-duration: 3s;
    }
  }
  .sr {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
`;
