// Page-number pagination shared by every list.
#pragma once

#include <cstdint>
#include <vector>

namespace marketlink::persistence {

struct PageRequest {
  int page = 1;        // 1-based
  int page_size = 20;  // already capped by the caller
  long long offset() const { return static_cast<long long>(page - 1) * page_size; }
};

template <class Row>
struct Page {
  long long count = 0;
  std::vector<Row> rows;
};

}  // namespace marketlink::persistence
