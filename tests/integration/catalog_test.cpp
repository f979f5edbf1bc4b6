// /api/v1/services/: every rule of the catalog through real HTTP against the real database.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "persistence/database.hpp"
#include "persistence/ids.hpp"
#include "tests/support/test_server.hpp"

using namespace marketlink;
using namespace marketlink::testing;

namespace {

std::string service_body(const std::string& name, const std::string& variants_json,
                         const std::string& description = "Full engine overhaul") {
  return R"({"name":")" + name + R"(","description":")" + description + R"(","variants":)" +
         variants_json + "}";
}

const std::string kTwoVariants =
    R"([{"name":"Basic","price":"1500.00","estimated_minutes":60,"stock":5},)"
    R"({"name":"Premium","price":2500.5,"estimated_minutes":120}])";

std::string str(const boost::json::value& v, const char* key) {
  return std::string(v.as_object().at(key).as_string());
}

class Catalog : public ::testing::Test {
 protected:
  TestServer& server = TestServer::shared();
  HttpClient c = server.client();

  TestUser active_vendor() {
    auto v = server.register_user("vendor");
    set_vendor_active(v, true);
    return v;
  }
  // Creates a service with two variants; returns its JSON.
  boost::json::value create(const TestUser& v,
                            const std::string& name = "Engine Repair " + unique_suffix()) {
    auto r = c.post("/api/v1/services/", service_body(name, kTwoVariants), v.access);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json();
  }
  std::string first_variant_id(const boost::json::value& service) {
    return std::to_string(
        service.as_object().at("variants").as_array()[0].as_object().at("id").as_int64());
  }
  std::vector<std::string> listed_ids(const std::string& query, const std::string& token = "") {
    auto r = c.get("/api/v1/services/?page_size=100" + query, token);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> ids;
    const auto body = r.json();
    for (const auto& row : body.as_object().at("results").as_array()) ids.push_back(str(row, "id"));
    return ids;
  }
  static bool contains(const std::vector<std::string>& ids, const std::string& id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  }
};

}  // namespace

TEST_F(Catalog, CreateServiceWithVariantsReturnsTheDocumentedShape) {
  auto v = active_vendor();
  const std::string name = "Engine Repair — ইঞ্জিন 🚗 " + unique_suffix();
  auto r = c.post("/api/v1/services/",
                  service_body(name, kTwoVariants, "Ölwechsel, 修理, \\\"quoted\\\""), v.access);
  ASSERT_EQ(r.status, 201) << r.body;
  auto j = r.json().as_object();
  EXPECT_TRUE(is_uuid(str(j, "id")));
  EXPECT_EQ(str(j, "name"), name) << "any Unicode round-trips unchanged";
  EXPECT_EQ(str(j, "description"), "Ölwechsel, 修理, \"quoted\"");
  EXPECT_TRUE(j.contains("created_at"));
  auto variants = j["variants"].as_array();
  ASSERT_EQ(variants.size(), 2u);
  auto basic = variants[0].as_object();
  EXPECT_EQ(str(basic, "price"), "1500.00");
  EXPECT_EQ(basic["estimated_minutes"].as_int64(), 60);
  EXPECT_EQ(basic["stock"].as_int64(), 5);
  EXPECT_EQ(str(basic, "service"), str(j, "id"));
  EXPECT_TRUE(basic.contains("updated_at"));
  EXPECT_EQ(str(variants[1], "price"), "2500.50") << "a JSON number keeps its exact decimal value";
  EXPECT_EQ(variants[1].as_object()["stock"].as_int64(), 0) << "stock defaults to 0";
  auto profile = c.get("/api/v1/vendors/profile/", v.access).json();
  EXPECT_EQ(str(j, "vendor"), str(profile, "id"));
  auto detail = c.get("/api/v1/services/" + str(j, "id") + "/");
  EXPECT_EQ(detail.status, 200);
  EXPECT_EQ(detail.json(), r.json()) << "detail has the same shape as create";
}

TEST_F(Catalog, WriteRolesAnonymous401CustomerAndAdmin403) {
  const auto body = service_body("X", kTwoVariants);
  EXPECT_EQ(c.post("/api/v1/services/", body).status, 401);
  auto customer = server.register_user("customer");
  EXPECT_EQ(c.post("/api/v1/services/", body, customer.access).status, 403);
  auto admin = server.create_admin();
  EXPECT_EQ(c.post("/api/v1/services/", body, admin.access).status, 403);
  auto owner = active_vendor();
  auto s = create(owner);
  const auto id = str(s, "id");
  const auto vid = first_variant_id(s);
  for (const auto& token : {customer.access, admin.access}) {
    EXPECT_EQ(c.patch("/api/v1/services/" + id + "/", R"({"name":"x"})", token).status, 403);
    EXPECT_EQ(c.del("/api/v1/services/" + id + "/", token).status, 403);
    EXPECT_EQ(
        c.post("/api/v1/services/variants/",
               R"({"service":")" + id + R"(","name":"n","price":"1","estimated_minutes":1})", token)
            .status,
        403);
    EXPECT_EQ(c.patch("/api/v1/services/variants/" + vid + "/", R"({"stock":1})", token).status,
              403);
    EXPECT_EQ(c.del("/api/v1/services/variants/" + vid + "/", token).status, 403);
  }
  EXPECT_EQ(c.patch("/api/v1/services/" + id + "/", R"({"name":"x"})").status, 401);
  EXPECT_EQ(c.del("/api/v1/services/variants/" + vid + "/").status, 401);
}

TEST_F(Catalog, InactiveVendorCannotWriteAnything) {
  auto v = active_vendor();
  auto s = create(v);
  const auto id = str(s, "id");
  const auto vid = first_variant_id(s);
  set_vendor_active(v, false);
  const std::string message = "Your vendor account must be active to perform this action.";
  auto check = [&](const HttpResult& r, const char* what) {
    EXPECT_EQ(r.status, 403) << what << " " << r.body;
    EXPECT_EQ(str(r.json(), "detail"), message) << what;
  };
  check(c.post("/api/v1/services/", service_body("New", kTwoVariants), v.access), "create");
  check(c.patch("/api/v1/services/" + id + "/", R"({"name":"Renamed"})", v.access), "update");
  check(c.put("/api/v1/services/" + id + "/", R"({"name":"Renamed","description":"d"})", v.access),
        "put");
  check(c.del("/api/v1/services/" + id + "/", v.access), "delete");
  check(c.post("/api/v1/services/variants/",
               R"({"service":")" + id + R"(","name":"Extra","price":"10","estimated_minutes":5})",
               v.access),
        "add variant");
  check(c.patch("/api/v1/services/variants/" + vid + "/", R"({"stock":9})", v.access),
        "update variant");
  check(c.del("/api/v1/services/variants/" + vid + "/", v.access), "delete variant");
  pqxx::work w(test_db().connection());
  EXPECT_EQ(w.exec_params1(
                 "SELECT count(*) FROM service_variants WHERE service_id = $1 AND is_active", id)[0]
                .as<int>(),
            2);
  EXPECT_TRUE(w.exec_params1("SELECT is_active FROM services WHERE id = $1", id)[0].as<bool>());
}

TEST_F(Catalog, DatabaseRefusesServicesOfInactiveVendorsThroughPlainSql) {
  auto v = server.register_user("vendor");  // inactive
  pqxx::work w(test_db().connection());
  auto pid = w.exec_params1("SELECT id FROM vendor_profiles WHERE user_id = $1", v.id)[0]
                 .as<std::string>();
  try {
    w.exec_params0(
        "INSERT INTO services (vendor_id, name, description) VALUES ($1, 'Sneaky', 'direct SQL')",
        pid);
    FAIL() << "the trigger must refuse the insert";
  } catch (const pqxx::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "ML002");
    EXPECT_NE(std::string(e.what()).find("Only active vendors can create services."),
              std::string::npos);
  }
}

TEST_F(Catalog, DatabaseRefusesVariantsOfInactiveVendorsAndMovesAndNegativeStock) {
  auto v = active_vendor();
  auto other = active_vendor();
  auto s = create(v);
  auto s2 = create(other);
  const auto vid = first_variant_id(s);
  set_vendor_active(v, false);
  auto expect_refused = [](const std::string& sql, const std::string& state) {
    pqxx::work w(test_db().connection());
    try {
      w.exec0(sql);
      ADD_FAILURE() << sql;
    } catch (const pqxx::sql_error& e) {
      EXPECT_EQ(e.sqlstate(), state) << sql;
    }
  };
  expect_refused(
      "INSERT INTO service_variants (service_id, name, price, estimated_minutes) VALUES ('" +
          str(s, "id") + "', 'Direct', 10, 5)",
      "ML002");
  expect_refused(
      "UPDATE service_variants SET service_id = '" + str(s2, "id") + "' WHERE id = " + vid,
      "ML003");
  expect_refused("UPDATE service_variants SET stock = -1 WHERE id = " + vid, "23514");
  expect_refused("UPDATE service_variants SET price = 0 WHERE id = " + vid, "23514");
}

TEST_F(Catalog, CreateValidationMessages) {
  auto v = active_vendor();
  auto post = [&](const std::string& body) { return c.post("/api/v1/services/", body, v.access); };
  auto empty = post(service_body("A", "[]"));
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(boost::json::serialize(empty.json()),
            R"({"variants":["At least one variant is required."]})");
  auto missing = post(R"({"name":"A","description":"B"})");
  EXPECT_EQ(boost::json::serialize(missing.json()), R"({"variants":["This field is required."]})");
  auto not_list = post(R"({"name":"A","description":"B","variants":{"name":"x"}})");
  EXPECT_EQ(boost::json::serialize(not_list.json()),
            R"({"variants":["Expected a list of items but got type \"dict\"."]})");
  auto nothing = post("{}");
  EXPECT_EQ(nothing.status, 400);
  for (auto f : {"name", "description", "variants"})
    EXPECT_TRUE(nothing.json().as_object().contains(f)) << f;
  auto long_name = post(service_body(std::string(256, 'n'), kTwoVariants));
  EXPECT_EQ(long_name.json().as_object()["name"].as_array()[0].as_string(),
            "Ensure this field has no more than 255 characters.");
  EXPECT_EQ(post(service_body(std::string(255, 'n'), kTwoVariants)).status, 201);
  auto bad_items = post(service_body(
      "A",
      R"([{"name":"ok","price":"1.00","estimated_minutes":1},{"name":")" + std::string(101, 'v') +
          R"(","price":"-5","estimated_minutes":0,"stock":-1},{"price":"1e3","estimated_minutes":"x"},{"name":"p","price":"10.005","estimated_minutes":1},"str"])"));
  ASSERT_EQ(bad_items.status, 400);
  auto items = bad_items.json().as_object()["variants"].as_array();
  ASSERT_EQ(items.size(), 5u);
  EXPECT_TRUE(items[0].as_object().empty());
  auto second = items[1].as_object();
  EXPECT_EQ(second["name"].as_array()[0].as_string(),
            "Ensure this field has no more than 100 characters.");
  EXPECT_EQ(second["price"].as_array()[0].as_string(),
            "Ensure this value is greater than or equal to 0.01.");
  EXPECT_EQ(second["estimated_minutes"].as_array()[0].as_string(),
            "Ensure this value is greater than or equal to 1.");
  EXPECT_EQ(second["stock"].as_array()[0].as_string(),
            "Ensure this value is greater than or equal to 0.");
  auto third = items[2].as_object();
  EXPECT_EQ(third["name"].as_array()[0].as_string(), "This field is required.");
  EXPECT_EQ(third["price"].as_array()[0].as_string(), "A valid number is required.");
  EXPECT_EQ(third["estimated_minutes"].as_array()[0].as_string(), "A valid integer is required.");
  EXPECT_EQ(items[3].as_object()["price"].as_array()[0].as_string(),
            "Ensure that there are no more than 2 decimal places.");
  EXPECT_EQ(items[4].as_object()["non_field_errors"].as_array()[0].as_string(),
            "Invalid data. Expected a dictionary, but got str.");
}

TEST_F(Catalog, DuplicateVariantNamesInOneRequestCreateNothing) {
  auto v = active_vendor();
  const auto name = "Dup " + unique_suffix();
  auto r = c.post(
      "/api/v1/services/",
      service_body(
          name,
          R"([{"name":"Same","price":"1","estimated_minutes":1},{"name":"Same","price":"2","estimated_minutes":2}])"),
      v.access);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(boost::json::serialize(r.json()),
            R"({"variants":["Variant names must be unique within a service."]})");
  pqxx::work w(test_db().connection());
  EXPECT_EQ(w.exec_params1("SELECT count(*) FROM services WHERE name = $1", name)[0].as<int>(), 0);
}

TEST_F(Catalog, PricesAreExactDecimals) {
  auto v = active_vendor();
  auto r = c.post(
      "/api/v1/services/",
      service_body(
          "Money " + unique_suffix(),
          R"([{"name":"a","price":"99999999.99","estimated_minutes":1},{"name":"b","price":0.1,"estimated_minutes":1},)"
          R"({"name":"c","price":19.99,"estimated_minutes":1},{"name":"d","price":"7","estimated_minutes":1}])"),
      v.access);
  ASSERT_EQ(r.status, 201) << r.body;
  auto vs = r.json().as_object()["variants"].as_array();
  EXPECT_EQ(str(vs[0], "price"), "99999999.99");
  EXPECT_EQ(str(vs[1], "price"), "0.10");
  EXPECT_EQ(str(vs[2], "price"), "19.99");
  EXPECT_EQ(str(vs[3], "price"), "7.00");
  pqxx::work w(test_db().connection());
  EXPECT_EQ(w.exec_params1("SELECT price::text FROM service_variants WHERE id = $1",
                           vs[0].as_object()["id"].as_int64())[0]
                .as<std::string>(),
            "99999999.99");
  w.commit();
  auto too_big =
      c.post("/api/v1/services/",
             service_body("Big", R"([{"name":"a","price":"100000000.00","estimated_minutes":1}])"),
             v.access);
  EXPECT_EQ(too_big.status, 400);
  EXPECT_NE(too_big.body.find("digits before the decimal point"), std::string::npos)
      << too_big.body;
}

TEST_F(Catalog, VisibilityOfListsAndDetails) {
  auto owner = active_vendor();
  auto other = active_vendor();
  auto customer = server.register_user("customer");
  auto admin = server.create_admin();
  const auto visible_id = str(create(owner), "id");
  auto hidden = create(other);
  const auto hidden_id = str(hidden, "id");
  set_vendor_active(other, false);  // its services disappear for everybody but itself

  for (const std::string& token : {std::string(), customer.access, admin.access, owner.access}) {
    auto ids = listed_ids("", token);
    EXPECT_FALSE(contains(ids, hidden_id)) << "token " << token.size();
    EXPECT_EQ(c.get("/api/v1/services/" + hidden_id + "/", token).status, 404);
    EXPECT_EQ(c.get("/api/v1/services/" + hidden_id + "/variants/", token).status, 404);
    EXPECT_EQ(c.get("/api/v1/services/variants/" + first_variant_id(hidden) + "/", token).status,
              404);
  }
  EXPECT_TRUE(contains(listed_ids(""), visible_id));
  EXPECT_TRUE(contains(listed_ids("", customer.access), visible_id));
  // A vendor sees its own services only, even while inactive.
  auto own = listed_ids("", other.access);
  EXPECT_TRUE(contains(own, hidden_id));
  EXPECT_FALSE(contains(own, visible_id));
  EXPECT_EQ(c.get("/api/v1/services/" + hidden_id + "/", other.access).status, 200);
  EXPECT_EQ(c.get("/api/v1/services/" + hidden_id + "/variants/", other.access).status, 200);
  EXPECT_EQ(
      c.get("/api/v1/services/variants/" + first_variant_id(hidden) + "/", other.access).status,
      200);
}

TEST_F(Catalog, SoftDeleteHidesButKeepsTheRows) {
  auto v = active_vendor();
  auto s = create(v);
  const auto id = str(s, "id");
  auto del = c.del("/api/v1/services/" + id + "/", v.access);
  EXPECT_EQ(del.status, 204);
  EXPECT_TRUE(del.body.empty());
  EXPECT_FALSE(contains(listed_ids(""), id));
  EXPECT_FALSE(contains(listed_ids("", v.access), id));
  EXPECT_EQ(c.get("/api/v1/services/" + id + "/").status, 404);
  pqxx::work w(test_db().connection());
  EXPECT_FALSE(w.exec_params1("SELECT is_active FROM services WHERE id = $1", id)[0].as<bool>());
  EXPECT_EQ(w.exec_params1("SELECT count(*) FROM service_variants WHERE service_id = $1", id)[0]
                .as<int>(),
            2);
  w.commit();
  const auto vid = first_variant_id(create(v));
  EXPECT_EQ(c.del("/api/v1/services/variants/" + vid + "/", v.access).status, 204);
  EXPECT_EQ(c.get("/api/v1/services/variants/" + vid + "/").status, 404);
}

TEST_F(Catalog, OnlyTheOwnerWrites) {
  auto owner = active_vendor();
  auto other = active_vendor();
  auto s = create(owner);
  const auto id = str(s, "id");
  const auto vid = first_variant_id(s);
  auto denied = c.patch("/api/v1/services/" + id + "/", R"({"name":"Hijack"})", other.access);
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(str(denied.json(), "detail"), "You do not have permission to perform this action.");
  EXPECT_EQ(c.del("/api/v1/services/" + id + "/", other.access).status, 403);
  auto add =
      c.post("/api/v1/services/variants/",
             R"({"service":")" + id + R"(","name":"Mine","price":"5","estimated_minutes":5})",
             other.access);
  EXPECT_EQ(add.status, 403);
  EXPECT_EQ(str(add.json(), "detail"), "You do not own this service");
  EXPECT_EQ(
      c.patch("/api/v1/services/variants/" + vid + "/", R"({"price":"1.00"})", other.access).status,
      403);
  EXPECT_EQ(c.del("/api/v1/services/variants/" + vid + "/", other.access).status, 403);
  auto detail = c.get("/api/v1/services/" + id + "/").json();
  EXPECT_EQ(str(detail, "name"), str(s, "name"));
  EXPECT_EQ(detail.as_object()["variants"].as_array().size(), 2u);
}

TEST_F(Catalog, OwnerUpdatesServiceWithPutAndPatch) {
  auto v = active_vendor();
  auto s = create(v);
  const auto id = str(s, "id");
  auto put_partial = c.put("/api/v1/services/" + id + "/", R"({"name":"Only name"})", v.access);
  EXPECT_EQ(put_partial.status, 400);
  EXPECT_EQ(put_partial.json().as_object()["description"].as_array()[0].as_string(),
            "This field is required.");
  auto put = c.put("/api/v1/services/" + id + "/",
                   R"({"name":"Brakes","description":"Pads and discs","variants":[]})", v.access);
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(str(put.json(), "name"), "Brakes");
  EXPECT_EQ(put.json().as_object()["variants"].as_array().size(), 2u)
      << "variants are read-only here";
  auto patch = c.patch("/api/v1/services/" + id + "/", R"({"description":"Just discs"})", v.access);
  ASSERT_EQ(patch.status, 200);
  EXPECT_EQ(str(patch.json(), "name"), "Brakes");
  EXPECT_EQ(str(patch.json(), "description"), "Just discs");
  EXPECT_EQ(
      c.patch("/api/v1/services/00000000-0000-4000-8000-000000000000/", R"({"name":"x"})", v.access)
          .status,
      404);
  EXPECT_EQ(c.patch("/api/v1/services/not-a-uuid/", R"({"name":"x"})", v.access).status, 404);
}

TEST_F(Catalog, VariantCrudAndUniqueness) {
  auto v = active_vendor();
  auto s = create(v);
  const auto id = str(s, "id");
  auto created = c.post(
      "/api/v1/services/variants/",
      R"({"service":")" + id + R"(","name":"Express","price":"3000","estimated_minutes":30})",
      v.access);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json().as_object()["stock"].as_int64(), 0);
  const auto vid = std::to_string(created.json().as_object()["id"].as_int64());
  auto dup =
      c.post("/api/v1/services/variants/",
             R"({"service":")" + id + R"(","name":"Express","price":"1","estimated_minutes":1})",
             v.access);
  EXPECT_EQ(dup.status, 400);
  EXPECT_EQ(boost::json::serialize(dup.json()),
            R"({"non_field_errors":["The fields service, name must make a unique set."]})");
  auto rename_clash =
      c.patch("/api/v1/services/variants/" + vid + "/", R"({"name":"Basic"})", v.access);
  EXPECT_EQ(rename_clash.status, 400);
  EXPECT_EQ(boost::json::serialize(rename_clash.json()),
            R"({"non_field_errors":["The fields service, name must make a unique set."]})");
  auto patch = c.patch("/api/v1/services/variants/" + vid + "/", R"({"price":"3100.50","stock":7})",
                       v.access);
  ASSERT_EQ(patch.status, 200) << patch.body;
  EXPECT_EQ(str(patch.json(), "price"), "3100.50");
  EXPECT_EQ(patch.json().as_object()["stock"].as_int64(), 7);
  // Stock has a documented maximum (far from the integer limit, so giving units back never
  // overflows).
  auto too_many =
      c.patch("/api/v1/services/variants/" + vid + "/", R"({"stock":1000001})", v.access);
  EXPECT_EQ(too_many.status, 400);
  EXPECT_EQ(boost::json::serialize(too_many.json()),
            R"({"stock":["Ensure this value is less than or equal to 1000000."]})");
  EXPECT_EQ(
      c.patch("/api/v1/services/variants/" + vid + "/", R"({"stock":1000000})", v.access).status,
      200);
  EXPECT_EQ(c.patch("/api/v1/services/variants/" + vid + "/", R"({"stock":7})", v.access).status,
            200);
  auto put_missing = c.put("/api/v1/services/variants/" + vid + "/", R"({"name":"E"})", v.access);
  EXPECT_EQ(put_missing.status, 400);
  auto got = c.get("/api/v1/services/variants/" + vid + "/");
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(str(got.json(), "name"), "Express");
  auto unknown = c.post(
      "/api/v1/services/variants/",
      R"({"service":"00000000-0000-4000-8000-000000000000","name":"x","price":"1","estimated_minutes":1})",
      v.access);
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.json().as_object()["service"].as_array()[0].as_string(),
            "Invalid pk \"00000000-0000-4000-8000-000000000000\" - object does not exist.");
  EXPECT_EQ(c.get("/api/v1/services/variants/abc/").status, 404);
  EXPECT_EQ(c.get("/api/v1/services/variants/999999999/").status, 404);
}

TEST_F(Catalog, VariantCannotMoveToAnotherService) {
  auto v = active_vendor();
  auto a = create(v);
  auto b = create(v);
  const auto vid = first_variant_id(a);
  auto move = c.patch("/api/v1/services/variants/" + vid + "/",
                      R"({"service":")" + str(b, "id") + "\"}", v.access);
  EXPECT_EQ(move.status, 400);
  EXPECT_EQ(boost::json::serialize(move.json()),
            R"({"service":["A variant cannot be moved to another service."]})");
  EXPECT_EQ(str(c.get("/api/v1/services/variants/" + vid + "/").json(), "service"), str(a, "id"));
  EXPECT_EQ(c.patch("/api/v1/services/variants/" + vid + "/",
                    R"({"service":")" + str(a, "id") + R"(","stock":3})", v.access)
                .status,
            200);
}

TEST_F(Catalog, SearchIsCaseInsensitiveAndTakesWildcardsLiterally) {
  auto v = active_vendor();
  const auto tag = unique_suffix();
  auto by_name = str(create(v, "Gearbox " + tag + " 50%_off"), "id");
  auto r = c.post("/api/v1/services/",
                  service_body("Other " + tag, kTwoVariants, "includes GEARBOX " + tag + " check"),
                  v.access);
  auto by_description = str(r.json(), "id");
  auto plain = str(create(v, "Gearbox " + tag + " 50 off"), "id");
  auto found = listed_ids("&search=gearbox%20" + tag);
  EXPECT_TRUE(contains(found, by_name));
  EXPECT_TRUE(contains(found, by_description));
  EXPECT_TRUE(contains(found, plain));
  auto literal = listed_ids("&search=" + tag + "%2050%25_");
  EXPECT_EQ(literal, std::vector<std::string>{by_name}) << "% and _ are literal characters";
  EXPECT_TRUE(listed_ids("&search=nothing-like-this-" + tag).empty());
}

TEST_F(Catalog, ListFiltersByVendorAndPagesNewestFirst) {
  auto v = active_vendor();
  auto first = str(create(v), "id");
  auto second = str(create(v), "id");
  auto pid = str(c.get("/api/v1/vendors/profile/", v.access).json(), "id");
  auto r = c.get("/api/v1/services/?vendor=" + pid + "&page_size=1");
  ASSERT_EQ(r.status, 200);
  auto j = r.json().as_object();
  EXPECT_EQ(j["count"].as_int64(), 2);
  EXPECT_EQ(str(j["results"].as_array()[0], "id"), second);
  EXPECT_FALSE(j["results"].as_array()[0].as_object().contains("variants"))
      << "list rows are summaries";
  auto page2 = c.get("/api/v1/services/?vendor=" + pid + "&page_size=1&page=2").json().as_object();
  EXPECT_EQ(str(page2["results"].as_array()[0], "id"), first);
  EXPECT_EQ(c.get("/api/v1/services/?vendor=" + pid + "&page=3&page_size=1").status, 404);
  auto bad = c.get("/api/v1/services/?vendor=nope");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(boost::json::serialize(bad.json()), R"({"vendor":["Enter a valid UUID."]})");
  auto variants = c.get("/api/v1/services/variants/?service=" + first).json().as_object();
  EXPECT_EQ(variants["count"].as_int64(), 2);
  auto nested = c.get("/api/v1/services/" + first + "/variants/").json().as_object();
  EXPECT_EQ(nested["count"].as_int64(), 2);
}

TEST_F(Catalog, ListCostsTheSameStatementsForOneOrTwentyServices) {
  auto one = active_vendor();
  create(one);
  auto twenty = active_vendor();
  for (int i = 0; i < 20; ++i) create(twenty);
  // The statements one list request costs. The counter is the process's, and the server's own
  // background work (outbox polls, sweeps) can only add to it: the least of three requests, each
  // a target of its own (the page cache would answer a repeated one from memory).
  auto statements_of = [&](const std::string& target, const std::string& token) {
    uint64_t least = ~0ULL;
    std::size_t rows = 0;
    for (int size = 100; size > 97; --size) {
      const auto before = persistence::statements_executed();
      auto r = c.get(target + "&page_size=" + std::to_string(size), token);
      EXPECT_EQ(r.status, 200);
      least = std::min(least, persistence::statements_executed() - before);
      rows = r.json().as_object()["results"].as_array().size();
    }
    return std::pair{least, rows};
  };
  auto pid_of = [&](const TestUser& v) {
    return str(c.get("/api/v1/vendors/profile/", v.access).json(), "id");
  };
  auto [small, small_rows] = statements_of("/api/v1/services/?vendor=" + pid_of(one), "");
  auto [large, large_rows] = statements_of("/api/v1/services/?vendor=" + pid_of(twenty), "");
  EXPECT_EQ(small_rows, 1u);
  EXPECT_EQ(large_rows, 20u);
  EXPECT_EQ(small, large);
  EXPECT_EQ(small, 2u) << "SET LOCAL plan_cache_mode + one SELECT for an anonymous list";
  // The user was authenticated by the profile request just before: the auth cache answers.
  auto [owner, owner_rows] =
      statements_of("/api/v1/services/?vendor=" + pid_of(twenty), twenty.access);
  EXPECT_EQ(owner_rows, 20u);
  EXPECT_EQ(owner, 2u) << "the list only";
}
