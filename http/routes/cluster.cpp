// GET /api/v1/ops/cluster/: the live members (actors/cluster/membership), and what this process
// publishes with each renewal (member_publication).
#include <unistd.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <ctime>

#include "http/handler_support.hpp"
#include "http/metrics.hpp"

namespace marketlink::http {
namespace {

std::string utc_now_iso() {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void get_cluster(App& app, RequestPtr req, Responder respond) {
  require_role(app, req, respond, {Role::admin}, [&app, req, respond](UserRow) {
    app.membership.members([&app, req, respond](Result<std::vector<actors::Member>> members) {
      if (!members) return fail(respond, *req, members.error());
      boost::json::array list;
      for (const auto& m : *members) {
        boost::system::error_code ec;
        auto record = boost::json::parse(m.record, ec);
        boost::json::object item =
            !ec && record.is_object() ? std::move(record).as_object() : boost::json::object{};
        item["id"] = m.id;
        item["seen_ms_ago"] = m.seen_ms_ago;
        item["self"] = m.id == app.membership.id();
        list.push_back(std::move(item));
      }
      const auto count = list.size();
      // This process's view of who owns variants (each member computes its own, from the same
      // records and the links it could not reach).
      boost::json::array owners;
      for (const auto& id : app.ownership.owners()) owners.push_back(boost::json::string(id));
      boost::json::object ownership{{"enabled", app.ownership.enabled()},
                                    {"owners", std::move(owners)}};
      respond(json_response(200, {{"self", app.membership.id()},
                                  {"count", count},
                                  {"members", std::move(list)},
                                  {"ownership", std::move(ownership)}}));
    });
  });
}

}  // namespace

std::function<actors::MemberPublication()> member_publication(App& app, std::string address) {
  return [&app, address = std::move(address), started = utc_now_iso(), pid = ::getpid()] {
    std::size_t stock_actors = 0;
    std::size_t mailbox_max = 0;
    auto all = app.inspector.sample();
    double handled_per_second = 0;
    for (const auto& a : all) {
      if (a.stats.kind == "stock") ++stock_actors;
      mailbox_max = std::max<std::size_t>(mailbox_max, static_cast<std::size_t>(a.stats.mailbox));
      handled_per_second += a.per_second;
    }
    boost::json::object load{{"requests_total", Metrics::instance().requests_total()},
                             {"open_connections", app.open_connections()},
                             {"actors", all.size()},
                             {"stock_actors", stock_actors},
                             {"largest_mailbox", mailbox_max},
                             {"messages_per_second", static_cast<int64_t>(handled_per_second)}};
    boost::json::object record{{"version", MARKETLINK_VERSION},
                               {"started_at", started},
                               {"address", address},
                               {"pid", pid},
                               {"draining", app.draining->load()},
                               {"load", std::move(load)}};
    // Where other members forward the work of the variants this one owns (ownership on).
    if (auto link = app.ownership.endpoint(); !link.empty()) record["link"] = link;
    return actors::MemberPublication{
        boost::json::serialize(record),
        boost::json::serialize(published_actors(std::move(all), app.inspector.uptime_seconds()))};
  };
}

void add_cluster_routes(Router& router, App& app) {
  router.add("GET", "/api/v1/ops/cluster/", route(app, get_cluster));
}

}  // namespace marketlink::http
