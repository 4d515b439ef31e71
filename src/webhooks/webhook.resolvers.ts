import type { Resolvers } from '../generated/graphql';
import { encodeEventCursor } from '../events/event-position';
import {
  countPendingEvents, createWebhook, deleteWebhook, getWebhook, listDeliveries, listWebhooks, updateWebhook, webhookCursor, webhookSecretHint,
} from './webhook.service';

export const webhookResolvers: Resolvers = {
  Query: {
    webhooks: (_parent, _args, ctx) => listWebhooks(ctx),
    webhook: (_parent, { id }, ctx) => getWebhook(ctx, id),
  },
  Mutation: {
    createWebhook: (_parent, { input }, ctx) => createWebhook(ctx, input),
    updateWebhook: (_parent, { id, input }, ctx) => updateWebhook(ctx, id, input),
    deleteWebhook: (_parent, { id }, ctx) => deleteWebhook(ctx, id),
  },
  Webhook: {
    events: (webhook) => webhook.eventTypes as never,
    families: (webhook) => webhook.families as never,
    roles: (webhook, _args, ctx) => ctx.loaders.rolesByWebhook.load(webhook.id),
    secretHint: (webhook) => webhookSecretHint(webhook),
    cursor: (webhook) => webhookCursor(webhook),
    pendingEvents: (webhook, _args, ctx) => countPendingEvents(ctx, webhook),
    deliveries: (webhook, args, ctx) => listDeliveries(ctx, webhook, args),
  },
  WebhookDelivery: {
    eventCursor: (delivery) => encodeEventCursor({ xid: delivery.eventXid, id: delivery.eventId }),
    eventType: (delivery) => delivery.eventType as never,
  },
};
