/**
 * Admin handlers for payment links: create one at the gateway (audited), list them, show one. Their IPN is
 * settled by the IPN intake (ipn.ts, operations/links.ts). Behind the bearer check.
 */

import type { RequestHandler } from 'express';
import { z } from 'zod';
import { paymentLinkMethods } from '@galaxy-pay/protocol';
import { recordAudit } from '../../operations/common.js';
import { createLink, type LinkDeps } from '../../operations/links.js';
import { HttpError } from '../errors.js';
import { limitOf, operatorOf, parseBody } from '../validation.js';
import { linkView } from '../views.js';

const linkBody = z.strictObject({
  name: z.string().min(1).max(250),
  description: z.string().min(1).max(250),
  amount: z.number().int().min(1).max(100_000_000_000),
  expiryDuration: z.number().int().min(1).max(10_000),
  expiryUnit: z.enum(['DAY', 'HOUR', 'MINUTE']).default('DAY'),
  methods: z
    .array(z.enum(paymentLinkMethods as unknown as [string, ...string[]]))
    .min(1)
    .max(10)
    .default(['GALAXYPAY', 'MPGS', 'QRPAY', 'NAPAS']),
  fields: z
    .array(z.enum(['email', 'fullname', 'phone', 'shippingAddress']))
    .max(4)
    .default([]),
  language: z.enum(['vi', 'en']).optional(),
});

export function adminLinkHandlers(
  deps: LinkDeps,
): Record<'create' | 'list' | 'show', RequestHandler> {
  /** `POST /admin/links`: a payment link at the gateway, stored to be settled by its IPN. */
  const create: RequestHandler = async (req, res) => {
    const operator = operatorOf(req);
    const body = parseBody(linkBody, req.body ?? {});
    const link = await createLink(deps, {
      ...body,
      name: body.name.normalize('NFC'),
      description: body.description.normalize('NFC'),
      operator,
    });
    await recordAudit(deps, 'link_create', operator, `link ${link.orderNo} for ${link.amount} VND`);
    res.status(201).json({ link: linkView(link, deps.now()) });
  };

  /** `GET /admin/links`: recent links, newest first. */
  const list: RequestHandler = async (req, res) => {
    const links = await deps.store.listLinks(limitOf(req));
    res.json({ links: links.map(link => linkView(link, deps.now())) });
  };

  /** `GET /admin/links/:orderNo`: one link. */
  const show: RequestHandler = async (req, res) => {
    const link = await deps.store.getLink(String(req.params.orderNo).slice(0, 100));
    if (!link) throw new HttpError(404, 'link_not_found', 'no such payment link');
    res.json({ link: linkView(link, deps.now()) });
  };

  return { create, list, show };
}
