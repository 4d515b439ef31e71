import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestContext } from '../context';
import { currentRequest } from './request-record';

/**
 * Fills the request's record (request-record.ts) with what only Apollo knows: the operation's name and type, who
 * ran it, and the codes of its errors. The operation name is the client's word: it is kept only when it is a
 * GraphQL name (the document's own name once parsed, else the request's `operationName` if it looks like one).
 */
const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;

export function operationObserverPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart({ request }) {
      const record = currentRequest();
      if (!record) return {};
      if (typeof request.operationName === 'string' && NAME.test(request.operationName)) record.operationName = request.operationName;
      return {
        async didResolveOperation({ operation, operationName }) {
          record.operationType = operation?.operation ?? null;
          record.operationName = operationName && NAME.test(operationName) ? operationName : null;
        },
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind === 'single') {
            for (const error of response.body.singleResult.errors ?? []) {
              const code = error.extensions?.code;
              if (typeof code === 'string') record.codes.add(code);
            }
          }
          try {
            // After a login the request runs as the operator who signed in, and that is who the line names.
            const operator = contextValue?.policy?.authenticated();
            if (operator) record.operator = { kind: operator.kind, id: operator.id };
          } catch {
            // No operator: an anonymous request (login, or refused).
          }
        },
      };
    },
  };
}
