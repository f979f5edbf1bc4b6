// The operator API behind the console: /metrics, the actor snapshot, overview, stock, payments,
// and the guarded actions (each written to audit_log with who, what, when and the result).
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include "actors/runtime/inspector.hpp"

#include "http/handler_support.hpp"
#include "http/metrics.hpp"
#include "http/routes/docs/docs_assets.hpp"
#include "http/series.hpp"
#include "persistence/ids.hpp"
#include "persistence/sql/accounts.hpp"
#include "persistence/sql/ops.hpp"

namespace marketlink::http {
namespace {

using actors::ActorView;

std::string iso_time(std::chrono::system_clock::time_point t) {
  if (t == std::chrono::system_clock::time_point{}) return "";
  const auto secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// A rate with one decimal, as a plain JSON number (Boost.JSON writes 0.0 as "0E0").
boost::json::value rate(double per_second) {
  const auto tenths = std::llround(per_second * 10);
  if (tenths % 10 == 0) return tenths / 10;
  return static_cast<double>(tenths) / 10.0;
}

int64_t figure(const ActorView& a, const char* name, int64_t fallback = 0) {
  for (const auto& [k, v] : a.stats.gauges) {
    if (k == name) return v;
  }
  return fallback;
}

boost::json::object actor_json(const ActorView& a) {
  const auto& s = a.stats;
  boost::json::object figures;
  for (const auto& [k, v] : s.gauges) figures[k] = v;
  return {{"name", s.name},
          {"kind", s.kind},
          {"parent", s.parent},
          {"state", s.state},
          {"mailbox", s.mailbox},
          {"handled", s.handled},
          {"per_second", rate(a.per_second)},
          {"restarts", s.restarts},
          {"last_error", s.last_error},
          {"last_error_at", iso_time(s.last_error_at)},
          {"figures", std::move(figures)}};
}

Result<std::size_t> read_limit(const Request& req, std::size_t fallback) {
  auto v = req.query_param("limit");
  if (!v || v->empty()) return fallback;
  try {
    const auto n = std::stoll(*v);
    if (n < 1 || n > 100000) throw std::out_of_range("limit");
    return static_cast<std::size_t>(n);
  } catch (const std::exception&) {
    return Error::field("limit", "A whole number from 1 to 100000.");
  }
}

// The snapshot as a tree (supervisors → children). Without ?kind=, stock actors are the
// `limit` busiest under stock_supervisor (100,000 of them would be a 100,000-row answer); with
// ?kind=, a flat list of that kind.
boost::json::object actors_body(std::vector<ActorView> all, const std::optional<std::string>& kind,
                                std::size_t limit, double uptime) {
  std::sort(all.begin(), all.end(), [](const ActorView& a, const ActorView& b) {
    if (a.stats.handled != b.stats.handled) return a.stats.handled > b.stats.handled;
    return a.stats.name < b.stats.name;
  });
  boost::json::object body{{"uptime_seconds", static_cast<int64_t>(uptime)},
                           {"actor_count", all.size()}};
  if (kind) {
    boost::json::array list;
    std::size_t matching = 0;
    for (const auto& a : all) {
      if (a.stats.kind != *kind) continue;
      ++matching;
      if (list.size() < limit) list.push_back(actor_json(a));
    }
    body["count"] = matching;
    body["actors"] = std::move(list);
    return body;
  }
  std::map<std::string, std::vector<const ActorView*>> children;
  std::map<std::string, std::size_t> omitted;
  for (const auto& a : all) {
    auto& siblings = children[a.stats.parent];
    if (a.stats.kind == "stock" && siblings.size() >= limit) {
      ++omitted[a.stats.parent];
      continue;
    }
    siblings.push_back(&a);
  }
  std::function<boost::json::array(const std::string&, int)> build = [&](const std::string& parent,
                                                                         int depth) {
    boost::json::array out;
    if (depth > 8) return out;
    for (const auto* a : children[parent]) {
      auto node = actor_json(*a);
      node["children"] = build(a->stats.name, depth + 1);
      if (auto it = omitted.find(a->stats.name); it != omitted.end()) {
        node["children_omitted"] = it->second;
      }
      out.push_back(std::move(node));
    }
    return out;
  };
  body["tree"] = build("", 0);
  return body;
}

void with_admin(App& app, const RequestPtr& req, const Responder& respond,
                std::function<void(UserRow)> next) {
  require_role(app, req, respond, {Role::admin}, std::move(next));
}

// This process's snapshot, or with ?member= another member's as it last published it (the tree
// with its 50 busiest stock actors, at most MEMBER_HEARTBEAT_MS old).
void get_actors(App& app, RequestPtr req, Responder respond) {
  with_admin(app, req, respond, [&app, req, respond](UserRow) {
    auto limit = read_limit(*req, 100);
    if (!limit) return fail(respond, *req, limit.error());
    auto kind = req->query_param("kind");
    if (kind && kind->empty()) kind.reset();
    auto member = req->query_param("member");
    if (member && !member->empty() && *member != app.membership.id()) {
      return app.membership.snapshot(
          *member, [req, respond, id = *member](Result<std::string> published) {
            if (!published) {
              return fail(respond, *req,
                          published.error().code == ErrorCode::not_found
                              ? Error::make(ErrorCode::not_found, "No live member by that name.")
                              : published.error());
            }
            boost::system::error_code ec;
            auto body = boost::json::parse(*published, ec);
            if (ec || !body.is_object()) return fail(respond, *req, Error::unavailable());
            body.as_object()["member"] = id;
            body.as_object().erase("stock");  // what the stock view reads
            body.as_object().erase("live_stock_actors");
            respond(json_response(200, body));
          });
    }
    auto body = actors_body(app.inspector.sample(), kind, *limit, app.inspector.uptime_seconds());
    body["member"] = app.membership.id();
    respond(json_response(200, body));
  });
}

// Quiet, and memory, Redis and PostgreSQL disagree: worth a look (a resync puts Redis right).
// `figure(name, fallback)` reads one of the stock actor's figures.
template <class Figure>
bool disagreement(const Figure& figure) {
  const auto available = figure("available", -1);
  const auto redis = figure("redis", -1);
  const auto database = figure("database", -1);
  return figure("queue", 0) == 0 && database >= 0 &&
         ((redis >= 0 && redis != database) || (available >= 0 && available != database));
}

auto figures_of(const ActorView& a) {
  return [&a](const char* name, int64_t fallback) { return figure(a, name, fallback); };
}

boost::json::object stock_json(const ActorView& a, const std::string& member) {
  const auto f = figures_of(a);
  const auto& name = a.stats.name;
  return {{"variant", std::stoll(name.substr(name.find('/') + 1))},
          {"member", member},
          {"available", f("available", -1)},
          {"redis", f("redis", -1)},
          {"database", f("database", -1)},
          {"queue", f("queue", 0)},
          {"batches", f("batches", 0)},
          {"accepted", f("accepted", 0)},
          {"rejected", f("rejected", 0)},
          {"released", f("released", 0)},
          {"redis_degraded", f("redis_degraded", 0) > 0},
          {"per_second", rate(a.per_second)},
          {"disagreement", disagreement(f)}};
}

// The stock view: live stock actors and the rows worth a look first (disagreements, then the
// busiest), each naming the member whose actor it is.
struct StockRows {
  std::size_t live = 0;
  boost::json::array rows;
};

StockRows local_stock(const std::vector<ActorView>& all, std::size_t limit,
                      const std::string& member) {
  // Keys computed once: there may be 100,000.
  struct Key {
    bool disagree;
    int64_t accepted;
    const ActorView* actor;
  };
  std::vector<Key> stock;
  for (const auto& a : all) {
    if (a.stats.kind == "stock") {
      stock.push_back({disagreement(figures_of(a)), figure(a, "accepted"), &a});
    }
  }
  const auto n = std::min(stock.size(), limit);
  std::partial_sort(stock.begin(), stock.begin() + static_cast<std::ptrdiff_t>(n), stock.end(),
                    [](const Key& a, const Key& b) {
                      if (a.disagree != b.disagree) return a.disagree;
                      return a.accepted > b.accepted;
                    });
  StockRows out{stock.size(), {}};
  for (std::size_t i = 0; i < n; ++i) out.rows.push_back(stock_json(*stock[i].actor, member));
  return out;
}

// Adds the other members' rows, as each last published them beside its snapshot, and keeps the
// `limit` rows worth a look first.
void add_published(StockRows& into, const std::vector<std::pair<std::string, std::string>>& all,
                   const std::string& self, std::size_t limit) {
  for (const auto& [id, published] : all) {
    if (id == self) continue;
    boost::system::error_code ec;
    auto snap = boost::json::parse(published, ec);
    if (ec || !snap.is_object()) continue;
    const auto& o = snap.get_object();
    if (const auto* n = o.if_contains("live_stock_actors"); n != nullptr && n->is_int64())
      into.live += static_cast<std::size_t>(n->get_int64());
    const auto* rows = o.if_contains("stock");
    if (rows == nullptr || !rows->is_array()) continue;
    for (const auto& row : rows->get_array()) {
      if (!row.is_object()) continue;
      auto copy = row.get_object();
      copy["member"] = id;
      into.rows.emplace_back(std::move(copy));
    }
  }
  auto key = [](const boost::json::value& v) {
    const auto& o = v.get_object();
    const auto* d = o.if_contains("disagreement");
    const auto* a = o.if_contains("accepted");
    return std::pair{d != nullptr && d->is_bool() && d->get_bool(),
                     a != nullptr && a->is_int64() ? a->get_int64() : 0};
  };
  std::stable_sort(into.rows.begin(), into.rows.end(),
                   [&key](const boost::json::value& a, const boost::json::value& b) {
                     const auto ka = key(a);
                     const auto kb = key(b);
                     if (ka.first != kb.first) return ka.first;
                     return ka.second > kb.second;
                   });
  if (into.rows.size() > limit) into.rows.resize(limit);
}

boost::json::object stock_body(StockRows rows) {
  return {{"live_stock_actors", rows.live}, {"variants", std::move(rows.rows)}};
}

// Every member's stock actors: this one's now, the others' as published (a second old at most).
void get_stock(App& app, RequestPtr req, Responder respond) {
  with_admin(app, req, respond, [&app, req, respond](UserRow) {
    auto limit = read_limit(*req, 20);
    if (!limit) return fail(respond, *req, limit.error());
    auto rows = local_stock(app.inspector.sample(), *limit, app.membership.id());
    app.membership.snapshots(
        [&app, respond, rows = std::move(rows), limit = *limit](
            Result<std::vector<std::pair<std::string, std::string>>> published) mutable {
          // Redis not answering: this member's own rows still help.
          if (published) add_published(rows, *published, app.membership.id(), limit);
          respond(json_response(200, stock_body(std::move(rows))));
        });
  });
}

// Collects the parts of the overview that need the stores.
struct Overview {
  Responder respond;
  boost::json::object body;
  std::mutex mutex;
  int pending = 2;
  void part(boost::json::object fields) {
    std::lock_guard lock(mutex);
    for (auto& [k, v] : fields) body[k] = std::move(v);
    if (--pending == 0) respond(json_response(200, body));
  }
};

void get_overview(App& app, RequestPtr req, Responder respond) {
  with_admin(app, req, respond, [&app, req, respond](UserRow) {
    auto state = std::make_shared<Overview>();
    state->respond = respond;
    auto all = app.inspector.sample();
    boost::json::object kinds;
    double handled_per_second = 0;
    for (const auto& a : all) {
      kinds[a.stats.kind] = (kinds.contains(a.stats.kind) ? kinds[a.stats.kind].as_int64() : 0) + 1;
      handled_per_second += a.per_second;
    }
    // Requests per second over the last sample of at least a second.
    static std::mutex rate_mutex;
    static uint64_t last_total = 0;
    static auto last_at = std::chrono::steady_clock::now();
    static double last_rate = 0;
    {
      std::lock_guard lock(rate_mutex);
      const auto now = std::chrono::steady_clock::now();
      const double dt = std::chrono::duration<double>(now - last_at).count();
      const auto total = Metrics::instance().requests_total();
      if (dt >= 1.0) {
        last_rate = static_cast<double>(total - last_total) / dt;
        last_total = total;
        last_at = now;
      }
      state->body["requests_total"] = total;
      state->body["requests_per_second"] = rate(last_rate);
    }
    state->body["uptime_seconds"] = static_cast<int64_t>(app.inspector.uptime_seconds());
    state->body["open_connections"] = app.open_connections();
    state->body["actors_by_kind"] = std::move(kinds);
    state->body["messages_per_second"] = static_cast<int64_t>(std::llround(handled_per_second));
    app.ops.counts([state](Result<persistence::ops::Counts> c) {
      if (!c) return state->part({{"postgresql", "unreachable"}});
      state->part(
          {{"postgresql", "ok"},
           {"orders",
            {{"pending", c->pending_orders}, {"expiring_within_5_minutes", c->expiring_soon}}},
           {"payments", {{"needs_review", c->needs_review}, {"needs_refund", c->needs_refund}}},
           {"outbox", {{"pending", c->outbox_pending}, {"dead", c->outbox_dead}}},
           {"vendors_awaiting_activation", c->vendors_awaiting}});
    });
    app.ops.redis_reachable([state](bool ok) {
      state->part({{"redis", ok ? "ok" : "unreachable"}});
    });
  });
}

boost::json::object payments_board_json(const actors::PaymentsBoard& board) {
  boost::json::array attention, pending, dead, reconciled;
  for (const auto& p : board.needs_attention) {
    attention.push_back({{"order_id", p.order_id},
                         {"val_id", p.val_id},
                         {"state", p.state},
                         {"reason", p.reason},
                         {"amount", p.amount},
                         {"risk_level", p.risk_level},
                         {"needs_review", p.needs_review},
                         {"order_status", p.order_status},
                         {"created_at", p.created_at}});
  }
  for (const auto& o : board.pending_orders) {
    pending.push_back({{"order_id", o.order_id},
                       {"customer", o.customer_email},
                       {"service_name", o.service_name},
                       {"variant_name", o.variant_name},
                       {"variant", o.variant_id},
                       {"total_amount", o.total_amount},
                       {"expires_at", o.expires_at}});
  }
  for (const auto& j : board.dead_jobs) {
    dead.push_back({{"id", j.id},
                    {"kind", j.kind},
                    {"order_id", j.order_id},
                    {"attempts", j.attempts},
                    {"last_error", j.last_error}});
  }
  for (const auto& r : board.reconciliations) {
    reconciled.push_back({{"order_id", r.order_id}, {"result", r.result}, {"at", r.at}});
  }
  return {{"needs_attention", std::move(attention)},
          {"pending_orders", std::move(pending)},
          {"dead_jobs", std::move(dead)},
          {"reconciliations", std::move(reconciled)}};
}

// This process's last 15 minutes, one sample a second (http/series), for the console's charts.
boost::json::object series_body(App& app) {
  boost::json::array samples;
  for (const auto& s : Series::instance().samples()) {
    samples.push_back({{"t", s.t},
                       {"requests", s.requests},
                       {"orders", s.orders},
                       {"errors", s.errors},
                       {"p50_ms", rate(s.p50_ms)},
                       {"p99_ms", rate(s.p99_ms)},
                       {"outbox_pending", s.outbox_pending},
                       {"mailbox_max", s.mailbox_max},
                       {"mailbox_actor", s.mailbox_actor}});
  }
  return {
      {"member", app.membership.id()}, {"interval_seconds", 1}, {"samples", std::move(samples)}};
}

// This member's series, or with ?member= another's, asked over the cluster link (each member
// keeps its own in memory).
void get_series(App& app, RequestPtr req, Responder respond) {
  with_admin(app, req, respond, [&app, req, respond](UserRow) {
    auto member = req->query_param("member");
    if (!member || member->empty() || *member == app.membership.id()) {
      return respond(json_response(200, series_body(app)));
    }
    app.ownership.view_on(*member, "series", [req, respond](Result<std::string> r) {
      if (!r && r.error().code == ErrorCode::not_found) {
        return fail(respond, *req,
                    Error::make(ErrorCode::not_found,
                                "No live member by that name with its cluster link up."));
      }
      if (!r) return fail(respond, *req, r.error());
      boost::system::error_code ec;
      auto body = boost::json::parse(*r, ec);
      if (ec || !body.is_object()) return fail(respond, *req, Error::unavailable());
      respond(json_response(200, body));
    });
  });
}

void get_payments(App& app, RequestPtr req, Responder respond) {
  with_admin(app, req, respond, [&app, req, respond](UserRow) {
    auto limit = read_limit(*req, 50);
    if (!limit) return fail(respond, *req, limit.error());
    const int n = static_cast<int>(std::min<std::size_t>(*limit, 500));
    app.ops.payments_board(
        n, reply<actors::PaymentsBoard>(req, respond, [](const actors::PaymentsBoard& b) {
          return json_response(200, payments_board_json(b));
        }));
  });
}

// --- Guarded actions ---------------------------------------------------------------------

// Records the action, then answers: the audit row is written before the operator sees success.
void audited(App& app, const UserRow& admin, std::string action, std::string target,
             std::string result, Response response, const Responder& respond) {
  app.ops.audit(
      admin.id, action, target, std::move(result),
      [respond, response = std::move(response), action, target](const Result<Unit>& r) mutable {
        if (!r) spdlog::error("ops: could not write the audit row for {} {}", action, target);
        respond(std::move(response));
      });
}

void resync_variant(App& app, RequestPtr req, Responder respond) {
  with_admin(app, req, respond, [&app, req, respond](UserRow admin) {
    int64_t id = 0;
    try {
      id = std::stoll(req->param("id"));
    } catch (const std::exception&) {
      return fail(respond, *req, Error::not_found());
    }
    app.stock.resync(id, [&app, req, respond, admin, id](Result<int> r) {
      const auto target = "variant:" + std::to_string(id);
      if (!r) {
        audited(app, admin, "ops.variant_resync", target, "error: " + r.error().message,
                error_response(r.error(), req->request_id), respond);
        return;
      }
      audited(app, admin, "ops.variant_resync", target, "redis=" + std::to_string(*r),
              json_response(200, {{"variant", id}, {"stock", *r}}), respond);
    });
  });
}

// ?member=<id>: on that member (over the cluster link; ownership on), else on this one.
void restart_actor(App& app, RequestPtr req, Responder respond) {
  with_admin(app, req, respond, [&app, req, respond](UserRow admin) {
    const auto name = req->param("name");
    auto member = req->query_param("member");
    if (member && !member->empty() && *member != app.membership.id()) {
      const auto target = *member + "/" + name;
      return app.ownership.restart_on(
          *member, name, [&app, req, respond, admin, name, target](Result<bool> r) {
            if (!r && r.error().code == ErrorCode::not_found) {
              return audited(app, admin, "ops.actor_restart", target, "no such member",
                             json_response(404, {{"detail",
                                                  "No live member by that name with "
                                                  "its cluster link up."}}),
                             respond);
            }
            if (!r) {
              return audited(app, admin, "ops.actor_restart", target, "error: " + r.error().message,
                             error_response(r.error(), req->request_id), respond);
            }
            if (!*r) {
              return audited(app, admin, "ops.actor_restart", target, "unknown",
                             json_response(404, {{"detail", "No restartable actor by that name."},
                                                 {"restartable", boost::json::array{}}}),
                             respond);
            }
            audited(app, admin, "ops.actor_restart", target, "restarting",
                    json_response(202, {{"restarting", name}}), respond);
          });
    }
    const bool ok = app.runtime.restart_child(name);
    if (!ok) {
      boost::json::array names;
      for (const auto& n : app.runtime.restartable()) names.push_back(boost::json::string(n));
      auto r = json_response(404, {{"detail", "No restartable actor by that name."},
                                   {"restartable", std::move(names)}});
      return audited(app, admin, "ops.actor_restart", name, "unknown", std::move(r), respond);
    }
    audited(app, admin, "ops.actor_restart", name, "restarting",
            json_response(202, {{"restarting", name}}), respond);
  });
}

void retry_job(App& app, RequestPtr req, Responder respond) {
  with_admin(app, req, respond, [&app, req, respond](UserRow admin) {
    int64_t id = 0;
    try {
      id = std::stoll(req->param("id"));
    } catch (const std::exception&) {
      return fail(respond, *req, Error::not_found());
    }
    app.outbox.retry(id, [&app, req, respond, admin, id](Result<bool> r) {
      const auto target = "outbox:" + std::to_string(id);
      if (!r) {
        return audited(app, admin, "ops.outbox_retry", target, "error: " + r.error().message,
                       error_response(r.error(), req->request_id), respond);
      }
      if (!*r) {
        return audited(app, admin, "ops.outbox_retry", target, "not dead",
                       json_response(409, {{"detail", "Only dead jobs can be retried."}}), respond);
      }
      audited(app, admin, "ops.outbox_retry", target, "retrying",
              json_response(200, {{"retrying", id}}), respond);
    });
  });
}

void cancel_order(App& app, RequestPtr req, Responder respond) {
  with_admin(app, req, respond, [&app, req, respond](UserRow admin) {
    const auto id = req->param("id");
    if (!is_uuid(id)) return fail(respond, *req, Error::not_found());
    app.orders.cancel(admin, id, [&app, req, respond, admin, id](Result<persistence::OrderRow> r) {
      if (!r) {
        return audited(app, admin, "ops.order_cancel", "order:" + id, "error: " + r.error().message,
                       error_response(r.error(), req->request_id), respond);
      }
      audited(app, admin, "ops.order_cancel", "order:" + id, "cancelled",
              json_response(200, {{"order_id", id}, {"status", "cancelled"}}), respond);
    });
  });
}

}  // namespace

std::string_view console_html();  // console_asset.cpp (generated)

// The ops stream: the caller's admin token as Authorization: Bearer or ?token= (browsers cannot
// set headers on a WebSocket).
StreamEndpoint ops_stream(App& app) {
  StreamEndpoint ep;
  ep.path = "/api/v1/ops/stream/";
  ep.authorize = [&app](RequestPtr req, std::function<void(std::optional<Response>)> done) {
    auto with_header = std::make_shared<Request>(*req);
    if (req->header("authorization") == nullptr) {
      if (auto token = req->query_param("token"); token && !token->empty()) {
        with_header->headers.emplace_back("authorization", "Bearer " + *token);
      }
    }
    auto answered = std::make_shared<std::atomic<bool>>(false);
    Responder refuse = [done, answered](Response r) {
      if (!answered->exchange(true)) done(std::move(r));
    };
    require_role(app, with_header, refuse, {Role::admin}, [done, answered](UserRow) {
      if (!answered->exchange(true)) done(std::nullopt);
    });
  };
  // One snapshot a second serves every listener. Its stock rows are every member's: this one's
  // now, the others' as they published them, fetched after each build for the next one.
  struct Cache {
    std::mutex mutex;
    std::chrono::steady_clock::time_point built{};
    std::string message;
    std::vector<std::pair<std::string, std::string>> published;
  };
  auto cache = std::make_shared<Cache>();
  ep.next = [&app, cache] {
    std::string message;
    {
      std::lock_guard lock(cache->mutex);
      const auto now = std::chrono::steady_clock::now();
      if (!cache->message.empty() && now - cache->built < std::chrono::milliseconds(900)) {
        return cache->message;
      }
      auto all = app.inspector.sample();
      auto stock = local_stock(all, 50, app.membership.id());
      add_published(stock, cache->published, app.membership.id(), 50);
      boost::json::object msg{{"type", "snapshot"},
                              {"requests_total", Metrics::instance().requests_total()},
                              {"stock", stock_body(std::move(stock))},
                              {"actors", actors_body(std::move(all), std::nullopt, 50,
                                                     app.inspector.uptime_seconds())}};
      cache->message = boost::json::serialize(msg);
      cache->built = now;
      message = cache->message;
    }
    app.membership.snapshots(
        [cache](Result<std::vector<std::pair<std::string, std::string>>> published) {
          if (!published) return;
          std::lock_guard lock(cache->mutex);
          cache->published = std::move(*published);
        });
    return message;
  };
  return ep;
}

// The console's CSP: its one inline script is allowed by its hash, nothing else may run (an
// injected <script> or handler attribute would not match).
std::string console_csp() {
  const std::string_view page = console_html();
  const auto open = page.find("<script>");
  const auto close = open == std::string_view::npos ? open : page.find("</script>", open);
  std::string hash;
  if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
    const auto script = page.substr(open + 8, close - open - 8);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(script.data(), script.size(), digest, &len, EVP_sha256(), nullptr);
    std::string b64(4 * ((len + 2) / 3) + 1, '\0');
    b64.resize(static_cast<std::size_t>(EVP_EncodeBlock(
        reinterpret_cast<unsigned char*>(b64.data()), digest, static_cast<int>(len))));
    hash = "'sha256-" + b64 + "'";
  }
  return "default-src 'none'; script-src " + (hash.empty() ? std::string("'none'") : hash) +
         " 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self'; "
         "frame-ancestors "
         "'none'; form-action 'self'; base-uri 'none'";
}

boost::json::object published_actors(std::vector<ActorView> all, double uptime) {
  auto stock = local_stock(all, 50, "");
  auto body = actors_body(std::move(all), std::nullopt, 50, uptime);
  // For the other members' stock view (GET /api/v1/ops/stock/ and the stream merge them).
  body["live_stock_actors"] = stock.live;
  body["stock"] = std::move(stock.rows);
  return body;
}

void add_console_routes(Router& router, App& app) {
  router.add("GET", "/console/", [csp = console_csp()](RequestPtr, Responder respond) {
    Response r;
    r.content_type = "text/html; charset=utf-8";
    r.body = std::string(console_html());
    r.headers.emplace_back("Content-Security-Policy", csp);
    r.headers.emplace_back("Cache-Control", "no-cache");
    respond(std::move(r));
  });
  router.add("GET", "/metrics", [&app](RequestPtr req, Responder respond) {
    if (!address_allowed(req->remote_address, app.config.metrics_allow)) {
      return fail(respond, *req, Error::forbidden("Metrics are not served to this address."));
    }
    Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = Metrics::instance().render(app.inspector.sample(), app.open_connections());
    respond(std::move(r));
  });
  router.add("GET", "/api/v1/ops/actors/", route(app, get_actors));
  router.add("GET", "/api/v1/ops/series/", route(app, get_series));
  // What other members may ask this one for over the cluster link.
  app.ownership.set_views([&app](const std::string& name) -> std::optional<std::string> {
    if (name == "series") return boost::json::serialize(series_body(app));
    return std::nullopt;
  });
  router.add("GET", "/console/assets/{file}", [](RequestPtr req, Responder respond) {
    auto file = docs::console_asset(req->param("file"));
    if (!file) return fail(respond, *req, Error::not_found());
    Response r;
    r.content_type = std::string(file->content_type);
    r.body = std::string(file->body);
    r.headers.emplace_back("Cache-Control", "public, max-age=3600");
    respond(std::move(r));
  });
  router.add("GET", "/api/v1/ops/stock/", route(app, get_stock));
  router.add("GET", "/api/v1/ops/overview/", route(app, get_overview));
  router.add("GET", "/api/v1/ops/payments/", route(app, get_payments));
  router.add("POST", "/api/v1/ops/variants/{id}/resync/", route(app, resync_variant));
  router.add("POST", "/api/v1/ops/actors/{name}/restart/", route(app, restart_actor));
  router.add("POST", "/api/v1/ops/outbox/{id}/retry/", route(app, retry_job));
  router.add("POST", "/api/v1/ops/orders/{id}/cancel/", route(app, cancel_order));
}

}  // namespace marketlink::http
