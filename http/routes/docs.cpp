// The API's own description: GET /api/schema/ (the OpenAPI document, JSON or YAML) and
// GET /api/docs/ (Swagger UI, its files served from the binary under /api/docs/assets/).
#include <algorithm>

#include "http/handler_support.hpp"
#include "http/routes/docs/docs_assets.hpp"

namespace marketlink::http {
namespace {

// The page runs only its own files from this origin; Swagger UI sets element styles from its
// scripts (allowed: they are not inline <style> or style="" markup) and draws its icons as data:
// URIs.
constexpr const char* kDocsCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'";

// ?format=json|yaml, else the Accept header: YAML only when asked for before (or without) JSON.
Result<bool> wants_yaml(const Request& req) {
  if (auto format = req.query_param("format"); format && !format->empty()) {
    if (*format == "yaml") return true;
    if (*format == "json") return false;
    return Error::field("format", "Select a valid choice: json or yaml.");
  }
  const auto* accept = req.header("accept");
  if (accept == nullptr) return false;
  const auto yaml = std::min(accept->find("application/yaml"), accept->find("application/x-yaml"));
  const auto json = accept->find("application/json");
  return yaml != std::string::npos && (json == std::string::npos || yaml < json);
}

void schema(RequestPtr req, Responder respond) {
  auto yaml_wanted = wants_yaml(*req);
  if (!yaml_wanted) return fail(respond, *req, yaml_wanted.error());
  const bool yaml = *yaml_wanted;
  Response r;
  r.content_type = yaml ? "application/yaml; charset=utf-8" : "application/json";
  r.body = std::string(yaml ? docs::openapi_yaml() : docs::openapi_json());
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("Vary", "Accept");
  respond(std::move(r));
}

void page(RequestPtr, Responder respond) {
  Response r;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::string(docs::page_html());
  r.headers.emplace_back("Content-Security-Policy", kDocsCsp);
  r.headers.emplace_back("Cache-Control", "no-cache");
  respond(std::move(r));
}

void asset(RequestPtr req, Responder respond) {
  auto file = docs::asset(req->param("file"));
  if (!file) return fail(respond, *req, Error::not_found());
  Response r;
  r.content_type = std::string(file->content_type);
  r.body = std::string(file->body);
  r.headers.emplace_back("Content-Security-Policy", kDocsCsp);
  // The files change only with the renderer's version (and this server's build).
  r.headers.emplace_back("Cache-Control", "public, max-age=3600");
  r.headers.emplace_back("X-Renderer", "swagger-ui-dist " + std::string(docs::renderer_version()));
  respond(std::move(r));
}

}  // namespace

void add_docs_routes(Router& router, App&) {
  router.add("GET", "/api/schema/", schema);
  router.add("GET", "/api/docs/", page);
  router.add("GET", "/api/docs/assets/{file}", asset);
}

}  // namespace marketlink::http
