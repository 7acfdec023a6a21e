/**
 * kinesalite (the local Kinesis of the local stack) on a free loopback port, made safe to
 * host in a process whose clients may hang up.
 *
 * kinesalite rethrows every error of a request it serves (`req.on('error', (err) => { throw
 * err })` in its index.js): a client that resets its connection before its request is complete
 * (`Error: aborted`, node's `connResetException`) became an uncaught exception that killed the
 * process hosting it: the test module (tests/submissions/verify_test.ts failed so under load)
 * or `deno task stack`. Its request handler attaches that listener synchronously; a second
 * `request` listener, run right after it, replaces it with one that counts the hang-up and
 * lets the request go.
 *
 * @module
 */
import type { IncomingMessage, Server } from "node:http";
import kinesalite from "kinesalite";

/** The part of kinesalite's return value (a node:http server) used here; it ships no types. */
type KinesaliteServer = Pick<Server, "listen" | "close" | "address" | "on">;
const createKinesalite = kinesalite as unknown as (
  options: { createStreamMs: number; updateStreamMs: number; shardLimit: number },
) => KinesaliteServer;

/** A running kinesalite. */
export interface Kinesalite {
  /** Its loopback port. */
  readonly port: number;
  /** Requests whose client went away before they were complete (counted, not thrown). */
  readonly clientsGone: number;
  /** Stops it. */
  close(): Promise<void>;
}

/**
 * Starts kinesalite on a free loopback port, resharding and stream creation done in 10 ms.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startKinesalite } from "./kinesalite_server.ts";
 * const kinesis = await startKinesalite();
 * const response = await fetch(`http://127.0.0.1:${kinesis.port}/`, {
 *   method: "POST",
 *   headers: {
 *     "content-type": "application/x-amz-json-1.1",
 *     "x-amz-target": "Kinesis_20131202.ListStreams",
 *     authorization: "AWS4-HMAC-SHA256 Credential=test/20240101/eu-west-1/kinesis/aws4_request, " +
 *       "SignedHeaders=host, Signature=0",
 *     "x-amz-date": "20240101T000000Z",
 *   },
 *   body: "{}",
 * });
 * assert.deepEqual(await response.json(), { StreamNames: [], HasMoreStreams: false });
 * await kinesis.close();
 * ```
 */
export async function startKinesalite(): Promise<Kinesalite> {
  const server = createKinesalite({ createStreamMs: 10, updateStreamMs: 10, shardLimit: 100 });
  let clientsGone = 0;
  server.on("request", (req: IncomingMessage) => {
    req.removeAllListeners("error");
    req.on("error", () => clientsGone++);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("kinesalite: no port");
  return {
    port: address.port,
    get clientsGone() {
      return clientsGone;
    },
    close: () =>
      new Promise<void>((resolve, reject) =>
        server.close((error?: Error) => error ? reject(error) : resolve())
      ),
  };
}
