// main() of the integration test binaries: stops the shared server before exit.
#include <gtest/gtest.h>

#include "tests/support/test_server.hpp"

namespace {
class SharedServerEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { marketlink::testing::TestServer::stop_shared(); }
};
}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new SharedServerEnvironment);
  return RUN_ALL_TESTS();
}
