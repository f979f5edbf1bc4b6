// Builds the route table of the whole API.
#pragma once

#include "http/server/router.hpp"

namespace marketlink::http {
struct App;
Router build_router(App& app);
}  // namespace marketlink::http
