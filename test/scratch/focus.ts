import { createServer } from 'node:http';
import { chromium } from 'playwright-core';
const inner = createServer((req, res) => {
  res.setHeader('content-type', 'text/html');
  if (req.url?.startsWith('/otp')) {
    const script = req.url.includes('script') ? `<script src="/f.js"></script>` : '';
    res.end(`<!doctype html><form method=post action="/x"><input name=otp autofocus></form>${script}`);
  } else if (req.url === '/f.js') {
    res.setHeader('content-type', 'text/javascript');
    res.end(`document.querySelector('[autofocus]').focus(); parent.postMessage('focused:'+ (document.activeElement && document.activeElement.name) + ':' + document.hasFocus(), '*')`);
  } else {
    const next = req.url?.includes('script') ? '/otp?script' : '/otp';
    res.end(`<!doctype html><form method=get action="${next.split('?')[0]}">${req.url?.includes('script')?'<input type=hidden name=script value=1>':''}<button id=go>Next</button></form>`);
  }
}).listen(9101);
const outer = createServer((req, res) => {
  res.setHeader('content-type', 'text/html');
  const q = req.url?.includes('script') ? '?script=1' : '';
  const allow = req.url?.includes('allow') ? ' allow="focus-without-user-activation *"' : '';
  res.end(`<!doctype html><body><button id=b>x</button><iframe src="http://127.0.0.1:9101/start${q}"${allow}></iframe></body>`);
}).listen(9102);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
for (const variant of ['', 'script', 'allow', 'script&allow']) {
  const page = await browser.newPage();
  page.on('console', m => console.log(variant, 'console:', m.text()));
  await page.goto(`http://localhost:9102/?${variant}`);
  const frame = page.frameLocator('iframe');
  await frame.locator('#go').click();
  await frame.locator('input[name=otp]').waitFor();
  await new Promise(r => setTimeout(r, 500));
  const active = await page.frames()[1].evaluate(() => [document.activeElement?.tagName, (document.activeElement as HTMLInputElement)?.name, document.hasFocus()]);
  console.log(variant || 'plain', active);
  await page.close();
}
await browser.close(); inner.close(); outer.close();
