/**
 * A peer that is not loopback, on this machine: a network namespace joined to the root one by a
 * veth pair with a /30 of 10.231.0.0/16 between its two ends (traffic flows only between them).
 * Needs root (CAP_NET_ADMIN) and iproute2; when either is missing, creating it throws, so a test
 * that needs a stranger fails loudly rather than skipping. Disposing removes the namespace and
 * the pair, on every path; namespaces left by a killed run (their process gone) are removed
 * first.
 *
 * @module
 */

/** A namespace with a veth pair to the root namespace. */
export interface PeerNamespace extends AsyncDisposable {
  /** The namespace's name. */
  readonly name: string;
  /** The address of the root namespace's end (what the peer connects to). */
  readonly hostAddress: string;
  /** The address of the peer's end (what the service sees). */
  readonly peerAddress: string;
  /** Runs `command` inside the namespace; its stdout, or a throw with its stderr. */
  run(command: readonly string[]): Promise<string>;
}

const PREFIX = "edr-hostile-";

async function ip(args: readonly string[]): Promise<Deno.CommandOutput> {
  return await new Deno.Command("ip", { args: [...args], stdout: "piped", stderr: "piped" })
    .output();
}

async function must(args: readonly string[]): Promise<void> {
  let output;
  try {
    output = await ip(args);
  } catch (error) {
    throw new Error(`cannot run ip (install iproute2: tools/test_deps.sh): ${error}`);
  }
  if (!output.success) {
    throw new Error(
      `ip ${args.join(" ")} failed (a network namespace needs root or CAP_NET_ADMIN): ` +
        new TextDecoder().decode(output.stderr).trim(),
    );
  }
}

/** Removes namespaces of earlier runs whose process is gone. */
async function removeStale(): Promise<void> {
  const list = new TextDecoder().decode((await ip(["netns", "list"])).stdout);
  for (const match of list.matchAll(new RegExp(`^${PREFIX}(\\d+)-\\d+`, "gm"))) {
    const alive = await Deno.stat(`/proc/${match[1]}`).then(() => true, () => false);
    if (!alive) await ip(["netns", "del", match[0]]);
  }
}

let created = 0;

/** Creates a namespace and its veth pair (see the module documentation). */
export async function createPeerNamespace(): Promise<PeerNamespace> {
  await removeStale();
  const index = created++;
  const name = `${PREFIX}${Deno.pid}-${index}`;
  // Interface names are at most 15 bytes; the /30 is derived from the pid and the index.
  const tag = `${Deno.pid % 100_000}${index % 10}`;
  const hostIf = `eh${tag}a`;
  const peerIf = `eh${tag}b`;
  const block = ((Deno.pid * 10 + index) % 16_384) * 4; // 16 384 /30s in 10.231.0.0/16
  const octets = (offset: number) =>
    `10.231.${Math.floor((block + offset) / 256)}.${(block + offset) % 256}`;
  const hostAddress = octets(1);
  const peerAddress = octets(2);
  const cleanup = async () => {
    await ip(["link", "del", hostIf]).catch(() => {});
    await ip(["netns", "del", name]).catch(() => {});
  };
  try {
    await must(["netns", "add", name]);
    await must(["link", "add", hostIf, "type", "veth", "peer", "name", peerIf]);
    await must(["link", "set", peerIf, "netns", name]);
    await must(["addr", "add", `${hostAddress}/30`, "dev", hostIf]);
    await must(["link", "set", hostIf, "up"]);
    await must(["-n", name, "addr", "add", `${peerAddress}/30`, "dev", peerIf]);
    await must(["-n", name, "link", "set", peerIf, "up"]);
    await must(["-n", name, "link", "set", "lo", "up"]);
  } catch (error) {
    await cleanup();
    throw error;
  }
  return {
    name,
    hostAddress,
    peerAddress,
    async run(command) {
      const output = await new Deno.Command("ip", {
        args: ["netns", "exec", name, ...command],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(output.stderr).trim();
      if (!output.success) throw new Error(`${command.join(" ")} in ${name} failed: ${stderr}`);
      return new TextDecoder().decode(output.stdout);
    },
    [Symbol.asyncDispose]: cleanup,
  };
}
