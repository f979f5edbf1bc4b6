// Account flows. Each step runs on the pool its work belongs to; the multi-step flows
// (registration, login) are classes with one named step per pool job. The steps capture the
// Accounts object: ~Services shuts the runtime down before any service is destroyed, so no job
// outlives it.
#include "actors/accounts/accounts.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "actors/runtime/pool_jobs.hpp"
#include "config/text.hpp"
#include "persistence/ids.hpp"
#include "persistence/redis_keys.hpp"
#include "persistence/sql/audit.hpp"

namespace marketlink::actors {
namespace {

namespace users = persistence::users;
namespace profiles = persistence::vendor_profiles;
namespace refresh_tokens = persistence::refresh_tokens;
using persistence::parse_role;
using persistence::Role;
using persistence::Tx;

Error bad_credentials() {
  return Error::make(ErrorCode::bad_credentials,
                     "No active account found with the given credentials");
}

Error email_taken() {
  return Error::field("email", "User with this email already exists.");
}

// ASCII only, whatever the locale (std::tolower would follow it).
std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Registers the refresh token row of a new pair inside `tx` and returns both tokens.
TokenPair issue_pair(Tx& tx, const TokenService& tokens, const std::string& user_id,
                     const std::string& family_id) {
  const auto now = unix_now();
  auto refresh = tokens.issue("refresh", user_id, now);
  auto access = tokens.issue("access", user_id, now);
  refresh_tokens::insert(tx, refresh.claims.jti, user_id, family_id, refresh.claims.exp);
  return {std::move(access.token), std::move(refresh.token)};
}

}  // namespace

bool valid_email(std::string_view email) {
  if (email.empty() || email.size() > 254) return false;
  const auto at = email.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= email.size()) return false;
  const auto local = email.substr(0, at);
  const auto domain = email.substr(at + 1);
  if (local.size() > 64) return false;
  for (unsigned char c : email) {
    if (c <= 0x20 || c == 0x7F || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' ||
        c == ';' || c == '<' || c == '>' || c == '[' || c == ']' || c == '\\') {
      return false;
    }
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return false;
  }
  if (local.find('@') != std::string_view::npos) return false;
  const auto dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= domain.size()) return false;
  if (domain.front() == '-' || domain.find("..") != std::string_view::npos) return false;
  const auto tld = domain.substr(dot + 1);
  return tld.size() >= 2;
}

std::string canonical_email(std::string_view email) {
  return lower(email);
}

std::string normalize_email(std::string_view email) {
  const auto at = email.rfind('@');
  if (at == std::string_view::npos) return std::string(email);
  return std::string(email.substr(0, at + 1)) + lower(email.substr(at + 1));
}

void validate_registration(const RegisterInput& in, FieldErrors& errors) {
  auto required = [&](const char* name, const std::optional<std::string>& v) {
    if (errors.has(name)) return false;
    if (!v) {
      errors.add(name, "This field is required.");
      return false;
    }
    if (v->empty()) {
      errors.add(name, "This field may not be blank.");
      return false;
    }
    return true;
  };
  if (required("email", in.email) && !valid_email(*in.email)) {
    errors.add("email", "Enter a valid email address.");
  }
  const bool has_password = required("password", in.password);
  const bool has_password2 = required("password2", in.password2);
  if (required("role", in.role) && *in.role != "customer" && *in.role != "vendor") {
    errors.add("role", "\"" + *in.role + "\" is not a valid choice.");
  }
  for (auto [name, value] :
       {std::pair{"first_name", &in.first_name}, {"last_name", &in.last_name}}) {
    if (*value && utf8_chars(**value) > 150 && !errors.has(name)) {
      errors.add(name, "Ensure this field has no more than 150 characters.");
    }
  }
  if (in.business_name && utf8_chars(*in.business_name) > 255 && !errors.has("business_name")) {
    errors.add("business_name", "Ensure this field has no more than 255 characters.");
  }
  if (has_password && has_password2 && *in.password != *in.password2) {
    errors.add("password", "Password fields didn't match.");
  } else if (has_password) {
    for (auto& problem : password_problems(*in.password)) errors.add("password", problem);
  }
}

Accounts::Accounts(Runtime& runtime, const config::Config& config, Limiter& limiter)
    : runtime_(runtime),
      config_(config),
      limiter_(limiter),
      tokens_(config.secret_key, config.jwt_access_ttl, config.jwt_refresh_ttl),
      hash_params_{config.argon2_memory_kib, config.argon2_iterations, 1},
      dummy_hash_(hash_password("not-a-real-password", hash_params_)) {}

std::optional<UserRow> Accounts::cached_user(const std::string& id) {
  std::shared_lock lock(cache_mutex_);
  auto it = user_cache_.find(id);
  if (it == user_cache_.end() || it->second.expires < std::chrono::steady_clock::now())
    return std::nullopt;
  return it->second.user;
}

void Accounts::remember_user(const UserRow& user) {
  if (config_.auth_cache_ttl.count() == 0) return;
  std::unique_lock lock(cache_mutex_);
  if (user_cache_.size() > 100000) user_cache_.clear();  // bounded; refills on demand
  user_cache_[user.id] = {user, std::chrono::steady_clock::now() + config_.auth_cache_ttl};
  if (!purge_scheduled_) {
    purge_scheduled_ = true;
    runtime_.after(config_.auth_cache_ttl + std::chrono::seconds(1),
                   [this] { purge_expired_users(); });
  }
}

void Accounts::purge_expired_users() {
  std::unique_lock lock(cache_mutex_);
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(user_cache_, [now](const auto& e) { return e.second.expires < now; });
  if (user_cache_.empty()) {
    std::unordered_map<std::string, CachedUser>().swap(user_cache_);  // its buckets too
    purge_scheduled_ = false;
    return;
  }
  runtime_.after(config_.auth_cache_ttl + std::chrono::seconds(1),
                 [this] { purge_expired_users(); });
}

void Accounts::forget_user(const std::string& id) {
  std::unique_lock lock(cache_mutex_);
  user_cache_.erase(id);
}

void Accounts::authenticate(std::string access_token, Callback<UserRow> done) {
  auto claims = tokens_.verify(access_token, "access", unix_now());
  if (!claims) return done(std::move(claims).error());
  if (auto user = cached_user(claims->user_id)) return done(std::move(*user));
  bool start = false;
  {
    std::lock_guard lock(lookup_mutex_);
    lookups_waiting_[claims->user_id].push_back(std::move(done));
    if (!lookup_in_flight_) start = lookup_in_flight_ = true;
  }
  if (start) lookup_users();
}

void Accounts::lookup_users() {
  std::unordered_map<std::string, std::vector<Callback<UserRow>>> batch;
  {
    std::lock_guard lock(lookup_mutex_);
    batch.swap(lookups_waiting_);
    if (batch.empty()) {
      lookup_in_flight_ = false;
      return;
    }
  }
  auto waiting = std::make_shared<decltype(batch)>(std::move(batch));
  std::vector<std::string> ids;
  ids.reserve(waiting->size());
  for (const auto& [id, callbacks] : *waiting) ids.push_back(id);
  // A member of the process's shared transaction (one statement, read-only): under load it
  // rides along with the writes committing anyway instead of being a transaction of its own.
  run_grouped<std::vector<UserRow>>(
      runtime_, "authenticate",
      [ids = std::move(ids)](Tx& tx) -> Result<std::vector<UserRow>> {
        return users::find_by_ids(tx, ids);
      },
      [this, waiting](Result<std::vector<UserRow>> found) {
        std::unordered_map<std::string, UserRow> by_id;
        if (found) {
          for (auto& u : *found) by_id.emplace(u.id, std::move(u));
        }
        for (auto& [id, callbacks] : *waiting) {
          Result<UserRow> outcome = Error::unavailable();
          if (!found) {
            outcome = found.error();
          } else if (auto it = by_id.find(id); it == by_id.end()) {
            outcome =
                Error::make(ErrorCode::token_invalid, "User not found", Reason::user_not_found);
          } else if (!it->second.is_active) {
            outcome =
                Error::make(ErrorCode::token_invalid, "User is inactive", Reason::user_inactive);
          } else {
            remember_user(it->second);
            outcome = it->second;
          }
          for (auto& cb : callbacks) cb(outcome);
        }
        lookup_users();  // whatever queued meanwhile
      });
}

// Registration: the per-address rate limit (Redis) → the password hash (hash pool) → the user,
// its vendor profile and its first tokens (one transaction).
class RegistrationFlow : public std::enable_shared_from_this<RegistrationFlow> {
 public:
  RegistrationFlow(Accounts& accounts, RegisterInput in, std::string client_address,
                   Callback<RegisterOutput> done)
      : a_(accounts),
        in_(std::move(in)),
        address_(std::move(client_address)),
        done_(std::move(done)) {}

  void start() {
    if (a_.config_.register_per_minute == 0) return counted(Limiter::Window{});
    a_.limiter_.hit(persistence::redis_keys::limit("register", address_), std::chrono::seconds(60),
                    step_of(shared_from_this(), &RegistrationFlow::counted));
  }

 private:
  void counted(Result<Limiter::Window> window) {
    if (!window) return done_(std::move(window).error());
    if (a_.config_.register_per_minute > 0 && window->count > a_.config_.register_per_minute) {
      return done_(throttled("Request was throttled.", window->resets_in));
    }
    run_cpu<std::string>(
        a_.runtime_,
        [password = *in_.password, params = a_.hash_params_]() -> Result<std::string> {
          return hash_password(password, params);
        },
        step_of(shared_from_this(), &RegistrationFlow::hashed));
  }

  void hashed(Result<std::string> hash) {
    if (!hash) return done_(std::move(hash).error());
    persistence::NewUser user{normalize_email(*in_.email), std::move(*hash),
                              in_.first_name.value_or(""), in_.last_name.value_or(""),
                              parse_role(*in_.role).value_or(Role::customer)};
    run_transaction<RegisterOutput>(
        a_.runtime_, "register",
        [&token_service = a_.tokens_, user = std::move(user),
         business = in_.business_name.value_or(""),
         address = in_.address.value_or("")](Tx& tx) -> Result<RegisterOutput> {
          auto row = users::insert(tx, user);
          if (!row) {
            if (row.error().code == ErrorCode::conflict) return email_taken();
            return std::move(row).error();
          }
          if (row->role == Role::vendor) profiles::insert(tx, row->id, business, address);
          auto tokens = issue_pair(tx, token_service, row->id, random_uuid());
          return RegisterOutput{std::move(*row), std::move(tokens)};
        },
        step_of(shared_from_this(), &RegistrationFlow::stored));
  }

  // Two registrations of one email at once: the unique index decides.
  void stored(Result<RegisterOutput> out) {
    if (!out && out.error().code == ErrorCode::conflict) return done_(email_taken());
    done_(std::move(out));
  }

  Accounts& a_;
  RegisterInput in_;
  std::string address_;
  Callback<RegisterOutput> done_;
};

void Accounts::register_user(RegisterInput in, std::string client_address,
                             Callback<RegisterOutput> done) {
  std::make_shared<RegistrationFlow>(*this, std::move(in), std::move(client_address),
                                     std::move(done))
      ->start();
}

// Login: the per-address limit → the lock, which counts this attempt before anything is checked
// (so a burst of guesses is cut at LOGIN_MAX_FAILURES however parallel it is) → the user by email
// → the password check on the hash pool (with an upgraded hash when the stored one is old) →
// either bad credentials (the attempt stays counted) or the tokens (one transaction), after
// which the count is cleared. Both counters are the Limiter's (Redis, this process meanwhile).
class LoginFlow : public std::enable_shared_from_this<LoginFlow> {
 public:
  LoginFlow(Accounts& accounts, std::string email, std::string password, std::string address,
            Callback<TokenPair> done)
      : a_(accounts),
        key_(persistence::redis_keys::login_failures(canonical_email(email))),
        email_(std::move(email)),
        password_(std::move(password)),
        address_(std::move(address)),
        done_(std::move(done)) {}

  void start() {
    if (a_.config_.login_per_minute == 0) return address_counted(Limiter::Window{});
    a_.limiter_.hit(persistence::redis_keys::limit("login", address_), std::chrono::seconds(60),
                    step_of(shared_from_this(), &LoginFlow::address_counted));
  }

 private:
  using Checked = std::pair<PasswordCheck, std::optional<std::string>>;

  void address_counted(Result<Limiter::Window> window) {
    if (!window) return done_(std::move(window).error());
    if (a_.config_.login_per_minute > 0 && window->count > a_.config_.login_per_minute) {
      return done_(throttled("Too many login attempts from this address. Try again later.",
                             window->resets_in));
    }
    a_.limiter_.hit(key_, a_.config_.login_lock_time,
                    step_of(shared_from_this(), &LoginFlow::attempt_counted));
  }

  void attempt_counted(Result<Limiter::Window> attempts) {
    if (!attempts) return done_(std::move(attempts).error());
    if (attempts->count > a_.config_.login_max_failures) {
      return done_(
          throttled("Too many failed login attempts. Try again later.", attempts->resets_in));
    }
    counted_local_ = attempts->local;
    run_transaction<std::optional<UserRow>>(
        a_.runtime_, "login lookup",
        [email = canonical_email(email_)](Tx& tx) -> Result<std::optional<UserRow>> {
          return users::find_by_email(tx, email);
        },
        step_of(shared_from_this(), &LoginFlow::found));
  }

  // The attempt failed on our side (PostgreSQL, a full hashing pool): it does not count.
  void not_attempted(Error e) {
    a_.limiter_.give_back(key_, counted_local_);
    done_(std::move(e));
  }

  void found(Result<std::optional<UserRow>> user) {
    if (!user) return not_attempted(std::move(user).error());
    user_ = std::move(*user);
    run_cpu<Checked>(
        a_.runtime_,
        [password = std::move(password_), stored = user_ ? user_->password_hash : a_.dummy_hash_,
         params = a_.hash_params_]() -> Result<Checked> {
          auto check = verify_password(password, stored, params);
          std::optional<std::string> upgraded;
          if (check == PasswordCheck::match_needs_upgrade)
            upgraded = hash_password(password, params);
          return Checked{check, std::move(upgraded)};
        },
        step_of(shared_from_this(), &LoginFlow::checked));
  }

  void checked(Result<Checked> checked) {
    if (!checked) return not_attempted(std::move(checked).error());
    if (!user_ || !user_->is_active || checked->first == PasswordCheck::mismatch) {
      return done_(bad_credentials());  // counted already, before the check
    }
    a_.issue_login_tokens(std::move(*user_), std::move(checked->second),
                          step_of(shared_from_this(), &LoginFlow::issued));
  }

  void issued(Result<TokenPair> pair) {
    // A counter that stays (Redis down) only brings a later lock closer by the attempts counted.
    if (pair) a_.limiter_.reset(key_);
    done_(std::move(pair));
  }

  Accounts& a_;
  std::string key_, email_, password_, address_;
  Callback<TokenPair> done_;
  std::optional<UserRow> user_;
  bool counted_local_ = false;
};

void Accounts::login(std::string email, std::string password, std::string client_address,
                     Callback<TokenPair> done) {
  std::make_shared<LoginFlow>(*this, std::move(email), std::move(password),
                              std::move(client_address), std::move(done))
      ->start();
}

void Accounts::issue_login_tokens(UserRow user, std::optional<std::string> new_hash,
                                  Callback<TokenPair> done) {
  run_transaction<TokenPair>(
      runtime_, "login",
      [this, user = std::move(user), new_hash = std::move(new_hash)](Tx& tx) -> Result<TokenPair> {
        if (new_hash) {
          users::set_password_hash(tx, user.id, *new_hash);
          spdlog::info("accounts: upgraded password hash of user {}", user.id);
        }
        users::touch_last_login(tx, user.id);
        return issue_pair(tx, tokens_, user.id, random_uuid());
      },
      std::move(done));
}

void Accounts::refresh(std::string refresh_token, Callback<TokenPair> done) {
  auto claims = tokens_.verify(refresh_token, "refresh", unix_now());
  if (!claims) return done(std::move(claims).error());
  // Reuse must revoke the family *and* answer 401, so the transaction commits either way.
  struct Outcome {
    std::optional<TokenPair> pair;
  };
  run_transaction<Outcome>(
      runtime_, "refresh",
      [this, jti = claims->jti](Tx& tx) -> Result<Outcome> {
        auto consumed = refresh_tokens::consume(tx, jti);
        switch (consumed.outcome) {
          case refresh_tokens::Consume::unknown:
            return Outcome{};
          case refresh_tokens::Consume::reused:
            spdlog::warn("accounts: refresh token reuse for user {}; revoking its family",
                         consumed.user_id);
            refresh_tokens::revoke_family(tx, consumed.family_id);
            return Outcome{};
          case refresh_tokens::Consume::consumed:
            break;
        }
        auto user = users::find_by_id(tx, consumed.user_id);
        if (!user || !user->is_active) return Outcome{};
        return Outcome{issue_pair(tx, tokens_, user->id, consumed.family_id)};
      },
      [done = std::move(done)](Result<Outcome> out) {
        if (!out) return done(std::move(out).error());
        if (!out->pair) return done(token_error());
        done(std::move(*out->pair));
      });
}

void Accounts::logout(UserRow user, std::string refresh_token, Callback<Unit> done) {
  auto claims = tokens_.verify(refresh_token, "refresh", unix_now());
  if (!claims || claims->user_id != user.id) return done(token_error());
  run_transaction<Unit>(
      runtime_, "logout",
      [jti = claims->jti, user_id = user.id](Tx& tx) -> Result<Unit> {
        auto family = refresh_tokens::live_family(tx, jti, user_id);
        if (!family) return token_error();
        refresh_tokens::revoke_family(tx, *family);
        return Unit{};
      },
      std::move(done));
}

void Accounts::update_profile(UserRow user, ProfilePatch patch, Callback<UserRow> done) {
  forget_user(user.id);
  run_transaction<UserRow>(
      runtime_, "update profile",
      [user = std::move(user), patch = std::move(patch)](Tx& tx) -> Result<UserRow> {
        auto updated = users::update_profile(
            tx, user.id, patch.email ? normalize_email(*patch.email) : user.email,
            patch.first_name.value_or(user.first_name), patch.last_name.value_or(user.last_name));
        if (!updated && updated.error().code == ErrorCode::conflict) return email_taken();
        return updated;
      },
      [done = std::move(done)](Result<UserRow> out) {
        if (!out && out.error().code == ErrorCode::conflict) return done(email_taken());
        done(std::move(out));
      });
}

void Accounts::vendor_profile(UserRow user, Callback<VendorProfileRow> done) {
  run_transaction<VendorProfileRow>(
      runtime_, "vendor profile",
      [user_id = user.id](Tx& tx) -> Result<VendorProfileRow> {
        if (auto p = profiles::find_by_user(tx, user_id)) return std::move(*p);
        // A vendor imported without a profile gets an empty, inactive one (get_or_create).
        return profiles::insert(tx, user_id, "", "");
      },
      std::move(done));
}

void Accounts::update_vendor_profile(UserRow user, VendorPatch patch,
                                     Callback<VendorProfileRow> done) {
  run_transaction<VendorProfileRow>(
      runtime_, "update vendor profile",
      [user_id = user.id, patch = std::move(patch)](Tx& tx) -> Result<VendorProfileRow> {
        auto current = profiles::find_by_user(tx, user_id);
        if (!current) current = profiles::insert(tx, user_id, "", "");
        auto updated =
            profiles::update(tx, user_id, patch.business_name.value_or(current->business_name),
                             patch.address.value_or(current->address));
        if (!updated) return Error::not_found();
        return std::move(*updated);
      },
      std::move(done));
}

void Accounts::list_vendors(std::optional<bool> active, PageRequest page,
                            Callback<Page<VendorProfileRow>> done) {
  run_transaction<Page<VendorProfileRow>>(
      runtime_, "list vendors",
      [active, page](Tx& tx) -> Result<Page<VendorProfileRow>> {
        return profiles::list(tx, active, page);
      },
      std::move(done));
}

void Accounts::set_vendor_active(UserRow admin, std::string profile_id, bool active,
                                 Callback<VendorProfileRow> done) {
  run_transaction<VendorProfileRow>(
      runtime_, "set vendor active",
      [admin_id = admin.id, profile_id = std::move(profile_id),
       active](Tx& tx) -> Result<VendorProfileRow> {
        auto row = profiles::set_active(tx, profile_id, active);
        if (!row) return Error::not_found();
        persistence::audit::record(tx, admin_id, active ? "vendor.activate" : "vendor.deactivate",
                                   "vendor_profile:" + profile_id, "ok");
        return std::move(*row);
      },
      std::move(done));
}

void Accounts::list_users(std::optional<std::string> role, PageRequest page,
                          Callback<Page<UserRow>> done) {
  run_transaction<Page<UserRow>>(
      runtime_, "list users",
      [role = std::move(role), page](Tx& tx) -> Result<Page<UserRow>> {
        return users::list(tx, role, page);
      },
      std::move(done));
}

void Accounts::set_user_active(UserRow admin, std::string user_id, bool active,
                               Callback<UserRow> done) {
  if (!active && admin.id == user_id) {
    return done(Error::make(ErrorCode::invalid_input, "You cannot deactivate your own account."));
  }
  forget_user(user_id);
  run_transaction<UserRow>(
      runtime_, "set user active",
      [admin_id = admin.id, user_id, active](Tx& tx) -> Result<UserRow> {
        auto row = users::set_active(tx, user_id, active);
        if (!row) return Error::not_found();
        if (!active) refresh_tokens::revoke_user(tx, user_id);
        persistence::audit::record(tx, admin_id, active ? "user.activate" : "user.deactivate",
                                   "user:" + user_id, "ok");
        return std::move(*row);
      },
      [this, user_id, done = std::move(done)](Result<UserRow> r) {
        forget_user(user_id);  // also after the commit: no request may re-cache the old row
        done(std::move(r));
      });
}

Result<UserRow> Accounts::create_superuser(persistence::Database& db, const std::string& email,
                                           const std::string& password, const HashParams& params) {
  if (!valid_email(email)) return Error::field("email", "Enter a valid email address.");
  FieldErrors errors;
  for (auto& p : password_problems(password)) errors.add("password", p);
  if (!errors.empty()) return std::move(errors).to_error();
  persistence::NewUser user{
      normalize_email(email), hash_password(password, params), "", "", Role::admin, true, true};
  auto out = persistence::transact(
      db, "createsuperuser", [&](Tx& tx) -> Result<UserRow> { return users::insert(tx, user); });
  if (!out && out.error().code == ErrorCode::conflict) return email_taken();
  return out;
}

}  // namespace marketlink::actors
