/** Tiny HTML helpers for the hosted pages: every value is escaped; no inline script or style. */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, ch => ESCAPES[ch]!);
}

/** A full page around `body` (already-escaped HTML). */
export function layout({
  title,
  lang,
  body,
}: {
  title: string;
  lang: string;
  body: string;
}): string {
  return `<!doctype html>
<html lang="${escapeHtml(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/__assets/sandbox.css">
</head>
<body>
<main class="card">
<header class="brand"><span class="logo" aria-hidden="true">G</span> Galaxy Pay <span class="badge">SANDBOX</span></header>
${body}
</main>
</body>
</html>`;
}

/** Formats an amount for people: `100.000 ₫` in Vietnamese, `100,000 VND` in English. */
export function formatAmount(amount: number, currency: string, lang: string): string {
  const text = new Intl.NumberFormat(lang === 'vi' ? 'vi-VN' : 'en-US').format(amount);
  return currency === 'VND' && lang === 'vi' ? `${text} ₫` : `${text} ${currency}`;
}

export const STYLESHEET = `
:root { color-scheme: light; --accent: #5b3df5; --ink: #1d1b2c; --muted: #6b6880; --line: #e4e2ee; }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: #f4f3fa;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); }
.card { width: min(440px, 100vw); background: #fff; border-radius: 16px; padding: 24px;
  box-shadow: 0 8px 30px rgba(29, 27, 44, .08); }
.brand { display: flex; align-items: center; gap: 8px; font-weight: 700; margin-bottom: 16px; }
.logo { display: inline-grid; place-items: center; width: 28px; height: 28px; border-radius: 8px;
  background: var(--accent); color: #fff; }
.badge { margin-left: auto; font-size: 11px; letter-spacing: .08em; color: #9a5b00; background: #fff4df;
  padding: 2px 8px; border-radius: 999px; }
h1 { font-size: 20px; margin: 0 0 4px; }
.amount { font-size: 28px; font-weight: 700; margin: 8px 0 16px; }
.muted { color: var(--muted); font-size: 14px; }
form { display: grid; gap: 12px; margin: 0; }
label { display: grid; gap: 4px; font-size: 14px; font-weight: 600; }
input, select { font: inherit; width: 100%; min-width: 0; padding: 10px 12px; border: 1px solid var(--line);
  border-radius: 10px; }
h2 { font-size: 17px; margin: 16px 0 8px; }
input:focus, select:focus, button:focus-visible, a:focus-visible { outline: 3px solid rgba(91, 61, 245, .35); outline-offset: 1px; }
button, .button { font: inherit; font-weight: 600; padding: 12px 16px; border-radius: 10px; border: 0;
  background: var(--accent); color: #fff; cursor: pointer; text-align: center; text-decoration: none; }
button.secondary { background: #eeedf6; color: var(--ink); }
.methods { display: grid; gap: 8px; }
.methods a { display: block; padding: 12px 16px; border: 1px solid var(--line); border-radius: 10px;
  color: var(--ink); text-decoration: none; font-weight: 600; }
.methods a:hover { border-color: var(--accent); }
.row { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.error { background: #fdecec; color: #a11; padding: 10px 12px; border-radius: 10px; }
.hint { background: #f4f3fa; padding: 10px 12px; border-radius: 10px; font-size: 13px; }
.qr { font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; background: #f4f3fa;
  padding: 12px; border-radius: 10px; }
.outcome { font-size: 40px; }
nav.lang { margin-top: 16px; font-size: 13px; text-align: right; }
nav.lang a { color: var(--muted); }
.actions { display: grid; gap: 8px; margin-top: 12px; }
`;

/** Submits the callback form when the page loads (served as a file: the page CSP has no 'unsafe-inline'). */
export const AUTOSUBMIT_SCRIPT = `document.addEventListener('DOMContentLoaded', function () {
  var form = document.getElementById('callback');
  if (form) form.submit();
});
`;
