/** Target entry: the sandbox, the signer's gateway. No transaction is completed, so it sends no IPN. */

import { createSandbox } from '@galaxy-pay/sandbox';
import { BENCH_API_KEY, BENCH_SALT } from '../messages.js';
import { serve } from './serve.js';

void serve(async () => {
  const sandbox = createSandbox({ apiKey: BENCH_API_KEY, salt: BENCH_SALT });
  const url = await sandbox.listen(0, '127.0.0.1');
  return { url, close: () => sandbox.close() };
});
