import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import express from 'express';

/**
 * The HTTP status of a GraphQL request error (a parse or validation failure, a variable that does not coerce, a
 * query over a limit) follows the response's media type, as the GraphQL over HTTP spec asks:
 * - `application/graphql-response+json`: 400, so the status tells that nothing executed;
 * - `application/json` (also what a client without an Accept header gets): 200, because legacy JSON clients and
 *   proxies cannot tell a GraphQL answer carrying errors from an HTTP failure that carries none.
 * Apollo answers 400 under both. Requests that are not well-formed GraphQL-over-HTTP (CSRF, a batch, a GET
 * mutation: 405) keep their status, as do 429 and 5xx answers; so does a request Apollo refuses as BAD_REQUEST
 * inside its pipeline (no query at all: not a GraphQL request).
 */
const JSON_TYPE = 'application/json';
const GRAPHQL_RESPONSE_TYPE = 'application/graphql-response+json';

/**
 * The media type of the answer for this Accept header, or false when the client accepts neither (Apollo then answers
 * 406). express's negotiation: the `negotiator` package Apollo's own choice uses, and no header means application/json.
 */
function responseType(accept: string | undefined): string | false {
  const request = { headers: accept === undefined ? {} : { accept } } as unknown as express.Request;
  return express.request.accepts.call(request, JSON_TYPE, GRAPHQL_RESPONSE_TYPE);
}

export function responseStatusPlugin(): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ request, response }) {
          if (response.body.kind !== 'single') return;
          const type = responseType(request.http?.headers.get('accept'));
          if (!type) return;
          // Set here, so the status and the media type come from one decision.
          response.http.headers.set('content-type', `${type}; charset=utf-8`);
          const requestErrors = response.body.singleResult.errors ?? [];
          if (type === JSON_TYPE && response.http.status === 400 && !requestErrors.some((e) => e.extensions?.code === 'BAD_REQUEST')) {
            response.http.status = 200;
          }
        },
      };
    },
  };
}
