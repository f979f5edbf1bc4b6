// Users, vendor profiles and refresh tokens (tables users, vendor_profiles, refresh_tokens): SQL in
// named prepared statements, rows mapped to plain structs. Every function runs inside the caller's
// transaction.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "persistence/page.hpp"
#include "persistence/result.hpp"
#include "persistence/tx.hpp"

namespace marketlink::persistence {

// The roles the database allows (users.role CHECK).
enum class Role { customer, vendor, admin };
std::string_view to_string(Role role);
std::optional<Role> parse_role(std::string_view text);

struct UserRow {
  std::string id;
  std::string email;
  std::string password_hash;
  std::string first_name;
  std::string last_name;
  Role role = Role::customer;
  bool is_active = true;
  std::string date_joined;
};

struct VendorProfileRow {
  std::string id;
  UserRow user;
  std::string business_name;
  std::string address;
  bool is_active = false;
  std::string created_at;
  std::string updated_at;
};

struct NewUser {
  std::string email;
  std::string password_hash;
  std::string first_name;
  std::string last_name;
  Role role = Role::customer;
  bool is_staff = false;
  bool is_superuser = false;
};

namespace users {
// ErrorCode::conflict when the email (case-insensitively) is taken.
Result<UserRow> insert(Tx& tx, const NewUser& user);
std::optional<UserRow> find_by_email(Tx& tx, const std::string& email);
std::optional<UserRow> find_by_id(Tx& tx, const std::string& id);
// Several users in one statement (ids must be UUIDs); missing ids are simply absent.
std::vector<UserRow> find_by_ids(Tx& tx, const std::vector<std::string>& ids);
// ErrorCode::conflict when the new email is taken by someone else.
Result<UserRow> update_profile(Tx& tx, const std::string& id, const std::string& email,
                               const std::string& first_name, const std::string& last_name);
void set_password_hash(Tx& tx, const std::string& id, const std::string& hash);
void touch_last_login(Tx& tx, const std::string& id);
std::optional<UserRow> set_active(Tx& tx, const std::string& id, bool active);
Page<UserRow> list(Tx& tx, const std::optional<std::string>& role, const PageRequest& page);
}  // namespace users

namespace vendor_profiles {
VendorProfileRow insert(Tx& tx, const std::string& user_id, const std::string& business_name,
                        const std::string& address);
std::optional<VendorProfileRow> find_by_user(Tx& tx, const std::string& user_id);
std::optional<VendorProfileRow> update(Tx& tx, const std::string& user_id,
                                       const std::string& business_name,
                                       const std::string& address);
std::optional<VendorProfileRow> set_active(Tx& tx, const std::string& profile_id, bool active);
Page<VendorProfileRow> list(Tx& tx, std::optional<bool> active, const PageRequest& page);
}  // namespace vendor_profiles

namespace refresh_tokens {
void insert(Tx& tx, const std::string& jti, const std::string& user_id,
            const std::string& family_id, long long expires_at_epoch);

enum class Consume { consumed, reused, unknown };
struct ConsumeResult {
  Consume outcome = Consume::unknown;
  std::string family_id;
  std::string user_id;
};
// Marks the token used if it is live; tells apart a first use, a reuse and an unknown token.
ConsumeResult consume(Tx& tx, const std::string& jti);
void revoke_family(Tx& tx, const std::string& family_id);
void revoke_user(Tx& tx, const std::string& user_id);
// The family of a live token owned by user_id.
std::optional<std::string> live_family(Tx& tx, const std::string& jti, const std::string& user_id);
}  // namespace refresh_tokens

}  // namespace marketlink::persistence
