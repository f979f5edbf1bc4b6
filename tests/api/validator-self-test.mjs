// The response validator fails when a response does not match the document: fed recorded
// exchanges that drift in known ways, it must name each one and exit non-zero; fed matching ones,
// it must pass. (Guards docs.responses_match_document against passing vacuously.)
//   node validator-self-test.mjs <openapi.json>
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import assert from "node:assert/strict";

const doc = process.argv[2];
const here = new URL(".", import.meta.url).pathname;
const json = { "content-type": "application/json" };
const line = (method, target, status, body, headers = json) =>
  JSON.stringify({ method, target, status, headers, body: body === undefined ? undefined : JSON.stringify(body),
    body_bytes: body === undefined ? 0 : JSON.stringify(body).length, test: "SelfTest.Case" });

function run(lines) {
  const dir = mkdtempSync(join(tmpdir(), "ml-validator-"));
  try {
    writeFileSync(join(dir, "responses-1.jsonl"), lines.join("\n") + "\n");
    return spawnSync(process.execPath, [join(here, "validate-responses.mjs"), doc, dir], { encoding: "utf8" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const uuid = "0b7c6f4e-5d1a-4c3b-9a2e-1f0d5a3c2b11";
const good = [
  line("GET", "/healthz", 200, { status: "ok" }),
  line("GET", `/api/v1/orders/${uuid}/`, 404, { detail: "Not found." }),
  line("DELETE", "/healthz", 405, { detail: 'Method "DELETE" not allowed.' }, { ...json, allow: "GET" }),
  line("GET", "/nowhere/", 404, { detail: "Not found." }),
  line("POST", "/api/v1/orders/", 503, { detail: "Service temporarily unavailable" }, { ...json, "retry-after": "1" }),
];
const ok = run(good);
assert.equal(ok.status, 0, `matching responses must pass:\n${ok.stdout}${ok.stderr}`);

const drifted = [
  line("GET", "/healthz", 200, { status: "ok", uptime: 3 }),                       // an undocumented field
  line("GET", "/api/v1/services/variants/7/", 200, { id: "7" }),                    // wrong type, missing fields
  line("GET", "/healthz", 418, { detail: "teapot" }),                               // an undocumented status
  line("POST", "/api/v1/orders/", 503, { detail: "Service temporarily unavailable" }),  // no Retry-After
  line("GET", "/api/schema/", 200, "x", { "content-type": "text/plain" }),          // an undocumented media type
  line("GET", "/nowhere/", 200, {}),                                                // a route the document lacks
];
const bad = run(drifted);
assert.equal(bad.status, 1, `drifted responses must fail:\n${bad.stdout}${bad.stderr}`);
for (const expected of [
  "GET /healthz 200: body does not match the schema",
  "GET /api/v1/services/variants/{id}/ 200: body does not match the schema",
  "GET /healthz: status 418 is not documented",
  "POST /api/v1/orders/ 503: required header Retry-After missing",
  "GET /api/schema/ 200: media type text/plain is not documented",
  "unrouted path answered 200",
]) {
  assert.ok(bad.stderr.includes(expected), `expected "${expected}" in:\n${bad.stderr}`);
}
console.log("validator self-test: matching responses pass, six kinds of drift are each caught");
