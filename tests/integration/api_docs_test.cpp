// The API's description of itself: the document served at /api/schema/ lists exactly the routes
// the server has (both ways), in JSON and YAML; the docs page and its files are served from the
// binary under a CSP that allows nothing from elsewhere. (Every response the integration tests
// receive is checked against the same document by docs.responses_match_document.)
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <set>

#include "http/routes/docs/docs_assets.hpp"
#include "tests/support/test_server.hpp"

using namespace marketlink;
using namespace marketlink::testing;

namespace {

std::set<std::string> documented_operations(const boost::json::value& doc) {
  std::set<std::string> out;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, op] : item.as_object()) {
      if (method == "parameters" || method == "summary" || method == "description") continue;
      std::string m(method);
      std::transform(m.begin(), m.end(), m.begin(), ::toupper);
      out.insert(m + " " + std::string(path));
    }
  }
  return out;
}

std::string listed(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += "\n  " + x;
  return out.empty() ? " (none)" : out;
}

}  // namespace

TEST(ApiDocs, RouterAndDocumentListTheSameOperations) {
  auto& server = TestServer::shared();
  std::set<std::string> routed;
  for (const auto& [method, pattern] : server.router().routes()) {
    std::string operation = method;
    operation += ' ';
    operation += pattern;
    routed.insert(std::move(operation));
  }
  routed.insert("GET " + server.stream_path());  // the WebSocket, answered before routing
  const auto documented = documented_operations(boost::json::parse(http::docs::openapi_json()));

  std::set<std::string> undocumented;
  std::set<std::string> unserved;
  std::set_difference(routed.begin(), routed.end(), documented.begin(), documented.end(),
                      std::inserter(undocumented, undocumented.end()));
  std::set_difference(documented.begin(), documented.end(), routed.begin(), routed.end(),
                      std::inserter(unserved, unserved.end()));
  EXPECT_TRUE(undocumented.empty())
      << "routes missing from docs/openapi.yaml:" << listed(undocumented);
  EXPECT_TRUE(unserved.empty()) << "documented operations no route serves:" << listed(unserved);
  EXPECT_GT(routed.size(), 50U);
}

TEST(ApiDocs, SchemaIsServedAsJsonAndAsYaml) {
  auto c = TestServer::shared().client();
  auto json = c.get("/api/schema/");
  ASSERT_EQ(json.status, 200);
  EXPECT_EQ(json.header("content-type"), "application/json");
  EXPECT_EQ(json.body, http::docs::openapi_json());
  const auto doc = json.json();
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc.at("openapi").as_string(), "3.1.0");
  EXPECT_TRUE(doc.at("components").at("securitySchemes").as_object().contains("bearerAuth"));

  for (const auto& target : {std::string("/api/schema/?format=yaml"), std::string("/api/schema")}) {
    auto yaml =
        c.request("GET", target, "",
                  {{"Accept", target.find("format") == std::string::npos ? "application/yaml"
                                                                         : "application/json"}});
    ASSERT_EQ(yaml.status, 200) << target;
    EXPECT_EQ(yaml.header("content-type"), "application/yaml; charset=utf-8") << target;
    EXPECT_EQ(yaml.body, http::docs::openapi_yaml());
    EXPECT_EQ(yaml.body.rfind("openapi: 3.1.0", 0), 0U);
  }
  // JSON when both are acceptable and JSON comes first; a format nobody serves is a field error.
  auto both = c.request("GET", "/api/schema/", "",
                        {{"Accept", "application/json, application/yaml;q=0.9"}});
  EXPECT_EQ(both.header("content-type"), "application/json");
  auto bad = c.get("/api/schema/?format=xml");
  EXPECT_EQ(bad.status, 400);
  EXPECT_TRUE(bad.json().as_object().contains("format")) << bad.body;
}

TEST(ApiDocs, PageAndItsFilesComeFromTheServerUnderItsCsp) {
  auto c = TestServer::shared().client();
  auto page = c.get("/api/docs/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  const auto csp = page.header("content-security-policy");
  EXPECT_NE(csp.find("script-src 'self';"), std::string::npos) << csp;
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
  // No CDN: nothing in the page names another origin.
  EXPECT_EQ(page.body.find("http"), std::string::npos) << page.body;

  const std::pair<const char*, const char*> files[] = {
      {"swagger-ui-bundle.js", "text/javascript; charset=utf-8"},
      {"swagger-ui.css", "text/css; charset=utf-8"},
      {"init.js", "text/javascript; charset=utf-8"}};
  for (const auto& [name, type] : files) {
    const std::string path = std::string("/api/docs/assets/") + name;
    EXPECT_NE(page.body.find(path), std::string::npos) << "the page loads " << path;
    auto r = c.get(path);
    ASSERT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.header("content-type"), type) << path;
    EXPECT_EQ(r.body, http::docs::asset(name)->body) << path;
    EXPECT_GT(r.body.size(), 100U) << path;
  }
  EXPECT_GT(c.get("/api/docs/assets/swagger-ui-bundle.js").body.size(), 500000U);
  auto missing = c.get("/api/docs/assets/..%2f..%2fetc%2fpasswd");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.json().at("detail").as_string(), "Not found.");
}
