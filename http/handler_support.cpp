// Shared handler machinery.
#include "http/handler_support.hpp"

#include <boost/json/serialize.hpp>
#include <boost/url/url.hpp>
#include <charconv>

namespace marketlink::http {

Response json_response(int status, const boost::json::value& body) {
  Response r;
  r.status = status;
  r.body = boost::json::serialize(body);
  return r;
}

Response no_content(int status) {
  Response r;
  r.status = status;
  r.content_type.clear();
  return r;
}

void fail(const Responder& respond, const Request& request, const Error& error) {
  respond(error_response(error, request.request_id));
}

void require_user(App& app, const RequestPtr& req, const Responder& respond,
                  std::function<void(UserRow)> next) {
  const auto* header = req->header("authorization");
  const std::string_view prefix = "Bearer ";
  if (header == nullptr || header->size() < prefix.size() ||
      std::string_view(*header).substr(0, prefix.size()) != prefix) {
    // SimpleJWT ignores other schemes: the request is simply anonymous.
    return fail(
        respond, *req,
        Error::make(ErrorCode::unauthenticated, "Authentication credentials were not provided."));
  }
  std::string token = header->substr(prefix.size());
  if (token.empty() || token.find(' ') != std::string::npos) {
    return fail(respond, *req,
                Error::make(ErrorCode::token_invalid,
                            "Authorization header must contain two space-delimited values",
                            Reason::bad_authorization_header));
  }
  app.accounts.authenticate(std::move(token),
                            [req, respond, next = std::move(next)](Result<UserRow> user) {
                              if (!user) return fail(respond, *req, user.error());
                              next(std::move(user).value());
                            });
}

void optional_user(App& app, const RequestPtr& req, const Responder& respond,
                   std::function<void(actors::Viewer)> next) {
  if (req->header("authorization") == nullptr) return next(std::nullopt);
  require_user(app, req, respond,
               [next = std::move(next)](UserRow user) { next(std::move(user)); });
}

void require_role(App& app, const RequestPtr& req, const Responder& respond,
                  std::initializer_list<Role> roles, std::function<void(UserRow)> next) {
  std::vector<Role> allowed(roles.begin(), roles.end());
  require_user(app, req, respond, [req, respond, allowed, next = std::move(next)](UserRow user) {
    for (const Role r : allowed) {
      if (user.role == r) return next(std::move(user));
    }
    fail(respond, *req, Error::forbidden());
  });
}

namespace {
std::optional<int> positive_int(const std::string& s) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size() || v < 1) return std::nullopt;
  return v;
}
}  // namespace

Result<persistence::PageRequest> page_request(const Request& req) {
  persistence::PageRequest page;
  if (auto p = req.query_param("page")) {
    auto v = positive_int(*p);
    if (!v) return Error::make(ErrorCode::not_found, "Invalid page.");
    page.page = *v;
  }
  if (auto s = req.query_param("page_size")) {
    if (auto v = positive_int(*s)) page.page_size = std::min(*v, 100);
  }
  return page;
}

Result<boost::json::object> paginated(const App& app, const Request& req,
                                      const persistence::PageRequest& page, long long count,
                                      boost::json::array results) {
  const long long pages = count == 0 ? 1 : (count + page.page_size - 1) / page.page_size;
  if (page.page > pages) return Error::make(ErrorCode::not_found, "Invalid page.");
  auto link = [&](long long target) -> boost::json::value {
    boost::urls::url u(app.config.base_domain);
    u.set_path(req.path);
    u.set_encoded_query(req.query);
    if (target == 1) {
      u.params().erase("page");
    } else {
      u.params().set("page", std::to_string(target));
    }
    if (u.params().empty()) u.remove_query();
    return boost::json::string(u.buffer());
  };
  boost::json::object out;
  out["count"] = count;
  out["next"] = page.page < pages ? link(page.page + 1) : boost::json::value(nullptr);
  out["previous"] = page.page > 1 ? link(page.page - 1) : boost::json::value(nullptr);
  out["results"] = std::move(results);
  return out;
}

boost::json::object user_json(const UserRow& u) {
  return {{"id", u.id},
          {"email", u.email},
          {"first_name", u.first_name},
          {"last_name", u.last_name},
          {"role", to_string(u.role)},
          {"date_joined", u.date_joined}};
}

boost::json::object vendor_profile_json(const persistence::VendorProfileRow& p) {
  return {{"id", p.id},
          {"user", user_json(p.user)},
          {"business_name", p.business_name},
          {"address", p.address},
          {"is_active", p.is_active},
          {"created_at", p.created_at},
          {"updated_at", p.updated_at}};
}

}  // namespace marketlink::http
