// The transaction handle repository functions take, declared without libpqxx: headers that only
// name `Tx&` (every persistence/sql/*.hpp, and so every service header) stay free of libpqxx.
// The definition is in persistence/database.hpp, which only .cpp files include.
#pragma once

namespace marketlink::persistence {
class Tx;
class Database;
}  // namespace marketlink::persistence
