/** The server package as the binaries report it. */

import { readFileSync } from 'node:fs';

/** `version` of server/package.json: what `--version` prints. */
export const SERVER_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
