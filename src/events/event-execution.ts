import { createSourceEventStream, execute, ExecutionArgs, ExecutionResult, print } from 'graphql';
import type { RequestContext } from '../context';
import { audienceKey } from '../policy/event-audience';
import type { Operator } from '../policy/operator';
import type { StreamItem } from './event-stream';

/** Reads of the hub whose results a group keeps, so a subscriber a little behind the others still shares them. */
const KEPT_READS = 8;

/**
 * Subscribers that asked the same query with the same variables and whose
 * operators the policy cannot tell apart (policy/event-audience.ts
 * `audienceKey`) would get the same answer for every event: they share one
 * execution of it. A thousand partners' connections on one query cost one
 * execution and one set of loader statements per read of the outbox, not a
 * thousand.
 */
interface Group {
  members: number;
  /** A context of one member's operator, with fresh loaders for every read: the objects are read as they are now. */
  context: RequestContext;
  operator: Operator;
  seq: number | null;
  results: Map<number, Map<string, Promise<ExecutionResult>>>;
}

export type ContextFor = (operator: Operator) => RequestContext;

/**
 * graphql-ws's `subscribe`: graphql-js's own subscription semantics (the root
 * field's guarded `subscribe` opens the stream, each event is executed
 * against the operation with the event as root value), with the execution
 * shared within a group.
 */
export function createSharedSubscribe(contextFor: ContextFor) {
  const groups = new Map<string, Group>();

  function resultOf(group: Group, args: ExecutionArgs, item: StreamItem): Promise<ExecutionResult> {
    let read = group.results.get(item.seq);
    if (!read) {
      if (group.seq !== item.seq) {
        group.context.actAs(group.operator);
        group.seq = item.seq;
      }
      read = new Map();
      group.results.set(item.seq, read);
      if (group.results.size > KEPT_READS) group.results.delete(group.results.keys().next().value!);
    }
    // The whole read at once, so the loaders of the group's context batch across its events.
    for (const sibling of item.siblings) {
      if (!read.has(sibling.row.id)) {
        read.set(sibling.row.id, Promise.resolve(execute({ ...args, contextValue: group.context, rootValue: { ...item, view: sibling } })));
      }
    }
    return read.get(item.view.row.id)!;
  }

  return async function subscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    const stream = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in stream)) return stream as ExecutionResult;
    const events = stream as AsyncIterableIterator<StreamItem>;
    const ctx = args.contextValue as RequestContext;
    const query = `${print(args.document)}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
    let joined: { key: string; group: Group; operator: Operator } | null = null;
    const leave = () => {
      if (joined === null) return;
      if (--joined.group.members === 0) groups.delete(joined.key);
      joined = null;
    };
    const groupOf = (operator: Operator): Group => {
      // Asked for every event of every subscriber: the key is built only when the connection re-read its operator.
      if (joined?.operator === operator) return joined.group;
      const key = `${audienceKey(operator)}\u0000${query}`;
      let group = groups.get(key);
      if (!group) {
        group = { members: 0, context: contextFor(operator), operator, seq: null, results: new Map() };
        groups.set(key, group);
      }
      if (joined?.key !== key) {
        leave();
        group.members += 1;
      }
      joined = { key, group, operator };
      return group;
    };
    // An iterator object, not a generator: return() must reach the stream at once, even while it waits for an event.
    const results: AsyncIterableIterator<ExecutionResult> = {
      async next() {
        const item = await events.next();
        if (item.done) {
          leave();
          return item;
        }
        // The member's operator as it is now: a re-read that changed its roles moves it to another group.
        return { value: await resultOf(groupOf(ctx.policy.authenticated()), args, item.value), done: false };
      },
      async return() {
        leave();
        await events.return?.(undefined);
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return results;
      },
    };
    return results;
  };
}
