// pnpm loads this before it installs anything. better-sqlite3 builds with node-gyp, which downloads
// Node's headers from nodejs.org unless it finds them in its cache; only the npm registry is reachable
// on our machines, and Debian's nodejs ships the headers in /usr/include/node. Point the cache at them.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const version = process.versions.node;
const headers = '/usr/include/node';
const cacheRoot = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
const devDir = path.join(cacheRoot, 'node-gyp', version);
if (
  fs.existsSync(path.join(headers, 'common.gypi')) &&
  !fs.existsSync(path.join(devDir, 'installVersion'))
) {
  fs.mkdirSync(path.join(devDir, 'include'), { recursive: true });
  fs.symlinkSync(headers, path.join(devDir, 'include', 'node'));
  fs.writeFileSync(path.join(devDir, 'installVersion'), '11\n');
}

module.exports = { hooks: {} };
