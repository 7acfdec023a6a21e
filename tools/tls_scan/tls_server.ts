/**
 * One plain TLS server for the examples and tests that need a server, not the whole fleet
 * (fleet.ts makes a CA, a dozen leaves and DH groups first: seconds on a busy machine):
 * `openssl s_server -www` on a free loopback port, TLS 1.2 and 1.3, with a fresh self-signed
 * RSA-2048 leaf for `localhost` and `127.0.0.1` in a temporary directory. It dies with its
 * parent (setpriv, parent_death.ts); disposing of it stops it and removes the directory.
 *
 * @module
 */
import { dieWithParent } from "../common/parent_death.ts";

/** A running {@linkcode startTlsServer}. */
export interface TlsServer extends AsyncDisposable {
  /** The port it accepts on, on 127.0.0.1. */
  readonly port: number;
  /** Its leaf certificate (PEM), self-signed: the trust anchor of a client that verifies it. */
  readonly certFile: string;
}

const ACCEPT = /^ACCEPT 127\.0\.0\.1:(\d+)$/m;

/**
 * Starts the server; resolves once it accepts connections.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { startTlsServer } from "./tls_server.ts";
 * await using server = await startTlsServer();
 * const caCerts = [await Deno.readTextFile(server.certFile)];
 * const tls = await Deno.connectTls({ hostname: "127.0.0.1", port: server.port, caCerts });
 * await tls.write(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
 * const answer = new Uint8Array(64);
 * const read = await tls.read(answer);
 * assert.match(new TextDecoder().decode(answer.subarray(0, read ?? 0)), /^HTTP\/1\.0 200 ok/);
 * tls.close();
 * ```
 */
export async function startTlsServer(): Promise<TlsServer> {
  const dir = await Deno.makeTempDir({ prefix: "tls-server-" });
  const [certFile, keyFile] = [`${dir}/cert.pem`, `${dir}/key.pem`];
  const remove = () => Deno.remove(dir, { recursive: true });
  const made = await new Deno.Command("openssl", {
    args: ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost"]
      .concat(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
      // A leaf, not a CA (rustls refuses a CA certificate as the server's own).
      .concat(["-addext", "basicConstraints=critical,CA:FALSE"])
      .concat(["-keyout", keyFile, "-out", certFile]),
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!made.success) {
    await remove();
    throw new Error(`openssl req failed: ${new TextDecoder().decode(made.stderr).trim()}`);
  }
  const { command, args } = dieWithParent("openssl", [
    "s_server",
    "-accept",
    "127.0.0.1:0",
    "-cert",
    certFile,
    "-key",
    keyFile,
    "-www",
  ]);
  const child = new Deno.Command(command, { args, stdin: "null", stdout: "piped", stderr: "null" })
    .spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let drained: Promise<unknown> = Promise.resolve();
  const stop = async () => {
    try {
      child.kill();
    } catch {
      // already exited
    }
    await child.status;
    await drained;
    await lines.cancel();
    await remove();
  };
  let port: number | undefined;
  for (let out = ""; port === undefined;) {
    const { value, done } = await lines.read();
    if (done) {
      await stop();
      throw new Error(`openssl s_server exited before accepting: ${out.trim()}`);
    }
    out += value;
    const accept = ACCEPT.exec(out);
    if (accept) port = Number(accept[1]);
  }
  // Read what it prints per connection from now on, so a full pipe never blocks it.
  drained = (async () => {
    while (!(await lines.read()).done) continue;
  })();
  let stopped: Promise<void> | undefined;
  return { port, certFile, [Symbol.asyncDispose]: () => stopped ??= stop() };
}
