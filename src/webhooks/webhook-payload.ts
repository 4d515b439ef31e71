import {
  DocumentNode, execute, GraphQLInterfaceType, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, parse, validate,
} from 'graphql';
import type { RequestContext } from '../context';
import type { EventView } from '../events/event-view';
import type { DeliveryTarget } from './webhook-delivery.repository';

/**
 * What a webhook's request carries of an event: the fields the `events` query gives (`events { edges { node { … } } }`)
 * with this selection, resolved by the schema's own resolvers behind its field guard, as the webhook's operator.
 * Objects (`user`, `fine` ...) are left out: a partner reads them with its API key, under its own policy, when it
 * needs them, and a request stays small whatever the event.
 */
const EVENT_SELECTION = `
  query WebhookEvent {
    event {
      cursor type family at by
      changes { field oldValue newValue }
      ... on UserEvent { userId }
      ... on FineEvent { fineId userId }
      ... on BlockOrNoteEvent { itemId userId }
      ... on RoleEvent { subjectType subjectId }
      ... on ConfigurationEvent { subjectId }
    }
  }`;

export interface WebhookBody {
  id: string;
  webhookId: string;
  event: Record<string, unknown>;
}

export type EventShaper = (ctx: RequestContext, view: EventView) => Promise<Record<string, unknown>>;

/**
 * Builds the shaper over the server's schema: a schema whose only root field returns the event given as root value,
 * and whose every other type is the server's (the same resolvers and field guards). Parsed and validated once.
 */
export function createEventShaper(schema: GraphQLSchema): EventShaper {
  const changeEvent = schema.getType('ChangeEvent') as GraphQLInterfaceType;
  const root = new GraphQLObjectType({
    name: 'WebhookRoot',
    fields: { event: { type: new GraphQLNonNull(changeEvent), resolve: (view: EventView) => view } },
  });
  const shaping = new GraphQLSchema({ query: root, types: [...schema.getPossibleTypes(changeEvent)] });
  const document: DocumentNode = parse(EVENT_SELECTION);
  const problems = validate(shaping, document);
  if (problems.length > 0) throw new Error(`the webhook event selection is invalid: ${problems.map((p) => p.message).join('; ')}`);
  return async (ctx, view) => {
    const result = await execute({ schema: shaping, document, rootValue: view, contextValue: ctx });
    if (result.errors?.length) throw new Error(`shaping event ${view.row.id} failed: ${result.errors[0].message}`);
    return JSON.parse(JSON.stringify(result.data!.event)) as Record<string, unknown>;
  };
}

export function bodyOf(target: DeliveryTarget, deliveryId: string, event: Record<string, unknown>): string {
  const body: WebhookBody = { id: deliveryId, webhookId: target.id, event };
  return JSON.stringify(body);
}
