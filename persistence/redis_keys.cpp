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
namespace {
std::string in_cluster(const std::string& cluster, std::string key) {
  return cluster.empty() ? key : "cluster:" + cluster + ":" + key;
}
}  // namespace

std::string members(const std::string& cluster) {
  return in_cluster(cluster, "members");
}
std::string members_seen(const std::string& cluster) {
  return in_cluster(cluster, "members:seen");
}
std::string member_actors(const std::string& member_id, const std::string& cluster) {
  return in_cluster(cluster, "members:actors:" + member_id);
}
std::string inflight(int64_t variant_id) {
  return "variant:" + std::to_string(variant_id) + ":inflight";
}

}  // namespace marketlink::persistence::redis_keys
