// A small SSLCommerz stand-in for the end-to-end tests (the C++ tests have the full fake,
// tests/support/fake_sslcommerz.cpp):
//   POST /gwprocess/v4/api.php              a session for every request, GatewayPageURL on this fake
//   GET  /pay/<sessionkey>                  "the customer pays": a val_id for that session, as JSON
//   GET  /validator/api/validationserverAPI.php?val_id=…  VALID with the session's tran_id and amount
//   node fake-gateway.mjs <port>
import http from "node:http";
import { randomBytes } from "node:crypto";

const port = Number(process.argv[2]);
const sessions = new Map();  // sessionkey → {tran_id, amount, currency}
const payments = new Map();  // val_id → session
const token = () => randomBytes(12).toString("hex").toUpperCase();

function json(res, status, body) {
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify(body));
}

http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const url = new URL(req.url, `http://127.0.0.1:${port}`);
    if (req.method === "POST" && url.pathname === "/gwprocess/v4/api.php") {
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      const key = token();
      sessions.set(key, {
        tran_id: form.get("tran_id"), amount: form.get("total_amount"), currency: form.get("currency"),
      });
      return json(res, 200, {
        status: "SUCCESS", failedreason: "", sessionkey: key,
        GatewayPageURL: `http://127.0.0.1:${port}/pay/${key}`,
      });
    }
    if (req.method === "GET" && url.pathname.startsWith("/pay/")) {
      const session = sessions.get(url.pathname.slice(5));
      if (!session) return json(res, 404, { error: "no such session" });
      const valId = token();
      payments.set(valId, session);
      return json(res, 200, { val_id: valId, ...session, bank_tran_id: token() });
    }
    if (req.method === "GET" && url.pathname === "/validator/api/validationserverAPI.php") {
      const session = payments.get(url.searchParams.get("val_id"));
      if (!session) return json(res, 200, { status: "INVALID_TRANSACTION" });
      return json(res, 200, {
        status: "VALID", tran_date: "2026-12-03 10:00:00", tran_id: session.tran_id,
        val_id: url.searchParams.get("val_id"), amount: session.amount,
        store_amount: (Number(session.amount) * 0.975).toFixed(2), currency: "BDT",
        bank_tran_id: token(), card_type: "VISA-Dutch Bangla", card_no: "432155XXXXXX7491",
        card_brand: "VISA", currency_type: session.currency || "BDT",
        currency_amount: session.amount, risk_level: "0", risk_title: "Safe",
      });
    }
    json(res, 404, { error: "not found" });
  });
}).listen(port, "127.0.0.1");
