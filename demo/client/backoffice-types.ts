/** The shapes the back office's API answers with (`/api/backoffice/*`, from the signer's admin API). */

export interface Payment {
  sessionId: string;
  status: string;
  orderRef: string;
  amount: number;
  transactionId: string | null;
  code: string | null;
  updatedAt: string;
  paidAt: string | null;
  plan?: { op: string | null; capture: string; customerRef: string | null } | null;
  captured?: number;
  refunded?: number;
  refundPending?: number;
  refundable?: number;
}

export interface Operation {
  id: string;
  kind: string;
  state: string;
  amount: number | null;
  operator: string;
  idempotencyKey: string | null;
  responseCode: string | null;
  responseMessage: string | null;
  detail: string | null;
  createdAt: string;
}

export interface OrderDetail {
  order: { orderRef: string; amount: number; description: string; createdAt: string };
  payments: Payment[];
  operations: Operation[];
  shop: { status: string; refunded: number } | null;
}

export interface Link {
  orderNo: string;
  name: string;
  amount: number;
  shortLink: string | null;
  status: string;
  createdAt: string;
  paidAt: string | null;
}
