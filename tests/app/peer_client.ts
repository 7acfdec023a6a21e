/**
 * Sends requests and prints what came back, as one JSON line on stdout: run by
 * hostile_access_test.ts inside a network namespace, so the service sees a peer that is not
 * loopback. Argument: a JSON array of `{method, url, headers?, body?}`; prints an array of
 * `{status, body}` (status 0 with the error when there was no answer).
 *
 *   ip netns exec NS deno run --allow-net tests/app/peer_client.ts '[{"method":"GET","url":"…"}]'
 *
 * @module
 */

/** One request to send. */
export interface PeerRequest {
  readonly method: string;
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | undefined;
}

/** What came back. */
export interface PeerAnswer {
  readonly status: number;
  readonly body: string;
}

/** Sends `requests` in turn. */
export async function sendAll(requests: readonly PeerRequest[]): Promise<PeerAnswer[]> {
  const answers: PeerAnswer[] = [];
  for (const { method, url, headers, body } of requests) {
    try {
      const response = await fetch(url, {
        method,
        headers: headers ?? {},
        body: body ?? null,
        signal: AbortSignal.timeout(10_000),
      });
      answers.push({ status: response.status, body: (await response.text()).slice(0, 2_000) });
    } catch (error) {
      answers.push({ status: 0, body: String(error) });
    }
  }
  return answers;
}

if (import.meta.main) {
  console.log(JSON.stringify(await sendAll(JSON.parse(Deno.args[0] ?? "[]"))));
}
