/** How `galaxy-pay` prints the signer's answers for people: aligned tables, amounts in VND. */

export type Json = Record<string, unknown>;

export function table(head: string[], rows: unknown[][]): string {
  const cells = [
    head,
    ...rows.map(row => row.map(cell => (cell === null || cell === undefined ? '' : String(cell)))),
  ];
  const widths = head.map((_, i) => Math.max(...cells.map(row => row[i]!.length)));
  return cells
    .map(row =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const vnd = (value: unknown) =>
  typeof value === 'number' ? `${value.toLocaleString('en-US')} VND` : '';

export function renderPayments(payments: Json[]): string {
  if (payments.length === 0) return 'No payments.';
  return table(
    ['ORDER', 'STATUS', 'AMOUNT', 'TRANSACTION', 'SESSION', 'UPDATED'],
    payments.map(p => [
      p.orderRef,
      p.status,
      vnd(p.amount),
      p.transactionId,
      p.sessionId,
      // When the payment last changed (a pending one's expiresAt is in the future: never shown here).
      p.updatedAt ?? p.paidAt,
    ]),
  );
}

export function renderPayment(p: Json): string {
  const lines = [
    `order ${String(p.orderRef)}  session ${String(p.sessionId)}`,
    `  status       ${String(p.status)}${p.lateSuccess ? ' (late success)' : ''}`,
    `  amount       ${vnd(p.amount)}`,
    `  transaction  ${String(p.transactionId ?? '-')}`,
  ];
  if (typeof p.captured === 'number') {
    lines.push(`  captured     ${vnd(p.captured)}`, `  refunded     ${vnd(p.refunded)}`);
    if (p.refundPending) lines.push(`  in doubt     ${vnd(p.refundPending)}`);
    lines.push(`  refundable   ${vnd(p.refundable)}`);
  }
  return lines.join('\n');
}

export function renderOperation(op: Json): string {
  return `${String(op.kind)} ${String(op.state)}${op.amount ? ` ${vnd(op.amount)}` : ''} by ${String(op.operator)} (operation ${String(op.id)}${op.responseCode ? `, gateway ${String(op.responseCode)}` : ''})`;
}

export function renderOrder(json: Json): string {
  const order = json.order as Json;
  const payments = json.payments as Json[];
  const operations = json.operations as Json[];
  const parts = [
    `order ${String(order.orderRef)}: ${vnd(order.amount)} — ${String(order.description)}`,
    ...payments.map(renderPayment),
  ];
  if (operations.length > 0) {
    parts.push(
      'audit trail:',
      table(
        ['WHEN', 'WHO', 'WHAT', 'AMOUNT', 'STATE', 'GATEWAY'],
        operations.map(op => [
          op.createdAt,
          op.operator,
          op.kind,
          vnd(op.amount),
          op.state,
          op.responseCode ?? op.detail ?? '',
        ]),
      ),
    );
  }
  return parts.join('\n');
}

export function renderLinks(links: Json[]): string {
  if (links.length === 0) return 'No payment links.';
  return table(
    ['ORDER NO', 'STATUS', 'AMOUNT', 'EXPIRES', 'LINK', 'NAME'],
    links.map(l => [l.orderNo, l.status, vnd(l.amount), l.expiresAt, l.shortLink, l.name]),
  );
}
