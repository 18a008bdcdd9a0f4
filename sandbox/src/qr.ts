/**
 * A VietQR-shaped EMVCo payload for payWithQR. Galaxy Pay's `qrCode` field is [OBSERVED] only; the sandbox
 * returns a well-formed EMV string (TLV fields, CRC-16/CCITT-FALSE) that any QR library can render.
 */

import type { Transaction } from './ledger.js';

function tlv(id: string, value: string): string {
  return `${id}${String(value.length).padStart(2, '0')}${value}`;
}

function crc16(text: string): string {
  let crc = 0xffff;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc.toString(16).toUpperCase().padStart(4, '0');
}

export function vietQrPayload(txn: Transaction): string {
  const merchantAccount =
    tlv('00', 'A000000727') + tlv('01', tlv('00', '970400') + tlv('01', 'GALAXYPAYSANDBOX'));
  const body =
    tlv('00', '01') +
    tlv('01', '12') + // dynamic QR: one payment
    tlv('38', merchantAccount) +
    tlv('53', '704') + // VND
    tlv('54', String(txn.amount)) +
    tlv('58', 'VN') +
    tlv('62', tlv('05', txn.transactionID.slice(0, 25))) +
    '6304';
  return body + crc16(body);
}
