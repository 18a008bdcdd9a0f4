import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  completeInSandbox,
  eventually,
  requestDataOf,
  sandboxRequests,
  transactionIdOf,
  useStack,
  widgetCall,
} from './testing/test-support.js';

// The happy path, end to end: priced by the signer, paid at the sandbox, settled by the verified IPN.
describe('signer over the real sandbox (SQLite)', () => {
  const stack = useStack();

  describe('POST /sessions then a verified IPN', () => {
    it('prices the order server-side, opens the hosted page and ends paid after the IPN', async () => {
      const created = await widgetCall(stack(), 'POST', '/sessions', {
        orderRef: 'ORDER-1',
        locale: 'vi',
      });

      assert.equal(created.status, 201, created.text);
      assert.match(
        String(created.json.checkoutUrl),
        new RegExp(`^${stack().sandboxUrl}/checkout/\\d{25}$`),
      );
      const sent = await sandboxRequests(stack());
      assert.equal(requestDataOf(sent.at(-1)!).orderAmount, 500_000);

      await completeInSandbox(stack(), transactionIdOf(created.json.checkoutUrl), 'success');

      const status = await eventually(async () => {
        const read = await widgetCall(
          stack(),
          'GET',
          `/sessions/${String(created.json.sessionId)}`,
        );
        return read.json.status === 'paid' ? read : undefined;
      });
      assert.equal(status.json.amount, 500_000);
      assert.equal(status.json.currency, 'VND');
    });
  });
});
