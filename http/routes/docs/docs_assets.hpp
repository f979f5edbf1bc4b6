// The API document (docs/openapi.yaml, and its JSON form made at configure time), the docs page's
// files (swagger-ui-dist) and the console's chart library (uPlot) — npm packages pinned in
// http/routes/docs/package.json — embedded in the binary: the pages work offline and load
// nothing from elsewhere.
#pragma once

#include <optional>
#include <string_view>

namespace marketlink::http::docs {

std::string_view openapi_json();
std::string_view openapi_yaml();
std::string_view page_html();
std::string_view renderer_version();

struct Asset {
  std::string_view content_type;
  std::string_view body;
};
// A file of the page by name ("swagger-ui-bundle.js", "swagger-ui.css", "init.js").
std::optional<Asset> asset(std::string_view name);
// A file the console loads besides its page ("uPlot.iife.min.js", "uPlot.min.css").
std::optional<Asset> console_asset(std::string_view name);

}  // namespace marketlink::http::docs
