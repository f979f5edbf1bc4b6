// Runs the Postman collection (docs/marketlink.postman_collection.json) in newman against a live
// server and the fake gateway (started by tests/e2e/run.sh): the documented flow, end to end.
//   node postman.mjs <base url> <admin email> <admin password> <collection>
import newman from "newman";

const [base, adminEmail, adminPassword, collection] = process.argv.slice(2);
newman.run({
  collection,
  reporters: ["cli"],
  envVar: [
    { key: "baseUrl", value: base },
    { key: "adminEmail", value: adminEmail },
    { key: "adminPassword", value: adminPassword },
    { key: "storeId", value: process.env.SSLCOMMERZ_STORE_ID },
    { key: "storePassword", value: process.env.WEBHOOK_SECRET },
  ],
  timeoutRequest: 10000,
  bail: true,
}, (err, summary) => {
  if (err) {
    console.error(`postman: ${err}`);
    process.exit(1);
  }
  const { stats, failures } = summary.run;
  // Every request ran, every assertion passed, and there were assertions to pass.
  if (failures.length || stats.assertions.total === 0 || stats.requests.failed) process.exit(1);
  console.log(`postman: ${stats.requests.total} requests, ${stats.assertions.total} assertions passed`);
});
