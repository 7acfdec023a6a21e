/**
 * Loopback stand-ins for what signs and what issues AWS credentials, for the credential-source
 * tests: a recording proxy in front of SQS or Kinesis (the access key id of every request's
 * SigV4 `Authorization` header), a fake STS answering `AssumeRoleWithWebIdentity` (EKS IRSA) and
 * a fake container-credentials endpoint (EKS Pod Identity); the last two record the token they
 * were given. Each listens on 127.0.0.1, port 0.
 *
 * @module
 */

/** A fake server: its URL, what it recorded, and how to stop it. */
export interface Fake extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** What it recorded, one entry per request: key ids (proxy) or tokens (STS, container). */
  readonly seen: string[];
}

function serve(handler: (request: Request) => Promise<Response>, seen: string[]): Fake {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    seen,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/**
 * The access key id of a SigV4 `Authorization` header (`AWS4-HMAC-SHA256 Credential=<key
 * id>/<date>/<region>/<service>/aws4_request, …`), or `unsigned`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { signingKeyId } from "./credential_fakes.ts";
 * const header = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/eu-west-1/sqs/aws4_request, " +
 *   "SignedHeaders=host, Signature=00";
 * assert.equal(signingKeyId(header), "AKIDEXAMPLE");
 * assert.equal(signingKeyId(null), "unsigned");
 * ```
 */
export function signingKeyId(authorization: string | null): string {
  return /^AWS4-HMAC-SHA256 Credential=([^/]+)\//.exec(authorization ?? "")?.[1] ?? "unsigned";
}

/**
 * A proxy to `upstream` that records each request's signing key id, with the API call it makes
 * (`x-amz-target`, e.g. `Kinesis_20131202.PutRecords`) in `calls`.
 */
export function startRecordingProxy(upstream: string): Fake & { readonly calls: string[] } {
  const seen: string[] = [];
  const calls: string[] = [];
  const fake = serve(async (request) => {
    seen.push(signingKeyId(request.headers.get("authorization")));
    calls.push(request.headers.get("x-amz-target") ?? new URL(request.url).pathname);
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    for (const name of ["host", "content-length", "connection"]) headers.delete(name);
    const answer = await fetch(`${upstream}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body: request.body === null ? null : await request.arrayBuffer(),
    });
    const back = new Headers(answer.headers);
    // fetch has already decoded and re-measured the body.
    for (const name of ["content-encoding", "content-length", "connection"]) back.delete(name);
    return new Response(answer.body, { status: answer.status, headers: back });
  }, seen);
  return { ...fake, calls };
}

/** Temporary credentials as STS and the container endpoint hand them out (one hour). */
function temporary(accessKeyId: string) {
  return {
    accessKeyId,
    secretAccessKey: `secret-of-${accessKeyId}`,
    sessionToken: `session-of-${accessKeyId}`,
    expiration: new Date(Date.now() + 3_600_000).toISOString(),
  };
}

/**
 * STS's `AssumeRoleWithWebIdentity` (query protocol, XML answer): records the
 * `WebIdentityToken` it receives and issues `accessKeyId` for any role.
 */
export function startFakeSts(accessKeyId: string): Fake & { readonly roles: string[] } {
  const seen: string[] = [];
  const roles: string[] = [];
  const fake = serve(async (request) => {
    const form = new URLSearchParams(await request.text());
    if (form.get("Action") !== "AssumeRoleWithWebIdentity") {
      return new Response(`unexpected action ${form.get("Action")}`, { status: 400 });
    }
    seen.push(form.get("WebIdentityToken") ?? "");
    roles.push(form.get("RoleArn") ?? "");
    const c = temporary(accessKeyId);
    const xml =
      `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>${c.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${c.secretAccessKey}</SecretAccessKey>
      <SessionToken>${c.sessionToken}</SessionToken>
      <Expiration>${c.expiration}</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <AssumedRoleId>AROAEXAMPLE:edr</AssumedRoleId>
      <Arn>${form.get("RoleArn")}/edr</Arn>
    </AssumedRoleUser>
    <SubjectFromWebIdentityToken>system:serviceaccount:edr:edr-preprocessor</SubjectFromWebIdentityToken>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`;
    return new Response(xml, { headers: { "content-type": "text/xml" } });
  }, seen);
  return { ...fake, roles };
}

/**
 * The container-credentials endpoint of ECS and of the EKS Pod Identity agent: records the
 * `Authorization` header (the token file's content) and issues `accessKeyId`.
 */
export function startFakeContainerEndpoint(accessKeyId: string): Fake {
  const seen: string[] = [];
  return serve((request) => {
    seen.push(request.headers.get("authorization") ?? "");
    const c = temporary(accessKeyId);
    return Promise.resolve(Response.json({
      AccessKeyId: c.accessKeyId,
      SecretAccessKey: c.secretAccessKey,
      Token: c.sessionToken,
      Expiration: c.expiration,
      AccountId: "111122223333",
    }));
  }, seen);
}

/**
 * EC2 instance metadata, IMDSv2: `PUT /latest/api/token` hands out a session token, then the role
 * name and its credentials answer only with it. Records the session token each credentials
 * request carried.
 */
export function startFakeImds(accessKeyId: string): Fake {
  const seen: string[] = [];
  const session = `imds-session-${crypto.randomUUID()}`;
  const role = "edr-preprocessor";
  const path = "/latest/meta-data/iam/security-credentials/";
  return serve((request) => {
    const { pathname } = new URL(request.url);
    if (request.method === "PUT" && pathname === "/latest/api/token") {
      return Promise.resolve(new Response(session));
    }
    const token = request.headers.get("x-aws-ec2-metadata-token") ?? "";
    if (token !== session) return Promise.resolve(new Response("", { status: 401 }));
    if (pathname === path) return Promise.resolve(new Response(role));
    if (pathname !== `${path}${role}`) return Promise.resolve(new Response("", { status: 404 }));
    seen.push(token);
    const c = temporary(accessKeyId);
    return Promise.resolve(Response.json({
      Code: "Success",
      LastUpdated: new Date().toISOString(),
      Type: "AWS-HMAC",
      AccessKeyId: c.accessKeyId,
      SecretAccessKey: c.secretAccessKey,
      Token: c.sessionToken,
      Expiration: c.expiration,
    }));
  }, seen);
}

/**
 * The SSO portal's `GetRoleCredentials` (`GET /federation/credentials`): records the bearer token
 * (`x-amz-sso_bearer_token`, from the SSO token cache) and issues `accessKeyId`.
 */
export function startFakeSsoPortal(accessKeyId: string): Fake {
  const seen: string[] = [];
  return serve((request) => {
    if (new URL(request.url).pathname !== "/federation/credentials") {
      return Promise.resolve(new Response("", { status: 404 }));
    }
    seen.push(request.headers.get("x-amz-sso_bearer_token") ?? "");
    const c = temporary(accessKeyId);
    return Promise.resolve(Response.json({
      roleCredentials: {
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        sessionToken: c.sessionToken,
        expiration: Date.parse(c.expiration),
      },
    }));
  }, seen);
}
