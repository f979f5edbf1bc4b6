// The API docs page in a real browser (Debian's chromium driven by playwright-core): it renders
// every operation of the server's own document, under the server's Content-Security-Policy
// (a violation fails the test), loads nothing from another origin, and "Try it out" reaches the
// server.
//   node docs.e2e.mjs <base url> <admin email> <admin password> <screenshot path>
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const [base, , , screenshot] = process.argv.slice(2);
const doc = await (await fetch(`${base}/api/schema/`)).json();
const methods = ["get", "post", "put", "patch", "delete"];
const operations = Object.values(doc.paths)
  .reduce((n, item) => n + methods.filter((m) => item[m]).length, 0);
assert.ok(operations > 40, `the document lists ${operations} operations`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  const foreign = [];
  const problems = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith("data:")) foreign.push(r.url());
  });
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(String(e)));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });

  const response = await page.goto(`${base}/api/docs/`);
  assert.match(response.headers()["content-security-policy"], /script-src 'self'/);
  await page.getByText("MarketLink API", { exact: false }).first().waitFor();
  // Swagger UI shows one block per operation once the document is loaded and rendered.
  await page.waitForFunction((n) => document.querySelectorAll(".opblock").length === n, operations);

  // Try it out: GET /healthz from the page reaches this server and shows its answer.
  const health = page.locator("#operations-operations-health");
  await health.locator(".opblock-summary").click();
  await health.getByRole("button", { name: "Try it out" }).click();
  await health.getByRole("button", { name: "Execute" }).click();
  await health.locator(".live-responses-table .response-col_status", { hasText: "200" }).waitFor();
  await health.locator(".live-responses-table", { hasText: '"status": "ok"' }).waitFor();

  if (screenshot) await page.screenshot({ path: screenshot });
  assert.deepEqual(foreign, [], "the page loads nothing from another origin");
  // The browser's own favicon probe is the only error allowed (the server has no favicon).
  const real = problems.filter((p) => !/favicon/.test(p) && !/404 \(Not Found\)/.test(p));
  assert.deepEqual(real, [], "no console errors and no CSP violations");
  console.log(`docs e2e: ${operations} operations rendered, try-it-out reached the server`);
} finally {
  await browser.close();
}
