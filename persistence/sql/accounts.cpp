// SQL for users, vendor profiles and refresh tokens.
#include "persistence/sql/accounts.hpp"

#include "persistence/database.hpp"

namespace marketlink::persistence {
namespace {

#define ML_USER_COLUMNS                                                               \
  "u.id::text, u.email, u.password, u.first_name, u.last_name, u.role, u.is_active, " \
  "ml_iso(u.date_joined)"
#define ML_PROFILE_COLUMNS                                                      \
  "p.id::text, p.business_name, p.address, p.is_active, ml_iso(p.created_at), " \
  "ml_iso(p.updated_at), " ML_USER_COLUMNS

constexpr Statement kInsertUser{
    "users_insert",
    "WITH u AS (INSERT INTO users (email, password, first_name, last_name, role, is_staff, "
    "is_superuser) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *) SELECT " ML_USER_COLUMNS
    " FROM u"};
constexpr Statement kUserByEmail{
    "users_by_email", "SELECT " ML_USER_COLUMNS
                      " FROM users u WHERE lower(u.email COLLATE \"C\") = lower($1 COLLATE \"C\")"};
constexpr Statement kUsersByIds{
    "users_by_ids", "SELECT " ML_USER_COLUMNS " FROM users u WHERE u.id = ANY($1::uuid[])"};
constexpr Statement kUserById{"users_by_id",
                              "SELECT " ML_USER_COLUMNS " FROM users u WHERE u.id = $1"};
constexpr Statement kUpdateUser{
    "users_update_profile",
    "WITH u AS (UPDATE users SET email = $2, first_name = $3, last_name = $4 WHERE id = $1 "
    "RETURNING *) SELECT " ML_USER_COLUMNS " FROM u"};
constexpr Statement kSetPassword{"users_set_password",
                                 "UPDATE users SET password = $2 WHERE id = $1"};
constexpr Statement kTouchLogin{"users_touch_login",
                                "UPDATE users SET last_login = now() WHERE id = $1"};
constexpr Statement kSetUserActive{
    "users_set_active",
    "WITH u AS (UPDATE users SET is_active = $2 WHERE id = $1 RETURNING *) SELECT " ML_USER_COLUMNS
    " FROM u"};
constexpr Statement kListUsers{
    "users_list", "SELECT " ML_USER_COLUMNS
                  ", count(*) OVER () FROM users u WHERE ($1::text IS NULL OR u.role = $1) "
                  "ORDER BY u.date_joined DESC, u.id LIMIT $2 OFFSET $3"};

constexpr Statement kInsertProfile{
    "vendor_profiles_insert",
    "WITH p AS (INSERT INTO vendor_profiles (user_id, business_name, address) VALUES ($1, $2, $3) "
    "RETURNING *) SELECT " ML_PROFILE_COLUMNS " FROM p JOIN users u ON u.id = p.user_id"};
constexpr Statement kProfileByUser{"vendor_profiles_by_user",
                                   "SELECT " ML_PROFILE_COLUMNS
                                   " FROM vendor_profiles p JOIN users u ON u.id = p.user_id "
                                   "WHERE p.user_id = $1"};
constexpr Statement kUpdateProfile{
    "vendor_profiles_update",
    "WITH p AS (UPDATE vendor_profiles SET business_name = $2, address = $3, updated_at = now() "
    "WHERE user_id = $1 RETURNING *) SELECT " ML_PROFILE_COLUMNS
    " FROM p JOIN users u ON u.id = p.user_id"};
constexpr Statement kSetProfileActive{
    "vendor_profiles_set_active",
    "WITH p AS (UPDATE vendor_profiles SET is_active = $2, updated_at = now() WHERE id = $1 "
    "RETURNING *) SELECT " ML_PROFILE_COLUMNS " FROM p JOIN users u ON u.id = p.user_id"};
constexpr Statement kListProfiles{
    "vendor_profiles_list",
    "SELECT " ML_PROFILE_COLUMNS
    ", count(*) OVER () FROM vendor_profiles p "
    "JOIN users u ON u.id = p.user_id WHERE ($1::boolean IS NULL OR p.is_active = $1) "
    "ORDER BY p.created_at DESC, p.id LIMIT $2 OFFSET $3"};

constexpr Statement kInsertRefresh{
    "refresh_insert",
    "INSERT INTO refresh_tokens (jti, user_id, family_id, expires_at) "
    "VALUES ($1, $2, $3, to_timestamp($4))"};
constexpr Statement kConsumeRefresh{
    "refresh_consume",
    "UPDATE refresh_tokens SET used_at = now() WHERE jti = $1 AND used_at IS NULL "
    "AND revoked_at IS NULL AND expires_at > now() RETURNING family_id::text, user_id::text"};
constexpr Statement kRefreshByJti{
    "refresh_by_jti", "SELECT family_id::text, user_id::text FROM refresh_tokens WHERE jti = $1"};
constexpr Statement kRevokeFamily{
    "refresh_revoke_family",
    "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL"};
constexpr Statement kRevokeUser{
    "refresh_revoke_user",
    "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL"};
constexpr Statement kLiveFamily{
    "refresh_live_family",
    "SELECT family_id::text FROM refresh_tokens WHERE jti = $1 AND user_id = $2 "
    "AND revoked_at IS NULL AND expires_at > now()"};

UserRow user_from(const pqxx::row& r, int first = 0) {
  UserRow u;
  u.id = r[first + 0].as<std::string>();
  u.email = r[first + 1].as<std::string>();
  u.password_hash = r[first + 2].as<std::string>();
  u.first_name = r[first + 3].as<std::string>();
  u.last_name = r[first + 4].as<std::string>();
  u.role = parse_role(r[first + 5].as<std::string>()).value_or(Role::customer);
  u.is_active = r[first + 6].as<bool>();
  u.date_joined = r[first + 7].as<std::string>();
  return u;
}

VendorProfileRow profile_from(const pqxx::row& r) {
  VendorProfileRow p;
  p.id = r[0].as<std::string>();
  p.business_name = r[1].as<std::string>();
  p.address = r[2].as<std::string>();
  p.is_active = r[3].as<bool>();
  p.created_at = r[4].as<std::string>();
  p.updated_at = r[5].as<std::string>();
  p.user = user_from(r, 6);
  return p;
}

template <class Row, class Map>
std::optional<Row> first(const pqxx::result& res, Map map) {
  if (res.empty()) return std::nullopt;
  return map(res[0]);
}

}  // namespace

std::string_view to_string(Role role) {
  switch (role) {
    case Role::customer:
      return "customer";
    case Role::vendor:
      return "vendor";
    case Role::admin:
      return "admin";
  }
  return "customer";
}

std::optional<Role> parse_role(std::string_view text) {
  if (text == "customer") return Role::customer;
  if (text == "vendor") return Role::vendor;
  if (text == "admin") return Role::admin;
  return std::nullopt;
}

namespace users {

Result<UserRow> insert(Tx& tx, const NewUser& user) {
  // The unique index answers the race between two registrations of one email; check first so
  // the common case does not abort the transaction.
  if (find_by_email(tx, user.email)) return Error::make(ErrorCode::conflict, "email");
  auto res = tx.exec(kInsertUser, user.email, user.password_hash, user.first_name, user.last_name,
                     std::string(to_string(user.role)), user.is_staff, user.is_superuser);
  return user_from(res[0]);
}

std::optional<UserRow> find_by_email(Tx& tx, const std::string& email) {
  return first<UserRow>(tx.exec(kUserByEmail, email),
                        [](const pqxx::row& r) { return user_from(r); });
}

std::vector<UserRow> find_by_ids(Tx& tx, const std::vector<std::string>& ids) {
  std::vector<UserRow> out;
  for (const auto& r : tx.exec(kUsersByIds, array_literal(ids))) out.push_back(user_from(r));
  return out;
}

std::optional<UserRow> find_by_id(Tx& tx, const std::string& id) {
  return first<UserRow>(tx.exec(kUserById, id), [](const pqxx::row& r) { return user_from(r); });
}

Result<UserRow> update_profile(Tx& tx, const std::string& id, const std::string& email,
                               const std::string& first_name, const std::string& last_name) {
  auto other = find_by_email(tx, email);
  if (other && other->id != id) return Error::make(ErrorCode::conflict, "email");
  auto res = tx.exec(kUpdateUser, id, email, first_name, last_name);
  if (res.empty()) return Error::not_found();
  return user_from(res[0]);
}

void set_password_hash(Tx& tx, const std::string& id, const std::string& hash) {
  tx.exec(kSetPassword, id, hash);
}

void touch_last_login(Tx& tx, const std::string& id) {
  tx.exec(kTouchLogin, id);
}

std::optional<UserRow> set_active(Tx& tx, const std::string& id, bool active) {
  return first<UserRow>(tx.exec(kSetUserActive, id, active),
                        [](const pqxx::row& r) { return user_from(r); });
}

Page<UserRow> list(Tx& tx, const std::optional<std::string>& role, const PageRequest& page) {
  auto res = role ? tx.exec(kListUsers, *role, page.page_size, page.offset())
                  : tx.exec(kListUsers, nullptr, page.page_size, page.offset());
  return page_from<UserRow>(
      res, [](const pqxx::row& r) { return user_from(r); }, 8);
}

}  // namespace users

namespace vendor_profiles {

VendorProfileRow insert(Tx& tx, const std::string& user_id, const std::string& business_name,
                        const std::string& address) {
  return profile_from(tx.exec(kInsertProfile, user_id, business_name, address)[0]);
}

std::optional<VendorProfileRow> find_by_user(Tx& tx, const std::string& user_id) {
  return first<VendorProfileRow>(tx.exec(kProfileByUser, user_id), profile_from);
}

std::optional<VendorProfileRow> update(Tx& tx, const std::string& user_id,
                                       const std::string& business_name,
                                       const std::string& address) {
  return first<VendorProfileRow>(tx.exec(kUpdateProfile, user_id, business_name, address),
                                 profile_from);
}

std::optional<VendorProfileRow> set_active(Tx& tx, const std::string& profile_id, bool active) {
  return first<VendorProfileRow>(tx.exec(kSetProfileActive, profile_id, active), profile_from);
}

Page<VendorProfileRow> list(Tx& tx, std::optional<bool> active, const PageRequest& page) {
  auto res = active ? tx.exec(kListProfiles, *active, page.page_size, page.offset())
                    : tx.exec(kListProfiles, nullptr, page.page_size, page.offset());
  return page_from<VendorProfileRow>(
      res, [](const pqxx::row& r) { return profile_from(r); }, 14);
}

}  // namespace vendor_profiles

namespace refresh_tokens {

void insert(Tx& tx, const std::string& jti, const std::string& user_id,
            const std::string& family_id, long long expires_at_epoch) {
  tx.exec(kInsertRefresh, jti, user_id, family_id, expires_at_epoch);
}

ConsumeResult consume(Tx& tx, const std::string& jti) {
  auto res = tx.exec(kConsumeRefresh, jti);
  if (!res.empty()) {
    return {Consume::consumed, res[0][0].as<std::string>(), res[0][1].as<std::string>()};
  }
  auto known = tx.exec(kRefreshByJti, jti);
  if (known.empty()) return {};
  return {Consume::reused, known[0][0].as<std::string>(), known[0][1].as<std::string>()};
}

void revoke_family(Tx& tx, const std::string& family_id) {
  tx.exec(kRevokeFamily, family_id);
}

void revoke_user(Tx& tx, const std::string& user_id) {
  tx.exec(kRevokeUser, user_id);
}

std::optional<std::string> live_family(Tx& tx, const std::string& jti, const std::string& user_id) {
  auto res = tx.exec(kLiveFamily, jti, user_id);
  if (res.empty()) return std::nullopt;
  return res[0][0].as<std::string>();
}

}  // namespace refresh_tokens

}  // namespace marketlink::persistence
