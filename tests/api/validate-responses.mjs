// Checks every HTTP exchange the integration tests recorded (tests/support/http_client.cpp, one
// JSON line each in <dir>/responses-*.jsonl) against the API document:
//   - the request's method and path name a documented operation (an undocumented path may only
//     have answered 404, an undocumented method 405, both with the error envelope);
//   - the status is one the operation documents;
//   - the media type is one that response documents, and a JSON body matches its schema (Ajv,
//     JSON Schema 2020-12 as OpenAPI 3.1 uses it);
//   - the headers the response marks required are there.
// Exits non-zero, listing each distinct failure with a test that produced it.
//   node validate-responses.mjs <openapi.json> <dir>
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const [docPath, dir] = process.argv.slice(2);
const doc = JSON.parse(readFileSync(docPath, "utf8"));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
// The document's own keywords (example, examples, contentMediaType, ...) are annotations here.
ajv.addSchema({ $id: "openapi", $defs: {}, components: doc.components }, "openapi");

const deref = (node) => {
  let n = node;
  for (let i = 0; n && n.$ref && i < 10; ++i) {
    n = n.$ref.slice(2).split("/").reduce((o, k) => o[k.replace(/~1/g, "/").replace(/~0/g, "~")], doc);
  }
  return n;
};
const rebase = (schema) => JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"openapi#/components/'));
const validators = new Map();
const validatorFor = (key, schema) => {
  if (!validators.has(key)) validators.set(key, ajv.compile(rebase(schema)));
  return validators.get(key);
};

// Path templates, most literal first (as the router picks them).
const templates = Object.keys(doc.paths).map((p) => {
  const segs = p.split("/").filter(Boolean);
  return { path: p, segs, literals: segs.filter((s) => !s.startsWith("{")).length };
}).sort((a, b) => b.literals - a.literals);
const matchPath = (path) => {
  const segs = path.split("/").filter(Boolean);
  if (path.includes("//")) return null;
  return templates.find((t) => t.segs.length === segs.length &&
    t.segs.every((s, i) => s.startsWith("{") || s === segs[i])) || null;
};

const failures = new Map();  // message → {count, example}
const fail = (msg, rec) => {
  const f = failures.get(msg) || { count: 0, example: rec };
  f.count += 1;
  failures.set(msg, f);
};
const seen = new Set();
const detail = validatorFor("#Detail", { $ref: "#/components/schemas/Detail" });
let checked = 0;
let bodies = 0;

const files = readdirSync(dir).filter((f) => f.endsWith(".jsonl"));
for (const file of files) {
  for (const line of readFileSync(join(dir, file), "utf8").split("\n")) {
    if (!line) continue;
    let rec;
    try { rec = JSON.parse(line); } catch { continue; }  // a line cut by a killed test process
    checked += 1;
    const method = rec.method.toLowerCase();
    let path;
    try { path = decodeURIComponent(rec.target.split("?")[0]); } catch { path = rec.target.split("?")[0]; }
    const type = (rec.headers["content-type"] || "").split(";")[0].trim();
    const checkDetail = (why) => {
      if (type !== "application/json") return fail(`${why}: ${rec.status} is not JSON (${type})`, rec);
      let body;
      try { body = JSON.parse(rec.body); } catch { return fail(`${why}: body is not JSON`, rec); }
      if (!detail(body)) fail(`${why}: ${rec.status} body is not the error envelope`, rec);
    };
    const t = matchPath(path);
    if (!t) {
      // Paths no route serves: only the router's own 404 (and 400 for a malformed target).
      if (rec.status === 404 || rec.status === 400) checkDetail("unrouted path");
      else fail(`unrouted path answered ${rec.status}`, rec);
      continue;
    }
    const item = deref(doc.paths[t.path]);
    const op = item[method];
    if (!op) {
      if (rec.status === 405) {
        checkDetail(`${t.path} ${method.toUpperCase()}`);
        if (!rec.headers.allow) fail(`${t.path}: 405 without Allow`, rec);
      } else if (rec.status !== 400 && rec.status !== 413) {
        fail(`${method.toUpperCase()} ${t.path}: undocumented method answered ${rec.status}`, rec);
      }
      continue;
    }
    const opName = `${method.toUpperCase()} ${t.path}`;
    seen.add(`${opName} ${rec.status}`);
    const serverWide = doc["x-server-wide-responses"] || {};
    const responseRef = op.responses[String(rec.status)] || op.responses[`${String(rec.status)[0]}XX`] ||
      serverWide[String(rec.status)];
    if (!responseRef) {
      fail(`${opName}: status ${rec.status} is not documented`, rec);
      continue;
    }
    const response = deref(responseRef);
    for (const [name, h] of Object.entries(response.headers || {})) {
      if (deref(h).required && rec.headers[name.toLowerCase()] === undefined) {
        fail(`${opName} ${rec.status}: required header ${name} missing`, rec);
      }
    }
    const content = response.content || {};
    const mediaTypes = Object.keys(content);
    if (mediaTypes.length === 0) {
      if (rec.body_bytes > 0) fail(`${opName} ${rec.status}: documented without a body, got ${rec.body_bytes} bytes`, rec);
      continue;
    }
    if (rec.body_bytes === 0 && rec.status === 304) continue;
    if (!content[type]) {
      fail(`${opName} ${rec.status}: media type ${type || "(none)"} is not documented (${mediaTypes.join(", ")})`, rec);
      continue;
    }
    if (type !== "application/json") continue;
    let body;
    try { body = JSON.parse(rec.body); } catch { fail(`${opName} ${rec.status}: body is not JSON`, rec); continue; }
    const validate = validatorFor(`${opName} ${rec.status}`, deref(content[type]).schema || {});
    bodies += 1;
    if (!validate(body)) {
      const why = validate.errors.slice(0, 3).map((e) => `${e.instancePath || "/"} ${e.message}${e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : ""}`).join("; ");
      fail(`${opName} ${rec.status}: body does not match the schema: ${why}`, rec);
    }
  }
}

// What the tests exercised, for the reader (not a failure: some statuses need faults to appear).
const operations = [];
for (const [p, raw] of Object.entries(doc.paths)) {
  const item = deref(raw);
  for (const m of ["get", "post", "put", "patch", "delete"]) if (item[m]) operations.push(`${m.toUpperCase()} ${p}`);
}
const untouched = operations.filter((o) => ![...seen].some((s) => s.startsWith(`${o} `)));
console.log(`validate-responses: ${checked} exchanges from ${files.length} test processes, ` +
  `${bodies} JSON bodies validated; ${operations.length - untouched.length}/${operations.length} operations exercised`);
if (untouched.length) console.log(`  not exercised by these tests: ${untouched.join(", ")}`);
if (checked === 0) {
  console.error("validate-responses: nothing was recorded (MARKETLINK_API_RECORD_DIR not passed to the tests?)");
  process.exit(1);
}
if (failures.size) {
  for (const [msg, f] of failures) {
    console.error(`FAIL (${f.count}x) ${msg}\n    e.g. ${f.example.test || "?"}: ${f.example.method} ${f.example.target}` +
      (f.example.body !== undefined ? ` → ${String(f.example.body).slice(0, 300)}` : ""));
  }
  console.error(`validate-responses: ${failures.size} distinct mismatches between responses and docs/openapi.yaml`);
  process.exit(1);
}
