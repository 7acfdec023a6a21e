/**
 * Test certificates for the fleet, generated with `openssl` into a directory at test time
 * (no key is ever committed): a test CA, a second CA nobody trusts, and one leaf per
 * certificate problem the probe can see. `openssl ca` is used because OpenSSL 3.0's `x509`
 * cannot set a start date (expired and not-yet-valid leaves need one in the past / future).
 *
 * @example
 * ```ts
 * import { generateCertificates } from "./certs.ts";
 * const dir = await Deno.makeTempDir();
 * const certs = await generateCertificates(dir);
 * certs.caFile; // `${dir}/ca.pem`: give it to the scanner as TLS_SCAN_CA_FILE
 * certs.leaves.expired; // { cert, key } of a leaf that expired 30 days ago
 * ```
 *
 * @module
 */

/** A leaf's files. */
export interface LeafFiles {
  readonly cert: string;
  readonly key: string;
}

/** The leaves generated, by what is wrong with them. */
export type LeafName =
  | "good"
  | "expiring"
  | "expired"
  | "not_yet_valid"
  | "self_signed"
  | "unknown_ca"
  | "mismatch"
  | "weak_key"
  | "ecdsa"
  | "p384"
  | "rsa4096"
  | "sha1"
  | "chained";

/** What {@linkcode generateCertificates} made. */
export interface Certificates {
  readonly dir: string;
  /** The trusted test CA (PEM). */
  readonly caFile: string;
  readonly leaves: Readonly<Record<LeafName, LeafFiles>>;
  /** DH parameters for `s_server -dhparam`: a weak 1024-bit group and RFC 7919's ffdhe3072. */
  readonly dhParams: { readonly weak: string; readonly strong: string };
  /**
   * For `s_server -cert_chain` beside the `chained` leaf (issued by an intermediate of the test
   * CA): the intermediate alone, and an unrelated CA certificate before the intermediate.
   */
  readonly chains: { readonly intermediate: string; readonly misordered: string };
  /** A good OCSP response (DER) for the `chained` leaf, for `s_server -status_file`. */
  readonly ocspResponse: string;
}

const DAY = 86_400_000;
const LOCAL_SAN = "DNS:localhost,IP:127.0.0.1";

async function openssl(args: string[], cwd: string): Promise<void> {
  const output = await new Deno.Command("openssl", { args, cwd, stdin: "null" }).output();
  if (!output.success) {
    const error = new TextDecoder().decode(output.stderr).trim().split("\n").slice(-3).join(" | ");
    throw new Error(`openssl ${args.slice(0, 2).join(" ")} failed: ${error}`);
  }
}

/** A new private key in `dir/file`: `algorithm` (RSA, EC) with its one `-pkeyopt` (size, curve). */
function genKey(dir: string, file: string, algorithm: string, option: string): Promise<void> {
  return openssl(["genpkey", "-algorithm", algorithm, "-pkeyopt", option, "-out", file], dir);
}

/** `YYYYMMDDHHMMSSZ`, the form `openssl ca -startdate/-enddate` takes. */
function asn1Time(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, "").replace(/\.\d{3}Z$/, "Z");
}

async function makeCa(dir: string, name: string, subject: string): Promise<void> {
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-sha256",
    "-days",
    "3650",
    "-subj",
    subject,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
  ], dir);
  await Deno.mkdir(`${dir}/${name}.db`, { recursive: true });
  await Deno.writeTextFile(`${dir}/${name}.db/index.txt`, "");
  await Deno.writeTextFile(
    `${dir}/${name}.cnf`,
    [
      "[ca]",
      "default_ca = this",
      "[this]",
      `database = ${dir}/${name}.db/index.txt`,
      `new_certs_dir = ${dir}/${name}.db`,
      `serial = ${dir}/${name}.db/serial`,
      "rand_serial = yes",
      "unique_subject = no",
      "policy = anything",
      "default_md = sha256",
      "[anything]",
      // The policy's order is the subject's order: O then CN, so RFC 4514 reads "CN=…, O=…".
      "organizationName = optional",
      "commonName = supplied",
      "",
    ].join("\n"),
  );
}

interface LeafSpec {
  readonly ca: "ca" | "other_ca" | "inter";
  readonly key: string;
  readonly subject: string;
  readonly san: string;
  readonly from: Date;
  readonly to: Date;
  readonly md?: string;
  /** Extensions instead of a server leaf's (an intermediate CA's). */
  readonly extensions?: string;
}

async function signLeaf(dir: string, name: string, spec: LeafSpec): Promise<LeafFiles> {
  const ext = `${dir}/${name}.ext`;
  await Deno.writeTextFile(
    ext,
    spec.extensions ??
      `subjectAltName=${spec.san}\nbasicConstraints=CA:FALSE\n` +
        "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
  );
  await openssl(
    ["req", "-new", "-key", spec.key, "-subj", spec.subject, "-out", `${name}.csr`],
    dir,
  );
  await openssl([
    "ca",
    "-batch",
    "-notext",
    "-config",
    `${spec.ca}.cnf`,
    "-cert",
    `${spec.ca}.pem`,
    "-keyfile",
    `${spec.ca}.key`,
    "-in",
    `${name}.csr`,
    "-out",
    `${name}.pem`,
    "-startdate",
    asn1Time(spec.from),
    "-enddate",
    asn1Time(spec.to),
    "-md",
    spec.md ?? "sha256",
    "-extfile",
    ext,
  ], dir);
  return { cert: `${dir}/${name}.pem`, key: `${dir}/${spec.key}` };
}

/** Generates the CA, every leaf and the DH groups into `dir` (1–4 s: the RSA-4096 key). */
export async function generateCertificates(dir: string, now = new Date()): Promise<Certificates> {
  const at = (days: number) => new Date(now.getTime() + days * DAY);
  await Promise.all([
    makeCa(dir, "ca", "/O=edr-preprocessor tests/CN=edr-tls-scan test CA"),
    makeCa(dir, "other_ca", "/CN=edr-tls-scan unknown CA"),
    // Its self-signed certificate is replaced below by one the test CA issues.
    makeCa(dir, "inter", "/CN=edr-tls-scan intermediate CA"),
    genKey(dir, "rsa2048.key", "RSA", "rsa_keygen_bits:2048"),
    genKey(dir, "rsa1024.key", "RSA", "rsa_keygen_bits:1024"),
    genKey(dir, "p256.key", "EC", "ec_paramgen_curve:P-256"),
    genKey(dir, "p384.key", "EC", "ec_paramgen_curve:P-384"),
    // The slowest key (1–4 s on a busy machine): made beside the others, not after them.
    genKey(dir, "rsa4096.key", "RSA", "rsa_keygen_bits:4096"),
    // A fresh 1024-bit group takes ~0.2 s; the strong one is a named group, no search at all.
    openssl(["dhparam", "-out", "dh1024.pem", "1024"], dir),
    openssl([
      "genpkey",
      "-genparam",
      "-algorithm",
      "DH",
      "-pkeyopt",
      "group:ffdhe3072",
      "-out",
      "ffdhe3072.pem",
    ], dir),
  ]);
  const local = { key: "rsa2048.key", subject: "/O=edr tests/CN=localhost", san: LOCAL_SAN };
  const valid = { from: at(-1), to: at(365) };
  // `openssl ca` appends to the CA's index: sign one leaf after the other.
  const leaves: Partial<Record<LeafName, LeafFiles>> = {};
  leaves.good = await signLeaf(dir, "good", { ca: "ca", ...local, ...valid });
  leaves.expiring = await signLeaf(dir, "expiring", {
    ca: "ca",
    ...local,
    from: at(-80),
    to: at(10.5),
  });
  leaves.expired = await signLeaf(dir, "expired", {
    ca: "ca",
    ...local,
    from: at(-90),
    to: at(-29.5),
  });
  leaves.not_yet_valid = await signLeaf(dir, "not_yet_valid", {
    ca: "ca",
    ...local,
    from: at(30),
    to: at(400),
  });
  leaves.unknown_ca = await signLeaf(dir, "unknown_ca", { ca: "other_ca", ...local, ...valid });
  leaves.mismatch = await signLeaf(dir, "mismatch", {
    ca: "ca",
    key: "rsa2048.key",
    subject: "/CN=other.example",
    san: "DNS:other.example",
    ...valid,
  });
  leaves.weak_key = await signLeaf(dir, "weak_key", {
    ca: "ca",
    ...local,
    key: "rsa1024.key",
    ...valid,
  });
  leaves.ecdsa = await signLeaf(dir, "ecdsa", { ca: "ca", ...local, key: "p256.key", ...valid });
  leaves.p384 = await signLeaf(dir, "p384", { ca: "ca", ...local, key: "p384.key", ...valid });
  leaves.rsa4096 = await signLeaf(dir, "rsa4096", {
    ca: "ca",
    ...local,
    key: "rsa4096.key",
    ...valid,
  });
  leaves.sha1 = await signLeaf(dir, "sha1", { ca: "ca", ...local, ...valid, md: "sha1" });
  await signLeaf(dir, "inter", {
    ca: "ca",
    key: "inter.key",
    subject: "/CN=edr-tls-scan intermediate CA",
    san: "",
    ...valid,
    extensions: "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n",
  });
  leaves.chained = await signLeaf(dir, "chained", { ca: "inter", ...local, ...valid });
  // A good OCSP response for it, signed by the intermediate (its `openssl ca` index knows the
  // leaf), for `s_server -status_file`: OCSP stapling seen.
  await openssl(
    ["ocsp", "-issuer", "inter.pem", "-cert", "chained.pem", "-reqout", "ocsp_req.der"],
    dir,
  );
  await openssl([
    "ocsp",
    "-index",
    `${dir}/inter.db/index.txt`,
    "-rsigner",
    "inter.pem",
    "-rkey",
    "inter.key",
    "-CA",
    "inter.pem",
    "-reqin",
    "ocsp_req.der",
    "-respout",
    "ocsp.der",
    "-ndays",
    "7",
  ], dir);
  await Deno.writeTextFile(
    `${dir}/misordered_chain.pem`,
    (await Deno.readTextFile(`${dir}/other_ca.pem`)) +
      (await Deno.readTextFile(`${dir}/inter.pem`)),
  );
  await openssl([
    "req",
    "-x509",
    "-key",
    "rsa2048.key",
    "-sha256",
    "-days",
    "365",
    "-subj",
    "/CN=localhost",
    "-addext",
    `subjectAltName=${LOCAL_SAN}`,
    "-out",
    "self_signed.pem",
  ], dir);
  leaves.self_signed = { cert: `${dir}/self_signed.pem`, key: `${dir}/rsa2048.key` };
  return {
    dir,
    caFile: `${dir}/ca.pem`,
    leaves: leaves as Record<LeafName, LeafFiles>,
    dhParams: { weak: `${dir}/dh1024.pem`, strong: `${dir}/ffdhe3072.pem` },
    chains: { intermediate: `${dir}/inter.pem`, misordered: `${dir}/misordered_chain.pem` },
    ocspResponse: `${dir}/ocsp.der`,
  };
}
