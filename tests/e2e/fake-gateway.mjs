// A minimal SSLCommerz session endpoint for the browser test (the C++ tests have the full fake):
// every session-init POST succeeds with a GatewayPageURL, as the real sandbox answers.
import http from "node:http";
import { randomBytes } from "node:crypto";

const port = Number(process.argv[2]);
http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    const key = randomBytes(16).toString("hex").toUpperCase();
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({
      status: "SUCCESS", failedreason: "", sessionkey: key,
      GatewayPageURL: "https://sandbox.sslcommerz.com/EasyCheckOut/testcde" + key.toLowerCase(),
    }));
  });
}).listen(port, "127.0.0.1");
