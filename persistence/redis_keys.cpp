// Redis key families.
#include "persistence/redis_keys.hpp"

namespace marketlink::persistence::redis_keys {

std::string login_failures(const std::string& email_lower) {
  return "login:fail:" + email_lower;
}
std::string limit(const std::string& scope, const std::string& who) {
  return "limit:" + scope + ":" + who;
}
std::string stock(int64_t variant_id) {
  return "variant:" + std::to_string(variant_id) + ":stock";
}
std::string members() {
  return "members";
}
std::string members_seen() {
  return "members:seen";
}
std::string member_actors(const std::string& member_id) {
  return "members:actors:" + member_id;
}
std::string inflight(int64_t variant_id) {
  return "variant:" + std::to_string(variant_id) + ":inflight";
}

}  // namespace marketlink::persistence::redis_keys
