// The JSON body reader on `POST /api/v1/services/` bodies of 500 to 8,000 variants (above the
// route's cap, so the reader's own cost shows): the time per variant must stay flat.
// Prints one line per size and the ratio 8,000 : 500. Run by scripts/bench.sh.
#include <chrono>
#include <cstdio>
#include <string>

#include "http/input/json_input.hpp"

using marketlink::FieldErrors;
using marketlink::http::JsonObject;

namespace {

std::string body_of(int variants) {
  std::string body = R"({"name":"Brake service","description":"Pads and discs","variants":[)";
  for (int i = 0; i < variants; ++i) {
    if (i > 0) body += ',';
    body += R"({"name":"v)" + std::to_string(i) + R"(","price":1500.50,"estimated_minutes":45,)" +
            R"("stock":)" + std::to_string(i % 100) + "}";
  }
  return body + "]}";
}

// The reads the route makes: the body once, then each variant's four fields.
std::size_t read_all(const std::string& body) {
  auto parsed = JsonObject::parse(body);
  if (!parsed) return 0;
  FieldErrors errors;
  JsonObject::ListProblem problem{};
  std::size_t read = 0;
  for (const auto& item : parsed->objects("variants", problem)) {
    if (!item.object) continue;
    const auto name = item.object->string("name", errors, {.required = true});
    const auto price = item.object->decimal_text("price", errors, true);
    const auto minutes = item.object->integer("estimated_minutes", errors, true);
    const auto stock = item.object->integer("stock", errors);
    read += name && price && minutes && stock ? 1 : 0;
  }
  return read;
}

}  // namespace

int main() {
  double first = 0, last = 0;
  read_all(body_of(8000));  // warm-up: allocator and caches
  for (const int n : {500, 1000, 2000, 4000, 8000}) {
    const auto body = body_of(n);
    const int rounds = 40000 / n;
    std::size_t read = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < rounds; ++r) read += read_all(body);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double per_variant_us = seconds * 1e6 / (static_cast<double>(n) * rounds);
    if (read != static_cast<std::size_t>(n) * rounds) {
      std::fprintf(stderr, "json_bench: read %zu of %d variants\n", read, n * rounds);
      return 1;
    }
    std::printf("create-service body: %5d variants (%7zu bytes): %.3f us per variant\n", n,
                body.size(), per_variant_us);
    if (first == 0) first = per_variant_us;
    last = per_variant_us;
  }
  std::printf("create-service body: time per variant at 8000 / at 500 = %.2f (flat: about 1)\n",
              last / first);
  return 0;
}
