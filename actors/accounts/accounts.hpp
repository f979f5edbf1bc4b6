// Accounts: registration, login, token rotation, profiles, vendor profiles and the admin actions.
// Each call runs its steps on the actor pools (Redis → hashing → PostgreSQL) and reports through
// a callback that may run on any pool thread. Validation rules live here as free functions.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "actors/accounts/passwords.hpp"
#include "actors/accounts/tokens.hpp"
#include "actors/limits/limiter.hpp"
#include "actors/runtime/runtime.hpp"
#include "persistence/sql/accounts.hpp"

namespace marketlink::actors {

using persistence::Page;
using persistence::PageRequest;
using persistence::UserRow;
using persistence::VendorProfileRow;

struct TokenPair {
  std::string access;
  std::string refresh;
};

struct RegisterInput {
  std::optional<std::string> email, password, password2, role, first_name, last_name;
  std::optional<std::string> business_name, address;
};

struct RegisterOutput {
  UserRow user;
  TokenPair tokens;
};

struct ProfilePatch {
  std::optional<std::string> email, first_name, last_name;
};

struct VendorPatch {
  std::optional<std::string> business_name, address;
};

// Adds the rule violations of a registration to `errors` (type errors are the caller's).
void validate_registration(const RegisterInput& in, FieldErrors& errors);
// Django's EmailValidator, reduced to what matters here; also used by createsuperuser.
bool valid_email(std::string_view email);
// Lower-cases the domain part, as Django's normalize_email does.
std::string normalize_email(std::string_view email);
// The one form of an email that login compares and the login lock is keyed on: ASCII letters
// lower-cased, every other byte kept (PostgreSQL's lower(email COLLATE "C"), the login lookup's
// expression), so no spelling of an address reaches the account under a counter of its own.
std::string canonical_email(std::string_view email);

class Accounts {
 public:
  Accounts(Runtime& runtime, const config::Config& config, Limiter& limiter);

  HashParams hash_params() const { return hash_params_; }

  void authenticate(std::string access_token, Callback<UserRow> done);
  void register_user(RegisterInput in, std::string client_address, Callback<RegisterOutput> done);
  // `client_address`: the bucket the per-address limit counts (http::address_bucket).
  void login(std::string email, std::string password, std::string client_address,
             Callback<TokenPair> done);
  void refresh(std::string refresh_token, Callback<TokenPair> done);
  void logout(UserRow user, std::string refresh_token, Callback<Unit> done);
  void update_profile(UserRow user, ProfilePatch patch, Callback<UserRow> done);

  void vendor_profile(UserRow user, Callback<VendorProfileRow> done);
  void update_vendor_profile(UserRow user, VendorPatch patch, Callback<VendorProfileRow> done);

  void list_vendors(std::optional<bool> active, PageRequest page,
                    Callback<Page<VendorProfileRow>> done);
  void set_vendor_active(UserRow admin, std::string profile_id, bool active,
                         Callback<VendorProfileRow> done);
  void list_users(std::optional<std::string> role, PageRequest page, Callback<Page<UserRow>> done);
  void set_user_active(UserRow admin, std::string user_id, bool active, Callback<UserRow> done);

  // For `marketlink createsuperuser`: synchronous, on the caller's own connection.
  static Result<UserRow> create_superuser(persistence::Database& db, const std::string& email,
                                          const std::string& password, const HashParams& params);

 private:
  // The multi-step flows, one named step per pool job (accounts.cpp).
  friend class LoginFlow;
  friend class RegistrationFlow;

  void issue_login_tokens(UserRow user, std::optional<std::string> new_hash,
                          Callback<TokenPair> done);

  Runtime& runtime_;
  const config::Config& config_;
  Limiter& limiter_;
  TokenService tokens_;
  HashParams hash_params_;
  std::string dummy_hash_;  // verified against when the email is unknown, so timing tells nothing

  // Recently authenticated users (AUTH_CACHE_SECONDS); see config.hpp.
  struct CachedUser {
    UserRow user;
    std::chrono::steady_clock::time_point expires;
  };
  std::optional<UserRow> cached_user(const std::string& id);
  void remember_user(const UserRow& user);
  void forget_user(const std::string& id);
  // Drops the expired entries (and the table's memory once empty); runs AUTH_CACHE_SECONDS
  // after the first entry and again while any is left, so an idle process holds none.
  void purge_expired_users();
  std::shared_mutex cache_mutex_;
  std::unordered_map<std::string, CachedUser> user_cache_;
  bool purge_scheduled_ = false;  // under cache_mutex_

  // Lookups of authenticating users are batched like reservations: while one query is in
  // flight, new lookups wait and the next query takes them all (one statement for many).
  void lookup_users();
  std::mutex lookup_mutex_;
  std::unordered_map<std::string, std::vector<Callback<UserRow>>> lookups_waiting_;
  bool lookup_in_flight_ = false;
};

}  // namespace marketlink::actors
