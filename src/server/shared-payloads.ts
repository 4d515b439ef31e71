import type { ExecutionResult } from 'graphql';
import type { WebSocket } from 'ws';

/**
 * Subscribers of one group receive the very same ExecutionResult object for
 * an event (events/event-execution.ts); graphql-ws would serialise it again
 * for each of them, inside the `next` message it builds. Here it is
 * serialised once: `onNext` hands graphql-ws a small marker instead of the
 * payload, and the socket's `send` puts the shared JSON where the marker is,
 * just before the frame is written. The marker ends the message, after the
 * client's subscription id, so nothing a client sends can imitate it; the
 * markers waiting for a socket go with the socket.
 */
const MARKER_TAIL = /,"payload":\{"\$carrelShared":(\d+)\}\}$/;

export function createSharedPayloads() {
  const serialised = new WeakMap<ExecutionResult, string>();
  const pending = new WeakMap<WebSocket, Map<number, string>>();
  let next = 0;
  return {
    /** Wraps the socket's `send` so that a message carrying a marker goes out with the shared payload. */
    attach(socket: WebSocket): void {
      const waiting = new Map<number, string>();
      pending.set(socket, waiting);
      const send = socket.send.bind(socket) as (data: unknown, cb?: (err?: Error) => void) => void;
      (socket as unknown as { send: typeof send }).send = (data, cb) => {
        const match = typeof data === 'string' ? MARKER_TAIL.exec(data.slice(-48)) : null;
        const json = match ? waiting.get(Number(match[1])) : undefined;
        if (json === undefined) return send(data, cb);
        waiting.delete(Number(match![1]));
        const text = data as string;
        return send(`${text.slice(0, text.length - match![0].length)},"payload":${json}}`, cb);
      };
    },
    /** For onNext: the marker graphql-ws serialises instead of `result`, on this socket. */
    marker(socket: WebSocket, result: ExecutionResult): ExecutionResult {
      const waiting = pending.get(socket);
      if (!waiting) return result;
      let json = serialised.get(result);
      if (json === undefined) serialised.set(result, (json = JSON.stringify(result)));
      const token = ++next;
      waiting.set(token, json);
      return { $carrelShared: token } as ExecutionResult;
    },
  };
}
