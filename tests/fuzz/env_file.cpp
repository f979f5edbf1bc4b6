// The .env reader and the configuration built from what it read.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::map<std::string, std::string> vars;
  for (auto& [k, v] : marketlink::config::parse_env_file(text)) vars[k] = v;
  (void)marketlink::config::load([&vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
  return 0;
}
