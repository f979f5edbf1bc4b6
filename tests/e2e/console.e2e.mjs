// The operator console in a real browser (Debian's chromium driven by playwright-core):
// log in, see the actor tree, watch a stock figure change live after an order placed through
// the API, activate a vendor from the page, save a screenshot.
//   node console.e2e.mjs <base url> <admin email> <admin password> <screenshot path>
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const [base, adminEmail, adminPassword, screenshot] = process.argv.slice(2);
const suffix = Date.now().toString(36) + Math.random().toString(36).slice(2, 6);

async function api(path, { method = "GET", body, token } = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: "Bearer " + token } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
async function register(role, extra = {}) {
  const email = `${role}-${suffix}-${Math.random().toString(36).slice(2, 6)}@e2e.test`;
  const password = "E2e-Pass-Strong-7";
  const r = await api("/api/v1/auth/register/", {
    method: "POST", body: { email, password, password2: password, role, ...extra },
  });
  return { id: r.user.id, email, token: r.tokens.access };
}

// Set-up through the API: an active vendor with one variant of 5, a customer, a waiting vendor.
const admin = (await api("/api/v1/auth/login/", { method: "POST", body: { email: adminEmail, password: adminPassword } })).access;
const shop = `E2E Motors ${suffix}`;
const vendor = await register("vendor", { business_name: shop, address: "1 Test Road" });
const pendingList = await api("/api/v1/admin/vendors/?is_active=false&page_size=100", { token: admin });
const profile = pendingList.results.find((v) => v.business_name === shop);
await api(`/api/v1/admin/vendors/${profile.id}/activate/`, { method: "POST", token: admin });
const service = await api("/api/v1/services/", {
  method: "POST", token: vendor.token,
  body: { name: `Brake check ${suffix}`, description: "e2e", variants: [{ name: "Basic", price: "900.00", estimated_minutes: 30, stock: 5 }] },
});
const variant = service.variants[0].id;
const customer = await register("customer");
const order = () => api("/api/v1/orders/", { method: "POST", token: customer.token, body: { variant } });
await order(); // the variant's stock actor now exists (stock 4)
const waiting = `Waiting Garage ${suffix}`;
await register("vendor", { business_name: waiting, address: "2 Queue Lane" });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
  await page.goto(base + "/console/");
  await page.getByLabel("Email").fill(adminEmail);
  await page.getByLabel("Password").fill(adminPassword);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor();

  // The actor tree, live over the WebSocket.
  await page.getByRole("button", { name: "Actors", exact: true }).click();
  await page.locator("#live", { hasText: "live" }).waitFor();
  const tree = page.getByLabel("Supervision tree");
  await tree.getByText("root_supervisor").waitFor();
  await tree.getByText("payment_actor").waitFor();
  await tree.getByText("outbox_worker").waitFor();

  // The stock figure changes live after an order placed through the API (on whichever member
  // owns the variant: the view shows every member's stock actors).
  await page.getByRole("button", { name: "Stock", exact: true }).click();
  const db = page.locator(`#stock-table tr[data-variant="${variant}"] td[data-field="database"]`);
  await db.filter({ hasText: /^4$/ }).first().waitFor();
  await order();
  await db.filter({ hasText: /^3$/ }).first().waitFor({ timeout: 10000 });

  // Activate the waiting vendor from the page.
  await page.getByRole("button", { name: "Vendors", exact: true }).click();
  const activate = page.getByRole("button", { name: `Activate ${waiting}` });
  await activate.waitFor();
  await page.getByRole("button", { name: "Overview", exact: true }).focus();
  await activate.click();
  await page.locator("#action-result", { hasText: "done" }).waitFor();
  const after = await api("/api/v1/admin/vendors/?is_active=true&page_size=100", { token: admin });
  assert.ok(after.results.some((v) => v.business_name === waiting), "vendor is active");

  // The overview: every live member of the cluster (run.sh starts a second one), and charts of
  // the last 15 minutes; the orders chart moves after a burst of orders.
  await page.getByRole("button", { name: "Overview", exact: true }).click();
  const members = page.locator("#cluster-table tbody tr[data-member]");
  await page.waitForFunction(() => document.querySelectorAll("#cluster-table tbody tr[data-member]").length >= 2);
  await page.locator(`#cluster-table tr[data-member="${process.env.E2E_SECOND_MEMBER}"]`).waitFor();
  assert.ok((await members.count()) >= 2);
  const orders = page.locator('figure[data-chart="orders"]');
  await orders.locator("canvas").waitFor();
  const before = Number(await orders.getAttribute("data-total"));
  for (let i = 0; i < 3; ++i) await order();
  await page.waitForFunction((n) => Number(document.querySelector('figure[data-chart="orders"]').dataset.total) >= n + 3, before);
  for (const id of ["requests", "latency", "errors", "outbox", "mailbox"]) {
    await page.locator(`figure[data-chart="${id}"] canvas`).waitFor();
  }
  await page.screenshot({ path: screenshot.replace(/\.png$/, "-overview.png"), fullPage: true });
  // The second member's charts, asked over its cluster link.
  await page.locator(`#charts-from option[value="${process.env.E2E_SECOND_MEMBER}"]`).waitFor({ state: "attached" });
  await page.getByLabel("Charts of", { exact: true }).selectOption(process.env.E2E_SECOND_MEMBER);
  await page.locator("#charts-member", { hasText: `(member ${process.env.E2E_SECOND_MEMBER})` }).waitFor();
  await page.getByLabel("Charts of", { exact: true }).selectOption("");

  // The actors page shows the other member's actors too (its published snapshot), and restarts
  // them on that member (over the cluster link).
  await page.getByRole("button", { name: "Actors", exact: true }).click();
  const second = process.env.E2E_SECOND_MEMBER;
  await page.locator(`#actors-member option[value="${second}"]`).waitFor({ state: "attached" });
  await page.getByLabel("Member").selectOption(second);
  await page.locator("#actors-member-note", { hasText: "published by " + second }).waitFor();
  await tree.getByText("membership").waitFor();
  const janitor = page.locator("#actors-table tbody tr").filter({ has: page.locator("td:first-child", { hasText: /^janitor$/ }) });
  await janitor.getByRole("button", { name: "Restart", exact: true }).click();
  await page.locator("#action-result", { hasText: `Restart janitor on ${second}: done.` }).waitFor();
  // Its next snapshot shows the restart (the restarts column).
  await page.waitForFunction(() => {
    const row = [...document.querySelectorAll("#actors-table tbody tr")].find((r) => r.cells[0].textContent === "janitor");
    return row && row.cells[6].textContent === "1";
  }, null, { timeout: 15000 });
  await page.getByLabel("Member").selectOption("");
  await page.waitForFunction(() => document.querySelector("#actors-member-note").textContent === "");
  // This member's janitor was not restarted.
  await page.waitForFunction(() => {
    const row = [...document.querySelectorAll("#actors-table tbody tr")].find((r) => r.cells[0].textContent === "janitor");
    return row && row.cells[6].textContent === "0";
  });

  await page.locator("#actors-table tbody tr").first().waitFor();
  await page.screenshot({ path: screenshot, fullPage: false });
  console.log("console e2e: ok; screenshot at " + screenshot);
} finally {
  await browser.close();
}
